import DLMSWire

/// Decodes A-XDR `Data` (IEC 62056-6-2). Total on hostile input: lengths are checked against the bytes left before
/// anything is allocated, and nesting is bounded by `maximumDepth`.
public enum AXDR {
    /// Deepest array/structure nesting accepted (real profile buffers nest 3-4 levels).
    public static let maximumDepth = 32

    public static func decodeData(_ r: inout ByteReader, depth: Int = 0) throws(DecodeError) -> DataValue {
        let start = r.offset
        guard depth <= maximumDepth else {
            throw DecodeError("axdr.too-deep", "data nested deeper than \(maximumDepth) levels", offset: start)
        }
        guard let tag = r.readUInt8() else { throw truncated("data tag", start) }
        switch tag {
        case 0: return .nullData
        case 1, 2:
            guard let n = r.readAXDRLength() else { throw truncated("element count", r.offset) }
            // Every element takes at least one byte: a count above the bytes left is malformed, not a reason
            // to reserve memory.
            guard n <= r.remaining else {
                throw DecodeError("axdr.bad-count", "\(n) elements announced, \(r.remaining) bytes left",
                                  offset: start)
            }
            var items: [DataValue] = []
            items.reserveCapacity(n)
            for _ in 0..<n { items.append(try decodeData(&r, depth: depth + 1)) }
            return tag == 1 ? .array(items) : .structure(items)
        case 3:
            guard let b = r.readUInt8() else { throw truncated("boolean", start) }
            return .boolean(b != 0)
        case 4:
            guard let bits = r.readAXDRLength() else { throw truncated("bit-string length", start) }
            let nbytes = (bits + 7) / 8
            guard let s = r.readSlice(nbytes) else { throw truncated("bit-string", start) }
            return .bitString(bytes: Array(s), count: bits)
        case 5:
            guard let v = r.readUInt32() else { throw truncated("double-long", start) }
            return .doubleLong(Int32(bitPattern: v))
        case 6:
            guard let v = r.readUInt32() else { throw truncated("double-long-unsigned", start) }
            return .doubleLongUnsigned(v)
        case 9, 10, 12:
            guard let n = r.readAXDRLength(), let s = r.readSlice(n) else { throw truncated("string", start) }
            return tag == 9 ? .octetString(Array(s)) : tag == 10 ? .visibleString(Array(s)) : .utf8String(Array(s))
        case 13:
            guard let v = r.readUInt8() else { throw truncated("bcd", start) }
            return .bcd(Int8(bitPattern: v))
        case 15:
            guard let v = r.readUInt8() else { throw truncated("integer", start) }
            return .integer(Int8(bitPattern: v))
        case 16:
            guard let v = r.readUInt16() else { throw truncated("long", start) }
            return .long(Int16(bitPattern: v))
        case 17:
            guard let v = r.readUInt8() else { throw truncated("unsigned", start) }
            return .unsigned(v)
        case 18:
            guard let v = r.readUInt16() else { throw truncated("long-unsigned", start) }
            return .longUnsigned(v)
        case 19:
            let desc = try decodeTypeDescription(&r, depth: depth + 1)
            guard let n = r.readAXDRLength(), let content = r.readSlice(n) else {
                throw truncated("compact-array contents", start)
            }
            var cr = ByteReader(content)
            var elements: [DataValue] = []
            while !cr.isAtEnd {
                elements.append(try decodeTyped(desc, &cr, depth: depth + 1))
            }
            return .compactArray(description: desc, elements: elements)
        case 20:
            guard let v = r.readUInt64() else { throw truncated("long64", start) }
            return .long64(Int64(bitPattern: v))
        case 21:
            guard let v = r.readUInt64() else { throw truncated("long64-unsigned", start) }
            return .long64Unsigned(v)
        case 22:
            guard let v = r.readUInt8() else { throw truncated("enum", start) }
            return .enumValue(v)
        case 23:
            guard let v = r.readUInt32() else { throw truncated("float32", start) }
            return .float32(Float(bitPattern: v))
        case 24:
            guard let v = r.readUInt64() else { throw truncated("float64", start) }
            return .float64(Double(bitPattern: v))
        case 25:
            guard let s = r.readSlice(12) else { throw truncated("date-time", start) }
            return .dateTime(Array(s))
        case 26:
            guard let s = r.readSlice(5) else { throw truncated("date", start) }
            return .date(Array(s))
        case 27:
            guard let s = r.readSlice(4) else { throw truncated("time", start) }
            return .time(Array(s))
        case 255: return .dontCare
        default:
            throw DecodeError("axdr.unknown-type", "unknown data type tag \(tag)", offset: start)
        }
    }

