import DLMSWire
import Testing
@testable import DLMSSecurity

/// Green Book examples (DLMS UA 1000-2, "GB ed.7 p.285"), quoted verbatim in Connexo
/// `com/energyict/dlms/aso/SecurityContextTest.java` (logicalDataTransportDecryptionTest) and jDLMS
/// `org/openmuc/jdlms/CipheringTest.java`: EK 000102…0F, AK D0…DF, system title 4D4D4D0000BC614E, IC 01234567,
/// plaintext get-request-normal C0 01 00 0008 0000010000FF 02 00 (Clock time).
@Suite struct DLMSCipherTests {
    let ek = SecretKey(hex("000102030405060708090A0B0C0D0E0F"))
    let ak = SecretKey(hex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"))
    let systemTitle = hex("4D4D4D0000BC614E")
    let getRequest = hex("C0010000080000010000FF0200")

    /// Splits a glo-APDU `tag len SC IC(4) payload` minimally.
    func split(_ apdu: [UInt8]) throws -> (SecurityControl, UInt32, ArraySlice<UInt8>) {
        var r = ByteReader(apdu)
        let tag = r.readUInt8()
        let len = r.readAXDRLength()
        #expect(tag != nil && len == r.remaining)
        let sc = r.readUInt8()
        let ic = r.readUInt32()
        return (SecurityControl(rawValue: try #require(sc)), try #require(ic), r.readRest())
    }

    func unprotect(_ apdu: [UInt8], ak: SecretKey?) throws -> UnprotectOutcome {
        let (sc, ic, payload) = try split(apdu)
        return DLMSCipher.unprotect(securityControl: sc, systemTitle: systemTitle, invocationCounter: ic,
                                    payload: payload, encryptionKey: ek, authenticationKey: ak)
    }

    @Test func greenBookGloGetRequestWithAuthenticatedEncryptionVerifies() throws {
        let apdu = hex("C81E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B")
        #expect(try unprotect(apdu, ak: ak) == .verified(getRequest))
    }

    @Test func greenBookGloGetRequestWithOneByteFlippedFailsAuthentication() throws {
        let apdu = hex("C81E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B")
        // Every byte after the header: ciphertext and tag.
        for i in 7..<apdu.count {
            var bad = apdu
            bad[i] ^= 0x01
            #expect(try unprotect(bad, ak: ak) == .authenticationFailed, "byte \(i)")
        }
        // The SC and IC are authenticated too (SC through the AAD, IC through the IV).
        var badIC = apdu
        badIC[6] ^= 0x01
        #expect(try unprotect(badIC, ak: ak) == .authenticationFailed)
        #expect(try unprotect(apdu, ak: SecretKey(hex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDE"))) == .authenticationFailed)
    }

    @Test func withoutTheAuthenticationKeyAuthenticatedEncryptionStillDecryptsButUnverified() throws {
        let apdu = hex("C81E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B")
        #expect(try unprotect(apdu, ak: nil) == .decryptedUnverified(getRequest, .noAuthenticationKey))
    }

    @Test func greenBookEncryptionOnlyDecryptsWithoutTag() throws {
        let apdu = hex("C8122001234567411312FF935A47566827C467BC")
        #expect(try unprotect(apdu, ak: ak) == .decryptedUnverified(getRequest, .encryptionOnly))
    }

    @Test func greenBookAuthenticationOnlyVerifiesTheTagOverThePlaintext() throws {
        let apdu = hex("C81E1001234567C0010000080000010000FF020006725D910F9221D263877516")
        #expect(try unprotect(apdu, ak: ak) == .verified(getRequest))
        var bad = apdu
        bad[10] ^= 0x20  // a plaintext byte
        #expect(try unprotect(bad, ak: ak) == .authenticationFailed)
        #expect(try unprotect(apdu, ak: nil) == .decryptedUnverified(getRequest, .noAuthenticationKey))
    }

    // Green Book glo-initiate-request example, quoted in jDLMS CipheringTest (testCipheringExampleFromStandard) and
    // in u9n dlms-cosem tests/test_xdlms (GlobalCipherInitiateRequest): dedicated key 00112233…FF, conformance
    // 007E1F, max PDU 1200.
    @Test func greenBookGloInitiateRequestRoundTrips() throws {
        let plain = hex("01011000112233445566778899AABBCCDDEEFF0000065F1F0400007E1F04B0")
        let wire = hex("21303001234567801302FF8A7874133D414CED25B42534D28DB0047720606B175BD52211BE6841DB204D39EE6FDB8E356855")
        #expect(try unprotect(wire, ak: ak) == .verified(plain))
        let sc = SecurityControl(authentication: true, encryption: true)
        let payload = DLMSCipher.protect(securityControl: sc, systemTitle: systemTitle, invocationCounter: 0x0123_4567,
                                         plaintext: plain, encryptionKey: ek, authenticationKey: ak)
        #expect(payload.map { Array($0) } == Array(wire.dropFirst(7)))
    }

    @Test func protectIsTheInverseOfUnprotectForEveryProtectionAndBothKeySizes() throws {
        let cipher = try #require(DLMSCipher())
        for key in [ek, SecretKey(Array(0..<32))] {
            for raw: UInt8 in [0x00, 0x10, 0x20, 0x30, 0x50, 0x70, 0x31, 0x32] {
                let sc = SecurityControl(rawValue: raw)
                let payload = try #require(cipher.protect(securityControl: sc, systemTitle: systemTitle,
                    invocationCounter: 7, plaintext: getRequest, encryptionKey: key, authenticationKey: ak))
                let outcome = cipher.unprotect(securityControl: sc, systemTitle: systemTitle, invocationCounter: 7,
                                               payload: payload[...], encryptionKey: key, authenticationKey: ak)
                #expect(outcome.plaintext == getRequest, "SC \(raw)")
                if sc.isAuthenticated {
                    #expect(outcome == .verified(getRequest))
                    // A different IC changes the IV: the tag fails.
                    #expect(cipher.unprotect(securityControl: sc, systemTitle: systemTitle, invocationCounter: 8,
                        payload: payload[...], encryptionKey: key, authenticationKey: ak) == .authenticationFailed)
                }
            }
        }
    }

    @Test func compressionUnknownSuitesBadKeysAndShortPayloadsAreReportedNotDecrypted() {
        let payload = hex("411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B")[...]
        func run(_ sc: UInt8, key: SecretKey? = nil, st: [UInt8]? = nil, _ p: ArraySlice<UInt8>? = nil)
            -> UnprotectOutcome {
            DLMSCipher.unprotect(securityControl: SecurityControl(rawValue: sc), systemTitle: st ?? systemTitle,
                                 invocationCounter: 1, payload: p ?? payload, encryptionKey: key ?? ek,
                                 authenticationKey: ak)
        }
        guard case .unsupported = run(0xB0) else { Issue.record("compression"); return }
        guard case .unsupported = run(0x33) else { Issue.record("suite 3"); return }
        guard case .unsupported = run(0x30, key: SecretKey([1, 2, 3])) else { Issue.record("key length"); return }
        guard case .malformed = run(0x30, st: [1, 2, 3]) else { Issue.record("system title"); return }
        for n in 0..<12 {
            guard case .malformed = run(0x30, payload.prefix(n)) else { Issue.record("A+E prefix \(n)"); return }
            guard case .malformed = run(0x10, payload.prefix(n)) else { Issue.record("A prefix \(n)"); return }
        }
        // Exactly a tag and nothing else: an empty plaintext whose tag fails.
        #expect(run(0x30, payload.prefix(12)) == .authenticationFailed)
    }

    @Test func securityControlNamesItsBits() {
        let sc = SecurityControl(rawValue: 0x71)
        #expect(sc.suite == 1 && sc.isAuthenticated && sc.isEncrypted && sc.usesBroadcastKey && !sc.isCompressed)
        #expect(sc.description == "SC 0x71 (suite 1, authenticated-encryption, broadcast key)")
        #expect(SecurityControl(suite: 2, authentication: true, encryption: false, compression: true).rawValue == 0x92)
        #expect(SecurityControl(rawValue: 0x32).keyLength == 32)
    }
}
