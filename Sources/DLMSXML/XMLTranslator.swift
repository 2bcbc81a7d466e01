import DLMSWire

/// APDU bytes → IEC 62056-5-3 standard XML (the representation of Gurux's `GXDLMSTranslator` in STANDARD_XML mode;
/// docs/xml.md lists the element names and where we deviate from Gurux).
///
/// The result is always lossless: after building the tree, the translator encodes it again with `XMLEncoder` and
/// compares with the input. An APDU that cannot be represented exactly (unknown tag, truncated or trailing bytes,
/// a non-canonical length, an undefined choice) becomes
///
/// ```xml
/// <x:xDLMS-APDU><x:undecoded-apdu reason="…" offset="N">HEX</x:undecoded-apdu></x:xDLMS-APDU>
/// ```
///
/// so that `XMLEncoder.encode(xml: XMLTranslator.apduToXML(x)) == x` holds for every input.
public enum XMLTranslator {
    /// The APDU as an XML element tree (root `xDLMS-APDU` or `aCSE-APDU`), with Gurux's element names or the
    /// ASN.1 ones (`naming`).
    public static func apduToElement(_ bytes: ArraySlice<UInt8>, naming: XMLNaming) -> XElement {
        let e = apduToElement(bytes)
        return naming == .gurux ? e : renamedToStandard(e)
    }

    static func renamedToStandard(_ e: XElement) -> XElement {
        var out = e
        if let n = XMLAliases.guruxToStandard[e.name] { out.name = n }
        out.children = e.children.map(renamedToStandard)
        return out
    }

    /// The APDU as an XML element tree (root `xDLMS-APDU` or `aCSE-APDU`), with the names Gurux writes.
    public static func apduToElement(_ bytes: ArraySlice<UInt8>) -> XElement {
        let decoded: XElement
        do throws(Malformed) {
            var w = APDUWalker(bytes)
            var e = try w.apdu()
            if !w.r.isAtEnd {
                // Bytes after the end of the APDU (a wrong wrapper length, padding): kept as an attribute of the
                // root so the tree stays the APDU's standard tree and still encodes to the exact input.
                e.attributes.append(XAttribute("trailing-bytes", Hex.encode(w.r.readRest(), uppercase: true)))
            }
            decoded = e
        } catch {
            return undecoded(bytes, reason: error.message, offset: error.offset)
        }
        // The safety net: only a tree that encodes back to the same bytes is handed out.
        guard let again = try? XMLEncoder.encode(element: decoded), again.elementsEqual(bytes) else {
            return undecoded(bytes, reason: "no exact XML form for these bytes", offset: 0)
        }
        return decoded
    }

    /// The APDU as standard XML text, without an XML declaration, indented by `indent` levels.
    public static func apduToXML(_ bytes: ArraySlice<UInt8>, indent: Int = 0, naming: XMLNaming = .gurux)
        -> String
    {
        apduToElement(bytes, naming: naming).xmlString(indent: indent)
    }

    /// One A-XDR `Data` value as an element (`<x:structure>`, `<x:double-long-unsigned>` …), or nil when the bytes
    /// are not exactly one value.
    public static func dataToElement(_ bytes: ArraySlice<UInt8>) -> XElement? {
        var w = APDUWalker(bytes)
        guard let e = try? w.data(depth: 0), w.r.isAtEnd else { return nil }
        return e
    }

    static func undecoded(_ bytes: ArraySlice<UInt8>, reason: String, offset: Int) -> XElement {
        let root = bytes.first.map { (0x60...0x63).contains($0) } == true ? "aCSE-APDU" : "xDLMS-APDU"
        return XElement(root, children: [
            XElement("undecoded-apdu", text: Hex.encode(bytes, uppercase: true),
                     attributes: [XAttribute("reason", reason), XAttribute("offset", String(offset))])
        ])
    }
}

/// Which spelling of element names the translator writes (the encoder reads both).
public enum XMLNaming: String, Sendable, CaseIterable {
    /// Gurux's `TranslatorStandardTags` (`get-response-with-data-block`, `CallingAPTitle`, …): the trees the
    /// reference translator and compare-xml.py expect, and what Gurux's own XML reader accepts.
    case gurux
    /// The IEC 62056-5-3 ASN.1 names where Gurux differs (`get-response-with-datablock`, `calling-AP-title`, …).
    case standard
}

/// A decoding failure inside `APDUWalker`: the APDU has no exact tree form.
struct Malformed: Error {
    var message: String
    var offset: Int
    init(_ message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }
}

/// Walks one APDU with a `ByteReader` and builds its element tree. Every read is checked; every failure throws
/// `Malformed` with the byte offset.
struct APDUWalker {
    var r: ByteReader
    static let maximumDataDepth = 64

    init(_ bytes: ArraySlice<UInt8>) { r = ByteReader(bytes) }

    // MARK: - Primitive reads

    func fail(_ what: String) -> Malformed { Malformed(what, offset: r.offset) }

    mutating func u8(_ what: String) throws(Malformed) -> UInt8 {
        guard let v = r.readUInt8() else { throw fail("truncated \(what)") }
        return v
    }

    mutating func u16(_ what: String) throws(Malformed) -> UInt16 {
        guard let v = r.readUInt16() else { throw fail("truncated \(what)") }
        return v
    }

    mutating func u32(_ what: String) throws(Malformed) -> UInt32 {
        guard let v = r.readUInt32() else { throw fail("truncated \(what)") }
        return v
    }

