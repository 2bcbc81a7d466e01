import DLMSAnomaly
import DLMSWire
import Foundation
import Testing

@Suite struct FindingRenderingTests {
    static let finding = Finding(
        code: "security.ic-replay", severity: .critical, frames: [92],
        time: Timestamp(seconds: 1_764_084_665, micros: 912_670), conversation: "tcp-1",
        systemTitle: [0x43, 0x4C, 0x49, 0x8D, 0x9D, 0x3D, 0x42, 0x5A],
        message: "invocation counter 16232 reused \"again\"",
        evidence: [EvidenceItem("invocation_counter", .int(16232)), EvidenceItem("first_frame", .int(10)),
                   EvidenceItem("first_frames", .frames([10])), EvidenceItem("key", .string("guek")),
                   EvidenceItem("roles", .strings(["guek", "ak"])), EvidenceItem("ok", .bool(false)),
                   EvidenceItem("sc", .hex([0x30]))])

    @Test func jsonLineHasTheContractKeysInOrder() throws {
        let line = Self.finding.jsonLine
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["kind"] as? String == "anomaly")
        #expect(object["code"] as? String == "security.ic-replay")
        #expect(object["severity"] as? String == "critical")
        #expect(object["frames"] as? [Int] == [92])
        #expect(object["time"] as? String == "2025-11-25T15:31:05.912670Z")
        #expect(object["conversation"] as? String == "tcp-1")
        #expect(object["system_title"] as? String == "434c498d9d3d425a")
        #expect(object["message"] as? String == "invocation counter 16232 reused \"again\"")
        let evidence = try #require(object["evidence"] as? [String: Any])
        #expect(evidence["invocation_counter"] as? Int == 16232)
        #expect(evidence["first_frames"] as? [Int] == [10])
        #expect(evidence["roles"] as? [String] == ["guek", "ak"])
        #expect(evidence["ok"] as? Bool == false)
        #expect(evidence["sc"] as? String == "30")
        // Keys in the documented order (the evidence keeps the rule's order).
        let keys = ["\"kind\"", "\"code\"", "\"severity\"", "\"frames\"", "\"time\"", "\"conversation\"",
                    "\"system_title\"", "\"message\"", "\"evidence\"", "\"invocation_counter\"", "\"first_frame\""]
        let positions = keys.compactMap { line.range(of: $0)?.lowerBound }
        #expect(positions.count == keys.count)
        #expect(positions == positions.sorted())
    }

    @Test func missingTimeAndSystemTitleAreNull() throws {
        let f = Finding(code: "hdlc.bad-fcs", severity: .warning, frames: [], time: nil, conversation: "-",
                        message: "m")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(f.jsonLine.utf8)) as? [String: Any])
        #expect(object["time"] is NSNull)
        #expect(object["system_title"] is NSNull)
        #expect((object["evidence"] as? [String: Any])?.isEmpty == true)
    }

    @Test func textLineNamesSeverityCodeFramesAndEvidence() {
        let plain = Self.finding.textLine(color: false)
        #expect(plain.hasPrefix("  !! CRITICAL security.ic-replay: invocation counter 16232"))
        #expect(plain.contains("(frame 92)"))
        #expect(plain.contains("[invocation_counter=16232, first_frame=10, first_frames=10, key=guek"))
        #expect(!plain.contains("\u{1B}"))
        let colored = Self.finding.textLine(color: true)
        #expect(colored.contains("\u{1B}[1;7;31m!! CRITICAL security.ic-replay\u{1B}[0m"))
        var info = Self.finding
        info.severity = .info
        #expect(info.textLine(color: true).contains("\u{1B}[36m!! INFO"))
    }

    @Test func standaloneLineStartsWithTheUnitHeader() {
        let lines = Self.finding.standaloneTextLine(color: false).split(separator: "\n")
        #expect(lines.first == "#92  2025-11-25T15:31:05.912670Z  tcp-1  434C498D9D3D425A")
        #expect(lines.last?.hasPrefix("  !! CRITICAL security.ic-replay") == true)
    }
}
