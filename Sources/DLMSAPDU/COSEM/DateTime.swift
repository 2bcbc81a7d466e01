import DLMSWire

// COSEM date and time formats (Blue Book DLMS UA 1000-1, 4.1.6.1 "Date and time formats"):
//
//     date-time (12 bytes): year-hi year-lo month day-of-month day-of-week hour minute second hundredths
//                           deviation-hi deviation-lo clock-status
//     date (5 bytes): year-hi year-lo month day-of-month day-of-week
//     time (4 bytes): hour minute second hundredths
//
// year 0xFFFF, and every other one-byte field 0xFF, mean "not specified"; month 0xFD = end of daylight saving,
// 0xFE = begin of daylight saving; day-of-month 0xFD = second last day, 0xFE = last day of the month (0xE0..0xFC
// reserved); day-of-week 1 = Monday .. 7 = Sunday; deviation is a signed 16-bit count of minutes, 0x8000 = not
// specified; clock status 0xFF = not specified, bits 0 invalid value, 1 doubtful value, 2 different clock base,
// 3 invalid clock status, 7 daylight saving active (4..6 reserved).
//
// Sign of the deviation. The Blue Book defines it as the deviation "of local time to UTC" in minutes: the number of
// minutes to add to local time to get UTC, which is the opposite sign of an ISO 8601 offset (Central European Time,
// UTC+01:00, is sent as −60). dlms-cosem (`dlms_cosem/time.py`, `utc_offset_minutes`: "UTC+01:00 == -60 minutes")
// and Gurux (`GXCommon.setDateTime`: writes `-offset` unless the `UseUtc2NormalTime` quirk is set) both read it this
// way, so we do too: ISO offset = −deviation. Some companion standards send the ISO sign; `deviation` keeps the
// wire value so such a reading stays possible.

/// Which COSEM time format the bytes were.
public enum COSEMDateTimeKind: String, Sendable, Hashable {
    case dateTime = "date-time"
    case date
    case time
}

extension COSEMDateTime {
    /// The 12/5/4 bytes decoded field by field (nil = not specified). Returns nil for any other length or when a
    /// field holds a value the Blue Book does not define (month 13, hour 24, day 0xE0, deviation ±721..0x7FFF ...).
    static func decode<C: Collection>(_ bytes: C) -> COSEMDateTime? where C.Element == UInt8 {
        decode(ArraySlice(bytes))
    }

    /// The non-generic core (generic collection iteration cost more than the decoding itself).
    static func decode(_ bytes: ArraySlice<UInt8>) -> COSEMDateTime? { decode(bytes, iso: true) }

    /// `iso: false` leaves `iso8601` empty, for a caller that writes it itself (`writeISO`).
    static func decode(_ bytes: ArraySlice<UInt8>, iso: Bool) -> COSEMDateTime? {
        let count = bytes.count
        guard count == 12 || count == 5 || count == 4 else { return nil }
        var r = ByteReader(bytes)
        func next() -> UInt8 { r.readUInt8() ?? 0xFF }  // the count was checked: never short
        var d = COSEMDateTime(iso8601: "", deviation: nil, clockStatus: nil, clockStatusNames: [], dayOfWeek: nil)
        d.kind = count == 12 ? .dateTime : count == 5 ? .date : .time
        if count != 4 {
            let year = UInt16(next()) << 8 | UInt16(next())
            d.year = year == 0xFFFF ? nil : year
            let month = next(), day = next(), weekday = next()
            switch month {
            case 1...12: d.month = month
            case 0xFD: d.specials.append("daylight-saving-end")
            case 0xFE: d.specials.append("daylight-saving-begin")
            case 0xFF: break
            default: return nil
            }
            switch day {
            case 1...31: d.dayOfMonth = day
            case 0xFD: d.specials.append("second-last-day-of-month")
            case 0xFE: d.specials.append("last-day-of-month")
            case 0xFF: break
            default: return nil
            }
            switch weekday {
            case 1...7: d.dayOfWeek = weekday
            case 0xFF: break
            default: return nil
            }
            d.rawMonth = month
            d.rawDayOfMonth = day
        }
        if count != 5 {
            let h = next(), m = next(), s = next(), hs = next()
            guard h < 24 || h == 0xFF, m < 60 || m == 0xFF, s < 60 || s == 0xFF, hs < 100 || hs == 0xFF else {
                return nil
            }
            d.hour = h == 0xFF ? nil : h
            d.minute = m == 0xFF ? nil : m
            d.second = s == 0xFF ? nil : s
            d.hundredths = hs == 0xFF ? nil : hs
        }
        if count == 12 {
            let dev = Int16(bitPattern: UInt16(next()) << 8 | UInt16(next()))
            if dev != Int16.min {
                guard dev >= -720, dev <= 720 else { return nil }
                d.deviation = dev
            }
            let st = next()
            if st != 0xFF {
                d.clockStatus = st
                d.clockStatusNames = COSEM.clockStatusNames(st)
            }
        }
        if iso { d.iso8601 = d.formatISO() }
        return d
    }

