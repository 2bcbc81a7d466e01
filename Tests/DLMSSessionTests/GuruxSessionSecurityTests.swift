import DLMSAPDU
import DLMSSecurity
import DLMSWire
import Foundation
import Testing
@testable import DLMSSession

/// The APDUs of the Gurux truth files through the session engine, checked against the truth's decryption.
@Suite struct GuruxSessionSecurityTests {
    /// Runs every `kind: apdu` record; returns (truth record, step) pairs of the protected ones.
    static func run(_ name: String, keyring: Keyring) throws -> [([String: Any], SessionDriver.Step)] {
        var d = SessionDriver(keyring: keyring)
        var out: [([String: Any], SessionDriver.Step)] = []
        for r in try SessionFixtures.truthAPDUs(name) where r["kind"] as? String == "apdu" {
            guard let h = r["apdu_hex"] as? String, let b = Hex.decode(h) else { continue }
            let step = d.feed(b, Direction(truth: r["direction"]))
            if step.security != nil { out.append((r, step)) }
        }
        return out
    }

    /// wrapper-ded with the dedicated key left out of the keyring: it is learned from the glo-InitiateRequest and
    /// opens every ded-ciphering APDU; each plaintext equals the truth's.
    @Test func wrapperDedLearnsTheDedicatedKey() throws {
        var keyring = try SessionFixtures.guruxKeyring("wrapper-ded")
        for i in keyring.entries.indices { keyring.entries[i].dedicated = nil }
        let steps = try Self.run("wrapper-ded", keyring: keyring)
        var ded = 0
        for (truth, step) in steps {
            let s = try #require(step.security)
            #expect(s.verdict == "verified", "\(truth["frames"] ?? "") \(s.detail ?? "")")
            if let p = truth["plain_hex"] as? String { #expect(s.plain.map { Hex.encode($0) } == p.lowercased()) }
            if s.protection == "ded-ciphering" {
                ded += 1
                #expect(s.key == "dedicated")
            }
        }
        #expect(ded > 10)
        #expect(steps.contains { $0.1.security?.learned.contains { $0.contains("dedicated key learned") } == true })
    }

    /// neg-tamper: one ciphertext byte of the 4th glo-get-response is altered; exactly that APDU fails, without
    /// plaintext.
    @Test func negTamperFailsExactlyTheTamperedAPDU() throws {
        let steps = try Self.run("neg-tamper", keyring: try SessionFixtures.guruxKeyring("neg-tamper"))
        let failed = steps.filter { $0.1.security?.verdict == "authentication-failed" }
        #expect(failed.count == 1)
        #expect(failed.first?.1.security?.plain == nil)
        #expect(failed.first?.1.decoded.type == "glo-get-response")
        #expect(steps.count - failed.count == steps.filter { $0.1.security?.verdict == "verified" }.count)
    }

    /// wrapper-push-glo: general-glo-ciphering data-notifications from the meter, opened by the system title the
    /// header carries even without an association.
    @Test func pushNotificationsOpenByTheirHeaderSystemTitle() throws {
        let steps = try Self.run("wrapper-push-glo", keyring: try SessionFixtures.guruxKeyring("wrapper-push-glo"))
        #expect(steps.count == 3)
        for (truth, step) in steps {
            #expect(step.security?.verdict == "verified")
            #expect(step.service.type == "data-notification")
            #expect(step.security?.plain.map { Hex.encode($0) } == (truth["plain_hex"] as? String)?.lowercased())
        }
    }
}
