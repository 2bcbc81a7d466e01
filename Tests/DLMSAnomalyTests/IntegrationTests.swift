import DLMSAnalyzer
import DLMSAnomaly
import DLMSRender
import DLMSSession
import DLMSWire
import Foundation
import Testing

/// How the CLI wires the engine in (a reference for the integration): every record goes to the real renderer,
/// then its findings are written right after it on the same sink; the findings of `finish()` come before the
/// summary. Here the JSON Lines renderer flushes each record so the finding lines land in order; the integrated
/// renderer appends them to its own buffer instead.
final class FindingInterleavingRenderer: Renderer {
    let inner: JSONLinesRenderer
    let sink: MemorySink
    let engine = AnomalyEngine()
    let onlyAnomalies: Bool

    init(sink: MemorySink, onlyAnomalies: Bool = false) {
        self.sink = sink
        self.inner = JSONLinesRenderer(sink: sink, flushEachRecord: true)
        self.onlyAnomalies = onlyAnomalies
    }

    func begin() { inner.begin() }
    func render(_ record: Record) {
        if case .summary = record {
            write(engine.finish())
            if !onlyAnomalies { inner.render(record) }
            return
        }
        if !onlyAnomalies { inner.render(record) }
        write(engine.observe(record))
    }
    func end() { inner.end() }

    func write(_ findings: [Finding]) {
        for f in findings { sink.write(f.jsonLine + "\n") }
    }
}

@Suite struct IntegrationTests {
    func lines(_ name: String, onlyAnomalies: Bool = false) throws -> [[String: Any]] {
        var options = AnalyzerOptions()
        options.keyringPaths = [Fixtures.keyring("\(name).json")]
        let sink = MemorySink()
        let renderer = FindingInterleavingRenderer(sink: sink, onlyAnomalies: onlyAnomalies)
        _ = try Analyzer(options: options, renderer: renderer).run(paths: [Fixtures.capture("gurux/\(name).pcap")])
        return try sink.string.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func anomalyRecordsFollowTheAPDUTheyConcern() throws {
        let records = try lines("neg-tamper")
        let index = try #require(records.firstIndex { $0["kind"] as? String == "anomaly"
            && $0["code"] as? String == "security.auth-failed" })
        let before = records[index - 1]
        #expect(before["kind"] as? String == "apdu")
        #expect(before["frames"] as? [Int] == [17])
        #expect((before["security"] as? [String: Any])?["verdict"] as? String == "authentication-failed")
        #expect(records.last?["kind"] as? String == "summary")
        let anomalies = records.filter { $0["kind"] as? String == "anomaly" }
        for a in anomalies {
            for key in ["code", "severity", "frames", "time", "conversation", "system_title", "message", "evidence"] {
                #expect(a[key] != nil, "\(key) missing")
            }
        }
    }

    @Test func onlyAnomaliesPrintsJustTheFindings() throws {
        let records = try lines("neg-replay", onlyAnomalies: true)
        #expect(!records.isEmpty)
        #expect(records.allSatisfy { $0["kind"] as? String == "anomaly" })
        #expect(records.contains { $0["code"] as? String == "security.ic-replay" })
    }
}
