import DLMSAnalyzer
import DLMSCapture
import DLMSRender
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The harness of the live end-to-end tests (issue 5, item 6): the real sources (pseudo-terminal, loopback
// sockets, capture on `lo`) feed the real analyzer, and its JSON Lines are compared with those of the same bytes
// read from a file. Everything waits with a deadline, so a broken source fails a test instead of hanging it.

/// The records of a live run and of a file run, made comparable: only the record kinds that carry decoded traffic
/// (`apdu`, `frame`, `error`), without what legitimately differs between a live run and a file run (arrival
/// `time`, the `conversation` name, the `source`), and optionally without frame numbers (a live capture numbers
/// its packets differently from the pcap the bytes came from).
enum LiveComparison {
    static let trafficKinds: Set<String> = ["apdu", "frame", "error"]

    static func comparable(_ records: [JSONValue], kinds: Set<String> = trafficKinds, keepFrameNumbers: Bool = true,
                           keepTimes: Bool = false) -> [JSONValue] {
        var ignored: Set<String> = ["conversation", "source"]
        if !keepTimes { ignored.insert("time") }
        if !keepFrameNumbers { ignored.formUnion(["frames", "frame"]) }
        return records.filter { kinds.contains($0["kind"]?.string ?? "") }.map { strip($0, ignored, depth: 0) }
    }

    /// `value` without the members named in `keys`, at every level (bounded: the renderer nests far less).
    static func strip(_ value: JSONValue, _ keys: Set<String>, depth: Int) -> JSONValue {
        guard depth < 64 else { return value }
        switch value {
        case .object(let members):
            return .object(members.filter { !keys.contains($0.0) }.map { ($0.0, strip($0.1, keys, depth: depth + 1)) })
        case .array(let items):
            return .array(items.map { strip($0, keys, depth: depth + 1) })
        default:
            return value
        }
    }

    /// `value` with every frame number (the integers of `frames` arrays) above `threshold` moved by `offset`.
    static func shiftFrames(_ value: JSONValue, above threshold: Int64, by offset: Int64, depth: Int = 0)
        -> JSONValue
    {
        guard depth < 64 else { return value }
        switch value {
        case .object(let members):
            return .object(members.map { key, v in
                if key == "frames", case .array(let items) = v {
                    return (key, .array(items.map { $0.int.map { .int($0 > threshold ? $0 + offset : $0) } ?? $0 }))
                }
                return (key, shiftFrames(v, above: threshold, by: offset, depth: depth + 1))
            })
        case .array(let items):
            return .array(items.map { shiftFrames($0, above: threshold, by: offset, depth: depth + 1) })
        default:
            return value
        }
    }

    /// nil when equal; otherwise where the sequences part, with both records, for the test's message.
    static func difference(_ live: [JSONValue], _ file: [JSONValue]) -> String? {
        for (i, (a, b)) in zip(live, file).enumerated() where a != b {
            return "record \(i) differs at \(firstDifference(a, b, path: "", depth: 0) ?? "?"):\n live: \(render(a))\n"
                + " file: \(render(b))"
        }
        if live.count != file.count {
            let extra = live.count > file.count ? "live has extra \(render(live[file.count]))"
                : "file has extra \(render(file[live.count]))"
            return "\(live.count) live records, \(file.count) file records; \(extra)"
        }
        return nil
    }

    /// The path of the first place where `a` and `b` differ, with both values there.
    static func firstDifference(_ a: JSONValue, _ b: JSONValue, path: String, depth: Int) -> String? {
        if a == b { return nil }
        switch (a, b) {
        case (.object(let x), .object(let y)) where depth < 64:
            for (k, v) in x {
                guard let w = y.first(where: { $0.0 == k })?.1 else { return "\(path).\(k) (only live)" }
                if let d = firstDifference(v, w, path: path + "." + k, depth: depth + 1) { return d }
            }
            if let k = y.first(where: { m in !x.contains { $0.0 == m.0 } })?.0 { return "\(path).\(k) (only file)" }
            return "\(path) (member order)"
        case (.array(let x), .array(let y)) where depth < 64:
            for (i, (v, w)) in zip(x, y).enumerated() {
                if let d = firstDifference(v, w, path: "\(path)[\(i)]", depth: depth + 1) { return d }
            }
            return "\(path) (\(x.count) vs \(y.count) items)"
        default:
            return "\(path): \(render(a)) vs \(render(b))"
        }
    }

    /// Compact JSON of a value, for messages (cut at 600 characters).
    static func render(_ v: JSONValue) -> String {
        var out = ""
        write(v, into: &out, depth: 0)
        return out.count > 600 ? String(out.prefix(600)) + "…" : out
    }

    private static func write(_ v: JSONValue, into out: inout String, depth: Int) {
        guard depth < 64 else { return out += "…" }
        switch v {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += String(d)
        case .string(let s): out += "\"" + s + "\""
        case .array(let items):
            out += "["
            for (i, x) in items.enumerated() {
                if i > 0 { out += "," }
                write(x, into: &out, depth: depth + 1)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, (k, x)) in members.enumerated() {
                if i > 0 { out += "," }
                out += "\"" + k + "\":"
                write(x, into: &out, depth: depth + 1)
            }
            out += "}"
        }
    }

    static func kind(_ r: JSONValue) -> String { r["kind"]?.string ?? "" }
    static func apdus(_ records: [JSONValue]) -> [JSONValue] { records.filter { kind($0) == "apdu" } }
    static func errorCodes(_ records: [JSONValue]) -> [String] {
        records.filter { kind($0) == "error" }.map { $0["code"]?.string ?? "?" }
    }
}

/// A live run of the analyzer into JSON Lines: `body` drives one of its live entry points between the renderer's
/// begin and the end-of-input report, exactly as `dlmsdump` does.
struct LiveRun {
    var records: [JSONValue]
    /// The status lines the CLI would print on stderr (connected, dropped, retrying).
    var notices: [String]

    var summary: JSONValue? { records.last { LiveComparison.kind($0) == "summary" } }

    init(keyring: String? = nil, _ body: (Analyzer) -> Void) throws {
        var options = AnalyzerOptions()
        if let keyring { options.keyringPaths = [Fixtures.keyring(keyring)] }
        let sink = MemorySink()
        let analyzer = try Analyzer(options: options, renderer: JSONLinesRenderer(sink: sink, flushEachRecord: true))
        let collected = NoticeLog()
        analyzer.noticeHandler = { collected.lines.append($0) }
        _ = analyzer.runLive(body)
        notices = collected.lines
        records = try sink.string.split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }

    private final class NoticeLog {
        var lines: [String] = []
    }
}

/// The records of a file, as `dlmsdump --input KIND [--keyring K] FILE --format jsonl` gives them.
func fileRecords(_ path: String, input: AnalyzerOptions.InputKind = .auto, keyring: String? = nil) throws
    -> [JSONValue]
{
    try analyseToJSON([path]) {
        $0.input = input
        if let keyring { $0.keyringPaths = [Fixtures.keyring(keyring)] }
    }.records
}

/// Passes a live byte stream through and requests the stop once `total` bytes were delivered, so a test ends as
/// soon as everything it sent was decoded (not at a deadline, and without a hang-up that would be a break).
final class StopAfterBytes: ByteStreamSource {
    let inner: any ByteStreamSource
    let total: Int
    let stop: StopFlag
    private(set) var delivered = 0
    private(set) var events: [String] = []

    init(_ inner: any ByteStreamSource, total: Int, stop: StopFlag) {
        self.inner = inner
        self.total = total
        self.stop = stop
    }

    func nextEvent() throws(CaptureError) -> TapEvent? {
        let e = try inner.nextEvent()
        switch e {
        case .data(let chunk)?:
            delivered += chunk.bytes.count
            if delivered >= total { stop.request() }
        case .connected(let peer, _)?: events.append("connected \(peer)")
        case .disconnected(let reason, _, _)?: events.append("disconnected: \(reason)")
        case nil: break
        }
        return e
    }

    var streamName: String { inner.streamName }
}

// MARK: - Bytes of the Gurux captures

enum LiveFixtures {
    static func bytes(_ relative: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.capture(relative))))
    }

    /// The HDLC frames of a raw stream such as Captures/gurux/hdlc-none.raw (`7E A0 LL ... 7E`, frame format
    /// type 3 of IEC 62056-46 §6.4.1: the 11-bit length counts everything between the flags), as byte ranges.
    /// nil if the stream is not exactly a sequence of such frames.
    static func hdlcFrameRanges(_ bytes: [UInt8]) -> [Range<Int>]? {
        var ranges: [Range<Int>] = []
        var i = 0
        while i < bytes.count {
            guard bytes[i] == 0x7E, i + 2 < bytes.count else { return nil }
            let length = Int(bytes[i + 1] & 0x07) << 8 | Int(bytes[i + 2])
            let end = i + length + 2
            guard length >= 2, end <= bytes.count, bytes[end - 1] == 0x7E else { return nil }
            ranges.append(i..<end)
            i = end
        }
        return ranges
    }

    /// The TCP payloads of a capture's first connection in capture order, each with whether the connection's
    /// initiator (the side that sent the SYN) sent it.
    static func tcpSegments(_ relative: String) throws -> [(fromInitiator: Bool, bytes: [UInt8])] {
        let source = try PcapSource(path: Fixtures.capture(relative))
        var reassembler = TCPReassembler()
        var events: [StreamEvent] = []
        while let frame = try source.next() {
            if case .packet(let p) = PacketDecoder.decode(frame) { events += reassembler.process(p) }
        }
        events += reassembler.finish()
        var initiator: Endpoint?
        var segments: [(Bool, [UInt8])] = []
        for e in events {
            switch e {
            case .opened(_, _, _, _, let i, _, _): initiator = initiator ?? i
            case .data(_, let from, _, let bytes, _, _): segments.append((from == initiator, Array(bytes)))
            default: break
            }
        }
        return segments
    }
}

