/// Hex encoding and decoding without Foundation.
public enum Hex {
    @usableFromInline static let lower: [UInt8] = Array("0123456789abcdef".utf8)
    @usableFromInline static let upper: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Lower-case hex of `bytes` (the JSON contract's case).
    @inlinable public static func encode<C: Collection>(_ bytes: C, uppercase: Bool = false) -> String
    where C.Element == UInt8 {
        let table = uppercase ? upper : lower
        return String(unsafeUninitializedCapacity: bytes.count * 2) { buf in
            var i = 0
            for b in bytes {
                buf[i] = table[Int(b >> 4)]
                buf[i + 1] = table[Int(b & 0x0F)]
                i += 2
            }
            return i
        }
    }

    @inlinable public static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Strict decode: an even number of hex digits, optional spaces; nil on anything else.
    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count / 2)
        var hi: UInt8? = nil
        for c in text.utf8 {
            if c == UInt8(ascii: " ") || c == UInt8(ascii: ":") { continue }
            guard let n = nibble(c) else { return nil }
            if let h = hi { out.append(h << 4 | n); hi = nil } else { hi = n }
        }
        return hi == nil ? out : nil
    }
}
