/// CRC-16/X.25 as used for the HDLC HCS and FCS (IEC 62056-46 §8.4.1.4, RFC 1662 FCS-16): reflected polynomial
/// 0x8408, initial value 0xFFFF, final XOR 0xFFFF, transmitted least significant byte first.
public enum CRC16 {
    @usableFromInline static let table: [UInt16] = (0..<256).map { i -> UInt16 in
        var c = UInt16(i)
        for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x8408 : c >> 1 }
        return c
    }

    @inlinable public static func x25<C: Collection>(_ bytes: C) -> UInt16 where C.Element == UInt8 {
        var crc: UInt16 = 0xFFFF
        for b in bytes { crc = (crc >> 8) ^ table[Int((crc ^ UInt16(b)) & 0xFF)] }
        return crc ^ 0xFFFF
    }
}
