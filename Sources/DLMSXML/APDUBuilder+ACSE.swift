import DLMSWire

/// ACSE, xDLMS-Initiate, general ciphering and ACCESS, element → bytes; the inverse of `APDUWalker+ACSE.swift`.
extension APDUBuilder {
    mutating func acse(_ e: XElement, tag: UInt8) throws(XMLEncodeError) {
        var body: [UInt8] = []
        for child in e.children {
            guard let field = ACSEField.field(apdu: tag, name: child.name) else {
                throw XMLEncodeError(.unexpectedElement, "not a field of <\(e.name)>", at: child)
            }
            let content = try field.content(child)
            body.append(field.tag)
            XMLValue.appendLength(try Self.announcedLength(child, actual: content.count), to: &body)
            body += content
        }
        u8(tag)
        XMLValue.appendLength(try Self.announcedLength(e, actual: body.count), to: &out)
        out += body
    }

    /// A `length` attribute keeps a wrong announced BER length (see `APDUWalker.acseBody`).
    static func announcedLength(_ e: XElement, actual: Int) throws(XMLEncodeError) -> Int {
        guard let a = e.attribute("length") else { return actual }
        guard let v = Int(a.trimmingXMLSpace()), v >= 0, v <= 0xFFFF_FFFF else {
            throw XMLEncodeError(.badValue, "length=\"\(a)\" is not a length", at: e)
        }
        return v
    }

    // MARK: - xDLMS-Initiate

    mutating func conformance(_ e: XElement) throws(XMLEncodeError) {
        var bits: UInt32 = 0
        for word in e.text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }) {
            guard let k = XMLNames.conformanceBits.firstIndex(of: String(word)) else {
                throw XMLEncodeError(.badValue, "'\(word)' is not a conformance bit name", at: e)
            }
            bits |= 0x80_0000 >> UInt32(k)
        }
        out += [0x5F, 0x1F, 0x04, 0x00, UInt8(bits >> 16), UInt8((bits >> 8) & 0xFF), UInt8(bits & 0xFF)]
    }

    mutating func boolean(_ e: XElement) throws(XMLEncodeError) {
        switch XMLValue.text(e).lowercased() {
        case "true", "1": u8(1)
        case "false", "0": u8(0)
        default: u8(try XMLValue.uint8(e))
        }
    }

    mutating func initiateRequest(_ e: XElement) throws(XMLEncodeError) {
        var c = ChildCursor(e)
        if let k = c.optional("dedicated-key") {
            u8(1)
            try octets(k)
        } else {
            u8(0)
        }
        if let r = c.optional("response-allowed") {
            u8(1)
            try boolean(r)
        } else {
            u8(0)
        }
        if let q = c.optional("proposed-quality-of-service") {
            u8(1)
            u8(try XMLValue.uint8(q))
        } else {
            u8(0)
        }
        try leafU8(&c, "proposed-dlms-version-number")
        try conformance(try c.next("proposed-conformance"))
        u16(try XMLValue.integer(try c.next("client-max-receive-pdu-size"), UInt16.self))
        try c.finish()
    }

    mutating func initiateResponse(_ e: XElement) throws(XMLEncodeError) {
        var c = ChildCursor(e)
        if let q = c.optional("negotiated-quality-of-service") {
            u8(1)
            u8(try XMLValue.uint8(q))
        } else {
            u8(0)
        }
        try leafU8(&c, "negotiated-dlms-version-number")
        try conformance(try c.next("negotiated-conformance"))
        u16(try XMLValue.integer(try c.next("server-max-receive-pdu-size"), UInt16.self))
        u16(try XMLValue.integer(try c.next("vaa-name"), UInt16.self))
        try c.finish()
    }

    // MARK: - General ciphering

    mutating func generalGloDed(_ e: XElement) throws(XMLEncodeError) {
        var c = ChildCursor(e)
        try octets(try c.next("system-title"))
        try octets(try c.next("ciphered-content"))
        try c.finish()
    }

    mutating func generalHeader(_ c: inout ChildCursor) throws(XMLEncodeError) {
        for name in ["transaction-id", "originator-system-title", "recipient-system-title", "date-time",
                     "other-information"] {
            try octets(try c.next(name))
        }
    }

    mutating func generalCiphering(_ e: XElement) throws(XMLEncodeError) {
        var c = ChildCursor(e)
        try generalHeader(&c)
        if let k = c.optional("key-info") {
            u8(1)
            let (name, body) = try choice(k)
            var kc = ChildCursor(body)
            switch name {
            case "identified-key":
                u8(0)
                try leafU8(&kc, "key-id")
            case "wrapped-key":
                u8(1)
                try leafU8(&kc, "kek-id")
                try octets(try kc.next("key-ciphered-data"))
            case "agreed-key":
                u8(2)
                try octets(try kc.next("key-parameters"))
                try octets(try kc.next("key-ciphered-data"))
            default:
                throw XMLEncodeError(.unexpectedElement, "not a key-info choice", at: body)
            }
            try kc.finish()
        } else {
            u8(0)
        }
        try octets(try c.next("ciphered-content"))
        try c.finish()
    }

    mutating func generalSigning(_ e: XElement) throws(XMLEncodeError) {
        var c = ChildCursor(e)
        try generalHeader(&c)
        try octets(try c.next("content"))
        try octets(try c.next("signature"))
        try c.finish()
    }

    // MARK: - ACCESS

    mutating func accessRequestSpecification(_ e: XElement) throws(XMLEncodeError) {
        XMLValue.appendLength(e.children.count, to: &out)
        for item in e.children {
            guard let choice = XMLNames.value(item.name, in: XMLNames.accessRequestChoice) else {
                throw XMLEncodeError(.unexpectedElement, "not an Access-Request-Specification choice", at: item)
            }
            u8(choice)
            var c = ChildCursor(item)
            try descriptor(try c.next(choice == 3 ? "cosem-method-descriptor" : "cosem-attribute-descriptor"),
                           method: choice == 3)
            if choice == 4 || choice == 5 { try selection(try c.next("access-selection")) }
            try c.finish()
        }
    }

    mutating func accessRequest(_ e: XElement) throws(XMLEncodeError) {
        var c = ChildCursor(e)
        try leafU32(&c, "long-invoke-id-and-priority")
        try octets(try c.next("date-time"))
        var b = ChildCursor(try c.next("access-request-body"))
        try accessRequestSpecification(try b.next("access-request-specification"))
        try valueList(try b.next("access-request-list-of-data"))
        try b.finish()
        try c.finish()
    }

    mutating func accessResponse(_ e: XElement) throws(XMLEncodeError) {
        var c = ChildCursor(e)
        try leafU32(&c, "long-invoke-id-and-priority")
        try octets(try c.next("date-time"))
        var b = ChildCursor(try c.next("access-response-body"))
        if let spec = b.optional("access-request-specification") {
            u8(1)
            try accessRequestSpecification(spec)
        } else {
            u8(0)
        }
        try valueList(try b.next("access-response-list-of-data"))
        let spec = try b.next("access-response-specification")
        XMLValue.appendLength(spec.children.count, to: &out)
        for item in spec.children {
            guard let choice = XMLNames.value(item.name, in: XMLNames.accessResponseChoice) else {
                throw XMLEncodeError(.unexpectedElement, "not an Access-Response-Specification choice", at: item)
            }
            u8(choice)
            var ic = ChildCursor(item)
            try named(try ic.next("result"), choice == 3 ? XMLNames.actionResult : XMLNames.dataAccessResult)
            try ic.finish()
        }
        try b.finish()
        try c.finish()
    }
}