    mutating func take(_ n: Int, _ what: String) throws(Malformed) -> ArraySlice<UInt8> {
        guard let s = r.readSlice(n) else { throw fail("truncated \(what) (\(n) bytes announced)") }
        return s
    }

    /// An A-XDR / BER length, which must fit in the remaining bytes when `bounded`.
    mutating func length(_ what: String, bounded: Bool = true) throws(Malformed) -> Int {
        guard let n = r.readAXDRLength() else { throw fail("bad length of \(what)") }
        if bounded, n > r.remaining { throw fail("\(what) announces \(n) bytes, \(r.remaining) remain") }
        return n
    }

    /// A length-prefixed octet string as upper-case hex.
    mutating func octets(_ what: String) throws(Malformed) -> String {
        let n = try length(what)
        return Hex.encode(try take(n, what), uppercase: true)
    }

    static func leaf(_ name: String, _ text: String) -> XElement { XElement(name, text: text) }

    // MARK: - Dispatch

    mutating func apdu() throws(Malformed) -> XElement {
        guard let tag = r.peekUInt8() else { throw fail("empty APDU") }
        switch tag {
        case 0x60: return XElement("aCSE-APDU", children: [try aarq()])
        case 0x61: return XElement("aCSE-APDU", children: [try aare()])
        case 0x62, 0x63: return XElement("aCSE-APDU", children: [try release()])
        default: return XElement("xDLMS-APDU", children: [try xdlms()])
        }
    }

    mutating func xdlms() throws(Malformed) -> XElement {
        let tag = try u8("tag")
        switch tag {
        case 0xC0: return XElement("get-request", children: [try getRequest()])
        case 0xC4: return XElement("get-response", children: [try getResponse()])
        case 0xC1: return XElement("set-request", children: [try setRequest()])
        case 0xC5: return XElement("set-response", children: [try setResponse()])
        case 0xC3: return XElement("action-request", children: [try actionRequest()])
        case 0xC7: return XElement("action-response", children: [try actionResponse()])
        case 0xC2: return try eventNotification()
        case 0x0F: return try dataNotification()
        case 0xD8: return try exceptionResponse()
        case 0xD9: return try accessRequest()
        case 0xDA: return try accessResponse()
        case 0xE0: return try generalBlockTransfer()
        case 0xDB, 0xDC: return try generalGloDedCiphering(tag)
        case 0xDD: return try generalCiphering()
        case 0xDF: return try generalSigning()
        case 0x01: return try initiateRequest()
        case 0x08: return try initiateResponse()
        case 0x0E: return try confirmedServiceError()
        case 0x05: return try readRequest()
        case 0x0C: return try readResponse()
        case 0x06: return try writeRequest(name: "writeRequest")
        case 0x16: return try writeRequest(name: "unconfirmedWriteRequest")
        case 0x0D: return try writeResponse()
        case 0x18: return try informationReport()
        default:
            if let name = XMLTags.cipheredServiceName(tag) {
                // glo-/ded- service ciphering: OCTET STRING of SC ‖ IC ‖ ciphertext ‖ tag (Gurux writes the hex).
                return Self.leaf(name, try octets(name))
            }
            throw Malformed("unknown APDU tag 0x\(Hex.encode([tag], uppercase: true))", offset: r.offset - 1)
        }
    }
}

/// The tags of the glo-/ded- service-specific ciphered APDUs, whose content is one octet string.
enum XMLTags {
    static func cipheredServiceName(_ tag: UInt8) -> String? {
        switch tag {
        case 0x21, 0x25, 0x26, 0x28, 0x2C, 0x2D, 0x2E, 0x36, 0x38, 0x41, 0x45, 0x46, 0x48, 0x4C, 0x4D, 0x4E, 0x56,
            0x58, 0xC8, 0xC9, 0xCA, 0xCB, 0xCC, 0xCD, 0xCF, 0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD7:
            return cipheredNames[tag]
        default: return nil
        }
    }

    static let cipheredNames: [UInt8: String] = [
        0x21: "glo-initiate-request", 0x25: "glo-read-request", 0x26: "glo-write-request",
        0x28: "glo-initiate-response", 0x2C: "glo-read-response", 0x2D: "glo-write-response",
        0x2E: "glo-confirmed-service-error", 0x36: "glo-unconfirmed-write-request",
        0x38: "glo-information-report-request", 0x41: "ded-initiate-request", 0x45: "ded-read-request",
        0x46: "ded-write-request", 0x48: "ded-initiate-response", 0x4C: "ded-read-response",
        0x4D: "ded-write-response", 0x4E: "ded-confirmed-service-error", 0x56: "ded-unconfirmed-write-request",
        0x58: "ded-information-report-request", 0xC8: "glo-get-request", 0xC9: "glo-set-request",
        0xCA: "glo-event-notification-request", 0xCB: "glo-action-request", 0xCC: "glo-get-response",
        0xCD: "glo-set-response", 0xCF: "glo-action-response", 0xD0: "ded-get-request", 0xD1: "ded-set-request",
        0xD2: "ded-event-notification-request", 0xD3: "ded-action-request", 0xD4: "ded-get-response",
        0xD5: "ded-set-response", 0xD7: "ded-action-response",
    ]

    static let cipheredTags: [String: UInt8] = {
        var d: [String: UInt8] = [:]
        for (k, v) in cipheredNames { d[v] = k }
        return d
    }()
}
