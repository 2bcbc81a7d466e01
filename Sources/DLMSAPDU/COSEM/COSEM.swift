import DLMSWire

/// COSEM naming: interface classes, attributes, methods, OBIS codes, units, date-times (Blue Book, DLMS UA 1000-1).
/// Contract between the APDU decoders (callers) and the naming tables (owner of this folder).
public enum COSEM {
    /// Interface class name: 1 → "Data", 3 → "Register", 8 → "Clock", 15 → "Association LN", ...
    public static func className(_ classID: UInt16) -> String? { nil }

    /// Attribute name for a class: (8, 2) → "time"; attribute 1 is "logical_name" for every class.
    public static func attributeName(classID: UInt16, attribute: Int) -> String? { nil }

    /// Method name for a class: (70, 1) → "remote_disconnect".
    public static func methodName(classID: UInt16, method: Int) -> String? { nil }

    /// `A-B:C.D.E*F`, e.g. "0-0:1.0.0*255". Input of any length other than 6 gives the hex.
    public static func formatOBIS<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        Hex.encode(bytes)
    }

    /// `a.b.c.d.e.f` (the JSON form), e.g. "0.0.1.0.0.255".
    public static func dottedOBIS<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        bytes.map { String($0) }.joined(separator: ".")
    }

    /// A name for a well-known OBIS code: 0.0.1.0.0.255 → "Clock", 1.0.1.8.0.255 → "Active energy import (+A), total".
    public static func obisName<C: Collection>(_ bytes: C) -> String? where C.Element == UInt8 { nil }

    /// Unit enumeration (Blue Book table "unit"): 30 → ("Wh", "active energy"), 35 → ("V", "voltage").
    public static func unit(_ code: UInt8) -> (symbol: String, name: String)? { nil }

    /// A COSEM date-time (12 bytes), date (5) or time (4), decoded. nil when the bytes are not a valid one.
    public static func decodeDateTime<C: Collection>(_ bytes: C) -> COSEMDateTime? where C.Element == UInt8 { nil }
}

/// A decoded COSEM date-time (Blue Book 4.1.6.1): fields may be "not specified".
public struct COSEMDateTime: Sendable, Hashable {
    /// ISO 8601 text with what is specified, e.g. "2024-03-01T12:00:00.00+01:00"; unspecified fields shown as `*`.
    public var iso8601: String
    /// Deviation in minutes from local to UTC as on the wire (nil = not specified, 0x8000).
    public var deviation: Int16?
    /// Clock status bits (nil = not specified, 0xFF).
    public var clockStatus: UInt8?
    /// Names of the clock status bits set: "invalid-value", "doubtful-value", "different-clock-base",
    /// "invalid-clock-status", "daylight-saving-active".
    public var clockStatusNames: [String]
    public var dayOfWeek: UInt8?

    public init(iso8601: String, deviation: Int16?, clockStatus: UInt8?, clockStatusNames: [String],
                dayOfWeek: UInt8?) {
        self.iso8601 = iso8601
        self.deviation = deviation
        self.clockStatus = clockStatus
        self.clockStatusNames = clockStatusNames
        self.dayOfWeek = dayOfWeek
    }
}
