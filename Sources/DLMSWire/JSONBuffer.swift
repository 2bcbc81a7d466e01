/// A small append-only JSON writer (no Foundation, no intermediate dictionaries): renderers stream straight into
/// it. Keys and string values are escaped per RFC 8259.
///
/// Speed: JSON Lines output is 2-3 kB per APDU (profile buffers), so every primitive here runs millions of times.
/// The bytes live in a zero-filled array used up to `count` (`storage.count` is the capacity), so each primitive
/// reserves room once and writes through one unsafe pointer instead of appending byte by byte; the "needs a comma"
/// state of the open containers is a bit stack (`commaBits`, bit 0 = innermost), not an array.
public struct JSONBuffer: Sendable {
    /// Zero-filled; bytes `0..<count` are the output.
    @usableFromInline var storage: [UInt8]
    /// Bytes written.
    @usableFromInline var used = 0
    public var count: Int { used }
    /// Bit 0: the innermost open container needs a comma before its next item; bit k: the container k levels out.
    @usableFromInline var commaBits: UInt64 = 0
    /// Open containers.
    @usableFromInline var depth = 0
    /// Bits pushed out of `commaBits` by nesting deeper than 64 levels.
    @usableFromInline var spilled: [Bool] = []

    public init(capacity: Int = 1024) { storage = [UInt8](repeating: 0, count: Swift.max(capacity, 64)) }

    /// The output (a copy).
    public var bytes: [UInt8] { Array(storage[0..<count]) }

