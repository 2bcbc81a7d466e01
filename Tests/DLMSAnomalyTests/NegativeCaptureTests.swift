import DLMSAnomaly
import Foundation
import Testing

/// Each negative Gurux capture (`Captures/gurux/neg-*`, fault described in its `.expect.json`) yields its finding
/// with the right code at the right frame.
@Suite struct NegativeCaptureTests {
    /// The frame numbers the expect file names.
    func expect(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.capture("gurux/\(name).expect.json")))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func replayedRequestIsAnInvocationCounterReplayNamingTheOriginalFrame() throws {
        let e = try expect("neg-replay")
        let injected = try #require(e["injected_frame"] as? Int)
        let original = try #require(e["original_frame"] as? Int)
        let ic = try #require(e["invocation_counter"] as? Int)
        let tap = try analyseScenario("neg-replay")
        let replays = tap.findings.with(code: "security.ic-replay")
        #expect(replays.count == 1, "\(tap.findings.summary)")
        let f = try #require(replays.first)
        #expect(f.frames == [injected])
        #expect(f.severity == .critical)
        #expect(f.evidence("first_frame") == .int(Int64(original)))
        #expect(f.evidence("invocation_counter") == .int(Int64(ic)))
        #expect(f.systemTitle != nil)
        // The replayed APDU itself verifies: no tag failure is reported.
        #expect(tap.findings.with(code: "security.auth-failed").isEmpty)
    }

    @Test func tamperedResponseIsAnAuthenticationFailureAtItsFrame() throws {
        let frame = try #require(try expect("neg-tamper")["frame"] as? Int)
        let tap = try analyseScenario("neg-tamper")
        let fails = tap.findings.with(code: "security.auth-failed")
        #expect(fails.map(\.frames) == [[frame]], "\(tap.findings.summary)")
        #expect(fails.first?.severity == .error)
        #expect(tap.findings.filter { $0.severity >= .warning && $0.code != "security.auth-failed" }.isEmpty,
                "\(tap.findings.summary)")
    }

    @Test func badFCSIsReportedAtItsFrame() throws {
        let frame = try #require(try expect("neg-bad-fcs")["frame"] as? Int)
        let tap = try analyseScenario("neg-bad-fcs")
        #expect(tap.findings.with(code: "hdlc.bad-fcs").map(\.frames) == [[frame]], "\(tap.findings.summary)")
    }

    @Test func truncatedSegmentIsReportedAsCaptureTruncatedAtItsFrame() throws {
        let frame = try #require(try expect("neg-truncated-segment")["frame"] as? Int)
        let tap = try analyseScenario("neg-truncated-segment")
        let f = tap.findings.with(code: "capture.truncated")
        #expect(f.map(\.frames) == [[frame]], "\(tap.findings.summary)")
        // The gap it leaves is reported once (tcp.gap), not again as a stream gap or a malformed APDU.
        #expect(tap.findings.with(code: "tcp.gap").map(\.frames) == [[frame]])
        #expect(tap.findings.with(code: "stream.gap").isEmpty)
        #expect(tap.findings.with(code: "apdu.malformed").allSatisfy { $0.severity == .info },
                "\(tap.findings.map { "\($0.code)@\($0.frames) \($0.severity): \($0.message)" })")
    }

    @Test func wrapperLengthIsReportedAtItsFrame() throws {
        let frame = try #require(try expect("neg-wrapper-length")["frame"] as? Int)
        let tap = try analyseScenario("neg-wrapper-length")
        let f = tap.findings.with(code: "wrapper.bad-length")
        #expect(f.first?.frames == [frame], "\(tap.findings.summary)")
        #expect(f.count == 1)
    }

    /// The keyring lacks the dedicated key, but the AARQ's glo-initiate-request (decrypted with the global key)
    /// carries it: the session learns it and every ded-* APDU verifies. The user sees the learned key as a key
    /// change at the AARQ, and no undecryptable APDU.
    @Test func missingDedicatedKeyIsLearnedAndReportedAsAKeyChange() throws {
        _ = try expect("neg-missing-key")
        let tap = try analyseScenario("neg-missing-key")
        let learned = tap.findings.with(code: "security.key-change")
        #expect(learned.count == 1, "\(tap.findings.summary)")
        #expect(learned.first?.frames == [4])
        #expect(learned.first?.severity == .info)
        #expect(learned.first?.message.contains("dedicated key learned") == true)
        #expect(tap.findings.with(code: "security.no-key").isEmpty)
        #expect(tap.findings.filter { $0.severity >= .warning }.isEmpty, "\(tap.findings.summary)")
    }

    /// Without the dedicated key and without the global key (no keyring at all), the user sees one no-key finding
    /// per sender and key, not one per APDU.
    @Test func withoutAnyKeyEachSenderAndKeyIsReportedOnce() throws {
        let tap = try analyse([Fixtures.capture("gurux/neg-missing-key.pcap")])
        let noKey = tap.findings.with(code: "security.no-key")
        #expect(!noKey.isEmpty)
        #expect(noKey.count <= 4, "\(noKey.summary)")
        #expect(noKey.first?.frames == [4])
        #expect(noKey.allSatisfy { $0.severity == .warning })
    }
}
