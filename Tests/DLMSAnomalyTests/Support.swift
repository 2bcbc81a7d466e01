import DLMSAnalyzer
import DLMSAnomaly
import DLMSRender
import DLMSSession
import Foundation

/// Paths of the package's fixtures.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static func capture(_ relative: String) -> String { root.appendingPathComponent("Captures/" + relative).path }
    static func keyring(_ name: String) -> String { root.appendingPathComponent("Keyring/" + name).path }
    static func file(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// The healthy Gurux scenarios (every capture that is not `neg-*`).
    static var healthyScenarios: [String] {
        let dir = root.appendingPathComponent("Captures/gurux").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { $0.hasSuffix(".pcap") && !$0.hasPrefix("neg-") }.map { String($0.dropLast(5)) }.sorted()
    }
}

/// A renderer that hands every record to an anomaly engine and an audit report, as the CLI does, and keeps the
/// findings with the record they follow.
final class AnomalyTap: Renderer {
    let engine: AnomalyEngine
    let report: AuditReport
    var findings: [Finding] = []
    var records: [Record] = []
    let keepRecords: Bool

    init(options: AnomalyOptions = AnomalyOptions(), keepRecords: Bool = false) {
        engine = AnomalyEngine(options: options)
        report = AuditReport(options: options)
        self.keepRecords = keepRecords
    }

    func begin() {}
    func render(_ record: Record) {
        if keepRecords { records.append(record) }
        report.add(record)
        for f in engine.observe(record) {
            findings.append(f)
            report.add(f)
        }
    }
    func end() {
        for f in engine.finish() {
            findings.append(f)
            report.add(f)
        }
    }
}

/// Runs the real analyzer over inputs with an anomaly tap.
func analyse(_ paths: [String], keyring: [String] = [], input: AnalyzerOptions.InputKind = .auto,
             options: AnomalyOptions = AnomalyOptions()) throws -> AnomalyTap {
    var o = AnalyzerOptions()
    o.keyringPaths = keyring
    o.input = input
    let tap = AnomalyTap(options: options)
    let analyzer = try Analyzer(options: o, renderer: tap)
    _ = try analyzer.run(paths: paths)
    return tap
}

/// Runs one Gurux scenario with its keyring.
func analyseScenario(_ name: String, keyring: String? = nil) throws -> AnomalyTap {
    try analyse([Fixtures.capture("gurux/\(name).pcap")], keyring: [Fixtures.keyring(keyring ?? "\(name).json")])
}

/// Writes hex text to a temporary file and runs it through the analyzer as `--input hex`.
func analyseHex(_ text: String, options: AnomalyOptions = AnomalyOptions()) throws -> AnomalyTap {
    let path = NSTemporaryDirectory() + "dlmsanomaly-\(UUID().uuidString).hex"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try analyse([path], input: .hex, options: options)
}

extension Array where Element == Finding {
    func with(code: String) -> [Finding] { filter { $0.code == code } }
    var summary: String { map { "\($0.code)@\($0.frames)" }.joined(separator: " ") }
}
