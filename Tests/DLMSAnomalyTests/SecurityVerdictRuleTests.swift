import DLMSAPDU
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

@Suite struct SecuritySetupRuleTests {
    static let wrapped = DataValue.array([
        .structure([.enumValue(1), .octetString([UInt8](repeating: 0xAB, count: 24))]),
    ])

    /// The session notes what it unwrapped (never the key): one finding for the request, with the notes.
    @Test func keyTransferWithSessionNotesIsOneFinding() throws {
        let note = "key_transfer: new gbek for system title 4D54520000000001 learned (unwrapped with the kek)"
        let f = run([Build.service(1, "action-request", objects: [Build.keyTransfer], values: [Self.wrapped],
                                   notes: [note])])
        #expect(f.count == 1, "\(f.summary)")
        let k = try #require(f.first)
        #expect(k.evidence("key_roles") == .strings(["gbek"]))
        #expect(k.evidence("session_notes") == .strings([note]))
    }

    @Test func learnedDedicatedKeyIsAKeyChange() {
        let note = "dedicated key learned from the InitiateRequest (client system title 434C490000000001)"
        let f = run([Build.service(1, "get-request", notes: [note])])
        #expect(f.map(\.code) == ["security.key-change"])
        #expect(f.first?.message == note)
    }

    @Test func refusedKeyTransferIsReportedOnItsResponse() {
        let f = run([Build.service(1, "action-request", objects: [Build.keyTransfer], values: [Self.wrapped]),
                     Build.service(2, "action-response", result: "read-write-denied")])
        #expect(f.map { "\($0.code)@\($0.frames)" } == ["security.key-change@[1]", "security.key-change@[2]"])
        #expect(f.last?.evidence("result") == .string("read-write-denied"))
    }
}
