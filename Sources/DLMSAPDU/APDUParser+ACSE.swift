import DLMSWire

// ACSE APDUs in BER (ISO 8650-1 / IEC 62056-5-3 §7 and Annex: AARQ [APPLICATION 0], AARE [APPLICATION 1],
// RLRQ [APPLICATION 2], RLRE [APPLICATION 3]); field tags cross-checked with Gurux `GXAPDU.parsePDU` and
// Wireshark's packet-dlms.c / ACSE dissector. Nested readers share the APDU's base index, so every node
// carries its offset in the APDU.
extension APDUParser {
    /// One BER TLV header: tag (one byte; high-tag-number form rejected), definite length (short or long form).
    struct TLV {
        var tag: UInt8
        var offset: Int
        var content: ArraySlice<UInt8>
    }

    mutating func readTLV() throws(DecodeError) -> TLV {
        let at = r.offset
        let tag = try r.u8("BER tag")
        guard tag & 0x1F != 0x1F else {
            throw DecodeError("ber.unsupported-tag", "multi-byte BER tag 0x\(Hex.encode([tag]))", offset: at)
        }
        let lAt = r.offset
        if r.peekUInt8() == 0x80 {
            throw DecodeError("ber.indefinite-length", "indefinite BER length (not allowed in ACSE APDUs)", offset: lAt)
        }
        guard let length = r.berLength() else {
            throw DecodeError(r.isAtEnd ? "ber.truncated" : "ber.bad-length", "BER length unreadable", offset: lAt)
        }
        guard let content = r.readSlice(length) else {
            throw DecodeError("ber.truncated", "BER value of \(length) bytes, \(r.remaining) left", offset: at)
        }
        return TLV(tag: tag, offset: at, content: content)
    }

    /// Runs `body` with the reader limited to `content` (a slice of the same APDU), then restores the reader.
    /// Bytes `body` leaves unread are reported as trailing.
    mutating func within(_ content: ArraySlice<UInt8>, _ body: (inout APDUParser) throws(DecodeError) -> Void)
        throws(DecodeError)
    {
        let saved = r
        r.bytes = content
        defer { r = saved }
        try body(&self)
        if !r.isAtEnd {
            errors.append(DecodeError("ber.trailing-bytes", "\(r.remaining) bytes after the value", offset: r.offset))
        }
    }

    /// The one TLV inside a constructed explicit tag, checked to have the expected universal tag.
    mutating func inner(_ outer: TLV, expecting tag: UInt8, _ what: String) throws(DecodeError) -> TLV {
        var result: TLV?
        try within(outer.content) { (p: inout APDUParser) throws(DecodeError) in
            let t = try p.readTLV()
            guard t.tag == tag else {
                throw DecodeError("ber.unexpected-tag",
                                  "\(what): tag 0x\(Hex.encode([t.tag])) where 0x\(Hex.encode([tag])) is expected",
                                  offset: t.offset)
            }
            result = t
        }
        guard let result else { throw DecodeError("ber.truncated", "\(what) empty", offset: outer.offset) }
        return result
    }

    /// A BER INTEGER's value (at most 8 bytes).
    static func berInteger(_ c: ArraySlice<UInt8>) -> Int64? {
        guard !c.isEmpty, c.count <= 8 else { return nil }
        var v: Int64 = (c.first ?? 0) & 0x80 != 0 ? -1 : 0
        for b in c { v = v << 8 | Int64(b) }
        return v
    }

    /// OBJECT IDENTIFIER dotted text and its last arc.
    static func oid(_ c: ArraySlice<UInt8>) -> (text: String, last: Int)? {
        guard let first = c.first else { return nil }
        var arcs: [UInt64] = first < 80 ? [UInt64(first / 40), UInt64(first % 40)] : [2, UInt64(first) - 80]
        var v: UInt64 = 0
        var digits = 0
        for b in c.dropFirst() {
            digits += 1
            guard digits <= 9 else { return nil }
            v = v << 7 | UInt64(b & 0x7F)
            if b & 0x80 == 0 {
                arcs.append(v)
                v = 0
                digits = 0
            }
        }
        guard digits == 0, let last = arcs.last, let lastInt = Int(exactly: last) else { return nil }
        return (arcs.map { String($0) }.joined(separator: "."), lastInt)
    }

