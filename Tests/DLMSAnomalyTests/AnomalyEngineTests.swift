import DLMSAnomaly
import DLMSSession
import DLMSWire
import Foundation
import Testing

@Suite struct AnomalyEngineTests {
    @Test func summaryCountsFindingsByCodeAndSeverity() throws {
        let engine = AnomalyEngine()
        for r in [Build.service(1, "get-request", ic: 5), Build.service(2, "get-request", ic: 5),
                  Build.service(3, "get-response", ic: 1, verdict: "authentication-failed")] {
            _ = engine.observe(r)
        }
        _ = engine.finish()
        #expect(engine.countsByCode == ["security.ic-replay": 1, "security.auth-failed": 1])
        #expect(engine.worstSeverity == .critical)
        #expect(engine.hasFindings(atLeast: .error))
        #expect(engine.hasFindings(atLeast: .critical))
        var j = JSONBuffer()
        j.beginObject()
        engine.writeSummary(into: &j)
        j.endObject()
        let root = try #require(try JSONSerialization.jsonObject(with: Data(j.string.utf8)) as? [String: Any])
        let a = try #require(root["anomalies"] as? [String: Any])
        #expect(a["total"] as? Int == 2)
        #expect((a["by_severity"] as? [String: Int]) == ["critical": 1, "error": 1, "warning": 0, "info": 0])
        #expect(engine.summaryLines().first == "anomalies: 2 (1 critical, 1 error)")
    }

    @Test func noFindingsMeansNoFailure() {
        let engine = AnomalyEngine()
        _ = engine.finish()
        #expect(!engine.hasFindings(atLeast: .info))
        #expect(engine.summaryLines() == ["anomalies: none"])
    }

    @Test func bruteForceWindowUsesCaptureTime() {
        func failure(_ frame: Int, at second: Int64) -> [Record] {
            var aarq = Build.aarq(frame, context: 1, mechanism: 1)
            var aare = Build.aare(frame + 1, result: 1)
            if case .apdu(var a) = aarq { a.provenance.time = Timestamp(seconds: second, micros: 0); aarq = .apdu(a) }
            if case .apdu(var a) = aare { a.provenance.time = Timestamp(seconds: second, micros: 0); aare = .apdu(a) }
            return [aarq, aare]
        }
        // Three failures, but ten minutes apart: no brute force within the 300 s window ...
        let slow = run(failure(1, at: 0) + failure(3, at: 600) + failure(5, at: 1200))
        #expect(slow.with(code: "association.brute-force").isEmpty)
        #expect(slow.with(code: "association.rejected").count == 3)
        // ... three within a minute are.
        let fast = run(failure(1, at: 0) + failure(3, at: 20) + failure(5, at: 40))
        let bf = fast.with(code: "association.brute-force")
        #expect(bf.map(\.frames) == [[6]])
        #expect(bf.first?.evidence("seconds") == .string("40.0"))
    }

    /// Bad input is normal input: random APDU-like lines through the analyzer and the engine never crash, and
    /// whatever is found is a finding with a code and frames.
    @Test func randomInputNeverCrashesTheRules() throws {
        var rng = SeededRandom(seed: 0x5EED_A110)
        let tags: [UInt8] = [0x60, 0x61, 0x62, 0x63, 0xC0, 0xC1, 0xC3, 0xC4, 0xC5, 0xC7, 0xC8, 0xC9, 0xCB, 0xCC,
                             0xCD, 0xCF, 0xD8, 0x0E, 0xDB, 0xDC, 0xE0, 0x0F]
        var lines: [String] = []
        for i in 0..<400 {
            var bytes = [tags[Int(rng.next() % UInt64(tags.count))]]
            let n = Int(rng.next() % 40)
            for _ in 0..<n { bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
            lines.append((i % 2 == 0 ? "TX: " : "RX: ") + Hex.encode(bytes))
        }
        let tap = try analyseHex(lines.joined(separator: "\n"))
        #expect(tap.findings.with(code: "apdu.malformed").count > 10, "\(tap.findings.count) findings")
        #expect(tap.findings.allSatisfy { !$0.code.isEmpty && $0.code.contains(".") })
        _ = tap.report.writeJSON()
        _ = tap.report.writeHTML()
    }
}

/// SplitMix64: a seeded generator, so a failure reproduces.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
