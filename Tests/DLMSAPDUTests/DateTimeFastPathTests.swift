import DLMSWire
import Testing

@testable import DLMSAPDU

/// Octet-strings holding a plain 12-byte date-time write `date_time` straight from their bytes
/// (`DataValue.writeSimpleDateTime`); the result must be exactly what the general path (`COSEMDateTime.decode` and
/// `writeJSON`) writes, and bytes it does not take must be left to that path untouched.
@Suite struct DateTimeFastPathTests {
    /// The general path: `"date_time":{...}` when the bytes are a date-time for this hint, else nothing.
    static func general(_ b: [UInt8], hint: DataRenderHint) -> String {
        var out = JSONBuffer()
        out.beginObject()
        if let d = DataValue.dateTimeReading(b, hint: hint, iso: false) {
            out.key(literal: "date_time")
            d.writeJSON(into: &out)
        }
        out.endObject()
        return out.string
    }

    /// The fast path, or the general one where it declines (as `writeOctetStringForms` does).
    static func fast(_ b: [UInt8], hint: DataRenderHint) -> String {
        var out = JSONBuffer()
        out.beginObject()
        if !DataValue.writeSimpleDateTime(b, plausibleOnly: !hint.contains(.dateTime), into: &out) {
            if let d = DataValue.dateTimeReading(b, hint: hint, iso: false) {
                out.key(literal: "date_time")
                d.writeJSON(into: &out)
            }
        }
        out.endObject()
        return out.string
    }

    @Test func fieldValuesAtEveryEdgeWriteWhatTheGeneralPathWrites() {
        // Each field through its valid range edges, "not specified", specials and invalid values; the other
        // fields of a plausible date-time (2024-03-01 Friday 12:34:56.78, deviation -60, status 0).
        let base: [UInt8] = [0x07, 0xE8, 3, 1, 5, 12, 34, 56, 78, 0xFF, 0xC4, 0x00]
        let variants: [(Int, [UInt8])] = [
            (2, [0, 1, 12, 13, 0xFD, 0xFE, 0xFF]), (3, [0, 1, 31, 32, 0xE0, 0xFD, 0xFE, 0xFF]),
            (4, [0, 1, 7, 8, 0xFF]), (5, [0, 23, 24, 0xFF]), (6, [0, 59, 60, 0xFF]), (7, [0, 59, 60, 0xFF]),
            (8, [0, 99, 100, 0xFF]), (11, [0x00, 0x01, 0x08, 0x10, 0x70, 0x80, 0x81, 0xFF]),
        ]
        var taken = JSONBuffer()
        #expect(DataValue.writeSimpleDateTime(base, plausibleOnly: true, into: &taken))  // the fast path is used
        for hint in [DataRenderHint(), .dateTime] {
            #expect(Self.fast(base, hint: hint) == Self.general(base, hint: hint))
            for (index, values) in variants {
                for v in values {
                    var b = base
                    b[index] = v
                    #expect(Self.fast(b, hint: hint) == Self.general(b, hint: hint), "byte \(index) = \(v)")
                }
            }
            // Years (unspecified, implausible, five digits) and deviations (unspecified, 0, ±720, out of range).
            for year: UInt16 in [0, 999, 1969, 1970, 2199, 2200, 9999, 10000, 0xFFFE, 0xFFFF] {
                var b = base
                b[0] = UInt8(year >> 8)
                b[1] = UInt8(year & 0xFF)
                #expect(Self.fast(b, hint: hint) == Self.general(b, hint: hint), "year \(year)")
            }
            for deviation: Int16 in [Int16.min, 0, 1, -1, 59, 60, -61, 720, -720, 721, -721, Int16.max] {
                var b = base
                let raw = UInt16(bitPattern: deviation)
                b[9] = UInt8(raw >> 8)
                b[10] = UInt8(raw & 0xFF)
                #expect(Self.fast(b, hint: hint) == Self.general(b, hint: hint), "deviation \(deviation)")
            }
        }
    }

    @Test func randomTwelveByteStringsWriteWhatTheGeneralPathWrites() {
        // Seeded: bytes drawn mostly near the valid ranges so that many are date-times.
        var seed: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> UInt8 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: seed >> 33)
        }
        for _ in 0..<3000 {
            var b = (0..<12).map { _ in next() }
            if next() & 1 == 0 {
                b[0] = 0x07
                b[2] = b[2] % 14
                b[3] = b[3] % 33
                b[4] = b[4] % 9
                b[5] = b[5] % 25
                b[6] = b[6] % 61
                b[7] = b[7] % 61
                b[8] = b[8] % 101
                b[9] = next() & 1 == 0 ? 0x80 : 0x00
                b[11] = next() & 1 == 0 ? 0xFF : b[11] & 0x81
            }
            for hint in [DataRenderHint(), .dateTime] {
                #expect(Self.fast(b, hint: hint) == Self.general(b, hint: hint), "\(Hex.encode(b))")
            }
        }
    }

    @Test func otherLengthsAreLeftToTheGeneralPath() {
        var out = JSONBuffer()
        for b: [UInt8] in [[], [0x07, 0xE8, 3, 1, 5], [12, 0, 0, 0], Array(repeating: 0xFF, count: 13)] {
            #expect(!DataValue.writeSimpleDateTime(b, plausibleOnly: false, into: &out))
        }
        #expect(out.count == 0)
    }
}
