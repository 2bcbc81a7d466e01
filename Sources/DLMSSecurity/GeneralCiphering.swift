/// The cryptographic side of general-ciphering (0xDD) and general-ded/glo-ciphering with a general header
/// (IEC 62056-5-3 §9.2.7.2.4; security-layouts.md §3–5): decryption under the two AAD layouts that public
/// implementations disagree on, and the agreed-key derivations of key-info `agreed-key`.
///
/// The APDU layer parses the header; this takes its bytes.
public enum GeneralCiphering {
    /// Which AAD an authenticated general-ciphering APDU verified with (security-layouts.md §5, disputed):
    public enum AADLayout: String, Sendable, Hashable {
        /// `SC ‖ AK` (Gurux.NET `GXGMac.GetTag`, Gurux.Java): the header is not authenticated.
        case securityControlAndAK = "sc-ak"
        /// `SC ‖ AK ‖ OS(transaction-id) ‖ OS(originator) ‖ OS(recipient) ‖ OS(date-time) ‖ OS(other-info)`
        /// (Connexo `SecurityContext.java`).
        case withHeader = "sc-ak-header"
    }

    /// Removes the protection of a general-ciphering payload (the bytes after SC ‖ IC). IV = originator system
    /// title ‖ IC. For authenticated protection both AAD layouts are tried, `SC ‖ AK` first; the layout that
    /// verified is returned. A tag that no layout verifies is `.authenticationFailed`. For encryption only, or
    /// without AK, the layout is nil.
    ///
    /// `header` is `OS(transaction-id) ‖ OS(originator-system-title) ‖ OS(recipient-system-title) ‖
    /// OS(date-time) ‖ OS(other-information)` exactly as on the wire (length bytes included).
    public static func unprotect(
        cipher: DLMSCipher, securityControl: SecurityControl, originatorSystemTitle: some Collection<UInt8>,
        invocationCounter: UInt32, payload: ArraySlice<UInt8>, header: ArraySlice<UInt8>,
        encryptionKey: SecretKey, authenticationKey: SecretKey?
    ) -> (outcome: UnprotectOutcome, layout: AADLayout?) {
        let first = cipher.unprotect(
            securityControl: securityControl, systemTitle: originatorSystemTitle, invocationCounter: invocationCounter,
            payload: payload, encryptionKey: encryptionKey, authenticationKey: authenticationKey,
            aadExtra: [UInt8]()[...])
        switch first {
        case .verified: return (first, .securityControlAndAK)
        case .authenticationFailed: break
        case .decryptedUnverified, .unsupported, .malformed: return (first, nil)
        }
        let second = cipher.unprotect(
            securityControl: securityControl, systemTitle: originatorSystemTitle, invocationCounter: invocationCounter,
            payload: payload, encryptionKey: encryptionKey, authenticationKey: authenticationKey, aadExtra: header)
        if case .verified = second { return (second, .withHeader) }
        return (.authenticationFailed, nil)
    }

    /// The header bytes as they stand on the wire, from its decoded fields (absent fields are empty octet
    /// strings, i.e. a single `00`): `OS(transaction-id) ‖ OS(originator-system-title) ‖
    /// OS(recipient-system-title) ‖ OS(date-time) ‖ OS(other-information)`. Used for the Connexo AAD layout and
    /// for general-signing's signed bytes.
    public static func header(transactionID: [UInt8]?, originatorSystemTitle: [UInt8]?,
                              recipientSystemTitle: [UInt8]?, dateTime: [UInt8]?, otherInformation: [UInt8]?)
        -> [UInt8] {
        var out: [UInt8] = []
        for field in [transactionID, originatorSystemTitle, recipientSystemTitle, dateTime, otherInformation] {
            let v = field ?? []
            appendAXDRLength(v.count, to: &out)
            out += v
        }
        return out
    }

