internal import CLibcrypto

/// AES in Galois/Counter Mode (NIST SP 800-38D) over libcrypto, with 128- or 256-bit keys and a 96-bit IV, which
/// is what DLMS uses (IV = system title ‖ invocation counter, IEC 62056-5-3 §5.3.3).
///
/// A value of this class owns one `EVP_CIPHER_CTX` and reuses it across calls, so a decoder that decrypts many
/// APDUs keeps one `AESGCM` per thread: the ciphers are fetched once, and when the key is the one of the previous
/// call only the IV is set (no new key schedule). It is not `Sendable`. The static functions create a temporary
/// context.
///
/// All functions return `nil` when the key is not 16 or 32 bytes, the IV is empty, the tag length is outside
/// 4...16, or libcrypto fails; `decrypt` also returns `nil` when the tag does not verify.
public final class AESGCM {
    private let context: CipherContext
    private var ciphers: [Mode: FetchedCipher] = [:]
    /// What the context was last keyed with; `nil` after a failure (forces a full initialisation).
    private var keyed: (mode: Mode, ivLength: Int, key: [UInt8])?

    private enum Mode: Hashable {
        case gcm128, gcm256, ctr128, ctr256

        var name: String {
            switch self {
            case .gcm128: return "AES-128-GCM"
            case .gcm256: return "AES-256-GCM"
            case .ctr128: return "AES-128-CTR"
            case .ctr256: return "AES-256-CTR"
            }
        }

        var isGCM: Bool { self == .gcm128 || self == .gcm256 }
    }

    public init?() {
        guard let c = CipherContext() else { return nil }
        context = c
    }

    deinit {
        if var k = keyed?.key { wipe(&k) }
    }

