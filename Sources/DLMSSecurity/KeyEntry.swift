import DLMSWire

/// The symmetric key roles of DLMS (IEC 62056-5-3 §9.2.3; Security setup key_id 0–3 plus the dedicated key).
public enum KeyRole: String, Sendable, Hashable, CaseIterable {
    /// Global unicast encryption key (block cipher key).
    case guek
    /// Global broadcast encryption key.
    case gbek
    /// Authentication key.
    case ak
    /// Key-encryption key (master key).
    case kek
    /// Dedicated key of one association (carried in the xDLMS-InitiateRequest).
    case dedicated
}

/// The keys of one party (a meter, a client, or "any party" when `systemTitle` is nil).
///
/// ```json
/// {"label": "meter 17", "system_title": "4D4D4D0000BC614E", "suite": 0,
///  "guek": "hex16|32", "gbek": "…", "ak": "…", "kek": "…", "dedicated": "…",
///  "password": "LLS password / HLS secret",
///  "signing_public_key": "PEM or hex point", "signing_private_key": "PEM or hex scalar",
///  "agreement_public_key": "…", "agreement_private_key": "…"}
/// ```
///
/// Its description lists which keys are present, never their bytes.
public struct KeyEntry: Sendable, CustomStringConvertible {
    public var label: String?
    /// 8 bytes, or nil for keys that apply to any party.
    public var systemTitle: [UInt8]?
    /// Security suite 0, 1 or 2, when the keyring states it.
    public var suite: UInt8?
    public var guek: SecretKey?
    public var gbek: SecretKey?
    public var ak: SecretKey?
    public var kek: SecretKey?
    public var dedicated: SecretKey?
    /// The LLS password, also the HLS secret of mechanisms 2–4 and 6 (UTF-8 bytes).
    public var password: SecretKey?
    public var signingPublicKey: ECPublicKey?
    public var signingPrivateKey: ECPrivateKey?
    public var agreementPublicKey: ECPublicKey?
    public var agreementPrivateKey: ECPrivateKey?
    /// Where the entry came from (file path, `--key`), for messages.
    public var origin: String?

    public init(label: String? = nil, systemTitle: [UInt8]? = nil, suite: UInt8? = nil) {
        self.label = label
        self.systemTitle = systemTitle
        self.suite = suite
    }

    public subscript(role: KeyRole) -> SecretKey? {
        get {
            switch role {
            case .guek: return guek
            case .gbek: return gbek
            case .ak: return ak
            case .kek: return kek
            case .dedicated: return dedicated
            }
        }
        set {
            switch role {
            case .guek: guek = newValue
            case .gbek: gbek = newValue
            case .ak: ak = newValue
            case .kek: kek = newValue
            case .dedicated: dedicated = newValue
            }
        }
    }

    /// This entry with every field that `other` sets taken from `other`.
    public func merging(_ other: KeyEntry) -> KeyEntry {
        var e = self
        e.label = other.label ?? label
        e.systemTitle = other.systemTitle ?? systemTitle
        e.suite = other.suite ?? suite
        for role in KeyRole.allCases where other[role] != nil { e[role] = other[role] }
        e.password = other.password ?? password
        e.signingPublicKey = other.signingPublicKey ?? signingPublicKey
        e.signingPrivateKey = other.signingPrivateKey ?? signingPrivateKey
        e.agreementPublicKey = other.agreementPublicKey ?? agreementPublicKey
        e.agreementPrivateKey = other.agreementPrivateKey ?? agreementPrivateKey
        e.origin = other.origin ?? origin
        return e
    }

    /// Names of the keys present, e.g. `["guek", "ak", "signing_public_key"]`.
    public var presentKeys: [String] {
        var names = KeyRole.allCases.filter { self[$0] != nil }.map(\.rawValue)
        if password != nil { names.append("password") }
        if signingPublicKey != nil { names.append("signing_public_key") }
        if signingPrivateKey != nil { names.append("signing_private_key") }
        if agreementPublicKey != nil { names.append("agreement_public_key") }
        if agreementPrivateKey != nil { names.append("agreement_private_key") }
        return names
    }

    public var description: String {
        var s = "KeyEntry("
        if let label { s += "\"\(label)\", " }
        s += systemTitle.map { "system title \(Hex.encode($0, uppercase: true))" } ?? "any system title"
        if let suite { s += ", suite \(suite)" }
        s += ", keys: " + (presentKeys.isEmpty ? "none" : presentKeys.joined(separator: " "))
        return s + ")"
    }
}
