import DLMSWire
import Testing
@testable import DLMSCapture

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct LiveSocketTests {
    @Test func addressesParseWithAndWithoutHost() throws {
        let a = try LiveSocket.parse("127.0.0.1:4059", hostOptional: false)
        #expect(a.host == "127.0.0.1" && a.port == 4059)
        let b = try LiveSocket.parse("[::1]:2000", hostOptional: false)
        #expect(b.host == "::1" && b.port == 2000)
        let c = try LiveSocket.parse("4059", hostOptional: true)
        #expect(c.host == nil && c.port == 4059)
        let d = try LiveSocket.parse(":4059", hostOptional: true)
        #expect(d.host == nil && d.port == 4059)
        let e = try LiveSocket.parse("meter-gw.local:4061", hostOptional: false)
        #expect(e.host == "meter-gw.local" && e.port == 4061)
    }

    @Test func badAddressesAreOneLineErrors() {
        for text in ["4059", "host:", "host:70000", "host:x", "[::1]2000", "[::1", "::1:2000", ""] {
            #expect(throws: CaptureError.self, "\(text)") { _ = try LiveSocket.parse(text, hostOptional: false) }
        }
        #expect(throws: CaptureError.self) { _ = try LiveSocket.parse("99999", hostOptional: true) }
    }

    @Test func resolvedLoopbackGivesTheEndpoint() throws {
        let v4 = try LiveSocket.resolve(host: "127.0.0.1", port: 4059, kind: .stream, passive: false)
        #expect(v4.first?.endpoint == Endpoint(address: [127, 0, 0, 1], port: 4059))
        let v6 = try LiveSocket.resolve(host: "::1", port: 80, kind: .datagram, passive: false)
        #expect(v6.first?.endpoint.description == "[0:0:0:0:0:0:0:1]:80")
        #expect(throws: CaptureError.self) {
            _ = try LiveSocket.resolve(host: "no-such-host.invalid", port: 1, kind: .stream, passive: false)
        }
    }
}

// MARK: - Test helpers: plain blocking sockets on 127.0.0.1, and the byte streams of the Gurux captures

/// Blocking test sockets on 127.0.0.1. Every call that could wait has a receive timeout, so a broken test fails
/// instead of hanging.
enum TestSocket {
    static func address(port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return a
    }

    static func socketFD(_ kind: SocketKind) -> Int32 {
        let fd = socket(AF_INET, kind.rawValue, 0)
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// A TCP listening socket on 127.0.0.1 and a free port.
    static func listenTCP() throws -> (fd: Int32, port: UInt16) {
        let fd = socketFD(.stream)
        try #require(fd >= 0)
        var a = address(port: 0)
        let ok = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(ok == 0 && listen(fd, 16) == 0)
        return (fd, localPort(fd))
    }

    static func localPort(_ fd: Int32) -> UInt16 { LiveSocket.localAddress(fd).endpoint.port }
    static func localEndpoint(_ fd: Int32) -> Endpoint { LiveSocket.localAddress(fd).endpoint }

    /// A blocking TCP connection to 127.0.0.1:`port`.
    static func connectTCP(port: UInt16) throws -> Int32 {
        let fd = socketFD(.stream)
        try #require(fd >= 0)
        var a = address(port: port)
        let rc = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(rc == 0, "connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        return fd
    }

    static func acceptOne(_ listener: Int32) throws -> Int32 {
        let fd = accept(listener, nil, nil)
        try #require(fd >= 0)
        return fd
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            try #require(n > 0, "send: \(String(cString: strerror(errno)))")
            sent += n
        }
    }

    /// Reads until end of file (or the 5 s receive timeout).
    static func readToEnd(_ fd: Int32) -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return out }
            out += buf[0..<n]
        }
    }

    static func sendDatagram(_ fd: Int32, _ bytes: [UInt8], port: UInt16) throws {
        var a = address(port: port)
        let n = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bytes.withUnsafeBufferPointer {
                    sendto(fd, $0.baseAddress, $0.count, 0, sa, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        try #require(n == bytes.count)
    }

    /// A UDP socket bound to 127.0.0.1 (so its endpoint is known before it sends).
    static func boundUDP() throws -> Int32 {
        let fd = socketFD(.datagram)
        try #require(fd >= 0)
        var a = address(port: 0)
        let ok = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(ok == 0)
        return fd
    }
}

enum GuruxStreams {
    /// The application payloads the connection initiator (the side that sent the SYN) sent, segment by segment
    /// and in order, in a Gurux capture: for wrapper-none the client's wrapper frames (AARQ, GET, SET, ACTION,
    /// RLRQ), for wrapper-push-glo the meter's pushed DataNotifications.
    static func initiatorSegments(_ capture: String) throws -> [[UInt8]] {
        var reassembler = TCPReassembler()
        var events: [StreamEvent] = []
        for p in try Fixtures.packets("gurux/" + capture) { events += reassembler.process(p) }
        events += reassembler.finish()
        var initiator: Endpoint?
        var segments: [[UInt8]] = []
        for e in events {
            switch e {
            case .opened(_, _, _, _, let i, _, _): initiator = initiator ?? i
            case .data(_, let from, _, let bytes, _, _) where from == initiator: segments.append(Array(bytes))
            default: break
            }
        }
        return segments
    }

    static func raw(_ name: String) throws -> [UInt8] {
        let reader = try RawStreamReader(path: Fixtures.capture("gurux/" + name))
        return try reader.readAll()
    }
}

/// A plain POSIX thread for the far end of a live test (the meter writing to a pseudo-terminal), joined by the
/// test. Not the Swift concurrency pool: a blocking writer there could starve the parallel tests on 2 cores.
struct TestThread {
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
