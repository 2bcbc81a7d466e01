internal import CLibcrypto

/// ECDSA (FIPS 186-4) with the DLMS pairings P-256/SHA-256 (suite 1) and P-384/SHA-384 (suite 2), and the raw
/// fixed-width `r ‖ s` signature encoding DLMS uses (64 or 96 bytes, not DER): security-layouts.md §4, §6;
/// Gurux.NET `Ecdsa/GXEcdsa.cs`; Connexo `ECDSASignatureImpl.java` (DER converted to fixed-width r‖s).
public enum ECDSA {
    /// Signs `message` (hashed here with the curve's hash). Returns raw `r ‖ s`.
    public static func sign(message: some Collection<UInt8>, privateKey: ECPrivateKey) -> [UInt8]? {
        guard let key = privateKey.makePKey(), let md = privateKey.curve.hash.md, let context = DigestContext(),
            EVP_DigestSignInit(context.ctx, nil, md, nil, key.pkey) == 1
        else {
            clearOpenSSLErrors()
            return nil
        }
        var der = [UInt8](repeating: 0, count: 160)
        var n = der.count
        let rc = withBytes(message) { m in EVP_DigestSign(context.ctx, &der, &n, m.baseAddress, m.count) }
        guard rc == 1, n <= der.count else {
            clearOpenSSLErrors()
            return nil
        }
        return rawSignature(der: Array(der.prefix(n)), width: privateKey.curve.coordinateLength)
    }

    /// Verifies a raw `r ‖ s` signature over `message`. False for a signature of the wrong length, r or s out of
    /// range, or a mismatch.
    public static func verify(signature: some Collection<UInt8>, message: some Collection<UInt8>,
                              publicKey: ECPublicKey) -> Bool {
        let width = publicKey.curve.coordinateLength
        guard signature.count == 2 * width, let der = derSignature(raw: Array(signature), width: width),
            let key = publicKey.makePKey(), let md = publicKey.curve.hash.md, let context = DigestContext(),
            EVP_DigestVerifyInit(context.ctx, nil, md, nil, key.pkey) == 1
        else {
            clearOpenSSLErrors()
            return false
        }
        let rc = withBytes(message) { m in EVP_DigestVerify(context.ctx, der, der.count, m.baseAddress, m.count) }
        if rc != 1 { clearOpenSSLErrors() }
        return rc == 1
    }

    // MARK: - Signature encodings

    /// DER `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` → fixed-width `r ‖ s`.
    static func rawSignature(der: [UInt8], width: Int) -> [UInt8]? {
        let sig: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            return d2i_ECDSA_SIG(nil, &p, buf.count)
        }
        guard let sig else {
            clearOpenSSLErrors()
            return nil
        }
        defer { ECDSA_SIG_free(sig) }
        guard let r = ECDSA_SIG_get0_r(sig), let s = ECDSA_SIG_get0_s(sig) else { return nil }
        var out = [UInt8](repeating: 0, count: 2 * width)
        let ok = out.withUnsafeMutableBufferPointer { o -> Bool in
            guard let base = o.baseAddress else { return false }
            return BN_bn2binpad(r, base, Int32(width)) == Int32(width)
                && BN_bn2binpad(s, base + width, Int32(width)) == Int32(width)
        }
        return ok ? out : nil
    }

    /// Fixed-width `r ‖ s` → DER, or nil when r or s is zero (never a valid signature).
    static func derSignature(raw: [UInt8], width: Int) -> [UInt8]? {
        guard raw.count == 2 * width, let sig = ECDSA_SIG_new() else { return nil }
        defer { ECDSA_SIG_free(sig) }
        let r = raw.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32(width), nil) }
        let s = raw.withUnsafeBufferPointer { buf in BN_bin2bn(buf.baseAddress.map { $0 + width }, Int32(width), nil) }
        guard let r, let s else {
            BN_free(r)
            BN_free(s)
            return nil
        }
        guard BN_is_zero(r) == 0, BN_is_zero(s) == 0, ECDSA_SIG_set0(sig, r, s) == 1 else {
            BN_free(r)
            BN_free(s)
            return nil
        }
        // ECDSA_SIG_set0 took ownership of r and s.
        let n = i2d_ECDSA_SIG(sig, nil)
        guard n > 0, n < 256 else { return nil }
        var der = [UInt8](repeating: 0, count: Int(n))
        let written = der.withUnsafeMutableBufferPointer { buf -> Int32 in
            var p: UnsafeMutablePointer<UInt8>? = buf.baseAddress
            return i2d_ECDSA_SIG(sig, &p)
        }
        return written == n ? der : nil
    }
}
