import DLMSWire

/// The ACSE APDUs (ISO 8650-1 / IEC 62056-5-3 §7.2: AARQ, AARE, RLRQ, RLRE), the xDLMS InitiateRequest and
/// InitiateResponse, and the general ciphering APDUs.
///
/// Each ACSE field is one BER TLV; `ACSEField` says how its content is written (Gurux's forms: the last arc of
/// the application context and mechanism OIDs, the bits of an ACSE-requirements BIT STRING, the content of an
/// AP title or of user-information as hex).
extension APDUWalker {
    // MARK: - ACSE

    mutating func aarq() throws(Malformed) -> XElement { try acse(tag: 0x60, name: "aarq") }
    mutating func aare() throws(Malformed) -> XElement { try acse(tag: 0x61, name: "aare") }

    mutating func release() throws(Malformed) -> XElement {
        let tag = try u8("tag")
        return try acseBody(tag: tag, name: tag == 0x62 ? "rlrq" : "rlre")
    }

    private mutating func acse(tag: UInt8, name: String) throws(Malformed) -> XElement {
        _ = try u8("tag")
        return try acseBody(tag: tag, name: name)
    }

    private mutating func acseBody(tag: UInt8, name: String) throws(Malformed) -> XElement {
        let n = try length(name)
        if n < r.remaining {
            // Gurux writes the RLRE length without the reason field (peer captures and Captures/gurux). When the
            // bytes after the announced end are fields of the same APDU, read them and keep the announced length
            // as an attribute, so the tree still encodes to the exact bytes.
            var whole = self
            if var e = try? whole.acseFields(tag: tag, name: name) {
                e.attributes.append(XAttribute("length", String(n)))
                self = whole
                return e
            }
        }
        var body = APDUWalker(try take(n, name))
        return try body.acseFields(tag: tag, name: name)
    }

    private mutating func acseFields(tag: UInt8, name: String) throws(Malformed) -> XElement {
        var body = self
        defer { self = body }
        var e = XElement(name)
        while !body.r.isAtEnd {
            let fieldTag = try body.u8("\(name) field tag")
            guard let field = ACSEField.field(apdu: tag, tag: fieldTag) else {
                throw Malformed("unknown \(name) field tag 0x\(Hex.encode([fieldTag], uppercase: true))",
                                offset: body.r.offset - 1)
            }
            let m = try body.length("\(name) field", bounded: false)
            var size = m
            if case .octetString = field.form, let inner = body.innerOctetStringSize(), inner != m,
                inner <= body.r.remaining
            {
                // Gurux's RLRE announces user-information one byte short; like Gurux's reader we follow the
                // inner OCTET STRING and keep the announced length as an attribute.
                size = inner
            }
            let content = try body.take(size, "\(name) field")
            var fe = try field.element(content, at: body.r.offset)
            if size != m { fe.attributes.append(XAttribute("length", String(m))) }
            e.children.append(fe)
        }
        return e
    }

    /// The size of the `04 len bytes` OCTET STRING TLV at the reader, if there is one.
    func innerOctetStringSize() -> Int? {
        var probe = r
        guard probe.readUInt8() == 0x04 else { return nil }
        let before = probe.remaining
        guard let n = probe.readAXDRLength() else { return nil }
        return 1 + (before - probe.remaining) + n
    }

    // MARK: - xDLMS-Initiate

    mutating func conformance() throws(Malformed) -> String {
        // Conformance ::= [APPLICATION 31] IMPLICIT BIT STRING (SIZE(24)): 5F 1F 04 00 b1 b2 b3.
        guard try u8("conformance tag") == 0x5F, try u8("conformance tag") == 0x1F,
            try u8("conformance length") == 4, try u8("conformance unused bits") == 0
        else { throw fail("conformance is not 5F1F0400 + 3 bytes") }
        let bits = try take(3, "conformance")
        var names = ""
        for (k, name) in XMLNames.conformanceBits.enumerated() {
            let byte = bits[bits.startIndex + k / 8]
            if byte & (0x80 >> UInt8(k % 8)) != 0 {
                names += name
                names += " "
            }
        }
        return names
    }

