import DLMSAnomaly
import DLMSSession
import Testing

@Suite struct SecurityVerdictRuleTests {
    @Test func everyFailedTagIsReported() {
        let f = run([Build.service(1, "get-response", ic: 1, verdict: "authentication-failed"),
                     Build.service(2, "get-response", ic: 2, verdict: "authentication-failed")])
        #expect(f.with(code: "security.auth-failed").map(\.frames) == [[1], [2]])
        #expect(f.first?.evidence("verdict") == .string("authentication-failed"))
    }

    @Test func missingKeysAreReportedOncePerSenderAndKey() {
        let f = run([Build.service(1, "get-request", ic: 1, verdict: "no-key"),
                     Build.service(2, "get-response", ic: 1, verdict: "no-key"),
                     Build.service(3, "get-request", ic: 2, verdict: "no-key"),
                     Build.service(4, "get-request", ic: 3, dedicated: true, verdict: "no-key")])
        let noKey = f.with(code: "security.no-key")
        #expect(noKey.map(\.frames) == [[1], [2], [4]])
        #expect(noKey.last?.evidence("key") == .string("dedicated"))
    }

    @Test func everyMissingKeyIsReportedWhenAsked() {
        var options = AnomalyOptions()
        options.reportEveryUndecryptable = true
        let f = run([Build.service(1, "get-request", ic: 1, verdict: "no-key"),
                     Build.service(2, "get-request", ic: 2, verdict: "no-key")], options: options)
        #expect(f.with(code: "security.no-key").count == 2)
    }

    @Test func decryptedButUnauthenticatedIsUnverified() {
        let f = run([Build.service(1, "get-request", ic: 1, sc: 0x20, verdict: "decrypted-unverified")])
        #expect(f.map(\.code) == ["security.unverified"])
    }

    @Test func failedSignatureIsSignatureInvalid() {
        let f = run([Build.service(1, "get-request", ic: 1, verdict: "authentication-failed",
                                   protection: "general-signing")])
        #expect(f.map(\.code) == ["security.signature-invalid"])
    }

    @Test func severityCanBeOverriddenBySitePolicy() {
        var options = AnomalyOptions()
        options.severityOverrides["security.unverified"] = .info
        let f = run([Build.service(1, "get-request", ic: 1, sc: 0x20, verdict: "decrypted-unverified")],
                    options: options)
        #expect(f.first?.severity == .info)
    }
}
