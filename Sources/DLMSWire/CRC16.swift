/// CRC-16/X.25 as used for the HDLC HCS and FCS (IEC 62056-46 §8.4.1.4, RFC 1662 FCS-16): reflected polynomial
/// 0x8408, initial value 0xFFFF, final XOR 0xFFFF, transmitted least significant byte first.
public enum CRC16 {
    @usableFromInline static let table: [UInt16] = (0..<256).map { i -> UInt16 in
        var c = UInt16(i)
        for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x8408 : c >> 1 }
        return c
    }

    /// Four tables of 256 entries for slicing by four (table k at k·256): entry i of table k is the CRC effect of byte
    /// i followed by k zero bytes, so four bytes are folded in with four lookups and no per-byte shifting.
    @usableFromInline static let tables4: [UInt16] = {
        var t = [UInt16](repeating: 0, count: 1024)
        for i in 0..<256 { t[i] = table[i] }
        for k in 1..<4 {
            for i in 0..<256 {
                let p = t[(k - 1) * 256 + i]
                t[k * 256 + i] = (p >> 8) ^ t[Int(p & 0xFF)]
            }
        }
        return t
    }()

    @inlinable public static func x25<C: Collection>(_ bytes: C) -> UInt16 where C.Element == UInt8 {
        if let crc = bytes.withContiguousStorageIfAvailable({ x25(UnsafeRawBufferPointer($0)) }) { return crc }
        var crc: UInt16 = 0xFFFF
        for b in bytes { crc = (crc >> 8) ^ table[Int((crc ^ UInt16(b)) & 0xFF)] }
        return crc ^ 0xFFFF
    }

    /// The hot path (every HDLC frame's HCS and FCS): contiguous bytes, the table read without bounds checks (the
    /// index is masked to 0...255 and the table has 256 entries).
    @inlinable public static func x25(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        bytes.withUnsafeBufferPointer { x25(UnsafeRawBufferPointer($0)) }
    }

    @inlinable public static func x25(_ bytes: [UInt8]) -> UInt16 {
        bytes.withUnsafeBufferPointer { x25(UnsafeRawBufferPointer($0)) }
    }

    /// Slicing by four while four bytes remain, then byte by byte. Every read is within `bytes` (`i + 4 <= n`, then
    /// `i < n`) and every table index is masked to its 256 entries.
    @inlinable public static func x25(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        x25Register(0xFFFF, bytes) ^ 0xFFFF
    }

    /// The register before the final XOR after `bytes` were folded into `register` (start with 0xFFFF): a CRC over
    /// a run computed in parts, e.g. an HDLC frame's HCS over its header and then its FCS from there, without
    /// reading the header twice. `x25(b) == x25Register(0xFFFF, b) ^ 0xFFFF`.
    @inlinable public static func x25Register(_ register: UInt16, _ bytes: ArraySlice<UInt8>) -> UInt16 {
        bytes.withUnsafeBufferPointer { x25Register(register, UnsafeRawBufferPointer($0)) }
    }

    @inlinable public static func x25Register(_ register: UInt16, _ bytes: UnsafeRawBufferPointer) -> UInt16 {
        tables4.withUnsafeBufferPointer { t in
            var crc = register
            let n = bytes.count
            var i = 0
            while i + 4 <= n {
                let x = crc ^ (UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8)
                crc = t[768 + Int(x & 0xFF)] ^ t[512 + Int(x >> 8)] ^ t[256 + Int(bytes[i + 2])] ^ t[Int(bytes[i + 3])]
                i += 4
            }
            while i < n {
                crc = (crc >> 8) ^ t[Int((crc ^ UInt16(bytes[i])) & 0xFF)]
                i += 1
            }
            return crc
        }
    }
}
