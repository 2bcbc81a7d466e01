internal import CLibcrypto

/// The high-level-security (HLS) passes 3 and 4 of the association, IEC 62056-5-3 §9.2.7.4 (security-layouts.md):
/// the client answers the server's challenge StoC with f(StoC), the server answers CtoS with f(CtoS), each carried
/// in the `reply_to_HLS_authentication` method of the association object (class 15 method 1).
///
/// Naming: the *signer* is the party whose reply is checked, the *peer* the other one. For the client's
/// f(StoC) the signer is the client, the peer's challenge is StoC and the signer's own challenge CtoS; for the
/// server's f(CtoS) it is the other way round.
///
/// All checks return `Bool`; a reply of the wrong shape is simply `false`.
public enum HLS {
    // MARK: - Mechanism 5: GMAC

    /// f(challenge) for mechanism 5: `SC ‖ IC ‖ GMAC(EK, IV = ST ‖ IC, AAD = SC ‖ AK ‖ challenge)`, 17 bytes
    /// (Green Book Table 43, quoted in the jDLMS-derived `GcmCipherModTest` and a Unity test of a C DLMS stack).
    public static func gmacReply(securityControl: UInt8, invocationCounter: UInt32, challenge: some Collection<UInt8>,
                                 systemTitle: some Collection<UInt8>, encryptionKey: SecretKey,
                                 authenticationKey: SecretKey) -> [UInt8]? {
        guard systemTitle.count == 8 else { return nil }
        let iv = DLMSCipher.iv(systemTitle: systemTitle, invocationCounter: invocationCounter)
        var aad = [securityControl] + authenticationKey.withUnsafeBytes { Array($0) } + Array(challenge)
        defer { wipe(&aad) }
        let tag = encryptionKey.withUnsafeBytes { k in
            AESGCM.gmac(key: k, iv: iv, aad: aad, tagLength: DLMSCipher.tagLength)
        }
        guard let tag else { return nil }
        return [securityControl] + Array(iv.suffix(4)) + tag
    }