    /// The output without copying it.
    public func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[0..<count])) }
    }

    public var string: String { withBytes { String(decoding: $0, as: UTF8.self) } }

    public mutating func reset() {
        used = 0
        commaBits = 0
        depth = 0
        spilled.removeAll()
    }

    // MARK: - Raw writing

    /// Makes room for `n` more bytes.
    @inlinable @inline(__always) mutating func reserve(_ n: Int) {
        if used + n > storage.count { grow(n) }
    }

    @usableFromInline mutating func grow(_ n: Int) {
        let capacity = Swift.max(storage.count * 2, used + n)
        storage.append(contentsOf: repeatElement(0, count: capacity - storage.count))
    }

    /// Runs `body` with a pointer to the output at the write position; `body` writes at most the `n` bytes
    /// reserved and returns how many it wrote.
    @inlinable @inline(__always) mutating func write(upTo n: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        reserve(n)
        let at = used
        let written = storage.withUnsafeMutableBufferPointer { p -> Int in
            guard let base = p.baseAddress else { return 0 }
            return body(base + at)
        }
        used = at + written
    }

    @inlinable @inline(__always) mutating func put(_ b: UInt8) {
        write(upTo: 1) { p in p[0] = b; return 1 }
    }

    /// Appends bytes as they are.
    @inlinable mutating func put(_ src: UnsafeBufferPointer<UInt8>) {
        let n = src.count
        guard n > 0, let s = src.baseAddress else { return }
        write(upTo: n) { p in
            p.update(from: s, count: n)
            return n
        }
    }

    // MARK: - Structure

    /// Writes the comma the next item needs, and marks the container as having an item.
    @inlinable @inline(__always) mutating func separator() {
        if commaBits & 1 != 0 { put(UInt8(ascii: ",")) }
        commaBits |= 1
    }

    @inlinable @inline(__always) mutating func open(_ c: UInt8) {
        separator()
        put(c)
        if depth >= 63 { spilled.append(commaBits >> 63 != 0) }
        commaBits <<= 1
        depth += 1
    }

    @inlinable @inline(__always) mutating func close(_ c: UInt8) {
        put(c)
        guard depth > 0 else { return }
        depth -= 1
        commaBits >>= 1
        if depth >= 63, let top = spilled.popLast(), top { commaBits |= 1 << 63 }
    }

    @inlinable public mutating func beginObject() { open(UInt8(ascii: "{")) }

    /// Opens an object and writes its first members from an already-serialised fragment (`"type":"enum"`, or
    /// `"type":"enum","value":` when `endsWithKey`, after which the next value written is that key's): one copy
    /// instead of a key and a string escaped one by one. The fragment must be valid JSON members.
    @inlinable public mutating func beginObject(members fragment: StaticString, endsWithKey: Bool) {
        open(UInt8(ascii: "{"))
        put(UnsafeBufferPointer(start: fragment.utf8Start, count: fragment.utf8CodeUnitCount))
        if endsWithKey { commaBits &= ~1 } else { commaBits |= 1 }
    }
    @inlinable public mutating func endObject() { close(UInt8(ascii: "}")) }
    @inlinable public mutating func beginArray() { open(UInt8(ascii: "[")) }
    @inlinable public mutating func endArray() { close(UInt8(ascii: "]")) }

    /// Writes `"key":` inside an object; the value written next belongs to it.
    public mutating func key(_ k: String) {
        separator()
        appendQuoted(k, suffix: UInt8(ascii: ":"))
        commaBits &= ~1
    }

    /// `key` for a literal name (every fixed member name of the contract): copied as it is, no escaping check.
    /// The name must need no escaping (snake_case names never do).
    @inlinable @inline(__always) public mutating func key(literal k: StaticString) {
        separator()
        let n = k.utf8CodeUnitCount
        let src = k.utf8Start
        write(upTo: n + 3) { p in
            p[0] = UInt8(ascii: "\"")
            (p + 1).update(from: src, count: n)
            p[n + 1] = UInt8(ascii: "\"")
            p[n + 2] = UInt8(ascii: ":")
            return n + 3
        }
        commaBits &= ~1
    }

    @inlinable public mutating func field(literal k: StaticString, _ s: String) { key(literal: k); string(s) }
    @inlinable public mutating func field<T: BinaryInteger>(literal k: StaticString, _ v: T) {
        key(literal: k)
        int(v)
    }
    @inlinable public mutating func field(literal k: StaticString, _ v: Bool) { key(literal: k); bool(v) }

    /// Members written from a serialised fragment inside an open object (`"kind":"date-time"`; `endsWithKey`
    /// when it ends with `"key":` whose value comes next).
    @inlinable public mutating func members(_ fragment: StaticString, endsWithKey: Bool) {
        separator()
        put(UnsafeBufferPointer(start: fragment.utf8Start, count: fragment.utf8CodeUnitCount))
        if endsWithKey { commaBits &= ~1 }
    }

    /// A string value whose bytes `body` writes in place (at most `maxLength`, none needing an escape: formatted
    /// numbers, dates); `body` returns how many it wrote.
    @inlinable public mutating func unescapedString(maxLength: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        separator()
        write(upTo: maxLength + 2) { p in
            p[0] = UInt8(ascii: "\"")
            let n = Swift.min(Swift.max(body(p + 1), 0), maxLength)
            p[n + 1] = UInt8(ascii: "\"")
            return n + 2
        }
    }

    // MARK: - Values

    @inlinable public mutating func string(_ s: String) { separator(); appendQuoted(s) }

    @inlinable public mutating func int<T: BinaryInteger>(_ v: T) {
        separator()
        if let small = Int64(exactly: v) {
            appendDecimal(small)
        } else {
            var s = String(v)
            s.withUTF8 { put($0) }
        }
    }

    /// Decimal digits straight into the buffer (no String, no temporary array: this runs for every integer of a
    /// profile buffer).
    @usableFromInline mutating func appendDecimal(_ v: Int64) {
        var magnitude = v.magnitude
        var digits = 1
        var m = magnitude
        while m >= 10 {
            m /= 10
            digits += 1
        }
        let negative = v < 0
        write(upTo: digits + 1) { p in
            var i = digits + (negative ? 1 : 0)
            let n = i
            if negative { p[0] = UInt8(ascii: "-") }
            repeat {
                i -= 1
                p[i] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            return n
        }
    }

    /// A capture time as its RFC 3339 string (`Timestamp.rfc3339`), written in place.
    public mutating func timestamp(_ t: Timestamp) {
        var fast = false
        let n = Timestamp.rfc3339Length
        separator()
        write(upTo: n + 2) { p in
            guard t.writeRFC3339(p + 1) else { return 0 }
            p[0] = UInt8(ascii: "\"")
            p[n + 1] = UInt8(ascii: "\"")
            fast = true
            return n + 2
        }
        if !fast { appendQuoted(t.rfc3339) }
    }

    @inlinable public mutating func bool(_ v: Bool) { separator(); appendASCII(v ? "true" : "false") }
    @inlinable public mutating func null() { separator(); appendASCII("null") }

    public mutating func double(_ v: Double) {
        separator()
        if v.isFinite {
            var s = "\(v)"
            s.withUTF8 { put($0) }
        } else {
            appendQuoted(v.isNaN ? "NaN" : (v < 0 ? "-Infinity" : "Infinity"))
        }
    }

    public mutating func hex<C: Collection>(_ b: C) where C.Element == UInt8 {
        if let done: Void = b.withContiguousStorageIfAvailable({ hex($0) }) { return done }
        hex(Array(b)[...])
    }

    public mutating func hex(_ b: [UInt8]) { b.withUnsafeBufferPointer { hex($0) } }

    /// Lower-case hex in quotes, written straight into the buffer (the hot path of every record).
    public mutating func hex(_ b: ArraySlice<UInt8>) { b.withUnsafeBufferPointer { hex($0) } }

    public mutating func hex(_ src: UnsafeBufferPointer<UInt8>) {
        separator()
        let n = src.count
        write(upTo: n * 2 + 2) { p in
            // 256-entry pair table: one load per byte instead of two nibble lookups.
            Self.hexPairs.withUnsafeBufferPointer { table in
                p[0] = UInt8(ascii: "\"")
                var o = 1
                for x in src {
                    let pair = table[Int(x)]
                    p[o] = UInt8(truncatingIfNeeded: pair >> 8)
                    p[o + 1] = UInt8(truncatingIfNeeded: pair)
                    o += 2
                }
                p[o] = UInt8(ascii: "\"")
            }
            return n * 2 + 2
        }
    }

    /// Lower-case hex digit pairs of 0...255, high digit in the high byte.
    @usableFromInline static let hexPairs: [UInt16] = (0..<256).map { (i: Int) -> UInt16 in
        let digits = Array("0123456789abcdef".utf8)
        return UInt16(digits[i >> 4]) << 8 | UInt16(digits[i & 0x0F])
    }

    /// Inserts already-serialised JSON as one value.
    public mutating func raw(_ json: String) {
        separator()
        var s = json
        s.withUTF8 { put($0) }
    }

    public mutating func field(_ k: String, _ s: String) { key(k); string(s) }
    @inlinable public mutating func field<T: BinaryInteger>(_ k: String, _ v: T) { key(k); int(v) }
    public mutating func field(_ k: String, _ v: Bool) { key(k); bool(v) }

    // MARK: - Strings

    @usableFromInline mutating func appendASCII(_ s: StaticString) {
        put(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// True when one of the 8 bytes of `x` must be escaped in a JSON string: below 0x20, `"`, `\\` or DEL.
    /// SWAR tests (Hacker's Delight §6.1 "find a byte less than n" / "find a zero byte", exact for "is there any").
    @inlinable @inline(__always) static func needsEscape(_ x: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let control = (x &- ones &* 0x20) & ~x & highs
        let q = x ^ (ones &* 0x22)
        let b = x ^ (ones &* 0x5C)
        let d = x ^ (ones &* 0x7F)
        let special = ((q &- ones) & ~q | (b &- ones) & ~b | (d &- ones) & ~d) & highs
        return control | special != 0
    }

    @inlinable @inline(__always) static func needsEscape(_ c: UInt8) -> Bool {
        c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c == 0x7F
    }

    /// `"s"` (escaped), then `suffix` if given.
    @usableFromInline mutating func appendQuoted(_ s: String, suffix: UInt8? = nil) {
        var str = s
        // Fast path: most keys and values need no escaping; they are checked 8 bytes at a time, then copied.
        let done: Bool = str.withUTF8 { u in
            let n = u.count
            guard let src = u.baseAddress else {
                write(upTo: 3) { p in
                    p[0] = UInt8(ascii: "\"")
                    p[1] = UInt8(ascii: "\"")
                    if let x = suffix { p[2] = x; return 3 }
                    return 2
                }
                return true
            }
            var i = 0
            while i + 8 <= n {
                if Self.needsEscape(UnsafeRawPointer(src + i).loadUnaligned(as: UInt64.self)) { return false }
                i += 8
            }
            while i < n {
                if Self.needsEscape(src[i]) { return false }
                i += 1
            }
            write(upTo: n + 3) { p in
                p[0] = UInt8(ascii: "\"")
                (p + 1).update(from: src, count: n)
                p[n + 1] = UInt8(ascii: "\"")
                if let x = suffix {
                    p[n + 2] = x
                    return n + 3
                }
                return n + 2
            }
            return true
        }
        if done { return }
        put(UInt8(ascii: "\""))
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): put(UInt8(ascii: "\\")); put(c)
            case UInt8(ascii: "\\"): put(UInt8(ascii: "\\")); put(c)
            case 0x0A: appendASCII("\\n")
            case 0x0D: appendASCII("\\r")
            case 0x09: appendASCII("\\t")
            case 0..<0x20, 0x7F:
                appendASCII("\\u00")
                put(Hex.upper[Int(c >> 4)])
                put(Hex.upper[Int(c & 0xF)])
            default: put(c)
            }
        }
        put(UInt8(ascii: "\""))
        if let x = suffix { put(x) }
    }
}
