import DLMSWire
import Testing

@testable import DLMSAPDU

private func dt(_ hex: String) -> COSEMDateTime? { COSEM.decodeDateTime(Hex.decode(hex) ?? []) }

@Suite struct COSEMDateTimeTests {
    // MARK: - Public vectors

    /// dlms-cosem `tests/test_time.py` (u9n/dlms-cosem): deviation −120 is UTC+02:00, −60 is UTC+01:00, 0x8000 has
    /// no offset. Their sign convention is ours (see DateTime.swift).
    @Test(arguments: [
        ("07e40101ff000300 00ff88ff", "2020-01-01T00:03:00.00+02:00", Int16(-120)),
        ("07e40106ff000300 00ffc4ff", "2020-01-06T00:03:00.00+01:00", Int16(-60)),
        ("07e2020cff000000 008000ff", "2018-02-12T00:00:00.00", nil),
    ])
    func dlmsCosemVectorsReadAsTheyDo(hex: String, iso: String, deviation: Int16?) throws {
        let d = try #require(dt(hex.replacingOccurrences(of: " ", with: "")))
        #expect(d.iso8601 == iso)
        #expect(d.deviation == deviation)
        #expect(d.clockStatus == nil)  // 0xFF: not specified
        #expect(d.dayOfWeek == nil)
        #expect(d.kind == .dateTime)
    }

    /// dlms-cosem `tests/test_dlms_date_time_data.py`: date 2024-11-21 (day of week unspecified), time
    /// 08:30:15.23, and the all-ones "not specified" forms.
    @Test func dlmsCosemDateAndTimeVectors() throws {
        #expect(dt("07e80b15ff")?.iso8601 == "2024-11-21")
        #expect(dt("07e80b15ff")?.kind == .date)
        #expect(dt("081e0f17")?.iso8601 == "08:30:15.23")
        #expect(dt("081e0f17")?.kind == .time)
        #expect(dt("ffffffffff")?.iso8601 == "****-**-**")
        #expect(dt("ffffffff")?.iso8601 == "**:**:**")
    }

    /// The Gurux meter's clock (Captures/gurux, wrapper-none.truth.jsonl #3, get-response of 0.0.1.0.0.255/2):
    /// 2024-03-01 12:00:00.00, day of week not specified, deviation 0 and clock status 0 on the wire. (The README
    /// lists the clock object's time_zone −60 and daylight-savings deviation 60; those are attributes 3 and 7,
    /// not part of this value: Gurux encodes the time with deviation 0.)
    @Test func theGuruxMetersClock() throws {
        let d = try #require(dt("07e80301ff0c000000000000"))
        #expect(d.iso8601 == "2024-03-01T12:00:00.00+00:00")
        #expect(d.year == 2024 && d.month == 3 && d.dayOfMonth == 1 && d.hour == 12 && d.minute == 0)
        #expect(d.deviation == 0)
        #expect(d.clockStatus == 0)
        #expect(d.clockStatusNames.isEmpty)
        #expect(d.dayOfWeek == nil)
        #expect(d.isFullySpecified)
        // And the SET of the clock to 12:30 later in the same session (#27).
        #expect(dt("07e80301ff0c1e0000000000")?.iso8601 == "2024-03-01T12:30:00.00+00:00")
    }

    // MARK: - Special values (Blue Book 4.1.6.1)

    /// The usual European daylight-saving begin as a Clock's daylight_savings_begin (Blue Book 4.5.1 example:
    /// "last Sunday of March, 02:00"): year 0xFFFF, month 3, day 0xFE (last), day of week 7, deviation and status
    /// not specified.
    @Test func aRecurringDateWithLastDayOfMonthAndAWeekday() throws {
        let d = try #require(dt("ffff03fe0702000000800 0ff".replacingOccurrences(of: " ", with: "")))
        #expect(d.iso8601 == "****-03-**T02:00:00.00")
        #expect(d.specials == ["last-day-of-month"])
        #expect(d.dayOfWeekName == "Sunday")
        #expect(d.deviation == nil)
        #expect(d.summary == "****-03-**T02:00:00.00 (last-day-of-month, Sunday)")
    }

    @Test func monthAndDaySpecialsAreNamed() throws {
        #expect(dt("ffffFDFFFF")?.specials == ["daylight-saving-end"])
        #expect(dt("ffffFEFFFF")?.specials == ["daylight-saving-begin"])
        #expect(dt("ffff01FDFF")?.specials == ["second-last-day-of-month"])
        #expect(dt("ffffFEFE07")?.specials == ["daylight-saving-begin", "last-day-of-month"])
    }

    @Test func unspecifiedFieldsAreStarsAndUnspecifiedHundredthsAreLeftOut() throws {
        #expect(dt("07e8ffffff0cffffff8000ff")?.iso8601 == "2024-**-**T12:**:**")
        #expect(dt("ffffffffffffffffff8000ff")?.iso8601 == "****-**-**T**:**:**")
    }

