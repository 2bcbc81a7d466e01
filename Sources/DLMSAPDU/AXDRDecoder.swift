import DLMSWire

/// Decodes and encodes A-XDR `Data` (IEC 62056-6-2 §4.1.5, Blue Book "Data ::= CHOICE").
///
/// Total on hostile input: every length is checked against the bytes left before anything is allocated, nesting is
/// bounded by `maximumDepth`, and a compact-array's type description cannot make the decoder produce more values than
/// there are input bytes (descriptions of zero-width elements are rejected where they would repeat). Simple values
/// are decoded straight from the reader by `decodeContent(tag:_:)`, shared by the tagged and the compact-array path.
public enum AXDR {
    /// Deepest array/structure nesting accepted (real profile buffers nest 3-4 levels).
    public static let maximumDepth = 32

    // MARK: - Tagged data

    /// Decodes one tagged `Data` value. Throws `axdr.truncated`, `axdr.bad-length`, `axdr.bad-count`,
    /// `axdr.unknown-type`, `axdr.too-deep`, `axdr.bad-type-description` or `axdr.bad-compact-array`; `offset` is
    /// the reader's offset of the value (or of the part) that is wrong.
    public static func decodeData(_ r: inout ByteReader, depth: Int = 0) throws(DecodeError) -> DataValue {
        let start = r.offset
        guard depth <= maximumDepth else {
            throw DecodeError("axdr.too-deep", "data nested deeper than \(maximumDepth) levels", offset: start)
        }
        guard let tag = r.readUInt8() else { throw truncated("data tag", start) }
        switch tag {
        case 1, 2:
            let n = try length(&r, "element count", start)
            // Every element takes at least one byte (its tag): a count above the bytes left is malformed, not a
            // reason to reserve memory.
            guard n <= r.remaining else {
                throw DecodeError("axdr.bad-count", "\(n) elements announced, \(r.remaining) bytes left",
                                  offset: start)
            }
            var items: [DataValue] = []
            items.reserveCapacity(n)
            for _ in 0..<n { items.append(try decodeData(&r, depth: depth + 1)) }
            return tag == 1 ? .array(items) : .structure(items)
        case 19:
            return try decodeCompactArray(&r, start: start, depth: depth)
        default:
            return try decodeContent(tag: tag, &r, start: start)
        }
    }

    /// Decodes a whole buffer as exactly one `Data` value; bytes after it are `axdr.trailing-bytes`.
    public static func decodeData(_ bytes: ArraySlice<UInt8>) throws(DecodeError) -> DataValue {
        var r = ByteReader(bytes)
        let v = try decodeData(&r)
        guard r.isAtEnd else {
            throw DecodeError("axdr.trailing-bytes", "\(r.remaining) bytes after the data value", offset: r.offset)
        }
        return v
    }

