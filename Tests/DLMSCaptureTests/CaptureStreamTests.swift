import DLMSWire
import Testing
@testable import DLMSCapture

/// What a reassembler run produced, folded per connection and direction.
struct StreamLog {
    struct Key: Hashable {
        var id: ConnectionID
        var from: String
        var to: String
    }
    var data: [Key: [UInt8]] = [:]
    var gaps: [(key: Key, missing: Int, frame: Int)] = []
    var notices: [(code: String, frame: Int)] = []
    var opened: [(id: ConnectionID, a: String, b: String, initiator: String?)] = []
    var closed: [(id: ConnectionID, reason: String)] = []
    /// Frame numbers of the events, in order (they must never go backwards).
    var frames: [Int] = []

    mutating func add(_ events: [StreamEvent]) {
        for e in events {
            switch e {
            case .opened(let id, _, let a, let b, let initiator, let frame, _):
                opened.append((id, a.description, b.description, initiator?.description))
                frames.append(frame)
            case .data(let id, let from, let to, let bytes, let frame, _):
                data[Key(id: id, from: from.description, to: to.description), default: []] += bytes
                frames.append(frame)
            case .gap(let id, let from, let to, let missing, let frame, _):
                gaps.append((Key(id: id, from: from.description, to: to.description), missing, frame))
                frames.append(frame)
            case .closed(let id, let reason, let frame, _):
                closed.append((id, reason))
                frames.append(frame)
            case .notice(_, let code, _, let frame, _):
                notices.append((code, frame))
                frames.append(frame)
            }
        }
    }

    /// Runs `packets` through a reassembler, then `finish()`.
    static func run(_ packets: [Packet], limits: ReassemblyLimits = .default) -> StreamLog {
        var r = TCPReassembler(limits: limits)
        var log = StreamLog()
        for p in packets { log.add(r.process(p)) }
        log.add(r.finish())
        return log
    }

    func bytes(_ from: String, _ to: String) -> [UInt8] {
        data.filter { $0.key.from == from && $0.key.to == to }.values.first ?? []
    }
}

@Suite struct CaptureStreamTests {
    static let allCaptures: [String] = [
        "gurux/hdlc-auth-only.pcap", "gurux/hdlc-gbt-authenc.pcap", "gurux/hdlc-none.pcap", "gurux/neg-bad-fcs.pcap",
        "gurux/neg-missing-key.pcap", "gurux/neg-replay.pcap", "gurux/neg-tamper.pcap",
        "gurux/neg-truncated-segment.pcap", "gurux/neg-wrapper-length.pcap", "gurux/wrapper-ded.pcap",
        "gurux/wrapper-general-ded.pcap", "gurux/wrapper-general-glo.pcap", "gurux/wrapper-hls-gmac-authenc.pcap",
        "gurux/wrapper-hls-sha256-authenc.pcap", "gurux/wrapper-lls.pcap", "gurux/wrapper-none.pcap",
        "gurux/wrapper-push-glo.pcap", "gurux/wrapper-suite1-ecdsa.pcap", "gurux/wrapper-suite2-ecdsa.pcap",
        "peers/Output-Ciphered-Director.pcap", "peers/Output-Ciphered-HLS-AuthEnc.pcap",
        "peers/Output-Ciphered-HLS.pcap", "peers/Output-Ciphered-Simple-Key.pcap", "peers/Output-Ciphered.pcap",
        "peers/Output-EPRI.pcap", "peers/Output.pcap", "peers/hdlc-over-udp-sample.pcap",
    ]

    @Test(arguments: allCaptures)
    func everyFrameOfTheSharedCapturesDecodesWithoutMalformedPackets(_ file: String) throws {
        let frames = try Fixtures.frames(file)
        #expect(!frames.isEmpty)
        #expect(frames.map(\.number) == Array(1...frames.count))
        var packets = 0
        for f in frames {
            switch PacketDecoder.decode(f) {
            case .packet: packets += 1
            case .ignored: break
            case .malformed(let e): Issue.record("\(file) frame \(f.number): \(e)")
            }
        }
        #expect(packets > 0)
    }

