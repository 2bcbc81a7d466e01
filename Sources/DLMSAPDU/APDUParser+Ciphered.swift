import DLMSWire

// Protected APDUs (IEC 62056-5-3 §9.2.7.2): recognised, named and their security headers parsed. Decryption is
// DLMSSecurity's job; `ProtectionFacts.payload` hands it the bytes after SC ‖ IC.
extension APDUParser {
    /// Service-specific glo-/ded- ciphering: `tag, length, SC, IC (4 bytes), ciphered text ‖ tag (12 bytes when
    /// authenticated)`. The length is the A-XDR length of SC ‖ IC ‖ text.
    mutating func serviceCiphered(tag: UInt8) throws(DecodeError) {
        let dedicated = APDUNames.isDedicated(tag) ?? false
        let at = r.offset
        let content = try r.octetString("ciphered content")
        add("length", .uint(UInt64(content.count)), at: at)
        var cr = ByteReader(content)
        var protection = try securityHeader(&cr, kind: dedicated ? "ded-ciphering" : "glo-ciphering",
                                            contentBase: r.offset - content.count)
        protection.protectedService = APDUNames.protectedService(tag)
        facts.protection = protection
    }

    /// general-glo-ciphering / general-ded-ciphering ::= SEQUENCE { system-title OCTET STRING,
    /// ciphered-content OCTET STRING }
    mutating func generalGloDedCiphering(dedicated: Bool) throws(DecodeError) {
        let title = try octets("system_title")
        let at = r.offset
        let content = try r.octetString("ciphered-content")
        let contentBase = r.offset - content.count
        add("length", .uint(UInt64(content.count)), at: at)
        var cr = ByteReader(content)
        var protection = try securityHeader(&cr, kind: dedicated ? "general-ded-ciphering" : "general-glo-ciphering",
                                            contentBase: contentBase)
        protection.systemTitle = Array(title)
        facts.protection = protection
    }

    /// General-Ciphering ::= SEQUENCE { transaction-id, originator-system-title, recipient-system-title,
    /// date-time, other-information (all OCTET STRING), key-info Key-Info OPTIONAL, ciphered-content OCTET STRING }
    /// Key-Info ::= CHOICE { identified-key [0] { key-id ENUMERATED }, wrapped-key [1] { kek-id ENUMERATED,
    /// key-ciphered-data OCTET STRING }, agreed-key [2] { key-parameters OCTET STRING, key-ciphered-data
    /// OCTET STRING } } (IEC 62056-5-3 §8; dlms-cosem `security.py` / `xdlms/general_ciphering.py`)
    mutating func generalCiphering() throws(DecodeError) {
        let transaction = try octets("transaction_id")
        let originator = try octets("originator_system_title")
        let recipient = try octets("recipient_system_title")
        let dateTime = try octets("date_time")
        let other = try octets("other_information")
        var keyChoice: Int?
        var keyID: Int?
        var keyData: [UInt8]?
        let kAt = r.offset
        let present = try r.u8("key-info flag")
        if present != 0 {
            let cAt = r.offset
            let choice = try r.u8("key-info choice")
            keyChoice = Int(choice)
            switch choice {
            case 0:
                try group("key_info", .string("identified-key"), at: kAt) { (p: inout APDUParser) throws(DecodeError) in
                    let idAt = p.r.offset
                    let id = try p.r.u8("key-id")
                    keyID = Int(id)
                    p.add("key_id", .uint(UInt64(id)),
                          meaning: id == 0 ? "global-unicast-encryption-key" : id == 1 ? "global-broadcast-encryption-key" : nil,
                          at: idAt)
                }
            case 1:
                try group("key_info", .string("wrapped-key"), at: kAt) { (p: inout APDUParser) throws(DecodeError) in
                    let idAt = p.r.offset
                    let id = try p.r.u8("kek-id")
                    keyID = Int(id)
                    p.add("kek_id", .uint(UInt64(id)), meaning: id == 0 ? "master-key" : nil, at: idAt)
                    keyData = Array(try p.octets("key_ciphered_data"))
                }
            case 2:
                try group("key_info", .string("agreed-key"), at: kAt) { (p: inout APDUParser) throws(DecodeError) in
                    let params = try p.octets("key_parameters")
                    // key-parameters: 0x01 one-pass Diffie-Hellman (C(1e, 1s)), 0x02 static unified model
                    // (C(0e, 2s)) (IEC 62056-5-3 §9.2.3.4.6.3).
                    keyID = params.first.map { Int($0) }
                    keyData = Array(try p.octets("key_ciphered_data"))
                }
            default:
                throw DecodeError("apdu.bad-choice", "key-info choice \(choice)", offset: cAt)
            }
        }
        let at = r.offset
        let content = try r.octetString("ciphered-content")
        add("length", .uint(UInt64(content.count)), at: at)
        var cr = ByteReader(content)
        var protection = try securityHeader(&cr, kind: "general-ciphering", contentBase: r.offset - content.count)
        protection.transactionID = Array(transaction)
        protection.originatorSystemTitle = Array(originator)
        protection.systemTitle = Array(originator)
        protection.recipientSystemTitle = Array(recipient)
        protection.dateTime = Array(dateTime)
        protection.otherInformation = Array(other)
        protection.keyInfoChoice = keyChoice
        protection.keyID = keyID
        protection.keyCipheredData = keyData
        facts.protection = protection
    }