    /// A-XDR length: one byte below 128, else 0x80|n followed by n big-endian bytes (IEC 61334-6 / BER).
    static func appendAXDRLength(_ n: Int, to out: inout [UInt8]) {
        if n < 0x80 {
            out.append(UInt8(n))
        } else if n <= 0xFF {
            out += [0x81, UInt8(n)]
        } else if n <= 0xFFFF {
            out += [0x82, UInt8(n >> 8), UInt8(n & 0xFF)]
        } else {
            out += [0x84, UInt8(truncatingIfNeeded: n >> 24), UInt8(truncatingIfNeeded: n >> 16),
                    UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)]
        }
    }

    /// The inverse of `unprotect` under one chosen layout (for tests and `encode --protect`).
    public static func protect(
        cipher: DLMSCipher, layout: AADLayout, securityControl: SecurityControl,
        originatorSystemTitle: some Collection<UInt8>, invocationCounter: UInt32, plaintext: some Collection<UInt8>,
        header: [UInt8], encryptionKey: SecretKey, authenticationKey: SecretKey?
    ) -> [UInt8]? {
        cipher.protect(securityControl: securityControl, systemTitle: originatorSystemTitle,
                       invocationCounter: invocationCounter, plaintext: plaintext, encryptionKey: encryptionKey,
                       authenticationKey: authenticationKey, aadExtra: layout == .withHeader ? header : [])
    }

    // MARK: - Agreed key

    /// What was signed in the key-ciphered-data of a one-pass agreed key (security-layouts.md §4).
    public enum EphemeralKeySignature: Sendable, Hashable {
        /// The signature verified over `x ‖ y` (Green Book Table 41, Connexo).
        case verifiedOverPublicKey
        /// The signature verified over `key-id ‖ x ‖ y` (Gurux; Green Book Table C.1's example signature).
        case verifiedOverKeyIDAndPublicKey
        /// No signing key of the originator was given.
        case notChecked
        /// Neither form verified.
        case failed
    }

    public enum AgreedKeyOutcome: Sendable {
        /// The derived key, and what the ephemeral key's signature check found.
        case derived(SecretKey, signature: EphemeralKeySignature)
        /// The key cannot be derived (reason without key material).
        case failed(String)
    }

    /// One-pass Diffie-Hellman C(1e, 1s, ECC CDH), as the recipient computes it: `keyCipheredData` is
    /// `Q_eU.x ‖ Q_eU.y ‖ r ‖ s`; Z = ECDH(recipient's static agreement key, Q_eU); the key is
    /// `ConcatKDF.dlmsAgreedKey(Z, originator, recipient)`. The signature is checked when the originator's
    /// signing key is given, over `x ‖ y` and then over `keyID ‖ x ‖ y`.
    public static func onePassAgreedKey(
        keyCipheredData: some Collection<UInt8>, recipientAgreementKey: ECPrivateKey,
        originatorSigningKey: ECPublicKey?, originatorSystemTitle: [UInt8], recipientSystemTitle: [UInt8],
        keyID: UInt8 = 0
    ) -> AgreedKeyOutcome {
        let curve = recipientAgreementKey.curve
        let w = curve.coordinateLength
        let data = Array(keyCipheredData)
        guard data.count == 4 * w else {
            return .failed("key-ciphered-data of \(data.count) bytes (\(4 * w) expected for \(curve.rawValue))")
        }
        let xy = Array(data[0..<(2 * w)])
        let signature = data[(2 * w)...]
        guard let ephemeral = ECPublicKey(point: xy) else {
            return .failed("the ephemeral public key is not a point on \(curve.rawValue)")
        }
        var check = EphemeralKeySignature.notChecked
        if let signer = originatorSigningKey {
            if ECDSA.verify(signature: signature, message: xy, publicKey: signer) {
                check = .verifiedOverPublicKey
            } else if ECDSA.verify(signature: signature, message: [keyID] + xy, publicKey: signer) {
                check = .verifiedOverKeyIDAndPublicKey
            } else {
                check = .failed
            }
        }
        guard let z = ECDH.sharedSecret(privateKey: recipientAgreementKey, publicKey: ephemeral) else {
            return .failed("ECDH failed")
        }
        guard let key = ConcatKDF.dlmsAgreedKey(sharedSecret: z, suite: curve.suite,
                                                originatorSystemTitle: originatorSystemTitle,
                                                recipientSystemTitle: recipientSystemTitle)
        else { return .failed("key derivation failed") }
        return .derived(key, signature: check)
    }

    /// Static unified model C(0e, 2s, ECC CDH): Z = ECDH(own static agreement key, peer's static agreement
    /// public key), either side; `transactionID` is OS(transaction-id) with its length byte.
    public static func staticUnifiedModelAgreedKey(
        privateKey: ECPrivateKey, peerPublicKey: ECPublicKey, originatorSystemTitle: [UInt8],
        recipientSystemTitle: [UInt8], transactionID: [UInt8]
    ) -> SecretKey? {
        guard let z = ECDH.sharedSecret(privateKey: privateKey, publicKey: peerPublicKey) else { return nil }
        return ConcatKDF.dlmsAgreedKey(sharedSecret: z, suite: privateKey.curve.suite,
                                       originatorSystemTitle: originatorSystemTitle,
                                       recipientSystemTitle: recipientSystemTitle, transactionID: transactionID)
    }
}