    public static func decodeTypeDescription(_ r: inout ByteReader, depth: Int) throws(DecodeError)
        -> TypeDescription
    {
        let start = r.offset
        guard depth <= maximumDepth else {
            throw DecodeError("axdr.too-deep", "type description nested too deeply", offset: start)
        }
        guard let tag = r.readUInt8() else { throw truncated("type description", start) }
        switch tag {
        case 1:
            guard let n = r.readUInt16() else { throw truncated("array type description", start) }
            return .array(count: Int(n), element: try decodeTypeDescription(&r, depth: depth + 1))
        case 2:
            guard let n = r.readAXDRLength(), n <= r.remaining else {
                throw truncated("structure type description", start)
            }
            var items: [TypeDescription] = []
            for _ in 0..<n { items.append(try decodeTypeDescription(&r, depth: depth + 1)) }
            return .structure(items)
        default:
            guard DataValue.typeName(tag: tag) != nil, tag != 19 else {
                throw DecodeError("axdr.unknown-type", "unknown type \(tag) in type description", offset: start)
            }
            return .simple(tag)
        }
    }

    /// Decodes one compact-array element whose type is given by `desc` (no tags on the wire).
    public static func decodeTyped(_ desc: TypeDescription, _ r: inout ByteReader, depth: Int) throws(DecodeError)
        -> DataValue
    {
        guard depth <= maximumDepth else {
            throw DecodeError("axdr.too-deep", "compact-array nested too deeply", offset: r.offset)
        }
        switch desc {
        case .array(let count, let element):
            guard count <= r.remaining || count == 0 else { throw truncated("compact-array element", r.offset) }
            var items: [DataValue] = []
            for _ in 0..<count { items.append(try decodeTyped(element, &r, depth: depth + 1)) }
            return .array(items)
        case .structure(let descs):
            var items: [DataValue] = []
            for d in descs { items.append(try decodeTyped(d, &r, depth: depth + 1)) }
            return .structure(items)
        case .simple(let tag):
            // Re-use the tagged decoder on a one-byte tag followed by the untagged content.
            if tag == 0 { return .nullData }
            if tag == 255 { return .dontCare }
            var tagged = [tag]
            let save = r
            // Content length is fixed or length-prefixed; read it through a reader that sees the tag first.
            let fixed: Int? = switch tag {
            case 3, 13, 15, 17, 22: 1
            case 16, 18: 2
            case 5, 6, 23: 4
            case 20, 21, 24: 8
            case 25: 12
            case 26: 5
            case 27: 4
            default: nil
            }
            if let f = fixed {
                guard let s = r.readSlice(f) else { throw truncated("compact-array element", save.offset) }
                tagged.append(contentsOf: s)
            } else {
                // octet-string, visible-string, utf8-string, bit-string: length-prefixed
                guard let n = r.readAXDRLength() else { throw truncated("compact-array element", save.offset) }
                let nbytes = tag == 4 ? (n + 7) / 8 : n
                guard let s = r.readSlice(nbytes) else { throw truncated("compact-array element", save.offset) }
                tagged.append(contentsOf: lengthBytes(n))
                tagged.append(contentsOf: s)
            }
            var tr = ByteReader(tagged)
            return try decodeData(&tr, depth: depth)
        }
    }

    static func lengthBytes(_ n: Int) -> [UInt8] {
        if n < 0x80 { return [UInt8(n)] }
        if n <= 0xFF { return [0x81, UInt8(n)] }
        if n <= 0xFFFF { return [0x82, UInt8(n >> 8), UInt8(n & 0xFF)] }
        return [0x84, UInt8(truncatingIfNeeded: n >> 24), UInt8(truncatingIfNeeded: n >> 16),
                UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)]
    }

    static func truncated(_ what: String, _ offset: Int) -> DecodeError {
        DecodeError("axdr.truncated", "\(what) cut short", offset: offset)
    }
}
