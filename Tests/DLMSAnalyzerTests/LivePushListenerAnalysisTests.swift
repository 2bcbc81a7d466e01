import DLMSAnalyzer
import DLMSCapture
import DLMSWire
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `dlmsdump --listen [HOST:]PORT [--udp]` end to end: a test client plays the meter of
/// Captures/gurux/wrapper-push-glo.pcap and pushes its three DataNotifications (general-glo-ciphering, over the
/// wrapper) to a `PushListener` on 127.0.0.1; `analyseListener` decodes them with Keyring/wrapper-push-glo.json.
@Suite struct LivePushListenerAnalysisTests {
    static let keyring = "wrapper-push-glo.json"

    /// The meter's pushes: the payloads it sent in the capture, one wrapper frame each.
    static func pushes() throws -> [[UInt8]] {
        let segments = try LiveFixtures.tcpSegments("gurux/wrapper-push-glo.pcap")
        let allFromTheMeter = segments.allSatisfy { $0.fromInitiator }
        try #require(allFromTheMeter)
        return segments.map { $0.bytes }
    }

    /// The records (verified, decrypted) equal those of the pcap, frame numbers aside (the listener counts reads).
    @Test(.timeLimit(.minutes(1)), arguments: PushListener.Transport.allCases)
    func pushesFromATestMeterDecodeLikeThePcap(_ transport: PushListener.Transport) throws {
        let pushes = try Self.pushes()
        try #require(pushes.count == 3)
        let pcapRecords = try fileRecords(Fixtures.capture("gurux/wrapper-push-glo.pcap"), keyring: Self.keyring)
        let expected = LiveComparison.comparable(pcapRecords, keepFrameNumbers: false)
        try #require(LiveComparison.apdus(expected).count == 3)

        let stop = StopFlag(after: 20)
        let listener = try PushListener(host: "127.0.0.1", port: 0, transport: transport, stop: stop)
        let port = listener.local.port
        let log = PeerLog()
        let meter = try PeerThread {
            if transport == .tcp {
                let fd = LiveIO.connectTCP(port: port)
                guard fd >= 0 else { return log.fail("connect failed") }
                for p in pushes where !LiveIO.sendAll(fd, p[...]) { log.fail("send failed") }
                // The meter closes (as in the capture) only after the listener has read everything: a listener
                // never answers, so the read ends with the listener's close at shutdown.
                if !LiveIO.readToEnd(fd).isEmpty { log.fail("the listener sent bytes; it must never answer") }
                close(fd)
            } else {
                let fd = LiveIO.socketFD(stream: false)
                guard fd >= 0, LiveIO.bindLoopback(fd, port: 0) else { return log.fail("no UDP socket") }
                for p in pushes where !LiveIO.sendDatagram(fd, p, port: port) { log.fail("sendto failed") }
                close(fd)
            }
            log.note("pushed")
        }
        // -c 3: stop once the three pushes are decoded.
        let live = try LiveRun(keyring: Self.keyring) { $0.analyseListener(listener, stop: stop, count: 3) }
        meter.join()

        #expect(log.problems.isEmpty, "\(log.problems)")
        #expect(log.steps == ["pushed"])
        #expect(stop.reason == .requested)
        let got = LiveComparison.comparable(live.records, keepFrameNumbers: false)
        #expect(LiveComparison.difference(got, expected) == nil, "\(LiveComparison.difference(got, expected) ?? "")")
        let apdus = LiveComparison.apdus(live.records)
        #expect(apdus.count == 3)
        #expect(apdus.allSatisfy { $0["security"]?["verdict"]?.string == "verified" })
        #expect(apdus.compactMap { $0["plain"]?["type"]?.string } == Array(repeating: "data-notification", count: 3))
        let conversations = live.records.filter { LiveComparison.kind($0) == "conversation" }
        #expect(conversations.count == 1 && conversations.first?["carrier"]?.string == transport.rawValue,
                "\(conversations.map(LiveComparison.render))")
        #expect(live.summary?["verdicts"]?["verified"] == .int(3))
    }

    /// The CLI: SIGINT to a running `dlmsdump --listen 127.0.0.1:0 --format jsonl` after three pushes and half of
    /// a fourth: exit status 0, the three verified records and the summary record flushed on stdout, the cut push
    /// reported as truncated, and the summary line on stderr.
    @Test(.timeLimit(.minutes(1)))
    func sigintStopsTheListenerCleanlyWithFlushedOutputAndASummary() throws {
        let pushes = try Self.pushes()
        let child = try LiveProcess(["--listen", "127.0.0.1:0", "--format", "jsonl",
                                     "--keyring", Fixtures.keyring(Self.keyring)])
        let announced = child.pump(for: 15) { $0.stderrText.contains("listening for pushes on tcp 127.0.0.1:") }
        try #require(announced, "no listening line: \(child.stderrText)")
        let portText = try #require(child.stderrText.split(separator: "\n")
            .first { $0.contains("listening for pushes on tcp 127.0.0.1:") }?.split(separator: ":").last)
        let port = try #require(UInt16(portText))

        let fd = LiveIO.connectTCP(port: port)
        try #require(fd >= 0)
        defer { close(fd) }
        for p in pushes { try #require(LiveIO.sendAll(fd, p[...])) }
        // Half of another push: the stream ends inside a wrapper frame when the listener stops.
        let cut = Array(pushes[0].prefix(pushes[0].count / 2))
        try #require(LiveIO.sendAll(fd, cut[...]))
        let decoded = child.pump(for: 15) { $0.stdoutText.components(separatedBy: #""kind":"apdu""#).count == 4 }
        #expect(decoded, "the pushes were not decoded: \(child.stdoutText) \(child.stderrText)")
        // The records were on stdout before the signal: written as each APDU completed.
        child.process.interrupt()
        let status = child.finish(within: 15)

        #expect(status == 0, "\(child.stderrText)")
        let records = try child.records()
        let apdus = LiveComparison.apdus(records)
        try #require(apdus.count == 4, "\(records.map(LiveComparison.render))")
        #expect(apdus.prefix(3).allSatisfy { $0["security"]?["verdict"]?.string == "verified" })
        // The cut push: reported where the stream ended, with what arrived of it.
        let cutCodes = (apdus[3]["errors"]?.array ?? []).compactMap { $0["code"]?.string }
        #expect(cutCodes.contains("wrapper.truncated"), "\(LiveComparison.render(apdus[3]))")
        #expect(apdus[3]["apdu"]?["hex"]?.string == Hex.encode(cut.dropFirst(8)))
        #expect(apdus[3]["security"]?["verdict"]?.string != "verified")
        #expect(LiveComparison.errorCodes(records).contains("wrapper.truncated"))
        #expect(records.last?["kind"]?.string == "summary" && records.last?["apdus"] == .int(4))
        let err = child.stderrText
        #expect(err.contains("dlmsdump: 4 APDUs, 1 errors, verdicts: verified 3"), "\(err)")
        #expect(err.hasSuffix("(stopped: SIGINT)\n"), "\(err)")
    }

    /// A parent that runs dlmsdump with SIGINT and SIGTERM blocked (as Foundation's `Process` does from a thread
    /// that blocks them: a supervisor written in Swift, this test runner) must still be able to stop it: dlmsdump
    /// unblocks the signals it installs handlers for.
    @Test(.timeLimit(.minutes(1)))
    func sigintStopsTheListenerEvenWhenTheParentBlockedTheSignal() throws {
        let child = try LiveProcess(["--listen", "127.0.0.1:0", "--format", "jsonl"], signalsBlocked: true)
        let announced = child.pump(for: 15) { $0.stderrText.contains("listening for pushes on tcp 127.0.0.1:") }
        try #require(announced, "no listening line: \(child.stderrText)")
        if let blocked = child.blockedSignals {
            #expect(blocked & (1 << (UInt64(SIGINT) - 1) | 1 << (UInt64(SIGTERM) - 1)) == 0,
                    "SigBlk \(String(blocked, radix: 16))")
        }
        child.process.interrupt()
        let status = child.finish(within: 3)
        #expect(status == 0, "\(child.stderrText)")
    }
}
