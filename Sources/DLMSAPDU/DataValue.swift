import DLMSWire

/// An A-XDR `Data` value (IEC 62056-6-2 §4.1.5 / Blue Book "Data ::= CHOICE").
///
///     Data ::= CHOICE {
///       null-data [0] IMPLICIT NULL, array [1] SEQUENCE OF Data, structure [2] SEQUENCE OF Data,
///       boolean [3], bit-string [4], double-long [5], double-long-unsigned [6], octet-string [9],
///       visible-string [10], utf8-string [12], bcd [13], integer [15], long [16], unsigned [17],
///       long-unsigned [18], compact-array [19], long64 [20], long64-unsigned [21], enum [22],
///       float32 [23], float64 [24], date-time [25], date [26], time [27], dont-care [255] }
///
/// Not `indirect`: the recursive cases hold arrays, which are already references, so boxing every value (one heap
/// allocation per scalar) bought nothing and cost about 40 % of the decode time of a profile buffer.
public enum DataValue: Sendable, Hashable {
    case nullData
    case array([DataValue])
    case structure([DataValue])
    case boolean(Bool)
    /// `count` bits, packed most significant bit first in `bytes`.
    case bitString(bytes: [UInt8], count: Int)
    case doubleLong(Int32)
    case doubleLongUnsigned(UInt32)
    case octetString([UInt8])
    case visibleString([UInt8])
    case utf8String([UInt8])
    case bcd(Int8)
    case integer(Int8)
    case long(Int16)
    case unsigned(UInt8)
    case longUnsigned(UInt16)
    /// The type description and the decoded elements (each of the described type).
    case compactArray(description: TypeDescription, elements: [DataValue])
    case long64(Int64)
    case long64Unsigned(UInt64)
    case enumValue(UInt8)
    case float32(Float)
    case float64(Double)
    case dateTime([UInt8])
    case date([UInt8])
    case time([UInt8])
    case dontCare

    /// The A-XDR tag of the value.
    public var tag: UInt8 {
        switch self {
        case .nullData: 0
        case .array: 1
        case .structure: 2
        case .boolean: 3
        case .bitString: 4
        case .doubleLong: 5
        case .doubleLongUnsigned: 6
        case .octetString: 9
        case .visibleString: 10
        case .utf8String: 12
        case .bcd: 13
        case .integer: 15
        case .long: 16
        case .unsigned: 17
        case .longUnsigned: 18
        case .compactArray: 19
        case .long64: 20
        case .long64Unsigned: 21
        case .enumValue: 22
        case .float32: 23
        case .float64: 24
        case .dateTime: 25
        case .date: 26
        case .time: 27
        case .dontCare: 255
        }
    }

    /// The type's name as written in the contract (`double-long-unsigned`, `enum`, ...).
    public static func typeName(tag: UInt8) -> String? {
        switch tag {
        case 0: "null-data"
        case 1: "array"
        case 2: "structure"
        case 3: "boolean"
        case 4: "bit-string"
        case 5: "double-long"
        case 6: "double-long-unsigned"
        case 9: "octet-string"
        case 10: "visible-string"
        case 12: "utf8-string"
        case 13: "bcd"
        case 15: "integer"
        case 16: "long"
        case 17: "unsigned"
        case 18: "long-unsigned"
        case 19: "compact-array"
        case 20: "long64"
        case 21: "long64-unsigned"
        case 22: "enum"
        case 23: "float32"
        case 24: "float64"
        case 25: "date-time"
        case 26: "date"
        case 27: "time"
        case 255: "dont-care"
        default: nil
        }
    }

    public var typeName: String { DataValue.typeName(tag: tag) ?? "unknown" }

    /// The value as a signed/unsigned integer where it is one (for scaler/unit, enums, counts).
    public var integerValue: Int64? {
        switch self {
        case .doubleLong(let v): Int64(v)
        case .doubleLongUnsigned(let v): Int64(v)
        case .bcd(let v): Int64(v)
        case .integer(let v): Int64(v)
        case .long(let v): Int64(v)
        case .unsigned(let v): Int64(v)
        case .longUnsigned(let v): Int64(v)
        case .long64(let v): v
        case .long64Unsigned(let v): Int64(exactly: v)
        case .enumValue(let v): Int64(v)
        default: nil
        }
    }
}

/// A compact-array's TypeDescription (IEC 62056-6-2 §4.1.6.2).
///
///     TypeDescription ::= CHOICE { null-data [0], array [1] SEQUENCE { number-of-elements Unsigned16,
///       type-description TypeDescription }, structure [2] SEQUENCE OF TypeDescription, ... simple types }
public indirect enum TypeDescription: Sendable, Hashable {
    case simple(UInt8)
    case array(count: Int, element: TypeDescription)
    case structure([TypeDescription])
}
