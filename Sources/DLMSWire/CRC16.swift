/// CRC-16/X.25 as used for the HDLC HCS and FCS (IEC 62056-46 §8.4.1.4, RFC 1662 FCS-16): reflected polynomial
/// 0x8408, initial value 0xFFFF, final XOR 0xFFFF, transmitted least significant byte first.
public enum CRC16 {
    @usableFromInline static let table: [UInt16] = (0..<256).map { i -> UInt16 in
        var c = UInt16(i)
        for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x8408 : c >> 1 }
        return c
    }

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

    @inlinable public static func x25(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        table.withUnsafeBufferPointer { t in
            var crc: UInt16 = 0xFFFF
            for b in bytes { crc = (crc >> 8) ^ t[Int((crc ^ UInt16(b)) & 0xFF)] }
            return crc ^ 0xFFFF
        }
    }
}
