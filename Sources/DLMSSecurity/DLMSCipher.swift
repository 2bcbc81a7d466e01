import DLMSWire

/// What `DLMSCipher.unprotect` made of a protected payload. A bad tag is a value, not an error: the session layer
/// turns it into a finding and decoding continues (STYLE.md §9, "Errors").
public enum UnprotectOutcome: Sendable, Hashable {
    /// The GCM tag verified; `plaintext` is authentic. For authentication-only protection the plaintext is the
    /// payload without its tag.
    case verified([UInt8])
    /// The plaintext was recovered but not authenticated, for the reason given.
    case decryptedUnverified([UInt8], UnverifiedReason)
    /// The tag did not verify with the keys given (wrong key, or tampered data). No plaintext is handed out.
    case authenticationFailed
    /// The protection cannot be processed: compression, an undefined suite, a key of the wrong length.
    case unsupported(String)
    /// The payload cannot hold what the security control byte announces (shorter than the tag), or the system
    /// title is not 8 bytes.
    case malformed(String)

    public enum UnverifiedReason: String, Sendable, Hashable {
        /// SC announces encryption only: there is no tag (GCTR alone).
        case encryptionOnly = "encryption-only"
        /// SC announces authentication, but no authentication key was given: the tag cannot be checked, and for
        /// A+E the ciphertext was decrypted with GCTR alone.
        case noAuthenticationKey = "no-authentication-key"
        /// SC announces neither authentication nor encryption: the payload is the plaintext.
        case notProtected = "not-protected"
    }

    /// The plaintext, verified or not.
    public var plaintext: [UInt8]? {
        switch self {
        case .verified(let p), .decryptedUnverified(let p, _): return p
        case .authenticationFailed, .unsupported, .malformed: return nil
        }
    }
}

/// The DLMS/COSEM symmetric protection of xDLMS APDUs (IEC 62056-5-3 §5.3.3; security-layouts.md §1–2): AES-GCM
/// with a 12-byte tag, and
///
/// ```
/// IV  = system-title (8) ‖ invocation-counter (4, big-endian)
/// A+E: AAD = SC ‖ AK                 payload = ciphertext ‖ tag(12)
/// A:   AAD = SC ‖ AK ‖ plaintext     payload = plaintext ‖ tag(12)     (GMAC over the plaintext)
/// E:   no AAD, no tag                payload = ciphertext              (GCTR from inc32(J0))
/// ```
///
/// The encryption key EK is the GUEK, GBEK (SC bit 0x40) or dedicated key; choosing it is the session's job.
/// Sources: Green Book examples (quoted in Connexo `SecurityContextTest` and jDLMS `CipheringTest`); Gurux.NET
/// `Secure/GXGMac.cs` GetTag; u9n dlms-cosem `security.py`.
///
/// The AES variant follows the key: 16 bytes → AES-128, 32 bytes → AES-256. A key length that disagrees with the
/// suite in SC is tolerated (Gurux's suite-2 client sends SC 0x30 with AES-256 keys, see
/// Captures/gurux/wrapper-suite2-ecdsa); `SecurityControl.keyLength` lets the caller flag it.
///
/// An instance keeps one cipher context for reuse; it is not `Sendable` (use one per thread). The static
/// functions make a temporary one.
public final class DLMSCipher {
    /// Length of the authentication tag in DLMS.
    public static let tagLength = 12

    private let gcm: AESGCM

    public init?() {
        guard let g = AESGCM() else { return nil }
        gcm = g
    }

    // MARK: - Unprotect

    /// Removes the protection of `payload` (the bytes after SC ‖ IC).
    public func unprotect(
        securityControl: SecurityControl, systemTitle: some Collection<UInt8>, invocationCounter: UInt32,
        payload: ArraySlice<UInt8>, encryptionKey: SecretKey, authenticationKey: SecretKey?
    ) -> UnprotectOutcome {
        unprotect(securityControl: securityControl, systemTitle: systemTitle, invocationCounter: invocationCounter,
                  payload: payload, encryptionKey: encryptionKey, authenticationKey: authenticationKey,
                  aadExtra: [UInt8]()[...])
    }

