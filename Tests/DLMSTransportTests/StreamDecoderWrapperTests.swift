import DLMSTransport
import DLMSWire
import Foundation
import Testing

/// Wrapper (IEC 62056-47) decoding of the TCP streams of the Gurux wrapper captures, read from the pcaps.
@Suite struct StreamDecoderWrapperTests {
    static let server = "127.0.0.1:24050"

    /// Both TCP directions of a capture, each through its own decoder; the client is whoever talks to `port`.
    static func decodeBothDirections(_ name: String, framing: Framing = .wrapper)
        throws -> (client: [TransportEvent], server: [TransportEvent]) {
        let segments = try Pcap.segments(try Fixtures.bytes("gurux/\(name).pcap"))
        let serverEndpoint = try #require(segments.first { $0.syn }?.destination)
        let clientEndpoint = try #require(segments.first { $0.syn }?.source)
        var c = StreamDecoder(framing: framing)
        var s = StreamDecoder(framing: framing)
        return (Pcap.feedTCP(segments, from: clientEndpoint, into: &c),
                Pcap.feedTCP(segments, from: serverEndpoint, into: &s))
    }

    static func truthAPDUs(_ name: String, direction: String) throws -> [[String: Any]] {
        try Fixtures.truth(name).filter { $0["kind"] as? String == "apdu" && $0["direction"] as? String == direction }
    }

    @Test(arguments: ["wrapper-none", "wrapper-lls", "wrapper-general-glo", "wrapper-push-glo"])
    func guruxWrapperStreamsDecodeToTheTruthAPDUsWithTheirFrames(_ name: String) throws {
        for framing in [Framing.wrapper, .auto] {
            let (client, server) = try Self.decodeBothDirections(name, framing: framing)
            // In the push scenario the meter opens the connection; the truth's "server->client" is its direction.
            let push = name == "wrapper-push-glo"
            for (events, direction) in [(client, push ? "server->client" : "client->server"),
                                        (server, push ? "client->server" : "server->client")] {
                let truth = try Self.truthAPDUs(name, direction: direction)
                let apdus = events.compactMap(\.apdu)
                #expect(apdus.map { Hex.encode($0.bytes) } == truth.compactMap { $0["apdu_hex"] as? String })
                #expect(apdus.map(\.frames) == truth.compactMap { $0["frames"] as? [Int] })
                for (a, t) in zip(apdus, truth) {
                    guard case .wrapper(let h) = a.kind, let w = t["wrapper"] as? [String: Int] else {
                        Issue.record("not a wrapper APDU")
                        continue
                    }
                    #expect(Int(h.sourcePort) == w["src_wport"] && Int(h.destinationPort) == w["dst_wport"])
                    #expect(Int(h.length) == w["length"] && h.version == 1)
                    #expect(a.errors.isEmpty)
                }
                #expect(events.compactMap(\.issue).isEmpty)
            }
        }
    }

    @Test func wrapperStreamDripFedGivesTheSameEvents() throws {
        // The client→server payload of wrapper-none, concatenated: many frames in one chunk, one over many.
        let segments = try Pcap.segments(try Fixtures.bytes("gurux/wrapper-none.pcap"))
        let server = try #require(segments.first { $0.syn }?.destination)
        let stream = segments.filter { $0.isTCP && $0.destination == server }.flatMap(\.payload)
        let whole = decodeChunked(stream, framing: .wrapper, chunkSize: { _ in stream.count }).map(\.summary)
        #expect(whole.count > 20)
        #expect(decodeChunked(stream, framing: .wrapper, chunkSize: { _ in 1 }).map(\.summary) == whole)
        #expect(decodeChunked(stream, framing: .auto, chunkSize: { _ in 1 }).map(\.summary) == whole)
        for seed: UInt64 in [7, 8, 9] {
            let random = decodeChunked(stream, framing: .wrapper, chunkSize: { Int($0.next() % 40) + 1 }, seed: seed)
            #expect(random.map(\.summary) == whole)
        }
    }

