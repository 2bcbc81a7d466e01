import DLMSAnalyzer
import DLMSCapture
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `dlmsdump --tcp-tap HOST:PORT` end to end: a loopback TCP server in the test plays a terminal server (ser2net
/// in raw mode) streaming the bytes of a tapped serial line, Captures/gurux/hdlc-none.raw. It drops the
/// connection once, in the middle of an HDLC frame, and serves the rest of the stream on the next connection.
@Suite struct LiveTCPTapAnalysisTests {
    /// Serves `bytes` to a `TCPTapSource` from a loopback server that drops the connection after `cut` bytes and
    /// serves the rest on the next one, and decodes what the tap delivers (with `--save`). Checks the connection
    /// handling on the way; returns the run, the server's port and the save file.
    static func runTap(_ bytes: [UInt8], cut: Int) throws -> (live: LiveRun, port: UInt16, savePath: String) {
        let server = try LiveIO.listenTCP()
        let log = PeerLog()
        let peer = try PeerThread {
            defer { close(server.fd) }
            // First connection: the stream up to the middle of the frame, then the tap host drops it.
            let first = LiveIO.acceptOne(server.fd, within: 10)
            guard first >= 0 else { return log.fail("the tap did not connect") }
            log.note("connection 1")
            if !LiveIO.pacedWrite(first, bytes[..<cut], seed: 1, maxChunk: 512) { log.fail("send 1 failed") }
            close(first)
            // Second connection (after the tap's backoff): the rest, then wait until the tap stops.
            let second = LiveIO.acceptOne(server.fd, within: 10)
            guard second >= 0 else { return log.fail("the tap did not reconnect") }
            log.note("connection 2")
            if !LiveIO.pacedWrite(second, bytes[cut...], seed: 2, maxChunk: 512) { log.fail("send 2 failed") }
            _ = LiveIO.readToEnd(second)
            close(second)
        }
        let stop = StopFlag(after: 20)
        let tap = try TCPTapSource(host: "127.0.0.1", port: server.port, backoff: Backoff(initial: 0.05, maximum: 0.2),
                                   connectTimeout: 2, stop: stop)
        let source = StopAfterBytes(tap, total: bytes.count, stop: stop)
        let savePath = LiveIO.temporaryPath("tap.dlmsraw")
        let save = try TimedRawWriter(path: savePath)
        let live = try LiveRun { $0.analyseByteStream(source, save: save, stop: stop, count: nil) }
        save.close()
        peer.join()

        #expect(log.problems.isEmpty, "\(log.problems)")
        #expect(log.steps == ["connection 1", "connection 2"])
        #expect(stop.reason == .requested, "\(source.delivered) of \(bytes.count) bytes arrived")
        #expect(tap.connections == 2)
        #expect(source.events.count == 3 && source.events[1].contains("closed the connection"), "\(source.events)")
        #expect(live.notices.filter { $0 == "connected to 127.0.0.1:\(server.port)" }.count == 2, "\(live.notices)")
        #expect(live.notices.contains { $0.contains("closed the connection; retrying in 0.05 s") }, "\(live.notices)")

        return (live, server.port, savePath)
    }

    /// The records equal those of `--input raw` of the same file, except at the documented break: one
    /// `tap.disconnected` record, and the frame cut at the break (its APDU is lost, the stream resynchronises on the
    /// next frame). The `--save` file replays to the same records, break included.
    @Test(.timeLimit(.minutes(1)))
    func tapThatDropsMidFrameDecodesLikeTheFileExceptTheBreak() throws {
        let path = Fixtures.capture("gurux/hdlc-none.raw")
        let bytes = try LiveFixtures.bytes("gurux/hdlc-none.raw")
        let ranges = try #require(LiveFixtures.hdlcFrameRanges(bytes))
        let file = LiveComparison.comparable(try fileRecords(path, input: .raw))
        // Cut in the middle of a frame that carries a whole APDU on its own, half-way through the session.
        let single = LiveComparison.apdus(file).filter { $0["frames"]?.array?.count == 1 }
        let middle = Int64(ranges.count / 2)
        let victim = try #require(single.min { abs(($0["frames"]?[0]?.int ?? 0) - middle)
                < abs(($1["frames"]?[0]?.int ?? 0) - middle) })
        let cutFrame = Int(try #require(victim["frames"]?[0]?.int))
        let range = ranges[cutFrame - 1]
        let cut = range.lowerBound + range.count / 2
        func frames(_ r: JSONValue) -> [Int] { (r["frames"]?.array ?? []).compactMap { $0.int.map(Int.init) } }
        let fileBefore = Array(file.prefix { frames($0).allSatisfy { $0 < cutFrame } })
        let fileAfter = file.filter { r in !frames(r).isEmpty && frames(r).allSatisfy { $0 > cutFrame } }
        try #require(fileBefore.count > 50 && fileAfter.count > 50)

        let (live, port, savePath) = try Self.runTap(bytes, cut: cut)

        let got = LiveComparison.comparable(live.records)
        let breaks = got.indices.filter { got[$0]["code"]?.string == "tap.disconnected" }
        let at = try #require(breaks.first, "no tap.disconnected record")
        #expect(breaks.count == 1)
        #expect(got[at]["message"]?.string == "the tap 127.0.0.1:\(port) closed the connection")
        // Before the break: exactly the file's records.
        let before = Array(got[..<at])
        #expect(LiveComparison.difference(before, fileBefore) == nil,
                "\(LiveComparison.difference(before, fileBefore) ?? "")")
        // At the break only error records (the cut frame); then the file's records, with the numbers of the frames
        // after the cut one lower: the stream's frame ordinals do not count the frame cut in two.
        let rest = got[(at + 1)...]
        let breakRecords = Array(rest.prefix { LiveComparison.kind($0) == "error" })
        let after = Array(rest.dropFirst(breakRecords.count))
        let expectedAfter = fileAfter.map { LiveComparison.shiftFrames($0, above: Int64(cutFrame), by: -1) }
        #expect(LiveComparison.difference(after, expectedAfter) == nil,
                "\(LiveComparison.difference(after, expectedAfter) ?? "")")
        // Only the APDU of the cut frame is lost.
        #expect(LiveComparison.apdus(live.records).count == LiveComparison.apdus(file).count - 1)
        #expect(LiveComparison.errorCodes(breakRecords).contains("stream.gap"),
                "\(breakRecords.map(LiveComparison.render))")

        // The --save file: the same records, break and arrival times included.
        let replay = LiveComparison.comparable(try fileRecords(savePath, input: .timedRaw), keepTimes: true)
        let liveTimed = LiveComparison.comparable(live.records, keepTimes: true)
        #expect(LiveComparison.difference(replay, liveTimed) == nil,
                "\(LiveComparison.difference(replay, liveTimed) ?? "")")
    }

    /// The drop falls inside the third HDLC segment of a segmented GET response (13 segments), where the rest of the
    /// frame starts `00 01 8D 1B`, like a wrapper header. The stream is HDLC throughout: after the break only
    /// the segmented APDU may be lost; every link frame after it must still be decoded as from the file, in the
    /// line's one conversation, and nothing may be taken for a wrapper frame.
    @Test(.timeLimit(.minutes(1)))
    func tapThatDropsInsideASegmentedAPDUResynchronisesOnTheNextHDLCFrame() throws {
        let path = Fixtures.capture("gurux/hdlc-none.raw")
        let bytes = try LiveFixtures.bytes("gurux/hdlc-none.raw")
        let ranges = try #require(LiveFixtures.hdlcFrameRanges(bytes))
        let file = LiveComparison.comparable(try fileRecords(path, input: .raw))
        func frames(_ r: JSONValue) -> [Int] { (r["frames"]?.array ?? []).compactMap { $0.int.map(Int.init) } }
        // The GET response in frames 258, 260, ..., 282; its third segment (frame 262) is cut.
        let segmented = try #require(LiveComparison.apdus(file).first { frames($0).first == 258 })
        try #require(frames(segmented).count == 13)
        let cutFrame = frames(segmented)[2]
        let range = ranges[cutFrame - 1]
        let cut = range.lowerBound + range.count / 2
        try #require(bytes[cut] == 0x00 && bytes[cut + 1] == 0x01, "the rest no longer looks like a wrapper header")
        let fileLinkFramesAfter = file.filter { LiveComparison.kind($0) == "frame" && frames($0)[0] > cutFrame }
            .map { LiveComparison.shiftFrames($0, above: Int64(cutFrame), by: -1) }
        try #require(fileLinkFramesAfter.count > 50)

        let (live, _, _) = try Self.runTap(bytes, cut: cut)
        let got = LiveComparison.comparable(live.records)
        let at = try #require(got.firstIndex { $0["code"]?.string == "tap.disconnected" })
        let before = Array(got[..<at])
        let fileBefore = Array(file.prefix { frames($0).allSatisfy { $0 < cutFrame } })
        #expect(LiveComparison.difference(before, fileBefore) == nil,
                "\(LiveComparison.difference(before, fileBefore) ?? "")")
        let after = Array(live.records.drop { $0["code"]?.string != "tap.disconnected" }.dropFirst())
        // After the break the line resynchronises on the next HDLC flag: no phantom frames or conversations.
        let phantom = after.filter { ($0["transport"]?["type"]?.string).map { $0 != "hdlc" } ?? false }
        #expect(phantom.isEmpty, "\(phantom.map(LiveComparison.render))")
        let conversations = Set(after.filter { LiveComparison.kind($0) == "conversation" }
            .compactMap { $0["conversation"]?.string })
        #expect(conversations.isEmpty, "new conversations after the break: \(conversations.sorted())")
        let linkFrames = LiveComparison.comparable(after.filter { LiveComparison.kind($0) == "frame" })
        #expect(LiveComparison.difference(linkFrames, fileLinkFramesAfter) == nil,
                "\(LiveComparison.difference(linkFrames, fileLinkFramesAfter) ?? "")")
        // Whatever happens to the cut APDU, the APDUs after it come back: the next GET request and everything
        // after it.
        let fileAPDUsAfter = LiveComparison.apdus(file).filter { frames($0)[0] > frames(segmented).last ?? 0 }
        let liveAPDUsAfter = LiveComparison.apdus(got).suffix(fileAPDUsAfter.count)
        let sameTail = liveAPDUsAfter.map { $0["apdu"]?["hex"] } == fileAPDUsAfter.map { $0["apdu"]?["hex"] }
        #expect(sameTail && fileAPDUsAfter.count > 20)
    }

    /// The CLI: `dlmsdump --tcp-tap 127.0.0.1:PORT --duration 2 --format jsonl` against a test server that serves
    /// the whole stream and keeps the connection open: exit status 0 when the duration ends, the file's records on
    /// stdout, and the connection and a summary on stderr.
    @Test(.timeLimit(.minutes(1)))
    func cliTapRunsForItsDurationAndPrintsTheFileRecordsAndASummary() throws {
        let path = Fixtures.capture("gurux/hdlc-none.raw")
        let bytes = try LiveFixtures.bytes("gurux/hdlc-none.raw")
        let file = LiveComparison.comparable(try fileRecords(path, input: .raw))
        let server = try LiveIO.listenTCP()
        let log = PeerLog()
        let peer = try PeerThread {
            defer { close(server.fd) }
            let fd = LiveIO.acceptOne(server.fd, within: 15)
            guard fd >= 0 else { return log.fail("dlmsdump did not connect") }
            if !LiveIO.sendAll(fd, bytes[...]) { log.fail("send failed") }
            // Keep the connection open until dlmsdump closes it at the end of its duration.
            let extra = LiveIO.readToEnd(fd)
            if !extra.isEmpty { log.fail("the tap sent \(extra.count) bytes; a tap never writes") }
            close(fd)
        }
        let child = try LiveProcess(["--tcp-tap", "127.0.0.1:\(server.port)", "--duration", "2",
                                     "--format", "jsonl"])
        let status = child.finish(within: 30)
        peer.join()

        #expect(log.problems.isEmpty, "\(log.problems)")
        #expect(status == 0, "\(child.stderrText)")
        let got = LiveComparison.comparable(try child.records())
        #expect(LiveComparison.difference(got, file) == nil, "\(LiveComparison.difference(got, file) ?? "")")
        let summary = try child.records().last
        #expect(summary?["kind"]?.string == "summary" && summary?["apdus"] == .int(78))
        let err = child.stderrText
        #expect(err.contains("dlmsdump: connected to 127.0.0.1:\(server.port)\n"), "\(err)")
        #expect(err.contains("dlmsdump: 78 APDUs, 0 errors") && err.hasSuffix("(stopped: duration elapsed)\n"),
                "\(err)")
    }
}
