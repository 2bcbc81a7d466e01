import DLMSWire
import Foundation
import Testing
@testable import DLMSXML

/// Frames built by `Framing` are the frames Gurux's client and server put on the wire (Captures/gurux/*.raw holds
/// the HDLC byte stream of both directions).
@Suite struct FramingTests {
    /// The frames of a raw HDLC stream, split by their length field (flag to flag).
    static func frames(_ raw: [UInt8]) -> Set<[UInt8]> {
        var out: Set<[UInt8]> = []
        var i = 0
        while i + 2 < raw.count {
            guard raw[i] == 0x7E, raw[i + 1] & 0xF0 == 0xA0 else {
                i += 1
                continue
            }
            let n = Int(raw[i + 1] & 0x07) << 8 | Int(raw[i + 2])
            guard i + n + 2 <= raw.count else { break }
            out.insert(Array(raw[i..<(i + n + 2)]))
            i += n + 2
        }
        return out
    }

    @Test(arguments: ["hdlc-none", "hdlc-auth-only", "hdlc-gbt-authenc"])
    func everyHDLCFrameOfTheGuruxSessionIsRebuiltByteForByte(scenario: String) throws {
        let raw = Self.frames([UInt8](try Data(contentsOf: capturesURL.appendingPathComponent("gurux/\(scenario).raw"))))
        let ringData = try Data(contentsOf: capturesURL.appendingPathComponent("gurux/\(scenario).keyring.json"))
        let ring = try JSONSerialization.jsonObject(with: ringData) as? [String: Any] ?? [:]
        let hdlc = try #require(ring["hdlc"] as? [String: Any])
        let client = UInt8(try #require(hdlc["client_address"] as? Int))
        let server = Framing.ServerAddress(upper: UInt16(try #require(hdlc["server_address"] as? Int)))
        var single = 0
        var segmented = 0
        for (file, r) in try truthRecords() where file == "\(scenario).truth.jsonl" {
            guard r["kind"] as? String == "apdu", let segs = r["hdlc"] as? [[String: Any]],
                let apdu = (r["apdu_hex"] as? String).map(hex), r["llc"] as? String != Hex.encode(apdu.prefix(3))
            else { continue }  // (the RLRE Gurux sends without LLC is skipped: README quirk 18)
            let fromClient = r["direction"] as? String == "client->server"
            if segs.count == 1, let control = segs.first?["control"] as? Int {
                let frame = try Framing.hdlcFrame(apdu: apdu, client: client, server: server,
                                                  control: UInt8(control), fromClient: fromClient)
                #expect(raw.contains(frame), "\(scenario) #\(r["index"] ?? "?")")
                single += 1
            } else if let ns = segs.first?["ns"] as? Int, let nr = segs.first?["nr"] as? Int {
                // Gurux fills segments to its own limit (61 bytes from the server with max info 64): try every
                // segment size until the frames match.
                var found = false
                // (its client's first segment is 3 bytes shorter still).
                for maxInfo in 32...200 {
                  for firstShort in [3, 6] {
                    let frames = try Framing.hdlcFrames(apdu: apdu, client: client, server: server, maxInfo: maxInfo,
                                                        sendSequence: UInt8(ns), receiveSequence: UInt8(nr),
                                                        fromClient: fromClient)
                    #expect(frames.first?.count ?? 0 <= maxInfo + 12)
                    // Gurux sets N(R) per segment as it receives RRs; compare the payload-carrying parts by
                    // rebuilding each frame with the control byte it used.
                    var all = true
                    var rest = ArraySlice(apdu)
                    for (k, seg) in segs.enumerated() {
                        let room = maxInfo - (k == 0 ? firstShort : 0)
                        let chunk = Array(rest.prefix(room))
                        rest = rest.dropFirst(chunk.count)
                        let f = try Framing.hdlcFrame(apdu: chunk, client: client, server: server,
                                                      control: UInt8(seg["control"] as? Int ?? 0),
                                                      fromClient: fromClient, segmented: !rest.isEmpty, llc: k == 0)
                        if !raw.contains(f) {
                            all = false
                            break
                        }
                    }
                    if all && rest.isEmpty {
                        found = true
                        break
                    }
                  }
                  if found { break }
                }
                #expect(found, "\(scenario) #\(r["index"] ?? "?") segmented")
                segmented += 1
            }
        }
        #expect(single > 20)
        #expect(segmented > 0)
    }

    @Test func wrapperHeaderIsVersionPortsAndLength() throws {
        // wrapper-lls frame 8 (Captures/gurux/wrapper-lls.truth.jsonl #2): src 16, dst 1, length 13.
        let apdu = hex("c001c100080000010000ff0200")
        #expect(try Framing.wrap(apdu: apdu, source: 16, destination: 1) == hex("00010010000100 0d") + apdu)
        #expect(throws: Framing.FramingError.self) {
            try Framing.wrap(apdu: [UInt8](repeating: 0, count: 70_000), source: 1, destination: 1)
        }
    }

    @Test func serverAddressesUseTheOneTwoAndFourByteForms() throws {
        #expect(try Framing.ServerAddress(upper: 1).bytes() == [0x03])
        #expect(try Framing.ServerAddress(upper: 1, lower: 17).bytes() == [0x02, 0x23])
        #expect(try Framing.ServerAddress(upper: 1, lower: 0x3FFF).bytes() == [0x00, 0x02, 0xFE, 0xFF])
        #expect(throws: Framing.FramingError.self) { try Framing.ServerAddress(upper: 0x4000, lower: 1).bytes() }
        #expect(Framing.informationControl(sendSequence: 2, receiveSequence: 3) == 0x74)
    }

    @Test func anOversizedHDLCFrameIsAnError() {
        #expect(throws: Framing.FramingError.self) {
            try Framing.hdlcFrame(apdu: [UInt8](repeating: 0, count: 3000), client: 16,
                                  server: .init(upper: 1), control: 0x10)
        }
    }
}
