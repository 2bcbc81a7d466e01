import DLMSAnalyzer
import DLMSCapture
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `dlmsdump -i lo [-w FILE]` end to end: the test plays the DLMS conversation of
/// Captures/gurux/wrapper-none.pcap over a real loopback TCP connection (a client socket sends the client's
/// wrapper frames, a server socket answers with the server's, segment by segment in the capture's order) while
/// `LiveInterfaceSource` captures on `lo` and `analyseInterface` decodes. Tests run as root in CI; without capture
/// permission they are skipped and say why.
@Suite struct LiveInterfaceAnalysisTests {
    /// nil when capture on `lo` works; otherwise the one-line permission error. Any other failure to open `lo`
    /// lets the test run (and fail), so a broken capture path is never mistaken for a missing permission.
    static let permissionProblem: String? = {
        do throws(CaptureError) {
            _ = try LiveInterfaceSource(interface: "lo", filter: "tcp port 9")
            return nil
        } catch {
            return error.message.contains("needs root or CAP_NET_RAW") ? error.message : nil
        }
    }()

    static var capturePermitted: Bool { permissionProblem == nil }

    /// Plays a capture's TCP conversation over loopback from a peer thread: a client connects to `server`, and
    /// each segment is sent by its side and received in full by the other before the next one is sent (the
    /// capture's order); then the client closes.
    static func play(_ segments: [(fromInitiator: Bool, bytes: [UInt8])], server: (fd: Int32, port: UInt16),
                     log: PeerLog) throws -> PeerThread {
        try PeerThread {
            let client = LiveIO.connectTCP(port: server.port)
            guard client >= 0 else { return log.fail("connect failed") }
            defer { close(client) }
            let accepted = LiveIO.acceptOne(server.fd, within: 5)
            guard accepted >= 0 else { return log.fail("accept failed") }
            defer { close(accepted) }
            for (i, s) in segments.enumerated() {
                let (from, to) = s.fromInitiator ? (client, accepted) : (accepted, client)
                guard LiveIO.sendAll(from, s.bytes[...]) else { return log.fail("segment \(i): send failed") }
                guard LiveIO.readExactly(to, s.bytes.count) == s.bytes else {
                    return log.fail("segment \(i): not received intact")
                }
            }
            shutdown(client, Int32(SHUT_WR))
            if !LiveIO.readToEnd(accepted).isEmpty { log.fail("bytes after the last segment") }
            log.note("played \(segments.count) segments")
        }
    }