    /// The content of a simple (non-container) type whose tag has been read already. Used for tagged data and for
    /// compact-array elements (where the tag comes from the type description).
    @inline(__always)
    static func decodeContent(tag: UInt8, _ r: inout ByteReader, start: Int) throws(DecodeError) -> DataValue {
        switch tag {
        case 0: return .nullData
        case 3:
            guard let b = r.readUInt8() else { throw truncated("boolean", start) }
            return .boolean(b != 0)
        case 4:
            let bits = try length(&r, "bit-string length", start)
            let nbytes = bits / 8 + (bits % 8 == 0 ? 0 : 1)
            guard let s = r.readSlice(nbytes) else { throw truncated("bit-string", start) }
            return .bitString(bytes: Array(s), count: bits)
        case 5:
            guard let v = r.readUInt32() else { throw truncated("double-long", start) }
            return .doubleLong(Int32(bitPattern: v))
        case 6:
            guard let v = r.readUInt32() else { throw truncated("double-long-unsigned", start) }
            return .doubleLongUnsigned(v)
        case 9, 10, 12:
            let n = try length(&r, "string length", start)
            guard let s = r.readSlice(n) else { throw truncated(DataValue.typeName(tag: tag) ?? "string", start) }
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

    // MARK: - Validation without values

    /// Checks one tagged `Data` value and moves past it without building it: the same checks, in the same order,
    /// as `decodeData(_:depth:)`, so it throws the same error (code, message, offset) where that would, and leaves
    /// the reader where that would. For data decoded only if a renderer shows it (reassembled block transfers).
    public static func skipData(_ r: inout ByteReader, depth: Int = 0) throws(DecodeError) {
        let start = r.offset
        guard depth <= maximumDepth else {
            throw DecodeError("axdr.too-deep", "data nested deeper than \(maximumDepth) levels", offset: start)
        }
        guard let tag = r.readUInt8() else { throw truncated("data tag", start) }
        switch tag {
        case 1, 2:
            let n = try length(&r, "element count", start)
            guard n <= r.remaining else {
                throw DecodeError("axdr.bad-count", "\(n) elements announced, \(r.remaining) bytes left",
                                  offset: start)
            }
            let inner = depth + 1
            for _ in 0..<n {
                // Fast path for the common leaves (fixed-width values, short octet-strings) of a well-formed
                // buffer; anything else, and any leaf that does not fit, takes the full path and its error.
                if inner <= maximumDepth, let t = r.peekUInt8() {
                    if let w = fixedWidth(t), r.skip(1 + w) { continue }
                    if t == 9 || t == 10 || t == 12, let len = r.peekUInt8(at: 1), len < 0x80, r.skip(2 + Int(len)) {
                        continue
                    }
                }
                try skipData(&r, depth: inner)
            }
        case 19:
            try skipCompactArray(&r, start: start, depth: depth)
        default:
            try skipContent(tag: tag, &r, start: start)
        }
    }

    /// Where one tagged `Data` value starting at `start` ends, found by a quick walk over the common shapes of
    /// profile buffers (arrays, structures, fixed-width values, strings, bit-strings): iterative, on array
    /// indices, one small allocation. Returns nil when the data is malformed or holds anything else (a compact
    /// array, an unknown tag, nesting past `maximumDepth`): only `skipData` tells what is wrong, so callers run it
    /// then. Where this returns an end, `skipData` and `decodeData` succeed and stop at the same offset.
    public static func quickEnd(of data: [UInt8], from start: Int = 0) -> Int? {
        let n = data.count
        guard start >= 0, start <= n else { return nil }
        // Values left to read at the current depth (depth 0: the value itself); those of the enclosing depths
        // wait in `outer` while a nested container is read.
        var outer = [Int](repeating: 0, count: maximumDepth + 2)
        var depth = 0
        var left = 1
        var i = start
        while true {
            // The values left at this depth, read in one run (depth is checked where it grows: decodeData(depth:)
            // refuses any value deeper than maximumDepth, and a container entered here holds at least one).
            while left > 0 {
                left -= 1
                guard i < n else { return nil }
                let tag = data[i]
                i += 1
                if let w = fixedWidth(tag) {
                    guard w <= n - i else { return nil }
                    i += w
                    continue
                }
                guard tag == 1 || tag == 2 || tag == 4 || tag == 9 || tag == 10 || tag == 12, i < n else {
                    return nil
                }
                // A-XDR length: one byte below 0x80, else 0x81...0x84 and that many big-endian bytes.
                var len = Int(data[i])
                i += 1
                if len >= 0x80 {
                    let k = len & 0x7F
                    guard k >= 1, k <= 4, k <= n - i else { return nil }
                    len = 0
                    for _ in 0..<k {
                        len = len << 8 | Int(data[i])
                        i += 1
                    }
                }
                if tag <= 2 {
                    guard len <= n - i else { return nil }
                    if len > 0 {
                        guard depth < maximumDepth else { return nil }
                        outer[depth] = left
                        depth += 1
                        left = len
                    }
                } else {
                    let bytes = tag == 4 ? len / 8 + (len % 8 == 0 ? 0 : 1) : len
                    guard bytes <= n - i else { return nil }
                    i += bytes
                }
            }
            if depth == 0 { return i }
            depth -= 1
            left = outer[depth]
        }
    }

    /// `decodeContent(tag:_:start:)` without the value: same bytes consumed, same errors.
    @inline(__always)
    static func skipContent(tag: UInt8, _ r: inout ByteReader, start: Int) throws(DecodeError) {
        if let w = fixedWidth(tag) {
            guard r.skip(w) else { throw truncated(DataValue.typeName(tag: tag) ?? "data", start) }
            return
        }
        switch tag {
        case 4:
            let bits = try length(&r, "bit-string length", start)
            let nbytes = bits / 8 + (bits % 8 == 0 ? 0 : 1)
            guard r.skip(nbytes) else { throw truncated("bit-string", start) }
        case 9, 10, 12:
            let n = try length(&r, "string length", start)
            guard r.skip(n) else { throw truncated(DataValue.typeName(tag: tag) ?? "string", start) }
        default:
            throw DecodeError("axdr.unknown-type", "unknown data type tag \(tag)", offset: start)
        }
    }

    /// `decodeCompactArray` without the elements (the type description is still decoded: it is small).
    static func skipCompactArray(_ r: inout ByteReader, start: Int, depth: Int) throws(DecodeError) {
        let desc = try decodeTypeDescription(&r, depth: depth + 1)
        let n = try length(&r, "compact-array contents length", start)
        guard let content = r.readSlice(n) else { throw truncated("compact-array contents", start) }
        var cr = ByteReader(content)
        let width = minimumWidth(desc)
        guard width > 0 else {
            if content.isEmpty { return }
            throw DecodeError("axdr.bad-compact-array",
                              "elements of this type description take no bytes, but \(n) content bytes follow",
                              offset: start)
        }
        while !cr.isAtEnd { try skipTyped(desc, &cr, depth: depth + 1) }
    }

    /// `decodeTyped` without the value.
    static func skipTyped(_ desc: TypeDescription, _ r: inout ByteReader, depth: Int) throws(DecodeError) {
        let start = r.offset
        guard depth <= maximumDepth else {
            throw DecodeError("axdr.too-deep", "compact-array nested too deeply", offset: start)
        }
        switch desc {
        case .simple(let tag):
            try skipContent(tag: tag, &r, start: start)
        case .array(let count, let element):
            let width = minimumWidth(element)
            guard count == 0 || width > 0 else {
                throw DecodeError("axdr.bad-type-description", "array of \(count) elements that take no bytes",
                                  offset: start)
            }
            guard count <= r.remaining / max(width, 1) else { throw truncated("compact-array element", start) }
            for _ in 0..<count { try skipTyped(element, &r, depth: depth + 1) }
        case .structure(let descs):
            for d in descs { try skipTyped(d, &r, depth: depth + 1) }
        }
    }

    // MARK: - Compact array

    ///     compact-array ::= SEQUENCE { contents-description [0] TypeDescription,
    ///                                  array-contents [1] IMPLICIT OCTET STRING }
    ///
    /// The contents are the untagged elements back to back (IEC 62056-6-2 §4.1.6.2; Gurux `GXCommon.getCompactArray`
    /// reads them the same way).
    static func decodeCompactArray(_ r: inout ByteReader, start: Int, depth: Int) throws(DecodeError) -> DataValue {
        let desc = try decodeTypeDescription(&r, depth: depth + 1)
        let n = try length(&r, "compact-array contents length", start)
        guard let content = r.readSlice(n) else { throw truncated("compact-array contents", start) }
        var cr = ByteReader(content)
        let width = minimumWidth(desc)
        guard width > 0 else {
            if content.isEmpty { return .compactArray(description: desc, elements: []) }
            throw DecodeError("axdr.bad-compact-array",
                              "elements of this type description take no bytes, but \(n) content bytes follow",
                              offset: start)
        }
        var elements: [DataValue] = []
        elements.reserveCapacity(n / width)
        while !cr.isAtEnd {
            elements.append(try decodeTyped(desc, &cr, depth: depth + 1))
        }
        return .compactArray(description: desc, elements: elements)
    }

    ///     TypeDescription ::= CHOICE { null-data [0] IMPLICIT NULL,
    ///       array [1] IMPLICIT SEQUENCE { number-of-elements Unsigned16, type-description TypeDescription },
    ///       structure [2] IMPLICIT SEQUENCE OF TypeDescription, boolean [3] IMPLICIT NULL, ... }
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
            let n = try length(&r, "structure type description", start)
            guard n <= r.remaining else {
                throw DecodeError("axdr.bad-count", "structure of \(n) types announced, \(r.remaining) bytes left",
                                  offset: start)
            }
            var items: [TypeDescription] = []
            items.reserveCapacity(n)
            for _ in 0..<n { items.append(try decodeTypeDescription(&r, depth: depth + 1)) }
            return .structure(items)
        default:
            guard tag != 19, DataValue.typeName(tag: tag) != nil else {
                throw DecodeError("axdr.bad-type-description", "type \(tag) not allowed in a type description",
                                  offset: start)
            }
            return .simple(tag)
        }
    }

