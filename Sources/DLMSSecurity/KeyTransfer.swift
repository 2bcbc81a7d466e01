/// Security setup (class 64) method 2 `key_transfer` / `global_key_transfer` (IEC 62056-6-2 §4.4.7;
/// security-layouts.md §7):
///
/// ```
/// key_transfer_data ::= array of structure { key_id: enum, key_wrapped: octet-string }
/// key_id: 0 global unicast encryption key, 1 global broadcast encryption key, 2 authentication key, 3 master key
/// key_wrapped = AES-KW(KEK, new key)                  (RFC 3394, IV A6A6A6A6A6A6A6A6)
/// ```
///
/// Sources: Gurux.NET `Objects/GXDLMSSecuritySetup.cs` and `Objects/Enums/GlobalKeyType.cs`; Connexo
/// `SecuritySetup.java`. The new key applies after the response; which invocation counters follow is left to
/// the session (security-layouts.md §7).
public enum KeyTransfer {
    /// The key role of a `key_id`, or nil for an undefined id.
    public static func role(keyID: Int) -> KeyRole? {
        switch keyID {
        case 0: return .guek
        case 1: return .gbek
        case 2: return .ak
        case 3: return .kek
        default: return nil
        }
    }

    public enum Outcome: Sendable {
        /// The new key for `role`.
        case key(KeyRole, SecretKey)
        /// The key id is not 0...3.
        case unknownKeyID(Int)
        /// The wrapped key did not unwrap under the KEK (wrong KEK or corrupted data).
        case unwrapFailed(KeyRole)
    }

    /// Unwraps one `{key_id, key_wrapped}` element with the current KEK.
    public static func unwrap(keyID: Int, wrappedKey: some Collection<UInt8>, kek: SecretKey) -> Outcome {
        guard let role = role(keyID: keyID) else { return .unknownKeyID(keyID) }
        let key = kek.withUnsafeBytes { k in AESKeyWrap.unwrap(wrappedKey, kek: k) }
        guard let key else { return .unwrapFailed(role) }
        return .key(role, key)
    }
}
