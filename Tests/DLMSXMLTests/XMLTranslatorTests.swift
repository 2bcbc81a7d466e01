import DLMSWire
import Foundation
import Testing
@testable import DLMSXML

/// The translator against Gurux's STANDARD_XML in the truth files, normalised as compare-xml.py does.
@Suite struct XMLTranslatorTests {
    /// Documented deviations (docs/xml.md): Gurux names general-ded-ciphering (0xDC) `general-glo-ciphering`.
    static func applyingDeviations(_ expected: XElement, bytes: [UInt8]) -> XElement {
        var e = expected
        if bytes.first == 0xDC, e.children.first?.name == "general-glo-ciphering" {
            e.children[0].name = "general-ded-ciphering"
        }
        return e
    }

    @Test func everyGuruxAPDUMatchesGuruxStandardXML() throws {
        var compared = 0
        var skipped = 0
        var problems: [String] = []
        for (file, r) in try truthRecords() {
            let kind = r["kind"] as? String
            guard kind == "apdu" || (kind == "reassembled" && r["via"] as? String == "general-block-transfer")
            else { continue }
            for (hexKey, xmlKey, okKey) in [("apdu_hex", "xml", "xml_wellformed"),
                                            ("plain_hex", "plain_xml", "plain_xml_wellformed")] {
                guard let h = r[hexKey] as? String, let x = r[xmlKey] as? String else { continue }
                if r[okKey] as? Bool == false {
                    skipped += 1
                    continue
                }
                let bytes = hex(h)
                let want = Self.applyingDeviations(try XMLParser.parse(x), bytes: bytes)
                let got = XMLTranslator.apduToElement(bytes[...])
                compared += 1
                if let d = NormalTree(want).firstDifference(NormalTree(got)) {
                    problems.append("\(file) #\(r["index"] ?? "?") \(xmlKey): \(d)")
                }
            }
        }
        #expect(compared > 2500)
        #expect(skipped > 0)
        #expect(problems.isEmpty, "\(problems.count) differ, first: \(problems.prefix(8).joined(separator: "\n"))")
    }
}