    /// Initialises the context for one operation. With the key, mode and IV length of the previous call, only
    /// the IV is set (EVP_EncryptInit(3): "a NULL key … reuse the previously set key").
    private func start(_ mode: Mode, key: some Collection<UInt8>, iv: some Collection<UInt8>, encrypt: Bool) -> Bool {
        let ctx = context.ctx
        let enc: Int32 = encrypt ? 1 : 0
        if let k = keyed, k.mode == mode, k.ivLength == iv.count, k.key.elementsEqual(key) {
            let rc = withBytes(iv) { v in EVP_CipherInit_ex(ctx, nil, nil, nil, v.baseAddress, enc) }
            if rc == 1 { return true }
            forget()
            return false
        }
        forget()
        if ciphers[mode] == nil { ciphers[mode] = FetchedCipher(name: mode.name) }
        guard let cipher = ciphers[mode]?.cipher, EVP_CipherInit_ex(ctx, cipher, nil, nil, nil, enc) == 1 else {
            return false
        }
        if mode.isGCM, iv.count != 12 {
            guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, Int32(iv.count), nil) == 1 else { return false }
        }
        let rc = withBytes(key) { k in
            withBytes(iv) { v in EVP_CipherInit_ex(ctx, nil, nil, k.baseAddress, v.baseAddress, enc) }
        }
        guard rc == 1 else { return false }
        keyed = (mode, iv.count, Array(key))
        return true
    }

    private func forget() {
        if var k = keyed?.key { wipe(&k) }
        keyed = nil
        _ = context.reset()
    }

    // MARK: - GCM

    /// GCM-AE: encrypts `plaintext` and authenticates `aad` and the ciphertext. The tag is the first
    /// `tagLength` bytes of the full 16-byte tag (DLMS uses 12).
    public func encrypt(
        key: some Collection<UInt8>, iv: some Collection<UInt8>, aad: some Collection<UInt8>,
        plaintext: some Collection<UInt8>, tagLength: Int = 12
    ) -> (ciphertext: [UInt8], tag: [UInt8])? {
        guard (4...16).contains(tagLength), let mode = Self.gcmMode(keyLength: key.count), iv.count > 0,
            iv.count <= 128, start(mode, key: key, iv: iv, encrypt: true)
        else { return nil }
        let ctx = context.ctx
        guard Self.update(ctx, aad: aad, encrypt: true) else { forget(); return nil }
        var out = [UInt8](repeating: 0, count: plaintext.count)
        guard Self.update(ctx, input: plaintext, output: &out, encrypt: true) else { forget(); return nil }
        var final = [UInt8](repeating: 0, count: 16)
        var n: Int32 = 0
        guard EVP_EncryptFinal_ex(ctx, &final, &n) == 1, n == 0 else { forget(); return nil }
        var tag = [UInt8](repeating: 0, count: 16)
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, &tag) == 1 else { forget(); return nil }
        return (out, Array(tag.prefix(tagLength)))
    }

    /// GCM-AD: returns the plaintext when `tag` (4 to 16 bytes, a truncation of the full tag) verifies over `aad`
    /// and `ciphertext`; `nil` otherwise.
    public func decrypt(
        key: some Collection<UInt8>, iv: some Collection<UInt8>, aad: some Collection<UInt8>,
        ciphertext: some Collection<UInt8>, tag: some Collection<UInt8>
    ) -> [UInt8]? {
        // OpenSSL compares a truncated tag (SP 800-38D §7.2: MSB_t of the full tag) in constant time itself.
        guard (4...16).contains(tag.count), let mode = Self.gcmMode(keyLength: key.count), iv.count > 0,
            iv.count <= 128, start(mode, key: key, iv: iv, encrypt: false)
        else { return nil }
        let ctx = context.ctx
        guard Self.update(ctx, aad: aad, encrypt: false) else { forget(); return nil }
        var out = [UInt8](repeating: 0, count: ciphertext.count)
        guard Self.update(ctx, input: ciphertext, output: &out, encrypt: false) else { forget(); return nil }
        // libcrypto copies the expected tag; it never writes through this pointer.
        let tagSet = withBytes(tag) { t in
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(t.count),
                                UnsafeMutableRawPointer(mutating: t.baseAddress))
        }
        guard tagSet == 1 else {
            forget()
            return nil
        }
        // GCM's final step writes no bytes; the scratch block is only there because the API takes a buffer.
        let finalOK = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { scratch -> Bool in
            var n: Int32 = 0
            return EVP_DecryptFinal_ex(ctx, scratch.baseAddress, &n) == 1 && n == 0
        }
        guard finalOK else {
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
    public func gctr(
        key: some Collection<UInt8>, iv: some Collection<UInt8>, input: some Collection<UInt8>
    ) -> [UInt8]? {
        guard iv.count == 12, let mode = Self.ctrMode(keyLength: key.count) else { return nil }
        // GCM increments only the low 32 bits (inc32) while OpenSSL's CTR mode increments all 128; they agree
        // unless the low word wraps, which needs 2^32 - 2 blocks (64 GiB): refuse such input.
        guard input.count < (1 << 32 - 2) * 16 else { return nil }
        var counter = Array(iv)
        counter.append(contentsOf: [0, 0, 0, 2])
        guard start(mode, key: key, iv: counter, encrypt: true) else { return nil }
        var out = [UInt8](repeating: 0, count: input.count)
        guard Self.update(context.ctx, input: input, output: &out, encrypt: true) else { forget(); return nil }
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

    public static func gctr(
        key: some Collection<UInt8>, iv: some Collection<UInt8>, input: some Collection<UInt8>
    ) -> [UInt8]? {
        AESGCM()?.gctr(key: key, iv: iv, input: input)
    }

    // MARK: - Internals

    private static func gcmMode(keyLength: Int) -> Mode? {
        switch keyLength {
        case 16: return .gcm128
        case 32: return .gcm256
        default: return nil
        }
    }

    private static func ctrMode(keyLength: Int) -> Mode? {
        switch keyLength {
        case 16: return .ctr128
        case 32: return .ctr256
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
