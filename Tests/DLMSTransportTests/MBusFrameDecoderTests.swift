@testable import DLMSTransport
import DLMSWire
import Testing

/// Real wired M-Bus frames: the two segments of the TINETZ (Tirol) Kaifa MA309 customer-port example,
/// fneur/smart-meter-tirol@226ce7b9b20384ae4d13d0d216d4eef5e21ab1dc doc/EXAMPLE.md (also in
/// Tests/DLMSAnalyzerTests/MeterFrames/tinetz-kaifa-ma309-mbus.hex).
enum MBusVectors {
    static let segment1 = hex("""
        68FAFA6853FF000167DB084B464D10100000238201092100295B9AEFC1546E644A2C9E32EDD42CBD0F1B945B194D086885C4D8DF86
        DD52CB5B448854A6D548D5D270739B2A169D05B013F9015070089D3C5FA45CA05E92309A645CC83D7DA40FBC8F4CF9C225AFA69A25
        FF0B2AC9C2744550ABA53CE9143FD10B0AD85FD30BD6B6DFFEE65F8204DC9C5067CA73B62E299A39D50AA730B2B9AE3836BC2F3490
        FB41BE5B6F930D84952976369DD7DABBB5A4354AECA1D2486CFF2EB0C6206380BA501D122AF75D716D3092C3960506A15E06FAB0EE
        5B7DFA3C2CDF0CAFD051B88E44B8B9FB8865F20CB89D1143CDC7EFEB07FB4C4898E764E9E3A32DDC3D1F0F16
        """)
    static let segment2 = hex("6826266853FF110167B46961CE962B2C78050C96598C7E4D26658043F9CBCA78189BD01B139F8AE0F7391116")
    static var stream: [UInt8] { segment1 + segment2 }

    static func hex(_ s: String) -> [UInt8] {
        Hex.decode(s.filter { !$0.isWhitespace }) ?? []
    }
}

/// Collects the frames and issue codes of a decoder run.
struct MBusRun {
    var frames: [MBusFrameInfo] = []
    var issues: [TransportIssue] = []

    mutating func add(_ events: [MBusFrameDecoder.Event]) {
        for e in events {
            switch e {
            case .frame(let f): frames.append(f)
            case .issue(let i): issues.append(i)
            }
        }
    }

    static func decode(_ bytes: [UInt8], chunks: (inout SplitMix64) -> Int, seed: UInt64 = 7,
                       singleCharacter: Bool = true) -> MBusRun {
        var d = MBusFrameDecoder(acceptsSingleCharacter: singleCharacter)
        var rng = SplitMix64(seed: seed)
        var run = MBusRun()
        var i = 0
        var n = 0
        while i < bytes.count {
            let k = max(1, min(chunks(&rng), bytes.count - i))
            n += 1
            run.add(d.feed(bytes[i..<(i + k)], frame: n, time: nil))
            i += k
        }
        run.add(d.finish())
        return run
    }
}

@Suite struct MBusFrameDecoderTests {
    @Test func tinetzSegmentsDecodeWithTheirFieldsAndChecksums() throws {
        let run = MBusRun.decode(MBusVectors.stream, chunks: { _ in 1 << 20 })
        #expect(run.issues.isEmpty)
        try #require(run.frames.count == 2)
        let (a, b) = (run.frames[0], run.frames[1])
        #expect(a.kind == .long && b.kind == .long)
        #expect(a.control == 0x53 && a.address == 0xFF && a.ci == 0x00)
        #expect(b.control == 0x53 && b.address == 0xFF && b.ci == 0x11)
        #expect(a.checksumOK && b.checksumOK)
        #expect(a.checksum == 0x0F && b.checksum == 0x11)
        #expect(a.length == 256 && b.length == 44)
        #expect(Array(a.data.prefix(4)) == [0x01, 0x67, 0xDB, 0x08])
        #expect(a.functionName == "SND_UD")
        #expect(a.carriesDLMS && b.carriesDLMS)
    }

    @Test(arguments: [1, 2, 3, 7, 64, 255, 4096])
    func chunkSizeDoesNotChangeTheResult(size: Int) {
        let run = MBusRun.decode(MBusVectors.stream, chunks: { _ in size })
        #expect(run.frames.map(\.length) == [256, 44])
        #expect(run.frames.map(\.data) == [Array(MBusVectors.segment1[7..<254]), Array(MBusVectors.segment2[7..<42])])
        #expect(run.issues.isEmpty)
    }

    @Test func randomChunksGiveTheSameFrames() {
        for seed in UInt64(1)...20 {
            let run = MBusRun.decode(MBusVectors.stream + MBusVectors.stream,
                                     chunks: { Int($0.next() % 40) + 1 }, seed: seed)
            #expect(run.frames.map(\.ci) == [0x00, 0x11, 0x00, 0x11], "seed \(seed)")
            #expect(run.issues.isEmpty, "seed \(seed)")
        }
    }

