internal import CLibcrypto

/// HLS mechanism 2 is manufacturer-specific (IEC 62056-5-3 §9.2.7.4): the standard defines no f(). Gurux (the most
/// common open client/server) computes it as AES-128-ECB of the peer's challenge, zero-padded to whole blocks,
/// under the HLS secret zero-padded to 16 bytes (Gurux.NET `Secure/GXSecure.cs` `Secure`, branch
/// `Authentication.High`; confirmed on Captures/peers/Output-Ciphered-HLS-AuthEnc.pcap with Gurux's default
/// secret). Only that form is checked; another manufacturer's is reported as not checkable.
enum GuruxHighAuthentication {
    /// Largest challenge accepted (the Green Book allows 8–64 bytes).
    static let maximumChallenge = 256

    static func reply(challenge: [UInt8], secret: [UInt8]) -> [UInt8]? {
        guard !challenge.isEmpty, challenge.count <= maximumChallenge, secret.count <= 16,
              let ctx = EVP_CIPHER_CTX_new() else { return nil }
        defer { EVP_CIPHER_CTX_free(ctx) }
        var key = secret + [UInt8](repeating: 0, count: 16 - secret.count)
        defer { for i in key.indices { key[i] = 0 } }
        let blocks = (challenge.count + 15) / 16
        let input = challenge + [UInt8](repeating: 0, count: blocks * 16 - challenge.count)
        guard EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), nil, key, nil) == 1,
              EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 else { return nil }
        var out = [UInt8](repeating: 0, count: input.count + 16)
        var n: Int32 = 0
        guard EVP_EncryptUpdate(ctx, &out, &n, input, Int32(input.count)) == 1, Int(n) == input.count else {
            return nil
        }
        return Array(out.prefix(input.count))
    }
}
