import DLMSAnomaly
import Foundation
import Testing

/// No false alarms: the healthy Gurux captures, decrypted with their keyrings, yield no finding of severity
/// warning or worse. The operations they perform (clock set, disconnect/reconnect) and the learned dedicated keys
/// are info. The one exception is by design: wrapper-lls sends its LLS password in clear, which is what
/// `security.cleartext-password` reports.
@Suite struct HealthyCaptureTests {
    @Test(arguments: Fixtures.healthyScenarios)
    func healthyCaptureHasNoWarnings(_ name: String) throws {
        let tap = try analyseScenario(name)
        let loud = tap.findings.filter { $0.severity >= .warning && $0.code != "security.cleartext-password" }
        #expect(loud.isEmpty, "\(name): \(loud.map { "\($0.code)@\($0.frames): \($0.message)" })")
        let cleartext = tap.findings.with(code: "security.cleartext-password")
        #expect(cleartext.isEmpty == (name != "wrapper-lls"))
    }

    @Test func healthyScenariosAreFound() {
        #expect(Fixtures.healthyScenarios.count >= 10)
    }

    @Test func guruxSessionOperationsAreInfo() throws {
        let tap = try analyseScenario("wrapper-hls-gmac-authenc")
        let clock = try #require(tap.findings.with(code: "operation.clock-set").first)
        #expect(clock.severity == .info)
        #expect(clock.frames == [32])
        // Gurux reads 2024-03-01 12:00 and sets 12:30: a step of +30 min (less the capture time in between).
        let step = try #require(clock.evidence("step_seconds"))
        if case .int(let s) = step { #expect(s > 1790 && s <= 1800) } else { Issue.record("step \(step)") }
        let disconnect = tap.findings.with(code: "operation.disconnect")
        #expect(disconnect.map(\.frames) == [[34], [38]])
        #expect(disconnect.allSatisfy { $0.severity == .info })
    }

    @Test func lowLevelPasswordIsReportedOnTheAARQWithoutShowingIt() throws {
        let tap = try analyseScenario("wrapper-lls")
        let f = try #require(tap.findings.with(code: "security.cleartext-password").first)
        #expect(f.frames == [4])
        #expect(f.severity == .warning)
        // The capture's keyring names the password: it must appear nowhere in the finding or the reports.
        let keyring = try String(contentsOfFile: Fixtures.capture("gurux/wrapper-lls.keyring.json"), encoding: .utf8)
        let marker = "\"password\": \""
        let start = try #require(keyring.range(of: marker)).upperBound
        let password = String(keyring[start...].prefix { $0 != "\"" })
        #expect(password.count == 8)
        let everything = f.jsonLine + f.textLine(color: false) + tap.report.writeJSON() + tap.report.writeHTML()
        #expect(!everything.contains(password))
        #expect(f.evidence("password") == .string("present, redacted"))
    }
}