    /// 2.16.756.5.8.1 (application context) and 2.16.756.5.8.2 (mechanism) DLMS UA arcs, BER encoded.
    static func dlmsArc(_ c: ArraySlice<UInt8>, family: UInt8) -> Int? {
        let prefix: [UInt8] = [0x60, 0x85, 0x74, 0x05, 0x08, family]
        guard c.count == 7, c.prefix(6).elementsEqual(prefix), let last = c.last else { return nil }
        return Int(last)
    }

    // MARK: - AARQ / AARE / RLRQ / RLRE

    /// Decodes an ACSE APDU from its first byte. The facts' association is filled with what was decoded, even
    /// when a field is malformed.
    mutating func acse() throws(DecodeError) {
        var assoc = AssociationFacts()
        var failure: DecodeError?
        do { try acseBody(&assoc) } catch { failure = error }
        facts.association = assoc
        if let r = assoc.result { facts.result = APDUNames.associateResult(r) }
        if let failure { throw failure }
    }

    private mutating func acseBody(_ assoc: inout AssociationFacts) throws(DecodeError) {
        // The APDU's own length is checked but not trusted: gurux-dlms 1.0.203 writes RLRE lengths that are short
        // by several bytes (Captures/gurux README, quirk 18 and the RLRE records). The mismatch is reported and
        // the fields are decoded up to the end of the APDU, as Gurux's translator does.
        let at = r.offset
        let kind = try r.u8("ACSE tag")
        let lAt = r.offset
        guard let declared = r.berLength() else {
            throw DecodeError("ber.bad-length", "ACSE APDU length unreadable", offset: lAt)
        }
        if declared != r.remaining {
            errors.append(DecodeError("ber.length-mismatch",
                                      "\(APDUNames.apduType(kind) ?? "ACSE APDU") claims \(declared) bytes, \(r.remaining) follow",
                                      offset: at))
        }
        while !r.isAtEnd {
            if r.peekUInt8() == 0xBE {
                try userInformationField(&assoc)
                continue
            }
            let t = try readTLV()
            try acseField(t, kind: kind, &assoc)
        }
    }

    /// user-information [30] EXPLICIT Association-information: an OCTET STRING holding an xDLMS APDU. Decoded by
    /// the inner OCTET STRING's length; a different outer length (Gurux's RLRE off-by-one) is reported.
    private mutating func userInformationField(_ assoc: inout AssociationFacts) throws(DecodeError) {
        let at = r.offset
        _ = r.readUInt8()
        guard let declared = r.berLength() else { throw DecodeError("ber.truncated", "user-information length", offset: at) }
        let innerAt = r.offset
        let innerTag = try r.u8("user-information OCTET STRING tag")
        guard innerTag == 0x04 else {
            throw DecodeError("ber.unexpected-tag", "user-information holds tag 0x\(Hex.encode([innerTag]))",
                              offset: innerAt)
        }
        guard let n = r.berLength() else { throw DecodeError("ber.truncated", "user-information length", offset: innerAt) }
        guard let content = r.readSlice(n) else {
            throw DecodeError("ber.truncated", "user-information of \(n) bytes, \(r.remaining) left", offset: innerAt)
        }
        let actual = r.offset - innerAt
        if actual != declared {
            errors.append(DecodeError("ber.length-mismatch",
                                      "user-information claims \(declared) bytes, its OCTET STRING takes \(actual)",
                                      offset: at))
        }
        assoc.userInformation = Array(content)
        try group("user_information", .string(content.first.flatMap { APDUNames.apduType($0) } ?? "unknown"),
                  at: at) { (p: inout APDUParser) throws(DecodeError) in
            try p.within(content) { (q: inout APDUParser) throws(DecodeError) in
                assoc.initiate = try q.userInformation()
            }
        }
    }