    /// The APDU records of the live capture equal those of wrapper-none.pcap (frame numbers aside: the live
    /// capture numbers its own packets), and the `-w` file gives exactly the live records, frame numbers included.
    @Test(.enabled(if: capturePermitted, "capture on lo needs root or CAP_NET_RAW: skipped, not passed"),
          .timeLimit(.minutes(1)))
    func conversationPlayedOverLoopbackDecodesLikeThePcap() throws {
        let pcap = Fixtures.capture("gurux/wrapper-none.pcap")
        let segments = try LiveFixtures.tcpSegments("gurux/wrapper-none.pcap")
        try #require(segments.count > 40 && segments.contains { !$0.fromInitiator })
        let pcapRecords = try fileRecords(pcap)
        let expected = LiveComparison.comparable(pcapRecords, keepFrameNumbers: false)
        let apduCount = LiveComparison.apdus(pcapRecords).count
        try #require(apduCount == 118)

        let server = try LiveIO.listenTCP()
        defer { close(server.fd) }
        let stop = StopFlag(after: 20)
        let source = try LiveInterfaceSource(interface: "lo", filter: "tcp port \(server.port)", snaplen: 65535,
                                             promiscuous: false, stop: stop)
        let dumpPath = LiveIO.temporaryPath("live.pcap")
        let dump = try PcapDumpWriter(path: dumpPath, linkType: source.linkType, snaplen: source.snapshotLength)

        let log = PeerLog()
        let player = try Self.play(segments, server: server, log: log)
        // -c: stop once the conversation's APDUs are in (the deadline only guards against a hang).
        let live = try LiveRun { $0.analyseInterface(source, dump: dump, stop: stop, count: apduCount) }
        player.join()
        let stats = source.statistics
        try dump.flush()
        dump.close()

        #expect(log.problems.isEmpty, "\(log.problems)")
        #expect(log.steps == ["played \(segments.count) segments"])
        #expect(stop.reason == .requested, "stopped by \(stop.reason.map { "\($0)" } ?? "nothing")")
        #expect(stats?.dropped == 0)
        let got = LiveComparison.comparable(live.records, keepFrameNumbers: false)
        #expect(LiveComparison.difference(got, expected) == nil, "\(LiveComparison.difference(got, expected) ?? "")")
        let conversations = live.records.filter { LiveComparison.kind($0) == "conversation" }
        #expect(conversations.count == 1 && conversations.first?["carrier"]?.string == "tcp")
        #expect(conversations.first?["server"]?.string == "127.0.0.1:\(server.port)")
        #expect(conversations.first?["source"]?.string == "lo")

        // The -w file is the live capture: analysed as a file it gives the live records exactly.
        let replay = LiveComparison.comparable(try fileRecords(dumpPath), keepTimes: true)
        let liveExact = LiveComparison.comparable(live.records, keepTimes: true)
        #expect(LiveComparison.difference(replay, liveExact) == nil,
                "\(LiveComparison.difference(replay, liveExact) ?? "")")
    }

    /// The CLI: `dlmsdump -i lo -f "tcp port P" -p -c 118 -w FILE --format jsonl` while the conversation is played:
    /// exit status 0 once the 118th APDU is shown, the pcap's records on stdout, the capture line and the summary
    /// (with the kernel's drop counters) on stderr, and the `-w` file analysed gives stdout's records again.
    @Test(.enabled(if: capturePermitted, "capture on lo needs root or CAP_NET_RAW: skipped, not passed"),
          .timeLimit(.minutes(1)))
    func cliCaptureOnLoopbackStopsAfterCountAndWritesTheCapture() throws {
        let segments = try LiveFixtures.tcpSegments("gurux/wrapper-none.pcap")
        let pcapRecords = try fileRecords(Fixtures.capture("gurux/wrapper-none.pcap"))
        let expected = LiveComparison.comparable(pcapRecords, keepFrameNumbers: false)
        let server = try LiveIO.listenTCP()
        defer { close(server.fd) }
        let dumpPath = LiveIO.temporaryPath("cli.pcap")
        let child = try LiveProcess(["-i", "lo", "-f", "tcp port \(server.port)", "-p", "-c", "118", "-w", dumpPath,
                                     "--format", "jsonl"])
        let listening = child.pump(for: 15) { $0.stderrText.contains("dlmsdump: listening on lo") }
        try #require(listening, "\(child.stderrText)")
        let log = PeerLog()
        let player = try Self.play(segments, server: server, log: log)
        let status = child.finish(within: 20)
        player.join()

        #expect(log.problems.isEmpty, "\(log.problems)")
        #expect(status == 0, "\(child.stderrText)")
        let records = try child.records()
        let got = LiveComparison.comparable(records, keepFrameNumbers: false)
        #expect(LiveComparison.difference(got, expected) == nil, "\(LiveComparison.difference(got, expected) ?? "")")
        let err = child.stderrText
        #expect(err.contains("dlmsdump: 118 APDUs, 0 errors;") && err.contains(" 0 dropped by the kernel"), "\(err)")
        #expect(err.hasSuffix("(stopped: stop requested)\n"), "\(err)")
        let replay = LiveComparison.comparable(try fileRecords(dumpPath), keepTimes: true)
        let shown = LiveComparison.comparable(records, keepTimes: true)
        #expect(LiveComparison.difference(replay, shown) == nil, "\(LiveComparison.difference(replay, shown) ?? "")")
    }
}
