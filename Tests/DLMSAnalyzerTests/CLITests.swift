import Foundation
import Testing

/// Runs the built `dlmsdump` binary as a user would (exit codes, one-line errors, stdin, formats).
@Suite struct CLITests {
    static var binary: URL? {
        // The test bundle sits next to the executable in the build folder (.build/<triple>/debug).
        let candidates = [
            Bundle.main.bundleURL.appendingPathComponent("dlmsdump"),
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("dlmsdump"),
            Fixtures.root.appendingPathComponent(".build/debug/dlmsdump"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ args: [String], stdin: Data? = nil) throws -> Result {
        let bin = try #require(binary, "dlmsdump binary not built: run `swift build` before the tests")
        let p = Process()
        p.executableURL = bin
        p.arguments = args
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let input = Pipe()
        p.standardInput = input
        try p.run()
        if let d = stdin { input.fileHandleForWriting.write(d) }
        try input.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self))
    }

    @Test func missingFileIsOneLineAndNonZero() throws {
        let r = try Self.run(["/nonexistent/capture.pcap"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("/nonexistent/capture.pcap"))
        #expect(r.stderr.split(separator: "\n").count <= 3)
        #expect(r.stdout.isEmpty)
    }

    @Test func badOptionIsRejected() throws {
        let r = try Self.run(["--format", "yaml", Fixtures.capture("gurux/wrapper-none.pcap")])
        #expect(r.status != 0)
        #expect(r.stderr.contains("yaml"))
    }

    @Test func notACaptureIsAnError() throws {
        let r = try Self.run(["--input", "pcap", Fixtures.capture("README.md")])
        #expect(r.status != 0)
        #expect(!r.stderr.isEmpty)
    }

    @Test func readsPcapFromStandardInput() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.capture("gurux/wrapper-none.pcap")))
        let r = try Self.run(["--format", "jsonl", "-"], stdin: data)
        #expect(r.status == 0)
        let apdus = r.stdout.split(separator: "\n").filter { $0.contains(#""kind":"apdu""#) }
        #expect(apdus.count == 118)  // the kind "apdu" records of wrapper-none.truth.jsonl
    }

    @Test func hexInputFromStandardInput() throws {
        // A get-request-normal for the clock's time attribute, as a trace tool would print it.
        let text = "12:00:01.123 TX: C0 01 C1 00 08 00 00 01 00 00 FF 02 00\n"
        let r = try Self.run(["--input", "hex", "--format", "jsonl", "-"], stdin: Data(text.utf8))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains(#""type":"get-request""#))
        #expect(r.stdout.contains(#""obis":"0.0.1.0.0.255""#))
    }

    @Test func textIsTheDefaultFormat() throws {
        let r = try Self.run(["--color", "never", Fixtures.capture("gurux/hdlc-none.pcap")])
        #expect(r.status == 0)
        #expect(r.stdout.contains("SNRM"))
        #expect(r.stdout.contains("get-response"))
        #expect(!r.stdout.contains("\u{1B}["))
    }
}

/// `--format xml` followed by `dlmsdump encode` gives back the exact wire bytes (and, with `--plain`, the exact
/// plaintexts) of every APDU, through the real binary (issue 7, round trip).
@Suite struct XMLRoundTripTests {
    @Test(arguments: ["gurux/wrapper-none.pcap", "gurux/hdlc-none.pcap", "gurux/wrapper-general-ded.pcap",
                      "peers/Output-EPRI.pcap", "peers/hdlc-over-udp-sample.pcap"])
    func xmlEncodesBackToTheWireBytes(_ input: String) throws {
        let name = (input as NSString).lastPathComponent.replacingOccurrences(of: ".pcap", with: "")
        let keyring = Fixtures.keyring("\(name).json")
        // Secrets (an LLS password, a dedicated key) are masked unless asked for: a masked APDU cannot be encoded.
        var args = ["--format", "xml", "--show-secrets", Fixtures.capture(input)]
        if FileManager.default.fileExists(atPath: keyring) { args = ["--keyring", keyring] + args }
        let xml = try CLITests.run(args)
        #expect(xml.status == 0, "\(xml.stderr)")
        let wire = try CLITests.run(["encode", "-"], stdin: Data(xml.stdout.utf8))
        #expect(wire.status == 0, "\(wire.stderr)")
        let (_, records) = try analyseToJSON([Fixtures.capture(input)]) {
            if FileManager.default.fileExists(atPath: keyring) { $0.keyringPaths = [keyring] }
            $0.showSecrets = true
        }
        let apdus = records.filter { $0["kind"]?.string == "apdu" }
        let expected = apdus.compactMap { $0["apdu"]?["hex"]?.string ?? $0["apdu"]?["redacted_hex"]?.string }
        let got = wire.stdout.split(separator: "\n").map(String.init)
        #expect(got.count == expected.count)
        #expect(got == expected)
        if input.contains("general-ded") {
            let plain = try CLITests.run(["encode", "--plain", "-"], stdin: Data(xml.stdout.utf8))
            let expectedPlain = apdus.compactMap { $0["plain"]?["hex"]?.string }
            #expect(expectedPlain.count > 50)
            let gotPlain = plain.stdout.split(separator: "\n").map(String.init)
            #expect(plain.status == 0, "\(plain.stderr)")
            #expect(Set(expectedPlain).isSubset(of: Set(gotPlain)))
        }
    }
}

/// The audit options of the binary: --fail-on, --only-anomalies, --report.
@Suite struct AuditCLITests {
    @Test func failOnGivesExitStatusThreeWhenFindingsAreThatBad() throws {
        let args = ["--format", "jsonl", "--keyring", Fixtures.keyring("neg-replay.json"),
                    Fixtures.capture("gurux/neg-replay.pcap")]
        let critical = try CLITests.run(args + ["--fail-on", "critical"])
        #expect(critical.status == 3)
        #expect(critical.stderr.contains("--fail-on critical"))
        // A healthy, well-protected capture passes even --fail-on warning.
        let healthy = try CLITests.run(["--format", "jsonl", "--fail-on", "warning", "--keyring",
                                        Fixtures.keyring("wrapper-hls-gmac-authenc.json"),
                                        Fixtures.capture("gurux/wrapper-hls-gmac-authenc.pcap")])
        #expect(healthy.status == 0, "\(healthy.stderr)")
        let bad = try CLITests.run(args + ["--fail-on", "loud"])
        #expect(bad.status == 64)
    }

    @Test func onlyAnomaliesPrintsJustTheFindingsAndTheSummary() throws {
        let r = try CLITests.run(["--format", "jsonl", "--only-anomalies", "--keyring",
                                  Fixtures.keyring("neg-tamper.json"), Fixtures.capture("gurux/neg-tamper.pcap")])
        #expect(r.status == 0)
        let kinds = Set(try r.stdout.split(separator: "\n").map { try JSONValue.parse(String($0))["kind"]?.string ?? "" })
        #expect(kinds == ["anomaly", "summary"])
        #expect(r.stdout.contains("security.auth-failed"))
    }

    @Test func reportsAreWrittenInBothFormats() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("r.json").path
        let html = dir.appendingPathComponent("r.html").path
        let capture = Fixtures.capture("gurux/neg-replay.pcap")
        let keyring = Fixtures.keyring("neg-replay.json")
        #expect(try CLITests.run(["--keyring", keyring, "--report", json, capture]).status == 0)
        #expect(try CLITests.run(["--keyring", keyring, "--report", html, "--report-format", "html", capture]).status == 0)
        let report = try JSONValue.parse(String(contentsOfFile: json, encoding: .utf8))
        #expect(report["meters"] != nil || report["findings"] != nil)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.hasPrefix("<!DOCTYPE html>") || page.hasPrefix("<!doctype html>"))
        #expect(page.contains("security.ic-replay"))
        #expect(!page.contains("http://") && !page.contains("https://"))
    }
}
