import DLMSWire

/// A-XDR `Data` written as JSON straight from its bytes: the output of `AXDR.decodeData` followed by
/// `DataValue.writeJSON(into:hint:)`, without the `DataValue` tree (an array per structure, an array per
/// octet-string, freed again right after). For values kept as checked bytes (reassembled block transfers) and
/// rendered once.
///
/// Arrays, structures (with their look-back hints and `scaler_unit`), integers, enums, booleans, nulls and
/// octet-strings (with their OBIS, date-time and text forms) are written from the bytes; every other type (bit-
/// strings, floats, visible/utf8 strings, tagged date/time values, compact arrays) is decoded on its own by the
/// decoder's own code and written by `DataValue`, so it cannot differ. Errors are those of `decodeData`: the same
/// checks in the same order, the same code, message and offset.
extension AXDR {
    /// What the caller of `writeData` learns about the value written: its tag and, for integer types, its value
    /// (`DataValue.integerValue`): enough for the structure hints and `scaler_unit`.
    struct WrittenData {
        var tag: UInt8
        var integer: Int64?
    }

    /// Writes one tagged `Data` value read from `r` as JSON (as `decodeData(&r)` then `writeJSON(into:hint:)`).
    /// Throws what `decodeData` throws; the buffer then holds part of a value (take a `JSONBuffer.mark` before
    /// and roll back to it), and the reader is wherever the error was found.
    public static func writeDataJSON(_ r: inout ByteReader, hint: DataRenderHint = [], into out: inout JSONBuffer)
        throws(DecodeError)
    {
        _ = try writeData(&r, depth: 0, hint: hint, into: &out)
    }

    /// Writes `bytes`, exactly one `Data` value, as JSON; when they are not (`decodeData(_:)` throws: malformed,
    /// or bytes after the value) nothing is written and the error is returned.
    public static func writeDataJSON(_ bytes: ArraySlice<UInt8>, hint: DataRenderHint = [],
                                     into out: inout JSONBuffer) -> DecodeError?
    {
        let m = out.mark
        var r = ByteReader(bytes)
        do {
            try writeDataJSON(&r, hint: hint, into: &out)
        } catch {
            out.rollBack(to: m)
            return error
        }
        guard r.isAtEnd else {
            out.rollBack(to: m)
            return DecodeError("axdr.trailing-bytes", "\(r.remaining) bytes after the data value", offset: r.offset)
        }
        return nil
    }