    /// `unprotect` with `aadExtra` inserted in the AAD after SC ‖ AK (and before the plaintext for
    /// authentication only): the general-ciphering header of Connexo's layout.
    func unprotect(
        securityControl: SecurityControl, systemTitle: some Collection<UInt8>, invocationCounter: UInt32,
        payload: ArraySlice<UInt8>, encryptionKey: SecretKey, authenticationKey: SecretKey?,
        aadExtra: ArraySlice<UInt8>
    ) -> UnprotectOutcome {
        if let problem = Self.check(securityControl, systemTitle: systemTitle, encryptionKey: encryptionKey) {
            return problem
        }
        let iv = Self.iv(systemTitle: systemTitle, invocationCounter: invocationCounter)
        let sc = securityControl.rawValue
        switch securityControl.protection {
        case .none:
            return .decryptedUnverified(Array(payload), .notProtected)

        case .encryptionOnly:
            guard let p = encryptionKey.withUnsafeBytes({ gcm.gctr(key: $0, iv: iv, input: payload) }) else {
                return .unsupported("libcrypto refused the AES-CTR operation")
            }
            return .decryptedUnverified(p, .encryptionOnly)

        case .authenticatedEncryption:
            guard payload.count >= Self.tagLength else {
                return .malformed("payload of \(payload.count) bytes is shorter than the 12-byte tag")
            }
            let ciphertext = payload.dropLast(Self.tagLength)
            let tag = payload.suffix(Self.tagLength)
            guard let ak = authenticationKey else {
                guard let p = encryptionKey.withUnsafeBytes({ gcm.gctr(key: $0, iv: iv, input: ciphertext) }) else {
                    return .unsupported("libcrypto refused the AES-CTR operation")
                }
                return .decryptedUnverified(p, .noAuthenticationKey)
            }
            var aad: [UInt8] = []
            aad.reserveCapacity(1 + ak.count + aadExtra.count)
            aad.append(sc)
            ak.withUnsafeBytes { aad.append(contentsOf: $0) }
            aad.append(contentsOf: aadExtra)
            defer { wipe(&aad) }
            let p = encryptionKey.withUnsafeBytes { k in
                gcm.decrypt(key: k, iv: iv, aad: aad, ciphertext: ciphertext, tag: tag)
            }
            guard let p else { return .authenticationFailed }
            return .verified(p)

        case .authenticationOnly:
            guard payload.count >= Self.tagLength else {
                return .malformed("payload of \(payload.count) bytes is shorter than the 12-byte tag")
            }
            let plaintext = payload.dropLast(Self.tagLength)
            guard let ak = authenticationKey else {
                return .decryptedUnverified(Array(plaintext), .noAuthenticationKey)
            }
            var aad: [UInt8] = []
            aad.reserveCapacity(1 + ak.count + aadExtra.count + plaintext.count)
            aad.append(sc)
            ak.withUnsafeBytes { aad.append(contentsOf: $0) }
            aad.append(contentsOf: aadExtra)
            aad.append(contentsOf: plaintext)
            defer { wipe(&aad) }
            let ok = encryptionKey.withUnsafeBytes { k in
                gcm.decrypt(key: k, iv: iv, aad: aad, ciphertext: EmptyCollection<UInt8>(),
                            tag: payload.suffix(Self.tagLength)) != nil
            }
            guard ok else { return .authenticationFailed }
            return .verified(Array(plaintext))
        }
    }

    // MARK: - Protect

    /// Applies the protection `securityControl` announces and returns the payload that follows SC ‖ IC
    /// (ciphertext ‖ tag, plaintext ‖ tag, or ciphertext). `nil` for compression, an undefined suite, a key that
    /// is not 16 or 32 bytes, a system title that is not 8 bytes, or authentication without an AK.
    public func protect(
        securityControl: SecurityControl, systemTitle: some Collection<UInt8>, invocationCounter: UInt32,
        plaintext: some Collection<UInt8>, encryptionKey: SecretKey, authenticationKey: SecretKey?
    ) -> [UInt8]? {
        protect(securityControl: securityControl, systemTitle: systemTitle, invocationCounter: invocationCounter,
                plaintext: plaintext, encryptionKey: encryptionKey, authenticationKey: authenticationKey,
                aadExtra: [])
    }