    private mutating func acseField(_ t: TLV, kind: UInt8, _ assoc: inout AssociationFacts) throws(DecodeError) {
        let isRequest = kind == 0x60
        let isAssociation = kind == 0x60 || kind == 0x61
        switch (t.tag, isAssociation) {
        case (0x80, true):
            // protocol-version [0] IMPLICIT BIT STRING { version1 (0) } DEFAULT { version1 }
            let bits = t.content.dropFirst()
            add("protocol_version", .bytes(t.content),
                meaning: (bits.first ?? 0) & 0x80 != 0 ? "version1" : nil, at: t.offset)
        case (0x80, false):
            // RLRQ/RLRE reason [0] IMPLICIT Release-request-reason / Release-response-reason (INTEGER)
            let v = Self.berInteger(t.content).flatMap { Int(exactly: $0) }
            assoc.releaseReason = v
            let meaning = v.flatMap { kind == 0x62 ? APDUNames.releaseRequestReason($0) : APDUNames.releaseResponseReason($0) }
            add("reason", .int(Int64(v ?? -1)), meaning: meaning ?? "unknown", at: t.offset)
        case (0xA1, true):
            let o = try inner(t, expecting: 0x06, "application-context-name")
            let arc = Self.dlmsArc(o.content, family: 1)
            assoc.applicationContext = arc
            add("application_context_name", .string(Self.oid(o.content)?.text ?? Hex.encode(o.content)),
                meaning: arc.flatMap { APDUNames.applicationContext($0) }, at: t.offset)
        case (0xA2, true) where !isRequest:
            // result [2] EXPLICIT Associate-result (INTEGER)
            let i = try inner(t, expecting: 0x02, "result")
            let v = Self.berInteger(i.content).flatMap { Int(exactly: $0) }
            assoc.result = v
            add("result", .int(Int64(v ?? -1)), meaning: v.flatMap { APDUNames.associateResult($0) } ?? "unknown",
                at: t.offset)
        case (0xA3, true) where !isRequest:
            // result-source-diagnostic [3] CHOICE { acse-service-user [1] INTEGER, acse-service-provider [2] }
            var choice: TLV?
            try within(t.content) { (p: inout APDUParser) throws(DecodeError) in choice = try p.readTLV() }
            guard let c = choice else { break }
            let source = c.tag == 0xA1 ? "acse-service-user" : c.tag == 0xA2 ? "acse-service-provider" : nil
            let i = try inner(c, expecting: 0x02, "diagnostic")
            let v = Self.berInteger(i.content).flatMap { Int(exactly: $0) }
            assoc.diagnosticSource = source
            assoc.diagnostic = v
            let meaning = v.flatMap { c.tag == 0xA1 ? APDUNames.acseServiceUserDiagnostic($0)
                : APDUNames.acseServiceProviderDiagnostic($0) }
            add(Node("result_source_diagnostic", .string(source ?? "unknown"), offset: t.offset, children: [
                Node(c.tag == 0xA1 ? "acse_service_user" : "acse_service_provider", .int(Int64(v ?? -1)),
                     meaning: meaning ?? "unknown", offset: c.offset),
            ]))
        case (0xA2...0xA9, true):
            // AARQ: called-AP-title [2], called-AE-qualifier [3], called-AP-invocation-id [4],
            // called-AE-invocation-id [5], calling-AP-title [6], calling-AE-qualifier [7], calling-AP-invocation-id
            // [8], calling-AE-invocation-id [9]. AARE: responding-AP-title [4], responding-AE-qualifier [5],
            // responding-AP-invocation-id [6], responding-AE-invocation-id [7].
            guard let (name, form) = Self.acseNameField(t.tag, request: isRequest) else {
                add(Node("unknown_field", .bytes(t.content),
                         meaning: "BER tag 0x" + Hex.encode([t.tag]) + " not decoded", offset: t.offset))
                break
            }
            switch form {
            case 0:
                // AP-title-form2: an OCTET STRING in DLMS, the system title.
                let o = try inner(t, expecting: 0x04, name)
                if t.tag == 0xA6 { assoc.callingAPTitle = Array(o.content) }
                if t.tag == 0xA4 && !isRequest { assoc.respondingAPTitle = Array(o.content) }
                add(name, .bytes(o.content), meaning: Self.systemTitleMeaning(o.content), at: t.offset)
            case 1:
                // AE-qualifier-form2: an OCTET STRING (the signing certificate for ECDSA) or INTEGER.
                var value: ArraySlice<UInt8> = t.content
                try within(t.content) { (p: inout APDUParser) throws(DecodeError) in value = try p.readTLV().content }
                add(name, .bytes(value), at: t.offset)
            default:
                try invocationID(t, name: name)
            }
        case (0x8A, true), (0x88, true):
            // sender-acse-requirements [10] / responder-acse-requirements [8]: BIT STRING { authentication (0) }
            let bits = t.content.dropFirst()
            let auth = (bits.first ?? 0) & 0x80 != 0
            add(Node(t.tag == 0x8A ? "sender_acse_requirements" : "responder_acse_requirements", .bytes(t.content),
                     offset: t.offset, children: [Node("authentication", .bool(auth), offset: t.offset)]))
        case (0x8B, true), (0x89, true):
            // mechanism-name [11] / [9] IMPLICIT OBJECT IDENTIFIER
            let arc = Self.dlmsArc(t.content, family: 2)
            assoc.mechanism = arc
            add("mechanism_name", .string(Self.oid(t.content)?.text ?? Hex.encode(t.content)),
                meaning: arc.flatMap { APDUNames.mechanism($0) }, at: t.offset)
        case (0xAC, true), (0xAA, true):
            // calling-authentication-value [12] / responding-authentication-value [10]: Authentication-value
            // ::= CHOICE { charstring [0] GraphicString, bitstring [1] BIT STRING, external [2], other [3] }
            var choice: TLV?
            try within(t.content) { (p: inout APDUParser) throws(DecodeError) in choice = try p.readTLV() }
            guard let c = choice else { break }
            let calling = t.tag == 0xAC
            if calling { assoc.callingAuthenticationValue = Array(c.content) } else {
                assoc.respondingAuthenticationValue = Array(c.content)
            }
            let form = c.tag == 0x80 ? "charstring" : c.tag == 0x81 ? "bitstring" : c.tag == 0xA2 ? "external" : "other"
            let value: Node.Value
            let meaning: String?
            if assoc.mechanism == 1 && !options.showSecrets {
                value = .string("********")
                meaning = "LLS password (hidden)"
            } else {
                value = .bytes(c.content)
                meaning = assoc.mechanism == 1 ? Self.printable(c.content) : nil
            }
            add(Node(calling ? "calling_authentication_value" : "responding_authentication_value", .string(form),
                     offset: t.offset, children: [Node(form, value, meaning: meaning, offset: c.offset)]))
        case (0xBD, true), (0x9D, true):
            // implementation-information [29] IMPLICIT Implementation-data (GraphicString)
            add("implementation_information", .bytes(t.content), meaning: Self.printable(t.content), at: t.offset)
        default:
            // Unknown or unexpected field: kept raw, with a note, and decoding goes on.
            add(Node("unknown_field", .bytes(t.content), meaning: "BER tag 0x" + Hex.encode([t.tag]) + " not decoded",
                     offset: t.offset))
        }
    }

