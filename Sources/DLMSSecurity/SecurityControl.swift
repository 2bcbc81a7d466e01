import DLMSWire

/// The security control byte (SC) of a ciphered APDU, IEC 62056-5-3 §5.3.3 (Green Book Table 37):
///
/// ```
/// bit 7     compression (C)
/// bit 6     key set: 0 = unicast (GUEK / dedicated), 1 = broadcast (GBEK)
/// bit 5     encryption (E)
/// bit 4     authentication (A)
/// bits 3-0  security suite id: 0 AES-GCM-128, 1 ECDH-ECDSA-AES-GCM-128-SHA-256, 2 ECDH-ECDSA-AES-GCM-256-SHA-384
/// ```
///
/// The byte enters the AAD unchanged, broadcast bit included (security-layouts.md §2).
public struct SecurityControl: Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8

    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public init(suite: UInt8 = 0, authentication: Bool, encryption: Bool, broadcastKey: Bool = false,
                compression: Bool = false) {
        var v = suite & Self.suiteMask
        if authentication { v |= Self.authenticationBit }
        if encryption { v |= Self.encryptionBit }
        if broadcastKey { v |= Self.broadcastKeyBit }
        if compression { v |= Self.compressionBit }
        rawValue = v
    }

    public static let suiteMask: UInt8 = 0x0F
    public static let authenticationBit: UInt8 = 0x10
    public static let encryptionBit: UInt8 = 0x20
    public static let broadcastKeyBit: UInt8 = 0x40
    public static let compressionBit: UInt8 = 0x80

    /// Security suite id (0...15; only 0, 1 and 2 are defined).
    public var suite: UInt8 { rawValue & Self.suiteMask }
    public var isAuthenticated: Bool { rawValue & Self.authenticationBit != 0 }
    public var isEncrypted: Bool { rawValue & Self.encryptionBit != 0 }
    /// The broadcast key (GBEK) is in use rather than the unicast one.
    public var usesBroadcastKey: Bool { rawValue & Self.broadcastKeyBit != 0 }
    public var isCompressed: Bool { rawValue & Self.compressionBit != 0 }

    /// The kind of protection, in the truth files' words.
    public var protection: Protection {
        switch (isAuthenticated, isEncrypted) {
        case (true, true): return .authenticatedEncryption
        case (true, false): return .authenticationOnly
        case (false, true): return .encryptionOnly
        case (false, false): return .none
        }
    }

    public enum Protection: String, Sendable, Hashable {
        case none = "none"
        case authenticationOnly = "authentication"
        case encryptionOnly = "encryption"
        case authenticatedEncryption = "authenticated-encryption"
    }

    /// Key length the suite's AES-GCM uses: 16 for suites 0 and 1, 32 for suite 2, nil for an undefined suite.
    public var keyLength: Int? {
        switch suite {
        case 0, 1: return 16
        case 2: return 32
        default: return nil
        }
    }

    public var description: String {
        var parts: [String] = ["suite \(suite)", protection.rawValue]
        if usesBroadcastKey { parts.append("broadcast key") }
        if isCompressed { parts.append("compressed") }
        return "SC 0x" + Hex.encode([rawValue]) + " (" + parts.joined(separator: ", ") + ")"
    }
}
