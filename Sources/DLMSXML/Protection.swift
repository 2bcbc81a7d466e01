import DLMSSecurity
import DLMSWire

/// Applies DLMS protection to an APDU for `dlmsdump encode --protect`, with `DLMSCipher` (AES-GCM) and `ECDSA`.
///
/// ```
/// glo / ded (service-specific):  tag' ‖ len ‖ SC ‖ IC(4) ‖ payload            tag' = glo or ded form of the tag
/// general-glo / general-ded:     DB|DC ‖ len ‖ system-title(8) ‖ len ‖ SC ‖ IC(4) ‖ payload
/// general-signing:               DF ‖ transaction-id ‖ originator-system-title ‖ recipient-system-title ‖
///                                date-time ‖ other-information ‖ content ‖ signature   (all length-prefixed)
/// ```
/// payload = ciphertext ‖ tag(12) (A+E), plaintext ‖ tag (A), ciphertext (E), per the security control byte
/// (IEC 62056-5-3 §5.3.3, `DLMSCipher`). For general-signing the content is the APDU given (already protected or
/// not) and the signature is ECDSA over transaction-id … other-information ‖ content without the content's
/// length prefix, as Gurux.NET `GXDLMS.cs` (GetGeneralCiphering / signedData) computes it.
public enum Protection {
    public enum Kind: String, Sendable, CaseIterable {
        case glo
        case ded
        case generalGlo = "general-glo"
        case generalDed = "general-ded"
        case generalSigning = "general-signing"
    }

    /// The keys protection may use. Never printed (`SecretKey` redacts itself).
    public struct Keys: Sendable {
        /// GUEK (glo, general-glo), dedicated key (ded, general-ded) or GBEK, chosen by the caller.
        public var encryptionKey: SecretKey?
        public var authenticationKey: SecretKey?
        public var signingKey: ECPrivateKey?

        public init(encryptionKey: SecretKey? = nil, authenticationKey: SecretKey? = nil,
                    signingKey: ECPrivateKey? = nil) {
            self.encryptionKey = encryptionKey
            self.authenticationKey = authenticationKey
            self.signingKey = signingKey
        }
    }

    public struct ProtectError: Error, Sendable, Hashable, CustomStringConvertible {
        public var code: String
        public var message: String
        public init(_ code: String, _ message: String) {
            self.code = code
            self.message = message
        }
        public var description: String { "\(code): \(message)" }
    }

    /// The glo- or ded- service-specific tag for a plaintext APDU tag (Green Book: glo = tag + 8 for the LN
    /// services C0…C7, + 32 for the initiate/SN family; ded = C0…C7 + 16, family + 64).
    public static func serviceCipheredTag(for tag: UInt8, dedicated: Bool) -> UInt8? {
        switch tag {
        case 0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC7: return tag + (dedicated ? 0x10 : 0x08)
        case 0x01, 0x05, 0x06, 0x08, 0x0C, 0x0D, 0x0E, 0x16, 0x18: return tag + (dedicated ? 0x40 : 0x20)
        default: return nil
        }
    }

    /// Protects `apdu`. `systemTitle` is the sender's (8 bytes); for general-signing it is the originator.
    public static func protect(
        apdu: [UInt8], kind: Kind, securityControl: UInt8, invocationCounter: UInt32, systemTitle: [UInt8],
        keys: Keys, recipientSystemTitle: [UInt8] = [], transactionID: [UInt8] = [], dateTime: [UInt8] = [],
        otherInformation: [UInt8] = []
    ) throws(ProtectError) -> [UInt8] {
        guard let first = apdu.first else { throw ProtectError("protect.empty", "there is no APDU to protect") }
        if kind == .generalSigning {
            return try sign(content: apdu, originator: systemTitle, recipient: recipientSystemTitle,
                            transactionID: transactionID, dateTime: dateTime, otherInformation: otherInformation,
                            key: keys.signingKey)
        }
        guard systemTitle.count == 8 else {
            throw ProtectError("protect.system-title", "the system title has \(systemTitle.count) bytes, not 8")
        }
        guard let ek = keys.encryptionKey else {
            throw ProtectError("protect.no-key", "no encryption key for \(kind.rawValue)")
        }
        let sc = SecurityControl(rawValue: securityControl)
        if sc.isAuthenticated, keys.authenticationKey == nil {
            throw ProtectError("protect.no-key", "security control 0x\(Hex.encode([securityControl])) needs an "
                               + "authentication key")
        }
        guard let payload = DLMSCipher.protect(
            securityControl: sc, systemTitle: systemTitle, invocationCounter: invocationCounter, plaintext: apdu,
            encryptionKey: ek, authenticationKey: keys.authenticationKey)
        else {
            throw ProtectError("protect.unsupported", "security control 0x\(Hex.encode([securityControl])) cannot be "
                               + "applied with this key (compression, undefined suite or key length)")
        }
        var secured: [UInt8] = [securityControl]
        XMLValue.append(invocationCounter, to: &secured)
        secured += payload
        var out: [UInt8] = []
        switch kind {
        case .glo, .ded:
            guard let tag = serviceCipheredTag(for: first, dedicated: kind == .ded) else {
                throw ProtectError("protect.no-service-tag", "APDU tag 0x\(Hex.encode([first])) has no "
                                   + "\(kind.rawValue)- form; use general-\(kind.rawValue)")
            }
            out.append(tag)
        case .generalGlo, .generalDed:
            out.append(kind == .generalGlo ? 0xDB : 0xDC)
            XMLValue.appendLength(systemTitle.count, to: &out)
            out += systemTitle
        case .generalSigning:
            break
        }
        XMLValue.appendLength(secured.count, to: &out)
        return out + secured
    }

    /// The bytes general-signing signs: the fields after the DF tag, with the content's own length prefix left
    /// out (Gurux.NET `GXDLMS.cs`: "Content length is not add for the signed data").
    public static func signedData(content: [UInt8], originator: [UInt8], recipient: [UInt8], transactionID: [UInt8],
                                  dateTime: [UInt8], otherInformation: [UInt8]) -> [UInt8] {
        var d: [UInt8] = []
        for field in [transactionID, originator, recipient, dateTime, otherInformation] {
            XMLValue.appendLength(field.count, to: &d)
            d += field
        }
        return d + content
    }

    static func sign(content: [UInt8], originator: [UInt8], recipient: [UInt8], transactionID: [UInt8],
                     dateTime: [UInt8], otherInformation: [UInt8], key: ECPrivateKey?) throws(ProtectError)
        -> [UInt8]
    {
        guard let key else { throw ProtectError("protect.no-key", "general-signing needs a signing private key") }
        let signed = signedData(content: content, originator: originator, recipient: recipient,
                                transactionID: transactionID, dateTime: dateTime, otherInformation: otherInformation)
        guard let signature = ECDSA.sign(message: signed, privateKey: key) else {
            throw ProtectError("protect.sign", "ECDSA signing failed")
        }
        var out: [UInt8] = [0xDF]
        let fieldsEnd = signed.count - content.count
        out += signed[0..<fieldsEnd]
        XMLValue.appendLength(content.count, to: &out)
        out += content
        XMLValue.appendLength(signature.count, to: &out)
        out += signature
        return out
    }
}