    /// ACSE naming fields: name and form (0 AP-title, 1 AE-qualifier, 2 invocation id).
    static func acseNameField(_ tag: UInt8, request: Bool) -> (String, Int)? {
        if request {
            switch tag {
            case 0xA2: return ("called_ap_title", 0)
            case 0xA3: return ("called_ae_qualifier", 1)
            case 0xA4: return ("called_ap_invocation_id", 2)
            case 0xA5: return ("called_ae_invocation_id", 2)
            case 0xA6: return ("calling_ap_title", 0)
            case 0xA7: return ("calling_ae_qualifier", 1)
            case 0xA8: return ("calling_ap_invocation_id", 2)
            case 0xA9: return ("calling_ae_invocation_id", 2)
            default: return nil
            }
        }
        switch tag {
        case 0xA4: return ("responding_ap_title", 0)
        case 0xA5: return ("responding_ae_qualifier", 1)
        case 0xA6: return ("responding_ap_invocation_id", 2)
        case 0xA7: return ("responding_ae_invocation_id", 2)
        default: return nil
        }
    }

    private mutating func invocationID(_ t: TLV, name: String) throws(DecodeError) {
        let i = try inner(t, expecting: 0x02, name)
        add(name, .int(Self.berInteger(i.content) ?? 0), at: t.offset)
    }

