/// One run of bytes from a hex text: a record starts after a blank line, at a line that starts with a direction
/// marker or a timestamp, or at a dump offset of 0.
public struct HexRecord: Sendable, Hashable {
    public var bytes: [UInt8]
    /// 1-based line of the record's first byte.
    public var line: Int
    /// "TX" or "RX" when a marker said so (`TX:`, `->`, `>>`, `>` → "TX"; `RX:`, `<-`, `<<`, `<` → "RX").
    public var direction: String?
    public init(bytes: [UInt8], line: Int, direction: String?) {
        self.bytes = bytes
        self.line = line
        self.direction = direction
    }
}

/// A line of a hex text that could not be read. The line's bytes are dropped; parsing goes on with the next line.
public struct HexDumpError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `hex.unexpected-character`, `hex.odd-digits`, `hex.line-too-long`, `hex.record-too-long`.
    public var code: String
    public var message: String
    /// 1-based line and column (in bytes) of the offending character.
    public var line: Int
    public var column: Int
    public init(code: String, message: String, line: Int, column: Int) {
        self.code = code
        self.message = message
        self.line = line
        self.column = column
    }
    public var description: String { "line \(line), column \(column): \(message)" }
}

/// A tolerant reader of hex text: plain hex (`7E A0 21`, `7ea021`, `0x7E, 0xA0`, `7E:A0:21`, C arrays), trace logs
/// and dumps. Accepted at the start of a line, in any order:
/// - timestamps: `12:00:01`, `12:00:01.123`, `2024-03-01 12:00:01`, `2024-03-01T12:00:01.5Z`,
///   `25.11.2026 12:00:01`, seconds with a fraction (`0.000123`), `[anything]`;
/// - direction markers: `TX`, `RX` (also `SEND`, `SENT`, `RECV`, `RECEIVED`; any case, optional `:`), `->`, `<-`,
///   `>>`, `<<`, `>`, `<`;
/// - dump offsets: `0000:`/`00000010:` (`xxd`; its ASCII column, after two spaces, is ignored) and a 7-8 digit
///   offset followed by two-digit groups (`hexdump -C`, `od`; the ASCII column between `|` is ignored).
/// A blank line ends a record; a marker or timestamp at the start of a line starts a new one, as does a dump
/// offset of 0. `#` and `//` start comments. Anything else that is not hex is an error naming its line and column.
///
/// The parser is fed chunk by chunk (lines may span chunks) and keeps at most one line and one record in memory.
public struct HexDumpParser: Sendable {
    public enum Item: Sendable, Hashable {
        case record(HexRecord)
        case error(HexDumpError)
    }

    /// Lines longer than this are rejected (the bound on the carried partial line).
    public var maximumLineLength = 1 << 20
    /// Records longer than this are cut (reported, then a new record starts).
    public var maximumRecordBytes = 16 << 20

    private var carry: [UInt8] = []
    private var skippingLongLine = false
    private var lineNumber = 0
    private var current: [UInt8] = []
    private var currentLine = 0
    private var currentDirection: String?
    /// The previous lines were a dump with offsets (so an offset-only line is an offset, not data).
    private var dumpMode = false

    public init() {}

    /// Parses a whole text.
    public static func parse(_ text: String) -> [Item] {
        var p = HexDumpParser()
        var items = p.feed(Array(text.utf8)[...])
        items += p.finish()
        return items
    }

    /// Only the records of `text` (errors dropped).
    public static func records(_ text: String) -> [HexRecord] {
        parse(text).compactMap { if case .record(let r) = $0 { return r } else { return nil } }
    }

    /// Parses the complete lines of `chunk`; a trailing partial line waits for the next chunk or `finish()`.
    public mutating func feed(_ chunk: ArraySlice<UInt8>) -> [Item] {
        var out: [Item] = []
        var rest = chunk
        while let nl = rest.firstIndex(of: 0x0A) {
            let piece = rest[rest.startIndex..<nl]
            rest = rest[(nl + 1)...]
            if skippingLongLine {
                skippingLongLine = false
                lineNumber += 1
                carry.removeAll(keepingCapacity: true)
                continue
            }
            if carry.isEmpty {
                line(piece, &out)
            } else {
                carry.append(contentsOf: piece)
                let whole = carry
                carry.removeAll(keepingCapacity: true)
                line(whole[...], &out)
            }
        }
        if !skippingLongLine {
            carry.append(contentsOf: rest)
            if carry.count > maximumLineLength {
                out.append(.error(HexDumpError(code: "hex.line-too-long",
                                               message: "line longer than \(maximumLineLength) bytes skipped",
                                               line: lineNumber + 1, column: maximumLineLength + 1)))
                carry.removeAll()
                skippingLongLine = true
            }
        }
        return out
    }