    /// General-Signing ::= SEQUENCE { transaction-id, originator-system-title, recipient-system-title, date-time,
    /// other-information, content, signature (all OCTET STRING) } (IEC 62056-5-3 §8). There is no security
    /// control byte: `ProtectionFacts.securityControl` and `invocationCounter` are 0 and `payload` is the content.
    mutating func generalSigning() throws(DecodeError) {
        let transaction = try octets("transaction_id")
        let originator = try octets("originator_system_title")
        let recipient = try octets("recipient_system_title")
        let dateTime = try octets("date_time")
        let other = try octets("other_information")
        let cAt = r.offset
        let content = try r.octetString("content")
        let contentFields = nested(content) ?? []
        add(Node("content", .bytes(content), meaning: content.first.flatMap { APDUNames.apduType($0) }, offset: cAt,
                 children: contentFields))
        var protection = ProtectionFacts(kind: "general-signing", securityControl: 0, invocationCounter: 0,
                                         payload: Array(content))
        protection.transactionID = Array(transaction)
        protection.originatorSystemTitle = Array(originator)
        protection.systemTitle = Array(originator)
        protection.recipientSystemTitle = Array(recipient)
        protection.dateTime = Array(dateTime)
        protection.otherInformation = Array(other)
        protection.signedContent = Array(content)
        facts.protection = protection
        let signature = try octets("signature")
        facts.protection?.signature = Array(signature)
    }

    /// Security header SC ‖ IC, then the ciphered text (and tag). `contentBase` is the APDU offset of `cr`'s
    /// first byte, so the nodes carry APDU offsets.
    mutating func securityHeader(_ cr: inout ByteReader, kind: String, contentBase: Int) throws(DecodeError)
        -> ProtectionFacts
    {
        guard let sc = cr.readUInt8() else { throw APDUError.truncated("security control", contentBase) }
        let suite = sc & 0x0F
        add(Node("security_control", .uint(UInt64(sc)), meaning: Self.securityName(sc), offset: contentBase, children: [
            Node("suite", .uint(UInt64(suite)), offset: contentBase),
            Node("authenticated", .bool(sc & 0x10 != 0), offset: contentBase),
            Node("encrypted", .bool(sc & 0x20 != 0), offset: contentBase),
            Node("broadcast_key", .bool(sc & 0x40 != 0), offset: contentBase),
            Node("compression", .bool(sc & 0x80 != 0), offset: contentBase),
        ]))
        guard let ic = cr.readUInt32() else { throw APDUError.truncated("invocation counter", contentBase + 1) }
        add("invocation_counter", .uint(UInt64(ic)), at: contentBase + 1)
        let payload = cr.readRest()
        let authenticated = sc & 0x10 != 0
        if authenticated, payload.count >= 12 {
            let text = payload.prefix(payload.count - 12)
            if sc & 0x20 == 0 {
                // Authentication only: the APDU is in clear (its tag is not verified here; DLMSSecurity does that).
                let textFields = nested(text) ?? []
                add(Node("plain_text", .bytes(text), meaning: text.first.flatMap { APDUNames.apduType($0) },
                         offset: contentBase + 5, children: textFields))
            } else {
                add("ciphered_text", .bytes(text), at: contentBase + 5)
            }
            add("authentication_tag", .bytes(payload.suffix(12)), at: contentBase + 5 + text.count)
        } else {
            add(sc & 0x20 != 0 ? "ciphered_text" : "plain_text", .bytes(payload), at: contentBase + 5)
            if authenticated {
                errors.append(DecodeError("apdu.truncated", "authenticated APDU shorter than its 12-byte tag",
                                          offset: contentBase + 5))
            }
        }
        return ProtectionFacts(kind: kind, securityControl: sc, invocationCounter: ic, payload: Array(payload))
    }

    static func securityName(_ sc: UInt8) -> String {
        switch sc & 0x30 {
        case 0x30: "authenticated-encryption"
        case 0x20: "encryption"
        case 0x10: "authentication"
        default: "none"
        }
    }
}