    /// The fewest content bytes one element of `desc` takes (length-prefixed types at least their length byte).
    /// Saturates instead of overflowing.
    public static func minimumWidth(_ desc: TypeDescription) -> Int {
        switch desc {
        case .simple(let tag):
            return fixedWidth(tag) ?? (tag == 0 || tag == 255 ? 0 : 1)
        case .array(let count, let element):
            let (p, o) = count.multipliedReportingOverflow(by: minimumWidth(element))
            return o ? Int.max : p
        case .structure(let items):
            var total = 0
            for d in items {
                let (s, o) = total.addingReportingOverflow(minimumWidth(d))
                total = o ? Int.max : s
            }
            return total
        }
    }

    /// Content width of fixed-size simple types; nil for length-prefixed ones (and for null/dont-care, 0).
    @inline(__always)
    static func fixedWidth(_ tag: UInt8) -> Int? {
        switch tag {
        case 0, 255: 0
        case 3, 13, 15, 17, 22: 1
        case 16, 18: 2
        case 5, 6, 23: 4
        case 20, 21, 24: 8
        case 25: 12
        case 26: 5
        case 27: 4
        default: nil
        }
    }

    /// Decodes one compact-array element whose type is given by `desc` (no tags on the wire).
    public static func decodeTyped(_ desc: TypeDescription, _ r: inout ByteReader, depth: Int) throws(DecodeError)
        -> DataValue
    {
        let start = r.offset
        guard depth <= maximumDepth else {
            throw DecodeError("axdr.too-deep", "compact-array nested too deeply", offset: start)
        }
        switch desc {
        case .simple(let tag):
            return try decodeContent(tag: tag, &r, start: start)
        case .array(let count, let element):
            // An array of zero-width elements would turn a few description bytes into up to 65535^depth values.
            let width = minimumWidth(element)
            guard count == 0 || width > 0 else {
                throw DecodeError("axdr.bad-type-description", "array of \(count) elements that take no bytes",
                                  offset: start)
            }
            guard count <= r.remaining / max(width, 1) else { throw truncated("compact-array element", start) }
            var items: [DataValue] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try decodeTyped(element, &r, depth: depth + 1)) }
            return .array(items)
        case .structure(let descs):
            var items: [DataValue] = []
            items.reserveCapacity(descs.count)
            for d in descs { items.append(try decodeTyped(d, &r, depth: depth + 1)) }
            return .structure(items)
        }
    }

    // MARK: - Encoding

    /// A-XDR length (minimal form): one byte below 0x80, else 0x81..0x84 and the big-endian count.
    public static func appendLength(_ n: Int, to out: inout [UInt8]) {
        if n < 0x80 {
            out.append(UInt8(n))
        } else if n <= 0xFF {
            out.append(0x81); out.append(UInt8(n))
        } else if n <= 0xFFFF {
            out.append(0x82); out.append(UInt8(n >> 8)); out.append(UInt8(n & 0xFF))
        } else {
            out.append(0x84)
            for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: n >> shift)) }
        }
    }

    static func lengthBytes(_ n: Int) -> [UInt8] {
        var out: [UInt8] = []
        appendLength(n, to: &out)
        return out
    }

    /// An A-XDR length, telling a malformed length form (0x80, or more than 4 length bytes: `axdr.bad-length`)
    /// from one that is cut short (`axdr.truncated`).
    @inline(__always)
    static func length(_ r: inout ByteReader, _ what: String, _ start: Int) throws(DecodeError) -> Int {
        if let n = r.readAXDRLength() { return n }
        if let first = r.peekUInt8(), first == 0x80 || first > 0x84 {
            throw DecodeError("axdr.bad-length", "\(what): length form 0x\(Hex.encode([first])) not allowed",
                              offset: r.offset)
        }
        throw truncated(what, start)
    }

    static func truncated(_ what: String, _ offset: Int) -> DecodeError {
        DecodeError("axdr.truncated", "\(what) cut short", offset: offset)
    }
}