    /// The last line (without a line break) and the last record.
    public mutating func finish() -> [Item] {
        var out: [Item] = []
        if !carry.isEmpty, !skippingLongLine {
            let whole = carry
            carry.removeAll()
            line(whole[...], &out)
        }
        flush(&out)
        return out
    }

    // MARK: - Lines

    private mutating func flush(_ out: inout [Item]) {
        if !current.isEmpty {
            out.append(.record(HexRecord(bytes: current, line: currentLine, direction: currentDirection)))
        }
        current.removeAll(keepingCapacity: true)
        currentDirection = nil
    }

    private mutating func line(_ raw: ArraySlice<UInt8>, _ out: inout [Item]) {
        lineNumber += 1
        guard raw.count <= maximumLineLength else {
            out.append(.error(HexDumpError(code: "hex.line-too-long",
                                           message: "line longer than \(maximumLineLength) bytes skipped",
                                           line: lineNumber, column: maximumLineLength + 1)))
            return
        }
        var text = raw
        if text.last == 0x0D { text = text.dropLast() }
        let base = text.startIndex
        var i = skipBlanks(text, text.startIndex)
        if i == text.endIndex {
            flush(&out)
            dumpMode = false
            return
        }
        if text[i] == UInt8(ascii: "#") || startsWith(text, i, "//") { return }

        // Prefixes: timestamps, markers, an offset.
        var startsRecord = false
        var direction: String?
        var offset: (value: UInt64, asciiAfterBlanks: Bool)?
        for _ in 0..<8 {
            i = skipBlanks(text, i)
            guard i < text.endIndex else { break }
            if text[i] == UInt8(ascii: "["), let close = text[i...].firstIndex(of: UInt8(ascii: "]")) {
                let inside = text[(i + 1)..<close]
                if let (n, d) = HexDumpParser.marker(inside, inside.startIndex), n == inside.count {
                    direction = d
                }
                startsRecord = true
                i = close + 1
            } else if let n = HexDumpParser.dateTime(text, i) {
                startsRecord = true
                i += n
            } else if let n = HexDumpParser.time(text, i) {
                startsRecord = true
                i += n
            } else if let n = HexDumpParser.seconds(text, i) {
                startsRecord = true
                i += n
            } else if let (n, d) = HexDumpParser.marker(text, i) {
                startsRecord = true
                direction = d
                i += n
            } else if offset == nil, let (n, value, asciiAfterBlanks) = dumpOffset(text, i) {
                offset = (value, asciiAfterBlanks)
                i += n
            } else {
                break
            }
        }
        if startsRecord || offset?.value == 0 { flush(&out) }
        if let direction { currentDirection = direction }
        dumpMode = offset != nil

        // The hex body.
        var bytes: [UInt8] = []
        var sawGroup = false
        body: while i < text.endIndex {
            let c = text[i]
            switch c {
            case 0x20, 0x09:
                var j = i
                while j < text.endIndex, text[j] == 0x20 || text[j] == 0x09 { j += 1 }
                // xxd, tshark -x: two or more spaces after the groups start the ASCII column.
                if offset?.asciiAfterBlanks == true, sawGroup, j - i >= 2 { break body }
                i = j
            case UInt8(ascii: "|"), UInt8(ascii: ">"):
                if offset != nil { break body }  // hexdump -C `|ascii|`, od `>ascii<`
                guard c == UInt8(ascii: "|") else {
                    out.append(.error(unexpected(c, line: lineNumber, column: i - base + 1)))
                    return
                }
                i += 1
            case UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "-"), UInt8(ascii: "{"),
                 UInt8(ascii: "}"), UInt8(ascii: "("), UInt8(ascii: ")"):
                i += 1
            case UInt8(ascii: "#"):
                break body
            case UInt8(ascii: "/") where startsWith(text, i, "//"):
                break body
            default:
                var j = i
                var prefixed = false
                if c == UInt8(ascii: "0"), i + 1 < text.endIndex,
                   text[i + 1] == UInt8(ascii: "x") || text[i + 1] == UInt8(ascii: "X")
                {
                    prefixed = true
                    j = i + 2
                }
                let digitsStart = j
                while j < text.endIndex, Self.nibble(text[j]) != nil { j += 1 }
                let count = j - digitsStart
                guard count > 0 else {
                    let at = prefixed ? j : i
                    let ch = at < text.endIndex ? text[at] : 0x20
                    out.append(.error(unexpected(ch, line: lineNumber, column: at - base + 1)))
                    return
                }
                var k = digitsStart
                if count % 2 == 1 {
                    guard prefixed, count == 1 else {
                        out.append(.error(HexDumpError(code: "hex.odd-digits",
                                                       message: "odd number of hex digits (\(count))",
                                                       line: lineNumber, column: digitsStart - base + 1)))
                        return
                    }
                    bytes.append(Self.nibble(text[k]) ?? 0)
                    k += 1
                }
                while k + 1 < j {
                    bytes.append((Self.nibble(text[k]) ?? 0) << 4 | (Self.nibble(text[k + 1]) ?? 0))
                    k += 2
                }
                sawGroup = true
                i = j
            }
        }
        guard !bytes.isEmpty else { return }
        if current.isEmpty { currentLine = lineNumber }
        if current.count + bytes.count > maximumRecordBytes {
            out.append(.error(HexDumpError(code: "hex.record-too-long",
                                           message: "record longer than \(maximumRecordBytes) bytes cut here",
                                           line: lineNumber, column: 1)))
            let direction = currentDirection
            flush(&out)
            currentDirection = direction
            currentLine = lineNumber
        }
        current.append(contentsOf: bytes)
    }

    private func unexpected(_ c: UInt8, line: Int, column: Int) -> HexDumpError {
        let shown = (0x21...0x7E).contains(c) ? "'\(Character(Unicode.Scalar(c)))'" : "byte 0x\(String(c, radix: 16))"
        return HexDumpError(code: "hex.unexpected-character", message: "unexpected \(shown) in hex data",
                            line: line, column: column)
    }

    // MARK: - Prefix recognisers (each returns the length matched)

    private func skipBlanks(_ t: ArraySlice<UInt8>, _ from: Int) -> Int {
        var i = from
        while i < t.endIndex, t[i] == 0x20 || t[i] == 0x09 { i += 1 }
        return i
    }

    private func startsWith(_ t: ArraySlice<UInt8>, _ i: Int, _ s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        guard i >= t.startIndex, i + n <= t.endIndex else { return false }
        return s.withUTF8Buffer { buf in
            for k in 0..<n where t[i + k] != buf[k] { return false }
            return true
        }
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    private static func isDigit(_ t: ArraySlice<UInt8>, _ i: Int) -> Bool {
        i >= t.startIndex && i < t.endIndex && (0x30...0x39).contains(t[i])
    }

    private static func digits(_ t: ArraySlice<UInt8>, _ i: Int, _ n: Int) -> Bool {
        for k in 0..<n where !isDigit(t, i + k) { return false }
        return true
    }

    /// True when position `i` ends a prefix token (end of line, blank, or a closing separator).
    private static func endsToken(_ t: ArraySlice<UInt8>, _ i: Int) -> Bool {
        guard i < t.endIndex else { return true }
        return t[i] == 0x20 || t[i] == 0x09 || t[i] == UInt8(ascii: "]") || t[i] == UInt8(ascii: ",")
            || t[i] == UInt8(ascii: "|")
    }

    /// `H:MM:SS` or `HH:MM:SS`, optional `.fraction`/`,fraction`, optional `Z`, optional trailing `:`.
    static func time(_ t: ArraySlice<UInt8>, _ i: Int) -> Int? {
        var j = i
        guard isDigit(t, j) else { return nil }
        j += isDigit(t, j + 1) ? 2 : 1
        guard j < t.endIndex, t[j] == UInt8(ascii: ":"), digits(t, j + 1, 2), j + 3 < t.endIndex,
              t[j + 3] == UInt8(ascii: ":"), digits(t, j + 4, 2) else { return nil }
        j += 6
        if j < t.endIndex, t[j] == UInt8(ascii: ".") || t[j] == UInt8(ascii: ","), isDigit(t, j + 1) {
            j += 1
            while isDigit(t, j) { j += 1 }
        }
        if j < t.endIndex, t[j] == UInt8(ascii: "Z") { j += 1 }
        if j < t.endIndex, t[j] == UInt8(ascii: ":") { j += 1 }
        return endsToken(t, j) ? j - i : nil
    }

    /// Seconds with a fraction, as relative or epoch timestamps are printed (`0.000123`, `1700000000.5`).
    static func seconds(_ t: ArraySlice<UInt8>, _ i: Int) -> Int? {
        var j = i
        while isDigit(t, j) { j += 1 }
        guard j > i, j < t.endIndex, t[j] == UInt8(ascii: "."), isDigit(t, j + 1) else { return nil }
        j += 1
        while isDigit(t, j) { j += 1 }
        if j < t.endIndex, t[j] == UInt8(ascii: ":") || t[j] == UInt8(ascii: "s") { j += 1 }
        return endsToken(t, j) ? j - i : nil
    }

    /// `YYYY-MM-DD`, `YYYY/MM/DD`, `DD.MM.YYYY` or `DD/MM/YYYY`, optionally followed by `T` or a space and a time.
    static func dateTime(_ t: ArraySlice<UInt8>, _ i: Int) -> Int? {
        var j: Int
        if digits(t, i, 4), i + 4 < t.endIndex {
            let sep = t[i + 4]
            guard sep == UInt8(ascii: "-") || sep == UInt8(ascii: "/"), digits(t, i + 5, 2), i + 7 < t.endIndex,
                  t[i + 7] == sep, digits(t, i + 8, 2) else { return nil }
            j = i + 10
        } else if digits(t, i, 2), i + 2 < t.endIndex {
            let sep = t[i + 2]
            guard sep == UInt8(ascii: ".") || sep == UInt8(ascii: "/"), digits(t, i + 3, 2), i + 5 < t.endIndex,
                  t[i + 5] == sep, digits(t, i + 6, 4) else { return nil }
            j = i + 10
        } else {
            return nil
        }
        if j < t.endIndex, t[j] == UInt8(ascii: "T") || t[j] == 0x20, let n = time(t, j + 1) {
            j += 1 + n
            // A numeric zone: +01:00 / -0500.
            if j < t.endIndex, t[j] == UInt8(ascii: "+") || t[j] == UInt8(ascii: "-"), digits(t, j + 1, 2) {
                j += 3
                if j < t.endIndex, t[j] == UInt8(ascii: ":") { j += 1 }
                if digits(t, j, 2) { j += 2 }
            }
        }
        return endsToken(t, j) ? j - i : nil
    }

    /// A direction marker and its normalised direction.
    static func marker(_ t: ArraySlice<UInt8>, _ i: Int) -> (Int, String)? {
        let arrows: [(String, String)] = [("->", "TX"), ("<-", "RX"), (">>", "TX"), ("<<", "RX"), (">", "TX"),
                                          ("<", "RX")]
        for (symbol, direction) in arrows {
            let s = Array(symbol.utf8)
            guard i + s.count <= t.endIndex else { continue }
            var same = true
            for k in 0..<s.count where t[i + k] != s[k] { same = false }
            if same, endsToken(t, i + s.count) { return (s.count, direction) }
        }
        // Words: letters up to a blank, ':' or '>' ("TX:", "Rx>", "SEND").
        var j = i
        var word: [UInt8] = []
        while j < t.endIndex, word.count < 9, (0x41...0x5A).contains(t[j]) || (0x61...0x7A).contains(t[j]) {
            word.append(t[j] | 0x20)
            j += 1
        }
        let direction: String
        switch String(decoding: word, as: UTF8.self) {
        case "tx", "send", "sent": direction = "TX"
        case "rx", "recv", "received", "receive": direction = "RX"
        default: return nil
        }
        if j < t.endIndex, t[j] == UInt8(ascii: ":") || t[j] == UInt8(ascii: ">") { j += 1 }
        return endsToken(t, j) ? (j - i, direction) : nil
    }

    /// A dump offset: 4-8 hex digits and a colon (`xxd`); 4 hex digits, two or more blanks and a two-digit group
    /// (`tshark -x`, Wireshark's "Copy as Hex Dump"); or 6-8 hex digits followed by a two-digit group, or alone
    /// inside a dump (`hexdump -C`, `od -A x -t x1z`). The flag says whether the ASCII column starts after a run
    /// of blanks (`xxd`, tshark) rather than at a `|` or `>` (hexdump, od, whose hex area has a double space).
    private func dumpOffset(_ t: ArraySlice<UInt8>, _ i: Int) -> (Int, UInt64, Bool)? {
        var j = i
        var value: UInt64 = 0
        while j < t.endIndex, j - i < 9, let n = HexDumpParser.nibble(t[j]) {
            value = value << 4 | UInt64(n)
            j += 1
        }
        let count = j - i
        if count >= 4, count <= 8, j < t.endIndex, t[j] == UInt8(ascii: ":"), HexDumpParser.endsToken(t, j + 1) {
            return (count + 1, value, true)
        }
        if count == 4, value % 16 == 0, j + 1 < t.endIndex, t[j] == 0x20, t[j + 1] == 0x20 {
            let k = skipBlanks(t, j)
            guard k + 2 <= t.endIndex, HexDumpParser.nibble(t[k]) != nil, HexDumpParser.nibble(t[k + 1]) != nil,
                  HexDumpParser.endsToken(t, k + 2) else { return nil }
            return (count, value, true)
        }
        guard count >= 6, count <= 8, HexDumpParser.endsToken(t, j) else { return nil }
        let k = skipBlanks(t, j)
        // The last line of a dump is the offset alone (the total length).
        if k == t.endIndex { return dumpMode ? (count, value, false) : nil }
        // Dumps print offsets that are multiples of the line width (8 or 16); data rarely happens to be one.
        guard value % 8 == 0 else { return nil }
        // The next token must be a two-digit group.
        guard k + 2 <= t.endIndex, HexDumpParser.nibble(t[k]) != nil, HexDumpParser.nibble(t[k + 1]) != nil,
              HexDumpParser.endsToken(t, k + 2) else { return nil }
        return (count, value, false)
    }
}
