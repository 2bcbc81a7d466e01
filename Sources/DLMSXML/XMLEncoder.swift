import DLMSWire

/// IEC 62056-5-3 standard XML → APDU bytes: the exact inverse of `XMLTranslator` (and a reader of Gurux's
/// STANDARD_XML for the APDUs both know). Errors name the line and the element.
///
/// The document's root is `xDLMS-APDU` or `aCSE-APDU` holding one APDU element, or the APDU element itself
/// (`<get-request>…`). Namespace prefixes are ignored; ASN.1 spellings of Gurux's names are accepted
/// (`XMLAliases`).
public enum XMLEncoder {
    public static func encode(xml: String) throws(XMLEncodeError) -> [UInt8] {
        try encode(element: try XMLParser.parse(xml))
    }

    public static func encode(element root: XElement) throws(XMLEncodeError) -> [UInt8] {
        var b = APDUBuilder()
        try b.apdu(root)
        if let t = root.attribute("trailing-bytes") {
            b.out += try XMLValue.hex(XElement(root.name, text: t, line: root.line))
        }
        return b.out
    }

    /// One A-XDR `Data` value from its element (`<x:structure>`, `<x:long-unsigned>` …).
    public static func encodeData(element: XElement) throws(XMLEncodeError) -> [UInt8] {
        var b = APDUBuilder()
        try b.data(element, depth: 0)
        return b.out
    }

    /// Every APDU of a `--format xml` document (see `XMLDocumentWriter`): the wire APDU of each `apdu` record, or
    /// with `plain` the decrypted APDU where there is one (the wire APDU otherwise). A document that is itself an
    /// APDU gives one.
    public static func encodeDocument(xml: String, plain: Bool = false) throws(XMLEncodeError) -> [[UInt8]] {
        let root = try XMLParser.parse(xml)
        if root.name == "xDLMS-APDU" || root.name == "aCSE-APDU" { return [try encode(element: root)] }
        var out: [[UInt8]] = []
        for rec in root.children where rec.name == "apdu" {
            var chosen = rec.children.first { $0.name == "xDLMS-APDU" || $0.name == "aCSE-APDU" }
            if plain, let p = rec.child("plain"),
                let inner = p.children.first(where: { $0.name == "xDLMS-APDU" || $0.name == "aCSE-APDU" })
            {
                chosen = inner
            }
            guard let apdu = chosen else {
                throw XMLEncodeError(.missingElement, "apdu record without xDLMS-APDU or aCSE-APDU", at: rec)
            }
            out.append(try encode(element: apdu))
        }
        return out
    }
}

/// The children of an element, consumed in order.
struct ChildCursor {
    let parent: XElement
    var index = 0

    init(_ parent: XElement) { self.parent = parent }

    var peekName: String? {
        index < parent.children.count ? XMLAliases.canonical(parent.children[index].name) : nil
    }

    mutating func next(_ name: String) throws(XMLEncodeError) -> XElement {
        guard index < parent.children.count else {
            throw XMLEncodeError(.missingElement, "<\(name)> is missing", at: parent)
        }
        let c = parent.children[index]
        guard XMLAliases.canonical(c.name) == name else {
            throw XMLEncodeError(.unexpectedElement, "expected <\(name)> here", at: c)
        }
        index += 1
        return c
    }

    /// The next child, whatever its name.
    mutating func any(_ what: String) throws(XMLEncodeError) -> XElement {
        guard index < parent.children.count else {
            throw XMLEncodeError(.missingElement, "\(what) is missing", at: parent)
        }
        index += 1
        return parent.children[index - 1]
    }

    mutating func optional(_ name: String) -> XElement? {
        guard peekName == name else { return nil }
        index += 1
        return parent.children[index - 1]
    }

    func finish() throws(XMLEncodeError) {
        if index < parent.children.count {
            throw XMLEncodeError(.unexpectedElement, "unexpected element in <\(parent.name)>",
                                 at: parent.children[index])
        }
    }
}

/// Builds APDU bytes from elements, mirroring `APDUWalker`.
struct APDUBuilder {
    var out: [UInt8] = []

