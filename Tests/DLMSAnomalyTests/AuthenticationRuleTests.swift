@testable import DLMSAnomaly
import Testing

/// The session's HLS/LLS verifier adds `APDURecord.hls: HLSCheck?` (mechanism, party, result, detail). The rule
/// reads it by reflection so it works as soon as the field lands; these shapes mirror that field.
@Suite struct AuthenticationRuleTests {
    struct Check {
        var mechanism: String
        var party: String
        var result: String
        var detail: String?
    }
    struct RecordWithCheck {
        var other = 1
        var hls: Check?
    }

    @Test func hlsCheckIsReadFromTheRecordsField() throws {
        let r = RecordWithCheck(hls: Check(mechanism: "hls-gmac", party: "server", result: "failed",
                                           detail: "f(CtoS) does not match"))
        let c = try #require(AuthenticationRule.hlsCheck(of: r))
        #expect(c.mechanism == "hls-gmac")
        #expect(c.party == "server")
        #expect(c.result == "failed")
        #expect(c.detail == "f(CtoS) does not match")
    }

    @Test func absentCheckOrFieldIsNil() {
        #expect(AuthenticationRule.hlsCheck(of: RecordWithCheck(hls: nil)) == nil)
        #expect(AuthenticationRule.hlsCheck(of: Check(mechanism: "", party: "", result: "")) == nil)
    }
}