    static func systemTitleMeaning(_ st: ArraySlice<UInt8>) -> String? {
        // A system title starts with the 3-letter FLAG manufacturer id (IEC 62056-5-3 §4.3.4).
        guard st.count == 8 else { return nil }
        let m = st.prefix(3)
        guard m.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else { return nil }
        return "manufacturer " + String(decoding: m, as: UTF8.self)
    }

    static func printable(_ b: ArraySlice<UInt8>) -> String? {
        guard !b.isEmpty, b.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
        return String(decoding: b, as: UTF8.self)
    }

    // MARK: - xDLMS Initiate

    /// The xDLMS APDU in user-information: InitiateRequest (0x01), InitiateResponse (0x08),
    /// ConfirmedServiceError (0x0E), a glo-/ded- ciphered initiate (0x21, 0x28, 0x41, 0x48), or a
    /// general-glo/ded-ciphering (0xDB, 0xDC).
    mutating func userInformation() throws(DecodeError) -> InitiateFacts? {
        let at = r.offset
        let tag = try r.u8("xDLMS tag")
        switch tag {
        case 0x01: return try initiateRequest()
        case 0x08: return try initiateResponse()
        case 0x0E:
            try confirmedServiceError()
            return nil
        case 0x21, 0x28, 0x41, 0x48:
            try serviceCiphered(tag: tag)
            return nil
        case 0xDB, 0xDC:
            // With general protection some stacks protect the initiate with general-glo/ded-ciphering.
            try generalGloDedCiphering(dedicated: tag == 0xDC)
            return nil
        default:
            _ = r.readRest()
            throw DecodeError("apdu.unknown-tag", "user-information holds tag 0x\(Hex.encode([tag]))", offset: at)
        }
    }

    /// InitiateRequest ::= SEQUENCE { dedicated-key OCTET STRING OPTIONAL, response-allowed BOOLEAN DEFAULT TRUE,
    /// proposed-quality-of-service [0] IMPLICIT Integer8 OPTIONAL, proposed-dlms-version-number Unsigned8,
    /// proposed-conformance Conformance, client-max-receive-pdu-size Unsigned16 }
    mutating func initiateRequest() throws(DecodeError) -> InitiateFacts {
        var f = InitiateFacts(isRequest: true)
        let kAt = r.offset
        if try r.u8("dedicated-key flag") != 0 {
            let key = try r.octetString("dedicated-key")
            f.dedicatedKey = Array(key)
            let show = options.showSecrets
            add("dedicated_key", show ? .bytes(key) : .string("********"),
                meaning: show ? nil : "\(key.count)-byte key (hidden)", at: kAt)
        }
        let raAt = r.offset
        if try r.u8("response-allowed flag") != 0 {
            f.responseAllowed = try r.u8("response-allowed") != 0
        } else {
            f.responseAllowed = true
        }
        add("response_allowed", .bool(f.responseAllowed ?? true), at: raAt)
        let qAt = r.offset
        if try r.u8("proposed-quality-of-service flag") != 0 {
            let q = try r.u8("proposed-quality-of-service")
            f.proposedQualityOfService = q
            add("proposed_quality_of_service", .uint(UInt64(q)), at: qAt)
        }
        let vAt = r.offset
        let version = try r.u8("proposed-dlms-version-number")
        f.dlmsVersion = version
        add("proposed_dlms_version_number", .uint(UInt64(version)), at: vAt)
        f.conformance = try conformance("proposed_conformance")
        let mAt = r.offset
        let max = try r.u16("client-max-receive-pdu-size")
        f.maxPDUSize = max
        add("client_max_receive_pdu_size", .uint(UInt64(max)), at: mAt)
        return f
    }

