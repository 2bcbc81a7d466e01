import DLMSWire
import Testing
@testable import DLMSCapture

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Meters pushing to the listener: test clients send the DataNotifications of Captures/gurux/wrapper-push-glo
/// (the meter's side of that capture, wrapper frames produced by Gurux GXDLMSSecureNotify) over TCP and UDP.
@Suite struct LivePushListenerTests {
    struct Conversation {
        var peer: Endpoint?
        var proto: IPProtocol?
        var chunks: [[UInt8]] = []
        var closedReason: String?
        var bytes: [UInt8] { chunks.flatMap { $0 } }
    }

    /// Drives the listener until `done` says so (or the stop flag), sorting events by connection.
    static func collect(_ listener: PushListener, into conversations: inout [ConnectionID: Conversation],
                        notices: inout [String],
                        until done: ([ConnectionID: Conversation], [String]) -> Bool) throws {
        while !done(conversations, notices), let e = try listener.next() {
            apply(e, to: &conversations, notices: &notices)
        }
    }

    static func apply(_ e: StreamEvent, to conversations: inout [ConnectionID: Conversation],
                      notices: inout [String]) {
        switch e {
        case .opened(let id, let proto, let a, _, let initiator, _, _):
            #expect(conversations[id] == nil, "connection \(id.value) opened twice")
            #expect(initiator == a)
            conversations[id] = Conversation(peer: a, proto: proto)
        case .data(let id, let from, _, let bytes, _, _):
            #expect(conversations[id]?.peer == from)
            conversations[id, default: Conversation()].chunks.append(Array(bytes))
        case .closed(let id, let reason, _, _):
            conversations[id, default: Conversation()].closedReason = reason
        case .notice(_, let code, let message, _, _):
            notices.append("\(code): \(message)")
        case .gap:
            Issue.record("a listener never reports gaps")
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func twoMetersPushingOverTCPAreTwoConversationsWithTheirBytesAndNothingIsSentBack() throws {
        let pushes = try GuruxStreams.initiatorSegments("wrapper-push-glo.pcap")
        try #require(pushes.count == 3)  // README: 3 DataNotifications
        #expect(pushes.allSatisfy { $0.starts(with: [0x00, 0x01]) })  // wrapper version 1
        let stop = StopFlag(after: 20)
        let listener = try PushListener(host: "127.0.0.1", port: 0, stop: stop)
        #expect(listener.local.address == [127, 0, 0, 1] && listener.local.port != 0)

        // Two meters connect; their pushes interleave.
        let meterA = try TestSocket.connectTCP(port: listener.local.port)
        let meterB = try TestSocket.connectTCP(port: listener.local.port)
        defer {
            close(meterA)
            close(meterB)
        }
        for p in pushes {
            try TestSocket.sendAll(meterA, p)
            try TestSocket.sendAll(meterB, p.reversed())
        }
        // Half-close: the listener sees the end; it must not have written anything for the meters to read.
        shutdown(meterA, Int32(SHUT_WR))
        shutdown(meterB, Int32(SHUT_WR))

        var conversations: [ConnectionID: Conversation] = [:]
        var notices: [String] = []
        try LivePushListenerTests.collect(listener, into: &conversations, notices: &notices) { c, _ in
            c.count == 2 && c.values.allSatisfy { $0.closedReason != nil }
        }
        #expect(stop.reason == nil)
        #expect(notices.isEmpty)
        let byPeer = Dictionary(uniqueKeysWithValues: conversations.values.compactMap { c in c.peer.map { ($0, c) } })
        let a = try #require(byPeer[TestSocket.localEndpoint(meterA)])
        let b = try #require(byPeer[TestSocket.localEndpoint(meterB)])
        let aSame = a.bytes == pushes.flatMap { $0 }
        let bSame = b.bytes == pushes.flatMap { $0.reversed() }
        #expect(aSame && bSame, "A \(a.bytes.count) bytes, B \(b.bytes.count) bytes")
        #expect(a.proto == .tcp && b.proto == .tcp)
        #expect(a.closedReason == "closed by \(TestSocket.localEndpoint(meterA))")
        #expect(Set(conversations.keys.map(\.value)) == [1, 2])
        #expect(TestSocket.readToEnd(meterA).isEmpty && TestSocket.readToEnd(meterB).isEmpty)
        #expect(listener.openCount == 0)
        #expect(listener.shutdown().isEmpty)
    }

    @Test(.timeLimit(.minutes(1)))
    func udpDatagramsArriveWholeAndEachPeerIsOneConversation() throws {
        let pushes = try GuruxStreams.initiatorSegments("wrapper-push-glo.pcap")
        let stop = StopFlag(after: 20)
        let listener = try PushListener(host: "127.0.0.1", port: 0, transport: .udp, stop: stop)
        let meterA = try TestSocket.boundUDP()
        let meterB = try TestSocket.boundUDP()
        defer {
            close(meterA)
            close(meterB)
        }
        for p in pushes { try TestSocket.sendDatagram(meterA, p, port: listener.local.port) }
        try TestSocket.sendDatagram(meterB, pushes[0], port: listener.local.port)

        var conversations: [ConnectionID: Conversation] = [:]
        var notices: [String] = []
        try LivePushListenerTests.collect(listener, into: &conversations, notices: &notices) { c, _ in
            c.values.map(\.chunks.count).reduce(0, +) == pushes.count + 1
        }
        #expect(stop.reason == nil)
        let byPeer = Dictionary(uniqueKeysWithValues: conversations.values.compactMap { c in c.peer.map { ($0, c) } })
        let a = try #require(byPeer[TestSocket.localEndpoint(meterA)])
        let b = try #require(byPeer[TestSocket.localEndpoint(meterB)])
        let aSame = a.chunks == pushes
        #expect(aSame, "A: \(a.chunks.map(\.count)) vs \(pushes.map(\.count))")
        #expect(b.chunks == [pushes[0]])
        #expect(a.proto == .udp && b.proto == .udp)
        #expect(listener.openCount == 2)

        let closing = listener.shutdown(reason: "capture stopped")
        for e in closing { LivePushListenerTests.apply(e, to: &conversations, notices: &notices) }
        #expect(closing.count == 2)
        #expect(conversations.values.allSatisfy { $0.closedReason == "capture stopped" })
        #expect(try listener.next() == nil)
    }

    @Test(.timeLimit(.minutes(1)))
    func connectionsOverTheLimitAreRefusedAndIdleOnesClosed() throws {
        let stop = StopFlag(after: 20)
        let listener = try PushListener(host: "127.0.0.1", port: 0, maxConnections: 1, idleTimeout: 0.2, stop: stop)
        let first = try TestSocket.connectTCP(port: listener.local.port)
        defer { close(first) }
        var conversations: [ConnectionID: Conversation] = [:]
        var notices: [String] = []
        try LivePushListenerTests.collect(listener, into: &conversations, notices: &notices) { c, _ in c.count == 1 }
        let second = try TestSocket.connectTCP(port: listener.local.port)
        defer { close(second) }
        try LivePushListenerTests.collect(listener, into: &conversations, notices: &notices) { !$1.isEmpty }
        #expect(notices.first?.hasPrefix("listen.refused: connection from 127.0.0.1:") == true, "\(notices)")
        #expect(TestSocket.readToEnd(second).isEmpty)  // closed unread, nothing sent
        try LivePushListenerTests.collect(listener, into: &conversations, notices: &notices) { c, _ in
            c.values.allSatisfy { $0.closedReason != nil }
        }
        #expect(conversations.count == 1)
        #expect(conversations.values.first?.closedReason == "idle timeout")
        #expect(stop.reason == nil)
    }

    @Test func aSilentListenerStopsShortlyAfterTheDeadlineAndBusyPortsAreErrors() throws {
        let stop = StopFlag(after: 0.2)
        let listener = try PushListener(host: "127.0.0.1", port: 0, stop: stop)
        let start = LiveClock.monotonicNanos()
        #expect(try listener.next() == nil)
        let elapsed = Double(LiveClock.monotonicNanos() - start) / 1e9
        #expect(elapsed >= 0.15 && elapsed < 1.5, "stopped after \(elapsed) s")

        let busy = try TestSocket.listenTCP()
        defer { close(busy.fd) }
        do throws(CaptureError) {
            _ = try PushListener(host: "127.0.0.1", port: busy.port)
            Issue.record("bound a busy port")
        } catch {
            #expect(error.message == "cannot listen on tcp 127.0.0.1:\(busy.port): Address already in use")
        }
    }

    @Test func theWildcardListenerAcceptsIPv4Peers() throws {
        let listener = try PushListener(port: 0, stop: StopFlag(after: 10))
        let meter = try TestSocket.connectTCP(port: listener.local.port)
        defer { close(meter) }
        var conversations: [ConnectionID: Conversation] = [:]
        var notices: [String] = []
        try LivePushListenerTests.collect(listener, into: &conversations, notices: &notices) { c, _ in c.count == 1 }
        // A dual-stack socket sees ::ffff:127.0.0.1; the endpoint is the plain IPv4 one.
        #expect(conversations.values.first?.peer == TestSocket.localEndpoint(meter))
        #expect(listener.shutdown().count == 1)
    }
}