// MARK: - Encoding

extension DataValue {
    /// The A-XDR encoding of the value: the exact inverse of `AXDR.decodeData` for canonical input (minimal
    /// lengths, booleans 0x00/0x01, bit-string padding kept as decoded).
    public func encodeAXDR() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16)
        encodeAXDR(into: &out)
        return out
    }

    public func encodeAXDR(into out: inout [UInt8]) {
        out.append(tag)
        switch self {
        case .array(let items), .structure(let items):
            AXDR.appendLength(items.count, to: &out)
            for v in items { v.encodeAXDR(into: &out) }
        case .compactArray(let desc, let elements):
            desc.encode(into: &out)
            var content: [UInt8] = []
            for e in elements { e.encodeContent(into: &content) }
            AXDR.appendLength(content.count, to: &out)
            out.append(contentsOf: content)
        default:
            encodeContent(into: &out)
        }
    }

    /// The value without its tag (a compact-array element). Containers encode their items untagged too.
    public func encodeContent(into out: inout [UInt8]) {
        switch self {
        case .nullData, .dontCare: break
        case .array(let items), .structure(let items):
            for v in items { v.encodeContent(into: &out) }
        case .compactArray:
            // Not allowed inside a compact-array; encode tagged so nothing is lost.
            encodeAXDR(into: &out)
        case .boolean(let b): out.append(b ? 1 : 0)
        case .bitString(let bytes, let count):
            AXDR.appendLength(count, to: &out)
            out.append(contentsOf: bytes)
        case .doubleLong(let v): appendBE(UInt64(UInt32(bitPattern: v)), 4, &out)
        case .doubleLongUnsigned(let v): appendBE(UInt64(v), 4, &out)
        case .octetString(let b), .visibleString(let b), .utf8String(let b):
            AXDR.appendLength(b.count, to: &out)
            out.append(contentsOf: b)
        case .bcd(let v): out.append(UInt8(bitPattern: v))
        case .integer(let v): out.append(UInt8(bitPattern: v))
        case .long(let v): appendBE(UInt64(UInt16(bitPattern: v)), 2, &out)
        case .unsigned(let v): out.append(v)
        case .longUnsigned(let v): appendBE(UInt64(v), 2, &out)
        case .long64(let v): appendBE(UInt64(bitPattern: v), 8, &out)
        case .long64Unsigned(let v): appendBE(v, 8, &out)
        case .enumValue(let v): out.append(v)
        case .float32(let v): appendBE(UInt64(v.bitPattern), 4, &out)
        case .float64(let v): appendBE(v.bitPattern, 8, &out)
        case .dateTime(let b), .date(let b), .time(let b): out.append(contentsOf: b)
        }
    }
}

@inline(__always)
private func appendBE(_ v: UInt64, _ n: Int, _ out: inout [UInt8]) {
    var shift = (n - 1) * 8
    while shift >= 0 {
        out.append(UInt8(truncatingIfNeeded: v >> UInt64(shift)))
        shift -= 8
    }
}

extension TypeDescription {
    /// The wire form of the description (inverse of `AXDR.decodeTypeDescription`).
    public func encode(into out: inout [UInt8]) {
        switch self {
        case .simple(let tag): out.append(tag)
        case .array(let count, let element):
            out.append(1)
            out.append(UInt8(truncatingIfNeeded: count >> 8))
            out.append(UInt8(truncatingIfNeeded: count))
            element.encode(into: &out)
        case .structure(let items):
            out.append(2)
            AXDR.appendLength(items.count, to: &out)
            for d in items { d.encode(into: &out) }
        }
    }
}
