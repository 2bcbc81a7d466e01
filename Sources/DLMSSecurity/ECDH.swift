internal import CLibcrypto

/// Elliptic-curve Diffie-Hellman (NIST SP 800-56A §5.7.1.2, ECC CDH) on P-256 or P-384, and the DLMS key
/// derivation from its shared secret.
public enum ECDH {
    /// Z: the x-coordinate of d · Q (32 or 48 bytes). `nil` when the curves differ or libcrypto fails.
    public static func sharedSecret(privateKey: ECPrivateKey, publicKey: ECPublicKey) -> SecretKey? {
        guard privateKey.curve == publicKey.curve, let mine = privateKey.makePKey(), let peer = publicKey.makePKey(),
            let context = PKeyContext(key: mine), EVP_PKEY_derive_init(context.ctx) == 1,
            EVP_PKEY_derive_set_peer(context.ctx, peer.pkey) == 1
        else {
            clearOpenSSLErrors()
            return nil
        }
        var z = [UInt8](repeating: 0, count: privateKey.curve.coordinateLength)
        var n = z.count
        guard EVP_PKEY_derive(context.ctx, &z, &n) == 1, n == z.count else {
            wipe(&z)
            clearOpenSSLErrors()
            return nil
        }
        let secret = SecretKey(z)
        wipe(&z)
        return secret
    }
}

/// The single-step key derivation function of NIST SP 800-56A rev. 2 §5.8.1 (the "concatenation KDF"), as DLMS
/// uses it for agreed keys (IEC 62056-5-3 §9.2.3.4.6.5; security-layouts.md §4):
///
/// ```
/// K = H(counter=00000001 ‖ Z ‖ OtherInfo) ‖ H(00000002 ‖ Z ‖ OtherInfo) ‖ …   truncated to keyDataLength
/// OtherInfo = AlgorithmID ‖ PartyUInfo ‖ PartyVInfo [‖ SuppPubInfo ‖ SuppPrivInfo]
/// ```
///
/// Sources: Gurux.NET `Secure/GXSecure.cs` GenerateKDF; Gurux.Java `GXSecure.generateKDF`; Connexo
/// `encryption/kdf/NIST_SP_800_56_KDF.java`.
public enum ConcatKDF {
    /// The DLMS cryptographic algorithm ids, as the contents octets of their OIDs (Green Book Table 18;
    /// 2.16.756.5.8.3.x). Connexo `encryption/AlgorithmID.java` and Gurux `GenerateKDF` use these bytes.
    public enum AlgorithmID: Sendable, Hashable {
        case aesGCM128, aesGCM256, aesWrap128, aesWrap256

        public var bytes: [UInt8] {
            switch self {
            case .aesGCM128: return [0x60, 0x85, 0x74, 0x05, 0x08, 0x03, 0x00]
            case .aesGCM256: return [0x60, 0x85, 0x74, 0x05, 0x08, 0x03, 0x01]
            case .aesWrap128: return [0x60, 0x85, 0x74, 0x05, 0x08, 0x03, 0x02]
            case .aesWrap256: return [0x60, 0x85, 0x74, 0x05, 0x08, 0x03, 0x03]
            }
        }
    }

    /// `keyDataLength` bytes derived from `sharedSecret` and `otherInfo` (1...1024 bytes of output).
    public static func derive(sharedSecret: SecretKey, otherInfo: [UInt8], hash: SHA.Algorithm,
                              keyDataLength: Int) -> SecretKey? {
        guard keyDataLength > 0, keyDataLength <= 1024 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(keyDataLength + hash.digestLength)
        var counter: UInt32 = 1
        while out.count < keyDataLength {
            let c: [UInt8] = [UInt8(counter >> 24), UInt8(counter >> 16 & 0xFF), UInt8(counter >> 8 & 0xFF),
                              UInt8(counter & 0xFF)]
            let digest = sharedSecret.withUnsafeBytes { z in
                SHA.hash(hash, parts: [c[...], otherInfo[...]], secretAfterFirst: z)
            }
            guard var block = digest else {
                wipe(&out)
                return nil
            }
            out += block
            wipe(&block)
            counter += 1
        }
        let key = SecretKey(Array(out.prefix(keyDataLength)))
        wipe(&out)
        return key
    }

    /// The DLMS agreed key of general-ciphering key-info `agreed-key` (security-layouts.md §4):
    ///
    /// - one-pass Diffie-Hellman C(1e,1s): OtherInfo = AlgorithmID ‖ ST_U ‖ ST_V (`transactionID` nil);
    /// - static unified model C(0e,2s): OtherInfo = AlgorithmID ‖ ST_U ‖ OS(transaction-id) ‖ ST_V, where
    ///   `transactionID` is the A-XDR octet string *with* its length byte (Gurux.NET `GXSecure.cs`,
    ///   `transactionId.Array()`).
    ///
    /// U is the originator. Suite 1 (SHA-256, AES-GCM-128, 16 bytes) is confirmed by the Green Book examples.
    /// Suite 2 is disputed between implementations (Gurux.NET takes 16 bytes, Connexo 32); this follows Connexo:
    /// SHA-384, AES-GCM-256's algorithm id, 32 bytes. Pass `keyDataLength` to override.
    public static func dlmsAgreedKey(sharedSecret: SecretKey, suite: UInt8, originatorSystemTitle: [UInt8],
                                     recipientSystemTitle: [UInt8], transactionID: [UInt8]? = nil,
                                     keyDataLength: Int? = nil) -> SecretKey? {
        let hash: SHA.Algorithm
        let algorithm: AlgorithmID
        switch suite {
        case 1: (hash, algorithm) = (.sha256, .aesGCM128)
        case 2: (hash, algorithm) = (.sha384, .aesGCM256)
        default: return nil
        }
        var otherInfo = algorithm.bytes + originatorSystemTitle
        if let transactionID { otherInfo += transactionID }
        otherInfo += recipientSystemTitle
        return derive(sharedSecret: sharedSecret, otherInfo: otherInfo, hash: hash,
                      keyDataLength: keyDataLength ?? (suite == 1 ? 16 : 32))
    }
}