    mutating func initiateRequest() throws(Malformed) -> XElement {
        var e = XElement("initiateRequest")
        switch try u8("dedicated-key flag") {
        case 0: break
        case 1: e.children.append(Self.leaf("dedicated-key", try octets("dedicated-key")))
        case let f: throw fail("dedicated-key flag \(f)")
        }
        switch try u8("response-allowed flag") {
        case 0: break  // DEFAULT TRUE, not encoded: no element (Gurux writes `true` either way).
        case 1: e.children.append(Self.leaf("response-allowed", try u8("response-allowed") == 0 ? "false" : "true"))
        case let f: throw fail("response-allowed flag \(f)")
        }
        switch try u8("proposed-quality-of-service flag") {
        case 0: break
        case 1: e.children.append(Self.leaf("proposed-quality-of-service", String(try u8("quality-of-service"))))
        case let f: throw fail("proposed-quality-of-service flag \(f)")
        }
        e.children.append(Self.leaf("proposed-dlms-version-number", String(try u8("dlms-version-number"))))
        e.children.append(Self.leaf("proposed-conformance", try conformance()))
        e.children.append(Self.leaf("client-max-receive-pdu-size", String(try u16("client-max-receive-pdu-size"))))
        return e
    }

    mutating func initiateResponse() throws(Malformed) -> XElement {
        var e = XElement("initiateResponse")
        switch try u8("negotiated-quality-of-service flag") {
        case 0: break
        case 1: e.children.append(Self.leaf("negotiated-quality-of-service", String(try u8("quality-of-service"))))
        case let f: throw fail("negotiated-quality-of-service flag \(f)")
        }
        e.children.append(Self.leaf("negotiated-dlms-version-number", String(try u8("dlms-version-number"))))
        e.children.append(Self.leaf("negotiated-conformance", try conformance()))
        e.children.append(Self.leaf("server-max-receive-pdu-size", String(try u16("server-max-receive-pdu-size"))))
        e.children.append(Self.leaf("vaa-name", String(try u16("vaa-name"))))
        return e
    }

    // MARK: - General ciphering

    /// general-glo-ciphering / general-ded-ciphering ::= SEQUENCE { system-title OCTET STRING,
    /// ciphered-content OCTET STRING }. Gurux names 0xDC `general-glo-ciphering` too; we do not (docs/xml.md).
    mutating func generalGloDedCiphering(_ tag: UInt8) throws(Malformed) -> XElement {
        XElement(tag == 0xDB ? "general-glo-ciphering" : "general-ded-ciphering", children: [
            Self.leaf("system-title", try octets("system-title")),
            Self.leaf("ciphered-content", try octets("ciphered-content")),
        ])
    }

    mutating func generalHeader(into e: inout XElement) throws(Malformed) {
        for name in ["transaction-id", "originator-system-title", "recipient-system-title", "date-time",
                     "other-information"] {
            e.children.append(Self.leaf(name, try octets(name)))
        }
    }

    /// General-Ciphering ::= SEQUENCE { transaction-id, originator-system-title, recipient-system-title,
    /// date-time, other-information (all OCTET STRING), key-info Key-Info OPTIONAL, ciphered-content }.
    mutating func generalCiphering() throws(Malformed) -> XElement {
        var e = XElement("general-ciphering")
        try generalHeader(into: &e)
        switch try u8("key-info flag") {
        case 0: break
        case 1:
            let choice: XElement
            switch try u8("key-info choice") {
            case 0:
                choice = XElement("identified-key", children: [Self.leaf("key-id", String(try u8("key-id")))])
            case 1:
                choice = XElement("wrapped-key", children: [
                    Self.leaf("kek-id", String(try u8("kek-id"))),
                    Self.leaf("key-ciphered-data", try octets("key-ciphered-data")),
                ])
            case 2:
                choice = XElement("agreed-key", children: [
                    Self.leaf("key-parameters", try octets("key-parameters")),
                    Self.leaf("key-ciphered-data", try octets("key-ciphered-data")),
                ])
            case let c: throw fail("key-info choice \(c)")
            }
            e.children.append(XElement("key-info", children: [choice]))
        case let f: throw fail("key-info flag \(f)")
        }
        e.children.append(Self.leaf("ciphered-content", try octets("ciphered-content")))
        return e
    }