    /// Checks a mechanism-5 reply `SC ‖ IC(4) ‖ T(12)` over `challenge` (the *peer's* challenge: StoC for the
    /// client's reply) with the *signer's* system title.
    public static func verifyGMAC(reply: some Collection<UInt8>, challenge: some Collection<UInt8>,
                                  systemTitle: some Collection<UInt8>, encryptionKey: SecretKey,
                                  authenticationKey: SecretKey) -> Bool {
        let r = Array(reply)
        guard r.count == 5 + DLMSCipher.tagLength, let sc = r.first else { return false }
        let ic = r[1...4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard let expected = gmacReply(securityControl: sc, invocationCounter: ic, challenge: challenge,
                                       systemTitle: systemTitle, encryptionKey: encryptionKey,
                                       authenticationKey: authenticationKey)
        else { return false }
        return constantTimeEqual(expected, r)
    }

    // MARK: - Mechanisms 3 and 4: MD5, SHA-1

    /// The digest of mechanisms 3 (MD5) and 4 (SHA-1), both deprecated by the Green Book but still met in the field.
    public enum LegacyDigest: Sendable, Hashable {
        case md5, sha1
    }

    /// f(challenge) for mechanism 3 or 4: `H(challenge ‖ secret)`, where challenge is the peer's (StoC for the
    /// client's reply) (Gurux.Java `GXSecure.secure`: `challenge.set(data); challenge.set(secret)`).
    public static func legacyDigestReply(_ digest: LegacyDigest, challenge: some Collection<UInt8>,
                                         secret: some Collection<UInt8>) -> [UInt8]? {
        let md: OpaquePointer?
        let length: Int
        switch digest {
        case .md5: (md, length) = (EVP_md5(), 16)
        case .sha1: (md, length) = (EVP_sha1(), 20)
        }
        guard let md else { return nil }
        var s = Array(secret)
        defer { wipe(&s) }
        return SHA.digest(md: md, length: length, parts: [Array(challenge)[...], s[...]], secretAfterFirst: nil)
    }

    public static func verifyLegacyDigest(_ digest: LegacyDigest, reply: some Collection<UInt8>,
                                          challenge: some Collection<UInt8>, secret: some Collection<UInt8>) -> Bool {
        guard let expected = legacyDigestReply(digest, challenge: challenge, secret: secret) else { return false }
        return constantTimeEqual(expected, Array(reply))
    }

    // MARK: - Mechanism 6: SHA-256

    /// f(challenge) for mechanism 6: `SHA-256(secret ‖ ST_signer ‖ ST_peer ‖ challenge_peer ‖ challenge_signer)`.
    /// For the client: SHA-256(secret ‖ ST_C ‖ ST_S ‖ StoC ‖ CtoS); for the server: SHA-256(secret ‖ ST_S ‖ ST_C ‖
    /// CtoS ‖ StoC) (Gurux.Java `objects/GXDLMSAssociationLogicalName.java` replyToHlsAuthentication builds both
    /// before `GXSecure.secure` hashes them; confirmed on Captures/gurux/wrapper-hls-sha256-authenc). The HLS
    /// secret is the association's secret (Gurux: the password).
    public static func sha256Reply(secret: some Collection<UInt8>, signerSystemTitle: some Collection<UInt8>,
                                   peerSystemTitle: some Collection<UInt8>, peerChallenge: some Collection<UInt8>,
                                   signerChallenge: some Collection<UInt8>) -> [UInt8]? {
        var s = Array(secret)
        defer { wipe(&s) }
        return SHA.hash(.sha256, parts: [s[...], Array(signerSystemTitle)[...], Array(peerSystemTitle)[...],
                                         Array(peerChallenge)[...], Array(signerChallenge)[...]])
    }

    public static func verifySHA256(reply: some Collection<UInt8>, secret: some Collection<UInt8>,
                                    signerSystemTitle: some Collection<UInt8>, peerSystemTitle: some Collection<UInt8>,
                                    peerChallenge: some Collection<UInt8>, signerChallenge: some Collection<UInt8>)
        -> Bool {
        guard reply.count == 32,
            let expected = sha256Reply(secret: secret, signerSystemTitle: signerSystemTitle,
                                       peerSystemTitle: peerSystemTitle, peerChallenge: peerChallenge,
                                       signerChallenge: signerChallenge)
        else { return false }
        return constantTimeEqual(expected, Array(reply))
    }

    // MARK: - Mechanism 7: ECDSA

    /// The bytes a mechanism-7 reply signs: `ST_signer ‖ ST_peer ‖ challenge_peer ‖ challenge_signer`
    /// (client: ST_C ‖ ST_S ‖ StoC ‖ CtoS; server: ST_S ‖ ST_C ‖ CtoS ‖ StoC; Gurux.Java
    /// `GXDLMSAssociationLogicalName.replyToHlsAuthentication` verifies the client's this way; confirmed on
    /// Captures/gurux/wrapper-suite{1,2}-ecdsa, both directions).
    public static func ecdsaSignedData(signerSystemTitle: some Collection<UInt8>,
                                       peerSystemTitle: some Collection<UInt8>, peerChallenge: some Collection<UInt8>,
                                       signerChallenge: some Collection<UInt8>) -> [UInt8] {
        Array(signerSystemTitle) + Array(peerSystemTitle) + Array(peerChallenge) + Array(signerChallenge)
    }

    /// f(challenge) for mechanism 7: the raw r ‖ s ECDSA signature of `ecdsaSignedData`.
    public static func ecdsaReply(privateKey: ECPrivateKey, signerSystemTitle: some Collection<UInt8>,
                                  peerSystemTitle: some Collection<UInt8>, peerChallenge: some Collection<UInt8>,
                                  signerChallenge: some Collection<UInt8>) -> [UInt8]? {
        ECDSA.sign(message: ecdsaSignedData(signerSystemTitle: signerSystemTitle, peerSystemTitle: peerSystemTitle,
                                            peerChallenge: peerChallenge, signerChallenge: signerChallenge),
                   privateKey: privateKey)
    }

    /// Checks a mechanism-7 reply (raw r ‖ s, 64 or 96 bytes) with the signer's public key.
    public static func verifyECDSA(reply: some Collection<UInt8>, publicKey: ECPublicKey,
                                   signerSystemTitle: some Collection<UInt8>, peerSystemTitle: some Collection<UInt8>,
                                   peerChallenge: some Collection<UInt8>, signerChallenge: some Collection<UInt8>)
        -> Bool {
        ECDSA.verify(signature: reply,
                     message: ecdsaSignedData(signerSystemTitle: signerSystemTitle, peerSystemTitle: peerSystemTitle,
                                              peerChallenge: peerChallenge, signerChallenge: signerChallenge),
                     publicKey: publicKey)
    }

    // MARK: -

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}
