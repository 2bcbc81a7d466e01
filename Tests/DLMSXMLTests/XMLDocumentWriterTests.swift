import DLMSWire
import Foundation
import Testing
@testable import DLMSXML

@Suite struct XMLDocumentWriterTests {
    /// A `--format xml` document as the CLI would write it for one capture, from the truth records' bytes.
    static func document(_ scenario: String, writer: XMLDocumentWriter, secrets: Bool = true) throws -> (String, Int) {
        let w = writer
        var doc = w.begin(source: "\(scenario).pcap")
        var n = 0
        for (file, r) in try truthRecords() where file == "\(scenario).truth.jsonl" {
            let kind = r["kind"] as? String
            guard kind == "apdu" || (kind == "reassembled" && r["via"] as? String == "general-block-transfer"),
                let wire = (r["apdu_hex"] as? String).map(hex)
            else { continue }
            let plain = (r["plain_hex"] as? String).map(hex)
            var wireSecrets: [Range<Int>] = []
            if secrets, let f = r["facts"] as? [String: Any], let pw = (f["calling_authentication_value"] as? String).map(hex),
                f["mechanism_name"] as? String == "60857405080201",
                let at = (0..<(wire.count - pw.count)).first(where: { wire[$0..<($0 + pw.count)].elementsEqual(pw) }) {
                wireSecrets.append(at..<(at + pw.count))
            }
            let verdict = (r["ciphered"] as? [String: Any]).map { c in
                XMLSecurityVerdict(protection: "glo", securityControl: 0x30, invocationCounter: c["invocation_counter"] as? UInt32,
                                   key: c["key"] as? String, verdict: c["tag_ok"] as? Bool == true ? "verified" : "authentication-failed")
            }
            doc += w.apdu(frames: r["frames"] as? [Int] ?? [], time: "2024-03-01T12:00:00.000000Z", conversation: "c\(r["conn"] ?? 0)",
                          direction: r["direction"] as? String, wire: wire[...], plain: plain?[...], verdict: verdict,
                          findings: [DecodeError("test.note", "a <finding> & more", offset: 3)], wireSecrets: wireSecrets)
            n += 1
        }
        return (doc + w.end(), n)
    }

    @Test(arguments: ["wrapper-lls", "hdlc-gbt-authenc", "wrapper-general-ded"])
    func aCaptureDocumentIsOneWellFormedTreeWithOneApduElementPerAPDU(scenario: String) throws {
        let (doc, n) = try Self.document(scenario, writer: XMLDocumentWriter())
        let root = try XMLParser.parse(doc)
        #expect(root.name == "dlmsdump")
        let records = root.children.filter { $0.name == "apdu" }
        #expect(records.count == n)
        for rec in records {
            #expect(rec.attribute("frames") != nil && rec.attribute("conversation") != nil)
            #expect(["xDLMS-APDU", "aCSE-APDU"].contains(rec.children.first?.name ?? ""))
            #expect(rec.child("finding")?.text == "a <finding> & more")
        }
        // What the CLI reads back with `encode`: the wire APDUs, in order.
        let again = try XMLEncoder.encodeDocument(xml: Self.document(scenario, writer: XMLDocumentWriter(showSecrets: true)).0)
        #expect(again.count == n)
    }

    @Test func theLLSPasswordIsMaskedUnlessSecretsAreShown() throws {
        // wrapper-lls #0: the AARQ's calling-authentication-value is the password 07488909 (hex 3037343838393039).
        let (masked, _) = try Self.document("wrapper-lls", writer: XMLDocumentWriter())
        #expect(!masked.contains("3037343838393039"))
        #expect(masked.contains("****************"))
        let (shown, _) = try Self.document("wrapper-lls", writer: XMLDocumentWriter(showSecrets: true))
        #expect(shown.contains("3037343838393039"))
    }

    @Test func theVerdictIsAnElementWithNamesAndNumbersOnly() throws {
        let w = XMLDocumentWriter()
        let v = XMLSecurityVerdict(protection: "general-glo", securityControl: 0x30, systemTitle: hex("4D4D4D0000BC614E"),
                                   invocationCounter: 42, key: "guek", verdict: "verified", detail: "keyring entry 1")
        let piece = w.apdu(frames: [3, 4], time: nil, conversation: "c1", direction: "server->client",
                           wire: hex("c401c1000600000001")[...], verdict: v)
        let e = try XMLParser.parse(piece)
        let s = try #require(e.child("security"))
        #expect(s.attribute("verdict") == "verified")
        #expect(s.attribute("invocation-counter") == "42")
        #expect(s.attribute("key") == "guek")
        #expect(s.attribute("system-title") == "4D4D4D0000BC614E")
        #expect(e.attribute("frames") == "3 4")
    }

    @Test func errorsAndLinkFramesAreElementsOfTheirOwn() throws {
        let w = XMLDocumentWriter()
        let doc = w.begin() + w.link(frames: [1], time: nil, conversation: "c1", direction: "server->client",
                                     type: "UA", control: 0x73)
            + w.error(frames: [5, 6], time: "t", conversation: "c1", code: "wrapper.length", message: "5 > 3", offset: 6)
            + w.end()
        let root = try XMLParser.parse(doc)
        #expect(root.children.map(\.name) == ["link", "error"])
        #expect(root.children.last?.attribute("code") == "wrapper.length")
        #expect(root.children.last?.attribute("frames") == "5 6")
    }

    @Test func anInterruptedRunStillEndsAsOneDocument() throws {
        let w = XMLDocumentWriter()
        let doc = w.begin() + w.apdu(frames: [1], time: nil, conversation: "c1", direction: nil, wire: hex("6203800100")[...])
            + w.endInterrupted(reason: "SIGINT -- stopped by the user")
        let root = try XMLParser.parse(doc)
        #expect(root.children.count == 1)
    }
}
