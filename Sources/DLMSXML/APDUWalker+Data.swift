import DLMSWire

/// A-XDR `Data` (IEC 62056-6-2 §4.1.5) as Gurux writes it in STANDARD_XML: integers in decimal, octet strings,
/// floats, date-time, date and time as hex of their bytes, visible strings as text, bit strings as binary digits,
/// arrays and structures as nested elements.
///
/// Extensions needed for an exact round trip (Gurux has no form for them): a visible or UTF-8 string that is not
/// printable text is written as hex with `encoding="hex"`; a boolean byte other than 0/1 in decimal.
extension APDUWalker {
    mutating func data(depth: Int) throws(Malformed) -> XElement {
        guard depth < Self.maximumDataDepth else { throw fail("data nested deeper than \(Self.maximumDataDepth)") }
        let at = r.offset
        let tag = try u8("data type")
        guard let name = XMLNames.dataType(tag) else {
            throw Malformed("unknown data type \(tag)", offset: at)
        }
        switch tag {
        case 0, 255:
            return XElement(name)
        case 1, 2:
            let n = try count(name)
            var e = XElement(name)
            e.children.reserveCapacity(n)
            for _ in 0..<n { e.children.append(try data(depth: depth + 1)) }
            return e
        case 3:
            let v = try u8(name)
            return Self.leaf(name, v == 0 ? "false" : v == 1 ? "true" : String(v))
        case 4:
            let bits = try length(name, bounded: false)
            let nbytes = (bits + 7) / 8
            let b = try take(nbytes, name)
            var s = ""
            s.reserveCapacity(bits)
            for k in 0..<bits { s += b[b.startIndex + k / 8] & (0x80 >> UInt8(k % 8)) != 0 ? "1" : "0" }
            return Self.leaf(name, s)
        case 5: return Self.leaf(name, String(Int32(bitPattern: try u32(name))))
        case 6: return Self.leaf(name, String(try u32(name)))
        case 9: return Self.leaf(name, try octets(name))
        case 10, 12:
            let n = try length(name)
            let b = try take(n, name)
            if let s = Self.printable(b, utf8: tag == 12) { return Self.leaf(name, s) }
            return XElement(name, text: Hex.encode(b, uppercase: true), attributes: [XAttribute("encoding", "hex")])
        case 13, 17, 22: return Self.leaf(name, String(try u8(name)))
        case 15: return Self.leaf(name, String(Int8(bitPattern: try u8(name))))
        case 16: return Self.leaf(name, String(Int16(bitPattern: try u16(name))))
        case 18: return Self.leaf(name, String(try u16(name)))
        case 20:
            guard let v = r.readUInt64() else { throw fail("truncated \(name)") }
            return Self.leaf(name, String(Int64(bitPattern: v)))
        case 21:
            guard let v = r.readUInt64() else { throw fail("truncated \(name)") }
            return Self.leaf(name, String(v))
        case 23: return Self.leaf(name, Hex.encode(try take(4, name), uppercase: true))
        case 24: return Self.leaf(name, Hex.encode(try take(8, name), uppercase: true))
        case 25: return Self.leaf(name, Hex.encode(try take(12, name), uppercase: true))
        case 26: return Self.leaf(name, Hex.encode(try take(5, name), uppercase: true))
        case 27: return Self.leaf(name, Hex.encode(try take(4, name), uppercase: true))
        case 19: return try compactArray(depth: depth)
        default: throw Malformed("unknown data type \(tag)", offset: at)
        }
    }

    /// compact-array [19] IMPLICIT SEQUENCE { contents-description [0] TypeDescription,
    /// array-contents [1] IMPLICIT OCTET STRING } (Gurux STANDARD_XML: the description as empty type elements,
    /// the contents as hex).
    mutating func compactArray(depth: Int) throws(Malformed) -> XElement {
        let description = try typeDescription(depth: depth + 1)
        let contents = try octets("array-contents")
        return XElement("compact-array", children: [
            XElement("contents-description", children: [description]),
            Self.leaf("array-contents", contents),
        ])
    }

    /// TypeDescription ::= CHOICE { …simple types [n] NULL, array [1] { number-of-elements Unsigned16,
    /// type-description }, structure [2] SEQUENCE OF TypeDescription }.
    mutating func typeDescription(depth: Int) throws(Malformed) -> XElement {
        guard depth < Self.maximumDataDepth else { throw fail("type description nested too deep") }
        let tag = try u8("type description")
        guard let name = XMLNames.dataType(tag) else { throw fail("unknown type \(tag) in a type description") }
        switch tag {
        case 1:
            let n = try u16("number-of-elements")
            return XElement(name, attributes: [XAttribute("quantity", String(n))],
                            children: [try typeDescription(depth: depth + 1)])
        case 2:
            let n = try count("structure description")
            var e = XElement(name)
            for _ in 0..<n { e.children.append(try typeDescription(depth: depth + 1)) }
            return e
        default:
            return XElement(name)
        }
    }

    /// The text of a visible (printable ASCII) or UTF-8 string, or nil when it must be written as hex: control
    /// characters cannot be carried by XML 1.0, and leading or trailing spaces would not survive trimming tools.
    static func printable(_ b: ArraySlice<UInt8>, utf8: Bool) -> String? {
        if let f = b.first, f == 0x20 { return nil }
        if let l = b.last, l == 0x20 { return nil }
        if utf8 {
            guard !b.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return nil }
            var it = b.makeIterator()
            var decoder = UTF8()
            var s = ""
            loop: while true {
                switch decoder.decode(&it) {
                case .scalarValue(let u): s.unicodeScalars.append(u)
                case .emptyInput: break loop
                case .error: return nil
                }
            }
            return s
        }
        guard !b.contains(where: { $0 < 0x20 || $0 > 0x7E }) else { return nil }
        return String(decoding: b, as: UTF8.self)
    }
}