    @Test func everyStrictPrefixNeedsMoreBytesAndTheWholeFrameDecodes() {
        let frame = MBusVectors.segment2
        for n in 0...frame.count {
            let prefix = frame[..<n]
            switch MBusFrameDecoder.scan(prefix) {
            case .needMore: #expect(n < frame.count, "prefix \(n)")
            case .broken(let r): Issue.record("prefix \(n) is broken: \(r)")
            case .frame(_, let count): #expect(n == frame.count && count == frame.count)
            }
            var d = MBusFrameDecoder()
            let fed = d.feed(prefix, frame: 1, time: nil)
            if n < frame.count {
                #expect(fed.isEmpty, "prefix \(n) emitted something before the end")
                let end = d.finish()
                if n > 0 {
                    #expect(end.contains { if case .issue(let i) = $0 { i.code == "mbus.truncated" } else { false } })
                }
            }
        }
    }

    @Test func frameLengthProbeAnswersNeedMoreNoFrameOrLength() {
        #expect(MBusFrameDecoder.frameLength(at: MBusVectors.segment1[0..<10]) == nil)
        #expect(MBusFrameDecoder.frameLength(at: MBusVectors.segment1[...]) == 256)
        #expect(MBusFrameDecoder.frameLength(at: [0x7E, 0xA0][...]) == 0)
        #expect(MBusFrameDecoder.frameLength(at: [0xE5][...]) == 1)
        #expect(MBusFrameDecoder.frameLength(at: [0xE5][...], acceptsSingleCharacter: false) == 0)
    }

    @Test func badChecksumIsReportedAndTheFrameKeptMarked() throws {
        var bytes = MBusVectors.segment2
        bytes[20] ^= 0x01
        let run = MBusRun.decode(bytes + MBusVectors.segment2, chunks: { _ in 5 })
        try #require(run.frames.count == 2)
        #expect(!run.frames[0].checksumOK)
        #expect(run.frames[1].checksumOK)
        #expect(run.issues.map(\.code) == ["mbus.bad-checksum"])
    }

    @Test func wrongStopCharacterMakesJunkAndTheNextFrameStillDecodes() {
        var bytes = MBusVectors.segment2
        bytes[bytes.count - 1] = 0x17
        let run = MBusRun.decode(bytes + MBusVectors.segment2, chunks: { _ in 3 })
        #expect(run.frames.map(\.ci) == [0x11])
        #expect(run.issues.map(\.code) == ["stream.junk"])
        #expect(run.issues.first?.message.hasPrefix("\(bytes.count) byte(s) skipped") == true)
    }

    @Test func junkBetweenFramesIsOneIssuePerRun() {
        let junk: [UInt8] = [0x01, 0x02, 0x03, 0x55, 0xAA, 0x00]
        let run = MBusRun.decode(junk + MBusVectors.segment2 + junk + junk + MBusVectors.segment2,
                                 chunks: { _ in 2 })
        #expect(run.frames.count == 2)
        #expect(run.issues.map(\.code) == ["stream.junk", "stream.junk"])
        #expect(run.issues.map(\.message.first) == ["6", "1"])
    }

    @Test func shortFramesControlFramesAndTheSingleCharacter() throws {
        // SND_NKE to address 1 (10 40 01 41 16), the ACK character, REQ_UD2 (10 7B 01 7C 16), and a control frame
        // 68 03 03 68 53 01 BD 11 16 (EN 13757-2 §5 layouts; checksums by hand).
        let bytes: [UInt8] = [0x10, 0x40, 0x01, 0x41, 0x16, 0xE5, 0x10, 0x7B, 0x01, 0x7C, 0x16,
                              0x68, 0x03, 0x03, 0x68, 0x53, 0x01, 0xBD, 0x11, 0x16]
        let run = MBusRun.decode(bytes, chunks: { _ in 1 })
        #expect(run.issues.isEmpty)
        try #require(run.frames.count == 4)
        #expect(run.frames.map(\.kind) == [.short, .ack, .short, .control])
        #expect(run.frames[0].functionName == "SND_NKE")
        #expect(run.frames[2].functionName == "REQ_UD2")
        #expect(run.frames[3].ci == 0xBD && run.frames[3].data.isEmpty)
        #expect(!run.frames[3].carriesDLMS)
    }

    @Test func shortFrameWithAWrongChecksumIsNotAFrame() {
        let run = MBusRun.decode([0x10, 0x40, 0x01, 0x42, 0x16], chunks: { _ in 5 }, singleCharacter: false)
        #expect(run.frames.isEmpty)
        #expect(run.issues.map(\.code) == ["stream.junk"])
    }

