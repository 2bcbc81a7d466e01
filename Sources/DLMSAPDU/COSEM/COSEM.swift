import DLMSWire

/// COSEM naming: interface classes, attributes, methods, OBIS codes, units, date-times (Blue Book, DLMS UA 1000-1).
/// Contract between the APDU decoders (callers) and the naming tables (`InterfaceClasses.swift`, `OBISNames.swift`,
/// `Units.swift`, `DateTime.swift`).
public enum COSEM {
    /// Interface class name: 1 → "Data", 3 → "Register", 8 → "Clock", 15 → "Association LN", ...
    public static func className(_ classID: UInt16) -> String? { interfaceClass(classID)?.name }

    /// Attribute name for a class: (8, 2) → "time"; attribute 1 is "logical_name" for every class (known or not).
    public static func attributeName(classID: UInt16, attribute: Int) -> String? {
        if attribute == 1 { return "logical_name" }
        guard attribute >= 2, let c = interfaceClass(classID), attribute - 2 < c.attributes.count else { return nil }
        return c.attributes[attribute - 2]
    }

    /// Method name for a class: (70, 1) → "remote_disconnect".
    public static func methodName(classID: UInt16, method: Int) -> String? {
        guard method >= 1, let c = interfaceClass(classID), method - 1 < c.methods.count else { return nil }
        return c.methods[method - 1]
    }

    /// `A-B:C.D.E*F`, e.g. "0-0:1.0.0*255". Input of any length other than 6 gives the hex.
    public static func formatOBIS<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        guard bytes.count == 6 else { return Hex.encode(bytes) }
        var out: [UInt8] = []
        out.reserveCapacity(23)
        let separators: [UInt8] = [UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "."), UInt8(ascii: "."),
                                   UInt8(ascii: "*")]
        var i = 0
        for b in bytes {
            if i > 0 { out.append(separators[i - 1]) }
            appendDecimal(b, &out)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `a.b.c.d.e.f` (the JSON form), e.g. "0.0.1.0.0.255".
    public static func dottedOBIS<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 4)
        var first = true
        for b in bytes {
            if !first { out.append(UInt8(ascii: ".")) }
            first = false
            appendDecimal(b, &out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A name for a well-known OBIS code: 0.0.1.0.0.255 → "Clock", 1.0.1.8.0.255 → "Active energy import (+A),
    /// total". nil for codes the tables do not know (and for anything that is not 6 bytes).
    public static func obisName<C: Collection>(_ bytes: C) -> String? where C.Element == UInt8 {
        guard bytes.count == 6 else { return nil }
        var v: [UInt8] = [0, 0, 0, 0, 0, 0]
        var i = 0
        for b in bytes { v[i] = b; i += 1 }
        return nameOBIS(v[0], v[1], v[2], v[3], v[4], v[5])
    }

    /// Whether 6 bytes look like a logical name: A is a defined medium (0 abstract, 1 electricity, 4..9 heat cost
    /// / heat / cooling / gas / water, 15 other, or manufacturer-specific 128...), C is not 0xFF, and F is 255 or a
    /// billing period (0...99, 101...126). Conservative: callers should also have a reason from context (a class id
    /// next to it, an attribute known to hold a logical name).
    public static func looksLikeOBIS<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        guard bytes.count == 6 else { return false }
        var v: [UInt8] = [0, 0, 0, 0, 0, 0]
        var i = 0
        for b in bytes { v[i] = b; i += 1 }
        let a = v[0], c = v[2], f = v[5]
        guard a <= 1 || (4...9).contains(a) || a == 15 else { return false }
        guard c != 0xFF else { return false }
        return f == 255 || f <= 99 || (101...126).contains(f)
    }

    /// Unit enumeration (Blue Book table "unit"): 30 → ("Wh", "active energy"), 35 → ("V", "voltage").
    public static func unit(_ code: UInt8) -> (symbol: String, name: String)? { unitsByCode[Int(code)] }

    /// A COSEM date-time (12 bytes), date (5) or time (4), decoded. nil when the bytes are not a valid one.
    public static func decodeDateTime<C: Collection>(_ bytes: C) -> COSEMDateTime? where C.Element == UInt8 {
        COSEMDateTime.decode(bytes)
    }

    /// `decodeDateTime` without the generic overhead, for the common argument types.
    public static func decodeDateTime(_ bytes: [UInt8]) -> COSEMDateTime? { COSEMDateTime.decode(bytes[...]) }
    public static func decodeDateTime(_ bytes: ArraySlice<UInt8>) -> COSEMDateTime? { COSEMDateTime.decode(bytes) }

    @inline(__always)
    static func appendDecimal(_ b: UInt8, _ out: inout [UInt8]) {
        if b >= 100 { out.append(UInt8(ascii: "0") + b / 100) }
        if b >= 10 { out.append(UInt8(ascii: "0") + b / 10 % 10) }
        out.append(UInt8(ascii: "0") + b % 10)
    }
}

/// A decoded COSEM date-time (Blue Book 4.1.6.1): fields may be "not specified" (nil).
public struct COSEMDateTime: Sendable, Hashable {
    /// ISO 8601 text with what is specified, e.g. "2024-03-01T12:00:00.00+01:00"; unspecified fields (and special
    /// month/day values, named in `specials`) shown as `*`, no fraction when hundredths are unspecified, no offset
    /// when the deviation is.
    public var iso8601: String
    /// Deviation in minutes from local to UTC as on the wire (nil = not specified, 0x8000). ISO offset = −deviation.
    public var deviation: Int16?
    /// Clock status bits (nil = not specified, 0xFF).
    public var clockStatus: UInt8?
    /// Names of the clock status bits set: "invalid-value", "doubtful-value", "different-clock-base",
    /// "invalid-clock-status", "daylight-saving-active".
    public var clockStatusNames: [String]
    /// 1 = Monday ... 7 = Sunday.
    public var dayOfWeek: UInt8?

    public var kind: COSEMDateTimeKind = .dateTime
    public var year: UInt16?
    /// 1...12 (nil also for the special values 0xFD/0xFE, see `specials`).
    public var month: UInt8?
    /// 1...31 (nil also for the special values 0xFD/0xFE, see `specials`).
    public var dayOfMonth: UInt8?
    public var hour: UInt8?
    public var minute: UInt8?
    public var second: UInt8?
    public var hundredths: UInt8?
    /// Special values present: "daylight-saving-end", "daylight-saving-begin" (month 0xFD/0xFE),
    /// "second-last-day-of-month", "last-day-of-month" (day 0xFD/0xFE).
    public var specials: [String] = []
    /// The month and day-of-month bytes as on the wire (0 for a time).
    public var rawMonth: UInt8 = 0
    public var rawDayOfMonth: UInt8 = 0

    public init(iso8601: String, deviation: Int16?, clockStatus: UInt8?, clockStatusNames: [String],
                dayOfWeek: UInt8?) {
        self.iso8601 = iso8601
        self.deviation = deviation
        self.clockStatus = clockStatus
        self.clockStatusNames = clockStatusNames
        self.dayOfWeek = dayOfWeek
    }
}
