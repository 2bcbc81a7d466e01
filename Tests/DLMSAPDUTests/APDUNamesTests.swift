import DLMSWire
import Testing
@testable import DLMSAPDU

/// Closed value sets, swept over every byte value: the names defined are exactly the standard's.
@Suite struct APDUNamesTests {
    @Test func dataAccessResultNamesExactlyTheBlueBookValues() {
        // IEC 62056-5-3 §8 Data-Access-Result: 0-4, 9, 11-19, 250.
        let defined = (0...255).filter { APDUNames.dataAccessResult(UInt8($0)) != nil }
        #expect(defined == [0, 1, 2, 3, 4, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 250])
        #expect(APDUNames.dataAccessResult(4) == "object-undefined")
        #expect(APDUNames.dataAccessResult(250) == "other-reason")
    }

    @Test func actionResultNamesExactlyTheBlueBookValues() {
        let defined = (0...255).filter { APDUNames.actionResult(UInt8($0)) != nil }
        #expect(defined == [0, 1, 2, 3, 4, 9, 11, 12, 13, 14, 15, 16, 250])
        #expect(APDUNames.actionResult(15) == "long-action-aborted")
    }

    @Test func conformanceHasTwentyFourDistinctBits() {
        #expect(APDUNames.conformanceBits.count == 24)
        #expect(Set(APDUNames.conformanceBits).count == 24)
        #expect(APDUNames.conformanceBits[19] == "get")
        #expect(APDUNames.conformanceBits[2] == "general-block-transfer")
    }

    @Test func everyKnownTagHasATypeAndEveryProtectedTagAService() {
        for tag in 0...255 {
            let t = UInt8(tag)
            if let service = APDUNames.protectedService(t) {
                let name = APDUNames.apduType(t) ?? ""
                #expect(name.hasSuffix(service), "\(tag)")
                #expect(name.hasPrefix((APDUNames.isDedicated(t) ?? false) ? "ded-" : "glo-"), "\(tag)")
            }
        }
        #expect(APDUNames.apduType(0xDE) == nil)  // not assigned
        #expect(APDUNames.apduType(0xC6) == nil)
    }

    @Test(arguments: [(UInt8(0xC0), 3), (0xC4, 3), (0xC1, 5), (0xC5, 5), (0xC3, 6), (0xC7, 4)])
    func serviceChoicesOutsideTheStandardAreBadChoices(tag: UInt8, choices: Int) {
        for choice in 0...255 {
            let d = APDUDecoder.decode([tag, UInt8(choice), 0xC1][...])
            if (1...choices).contains(choice) {
                #expect(d.facts.variant != nil, "\(tag) \(choice)")
                #expect(d.errors.first?.code == "apdu.truncated", "\(tag) \(choice)")
            } else {
                #expect(d.errors.first?.code == "apdu.bad-choice", "\(tag) \(choice)")
            }
        }
    }

    @Test func dedicatedKeyIsMaskedInTheTreeButKeptInTheFacts() throws {
        // Gurux capture wrapper-ded: the decrypted glo-initiate-request carries the dedicated key.
        let plain = "0101105e1ed83662cf2e47f7aad7544490a4030000065f1f0400001e5d0300"
        let d = decode(plain)
        #expect(d.errors.isEmpty)
        #expect(d.facts.association?.initiate?.dedicatedKey == hex("5e1ed83662cf2e47f7aad7544490a403"))
        #expect(stringValue(node(d.fields, "dedicated_key")) == "********")
        #expect(!treeShows(d.fields, secret: hex("5e1ed83662cf2e47f7aad7544490a403")))
        let shown = decode(plain, showSecrets: true)
        #expect(treeShows(shown.fields, secret: hex("5e1ed83662cf2e47f7aad7544490a403")))
        if case .bytes(let b)? = node(shown.fields, "dedicated_key")?.value {
            #expect(Array(b) == hex("5e1ed83662cf2e47f7aad7544490a403"))
        } else {
            Issue.record("dedicated key not shown with showSecrets")
        }
    }
}
