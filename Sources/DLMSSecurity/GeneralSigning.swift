/// general-signing (0xDF) signatures, IEC 62056-5-3 §9.2.7.2.5 (security-layouts.md §6):
///
/// ```
/// DF OS(transaction-id) OS(originator-ST) OS(recipient-ST) OS(date-time) OS(other-information) OS(content) OS(signature)
/// signed bytes = OS(transaction-id) ‖ … ‖ OS(other-information)  (lengths included, 0xDF excluded)
///                ‖ content                                         (its length excluded)
/// ```
///
/// with the originator's signing key, raw r ‖ s (P-256/SHA-256 suite 1, P-384/SHA-384 suite 2). Sources:
/// Gurux.NET `GXSecure.cs` (signedData = data[1..<contentStart] ‖ content), Connexo `unwrapGeneralSigning`.
/// The APDU layer slices the fields; this checks the signature.
public enum GeneralSigning {
    /// The bytes the signature covers.
    public static func signedBytes(header: some Collection<UInt8>, content: some Collection<UInt8>) -> [UInt8] {
        var b: [UInt8] = []
        b.reserveCapacity(header.count + content.count)
        b.append(contentsOf: header)
        b.append(contentsOf: content)
        return b
    }

    /// Checks `signature` (raw r ‖ s) over `header ‖ content` with the originator's public key.
    public static func verify(header: some Collection<UInt8>, content: some Collection<UInt8>,
                              signature: some Collection<UInt8>, publicKey: ECPublicKey) -> Bool {
        ECDSA.verify(signature: signature, message: signedBytes(header: header, content: content),
                     publicKey: publicKey)
    }

    /// Signs `header ‖ content` (for tests and `encode`).
    public static func sign(header: some Collection<UInt8>, content: some Collection<UInt8>,
                            privateKey: ECPrivateKey) -> [UInt8]? {
        ECDSA.sign(message: signedBytes(header: header, content: content), privateKey: privateKey)
    }
}
