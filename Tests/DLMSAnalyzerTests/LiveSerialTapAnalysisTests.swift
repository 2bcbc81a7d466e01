import DLMSAnalyzer
import DLMSCapture
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `dlmsdump --serial DEV [--save FILE]` end to end: a pseudo-terminal pair stands in for the tapped half-duplex
/// line. A peer thread writes a Gurux raw HDLC stream (both parties' frames interleaved, as on the wire) into the
/// master in paced, seeded random chunks; `SerialTapSource` reads the slave in raw mode and `analyseByteStream`
/// decodes what arrives. The records must equal those of `dlmsdump --input raw` of the same file, and the `--save`
/// file replayed with `--input timed-raw` must give the same records again, arrival times included.
@Suite struct LiveSerialTapAnalysisTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var raw: String
        var keyring: String?
        var seed: UInt64
        var testDescription: String { raw }
    }

    static let cases = [
        Case(raw: "hdlc-none.raw", keyring: nil, seed: 62056),
        // HLS with authentication-only protection: the tags verify with the keyring made from the capture's keys.
        Case(raw: "hdlc-auth-only.raw", keyring: "hdlc-auth-only.json", seed: 4759),
    ]

    @Test(.timeLimit(.minutes(1)), arguments: cases)
    func ptyFedInRandomChunksDecodesLikeTheRawFileAndItsSaveFileReplaysTheSame(_ c: Case) throws {
        let path = Fixtures.capture("gurux/" + c.raw)
        let bytes = try LiveFixtures.bytes("gurux/" + c.raw)
        try #require(bytes.count > 10_000)
        let expected = LiveComparison.comparable(try fileRecords(path, input: .raw, keyring: c.keyring))
        try #require(LiveComparison.apdus(expected).count > 50)

        let (master, slave) = try LiveIO.openPTY()
        var masterOpen = true
        defer { if masterOpen { close(master) } }
        let stop = StopFlag(after: 20)
        // Opened (raw mode set) before the first byte is written, as a probe is started before the meter talks.
        let tty = try SerialTapSource(device: slave, settings: SerialSettings(baud: 115_200), stop: stop)
        let source = StopAfterBytes(tty, total: bytes.count, stop: stop)
        let savePath = LiveIO.temporaryPath("serial.dlmsraw")
        let save = try TimedRawWriter(path: savePath)

        let log = PeerLog()
        let writer = try PeerThread {
            if !LiveIO.pacedWrite(master, bytes[...], seed: c.seed) { log.fail("write to the pty master failed") }
        }
        let live = try LiveRun(keyring: c.keyring) {
            $0.analyseByteStream(source, save: save, stop: stop, count: nil)
        }
        writer.join()
        save.close()
        close(master)
        masterOpen = false

        #expect(log.problems.isEmpty, "\(log.problems)")
        let why = stop.reason.map { "\($0)" } ?? "nothing"
        #expect(stop.reason == .requested, "stopped by \(why): \(source.delivered) of \(bytes.count) bytes arrived")
        #expect(save.count > 20, "the line delivered the stream in only \(save.count) reads")
        let got = LiveComparison.comparable(live.records)
        #expect(LiveComparison.difference(got, expected) == nil, "\(LiveComparison.difference(got, expected) ?? "")")
        #expect(live.summary?["apdus"] == .int(Int64(LiveComparison.apdus(expected).count)))
        if c.keyring != nil {
            let verdicts = LiveComparison.apdus(live.records).compactMap { $0["security"]?["verdict"]?.string }
            #expect(verdicts.count > 20 && verdicts.allSatisfy { $0 == "verified" }, "\(Set(verdicts))")
        }

        // The --save file: the same records, and the same arrival times as the live run.
        let replay = try fileRecords(savePath, input: .timedRaw, keyring: c.keyring)
        let replayed = LiveComparison.comparable(replay)
        #expect(LiveComparison.difference(replayed, expected) == nil,
                "\(LiveComparison.difference(replayed, expected) ?? "")")
        let liveTimed = LiveComparison.comparable(live.records, keepTimes: true)
        let replayTimed = LiveComparison.comparable(replay, keepTimes: true)
        #expect(liveTimed.contains { $0["time"] != nil })
        #expect(LiveComparison.difference(replayTimed, liveTimed) == nil,
                "\(LiveComparison.difference(replayTimed, liveTimed) ?? "")")
        // `--input auto` recognises the file by its header.
        #expect(LiveComparison.comparable(try fileRecords(savePath, keyring: c.keyring)) == replayed)
    }

    /// The far end hangs up mid-frame: the tap ends ("hung up"), every frame completed before the hang-up is decoded
    /// as from the file, and the unfinished frame must be reported (`hdlc.truncated`, as `--input raw` of a file
    /// cut there would report it: both lose it today, a known issue).
    @Test(.timeLimit(.minutes(1)))
    func hangUpMidFrameEndsTheTapAndKeepsEverythingBeforeIt() throws {
        let bytes = try LiveFixtures.bytes("gurux/hdlc-none.raw")
        let ranges = try #require(LiveFixtures.hdlcFrameRanges(bytes))
        let cutFrame = ranges[100]
        let cut = cutFrame.lowerBound + cutFrame.count / 2
        let prefixPath = LiveIO.temporaryPath("prefix.raw")
        try Data(bytes[..<cutFrame.lowerBound]).write(to: URL(fileURLWithPath: prefixPath))
        let expected = LiveComparison.comparable(try fileRecords(prefixPath, input: .raw))

        let (master, slave) = try LiveIO.openPTY()
        var masterOpen = true
        defer { if masterOpen { close(master) } }
        let stop = StopFlag(after: 20)
        let tty = try SerialTapSource(device: slave, stop: stop)
        let log = PeerLog()
        let writer = try PeerThread {
            if !LiveIO.pacedWrite(master, bytes[..<cut], seed: 7) { log.fail("write to the pty master failed") }
        }
        // The far end hangs up once the tap has read everything (the kernel would drop unread input).
        let source = HangUpAfter(tty, total: cut) { close(master) }
        let live = try LiveRun { $0.analyseByteStream(source, save: nil, stop: stop, count: nil) }
        writer.join()
        masterOpen = !source.hungUp

        #expect(log.problems.isEmpty, "\(log.problems)")
        #expect(stop.reason == nil, "the tap ran into its deadline")
        #expect(tty.endReason?.contains("hung up") == true, "\(tty.endReason ?? "no end reason")")
        // The file cut before the frame ends with its end-of-input reports (an unfinished block transfer): the
        // live run gives the same records, then the cut frame's report, then the same end-of-input reports.
        let got = LiveComparison.comparable(live.records)
        let isError = { (r: JSONValue) in LiveComparison.kind(r) == "error" }
        let body = Array(expected.reversed().drop(while: isError).reversed())
        let endOfInput = LiveComparison.errorCodes(Array(expected.dropFirst(body.count)))
        let before = Array(got.prefix(body.count))
        #expect(LiveComparison.difference(before, body) == nil, "\(LiveComparison.difference(before, body) ?? "")")
        let after = Array(got.dropFirst(body.count))
        #expect(after.allSatisfy(isError), "\(after.map(LiveComparison.render))")
        #expect(LiveComparison.errorCodes(after).filter { $0 != "hdlc.truncated" } == endOfInput)
        #expect(LiveComparison.errorCodes(after).contains("hdlc.truncated"), "the cut frame is not reported")
    }
}

/// Closes the far end of the line once `total` bytes were read, so the hang-up comes after the last byte.
final class HangUpAfter: ByteStreamSource {
    let inner: SerialTapSource
    let total: Int
    private var delivered = 0
    private var hangUp: (() -> Void)?
    private(set) var hungUp = false

    init(_ inner: SerialTapSource, total: Int, hangUp: @escaping () -> Void) {
        self.inner = inner
        self.total = total
        self.hangUp = hangUp
    }

    func nextEvent() throws(CaptureError) -> TapEvent? {
        let e = try inner.nextEvent()
        if case .data(let chunk)? = e {
            delivered += chunk.bytes.count
            if delivered >= total, let h = hangUp {
                hangUp = nil
                hungUp = true
                h()
            }
        }
        return e
    }

    var streamName: String { inner.streamName }
}