    @Test func everyStrictPrefixOfAWrapperFrameNeedsMoreBytes() {
        // wrapper-none, frame 8: get-request for the clock, wPorts 16 → 1.
        let frame: [UInt8] = Hex.decode("0001 0010 0001 000d c001c100080000010000ff0200") ?? []
        #expect(frame.count == 21)
        for framing in [Framing.wrapper, .auto] {
            for n in 0..<frame.count {
                var d = StreamDecoder(framing: framing)
                #expect(d.feed(frame[..<n], frame: 1, time: nil).isEmpty)
            }
            var d = StreamDecoder(framing: framing)
            let apdus = d.feed(frame[...], frame: 1, time: nil).compactMap(\.apdu)
            #expect(apdus.map(\.bytes) == [Array(frame[8...])])
        }
    }

    @Test func aWrapperLengthFiveTooLongIsReportedAndTheFollowingFramesDecode() throws {
        // Captures/gurux/neg-wrapper-length: the get-request in frame 12 claims 18 bytes instead of 13. The
        // decoder must cut it at the next client header (frame 14) and lose nothing after it. Reference: the same
        // stream with the length put back.
        let segments = try Pcap.segments(try Fixtures.bytes("gurux/neg-wrapper-length.pcap"))
        let server = try #require(segments.first { $0.syn }?.destination)
        let client = try #require(segments.first { $0.syn }?.source)
        var d = StreamDecoder(framing: .wrapper)
        let events = Pcap.feedTCP(segments, from: client, into: &d)

        var fixed = segments
        let i = try #require(fixed.firstIndex { $0.frame == 12 })
        #expect(fixed[i].payload[6...7] == [0x00, 0x12])
        fixed[i].payload[7] = 0x0D
        var r = StreamDecoder(framing: .wrapper)
        let reference = Pcap.feedTCP(fixed, from: client, into: &r)
        #expect(reference.compactMap(\.issue).isEmpty)

        let issues = events.compactMap(\.issue)
        #expect(issues.map(\.code) == ["wrapper.bad-length"])
        #expect(issues.first?.frames == [12] && issues.first?.offset == 0)
        let apdus = events.compactMap(\.apdu)
        #expect(apdus.map(\.bytes) == reference.compactMap(\.apdu).map(\.bytes))
        #expect(apdus.map(\.frames) == reference.compactMap(\.apdu).map(\.frames))
        let bad = try #require(apdus.first { !$0.errors.isEmpty })
        #expect(bad.errors.map(\.code) == ["wrapper.bad-length"] && bad.frames == [12])
        #expect(Hex.encode(bad.bytes) == "c001c100030100010800ff0300")
        // The server direction is untouched.
        var s = StreamDecoder(framing: .wrapper)
        let serverAPDUs = Pcap.feedTCP(segments, from: server, into: &s).compactMap(\.apdu)
        let truth = try Self.truthAPDUs("neg-wrapper-length", direction: "server->client")
        #expect(serverAPDUs.map { Hex.encode($0.bytes) } == truth.compactMap { $0["apdu_hex"] as? String })
    }

