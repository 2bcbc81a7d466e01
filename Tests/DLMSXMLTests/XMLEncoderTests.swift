import DLMSWire
import Foundation
import Testing
@testable import DLMSXML

@Suite struct XMLEncoderTests {
    /// Gurux's own STANDARD_XML (the truth files) encodes to the APDU it was made from, except where Gurux's XML
    /// loses information (docs/xml.md, "Deviations"): general-ded-ciphering written as general-glo-ciphering,
    /// the RLRE whose lengths Gurux miscounts, bytes after the APDU, and the InitiateRequest's default
    /// response-allowed.
    @Test func guruxStandardXMLEncodesToTheBytesItDescribes() throws {
        var encoded = 0
        var problems: [String] = []
        for (file, r) in try truthRecords() {
            for (hexKey, xmlKey, okKey) in [("apdu_hex", "xml", "xml_wellformed"),
                                            ("plain_hex", "plain_xml", "plain_xml_wellformed")] {
                guard let h = r[hexKey] as? String, let x = r[xmlKey] as? String, r[okKey] as? Bool != false
                else { continue }
                let bytes = hex(h)
                if bytes.first == 0xDC || bytes.first == 0x63 { continue }
                if XMLTranslator.apduToElement(bytes[...]).attribute("trailing-bytes") != nil { continue }
                do {
                    let out = try XMLEncoder.encode(xml: x)
                    if out != bytes { problems.append("\(file) #\(r["index"] ?? "?") \(xmlKey): \(Hex.encode(out.prefix(20)))") }
                    encoded += 1
                } catch {
                    problems.append("\(file) #\(r["index"] ?? "?") \(xmlKey): \(error)")
                }
            }
        }
        #expect(encoded > 2500)
        #expect(problems.isEmpty, "\(problems.count): \(problems.prefix(6).joined(separator: "\n"))")
    }

    @Test func aBadValueNamesTheLineAndTheElement() {
        let xml = """
            <x:xDLMS-APDU xmlns:x="http://www.dlms.com/COSEMpdu">
              <x:get-request>
                <x:get-request-normal>
                  <x:invoke-id-and-priority>193</x:invoke-id-and-priority>
                  <x:cosem-attribute-descriptor>
                    <x:class-id>70000</x:class-id>
            """ + "\n        <x:instance-id>0000010000FF</x:instance-id>\n        <x:attribute-id>2</x:attribute-id>\n"
            + "      </x:cosem-attribute-descriptor>\n    </x:get-request-normal>\n  </x:get-request>\n</x:xDLMS-APDU>"
        let e = #expect(throws: XMLEncodeError.self) { try XMLEncoder.encode(xml: xml) }
        #expect(e?.code == .badValue)
        #expect(e?.line == 6)
        #expect(e?.element == "class-id")
        #expect(e?.description.contains("line 6, <class-id>") == true)
    }

    @Test func aMissingElementNamesItsParent() {
        let xml = "<xDLMS-APDU>\n<get-request>\n<get-request-next>\n<invoke-id-and-priority>1</invoke-id-and-priority>\n"
            + "</get-request-next>\n</get-request>\n</xDLMS-APDU>"
        let e = #expect(throws: XMLEncodeError.self) { try XMLEncoder.encode(xml: xml) }
        #expect(e?.code == .missingElement)
        #expect(e?.element == "get-request-next")
        #expect(e?.line == 3)
        #expect(e?.message.contains("block-number") == true)
    }

    @Test func anUnknownElementIsRejectedWithItsLine() {
        let xml = "<xDLMS-APDU>\n  <get-request>\n    <get-request-sideways/>\n  </get-request>\n</xDLMS-APDU>"
        let e = #expect(throws: XMLEncodeError.self) { try XMLEncoder.encode(xml: xml) }
        #expect(e?.code == .unexpectedElement)
        #expect(e?.line == 3)
        #expect(e?.element == "get-request-sideways")
    }

    @Test func badHexAndOutOfRangeNumbersAreBadValues() {
        for body in ["<octet-string>0G</octet-string>", "<octet-string>ABC</octet-string>", "<unsigned>256</unsigned>",
                     "<integer>-129</integer>", "<bit-string>0102</bit-string>", "<date-time>00</date-time>"] {
            let xml = "<get-response><get-response-normal><invoke-id-and-priority>1</invoke-id-and-priority>"
                + "<result><data>\(body)</data></result></get-response-normal></get-response>"
            let e = #expect(throws: XMLEncodeError.self, "\(body)") { try XMLEncoder.encode(xml: xml) }
            #expect(e?.code == .badValue, "\(body)")
        }
    }

    @Test func asn1SpellingsAreAcceptedAsWellAsGuruxs() throws {
        let gurux = XMLTranslator.apduToXML(hex("c402c100000000010006010203040506")[...])
        let standard = XMLTranslator.apduToXML(hex("c402c100000000010006010203040506")[...], naming: .standard)
        #expect(gurux.contains("get-response-with-data-block"))
        #expect(standard.contains("get-response-with-datablock"))
        #expect(try XMLEncoder.encode(xml: standard) == hex("c402c100000000010006010203040506"))
        // An AARQ with a calling AP title (hdlc-auth-only #3, Gurux's CallingAPTitle).
        let aarq = hex("605da109060760857405080103a60a0408434c498438fea81f8a0207808b0760857405080205ac1280103cdd4a848fc8e60ec593c80d8d082ab5be230421211f10000012a501000000065f1f0400001e5d0200df8be5162152a67a1066f044")
        let s = XMLTranslator.apduToXML(aarq[...], naming: .standard)
        #expect(s.contains("calling-AP-title"))
        #expect(try XMLEncoder.encode(xml: s) == aarq)
    }

    @Test func valuesCanBeEditedAndEncodeToTheEditedAPDU() throws {
        // decode → edit → encode: the SET of the clock (hdlc-auth-only #35 plaintext) with another time.
        let set = hex("c101c100080000010000ff0200090c07e80301ff0c1e0000000000")
        var xml = XMLTranslator.apduToXML(set[...])
        xml = xml.replacingOccurrences(of: "07E80301FF0C1E0000000000", with: "07E80302FF0D000000000000")
        #expect(try XMLEncoder.encode(xml: xml) == hex("c101c100080000010000ff0200090c07e80302ff0d000000000000"))
    }

    @Test func aDocumentOfRecordsGivesEveryWireAndPlainAPDU() throws {
        let w = XMLDocumentWriter(showSecrets: true)
        let wire = hex("c81e10000012a8c001c100080000010000ff0200b76b63d8c4d11c7b481a1370")
        let plain = hex("c001c100080000010000ff0200")
        let doc = w.begin() + w.apdu(frames: [1], time: nil, conversation: "c1", direction: "client->server",
                                     wire: wire[...], plain: plain[...])
            + w.apdu(frames: [2], time: nil, conversation: "c1", direction: nil, wire: plain[...]) + w.end()
        #expect(try XMLEncoder.encodeDocument(xml: doc) == [wire, plain])
        #expect(try XMLEncoder.encodeDocument(xml: doc, plain: true) == [plain, plain])
    }
}
