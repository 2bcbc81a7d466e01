import DLMSWire
import Testing
@testable import DLMSCapture

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A loopback listener in the test plays ser2net: it serves the raw HDLC stream of Captures/gurux/hdlc-none.raw,
/// drops the connection once in the middle of a frame, and serves the rest to the reconnected tap. The test runs
/// both ends on one thread: the kernel completes the tap's connect into the listen backlog, so the test accepts
/// after the tap has connected.
@Suite struct LiveTCPTapSourceTests {
    @Test(.timeLimit(.minutes(1)))
    func tapReconnectsAfterADropAndDeliversEveryByteInOrder() throws {
        let file = try GuruxStreams.raw("hdlc-none.raw")
        let cut = 7_777  // inside a frame
        let server = try TestSocket.listenTCP()
        defer { close(server.fd) }
        let stop = StopFlag(after: 20)
        let tap = try TCPTapSource(address: "127.0.0.1:\(server.port)", backoff: Backoff(initial: 0.05, maximum: 1),
                                   stop: stop)

        var events: [TapEvent] = []
        var bytes: [UInt8] = []
        /// Reads events until one that is not data.
        func readUntilNotData() throws -> TapEvent? {
            while let e = try tap.next() {
                events.append(e)
                guard case .data(let c) = e else { return e }
                bytes += c.bytes
            }
            return nil
        }

        guard case .connected(let peer, _)? = try readUntilNotData() else {
            Issue.record("no connection: \(events)")
            return
        }
        #expect(peer == "127.0.0.1:\(server.port)")
        let first = try TestSocket.acceptOne(server.fd)
        try TestSocket.sendAll(first, Array(file[..<cut]))
        close(first)
        guard case .disconnected(let reason, _, let retryIn)? = try readUntilNotData() else {
            Issue.record("the drop was not reported: \(events.count) events")
            return
        }
        #expect(reason == "the tap 127.0.0.1:\(server.port) closed the connection")
        #expect(retryIn == 0.05)
        #expect(bytes.count == cut)

        let start = LiveClock.monotonicNanos()
        guard case .connected? = try readUntilNotData() else {
            Issue.record("no reconnection")
            return
        }
        let waited = Double(LiveClock.monotonicNanos() - start) / 1e9
        #expect(waited >= 0.04, "reconnected after \(waited) s, before the backoff")
        let second = try TestSocket.acceptOne(server.fd)
        try TestSocket.sendAll(second, Array(file[cut...]))
        close(second)
        guard case .disconnected? = try readUntilNotData() else {
            Issue.record("the second drop was not reported")
            return
        }
        let same = bytes == file
        #expect(same, "\(bytes.count) of \(file.count) bytes")
        #expect(tap.connections == 2)
        #expect(tap.bytesRead == file.count)
        let kinds = events.compactMap { e -> String? in
            switch e {
            case .connected: "connected"
            case .disconnected: "disconnected"
            case .data: nil
            }
        }
        #expect(kinds == ["connected", "disconnected", "connected", "disconnected"])
        #expect(stop.reason == nil)
        tap.close()
        #expect(try tap.next() == nil)
    }

    /// Nobody listens: every attempt fails at once ("Connection refused") and the delay doubles up to the cap.
    @Test(.timeLimit(.minutes(1)))
    func refusedConnectionsBackOffExponentiallyUpToTheCap() throws {
        let port: UInt16
        do {
            let s = try TestSocket.listenTCP()
            port = s.port
            close(s.fd)  // the port is now closed
        }
        let stop = StopFlag(after: 10)
        let tap = try TCPTapSource(host: "127.0.0.1", port: port, backoff: Backoff(initial: 0.01, maximum: 0.04),
                                   stop: stop)
        var delays: [Double] = []
        while delays.count < 5, let e = try tap.next() {
            guard case .disconnected(let reason, _, let retryIn) = e else {
                Issue.record("unexpected \(e)")
                return
            }
            #expect(reason == "connect to 127.0.0.1:\(port) failed: Connection refused")
            delays.append(retryIn)
        }
        #expect(delays == [0.01, 0.02, 0.04, 0.04, 0.04])
        #expect(tap.connections == 0)
    }

    @Test func stopFlagEndsTheBackoffWaitPromptly() throws {
        let port: UInt16
        do {
            let s = try TestSocket.listenTCP()
            port = s.port
            close(s.fd)
        }
        let stop = StopFlag(after: 0.3)
        let tap = try TCPTapSource(host: "127.0.0.1", port: port, backoff: Backoff(initial: 30, maximum: 30),
                                   stop: stop)
        guard case .disconnected(_, _, let retryIn)? = try tap.next() else {
            Issue.record("expected a refused connection")
            return
        }
        #expect(retryIn == 30)
        let start = LiveClock.monotonicNanos()
        #expect(try tap.next() == nil)
        let elapsed = Double(LiveClock.monotonicNanos() - start) / 1e9
        #expect(elapsed < 1.5, "the 30 s backoff held the stop for \(elapsed) s")
    }

    @Test func badAddressesFailAtOnce() {
        #expect(throws: CaptureError.self) { _ = try TCPTapSource(address: "2000") }
        #expect(throws: CaptureError.self) { _ = try TCPTapSource(address: "no-such-host.invalid:2000") }
    }
}
