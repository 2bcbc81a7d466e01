internal import CLibcrypto

/// AES in Galois/Counter Mode (NIST SP 800-38D) over libcrypto, with 128- or 256-bit keys and a 96-bit IV, which
/// is what DLMS uses (IV = system title ‖ invocation counter, IEC 62056-5-3 §5.3.3).
///
/// A value of this class owns one `EVP_CIPHER_CTX` and reuses it across calls, so a decoder that decrypts many
/// APDUs keeps one `AESGCM` per thread. It is not `Sendable`. The static functions create a temporary context.
///
/// All functions return `nil` when the key is not 16 or 32 bytes, the IV is empty, the tag length is outside
/// 4...16, or libcrypto fails; `decrypt` also returns `nil` when the tag does not verify.
public final class AESGCM {
    private let context: CipherContext

    public init?() {
        guard let c = CipherContext() else { return nil }
        context = c
    }

    // MARK: - GCM

    /// GCM-AE: encrypts `plaintext` and authenticates `aad` and the ciphertext. The tag is the first
    /// `tagLength` bytes of the full 16-byte tag (DLMS uses 12).
    public func encrypt(
        key: some Collection<UInt8>, iv: some Collection<UInt8>, aad: some Collection<UInt8>,
        plaintext: some Collection<UInt8>, tagLength: Int = 12
    ) -> (ciphertext: [UInt8], tag: [UInt8])? {
        guard (4...16).contains(tagLength),
            let cipher = Self.gcmCipher(keyLength: key.count), iv.count > 0, iv.count <= 128
        else { return nil }
        let ctx = context.ctx
        defer { _ = context.reset() }
        guard EVP_EncryptInit_ex(ctx, cipher, nil, nil, nil) == 1,
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, Int32(iv.count), nil) == 1,
            withBytes(key, { k in withBytes(iv, { v in EVP_EncryptInit_ex(ctx, nil, nil, k.baseAddress, v.baseAddress) }) }) == 1,
            Self.update(ctx, aad: aad, encrypt: true)
        else { return nil }
        var out = [UInt8](repeating: 0, count: plaintext.count)
        guard Self.update(ctx, input: plaintext, output: &out, encrypt: true) else { return nil }
        var final = [UInt8](repeating: 0, count: 16)
        var n: Int32 = 0
        guard EVP_EncryptFinal_ex(ctx, &final, &n) == 1, n == 0 else { return nil }
        var tag = [UInt8](repeating: 0, count: 16)
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, &tag) == 1 else { return nil }
        return (out, Array(tag.prefix(tagLength)))
    }

    /// GCM-AD: returns the plaintext when `tag` (4 to 16 bytes, a truncation of the full tag) verifies over `aad`
    /// and `ciphertext`; `nil` otherwise.
    public func decrypt(
        key: some Collection<UInt8>, iv: some Collection<UInt8>, aad: some Collection<UInt8>,
        ciphertext: some Collection<UInt8>, tag: some Collection<UInt8>
    ) -> [UInt8]? {
        // OpenSSL compares a truncated tag (SP 800-38D §7.2: MSB_t of the full tag) in constant time itself.
        guard (4...16).contains(tag.count),
            let cipher = Self.gcmCipher(keyLength: key.count), iv.count > 0, iv.count <= 128
        else { return nil }
        let ctx = context.ctx
        defer { _ = context.reset() }
        guard EVP_DecryptInit_ex(ctx, cipher, nil, nil, nil) == 1,
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, Int32(iv.count), nil) == 1,
            withBytes(key, { k in withBytes(iv, { v in EVP_DecryptInit_ex(ctx, nil, nil, k.baseAddress, v.baseAddress) }) }) == 1,
            Self.update(ctx, aad: aad, encrypt: false)
        else { return nil }
        var out = [UInt8](repeating: 0, count: ciphertext.count)
        guard Self.update(ctx, input: ciphertext, output: &out, encrypt: false) else { return nil }
        var tagBytes = Array(tag)
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(tagBytes.count), &tagBytes) == 1 else {
            return nil
        }
        var final = [UInt8](repeating: 0, count: 16)
        var n: Int32 = 0
        guard EVP_DecryptFinal_ex(ctx, &final, &n) == 1 else {
            // The tag did not verify: never hand out the unauthenticated plaintext from this function.
            wipe(&out)
            clearOpenSSLErrors()
            return nil
        }
        return out
    }

    /// GMAC (SP 800-38D §3: GCM with an empty plaintext): the tag over `aad` alone.
    public func gmac(
        key: some Collection<UInt8>, iv: some Collection<UInt8>, aad: some Collection<UInt8>, tagLength: Int = 12
    ) -> [UInt8]? {
        encrypt(key: key, iv: iv, aad: aad, plaintext: [UInt8](), tagLength: tagLength)?.tag
    }

    /// GCTR alone (SP 800-38D §6.5) with the counter block inc32(J0) for a 96-bit IV, i.e. IV ‖ 00000002: the
    /// GCM keystream without any tag. Used for DLMS encryption-only protection, and to read A+E ciphertext when
    /// the authentication key is unknown (the result is then unauthenticated). Encryption and decryption are
    /// the same operation.
    public func gctr(key: some Collection<UInt8>, iv: some Collection<UInt8>, input: some Collection<UInt8>) -> [UInt8]? {
        guard iv.count == 12, let cipher = Self.ctrCipher(keyLength: key.count) else { return nil }
        // GCM increments only the low 32 bits (inc32) while OpenSSL's CTR mode increments all 128; they agree
        // unless the low word wraps, which needs 2^32 - 2 blocks (64 GiB): refuse such input.
        guard input.count < (1 << 32 - 2) * 16 else { return nil }
        var counter = Array(iv)
        counter.append(contentsOf: [0, 0, 0, 2])
        let ctx = context.ctx
        defer { _ = context.reset() }
        guard withBytes(key, { k in EVP_EncryptInit_ex(ctx, cipher, nil, k.baseAddress, counter) }) == 1 else {
            return nil
        }
        var out = [UInt8](repeating: 0, count: input.count)
        guard Self.update(ctx, input: input, output: &out, encrypt: true) else { return nil }
        return out
    }

    // MARK: - One-shot conveniences (a fresh context per call)

    public static func encrypt(
        key: some Collection<UInt8>, iv: some Collection<UInt8>, aad: some Collection<UInt8>,
        plaintext: some Collection<UInt8>, tagLength: Int = 12
    ) -> (ciphertext: [UInt8], tag: [UInt8])? {
        AESGCM()?.encrypt(key: key, iv: iv, aad: aad, plaintext: plaintext, tagLength: tagLength)
    }

    public static func decrypt(
        key: some Collection<UInt8>, iv: some Collection<UInt8>, aad: some Collection<UInt8>,
        ciphertext: some Collection<UInt8>, tag: some Collection<UInt8>
    ) -> [UInt8]? {
        AESGCM()?.decrypt(key: key, iv: iv, aad: aad, ciphertext: ciphertext, tag: tag)
    }

    public static func gmac(
        key: some Collection<UInt8>, iv: some Collection<UInt8>, aad: some Collection<UInt8>, tagLength: Int = 12
    ) -> [UInt8]? {
        AESGCM()?.gmac(key: key, iv: iv, aad: aad, tagLength: tagLength)
    }

    public static func gctr(key: some Collection<UInt8>, iv: some Collection<UInt8>, input: some Collection<UInt8>) -> [UInt8]? {
        AESGCM()?.gctr(key: key, iv: iv, input: input)
    }

    // MARK: - Internals

    private static func gcmCipher(keyLength: Int) -> OpaquePointer? {
        switch keyLength {
        case 16: return EVP_aes_128_gcm()
        case 32: return EVP_aes_256_gcm()
        default: return nil
        }
    }

    private static func ctrCipher(keyLength: Int) -> OpaquePointer? {
        switch keyLength {
        case 16: return EVP_aes_128_ctr()
        case 32: return EVP_aes_256_ctr()
        default: return nil
        }
    }

    private static func update(_ ctx: OpaquePointer, aad: some Collection<UInt8>, encrypt: Bool) -> Bool {
        guard !aad.isEmpty else { return true }
        guard aad.count <= Int(Int32.max) else { return false }
        var n: Int32 = 0
        let rc = withBytes(aad) { a in
            encrypt
                ? EVP_EncryptUpdate(ctx, nil, &n, a.baseAddress, Int32(a.count))
                : EVP_DecryptUpdate(ctx, nil, &n, a.baseAddress, Int32(a.count))
        }
        return rc == 1
    }

    private static func update(
        _ ctx: OpaquePointer, input: some Collection<UInt8>, output: inout [UInt8], encrypt: Bool
    ) -> Bool {
        guard !input.isEmpty else { return true }
        guard input.count <= Int(Int32.max), output.count == input.count else { return false }
        var n: Int32 = 0
        let rc = withBytes(input) { i in
            output.withUnsafeMutableBufferPointer { o in
                encrypt
                    ? EVP_EncryptUpdate(ctx, o.baseAddress, &n, i.baseAddress, Int32(i.count))
                    : EVP_DecryptUpdate(ctx, o.baseAddress, &n, i.baseAddress, Int32(i.count))
            }
        }
        // GCM and CTR are stream modes: every input byte yields one output byte in the same call.
        return rc == 1 && Int(n) == input.count
    }
}

@available(*, unavailable) extension AESGCM: Sendable {}
