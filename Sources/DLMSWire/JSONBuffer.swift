/// A small append-only JSON writer (no Foundation, no intermediate dictionaries): renderers stream straight into
/// it. Keys and string values are escaped per RFC 8259.
///
/// Speed: JSON Lines output is 2-3 kB per APDU (profile buffers), so every primitive here runs millions of times.
/// The writer is non-copyable and owns one heap block (`base`, `capacity` bytes, `used` of them written): a
/// primitive reserves room once and writes through the pointer, with no copy-on-write uniqueness check, no
/// retain and no exclusivity check per call. The "needs a comma" state of the open containers is a bit stack
/// (`commaBits`, bit 0 = innermost), not an array; the comma itself is written unconditionally and kept or
/// overwritten (`at(_:)`), which saves a branch per item. Every write stays inside `base ..< base + capacity`:
/// each primitive reserves the most bytes it can write (`at`) before writing.
public struct JSONBuffer: ~Copyable, @unchecked Sendable {
    /// The output: bytes `0..<used` of a block of `capacity` bytes (owned, freed in `deinit`).
    @usableFromInline var base: UnsafeMutablePointer<UInt8>
    @usableFromInline var capacity: Int
    /// Bytes written.
    @usableFromInline var used = 0
    public var count: Int { used }
    /// Bit 0: the innermost open container needs a comma before its next item; bit k: the container k levels out.
    @usableFromInline var commaBits: UInt64 = 0
    /// Open containers.
    @usableFromInline var depth = 0
    /// Bits pushed out of `commaBits` by nesting deeper than 64 levels.
    @usableFromInline var spilled: [Bool] = []
    /// The last capture second written by `timestamp` and its first 20 bytes (`YYYY-MM-DDTHH:MM:SS.`): records
    /// follow each other within the same second, so the calendar conversion is done once per second.
    var stampSeconds = Int64.min
    var stampHead: (UInt64, UInt64, UInt32) = (0, 0, 0)

    public init(capacity: Int = 1024) {
        let c = Swift.max(capacity, 64)
        base = .allocate(capacity: c)
        self.capacity = c
    }

    deinit { base.deallocate() }

    /// The output (a copy).
    public var bytes: [UInt8] { withBytes { Array($0) } }