// MARK: - Threads, pseudo-terminals, sockets

/// A POSIX thread for the far end of a live test (the meter writing to a pseudo-terminal, a TCP tap server),
/// joined by the test. Not the Swift concurrency pool: a blocking peer there could starve the parallel tests.
struct PeerThread {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    private var thread = pthread_t()

    init(_ run: @escaping @Sendable () -> Void) throws {
        let context = Unmanaged.passRetained(Body(run)).toOpaque()
        let rc = pthread_create(&thread, nil, { p in
            guard let p else { return nil }
            Unmanaged<Body>.fromOpaque(p).takeRetainedValue().run()
            return nil
        }, context)
        if rc != 0 { Unmanaged<Body>.fromOpaque(context).release() }
        try #require(rc == 0)
    }

    func join() { pthread_join(thread, nil) }
}

/// What a peer thread reports back: the steps it completed, or where it failed.
final class PeerLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String] = []
    private var failures: [String] = []

    func note(_ s: String) { lock.withLock { entries.append(s) } }
    func fail(_ s: String) { lock.withLock { failures.append(s) } }
    var steps: [String] { lock.withLock { entries } }
    var problems: [String] { lock.withLock { failures } }
}

/// A seeded SplitMix64 (Steele, Lea, Flood 2014), so every chunking reproduces.
struct LiveRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum LiveIO {
    /// A pseudo-terminal: the master fd and the slave's path (`/dev/pts/N`). posix_openpt, grantpt, unlockpt and
    /// ptsname_r are X/Open functions the Swift Glibc module does not declare, so they are looked up by name.
    static func openPTY() throws -> (master: Int32, slave: String) {
        typealias IntFn = @convention(c) (Int32) -> Int32
        typealias NameFn = @convention(c) (Int32, UnsafeMutablePointer<CChar>?, Int) -> Int32
        let openpt = try #require(dlsym(nil, "posix_openpt"))
        let grant = try #require(dlsym(nil, "grantpt"))
        let unlock = try #require(dlsym(nil, "unlockpt"))
        let name = try #require(dlsym(nil, "ptsname_r"))
        let master = unsafeBitCast(openpt, to: IntFn.self)(O_RDWR | O_NOCTTY)
        try #require(master >= 0, "posix_openpt: \(String(cString: strerror(errno)))")
        try #require(unsafeBitCast(grant, to: IntFn.self)(master) == 0)
        try #require(unsafeBitCast(unlock, to: IntFn.self)(master) == 0)
        var buffer = [CChar](repeating: 0, count: 128)
        try #require(unsafeBitCast(name, to: NameFn.self)(master, &buffer, buffer.count) == 0)
        let path = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (master, path)
    }