    @Test(arguments: StreamDigest.all)
    func reassembledStreamsMatchWhatTsharkFollows(_ expected: StreamDigest) throws {
        let log = StreamLog.run(try Fixtures.packets(expected.file))
        let ab = log.bytes(expected.a, expected.b)
        let ba = log.bytes(expected.b, expected.a)
        #expect(ab.count == expected.aBytes)
        #expect(fnv1a64(ab) == expected.aHash)
        #expect(ba.count == expected.bBytes)
        #expect(fnv1a64(ba) == expected.bHash)
        #expect(!log.notices.contains { $0.code == "tcp.overlap-mismatch" })
        if expected.file != "gurux/neg-truncated-segment.pcap" {
            #expect(log.gaps.isEmpty)
            #expect(!log.notices.contains { $0.code == "capture.truncated" })
        }
        #expect(log.frames == log.frames.sorted())
    }

    @Test func guruxCaptureOpensOneConnectionWithTheClientAsInitiatorAndClosesIt() throws {
        let log = StreamLog.run(try Fixtures.packets("gurux/wrapper-none.pcap"))
        #expect(log.opened.count == 1)
        #expect(log.opened.first?.id == ConnectionID(1))
        #expect(log.opened.first?.initiator == "127.0.0.1:34036")
        #expect(log.closed.count == 1)
        #expect(log.closed.first?.reason == "fin")
    }

    /// neg-truncated-segment.pcap: frame 27 (server → client, 264 payload bytes) was captured with its last 40
    /// bytes missing (caplen 290 < wire length 330), see its .expect.json.
    @Test func truncatedSegmentGivesANoticeAndAFortyByteGapInFrame27() throws {
        let packets = try Fixtures.packets("gurux/neg-truncated-segment.pcap")
        let cut = try #require(packets.first { $0.frame == 27 })
        #expect(cut.truncated)
        #expect(cut.missingBytes == 40)
        #expect(cut.payload.count == 224)
        let log = StreamLog.run(packets)
        #expect(log.notices.map(\.code) == ["capture.truncated"])
        #expect(log.notices.first?.frame == 27)
        #expect(log.gaps.count == 1)
        #expect(log.gaps.first?.missing == 40)
        #expect(log.gaps.first?.frame == 27)
        #expect(log.gaps.first?.key.from == "127.0.0.1:24050")
        // Around the hole, the stream is the untruncated capture's.
        let full = StreamLog.run(try Fixtures.packets("gurux/wrapper-none.pcap"))
        let whole = full.bytes("127.0.0.1:24050", "127.0.0.1:34036")
        let cutStream = log.bytes("127.0.0.1:24050", "127.0.0.1:34036")
        #expect(whole.count == cutStream.count + 40)
        let holeStart = try #require(firstDifference(whole, cutStream))
        #expect(Array(whole[(holeStart + 40)...]) == Array(cutStream[holeStart...]))
    }

    @Test func udpCaptureGivesOneFlowWithEveryDatagram() throws {
        let log = StreamLog.run(try Fixtures.packets("peers/hdlc-over-udp-sample.pcap"))
        #expect(log.opened.count == 1)
        // 51 datagrams 10.1.1.1:0 → 10.2.2.2:4059 carrying 2150 bytes (tshark: sum of udp.length - 8).
        #expect(log.bytes("10.1.1.1:0", "10.2.2.2:4059").count == 2150)
        #expect(log.closed.map(\.reason) == ["end of capture"])
    }

    private func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> Int? {
        for i in 0..<min(a.count, b.count) where a[i] != b[i] { return i }
        return a.count == b.count ? nil : min(a.count, b.count)
    }
}
