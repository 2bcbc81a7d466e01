internal import CLibcrypto

/// AES key wrap, RFC 3394 (NIST SP 800-38F KW), with the default IV A6A6A6A6A6A6A6A6. DLMS wraps keys under the
/// master key (KEK) for Security setup `key_transfer` (class 64, method 2) and for general-ciphering wrapped-key
/// key-info (security-layouts.md §3, §7; Gurux.NET `GXDLMSSecureClient.cs`, Connexo `ProtocolTools.aesWrap`).
public enum AESKeyWrap {
    /// Wraps `keyData` (a multiple of 8 bytes, at least 16) under `kek` (16, 24 or 32 bytes): 8 bytes longer.
    public static func wrap(key keyData: some Collection<UInt8>, kek: some Collection<UInt8>) -> [UInt8]? {
        guard keyData.count >= 16, keyData.count % 8 == 0, keyData.count <= 1 << 20 else { return nil }
        return run(encrypt: true, input: keyData, kek: kek, outputLength: keyData.count + 8)
    }

    /// Unwraps `wrapped` (a multiple of 8 bytes, at least 24); `nil` when the integrity check (the IV) fails.
    public static func unwrap(_ wrapped: some Collection<UInt8>, kek: some Collection<UInt8>) -> SecretKey? {
        guard wrapped.count >= 24, wrapped.count % 8 == 0, wrapped.count <= 1 << 20 else { return nil }
        guard var out = run(encrypt: false, input: wrapped, kek: kek, outputLength: wrapped.count - 8) else {
            return nil
        }
        let key = SecretKey(out)
        wipe(&out)
        return key
    }

    private static func run(encrypt: Bool, input: some Collection<UInt8>, kek: some Collection<UInt8>,
                            outputLength: Int) -> [UInt8]? {
        let cipher: OpaquePointer?
        switch kek.count {
        case 16: cipher = EVP_aes_128_wrap()
        case 24: cipher = EVP_aes_192_wrap()
        case 32: cipher = EVP_aes_256_wrap()
        default: return nil
        }
        guard let context = CipherContext(), let cipher else { return nil }
        let ctx = context.ctx
        // Wrap modes must be allowed explicitly on a cipher context (EVP_EncryptInit(3), "AES key wrap").
        EVP_CIPHER_CTX_set_flags(ctx, Int32(EVP_CIPHER_CTX_FLAG_WRAP_ALLOW))
        let initOK = withBytes(kek) { k in
            encrypt
                ? EVP_EncryptInit_ex(ctx, cipher, nil, k.baseAddress, nil)
                : EVP_DecryptInit_ex(ctx, cipher, nil, k.baseAddress, nil)
        }
        guard initOK == 1 else { return nil }
        // libcrypto may write up to one block more than the result while working.
        var out = [UInt8](repeating: 0, count: outputLength + 16)
        var n: Int32 = 0
        let rc = withBytes(input) { i in
            out.withUnsafeMutableBufferPointer { o in
                encrypt
                    ? EVP_EncryptUpdate(ctx, o.baseAddress, &n, i.baseAddress, Int32(i.count))
                    : EVP_DecryptUpdate(ctx, o.baseAddress, &n, i.baseAddress, Int32(i.count))
            }
        }
        guard rc == 1, Int(n) == outputLength else {
            wipe(&out)
            clearOpenSSLErrors()
            return nil
        }
        var tail = [UInt8](repeating: 0, count: 16)
        var m: Int32 = 0
        let fin = encrypt ? EVP_EncryptFinal_ex(ctx, &tail, &m) : EVP_DecryptFinal_ex(ctx, &tail, &m)
        guard fin == 1, m == 0 else {
            wipe(&out)
            clearOpenSSLErrors()
            return nil
        }
        let result = Array(out.prefix(outputLength))
        wipe(&out)
        return result
    }
}