    /// `decodeData(_:depth:)` with JSON written instead of a value built.
    static func writeData(_ r: inout ByteReader, depth: Int, hint: DataRenderHint, into out: inout JSONBuffer)
        throws(DecodeError) -> WrittenData
    {
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
            // `{"type":"array","items":[` as `writeJSONObject` writes it, in one copy.
            if tag == 1 {
                out.beginObject(members: #""type":"array","items":"#, endsWithKey: true)
                out.beginArray()
                for _ in 0..<n { _ = try writeData(&r, depth: depth + 1, hint: [], into: &out) }
                out.endArray()
                out.endObject()
                return WrittenData(tag: 1, integer: nil)
            }
            out.beginObject(members: #""type":"structure","items":"#, endsWithKey: true)
            out.beginArray()
            // `DataValue.structureHint` looking back instead of at the built items: item i is a logical name when
            // item i-1 is a long-unsigned class id of a known class, or item i-1 an unsigned (a version) and item
            // i-2 such a class id. The hint changes nothing for any item but a 6-byte octet-string, so it is
            // worked out before the item is read. Look-back states: 0 other, 1 unsigned, 2 known class id.
            var previous: UInt8 = 0
            var beforePrevious: UInt8 = 0
            var first: Int64?
            var second = WrittenData(tag: 0, integer: nil)
            for i in 0..<n {
                let itemHint: DataRenderHint =
                    previous == 2 || previous == 1 && i >= 2 && beforePrevious == 2 ? .logicalName : []
                let w = try writeData(&r, depth: depth + 1, hint: itemHint, into: &out)
                beforePrevious = previous
                if w.tag == 17 {
                    previous = 1
                } else if w.tag == 18, let c = w.integer, COSEM.className(UInt16(truncatingIfNeeded: c)) != nil {
                    previous = 2
                } else {
                    previous = 0
                }
                if i == 0 { first = w.integer } else if i == 1 { second = w }
            }
            out.endArray()
            // `ScalerUnit(from:)`: two items, an integer in -128...127 and an enum or unsigned unit.
            if hint.contains(.scalerUnit), n == 2, let s = first, let scaler = Int8(exactly: s),
               second.tag == 22 || second.tag == 17, let u = second.integer
            {
                let unit = UInt8(truncatingIfNeeded: u)
                out.key(literal: "scaler_unit")
                out.beginObject()
                out.field(literal: "scaler", scaler)
                out.field(literal: "unit", unit)
                if let d = COSEM.unit(unit) {
                    out.field(literal: "unit_symbol", d.symbol)
                    out.field(literal: "unit_name", d.name)
                }
                out.endObject()
            }
            out.endObject()
            return WrittenData(tag: 2, integer: nil)
        case 19:
            let v = try decodeCompactArray(&r, start: start, depth: depth)
            v.writeJSON(into: &out, hint: hint)
            return WrittenData(tag: 19, integer: nil)
        default:
            if let w = writeSimple(tag: tag, &r, hint: hint, into: &out) { return w }
            // Another type, or a value cut short: decoded by the decoder itself (same value, same error).
            let v = try decodeContent(tag: tag, &r, start: start)
            v.writeJSON(into: &out, hint: hint)
            return WrittenData(tag: tag, integer: v.integerValue)
        }
    }

    /// The common simple types written from their bytes, as `DataValue.writeJSON(into:hint:)` writes them; nil,
    /// having read and written nothing, for any other type or when the value is cut short.
    @inline(__always)
    static func writeSimple(tag: UInt8, _ r: inout ByteReader, hint: DataRenderHint, into out: inout JSONBuffer)
        -> WrittenData?
    {
        switch tag {
        case 0:
            out.rawValue(#"{"type":"null-data","value":null}"#)
            return WrittenData(tag: 0, integer: nil)
        case 255:
            out.rawValue(#"{"type":"dont-care","value":null}"#)
            return WrittenData(tag: 255, integer: nil)
        case 3:
            guard let b = r.readUInt8() else { return nil }
            if b != 0 {
                out.rawValue(#"{"type":"boolean","value":true}"#)
            } else {
                out.rawValue(#"{"type":"boolean","value":false}"#)
            }
            return WrittenData(tag: 3, integer: nil)
        case 5:
            guard let v = r.readUInt32() else { return nil }
            let x = Int32(bitPattern: v)
            out.scalar(#""type":"double-long","value":"#, x)
            return WrittenData(tag: 5, integer: Int64(x))
        case 6:
            guard let v = r.readUInt32() else { return nil }
            out.scalar(#""type":"double-long-unsigned","value":"#, v)
            return WrittenData(tag: 6, integer: Int64(v))
        case 13:
            guard let v = r.readUInt8() else { return nil }
            let x = Int8(bitPattern: v)
            out.scalar(#""type":"bcd","value":"#, x)
            return WrittenData(tag: 13, integer: Int64(x))
        case 15:
            guard let v = r.readUInt8() else { return nil }
            let x = Int8(bitPattern: v)
            out.scalar(#""type":"integer","value":"#, x)
            return WrittenData(tag: 15, integer: Int64(x))
        case 16:
            guard let v = r.readUInt16() else { return nil }
            let x = Int16(bitPattern: v)
            out.scalar(#""type":"long","value":"#, x)
            return WrittenData(tag: 16, integer: Int64(x))
        case 17:
            guard let v = r.readUInt8() else { return nil }
            out.scalar(#""type":"unsigned","value":"#, v)
            return WrittenData(tag: 17, integer: Int64(v))
        case 18:
            guard let v = r.readUInt16() else { return nil }
            out.scalar(#""type":"long-unsigned","value":"#, v)
            return WrittenData(tag: 18, integer: Int64(v))
        case 20:
            guard let v = r.readUInt64() else { return nil }
            let x = Int64(bitPattern: v)
            out.scalar(#""type":"long64","value":"#, x)
            return WrittenData(tag: 20, integer: x)
        case 21:
            guard let v = r.readUInt64() else { return nil }
            out.scalar(#""type":"long64-unsigned","value":"#, v)
            return WrittenData(tag: 21, integer: Int64(exactly: v))
        case 22:
            guard let v = r.readUInt8() else { return nil }
            out.scalar(#""type":"enum","value":"#, v)
            return WrittenData(tag: 22, integer: Int64(v))
        case 9:
            let save = r
            guard let n = r.readAXDRLength(), let b = r.readSlice(n) else {
                r = save
                return nil
            }
            out.beginObject(members: #""type":"octet-string","value":"#, endsWithKey: true)
            out.hex(b)
            DataValue.writeOctetStringForms(b, hint: hint, into: &out)
            out.endObject()
            return WrittenData(tag: 9, integer: nil)
        default:
            return nil
        }
    }
}