    /// InitiateResponse ::= SEQUENCE { negotiated-quality-of-service [0] IMPLICIT Integer8 OPTIONAL,
    /// negotiated-dlms-version-number Unsigned8, negotiated-conformance Conformance,
    /// server-max-receive-pdu-size Unsigned16, vaa-name ObjectName }
    mutating func initiateResponse() throws(DecodeError) -> InitiateFacts {
        var f = InitiateFacts(isRequest: false)
        let qAt = r.offset
        if try r.u8("negotiated-quality-of-service flag") != 0 {
            let q = try r.u8("negotiated-quality-of-service")
            f.proposedQualityOfService = q
            add("negotiated_quality_of_service", .uint(UInt64(q)), at: qAt)
        }
        let vAt = r.offset
        let version = try r.u8("negotiated-dlms-version-number")
        f.dlmsVersion = version
        add("negotiated_dlms_version_number", .uint(UInt64(version)), at: vAt)
        f.conformance = try conformance("negotiated_conformance")
        let mAt = r.offset
        let max = try r.u16("server-max-receive-pdu-size")
        f.maxPDUSize = max
        add("server_max_receive_pdu_size", .uint(UInt64(max)), at: mAt)
        let nAt = r.offset
        let vaa = try r.u16("vaa-name")
        f.vaaName = vaa
        add("vaa_name", .uint(UInt64(vaa)), meaning: vaa == 0x0007 ? "LN" : vaa == 0xFA00 ? "SN" : nil, at: nAt)
        return f
    }

    /// Conformance ::= [APPLICATION 31] IMPLICIT BIT STRING (SIZE(24)), BER-encoded inside A-XDR:
    /// `5F 1F 04 00 b0 b1 b2` (tag, length 4, 0 unused bits, 24 bits).
    mutating func conformance(_ name: String) throws(DecodeError) -> UInt32 {
        let at = r.offset
        guard let header = r.readUInt32() else { throw APDUError.truncated("conformance", at) }
        guard header == 0x5F1F_0400 else {
            throw DecodeError("apdu.bad-conformance", "conformance header 0x\(String(header, radix: 16))", offset: at)
        }
        guard let b = r.readSlice(3) else { throw APDUError.truncated("conformance bits", at + 4) }
        var v: UInt32 = 0
        for x in b { v = v << 8 | UInt32(x) }
        // The bits set, by their ASN.1 names, as a list of strings (`"bits": ["get", "set", ...]` in JSON).
        var bits: [Node] = []
        for (i, bitName) in APDUNames.conformanceBits.enumerated() where v & (1 << (23 - UInt32(i))) != 0 {
            bits.append(Node("bit", .string(bitName), offset: at + 4 + i / 8))
        }
        add(Node(name, .bytes(b), offset: at, children: [.list("bits", bits, offset: at + 4)]))
        return v
    }
}

extension ByteReader {
    /// A BER definite length: short form, or 0x81-0x84 followed by that many bytes. nil on short input, the
    /// indefinite form (0x80) or a longer form; the reader is then left where it was.
    mutating func berLength() -> Int? {
        guard let first = peekUInt8(), first != 0x80 else { return nil }
        return readAXDRLength()
    }
}
