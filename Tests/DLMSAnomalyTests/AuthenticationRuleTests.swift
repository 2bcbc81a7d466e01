import DLMSAPDU
import DLMSSession
import Testing
@testable import DLMSAnomaly

/// `security.hls-failed` comes from the session's HLS check on the reply_to_HLS_authentication records
/// (`APDURecord.hls`).
@Suite struct AuthenticationRuleTests {
    static let reply = ObjectRef(classID: 15, obis: [0, 0, 40, 0, 0, 255], methodID: 1)

    static func withCheck(_ record: Record, result: String, party: String) -> Record {
        guard case .apdu(var r) = record else { return record }
        r.hls = HLSCheck(mechanism: "hls-gmac", party: party, result: result, detail: "test")
        return .apdu(r)
    }

    @Test func aFailedHLSCheckIsReported() {
        let request = Self.withCheck(Build.service(8, "action-request", ic: 5, objects: [Self.reply]),
                                     result: "failed", party: "client")
        let f = run([Build.aarq(4), Build.aare(6), request])
        let hls = f.with(code: "security.hls-failed")
        #expect(hls.map(\.frames) == [[8]])
        #expect(hls.first.map { $0.severity >= .warning } == true)
    }

    @Test func aVerifiedHLSCheckIsQuiet() {
        let request = Self.withCheck(Build.service(8, "action-request", ic: 5, objects: [Self.reply]),
                                     result: "verified", party: "client")
        let response = Self.withCheck(Build.service(9, "action-response", ic: 6, result: "success"),
                                      result: "verified", party: "server")
        let f = run([Build.aarq(4), Build.aare(6), request, response])
        #expect(f.with(code: "security.hls-failed").isEmpty)
    }
}
