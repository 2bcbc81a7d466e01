import DLMSWire

/// Reading element text as values, for `XMLEncoder`. Every failure names the element and its line.
enum XMLValue {
    static func text(_ e: XElement) -> String { e.text.trimmingXMLSpace() }

    static func integer<T: FixedWidthInteger>(_ e: XElement, _: T.Type) throws(XMLEncodeError) -> T {
        let t = text(e)
        if let v = T(t) { return v }
        if t.hasPrefix("0x") || t.hasPrefix("0X"), let v = T(t.dropFirst(2), radix: 16) { return v }
        throw XMLEncodeError(.badValue, "'\(t.prefix(40))' is not a \(T.bitWidth)-bit \(T.isSigned ? "signed" : "unsigned") integer", at: e)
    }

    static func uint8(_ e: XElement) throws(XMLEncodeError) -> UInt8 { try integer(e, UInt8.self) }

    static func hex(_ e: XElement) throws(XMLEncodeError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(e.text.utf8.count / 2)
        var hi: UInt8?
        for c in e.text.utf8 {
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { continue }
            guard let n = Hex.nibble(c) else {
                throw XMLEncodeError(.badValue, "'\(Character(Unicode.Scalar(c)))' is not a hex digit", at: e)
            }
            if let h = hi {
                out.append(h << 4 | n)
                hi = nil
            } else {
                hi = n
            }
        }
        guard hi == nil else { throw XMLEncodeError(.badValue, "odd number of hex digits", at: e) }
        return out
    }

    static func hex(_ e: XElement, count: Int) throws(XMLEncodeError) -> [UInt8] {
        let b = try hex(e)
        guard b.count == count else {
            throw XMLEncodeError(.badValue, "expects \(count) bytes of hex, has \(b.count)", at: e)
        }
        return b
    }

    /// Binary digits → (number of bits, packed bytes, MSB first).
    static func bits(_ e: XElement) throws(XMLEncodeError) -> (Int, [UInt8]) {
        var out: [UInt8] = []
        var n = 0
        for c in e.text.utf8 {
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { continue }
            guard c == UInt8(ascii: "0") || c == UInt8(ascii: "1") else {
                throw XMLEncodeError(.badValue, "a bit string is written with the digits 0 and 1", at: e)
            }
            if n % 8 == 0 { out.append(0) }
            if c == UInt8(ascii: "1"), let last = out.indices.last { out[last] |= 0x80 >> UInt8(n % 8) }
            n += 1
        }
        return (n, out)
    }

    /// BER BIT STRING content: the unused-bits count, then the bytes.
    static func bitString(_ e: XElement, withUnusedByte: Bool) throws(XMLEncodeError) -> [UInt8] {
        let (n, b) = try bits(e)
        let unused = UInt8((8 - n % 8) % 8)
        return [unused] + b
    }

    /// A-XDR / BER definite length, in the shortest form.
    static func appendLength(_ n: Int, to out: inout [UInt8]) {
        if n < 0x80 {
            out.append(UInt8(n))
        } else if n <= 0xFF {
            out.append(0x81)
            out.append(UInt8(n))
        } else if n <= 0xFFFF {
            out.append(0x82)
            out.append(UInt8(n >> 8))
            out.append(UInt8(n & 0xFF))
        } else {
            out.append(0x84)
            out.append(UInt8(truncatingIfNeeded: n >> 24))
            out.append(UInt8(truncatingIfNeeded: n >> 16))
            out.append(UInt8(truncatingIfNeeded: n >> 8))
            out.append(UInt8(truncatingIfNeeded: n))
        }
    }

    static func append<T: FixedWidthInteger>(_ v: T, to out: inout [UInt8]) {
        var be = v.bigEndian
        withUnsafeBytes(of: &be) { out.append(contentsOf: $0) }
    }
}

/// Other spellings the encoder accepts for our element names: the IEC 62056-5-3 ASN.1 names where Gurux writes
/// its own, and Gurux's typos. `canonical` maps any of them to the name `XMLTranslator` writes.
public enum XMLAliases {
    /// ASN.1 name → the (Gurux) name we write. `XMLNaming.standard` output uses the keys.
    public static let standardToGurux: [String: String] = [
        "calling-AP-title": "CallingAPTitle",
        "responding-AP-title": "RespondingAPTitle",
        "called-AP-title": "called-ap-title",
        "called-AE-qualifier": "called-ae-qualifier",
        "called-AP-invocation-id": "called-ap-invocation-id",
        "called-AE-invocation-id": "called-ae-invocation-id",
        "calling-AE-qualifier": "calling-Ae-qualifier",
        "calling-AP-invocation-id": "calling-ap-invocation-id",
        "get-response-with-datablock": "get-response-with-data-block",
        "set-request-with-first-datablock": "set-request-first-data-block",
        "set-response-datablock": "set-response-data-block",
        "set-response-last-datablock": "set-response-with-last-data-block",
        "initiate-request": "initiateRequest",
        "initiate-response": "initiateResponse",
        "confirmed-service-error": "confirmedServiceError",
    ]

    static let extra: [String: String] = [
        "ActionRequestForNextDataBlock": "action-request-next-pblock",
        "float64,": "float64",
    ]

    public static func canonical(_ name: String) -> String {
        standardToGurux[name] ?? extra[name] ?? name
    }

    static let guruxToStandard: [String: String] = {
        var d: [String: String] = [:]
        for (k, v) in standardToGurux { d[v] = k }
        return d
    }()
}
