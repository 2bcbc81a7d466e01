/// Why a keyring (or a `--key` option) could not be loaded. The message names the file, the entry (index and
/// label) and the field; it never contains key material, not even a fragment of a bad value.
public struct KeyringError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The file cannot be opened or read, or is too large.
        case unreadable = "keyring.unreadable"
        /// Not JSON, or not a JSON object at the top.
        case invalidJSON = "keyring.invalid-json"
        /// No `keys` array.
        case missingKeys = "keyring.missing-keys"
        /// An entry that is not an object.
        case invalidEntry = "keyring.invalid-entry"
        /// A field of the wrong JSON type.
        case wrongType = "keyring.wrong-type"
        /// Not hex, or hex of the wrong length for its role.
        case badKey = "keyring.bad-key"
        /// A system title that is not 8 bytes of hex.
        case badSystemTitle = "keyring.bad-system-title"
        /// A suite other than 0, 1, 2.
        case badSuite = "keyring.bad-suite"
        /// A public or private EC key that does not parse (PEM or hex), or is not on P-256/P-384.
        case badECKey = "keyring.bad-ec-key"
        /// A `--key role=HEX` option that is not of that form, or names an unknown role.
        case badOption = "keyring.bad-option"
    }

    public var code: Code
    /// The file, when the error comes from one.
    public var file: String?
    /// 0-based index of the entry in `keys`.
    public var entryIndex: Int?
    public var entryLabel: String?
    public var field: String?
    /// Free text without key material.
    public var reason: String

    public init(_ code: Code, file: String? = nil, entryIndex: Int? = nil, entryLabel: String? = nil,
                field: String? = nil, reason: String) {
        self.code = code
        self.file = file
        self.entryIndex = entryIndex
        self.entryLabel = entryLabel
        self.field = field
        self.reason = reason
    }

    public var description: String {
        var s = "keyring"
        if let file { s += " \(file)" }
        if let entryIndex {
            s += ", entry \(entryIndex)"
            if let entryLabel { s += " (\"\(entryLabel)\")" }
        }
        if let field { s += ", field \"\(field)\"" }
        return s + ": " + reason + " [\(code.rawValue)]"
    }

    /// Equal by code, as `DecodeError` and swift-asn1's `ASN1Error` are.
    public static func == (a: KeyringError, b: KeyringError) -> Bool { a.code == b.code }
}

/// Something worth telling the user about a keyring that still loaded.
public struct KeyringWarning: Sendable, Hashable, CustomStringConvertible {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "warning: \(message) [\(code)]" }
}
