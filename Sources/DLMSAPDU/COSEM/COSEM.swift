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
        guard let code = packOBIS(bytes) else { return Hex.encode(bytes) }
        return formatOBIS(packed: code, separators: (0x2D, 0x3A, 0x2E, 0x2E, 0x2A))  // - : . . *
    }

    /// The 6 bytes as one integer (A in the high byte), nil for any other length.
    @inline(__always)
    static func packOBIS<C: Collection>(_ bytes: C) -> UInt64? where C.Element == UInt8 {
        guard bytes.count == 6 else { return nil }
        var v: UInt64 = 0
        for b in bytes { v = v << 8 | UInt64(b) }
        return v
    }

    /// Non-generic: callers in other modules otherwise run the generic versions unspecialised (witness-table
    /// iteration costs more than the work).
    @inline(__always)
    static func packOBIS(_ bytes: ArraySlice<UInt8>) -> UInt64? {
        guard bytes.count == 6 else { return nil }
        var r = ByteReader(bytes)
        guard let hi = r.readUInt16(), let lo = r.readUInt32() else { return nil }
        return UInt64(hi) << 32 | UInt64(lo)
    }

    // MARK: Non-generic overloads for the common argument types (chosen over the generic ones by the compiler)

    public static func formatOBIS(_ bytes: [UInt8]) -> String { formatOBIS(bytes[...]) }
    public static func formatOBIS(_ bytes: ArraySlice<UInt8>) -> String {
        guard let code = packOBIS(bytes) else { return Hex.encode(bytes) }
        return formatOBIS(packed: code, separators: (0x2D, 0x3A, 0x2E, 0x2E, 0x2A))
    }
    public static func dottedOBIS(_ bytes: [UInt8]) -> String { dottedOBIS(bytes[...]) }
    public static func dottedOBIS(_ bytes: ArraySlice<UInt8>) -> String {
        guard let code = packOBIS(bytes) else { return dottedOBIS(bytes.lazy.map { $0 }) }
        return formatOBIS(packed: code, separators: (0x2E, 0x2E, 0x2E, 0x2E, 0x2E))
    }
    public static func formatOBIS(_ code: OBIS) -> String {
        guard code.count == 6 else { return formatOBIS(Array(code)) }
        return formatOBIS(packed: code.packed, separators: (0x2D, 0x3A, 0x2E, 0x2E, 0x2A))
    }
    public static func dottedOBIS(_ code: OBIS) -> String {
        guard code.count == 6 else { return dottedOBIS(Array(code)) }
        return formatOBIS(packed: code.packed, separators: (0x2E, 0x2E, 0x2E, 0x2E, 0x2E))
    }
    public static func obisName(_ code: OBIS) -> String? {
        guard code.count == 6 else { return nil }
        return obisNameCache.name(code.packed)
    }
    public static func obisName(_ bytes: [UInt8]) -> String? { obisName(bytes[...]) }
    public static func obisName(_ bytes: ArraySlice<UInt8>) -> String? {
        guard let code = packOBIS(bytes) else { return nil }
        return obisNameCache.name(code)
    }
    public static func looksLikeOBIS(_ bytes: [UInt8]) -> Bool { looksLikeOBIS(packed: packOBIS(bytes[...])) }
    public static func looksLikeOBIS(_ bytes: ArraySlice<UInt8>) -> Bool { looksLikeOBIS(packed: packOBIS(bytes)) }

    static func formatOBIS(packed v: UInt64, separators s: (UInt8, UInt8, UInt8, UInt8, UInt8)) -> String {
        // At most 6 × 3 digits + 5 separators.
        String(unsafeUninitializedCapacity: 23) { buf in
            var i = 0
            func put(_ b: UInt8) {
                if b >= 100 { buf[i] = 0x30 + b / 100; i += 1 }
                if b >= 10 { buf[i] = 0x30 + b / 10 % 10; i += 1 }
                buf[i] = 0x30 + b % 10
                i += 1
            }
            func sep(_ c: UInt8) { buf[i] = c; i += 1 }
            put(UInt8(truncatingIfNeeded: v >> 40)); sep(s.0)
            put(UInt8(truncatingIfNeeded: v >> 32)); sep(s.1)
            put(UInt8(truncatingIfNeeded: v >> 24)); sep(s.2)
            put(UInt8(truncatingIfNeeded: v >> 16)); sep(s.3)
            put(UInt8(truncatingIfNeeded: v >> 8)); sep(s.4)
            put(UInt8(truncatingIfNeeded: v))
            return i
        }
    }

    /// `a.b.c.d.e.f` (the JSON form), e.g. "0.0.1.0.0.255". Other lengths give their bytes dotted the same way.
    public static func dottedOBIS<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        if let code = packOBIS(bytes) { return formatOBIS(packed: code, separators: (0x2E, 0x2E, 0x2E, 0x2E, 0x2E)) }
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
        guard let code = packOBIS(bytes) else { return nil }
        return obisNameCache.name(code)
    }

    /// Whether 6 bytes look like a logical name: A is a defined medium (0 abstract, 1 electricity, 4..9 heat cost
    /// / heat / cooling / gas / water, 15 other, or manufacturer-specific 128...), C is not 0xFF, and F is 255 or a
    /// billing period (0...99, 101...126). Conservative: callers should also have a reason from context (a class id
    /// next to it, an attribute known to hold a logical name).
    public static func looksLikeOBIS<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        looksLikeOBIS(packed: packOBIS(bytes))
    }

    static func looksLikeOBIS(packed: UInt64?) -> Bool {
        guard let code = packed else { return false }
        let a = UInt8(truncatingIfNeeded: code >> 40), c = UInt8(truncatingIfNeeded: code >> 24)
        let f = UInt8(truncatingIfNeeded: code)
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
