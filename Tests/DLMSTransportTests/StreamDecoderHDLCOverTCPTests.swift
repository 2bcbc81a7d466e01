import DLMSTransport
import DLMSWire
import Testing

/// HDLC carried over TCP in the Gurux pcaps: each direction through its own decoder, checked against the truth's
/// APDUs, segments and link frames with their pcap frame numbers.
@Suite struct StreamDecoderHDLCOverTCPTests {
    static func decode(_ name: String, framing: Framing)
        throws -> [(direction: String, events: [TransportEvent])] {
        let segments = try Pcap.segments(try Fixtures.bytes("gurux/\(name).pcap"))
        let syn = try #require(segments.first { $0.syn })
        var c = StreamDecoder(framing: framing)
        var s = StreamDecoder(framing: framing)
        return [("client->server", Pcap.feedTCP(segments, from: syn.source, into: &c)),
                ("server->client", Pcap.feedTCP(segments, from: syn.destination, into: &s))]
    }

    @Test(arguments: ["hdlc-none", "hdlc-auth-only", "hdlc-gbt-authenc", "neg-bad-fcs"])
    func apdusSegmentsAndLinkFramesCarryTheirPcapFrameNumbers(_ name: String) throws {
        let truth = try Fixtures.truth(name)
        for framing in [Framing.hdlc, .auto] {
            for (direction, events) in try Self.decode(name, framing: framing) {
                let mine = truth.filter { $0["direction"] as? String == direction }
                let apduTruth = mine.filter { $0["kind"] as? String == "apdu" && $0["fcs_ok"] as? Bool == true }
                let apdus = events.compactMap(\.apdu)
                #expect(apdus.map { Hex.encode($0.bytes) } == apduTruth.compactMap { $0["apdu_hex"] as? String })
                #expect(apdus.map(\.frames) == apduTruth.compactMap { $0["frames"] as? [Int] })
                for (a, t) in zip(apdus, apduTruth) {
                    guard case .hdlc(let segments, _) = a.kind else { continue }
                    let segTruth = t["hdlc"] as? [[String: Any]] ?? []
                    #expect(segments.map(\.frames.array) == segTruth.compactMap { $0["frames"] as? [Int] })
                    #expect(segments.map { Int($0.control) } == segTruth.compactMap { $0["control"] as? Int })
                    #expect(segments.map(\.segmented) == segTruth.compactMap { $0["segmented"] as? Bool })
                }
                let links = mine.filter { $0["kind"] as? String == "link" }
                let nonI = events.compactMap(\.frame).filter { $0.type != .i }
                #expect(nonI.map(\.frames.array) == links.compactMap { $0["frames"] as? [Int] })
                #expect(nonI.map(\.type.rawValue) == links.compactMap { $0["hdlc_type"] as? String })

                // Only neg-bad-fcs has an issue: the inverted FCS of the server frame in pcap frame 15.
                let issues = events.compactMap(\.issue)
                if name == "neg-bad-fcs" && direction == "server->client" {
                    #expect(issues.map(\.code) == ["hdlc.bad-fcs"] && issues.first?.frames == [15])
                } else {
                    #expect(issues.isEmpty)
                }
            }
        }
    }

    @Test func eachUnitCarriesTheTimeOfItsLastFrame() throws {
        let segments = try Pcap.segments(try Fixtures.bytes("gurux/hdlc-none.pcap"))
        let times = Dictionary(uniqueKeysWithValues: segments.map { ($0.frame, $0.time) })
        for (_, events) in try Self.decode("hdlc-none", framing: .hdlc) {
            for a in events.compactMap(\.apdu) {
                #expect(a.time != nil && a.time == a.frames.last.flatMap { times[$0] })
            }
            for f in events.compactMap(\.frame) {
                #expect(f.time != nil && f.time == f.frames.last.flatMap { times[$0] })
            }
        }
    }
}