    @Test func onlyThreeByteValuesCanStartAFrame() {
        for b in UInt8(0)...255 {
            let starts: Bool
            switch MBusFrameDecoder.scan([b][...]) {
            case .broken: starts = false
            case .needMore, .frame: starts = true
            }
            #expect(starts == (b == 0x68 || b == 0x10 || b == 0xE5), "byte \(b)")
        }
    }

    @Test func lengthBelowThreeOrUnrepeatedIsNotALongFrame() {
        let short: [UInt8] = [0x68, 0x02, 0x02, 0x68, 0x53, 0xFF, 0x10, 0x62, 0x16] + Array(repeating: 0, count: 300)
        for bad in [short, [0x68, 0x05, 0x06, 0x68], [0x68, 0x05, 0x05, 0x67]] as [[UInt8]] {
            guard case .broken = MBusFrameDecoder.scan(bad[...]) else {
                Issue.record("\(bad) was not rejected")
                continue
            }
        }
    }

    /// The Sagemcom T210-D (Netz NÖ) sends a 257-byte body as `68 01 01 68 …` (UtilitechAS/amsreader-firmware
    /// issue #155, "68 01 01 68 53 FF 00 01 67 DB 08 53 41 47 59 05 …", 263 bytes). The header is the issue's; the
    /// rest of the body is filler, as the issue does not show all of it.
    @Test func lengthSentModulo256IsTakenAsTheLongerFrameAndFlagged() throws {
        var body: [UInt8] = [0x53, 0xFF, 0x00, 0x01, 0x67, 0xDB, 0x08, 0x53, 0x41, 0x47, 0x59, 0x05, 0xE6, 0xD9, 0xFD,
                             0x81, 0xF8, 0x20]
        while body.count < 257 { body.append(UInt8(body.count & 0x7F)) }
        var cs: UInt8 = 0
        for b in body { cs &+= b }
        let frame: [UInt8] = [0x68, 0x01, 0x01, 0x68] + body + [cs, 0x16]
        #expect(frame.count == 263)
        let run = MBusRun.decode(frame + MBusVectors.segment2, chunks: { _ in 11 })
        try #require(run.frames.count == 2)
        #expect(run.frames[0].length == 263 && run.frames[0].checksumOK)
        #expect(run.frames[0].errors.map(\.code) == ["mbus.length-overflow"])
        #expect(run.frames[0].data.count == 254)
        #expect(run.frames[1].errors.isEmpty)
        #expect(run.issues.isEmpty)
    }

    @Test func unfinishedFrameBeforeTheEndDoesNotHideTheFramesAfterIt() {
        // A long-frame header whose body never comes, then a short frame and the end of the stream.
        let bytes: [UInt8] = [0x68, 0xFA, 0xFA, 0x68, 0x53, 0xFF] + [0x10, 0x40, 0x01, 0x41, 0x16]
        let run = MBusRun.decode(bytes, chunks: { _ in 3 }, singleCharacter: false)
        #expect(run.frames.map(\.kind) == [.short])
        #expect(run.issues.map(\.code) == ["stream.junk"])
        // Without a frame after it, the unfinished one is reported as truncated.
        let cut = MBusRun.decode(Array(bytes.prefix(6)), chunks: { _ in 3 })
        #expect(cut.frames.isEmpty && cut.issues.map(\.code) == ["mbus.truncated"])
    }

    @Test func framesNameTheChunksThatCarriedThem() {
        var d = MBusFrameDecoder()
        var run = MBusRun()
        let s = MBusVectors.segment2
        run.add(d.feed(s[0..<10], frame: 4, time: Timestamp(seconds: 10, micros: 0)))
        run.add(d.feed(s[10...], frame: 5, time: Timestamp(seconds: 11, micros: 0)))
        #expect(run.frames.first?.frames == [4, 5])
        #expect(run.frames.first?.time == Timestamp(seconds: 11, micros: 0))
    }