    /// The output without copying it.
    public func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: base, count: used))
    }

    public var string: String { withBytes { String(decoding: $0, as: UTF8.self) } }

    public mutating func reset() {
        used = 0
        commaBits = 0
        depth = 0
        if !spilled.isEmpty { spilled.removeAll() }
    }

    /// Forgets the bytes written (after they were handed on) but keeps the container state: for a writer that
    /// accumulates complete lines and flushes them from time to time.
    public mutating func removeAllBytes() { used = 0 }

    /// Ends a JSON Lines line: writes a line break and starts the next JSON text (no comma before it).
    public mutating func endLine() {
        put(0x0A)
        commaBits = 0
        depth = 0
        if !spilled.isEmpty { spilled.removeAll() }
    }

    /// Where the writer is (bytes written and container state): `rollBack(to:)` returns to it, dropping what was
    /// written since. For writers that find out only part-way that their input does not decode.
    public struct Mark: Sendable {
        let used: Int
        let commaBits: UInt64
        let depth: Int
        let spilled: Int
    }

    public var mark: Mark { Mark(used: used, commaBits: commaBits, depth: depth, spilled: spilled.count) }

    /// Forgets everything written since `m` was taken (containers opened since then included). `m` must come from
    /// this buffer, with no `reset`, `endLine` or `removeAllBytes` since.
    public mutating func rollBack(to m: Mark) {
        used = Swift.min(m.used, used)
        commaBits = m.commaBits
        depth = m.depth
        if spilled.count > m.spilled { spilled.removeLast(spilled.count - m.spilled) }
    }

    /// Appends bytes as they are, outside the JSON structure (an already serialised line).
    public mutating func appendRaw(_ src: UnsafeBufferPointer<UInt8>) { put(src) }

    // MARK: - Raw writing

    /// Makes room for `n` more bytes.
    @inlinable @inline(__always) mutating func reserve(_ n: Int) {
        if _slowPath(capacity &- used < n) { grow(n) }
    }

    @usableFromInline mutating func grow(_ n: Int) {
        let newCapacity = Swift.max(capacity * 2, used + n)
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        p.update(from: base, count: used)
        base.deallocate()
        base = p
        capacity = newCapacity
    }

    /// Reserves room for a comma and `n` more bytes and returns where the item's bytes go. With `comma`, a comma is
    /// written first when the innermost container already holds an item (unconditionally written, and kept or not
    /// by where the returned pointer starts), and the container is marked as holding one.
    @inlinable @inline(__always) mutating func at(_ n: Int, comma: Bool = true) -> UnsafeMutablePointer<UInt8> {
        reserve(n &+ 1)
        let p = base + used
        guard comma else { return p }
        p.pointee = UInt8(ascii: ",")
        let c = Int(truncatingIfNeeded: commaBits & 1)
        commaBits |= 1
        return p + c
    }

    /// Sets the write position to `end` (a pointer obtained from `at` plus what was written).
    @inlinable @inline(__always) mutating func done(_ end: UnsafeMutablePointer<UInt8>) {
        used = end - base
    }

    /// Runs `body` with a pointer to the output at the write position; `body` writes at most the `n` bytes
    /// reserved and returns how many it wrote.
    @inlinable @inline(__always) mutating func write(upTo n: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        let p = at(n, comma: false)
        let written = Swift.min(Swift.max(body(p), 0), n)
        done(p + written)
    }

    @inlinable @inline(__always) mutating func put(_ b: UInt8) {
        let p = at(1, comma: false)
        p.pointee = b
        done(p + 1)
    }

    /// Appends bytes as they are.
    @inlinable mutating func put(_ src: UnsafeBufferPointer<UInt8>) {
        let n = src.count
        guard n > 0, let s = src.baseAddress else { return }
        let p = at(n, comma: false)
        p.update(from: s, count: n)
        done(p + n)
    }

    /// Copies a literal at `p` (bytes reserved by the caller); returns the end.
    @inlinable @inline(__always) static func copy(_ s: StaticString, to p: UnsafeMutablePointer<UInt8>)
        -> UnsafeMutablePointer<UInt8>
    {
        let n = s.utf8CodeUnitCount
        p.update(from: s.utf8Start, count: n)
        return p + n
    }

    // MARK: - Structure

    /// Writes the comma the next item needs, and marks the container as having an item.
    @inlinable @inline(__always) mutating func separator() {
        let p = at(0)
        done(p)
    }

    @inlinable @inline(__always) mutating func open(_ c: UInt8) {
        let p = at(1)
        p.pointee = c
        done(p + 1)
        if _slowPath(depth >= 63) { spill() }
        commaBits <<= 1
        depth &+= 1
    }

    @usableFromInline mutating func spill() { spilled.append(commaBits >> 63 != 0) }

    @inlinable @inline(__always) mutating func close(_ c: UInt8) {
        let p = at(1, comma: false)
        p.pointee = c
        done(p + 1)
        guard depth > 0 else { return }
        depth &-= 1
        commaBits >>= 1
        if _slowPath(depth >= 63) { unspill() }
    }

    @usableFromInline mutating func unspill() {
        if let top = spilled.popLast(), top { commaBits |= 1 << 63 }
    }

    @inlinable @inline(__always) public mutating func beginObject() { open(UInt8(ascii: "{")) }

    /// Opens an object and writes its first members from an already-serialised fragment (`"type":"enum"`, or
    /// `"type":"enum","value":` when `endsWithKey`, after which the next value written is that key's): one copy
    /// instead of a key and a string escaped one by one. The fragment must be valid JSON members.
    @inlinable @inline(__always) public mutating func beginObject(members fragment: StaticString, endsWithKey: Bool) {
        let p = at(fragment.utf8CodeUnitCount &+ 1)
        p.pointee = UInt8(ascii: "{")
        done(Self.copy(fragment, to: p + 1))
        if _slowPath(depth >= 63) { spill() }
        commaBits = commaBits << 1 | (endsWithKey ? 0 : 1)
        depth &+= 1
    }
    @inlinable @inline(__always) public mutating func endObject() { close(UInt8(ascii: "}")) }
    @inlinable @inline(__always) public mutating func beginArray() { open(UInt8(ascii: "[")) }
    @inlinable @inline(__always) public mutating func endArray() { close(UInt8(ascii: "]")) }

    /// Writes `"key":` inside an object; the value written next belongs to it.
    @inlinable public mutating func key(_ k: String) {
        separator()
        appendQuoted(k, suffix: UInt8(ascii: ":"))
        commaBits &= ~1
    }

    /// `key` for a literal name (every fixed member name of the contract): copied as it is, no escaping check.
    /// The name must need no escaping (snake_case names never do).
    @inlinable @inline(__always) public mutating func key(literal k: StaticString) {
        let n = k.utf8CodeUnitCount
        let p = at(n &+ 3)
        p[0] = UInt8(ascii: "\"")
        let e = Self.copy(k, to: p + 1)
        e[0] = UInt8(ascii: "\"")
        e[1] = UInt8(ascii: ":")
        done(e + 2)
        commaBits &= ~1
    }

    @inlinable @inline(__always) public mutating func field(literal k: StaticString, _ s: String) {
        key(literal: k)
        string(s)
    }
    @inlinable @inline(__always) public mutating func field<T: BinaryInteger>(literal k: StaticString, _ v: T) {
        key(literal: k)
        int(v)
    }
    @inlinable @inline(__always) public mutating func field(literal k: StaticString, _ v: Bool) {
        key(literal: k)
        bool(v)
    }

    /// Members written from a serialised fragment inside an open object (`"kind":"date-time"`; `endsWithKey`
    /// when it ends with `"key":` whose value comes next).
    @inlinable @inline(__always) public mutating func members(_ fragment: StaticString, endsWithKey: Bool = false) {
        let p = at(fragment.utf8CodeUnitCount)
        done(Self.copy(fragment, to: p))
        if endsWithKey { commaBits &= ~1 }
    }

    /// A value written from a serialised fragment (`"normal"`, `{"blocks":`... no: a complete JSON value such as
    /// `"hdlc"`, `true`, `null`). The fragment must be one valid JSON value.
    @inlinable @inline(__always) public mutating func rawValue(_ fragment: StaticString) {
        let p = at(fragment.utf8CodeUnitCount)
        done(Self.copy(fragment, to: p))
    }

    /// A string value whose bytes `body` writes in place (at most `maxLength`, none needing an escape: formatted
    /// numbers, dates); `body` returns how many it wrote.
    @inlinable public mutating func unescapedString(maxLength: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        let p = at(maxLength &+ 2)
        p[0] = UInt8(ascii: "\"")
        let n = Swift.min(Swift.max(body(p + 1), 0), maxLength)
        p[n + 1] = UInt8(ascii: "\"")
        done(p + n + 2)
    }

    /// Writes a run of serialised JSON in place through a bounds-checked `FragmentWriter` (at most `maxLength`
    /// bytes; a write past it is dropped): for callers that format a whole group of members at once (12-byte
    /// date-times). With `comma`, the run is one item of the open container (a comma first when it needs one).
    /// The bytes must be valid JSON in that position; `endsWithKey` when they end with `"key":`.
    @inlinable public mutating func fragment(maxLength: Int, endsWithKey: Bool = false,
                                             _ body: (inout FragmentWriter) -> Void) {
        let p = at(maxLength)
        var w = FragmentWriter(start: p, capacity: maxLength)
        body(&w)
        done(p + w.count)
        if endsWithKey { commaBits &= ~1 }
    }

    // MARK: - Values

    @inlinable @inline(__always) public mutating func string(_ s: String) { separator(); appendQuoted(s) }

    @inlinable @inline(__always) public mutating func int<T: BinaryInteger>(_ v: T) {
        if let small = Int64(exactly: v) {
            if small >= 0 && small < 100 {
                // One or two digits (lengths, flags, addresses, small enums): written here, no call.
                let p = at(2)
                if small < 10 {
                    p[0] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: small)
                    done(p + 1)
                } else {
                    let t = small / 10
                    p[0] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: t)
                    p[1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: small &- t &* 10)
                    done(p + 2)
                }
                return
            }
            appendDecimal(small)
        } else {
            separator()
            var s = String(v)
            s.withUTF8 { put($0) }
        }
    }

    /// Digits of a magnitude below 10^19.
    @inlinable @inline(__always) static func digitCount(_ m: UInt64) -> Int {
        if m < 100 { return m < 10 ? 1 : 2 }
        if m < 10_000 { return m < 1000 ? 3 : 4 }
        if m < 1_000_000 { return m < 100_000 ? 5 : 6 }
        var digits = 7
        var limit: UInt64 = 10_000_000
        while digits < 19 && m >= limit {
            digits &+= 1
            limit &*= 10
        }
        return digits
    }

    /// Decimal digits straight into the buffer (no String, no temporary array: this runs for every integer of a
    /// profile buffer), with the comma before it; two digits per division.
    @usableFromInline mutating func appendDecimal(_ v: Int64) {
        var m = v.magnitude
        if m < 10 && v >= 0 {
            let p = at(1)
            p[0] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: m)
            done(p + 1)
            return
        }
        let negative = v < 0
        let n = Self.digitCount(m) &+ (negative ? 1 : 0)
        let p = at(n)
        if negative { p[0] = UInt8(ascii: "-") }
        var i = n
        while m >= 100 {
            let q = m / 100
            let r = UInt32(truncatingIfNeeded: m &- q &* 100)
            let t = r / 10
            p[i &- 1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: r &- t &* 10)
            p[i &- 2] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: t)
            i &-= 2
            m = q
        }
        let r = UInt32(truncatingIfNeeded: m)
        if r >= 10 {
            let t = r / 10
            p[i &- 1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: r &- t &* 10)
            p[i &- 2] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: t)
        } else {
            p[i &- 1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: r)
        }
        done(p + n)
    }

    /// A capture time as its RFC 3339 string (`Timestamp.rfc3339`), written in place.
    public mutating func timestamp(_ t: Timestamp) {
        let n = Timestamp.rfc3339Length
        let p = at(n + 2)
        p[0] = UInt8(ascii: "\"")
        let text = UnsafeMutableRawPointer(p + 1)
        if t.seconds == stampSeconds, t.micros >= 0, t.micros <= 999_999 {
            // Same second as the last one: its date and time, then the microseconds (`writeRFC3339`'s layout).
            text.storeBytes(of: stampHead.0, as: UInt64.self)
            text.storeBytes(of: stampHead.1, toByteOffset: 8, as: UInt64.self)
            text.storeBytes(of: stampHead.2, toByteOffset: 16, as: UInt32.self)
            var v = t.micros
            var i = 26
            while i > 20 {
                i -= 1
                p[1 + i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10)
                v /= 10
            }
            p[1 + 26] = UInt8(ascii: "Z")
        } else if t.writeRFC3339(p + 1) {
            stampSeconds = t.seconds
            stampHead = (text.loadUnaligned(as: UInt64.self), text.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                         text.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
        } else {
            done(p)
            appendQuoted(t.rfc3339)
            return
        }
        p[n + 1] = UInt8(ascii: "\"")
        done(p + n + 2)
    }

    @inlinable @inline(__always) public mutating func bool(_ v: Bool) {
        if v { rawValue("true") } else { rawValue("false") }
    }
    @inlinable @inline(__always) public mutating func null() { rawValue("null") }

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
        let n = src.count
        let p = at(n &* 2 &+ 2)
        p[0] = UInt8(ascii: "\"")
        if let s = src.baseAddress {
            // Two digits per byte as one 16-bit store of a table entry (the first digit in the low byte).
            let out = UnsafeMutableRawPointer(p + 1)
            Self.hexPairs.withUnsafeBufferPointer { table in
                var i = 0
                #if _endian(little)
                // Four bytes per step: one load, four table entries, one 8-byte store (first digit lowest).
                let raw = UnsafeRawPointer(s)
                while i &+ 4 <= n {
                    let w = raw.loadUnaligned(fromByteOffset: i, as: UInt32.self)
                    let d = UInt64(table[Int(w & 0xFF)]) | UInt64(table[Int(w >> 8 & 0xFF)]) << 16
                        | UInt64(table[Int(w >> 16 & 0xFF)]) << 32 | UInt64(table[Int(w >> 24)]) << 48
                    out.storeBytes(of: d, toByteOffset: i &* 2, as: UInt64.self)
                    i &+= 4
                }
                #endif
                while i < n {
                    out.storeBytes(of: table[Int(s[i])], toByteOffset: i &* 2, as: UInt16.self)
                    i &+= 1
                }
            }
        }
        p[n &* 2 &+ 1] = UInt8(ascii: "\"")
        done(p + (n &* 2 &+ 2))
    }

    /// The two lower-case hex digits of 0...255 as they lie in memory (first digit at the lower address).
    @usableFromInline static let hexPairs: [UInt16] = (0..<256).map { (i: Int) -> UInt16 in
        let digits = Array("0123456789abcdef".utf8)
        return (UInt16(digits[i & 0x0F]) << 8 | UInt16(digits[i >> 4])).littleEndian
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

    @inlinable mutating func appendASCII(_ s: StaticString) {
        let p = at(s.utf8CodeUnitCount, comma: false)
        done(Self.copy(s, to: p))
    }

    /// True when one of the 8 bytes of `x` must be escaped in a JSON string: below 0x20, `"`, `\\` or DEL.
    /// SWAR on the low 7 bits of each byte (so that no lane carries into the next): a lane's high bit after adding
    /// 0x60 is clear exactly below 0x20, after XOR with `"` (or `\\`) and adding 0x7F clear exactly when equal, after
    /// adding 0x01 set exactly at 0x7F; bytes with their own high bit set (UTF-8) never need an escape.
    @inlinable @inline(__always) static func needsEscape(_ x: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        let highs: UInt64 = 0x8080_8080_8080_8080
        let y = x & low7
        let printable = y &+ ones &* 0x60
        let notQuote = (y ^ ones &* 0x22) &+ low7
        let notBackslash = (y ^ ones &* 0x5C) &+ low7
        let delete = y &+ ones
        return (~(printable & notQuote & notBackslash) | delete) & ~x & highs != 0
    }

    @inlinable @inline(__always) static func needsEscape(_ c: UInt8) -> Bool {
        c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c == 0x7F
    }

    /// `"s"` (escaped), then `suffix` if given.
    @usableFromInline @inline(__always) mutating func appendQuoted(_ s: String, suffix: UInt8? = nil) {
        // Native strings (all of ours) are contiguous UTF-8; the fallback copies the rare other kind.
        if let done: Void = s.utf8.withContiguousStorageIfAvailable({ appendQuoted($0, suffix: suffix) }) {
            return done
        }
        var copy = s
        copy.withUTF8 { appendQuoted($0, suffix: suffix) }
    }

    /// `"u"` (escaped), then `suffix` if given. Fast path: the bytes are checked and copied 8 (or 4) at a time,
    /// the last chunk overlapping the one before instead of a byte loop for the tail; only a string that needs an
    /// escape is written again byte by byte.
    @usableFromInline @inline(__always) mutating func appendQuoted(_ u: UnsafeBufferPointer<UInt8>, suffix: UInt8?) {
        let n = u.count
        let p = at(n &+ 3, comma: false)
        p[0] = UInt8(ascii: "\"")
        var clean = true
        if let src = u.baseAddress {
            let s = UnsafeRawPointer(src)
            let dst = UnsafeMutableRawPointer(p + 1)
            if n >= 8 {
                var i = 0
                while true {
                    let o = Swift.min(i, n &- 8)
                    let x = s.loadUnaligned(fromByteOffset: o, as: UInt64.self)
                    if Self.needsEscape(x) { clean = false; break }
                    dst.storeBytes(of: x, toByteOffset: o, as: UInt64.self)
                    i &+= 8
                    if i >= n { break }
                }
            } else if n >= 4 {
                let a = s.loadUnaligned(as: UInt32.self)
                let b = s.loadUnaligned(fromByteOffset: n &- 4, as: UInt32.self)
                if Self.needsEscape(UInt64(a) | UInt64(b) << 32) {
                    clean = false
                } else {
                    dst.storeBytes(of: a, as: UInt32.self)
                    dst.storeBytes(of: b, toByteOffset: n &- 4, as: UInt32.self)
                }
            } else {
                var i = 0
                while i < n {
                    let c = src[i]
                    if Self.needsEscape(c) { clean = false; break }
                    p[1 &+ i] = c
                    i &+= 1
                }
            }
        }
        if clean {
            p[n &+ 1] = UInt8(ascii: "\"")
            if let x = suffix {
                p[n &+ 2] = x
                done(p + (n &+ 3))
            } else {
                done(p + (n &+ 2))
            }
            return
        }
        done(p)
        appendEscaped(u)
        if let x = suffix { put(x) }
    }

    /// The slow path: `"u"` with every byte that needs it escaped.
    @usableFromInline mutating func appendEscaped(_ u: UnsafeBufferPointer<UInt8>) {
        put(UInt8(ascii: "\""))
        for c in u {
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
    }
}

// MARK: - Node trees

extension JSONBuffer {
    /// Writes `nodes` as members of the open object (`"name": value` each), by the mapping described on `Node`: a
    /// plain leaf (no children, no meaning) is its scalar, a list node an array of its children's values, any
    /// other node an object `{"value"?, "meaning"?, <children by name>...}`.
    ///
    /// The tree is walked through pointers into the children arrays (bounded by each array's count), so no node
    /// is copied (a copy retains and releases its name, value, meaning and children).
    public mutating func nodeMembers(_ nodes: [Node]) {
        nodes.withUnsafeBufferPointer { list in
            guard let first = list.baseAddress else { return }
            for i in 0..<list.count { node(first + i, member: true) }
        }
    }

    /// One node as a value (`member == false`) or as a member `"name": value`.
    @usableFromInline mutating func node(_ n: UnsafePointer<Node>, member: Bool) {
        if member { key(n.pointee.name) }
        if n.pointee.isList {
            beginArray()
            n.pointee.children.withUnsafeBufferPointer { list in
                guard let first = list.baseAddress else { return }
                for i in 0..<list.count { node(first + i, member: false) }
            }
            endArray()
            return
        }
        if n.pointee.children.isEmpty && n.pointee.meaning == nil {
            scalar(n, asMember: false)
            return
        }
        beginObject()
        scalar(n, asMember: true)
        if let m = n.pointee.meaning { field(literal: "meaning", m) }
        n.pointee.children.withUnsafeBufferPointer { list in
            guard let first = list.baseAddress else { return }
            for i in 0..<list.count { node(first + i, member: true) }
        }
        endObject()
    }

    /// A node's value as a JSON value (`.none` as null), or with `asMember` as the member `"value": v` (nothing
    /// for `.none`). One switch on the value in place: no copy of the whole enum.
    @usableFromInline mutating func scalar(_ n: UnsafePointer<Node>, asMember: Bool) {
        switch n.pointee.value {
        case .none:
            if !asMember { null() }
            return
        case .null:
            if asMember { key(literal: "value") }
            null()
        case .bool(let b):
            if asMember { key(literal: "value") }
            bool(b)
        case .int(let i):
            if asMember { key(literal: "value") }
            int(i)
        case .uint(let u):
            if asMember { key(literal: "value") }
            int(u)
        case .double(let d):
            if asMember { key(literal: "value") }
            double(d)
        case .string(let s):
            if asMember { key(literal: "value") }
            string(s)
        case .bytes(let b):
            if asMember { key(literal: "value") }
            hex(b)
        case .data(let d):
            if asMember { key(literal: "value") }
            d.writeJSON(into: &self)
        }
    }
}

/// Bytes written in place by `JSONBuffer.fragment`: every write is checked against the room reserved for it.
public struct FragmentWriter {
    @usableFromInline let start: UnsafeMutablePointer<UInt8>
    @usableFromInline let capacity: Int
    /// Bytes written.
    @usableFromInline var written = 0
    public var count: Int { written }

    @inlinable init(start: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.start = start
        self.capacity = capacity
    }

    @inlinable @inline(__always) public mutating func byte(_ c: UInt8) {
        guard written < capacity else { return }
        start[written] = c
        written &+= 1
    }

    /// A literal (JSON text, no escaping done).
    @inlinable @inline(__always) public mutating func literal(_ s: StaticString) {
        let n = s.utf8CodeUnitCount
        guard n <= capacity &- written else { return }
        (start + written).update(from: s.utf8Start, count: n)
        written &+= n
    }

    /// Two decimal digits of `v` (0...99).
    @inlinable @inline(__always) public mutating func twoDigits(_ v: UInt8) {
        let t = v / 10
        byte(UInt8(ascii: "0") &+ t)
        byte(UInt8(ascii: "0") &+ (v &- t &* 10))
    }

    /// A signed integer in decimal (nothing when it does not fit).
    @inlinable @inline(__always) public mutating func decimal(_ v: Int) {
        var m = UInt64(v.magnitude)
        let n = JSONBuffer.digitCount(m) &+ (v < 0 ? 1 : 0)
        guard n <= capacity &- written else { return }
        let p = start + written
        if v < 0 { p[0] = UInt8(ascii: "-") }
        var i = n
        repeat {
            i &-= 1
            let (q, r) = m.quotientAndRemainder(dividingBy: 10)
            p[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: r)
            m = q
        } while m > 0 && i > 0
        written &+= n
    }
}

extension Array {
    /// Calls `body` with each element and its index, in order, without copying the element out of the array
    /// (walked through the array's own storage, bounded by its count): for renderers that visit every item of a
    /// large tree of values.
    @inlinable @inline(__always)
    public func forEachInPlace(_ body: (Int, borrowing Element) -> Void) {
        withUnsafeBufferPointer { buffer in
            for i in buffer.indices { body(i, buffer[i]) }
        }
    }
}