    /// General-Signing ::= SEQUENCE { transaction-id, originator-system-title, recipient-system-title, date-time,
    /// other-information, content, signature (all OCTET STRING) }.
    mutating func generalSigning() throws(Malformed) -> XElement {
        var e = XElement("general-signing")
        try generalHeader(into: &e)
        e.children.append(Self.leaf("content", try octets("content")))
        e.children.append(Self.leaf("signature", try octets("signature")))
        return e
    }

    // MARK: - ACCESS

    mutating func accessRequestSpecification() throws(Malformed) -> XElement {
        let n = try count("access-request-specification", minimumItemSize: 10)
        var list = XElement("access-request-specification")
        for _ in 0..<n {
            let choice = try u8("Access-Request-Specification choice")
            guard let name = XMLNames.accessRequestChoice(choice) else {
                throw fail("Access-Request-Specification choice \(choice)")
            }
            var item = XElement(name, children: [try descriptor(method: choice == 3)])
            if choice == 4 || choice == 5 {
                let selector = try u8("access-selector")
                let params = try data(depth: 0)
                item.children.append(XElement("access-selection", children: [
                    Self.leaf("access-selector", String(selector)),
                    XElement("access-parameters", children: [params]),
                ]))
            }
            list.children.append(item)
        }
        return list
    }

    mutating func listOfData(_ name: String) throws(Malformed) -> XElement {
        let n = try count(name)
        var list = XElement(name)
        for _ in 0..<n { list.children.append(try data(depth: 0)) }
        return list
    }

    mutating func accessRequest() throws(Malformed) -> XElement {
        var e = XElement("access-request", children: [try longInvokeID()])
        try optionalDateTime(into: &e)
        e.children.append(XElement("access-request-body", children: [
            try accessRequestSpecification(), try listOfData("access-request-list-of-data"),
        ]))
        return e
    }

    mutating func accessResponse() throws(Malformed) -> XElement {
        var e = XElement("access-response", children: [try longInvokeID()])
        try optionalDateTime(into: &e)
        var body = XElement("access-response-body")
        switch try u8("access-request-specification flag") {
        case 0: break
        case 1: body.children.append(try accessRequestSpecification())
        case let f: throw fail("access-request-specification flag \(f)")
        }
        body.children.append(try listOfData("access-response-list-of-data"))
        let n = try count("access-response-specification", minimumItemSize: 2)
        var spec = XElement("access-response-specification")
        for _ in 0..<n {
            let choice = try u8("Access-Response-Specification choice")
            guard let name = XMLNames.accessResponseChoice(choice) else {
                throw fail("Access-Response-Specification choice \(choice)")
            }
            spec.children.append(XElement(name, children: [
                try enumLeaf("result", choice == 3 ? XMLNames.actionResult : XMLNames.dataAccessResult),
            ]))
        }
        body.children.append(spec)
        e.children.append(body)
        return e
    }
}

extension XMLNames {
    static func accessRequestChoice(_ v: UInt8) -> String? {
        switch v {
        case 1: "access-request-get"
        case 2: "access-request-set"
        case 3: "access-request-action"
        case 4: "access-request-get-with-selection"
        case 5: "access-request-set-with-selection"
        default: nil
        }
    }

    static func accessResponseChoice(_ v: UInt8) -> String? {
        switch v {
        case 1: "access-response-get"
        case 2: "access-response-set"
        case 3: "access-response-action"
        default: nil
        }
    }
}