    /// Gurux reads these bytes the same way (gurux-dlms 1.0.203, `_GXCommon.getData` of `19` + the bytes, then
    /// `GXDateTime.value.isoformat()`): 07e80301050c000000003c00 → 2024-03-01T12:00:00-01:00,
    /// 07e80301050c000000feb600 → 2024-03-01T12:00:00+05:30, 07e80701010c000000ff8880 → 2024-07-01T12:00:00+02:00
    /// (status 128), 07e40101ff00030000ff88ff → 2020-01-01T00:03:00+02:00.
    @Test func deviationSignFollowsTheBlueBookLocalToUTCConvention() throws {
        // +60: local time is 60 minutes behind UTC (e.g. Azores winter), ISO −01:00.
        #expect(dt("07e80301050c000000003c00")?.iso8601 == "2024-03-01T12:00:00.00-01:00")
        #expect(dt("07e80301050c000000003c00")?.utcOffsetMinutes == -60)
        // −330: India, ISO +05:30.
        #expect(dt("07e80301050c00000 0feb600".replacingOccurrences(of: " ", with: ""))?.iso8601
                == "2024-03-01T12:00:00.00+05:30")
        // ±720 are the limits; 721 is invalid; 0x8000 is not specified.
        #expect(dt("07e80301050c0000000 2d000".replacingOccurrences(of: " ", with: "")) != nil)
        #expect(dt("07e80301050c0000000 2d100".replacingOccurrences(of: " ", with: "")) == nil)
        #expect(dt("07e80301050c00000080 0000".replacingOccurrences(of: " ", with: ""))?.deviation == nil)
    }

    @Test func clockStatusBitsAreNamed() throws {
        // 0x81: invalid value + daylight saving active; 0x0E: doubtful, different clock base, invalid status.
        #expect(dt("07e80701010c000000ff8881")?.clockStatusNames == ["invalid-value", "daylight-saving-active"])
        #expect(dt("07e80701010c000000ff880e")?.clockStatusNames
                == ["doubtful-value", "different-clock-base", "invalid-clock-status"])
        #expect(COSEM.clockStatusNames(0x10) == ["reserved-bit-4"])
        let summer = try #require(dt("07e80701010c000000ff8880"))
        #expect(summer.summary == "2024-07-01T12:00:00.00+02:00 [daylight-saving-active]")
    }

    @Test func outOfRangeFieldsAreNotADateTime() {
        #expect(dt("07e80d01050c000000000000") == nil)  // month 13
        #expect(dt("07e80300050c000000000000") == nil)  // day 0
        #expect(dt("07e803e0050c000000000000") == nil)  // day 0xE0 (reserved)
        #expect(dt("07e8030108 0c000000000000".replacingOccurrences(of: " ", with: "")) == nil)  // day of week 8
        #expect(dt("07e8030105180000 00000000".replacingOccurrences(of: " ", with: "")) == nil)  // hour 24
        #expect(dt("07e80301050c3c0000000000") == nil)  // minute 60
        #expect(dt("07e80301050c00006400 0000".replacingOccurrences(of: " ", with: "")) == nil)  // hundredths 100
        #expect(dt("07e80301050c0000000000") == nil)  // 11 bytes
    }

    // MARK: - Plausibility

    @Test func plausibilityAcceptsRealDateTimesAndRejectsLookalikes() {
        let yes = ["07e80301ff0c000000000000", "07e80219ff0000000000000000".dropLast(2).description,
                   "ffffffffffffffffff8000ff", "07e40101ff00030000ff88ff"]
        for h in yes { #expect(COSEM.isPlausibleDateTime(Hex.decode(h) ?? []), "\(h)") }
        let no = ["000000000000000000000000",  // month 0
                  "4752583030303030373736",  // ASCII, 11 bytes
                  "475258303030303037373634",  // "GRX000007764": month 0x58
                  "01000000000000000000ff00",  // year 256
                  "07e80301ff0c000000000070"]  // reserved status bits
        for h in no { #expect(!COSEM.isPlausibleDateTime(Hex.decode(h) ?? []), "\(h)") }
    }

    @Test func everyTwelveByteInputEitherDecodesOrIsRejectedWithoutTrapping() {
        var rng = AXDRFuzzRandom(seed: 12)
        var valid = 0
        for _ in 0..<50_000 {
            var b = [UInt8](repeating: 0, count: 12)
            for i in 0..<12 { b[i] = UInt8(truncatingIfNeeded: rng.next()) }
            if rng.next() % 2 == 0 { b[2] = UInt8(1 + rng.next() % 12); b[3] = UInt8(1 + rng.next() % 28) }
            if rng.next() % 2 == 0 { b[5] = UInt8(rng.next() % 24); b[6] = UInt8(rng.next() % 60) }
            if let d = COSEM.decodeDateTime(b) {
                valid += 1
                #expect(!d.iso8601.isEmpty)
            }
        }
        #expect(valid > 0)
    }
}