    @Test func aTCPGapInsideAFrameEmitsWhatArrivedAndResumesAtTheNextHeader() throws {
        // Captures/gurux/neg-truncated-segment: frame 27 lost its last 40 bytes (caplen < wire length).
        let (_, server) = try Self.decodeBothDirections("neg-truncated-segment")
        let truth = try Self.truthAPDUs("neg-truncated-segment", direction: "server->client")
        let apdus = server.compactMap(\.apdu)
        let cut = try #require(apdus.firstIndex { !$0.errors.isEmpty })
        #expect(apdus[cut].frames == [27] && apdus[cut].errors.map(\.code) == ["stream.gap"])
        if case .wrapper(let h) = apdus[cut].kind { #expect(h.length == 256) }
        #expect(apdus[cut].bytes.count == 256 - 40)
        let issues = server.compactMap(\.issue)
        #expect(issues.map(\.code) == ["stream.gap"])
        // Every other APDU is intact and in order.
        // (The truth has an error record, not an APDU, for frame 27.)
        #expect(!truth.contains { ($0["frames"] as? [Int])?.contains(27) == true })
        var got = apdus
        got.remove(at: cut)
        #expect(got.map { Hex.encode($0.bytes) } == truth.compactMap { $0["apdu_hex"] as? String })
        #expect(got.map(\.frames) == truth.compactMap { $0["frames"] as? [Int] })
    }

    @Test func aBadVersionResynchronisesOnTheNextPlausibleHeader() {
        // Two frames from wrapper-none with junk between: 00 02 ... is a header of version 2.
        let f1: [UInt8] = Hex.decode("0001 0010 0001 000d c001c100080000010000ff0200") ?? []
        let f2: [UInt8] = Hex.decode("0001 0010 0001 000d c001c100010000600100ff0200") ?? []
        let junk: [UInt8] = [0x00, 0x02, 0x00, 0x10, 0x00, 0x01, 0x00, 0x05, 0xAA]
        for size in [1, 3, 100] {
            let events = decodeChunked(f1 + junk + f2, framing: .wrapper, internalNumbers: false,
                                       chunkSize: { _ in size })
            #expect(events.compactMap(\.issue).map(\.code) == ["wrapper.bad-header"])
            #expect(events.compactMap(\.issue).first?.message.hasPrefix("9 byte(s)") == true)
            #expect(events.compactMap(\.apdu).map(\.bytes) == [Array(f1[8...]), Array(f2[8...])])
        }
    }

    @Test func aZeroLengthIsImplausible() {
        let f: [UInt8] = Hex.decode("000100100001000dc001c100010000600100ff0200") ?? []
        let events = decodeChunked([0x00, 0x01, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00] + f, framing: .wrapper,
                                   chunkSize: { _ in 4 })
        #expect(events.compactMap(\.issue).map(\.code) == ["wrapper.bad-length"])
        #expect(events.compactMap(\.apdu).map(\.bytes) == [Array(f[8...])])
    }

    @Test func aDatagramShorterThanItsWrapperLengthIsReported() {
        var d = StreamDecoder(framing: .auto)
        let f: [UInt8] = Hex.decode("000100100001000fc001c100010000600100ff0200") ?? []
        let events = d.feedRecord(f[...], frame: 5, time: nil)
        #expect(events.compactMap(\.issue).map(\.code) == ["wrapper.bad-length"])
        let a = events.compactMap(\.apdu)
        #expect(a.count == 1 && a.first?.bytes.count == 13 && a.first?.frames == [5])
    }
}

/// Wrapper streams produced by other stacks (Captures/peers/SOURCE.md: Gurux Director, Gurux client/server
/// sessions, and the independent EPRI stack), every TCP direction of every connection.
@Suite struct StreamDecoderPeerWrapperTests {
    @Test(arguments: ["Output-Ciphered-Director", "Output-Ciphered-HLS-AuthEnc", "Output-Ciphered-HLS",
                      "Output-Ciphered-Simple-Key", "Output-Ciphered", "Output-EPRI", "Output"])
    func peerWrapperCapturesDecodeWithoutIssues(_ name: String) throws {
        let segments = try Pcap.segments(try Fixtures.bytes("peers/\(name).pcap"))
        var flows: [String] = []
        for s in segments where s.isTCP && !flows.contains(s.source + ">" + s.destination) {
            flows.append(s.source + ">" + s.destination)
        }
        var total = 0
        for flow in flows {
            let source = String(flow.split(separator: ">")[0])
            var d = StreamDecoder(framing: .wrapper)
            let events = Pcap.feedTCP(segments, from: source, into: &d)
            #expect(events.compactMap(\.issue).isEmpty, "\(flow): \(events.compactMap(\.issue).map(\.message))")
            for a in events.compactMap(\.apdu) {
                guard case .wrapper(let h) = a.kind else { continue }
                #expect(Int(h.length) == a.bytes.count && a.errors.isEmpty)
            }
            // Per-frame detection finds the same frames, including the ciphered APDUs with tag 0x00 that these
            // Gurux builds send (e.g. Output-Ciphered-HLS frame 9: 00 2F 30 ...).
            var auto = StreamDecoder(framing: .auto)
            #expect(Pcap.feedTCP(segments, from: source, into: &auto).map(\.summary) == events.map(\.summary))
            total += events.compactMap(\.apdu).count
        }
        #expect(total > 0)
    }
}
