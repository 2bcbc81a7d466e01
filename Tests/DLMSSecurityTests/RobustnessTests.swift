import DLMSWire
import Testing
@testable import DLMSSecurity

/// Capture bytes are hostile: random payloads, security control bytes and lengths never crash and always give
/// an outcome; random replies never verify. Seeded (SplitMix64), so a failure reproduces.
@Suite struct RobustnessTests {
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func randomProtectedPayloadsGiveAnOutcomeAndNeverVerify() throws {
        var rng = SplitMix64(state: 0x5EC0_12E7)
        let cipher = try #require(DLMSCipher())
        let keys = [SecretKey(Array(0..<16)), SecretKey(Array(0..<32))]
        let ak = SecretKey(Array(repeating: 0xD0, count: 16))
        var verified = 0
        for _ in 0..<3000 {
            let n = Int.random(in: 0...80, using: &rng)
            let payload = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let sc = SecurityControl(rawValue: UInt8.random(in: 0...255, using: &rng))
            let stLength = Int.random(in: 0...10, using: &rng) == 0 ? 7 : 8
            let st = (0..<stLength).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let key = keys[Int.random(in: 0...1, using: &rng)]
            let outcome = cipher.unprotect(securityControl: sc, systemTitle: st,
                                           invocationCounter: UInt32.random(in: 0...UInt32.max, using: &rng),
                                           payload: payload[...], encryptionKey: key,
                                           authenticationKey: Bool.random(using: &rng) ? ak : nil)
            switch outcome {
            case .verified: verified += 1
            case .decryptedUnverified(let p, _):
                #expect(p.count <= payload.count)
            case .authenticationFailed, .unsupported, .malformed: break
            }
        }
        #expect(verified == 0)
    }

    @Test func randomHLSRepliesAndSignaturesNeverVerify() throws {
        var rng = SplitMix64(state: 42)
        let ek = SecretKey(Array(0..<16)), ak = SecretKey(Array(16..<32))
        let key = try #require(ECPrivateKey(scalar: (0..<32).map { _ in UInt8.random(in: 1...0x7F, using: &rng) }))
        for _ in 0..<300 {
            let reply = (0..<Int.random(in: 0...100, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let challenge = (0..<Int.random(in: 8...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let st = Array(reply.prefix(8))
            #expect(!HLS.verifyGMAC(reply: reply, challenge: challenge, systemTitle: st, encryptionKey: ek,
                                    authenticationKey: ak))
            #expect(!HLS.verifySHA256(reply: reply, secret: challenge, signerSystemTitle: st, peerSystemTitle: st,
                                      peerChallenge: challenge, signerChallenge: challenge))
            #expect(!HLS.verifyECDSA(reply: reply, publicKey: key.publicKey, signerSystemTitle: st,
                                     peerSystemTitle: st, peerChallenge: challenge, signerChallenge: challenge))
            #expect(ECPublicKey(point: reply) == nil || reply.count >= 64)
            _ = ECPrivateKey(text: Hex.encode(reply))
            _ = AESKeyWrap.unwrap(reply, kek: ek.bytes)
        }
    }

    @Test func generalSigningSignsHeaderAndContentWithoutTheContentLength() throws {
        let header = hex("080102030405060708 084D4D4D0000BC614E 084D4D4D0000000001 00 00")
        let content = hex("C0010000080000010000FF0200")
        for curve in ECCurve.allCases {
            let key = try #require(ECPrivateKey(scalar: [UInt8](repeating: 0x11, count: curve.coordinateLength)))
            let sig = try #require(GeneralSigning.sign(header: header, content: content, privateKey: key))
            #expect(sig.count == curve.signatureLength)
            #expect(GeneralSigning.verify(header: header, content: content, signature: sig, publicKey: key.publicKey))
            #expect(ECDSA.verify(signature: sig, message: header + content, publicKey: key.publicKey))
            #expect(!GeneralSigning.verify(header: header, content: [UInt8(content.count)] + content, signature: sig,
                                           publicKey: key.publicKey))
        }
    }
}