    /// Writes `bytes` in chunks of 1...`maxChunk` bytes (seeded), sleeping 1 ms after about every 64 bytes: the
    /// pace of a fast serial line, so the reader sees many small reads that split frames anywhere. False when a
    /// write failed.
    @discardableResult
    static func pacedWrite(_ fd: Int32, _ bytes: ArraySlice<UInt8>, seed: UInt64, maxChunk: Int = 64) -> Bool {
        var rng = LiveRNG(seed: seed)
        var at = bytes.startIndex
        var sinceSleep = 0
        while at < bytes.endIndex {
            let n = min(bytes.endIndex - at, Int.random(in: 1...max(1, maxChunk), using: &rng))
            let w = bytes[at..<at + n].withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
            if w <= 0 {
                if w < 0, errno == EINTR || errno == EAGAIN { continue }
                return false
            }
            at += w
            sinceSleep += w
            if sinceSleep >= 64 {
                usleep(1000)
                sinceSleep = 0
            }
        }
        return true
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return a
    }

    /// A socket whose blocking calls give up after 5 s, so a broken test fails instead of hanging.
    static func socketFD(stream: Bool) -> Int32 {
        #if os(Linux)
        let kind = Int32(stream ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue)
        #else
        let kind = stream ? SOCK_STREAM : SOCK_DGRAM
        #endif
        let fd = socket(AF_INET, kind, 0)
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    static func bindLoopback(_ fd: Int32, port: UInt16) -> Bool {
        var a = loopback(port: port)
        return withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == 0
    }

    static func localPort(_ fd: Int32) -> UInt16 {
        var a = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return UInt16(bigEndian: a.sin_port)
    }

    /// A TCP listening socket on 127.0.0.1 and the free port it got.
    static func listenTCP() throws -> (fd: Int32, port: UInt16) {
        let fd = socketFD(stream: true)
        try #require(fd >= 0)
        try #require(bindLoopback(fd, port: 0) && listen(fd, 8) == 0, "\(String(cString: strerror(errno)))")
        return (fd, localPort(fd))
    }

    /// Accepts one connection within `seconds`; -1 on timeout.
    static func acceptOne(_ listener: Int32, within seconds: Double) -> Int32 {
        var p = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(seconds * 1000)) == 1 else { return -1 }
        let fd = accept(listener, nil, nil)
        guard fd >= 0 else { return -1 }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// A blocking TCP connection to 127.0.0.1:`port`; -1 on failure.
    static func connectTCP(port: UInt16) -> Int32 {
        let fd = socketFD(stream: true)
        guard fd >= 0 else { return -1 }
        var a = loopback(port: port)
        let rc = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if rc != 0 {
            close(fd)
            return -1
        }
        return fd
    }

    static func sendAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> Bool {
        var at = bytes.startIndex
        while at < bytes.endIndex {
            let n = bytes[at...].withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 {
                if n < 0, errno == EINTR { continue }
                return false
            }
            at += n
        }
        return true
    }

    /// Reads exactly `count` bytes (each read waits at most 5 s); nil on end of file, error or timeout.
    static func readExactly(_ fd: Int32, _ count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return -1 }
                return recv(fd, base + got, count - got, 0)
            }
            if n <= 0 {
                if n < 0, errno == EINTR { continue }
                return nil
            }
            got += n
        }
        return out
    }

    /// Waits (at most 5 s per read) until the peer closes; the bytes it sent meanwhile.
    static func readToEnd(_ fd: Int32) -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return out }
            out += buf[0..<n]
        }
    }

    static func sendDatagram(_ fd: Int32, _ bytes: [UInt8], port: UInt16) -> Bool {
        var a = loopback(port: port)
        let n = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bytes.withUnsafeBufferPointer {
                    sendto(fd, $0.baseAddress, $0.count, 0, sa, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        return n == bytes.count
    }

    static func temporaryPath(_ name: String) -> String {
        var template = Array("/tmp/dlmslive-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { buf -> String in
            guard let base = buf.baseAddress, let p = mkdtemp(base) else { return "/tmp" }
            return String(cString: p)
        }
        return dir + "/" + name
    }
}

// MARK: - The harness can fail

@Suite struct LiveHarnessTests {
    /// The comparison ignores what differs between live and file runs, and nothing else: a changed APDU byte, a
    /// flipped direction, a missing record or a different frame number is a difference.
    @Test func comparisonIgnoresTimeAndNamesButNotTraffic() throws {
        let file = try fileRecords(Fixtures.capture("gurux/hdlc-none.raw"), input: .raw)
        let base = LiveComparison.comparable(file)
        try #require(base.count > 200)
        #expect(LiveComparison.difference(base, base) == nil)

        func edited(_ f: (String) -> String) throws -> [JSONValue] {
            let lines = try analyseToJSON([Fixtures.capture("gurux/hdlc-none.raw")]) { $0.input = .raw }.lines
            let i = try #require(lines.firstIndex { $0.contains(#""kind":"apdu""#) })
            var changed = lines
            changed[i] = f(lines[i])
            try #require(changed[i] != lines[i])
            return LiveComparison.comparable(try changed.map { try JSONValue.parse($0) })
        }
        // A live record has a time, another conversation name and source: still equal.
        let renamed = try edited {
            $0.replacingOccurrences(of: #""conversation":"serial-1""#,
                                    with: #""time":"2026-01-01T00:00:00.000001Z","conversation":"serial-9""#)
        }
        #expect(LiveComparison.difference(renamed, base) == nil)
        // A different APDU byte, direction or frame number: a difference.
        let hex = try edited { $0.replacingOccurrences(of: #""hex":"601d"#, with: #""hex":"601e"#) }
        #expect(LiveComparison.difference(hex, base) != nil)
        let direction = try edited { $0.replacingOccurrences(of: "client->server", with: "server->client") }
        #expect(LiveComparison.difference(direction, base) != nil)
        let frame = try edited { $0.replacingOccurrences(of: #""frames":[3]"#, with: #""frames":[4]"#) }
        #expect(LiveComparison.difference(frame, base) != nil)
        #expect(LiveComparison.difference(LiveComparison.comparable(frameless(frame)), frameless(base)) == nil)
        #expect(LiveComparison.difference(Array(base.dropLast()), base) != nil)
    }

    private func frameless(_ r: [JSONValue]) -> [JSONValue] {
        LiveComparison.comparable(r, keepFrameNumbers: false)
    }

    @Test func rawHDLCStreamsSplitIntoWholeFrames() throws {
        let bytes = try LiveFixtures.bytes("gurux/hdlc-none.raw")
        let ranges = try #require(LiveFixtures.hdlcFrameRanges(bytes))
        #expect(ranges.count == 516)  // the summary's "frames" for `--input raw` of this file
        #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == bytes.count)
        #expect(LiveFixtures.hdlcFrameRanges(Array(bytes.dropLast())) == nil)
    }
}

// MARK: - The dlmsdump binary as a live process

/// `dlmsdump` running as a child process, its stdout and stderr read as they come (poll on the pipes), so a test
/// can wait for a line, send a signal, and give up at a deadline instead of hanging.
final class LiveProcess {
    let process = Process()
    private let outPipe = Pipe()
    private let errPipe = Pipe()
    private(set) var stdout: [UInt8] = []
    private(set) var stderr: [UInt8] = []
    private var outOpen = true
    private var errOpen = true

    /// `signalsBlocked`: start the child with the signal mask of the calling thread, which in a test runner's
    /// worker thread blocks SIGINT and SIGTERM (Foundation's `Process` passes it on). By default the child starts
    /// with SIGINT and SIGTERM unblocked, as from a shell.
    init(_ arguments: [String], signalsBlocked: Bool = false) throws {
        let binary = try #require(CLITests.binary, "dlmsdump binary not built: run `swift build` before the tests")
        process.executableURL = binary
        process.arguments = arguments
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        var change = sigset_t()
        sigemptyset(&change)
        sigaddset(&change, SIGINT)
        sigaddset(&change, SIGTERM)
        var old = sigset_t()
        pthread_sigmask(signalsBlocked ? SIG_BLOCK : SIG_UNBLOCK, &change, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        try process.run()
    }

    /// The signals blocked in the child (`SigBlk` of /proc/PID/status), or nil where it cannot be read.
    var blockedSignals: UInt64? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigBlk:") }),
              let hex = line.split(separator: "\t").last else { return nil }
        return UInt64(hex, radix: 16)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    var stderrText: String { String(decoding: stderr, as: UTF8.self) }

    /// Reads what the child writes until `condition` holds, both pipes are closed, or `seconds` pass. Returns
    /// whether `condition` held.
    @discardableResult
    func pump(for seconds: Double, until condition: (LiveProcess) -> Bool = { _ in false }) -> Bool {
        let deadline = LiveClock.monotonicNanos() &+ UInt64(seconds * 1e9)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if condition(self) { return true }
            guard outOpen || errOpen else { return false }
            let now = LiveClock.monotonicNanos()
            guard now < deadline else { return false }
            let outFD = outPipe.fileHandleForReading.fileDescriptor
            let errFD = errPipe.fileHandleForReading.fileDescriptor
            var fds = [pollfd(fd: outOpen ? outFD : -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: errOpen ? errFD : -1, events: Int16(POLLIN), revents: 0)]
            let wait = Int32(min(100, (deadline - now) / 1_000_000 + 1))
            guard fds.withUnsafeMutableBufferPointer({ poll($0.baseAddress, 2, wait) }) > 0 else { continue }
            for (i, p) in fds.enumerated() where p.revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    if i == 0 { stdout += buffer[0..<n] } else { stderr += buffer[0..<n] }
                } else if n == 0 || errno != EINTR {
                    if i == 0 { outOpen = false } else { errOpen = false }
                }
            }
        }
    }

    /// Reads until the child has closed its output and exited, at most `seconds`; its exit status, or nil (then
    /// it is killed).
    func finish(within seconds: Double) -> Int32? {
        let deadline = LiveClock.monotonicNanos() &+ UInt64(seconds * 1e9)
        pump(for: seconds)
        while process.isRunning, LiveClock.monotonicNanos() < deadline { usleep(10_000) }
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        process.waitUntilExit()
        return process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
    }

    /// The JSON Lines on stdout, parsed.
    func records() throws -> [JSONValue] {
        try stdoutText.split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }
}