    /// ISO 8601 with `*` for unspecified digits and for special month/day values (named in `specials`):
    /// `2024-03-01T12:00:00.00+01:00`, `****-**-**T12:00:00`, `2024-03-01`, `23:59:59.00`. The fraction is left
    /// out when hundredths are unspecified, the offset when the deviation is.
    func formatISO() -> String {
        // Written straight into the string's storage; this runs for every date-time of a profile buffer.
        String(unsafeUninitializedCapacity: Self.maximumISOLength) { buf in
            guard let p = buf.baseAddress else { return 0 }
            return writeISO(p)
        }
    }

    /// Longest `formatISO` text: a 5-digit year and a full offset take 29 bytes.
    static let maximumISOLength = 40

    /// Writes the `formatISO` text at `p` (room for `maximumISOLength` bytes); returns its length. The text is
    /// digits, `*`, `-`, `:`, `T`, `.` and `+`: it never needs a JSON escape.
    func writeISO(_ p: UnsafeMutablePointer<UInt8>) -> Int {
            var i = 0
            @inline(__always) func byte(_ c: UInt8) {
                p[i] = c
                i += 1
            }
            // Zero-padded to `width`; wider values (a year above 9999) are written in full. `*`s when nil.
            @inline(__always) func put(_ v: UInt16?, width: Int) {
                guard let v else {
                    for _ in 0..<width { byte(UInt8(ascii: "*")) }
                    return
                }
                var digits = 1
                var m = v
                while m >= 10 {
                    m /= 10
                    digits += 1
                }
                digits = Swift.max(digits, width)
                var x = v
                var k = i + digits
                while k > i {
                    k -= 1
                    p[k] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: x % 10)
                    x /= 10
                }
                i += digits
            }
            if kind != .time {
                put(year, width: 4)
                byte(UInt8(ascii: "-"))
                put(month.map(UInt16.init), width: 2)
                byte(UInt8(ascii: "-"))
                put(dayOfMonth.map(UInt16.init), width: 2)
            }
            if kind == .dateTime { byte(UInt8(ascii: "T")) }
            if kind != .date {
                put(hour.map(UInt16.init), width: 2)
                byte(UInt8(ascii: ":"))
                put(minute.map(UInt16.init), width: 2)
                byte(UInt8(ascii: ":"))
                put(second.map(UInt16.init), width: 2)
                if let hs = hundredths {
                    byte(UInt8(ascii: "."))
                    put(UInt16(hs), width: 2)
                }
            }
            if let off = utcOffsetMinutes {
                let a = abs(off)
                byte(off < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
                put(UInt16(a / 60), width: 2)
                byte(UInt8(ascii: ":"))
                put(UInt16(a % 60), width: 2)
            }
            return i
    }

    /// The ISO 8601 offset in minutes (east of UTC positive): the negated deviation (see the note on signs above).
    public var utcOffsetMinutes: Int? { deviation.map { -Int($0) } }

    /// "Monday" ... "Sunday", nil when not specified.
    public var dayOfWeekName: String? {
        switch dayOfWeek {
        case 1: "Monday"
        case 2: "Tuesday"
        case 3: "Wednesday"
        case 4: "Thursday"
        case 5: "Friday"
        case 6: "Saturday"
        case 7: "Sunday"
        default: nil
        }
    }

    /// True when every date and time field is specified (a point in time; offset may still be missing).
    public var isFullySpecified: Bool {
        year != nil && month != nil && dayOfMonth != nil && hour != nil && minute != nil && second != nil
    }
}

extension COSEM {
    /// Names of the clock status bits set (Blue Book 4.1.6.1, "clock_status"); reserved bits as `reserved-bit-N`.
    public static func clockStatusNames(_ status: UInt8) -> [String] {
        var names: [String] = []
        if status & 0x01 != 0 { names.append("invalid-value") }
        if status & 0x02 != 0 { names.append("doubtful-value") }
        if status & 0x04 != 0 { names.append("different-clock-base") }
        if status & 0x08 != 0 { names.append("invalid-clock-status") }
        for bit in 4...6 where status & (1 << bit) != 0 { names.append("reserved-bit-\(bit)") }
        if status & 0x80 != 0 { names.append("daylight-saving-active") }
        return names
    }

    /// Whether a 12-byte octet-string is very likely a COSEM date-time: every field valid, the year unspecified or
    /// within 1970...2199, the reserved clock-status bits clear, and not all bytes zero. Conservative on purpose:
    /// used to decide whether to show an octet-string as a date-time.
    public static func isPlausibleDateTime<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        guard bytes.count == 12, let d = COSEMDateTime.decode(bytes) else { return false }
        return isPlausible(d)
    }

    /// The plausibility rules of `isPlausibleDateTime` on an already decoded date-time.
    static func isPlausible(_ d: COSEMDateTime) -> Bool {
        if let y = d.year, y < 1970 || y > 2199 { return false }
        if let st = d.clockStatus, st & 0x70 != 0 { return false }
        // An unspecified date with a specified time, or vice versa, is legal; all-unspecified is legal (0xFF...,
        // Gurux sends it for open ranges), but all-zero bytes are not a date-time (month 0 is rejected on decode).
        return true
    }
}