    @Test func randomMutationsNeverTrapAndAlwaysConsumeEverything() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<300 {
            var bytes = MBusVectors.stream
            for _ in 0..<Int(rng.next() % 6) {
                let i = Int(rng.next() % UInt64(bytes.count))
                bytes[i] = UInt8(truncatingIfNeeded: rng.next())
            }
            let cut = Int(rng.next() % UInt64(bytes.count))
            let run = MBusRun.decode(Array(bytes[..<cut]), chunks: { Int($0.next() % 50) + 1 }, seed: rng.next())
            // Frames never overlap or invent bytes: together they fit in the input.
            #expect(run.frames.allSatisfy { $0.length >= 1 })
            #expect(run.frames.reduce(0) { $0 + $1.length } <= cut)
        }
    }

    // MARK: - Mixed HDLC / M-Bus

    /// The per-frame dispatch the FrameScanner `.mbus` branch makes: 0x7E → HDLC, 0x68/0x10 → M-Bus (single
    /// character off, as in auto framing), anything else junk.
    @Test func mixedHDLCAndMBusStreamSplitsPerFrame() {
        let ui = hdlcFrame(destination: [0xFF], source: [0x03], control: 0x13,
                           info: [0xE6, 0xE7, 0x00, 0x0F, 0x00, 0x00, 0x00, 0x01, 0x00, 0x11, 0x05])
        let stream = ui + MBusVectors.segment1 + [0x00, 0xE5] + ui + MBusVectors.segment2
        var kinds: [String] = []
        var pos = 0
        while pos < stream.count {
            let rest = stream[pos...]
            if stream[pos] == 0x7E, let found = HDLCFrameDecoder.frame(at: rest) {
                kinds.append("hdlc \(found.frame.type.rawValue)")
                pos += found.byteCount
            } else if let n = MBusFrameDecoder.frameLength(at: rest, acceptsSingleCharacter: false), n > 0 {
                kinds.append("mbus \(n)")
                pos += n
            } else {
                kinds.append("junk")
                pos += 1
            }
        }
        #expect(kinds == ["hdlc UI", "mbus 256", "junk", "junk", "hdlc UI", "mbus 44"])
    }
}

/// The FrameScanner M-Bus branch (MBusFrameScanner.swift), driven the way `FrameScanner.scan` will drive it.
@Suite struct MBusFrameScannerBranchTests {
    /// Runs the branch over `bytes` as one final input: M-Bus frames through `attemptMBus`, anything else as junk.
    static func run(_ bytes: [UInt8]) -> (apdus: [TransportAPDU], issues: [String]) {
        var scanner = FrameScanner(framing: .auto, limits: StreamLimits(), numberFramesInternally: true)
        var assembler = MBusAssembler()
        var marks = ChunkMarks()
        marks.append(start: 0, count: bytes.count, frame: 1, time: nil)
        let input = FrameScanner.Input(data: bytes[...], base: 0, final: true, record: false, marks: marks)
        var out: [TransportEvent] = []
        var pos = 0
        while pos < bytes.count {
            if scanner.mbusStart(input, at: pos) == true,
               let next = scanner.attemptMBus(input, at: pos, assembler: &assembler, into: &out, wrap: {
                   .apdu(TransportAPDU(kind: .raw, bytes: $0.bytes, frames: $0.frames, time: $0.time))
               }) {
                pos = next
            } else {
                let q = scanner.nextCandidate(input, from: pos + 1)
                let stop = bytes[(pos + 1)...].firstIndex { $0 == 0x68 || $0 == 0x10 } ?? bytes.count
                scanner.addJunk(input, from: pos, to: min(q, stop), code: "stream.junk", reason: "test", into: &out)
                pos = min(q, stop)
            }
        }
        scanner.flushJunk(into: &out)
        var apdus: [TransportAPDU] = []
        var issues: [String] = []
        for e in out {
            switch e {
            case .apdu(let a): apdus.append(a)
            case .issue(let i): issues.append(i.code)
            case .hdlcFrame: break
            }
        }
        return (apdus, issues)
    }

    @Test func tinetzSegmentsBetweenJunkBecomeOneAPDUWithFrameOrdinals() {
        let (apdus, issues) = Self.run([0x01, 0x02] + MBusVectors.segment1 + [0xE5] + MBusVectors.segment2)
        #expect(issues == ["stream.junk", "stream.junk"])
        #expect(apdus.count == 1)
        #expect(apdus.first?.bytes.count == 0x109 + 13)
        #expect(apdus.first?.frames == [1, 2])
    }

    @Test func badChecksumIsAnIssueAndTheSequenceIsNotCompleted() {
        var bad = MBusVectors.segment1
        bad[100] ^= 0x40
        let (apdus, issues) = Self.run(bad + MBusVectors.segment2)
        #expect(apdus.isEmpty)
        #expect(issues == ["mbus.bad-checksum", "mbus.segment-out-of-order"])
    }

    @Test func startProbeWaitsOnlyWhileAFrameCanStillComplete() {
        var marks = ChunkMarks()
        let prefix = Array(MBusVectors.segment1.prefix(40))
        marks.append(start: 0, count: prefix.count, frame: 1, time: nil)
        let scanner = FrameScanner(framing: .auto, limits: StreamLimits(), numberFramesInternally: false)
        let open = FrameScanner.Input(data: prefix[...], base: 0, final: false, record: false, marks: marks)
        #expect(scanner.mbusStart(open, at: 0) == nil)
        let closed = FrameScanner.Input(data: prefix[...], base: 0, final: true, record: false, marks: marks)
        #expect(scanner.mbusStart(closed, at: 0) == false)
        #expect(scanner.mbusStart(open, at: 1) == false)
    }
}
