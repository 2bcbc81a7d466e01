import DLMSAnalyzer
import DLMSRender
import Foundation
import Testing

/// No key from the keyring appears in any output, in any letter case, and the LLS password is masked unless asked
/// for (issue: "No key ever leaves").
@Suite struct SecretLeakTests {
    static let cases = ["wrapper-ded", "wrapper-general-ded", "hdlc-gbt-authenc", "wrapper-suite2-ecdsa", "wrapper-lls"]

    /// Every key and password of a capgen keyring (Captures/gurux/NAME.keyring.json), lower-cased hex.
    static func secrets(_ name: String) throws -> [String] {
        let text = try String(contentsOfFile: Fixtures.capture("gurux/\(name).keyring.json"), encoding: .utf8)
        let json = try JSONValue.parse(text)
        var out: [String] = []
        if case .object(let keys)? = json["keys"] {
            for (_, v) in keys { if let s = v.string, s.count >= 32, !s.hasPrefix("=") { out.append(s.lowercased()) } }
        }
        if let pw = json["password"]?.string {
            out.append(pw.lowercased())
            out.append(pw.utf8.map { String(format: "%02x", $0) }.joined())
        }
        return out
    }

    @Test(arguments: cases)
    func noKeyInAnyFormat(_ name: String) throws {
        let secrets = try Self.secrets(name)
        #expect(!secrets.isEmpty)
        let keyring = [Fixtures.keyring("\(name).json")]
        let (lines, _) = try analyseToJSON([Fixtures.capture("gurux/\(name).pcap")]) { $0.keyringPaths = keyring }
        let text = try analyseToText([Fixtures.capture("gurux/\(name).pcap")]) { $0.keyringPaths = keyring }
        // The binary's XML, its findings and its audit reports (JSON and HTML) too.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("leak-\(name)-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let xml = try CLITests.run(["--format", "xml", "--keyring", keyring[0], Fixtures.capture("gurux/\(name).pcap")])
        #expect(xml.status == 0)
        var outputs = [("jsonl", lines.joined(separator: "\n")), ("text", text), ("xml", xml.stdout),
                       ("stderr", xml.stderr)]
        for format in ["json", "html"] {
            let report = dir.appendingPathComponent("report.\(format)").path
            let r = try CLITests.run(["--format", "jsonl", "--keyring", keyring[0], "--report", report,
                                      "--report-format", format, Fixtures.capture("gurux/\(name).pcap")])
            #expect(r.status == 0)
            outputs.append(("report \(format)", try String(contentsOfFile: report, encoding: .utf8)))
            outputs.append(("jsonl with findings", r.stdout))
        }
        for (format, output) in outputs {
            let lower = output.lowercased()
            let compact = lower.replacingOccurrences(of: " ", with: "")
            for s in secrets {
                #expect(!lower.contains(s) && !compact.contains(s), "\(format) output of \(name) contains a secret")
            }
        }
    }

    /// The leak check can fail: with --show-secrets the LLS password is in the output.
    @Test func showSecretsRevealsThePassword() throws {
        let (lines, _) = try analyseToJSON([Fixtures.capture("gurux/wrapper-lls.pcap")]) { $0.showSecrets = true }
        let secrets = try Self.secrets("wrapper-lls")
        let all = lines.joined(separator: "\n").lowercased()
        #expect(secrets.contains { all.contains($0) })
    }
}