    mutating func u8(_ v: UInt8) { out.append(v) }
    mutating func u16(_ v: UInt16) { XMLValue.append(v, to: &out) }
    mutating func u32(_ v: UInt32) { XMLValue.append(v, to: &out) }

    mutating func octets(_ e: XElement) throws(XMLEncodeError) {
        let b = try XMLValue.hex(e)
        XMLValue.appendLength(b.count, to: &out)
        out += b
    }

    mutating func leafU8(_ c: inout ChildCursor, _ name: String) throws(XMLEncodeError) {
        u8(try XMLValue.uint8(try c.next(name)))
    }

    mutating func leafU32(_ c: inout ChildCursor, _ name: String) throws(XMLEncodeError) {
        u32(try XMLValue.integer(try c.next(name), UInt32.self))
    }

    mutating func named(_ e: XElement, _ table: (UInt8) -> String?) throws(XMLEncodeError) {
        guard let v = XMLNames.value(e.text, in: table) else {
            throw XMLEncodeError(.badValue, "'\(XMLValue.text(e).prefix(40))' is not a known name or number", at: e)
        }
        u8(v)
    }

    // MARK: - Dispatch

    mutating func apdu(_ root: XElement) throws(XMLEncodeError) {
        var e = root
        if root.name == "xDLMS-APDU" || root.name == "aCSE-APDU" {
            guard root.children.count == 1, let only = root.children.first else {
                throw XMLEncodeError(.missingElement, "<\(root.name)> must hold exactly one APDU element", at: root)
            }
            e = only
        }
        let name = XMLAliases.canonical(e.name)
        switch name {
        case "undecoded-apdu": out += try XMLValue.hex(e)
        case "aarq": try acse(e, tag: 0x60)
        case "aare": try acse(e, tag: 0x61)
        case "rlrq": try acse(e, tag: 0x62)
        case "rlre": try acse(e, tag: 0x63)
        case "get-request": u8(0xC0); try getRequest(e)
        case "get-response": u8(0xC4); try getResponse(e)
        case "set-request": u8(0xC1); try setRequest(e)
        case "set-response": u8(0xC5); try setResponse(e)
        case "action-request": u8(0xC3); try actionRequest(e)
        case "action-response": u8(0xC7); try actionResponse(e)
        case "event-notification-request": u8(0xC2); try eventNotification(e)
        case "data-notification": u8(0x0F); try dataNotification(e)
        case "exception-response": u8(0xD8); try exceptionResponse(e)
        case "access-request": u8(0xD9); try accessRequest(e)
        case "access-response": u8(0xDA); try accessResponse(e)
        case "general-block-transfer": u8(0xE0); try generalBlockTransfer(e)
        case "general-glo-ciphering": u8(0xDB); try generalGloDed(e)
        case "general-ded-ciphering": u8(0xDC); try generalGloDed(e)
        case "general-ciphering": u8(0xDD); try generalCiphering(e)
        case "general-signing": u8(0xDF); try generalSigning(e)
        case "initiateRequest": u8(0x01); try initiateRequest(e)
        case "initiateResponse": u8(0x08); try initiateResponse(e)
        case "confirmedServiceError": u8(0x0E); try confirmedServiceError(e)
        case "readRequest": u8(0x05); try readRequest(e)
        case "readResponse": u8(0x0C); try readResponse(e)
        case "writeRequest": u8(0x06); try writeRequest(e)
        case "unconfirmedWriteRequest": u8(0x16); try writeRequest(e)
        case "writeResponse": u8(0x0D); try writeResponse(e)
        case "informationReportRequest": u8(0x18); try informationReport(e)
        default:
            guard let tag = XMLTags.cipheredTags[name] else {
                throw XMLEncodeError(.unexpectedElement, "<\(e.name)> is not an APDU this encoder knows", at: e)
            }
            u8(tag)
            try octets(e)
        }
    }

    /// The only child of `e`, which must be one of the choices; returns its canonical name.
    func choice(_ e: XElement) throws(XMLEncodeError) -> (String, XElement) {
        guard e.children.count == 1, let c = e.children.first else {
            throw XMLEncodeError(.missingElement, "<\(e.name)> must hold exactly one choice element", at: e)
        }
        return (XMLAliases.canonical(c.name), c)
    }
}
