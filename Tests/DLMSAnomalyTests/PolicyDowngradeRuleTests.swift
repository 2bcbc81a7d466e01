import DLMSAPDU
import DLMSAnomaly
import DLMSSession
import Testing

@Suite struct PolicyDowngradeRuleTests {
    @Test func plainGetInACipheredAssociationIsADowngrade() throws {
        let f = run([Build.aarq(1, context: 3), Build.aare(2), Build.service(3, "get-request", ic: 10),
                     Build.service(4, "get-request")])
        let d = try #require(f.with(code: "security.policy-downgrade").first)
        #expect(d.frames == [4])
        #expect(d.severity == .error)
        #expect(d.evidence("protection") == .string("none"))
        #expect(d.evidence("application_context") == .int(3))
        #expect(d.evidence("earlier_frames") == .frames([3]))
        #expect(f.count == 1)
    }

    @Test func lessProtectionThanEarlierAPDUsOfTheSameKindIsADowngrade() throws {
        // LN context without ciphering, but the client ciphered its earlier requests: authentication only now.
        let f = run([Build.aarq(1, context: 1), Build.aare(2), Build.service(3, "get-request", ic: 10),
                     Build.service(4, "get-request", ic: 11, sc: 0x10)])
        let d = try #require(f.with(code: "security.policy-downgrade").first)
        #expect(d.frames == [4])
        #expect(d.evidence("earlier_protection") == .string("authenticated+encrypted"))
        #expect(d.evidence("required") == .string("authenticated+encrypted"))
    }

    @Test func exemptAPDUsAndOtherKindsAreNotDowngrades() {
        let f = run([Build.aarq(1, context: 3), Build.aare(2), Build.service(3, "get-request", ic: 10),
                     Build.service(4, "exception-response"), Build.service(5, "confirmed-service-error"),
                     Build.service(6, "general-block-transfer", direction: .serverToClient),
                     Build.service(7, "rlrq", direction: .clientToServer)])
        #expect(f.with(code: "security.policy-downgrade").isEmpty, "\(f.summary)")
    }

    @Test func aNewAssociationStartsAFreshComparison() {
        let f = run([Build.aarq(1, context: 1), Build.aare(2), Build.service(3, "get-request", ic: 10),
                     Build.aarq(4, context: 1), Build.aare(5), Build.service(6, "get-request")])
        #expect(f.with(code: "security.policy-downgrade").isEmpty, "\(f.summary)")
    }

    @Test func securityPolicyReadInTheConversationIsEnforced() throws {
        // Security setup security_policy read as 3 (version 0: authenticated and encrypted), then an
        // authenticated-only request in an LN context that does not ask for ciphering by itself.
        let f = run([Build.aarq(1, context: 1), Build.aare(2),
                     Build.service(3, "get-request", objects: [Build.securityPolicy], invokeID: 2),
                     Build.service(4, "get-response", values: [.enumValue(3)], invokeID: 2),
                     Build.service(5, "set-request", ic: 10, sc: 0x10, objects: [Build.clock], invokeID: 3)])
        let d = try #require(f.with(code: "security.policy-downgrade").first)
        #expect(d.frames == [5])
        #expect(d.evidence("security_policy") == .int(3))
        #expect(d.evidence("policy_frames") == .frames([4]))
    }
}
