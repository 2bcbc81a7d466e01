import DLMSAnalyzer
import Foundation
import Testing

@Suite struct PipelineTests {
    /// Captures from other stacks decode completely: no error record, no APDU with errors, no unknown APDU —
    /// except the peers' own, known defects, which must be reported exactly: the hand-made HDLC-over-UDP sample's
    /// AARQ frame (frame 3) carries a wrong FCS (E999 computed, 0BDB sent; its HCS is right), and Gurux's RLRE
    /// encodes wrong BER lengths (Captures/gurux/README.md, quirk 3 and 18).
    @Test(arguments: [
        ("peers/Output-EPRI.pcap", [String]()),
        ("peers/hdlc-over-udp-sample.pcap", ["hdlc.bad-fcs@3"]),
        ("peers/Output.pcap", ["ber.length-mismatch@264"]),
    ])
    func peerCaptureDecodesWithoutErrors(_ input: String, _ known: [String]) throws {
        let (_, records) = try analyseToJSON([Fixtures.capture(input)])
        let apdus = records.filter { $0["kind"]?.string == "apdu" }
        #expect(apdus.count > 3)
        var found: Set<String> = []
        for r in records where r["kind"]?.string == "error" {
            found.insert("\(r["code"]?.string ?? "?")@\(r["frames"]?[0]?.int ?? 0)")
        }
        for a in apdus {
            for e in a["errors"]?.array ?? [] {
                found.insert("\(e["code"]?.string ?? "?")@\(a["frames"]?.array?.last?.int ?? 0)")
            }
            #expect(a["apdu"]?["type"]?.string != "unknown", "\(a["apdu"]?["hex"]?.string ?? "")")
            #expect(a["direction"] != nil)
        }
        #expect(found == Set(known))
    }

    /// The segmented HDLC over UDP sample: the object list answer spans several I-frames and is joined, and the
    /// datablock transfer is reassembled.
    @Test func hdlcOverUDPSegmentsAreJoined() throws {
        let (_, records) = try analyseToJSON([Fixtures.capture("peers/hdlc-over-udp-sample.pcap")])
        let apdus = records.filter { $0["kind"]?.string == "apdu" }
        let segmented = apdus.filter { ($0["transport"]?["segment_count"]?.int ?? 0) > 1 }
        #expect(!segmented.isEmpty)
        // The AARQ's frame has a bad FCS (see above); the AARQ sent again later over the IEC 61334-4-32 LLC decodes.
        #expect(apdus.contains { $0["apdu"]?["type"]?.string == "aarq" })
        #expect(apdus.contains { $0["apdu"]?["type"]?.string == "aare" })
        #expect(records.contains { $0["kind"]?.string == "frame" && $0["transport"]?["frame_type"]?.string == "SNRM" })
    }

    /// A raw serial recording of both directions gives the same APDUs, in the same order and directions, as the
    /// pcap of the same session (Gurux README: `*.raw` are the TCP payloads of both directions concatenated).
    @Test func rawStreamMatchesPcap() throws {
        let (_, fromPcap) = try analyseToJSON([Fixtures.capture("gurux/hdlc-none.pcap")])
        let (_, fromRaw) = try analyseToJSON([Fixtures.capture("gurux/hdlc-none.raw")]) { $0.input = .raw }
        func key(_ r: [JSONValue]) -> [String] {
            r.filter { $0["kind"]?.string == "apdu" }.map {
                ($0["direction"]?.string ?? "?") + " " + ($0["apdu"]?["hex"]?.string ?? "?")
            }
        }
        let a = key(fromPcap)
        let b = key(fromRaw)
        #expect(a.count == 78)  // the kind "apdu" records of hdlc-none.truth.jsonl
        #expect(a == b)
    }

    /// Truncated, corrupted and mis-framed captures are reported where the fault is and decoding goes on.
    @Test func injectedFaultsAreReportedAndDecodingContinues() throws {
        let (_, fcs) = try analyseToJSON([Fixtures.capture("gurux/neg-bad-fcs.pcap")])
        #expect(fcs.contains { $0["kind"]?.string == "error" && $0["code"]?.string == "hdlc.bad-fcs" })
        let (_, wl) = try analyseToJSON([Fixtures.capture("gurux/neg-wrapper-length.pcap")])
        let wrapperErrors = wl.filter { $0["kind"]?.string == "error" && ($0["code"]?.string ?? "").hasPrefix("wrapper.") }
        #expect(!wrapperErrors.isEmpty)
        #expect(wrapperErrors.first?["frames"]?.array?.contains(.int(12)) == true)
        // Later APDUs still decode: the release at the end is there.
        #expect(wl.contains { $0["apdu"]?["type"]?.string == "rlre" })
        let (_, tr) = try analyseToJSON([Fixtures.capture("gurux/neg-truncated-segment.pcap")])
        #expect(tr.contains { $0["kind"]?.string == "error" && $0["code"]?.string == "capture.truncated" })
        #expect(tr.contains { $0["apdu"]?["type"]?.string == "rlre" })
    }

    /// A BPF filter keeps Wireshark's frame numbers: keeping only the client's packets (server port 24050, from
    /// Captures/gurux/wrapper-none.keyring.json) leaves the requests with the frame numbers they have unfiltered.
    @Test func filterKeepsFrameNumbers() throws {
        let (_, all) = try analyseToJSON([Fixtures.capture("gurux/wrapper-none.pcap")])
        let (_, filtered) = try analyseToJSON([Fixtures.capture("gurux/wrapper-none.pcap")]) {
            $0.filter = "tcp dst port 24050"
        }
        func requests(_ r: [JSONValue]) -> [JSONValue] {
            r.filter { $0["kind"]?.string == "apdu" && $0["direction"]?.string == "client->server" }
                .compactMap { $0["frames"] }
        }
        #expect(requests(all).count > 10)
        #expect(requests(filtered) == requests(all))
        #expect(!filtered.contains { $0["direction"]?.string == "server->client" && $0["kind"]?.string == "apdu" })
    }

    @Test func textOutputNamesFieldsAndObjects() throws {
        let text = try analyseToText([Fixtures.capture("gurux/wrapper-none.pcap")])
        #expect(text.contains("aarq"))
        #expect(text.contains("get-request"))
        #expect(text.contains("0-0:1.0.0*255"))
        #expect(text.contains("summary"))
    }
}
