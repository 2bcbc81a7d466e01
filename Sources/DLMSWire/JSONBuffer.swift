/// A small append-only JSON writer (no Foundation, no intermediate dictionaries): renderers stream straight into
/// it. Keys and string values are escaped per RFC 8259.
public struct JSONBuffer: Sendable {
    public var bytes: [UInt8] = []
    /// true when the next item in the current container needs a leading comma.
    @usableFromInline var needsComma: [Bool] = [false]

    public init(capacity: Int = 1024) { bytes.reserveCapacity(capacity) }

    public var string: String { String(decoding: bytes, as: UTF8.self) }

    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = [false]
    }

    @inlinable mutating func separator() {
        if needsComma[needsComma.count - 1] { bytes.append(UInt8(ascii: ",")) }
        needsComma[needsComma.count - 1] = true
    }

    public mutating func beginObject() { separator(); bytes.append(UInt8(ascii: "{")); needsComma.append(false) }
    public mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma.removeLast() }
    public mutating func beginArray() { separator(); bytes.append(UInt8(ascii: "[")); needsComma.append(false) }
    public mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma.removeLast() }

    /// Writes `"key":` inside an object; the value written next belongs to it.
    public mutating func key(_ k: String) {
        separator()
        appendQuoted(k)
        bytes.append(UInt8(ascii: ":"))
        needsComma[needsComma.count - 1] = false
    }

    public mutating func string(_ s: String) { separator(); appendQuoted(s) }
    public mutating func int<T: BinaryInteger>(_ v: T) {
        separator()
        if let small = Int64(exactly: v) {
            appendDecimal(small)
        } else {
            bytes.append(contentsOf: String(v).utf8)
        }
    }

    /// Decimal digits straight into the buffer (no String, no temporary array: this runs for every integer of a
    /// profile buffer).
    @usableFromInline mutating func appendDecimal(_ v: Int64) {
        var magnitude = v.magnitude
        if v < 0 { bytes.append(UInt8(ascii: "-")) }
        var digits = 1
        var m = magnitude
        while m >= 10 {
            m /= 10
            digits += 1
        }
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digits))
        bytes.withUnsafeMutableBufferPointer { p in
            var i = start + digits
            repeat {
                i -= 1
                p[i] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
        }
    }
    public mutating func bool(_ v: Bool) { separator(); bytes.append(contentsOf: (v ? "true" : "false").utf8) }
    public mutating func null() { separator(); bytes.append(contentsOf: "null".utf8) }
    public mutating func double(_ v: Double) {
        separator()
        if v.isFinite {
            bytes.append(contentsOf: "\(v)".utf8)
        } else {
            appendQuoted(v.isNaN ? "NaN" : (v < 0 ? "-Infinity" : "Infinity"))
        }
    }
    public mutating func hex<C: Collection>(_ b: C) where C.Element == UInt8 {
        hex(Array(b)[...])
    }

    public mutating func hex(_ b: [UInt8]) { hex(b[...]) }

    /// Lower-case hex in quotes, written straight into the buffer (the hot path of every record).
    public mutating func hex(_ b: ArraySlice<UInt8>) {
        separator()
        let n = b.count
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "\""), count: n * 2 + 2))
        bytes.withUnsafeMutableBufferPointer { dst in
            b.withUnsafeBufferPointer { src in
                Hex.lower.withUnsafeBufferPointer { table in
                    var o = start + 1
                    for x in src {
                        dst[o] = table[Int(x >> 4)]
                        dst[o + 1] = table[Int(x & 0x0F)]
                        o += 2
                    }
                }
            }
        }
    }

    /// Inserts already-serialised JSON as one value.
    public mutating func raw(_ json: String) { separator(); bytes.append(contentsOf: json.utf8) }

    public mutating func field(_ k: String, _ s: String) { key(k); string(s) }
    public mutating func field<T: BinaryInteger>(_ k: String, _ v: T) { key(k); int(v) }
    public mutating func field(_ k: String, _ v: Bool) { key(k); bool(v) }

    @usableFromInline mutating func appendQuoted(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        // Fast path: most keys and values need no escaping and are stored contiguously.
        var str = s
        let done: Bool = str.withUTF8 { u in
            for c in u where c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c == 0x7F {
                return false
            }
            bytes.append(contentsOf: u)
            return true
        }
        if done {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\\")); bytes.append(c)
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(c)
            case 0x0A: bytes.append(contentsOf: "\\n".utf8)
            case 0x0D: bytes.append(contentsOf: "\\r".utf8)
            case 0x09: bytes.append(contentsOf: "\\t".utf8)
            case 0..<0x20, 0x7F:
                bytes.append(contentsOf: "\\u00".utf8)
                bytes.append(Hex.upper[Int(c >> 4)])
                bytes.append(Hex.upper[Int(c & 0xF)])
            default: bytes.append(c)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