    func protect(
        securityControl: SecurityControl, systemTitle: some Collection<UInt8>, invocationCounter: UInt32,
        plaintext: some Collection<UInt8>, encryptionKey: SecretKey, authenticationKey: SecretKey?,
        aadExtra: [UInt8]
    ) -> [UInt8]? {
        if Self.check(securityControl, systemTitle: systemTitle, encryptionKey: encryptionKey) != nil { return nil }
        let iv = Self.iv(systemTitle: systemTitle, invocationCounter: invocationCounter)
        let sc = securityControl.rawValue
        switch securityControl.protection {
        case .none:
            return Array(plaintext)
        case .encryptionOnly:
            return encryptionKey.withUnsafeBytes { gcm.gctr(key: $0, iv: iv, input: plaintext) }
        case .authenticatedEncryption:
            guard let ak = authenticationKey else { return nil }
            var aad = [sc] + ak.withUnsafeBytes { Array($0) } + aadExtra
            defer { wipe(&aad) }
            let sealed = encryptionKey.withUnsafeBytes { k in
                gcm.encrypt(key: k, iv: iv, aad: aad, plaintext: plaintext)
            }
            guard let (c, t) = sealed else { return nil }
            return c + t
        case .authenticationOnly:
            guard let ak = authenticationKey else { return nil }
            let p = Array(plaintext)
            var aad = [sc] + ak.withUnsafeBytes { Array($0) } + aadExtra + p
            defer { wipe(&aad) }
            guard let t = encryptionKey.withUnsafeBytes({ gcm.gmac(key: $0, iv: iv, aad: aad) }) else { return nil }
            return p + t
        }
    }

    // MARK: - One-shot conveniences

    public static func unprotect(
        securityControl: SecurityControl, systemTitle: some Collection<UInt8>, invocationCounter: UInt32,
        payload: ArraySlice<UInt8>, encryptionKey: SecretKey, authenticationKey: SecretKey?
    ) -> UnprotectOutcome {
        guard let c = DLMSCipher() else { return .unsupported("libcrypto could not allocate a cipher context") }
        return c.unprotect(
            securityControl: securityControl, systemTitle: systemTitle, invocationCounter: invocationCounter,
            payload: payload, encryptionKey: encryptionKey, authenticationKey: authenticationKey)
    }

    public static func protect(
        securityControl: SecurityControl, systemTitle: some Collection<UInt8>, invocationCounter: UInt32,
        plaintext: some Collection<UInt8>, encryptionKey: SecretKey, authenticationKey: SecretKey?
    ) -> [UInt8]? {
        DLMSCipher()?.protect(
            securityControl: securityControl, systemTitle: systemTitle, invocationCounter: invocationCounter,
            plaintext: plaintext, encryptionKey: encryptionKey, authenticationKey: authenticationKey)
    }

    /// IV = system title ‖ IC (big-endian), 12 bytes.
    public static func iv(systemTitle: some Collection<UInt8>, invocationCounter: UInt32) -> [UInt8] {
        var iv: [UInt8] = []
        iv.reserveCapacity(12)
        iv.append(contentsOf: systemTitle)
        iv.append(UInt8(truncatingIfNeeded: invocationCounter >> 24))
        iv.append(UInt8(truncatingIfNeeded: invocationCounter >> 16))
        iv.append(UInt8(truncatingIfNeeded: invocationCounter >> 8))
        iv.append(UInt8(truncatingIfNeeded: invocationCounter))
        return iv
    }

    private static func check(
        _ sc: SecurityControl, systemTitle: some Collection<UInt8>, encryptionKey: SecretKey
    ) -> UnprotectOutcome? {
        if sc.isCompressed { return .unsupported("compression (SC bit 0x80) is not supported") }
        guard sc.keyLength != nil else { return .unsupported("security suite \(sc.suite) is not defined") }
        guard encryptionKey.count == 16 || encryptionKey.count == 32 else {
            return .unsupported("encryption key of \(encryptionKey.count) bytes (AES-GCM needs 16 or 32)")
        }
        guard systemTitle.count == 8 else {
            return .malformed("system title of \(systemTitle.count) bytes (8 expected)")
        }
        return nil
    }
}

@available(*, unavailable) extension DLMSCipher: Sendable {}
