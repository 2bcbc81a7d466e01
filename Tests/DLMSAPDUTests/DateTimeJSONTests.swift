import DLMSWire
import Testing

@testable import DLMSAPDU

/// Octet-string date-times are rendered to JSON without building their ISO text as a String first
/// (`COSEMDateTime.decode(_:iso: false)` + `writeISO`); the JSON must be the same as from the fully decoded value.
@Suite struct DateTimeJSONTests {
    static func json(_ d: COSEMDateTime) -> String {
        var out = JSONBuffer()
        d.writeJSON(into: &out)
        return out.string
    }

    /// Date-times, dates and times with every kind of field: specified, unspecified (0xFF / 0xFFFF / 0x8000),
    /// special months and days, a 5-digit year, deviations of both signs, clock status bits.
    static let samples: [[UInt8]] = [
        [0x07, 0xE8, 0x03, 0x01, 0x05, 0x0C, 0x00, 0x00, 0x00, 0xFF, 0xC4, 0x00],  // 2024-03-01 12:00 UTC+1
        [0x07, 0xE8, 0x0C, 0x1F, 0x02, 0x17, 0x3B, 0x3B, 0x63, 0x00, 0x3C, 0x81],  // deviation +60, DST + invalid
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0x00, 0x00, 0xFF, 0x80, 0x00, 0xFF],  // only a time
        [0xFF, 0xFF, 0xFE, 0xFE, 0x07, 0xFF, 0xFF, 0xFF, 0xFF, 0x80, 0x00, 0xFF],  // DST begin, last day
        [0x27, 0x10, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],  // year 10000
        [0x07, 0xE8, 0x03, 0x01, 0x05],  // date
        [0x0C, 0x00, 0x00, 0xFF],  // time
        [0x17, 0x3B, 0x3B, 0x00],  // time with hundredths
    ]

    @Test func theInPlaceISOTextGivesTheSameJSONAsTheDecodedString() throws {
        for b in Self.samples {
            let full = try #require(COSEMDateTime.decode(b[...], iso: true))
            let lazy = try #require(COSEMDateTime.decode(b[...], iso: false))
            #expect(lazy.iso8601.isEmpty)
            #expect(Self.json(lazy) == Self.json(full), "\(b)")
            #expect(Self.json(full).contains("\"iso8601\":\"\(full.iso8601)\""))
        }
    }

    @Test func octetStringDateTimesRenderTheirISOTextInPlace() throws {
        let b = Self.samples[0]
        var out = JSONBuffer()
        DataValue.octetString(b).writeJSON(into: &out)
        let full = try #require(COSEMDateTime.decode(b[...], iso: true))
        #expect(out.string.contains("\"date_time\":" + Self.json(full)))
    }
}
