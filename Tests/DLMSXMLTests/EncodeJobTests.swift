import DLMSSecurity
import DLMSWire
import Foundation
import Testing
@testable import DLMSXML

/// `dlmsdump encode` end to end, without the CLI: input text → APDUs → protection with a keyring → framing.
@Suite struct EncodeJobTests {
    @Test func hexLinesWithCommentsBecomeWrapperFrames() throws {
        let job = EncodeJob(frame: .wrapper(source: 16, destination: 1))
        let units = try job.run(input: "# GET clock time\nc001c100080000010000ff0200\n\n c0 01 c1 00 01 00 00 60 01 00 ff 02 00 # serial\n")
        #expect(units == [hex("000100100001000d c001c100080000010000ff0200"),
                          hex("000100100001000d c001c100010000600100ff0200")])
        #expect(throws: EncodeJob.Failure.self) { try job.run(input: "c0zz\n") }
    }

    /// decode → edit → encode → protect: the plaintext of a captured glo-get-request, re-protected with the
    /// capture's keyring and the captured IC, is the captured APDU again (wrapper-hls-gmac-authenc).
    @Test func aDocumentsPlainAPDUsReprotectedWithTheKeyringGiveTheCapturedBytes() throws {
        let ringURL = capturesURL.appendingPathComponent("gurux/wrapper-hls-gmac-authenc.keyring.json")
        let keyring = try Keyring.load(path: ringURL.path)
        let rec = try #require(try truthRecords().first {
            $0.file == "wrapper-hls-gmac-authenc.truth.jsonl" && ($0.record["apdu"] as? String) == "glo-get-request"
        }).record
        let c = try #require(rec["ciphered"] as? [String: Any])
        let wire = hex(try #require(rec["apdu_hex"] as? String))
        let plain = hex(try #require(rec["plain_hex"] as? String))
        let w = XMLDocumentWriter()
        let doc = w.begin() + w.apdu(frames: [1], time: nil, conversation: "c1", direction: "client->server",
                                     wire: wire[...], plain: plain[...]) + w.end()
        let job = EncodeJob(protect: .init(kind: .glo, securityControl: 0x30,
                                           invocationCounter: UInt32(try #require(c["invocation_counter"] as? Int)),
                                           systemTitle: hex(try #require(c["system_title"] as? String))),
                            plain: true)
        #expect(try job.run(input: doc, keyring: keyring) == [wire])
    }

    @Test func longAPDUsAreSplitIntoHDLCSegments() throws {
        let apdu = [UInt8](repeating: 0x11, count: 300)
        let job = EncodeJob(frame: .hdlc(client: 16, server: .init(upper: 1), control: nil, maxInfo: 128, fromClient: true))
        let units = try job.run(input: Hex.encode(apdu))
        #expect(units.count == 3)
        #expect(units.allSatisfy { $0.first == 0x7E && $0.last == 0x7E })
        #expect(units[0][1] & 0x08 != 0 && units[2][1] & 0x08 == 0)
    }

    @Test func protectionWithoutTheNeededKeyIsAnError() {
        let job = EncodeJob(protect: .init(kind: .ded, securityControl: 0x30, invocationCounter: 1,
                                           systemTitle: hex("4D4D4D0000BC614E")))
        let e = #expect(throws: EncodeJob.Failure.self) { try job.run(input: "c001c100080000010000ff0200") }
        #expect(e?.code == "encode.no-key")
    }
}
