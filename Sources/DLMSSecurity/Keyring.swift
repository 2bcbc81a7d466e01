import DLMSWire
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The keys dlmsdump may use, loaded from JSON files and `--key role=HEX` options.
///
/// ```json
/// {"keys": [{"label": "…", "system_title": "4D4D4D0000BC614E", "suite": 0, "guek": "…", "ak": "…", …}]}
/// ```
///
/// Every field but `keys` is optional (see `KeyEntry` for the fields). Keys are hex (16 or 32 bytes, spaces or
/// colons allowed); EC keys are PEM or hex. A file in the capture generator's format (`capgen-keyring/1`, see
/// Captures/gurux/README.md) is accepted too and converted as `tools/keyring.py` does: one entry per party.
///
/// Errors name file, entry and field and never contain key material (`KeyringError`). Findings that do not
/// stop loading (a file readable by group or others, an unknown field) are in `warnings`.
public struct Keyring: Sendable {
    public var entries: [KeyEntry]
    public var warnings: [KeyringWarning]

    public init(entries: [KeyEntry] = [], warnings: [KeyringWarning] = []) {
        self.entries = entries
        self.warnings = warnings
    }

    /// Largest keyring file read (a keyring is small; this bounds memory on a wrong path such as a capture).
    public static let maximumFileSize = 4 << 20

    // MARK: - Lookup

    /// Entries for exactly this system title.
    public func entries(forSystemTitle systemTitle: some Collection<UInt8>) -> [KeyEntry] {
        let st = Array(systemTitle)
        return entries.filter { $0.systemTitle == st }
    }

    /// Entries that apply to any party (no system title).
    public var entriesWithoutSystemTitle: [KeyEntry] { entries.filter { $0.systemTitle == nil } }

    /// The entries to try for a party: those for its system title first, then those without one.
    public func candidates(forSystemTitle systemTitle: some Collection<UInt8>) -> [KeyEntry] {
        entries(forSystemTitle: systemTitle) + entriesWithoutSystemTitle
    }

    public var isEmpty: Bool { entries.isEmpty }

    // MARK: - Merge

    /// Adds `other`'s entries: an entry whose system title (or, without one, whose label) matches an existing
    /// entry fills in and overrides that entry's fields; others are appended. Warnings are concatenated.
    public mutating func merge(_ other: Keyring) {
        for e in other.entries {
            if let i = entries.firstIndex(where: { Self.sameParty($0, e) }) {
                entries[i] = entries[i].merging(e)
            } else {
                entries.append(e)
            }
        }
        warnings += other.warnings
    }

    public func merged(with other: Keyring) -> Keyring {
        var k = self
        k.merge(other)
        return k
    }

    private static func sameParty(_ a: KeyEntry, _ b: KeyEntry) -> Bool {
        if let sa = a.systemTitle, let sb = b.systemTitle { return sa == sb }
        if a.systemTitle == nil, b.systemTitle == nil { return a.label == b.label }
        return false
    }

    // MARK: - Command-line keys

    /// Parses `role=HEX` as given to `--key` (`guek=000102…`, also `password=TEXT`). The error never repeats
    /// the value.
    public static func parseKeyOption(_ text: String) throws(KeyringError) -> (role: String, entry: KeyEntry) {
        guard let eq = text.firstIndex(of: "=") else {
            throw KeyringError(.badOption, reason: "expected ROLE=HEX, e.g. guek=000102…0F (roles: "
                + KeyRole.allCases.map(\.rawValue).joined(separator: ", ") + ", password)")
        }
        let name = text[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
        let value = String(text[text.index(after: eq)...])
        var entry = KeyEntry(label: "--key \(name)")
        entry.origin = "--key"
        if name == "password" {
            entry.password = SecretKey(Array(value.utf8))
            return (name, entry)
        }
        guard let role = KeyRole(rawValue: name) else {
            throw KeyringError(.badOption, field: name, reason: "unknown key role (roles: "
                + KeyRole.allCases.map(\.rawValue).joined(separator: ", ") + ", password)")
        }
        entry[role] = try symmetricKey(value, field: name, context: ErrorContext(file: "--key"))
        return (name, entry)
    }

    /// Parses several `--key` options into one keyring with a single entry without system title.
    public static func fromKeyOptions(_ options: [String]) throws(KeyringError) -> Keyring {
        guard !options.isEmpty else { return Keyring() }
        var entry = KeyEntry(label: "--key")
        entry.origin = "--key"
        for o in options {
            let (_, e) = try parseKeyOption(o)
            entry = entry.merging(e)
        }
        entry.label = "--key"
        return Keyring(entries: [entry])
    }

    // MARK: - Loading

    /// Loads a keyring file. Warns (does not fail) when the file is readable or writable by group or others.
    public static func load(path: String) throws(KeyringError) -> Keyring {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw KeyringError(.unreadable, file: path, reason: "cannot stat the file (errno \(errno))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw KeyringError(.unreadable, file: path, reason: "not a regular file")
        }
        guard st.st_size <= maximumFileSize else {
            throw KeyringError(.unreadable, file: path, reason: "larger than \(maximumFileSize) bytes")
        }
        var warnings: [KeyringWarning] = []
        let mode = st.st_mode & 0o777
        if mode & 0o077 != 0 {
            warnings.append(KeyringWarning(code: "keyring.permissions",
                message: "keyring \(path) is accessible by group or others (mode \(String(mode, radix: 8))); "
                    + "run chmod 600 on it"))
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw KeyringError(.unreadable, file: path, reason: "cannot read the file")
        }
        var k = try parse(data, source: path)
        k.warnings = warnings + k.warnings
        return k
    }

    /// Parses keyring JSON; `source` names it in errors and warnings.
    public static func parse(_ data: Data, source: String? = nil) throws(KeyringError) -> Keyring {
        let top: Any
        do {
            top = try JSONSerialization.jsonObject(with: data)
        } catch {
            // The parser's message may quote the text, which can be key material: do not pass it on.
            throw KeyringError(.invalidJSON, file: source, reason: "not valid JSON")
        }
        guard var object = top as? [String: Any] else {
            throw KeyringError(.invalidJSON, file: source, reason: "the top level is not a JSON object")
        }
        if let schema = object["schema"] as? String, schema.hasPrefix("capgen-keyring/") {
            object = convertCapgen(object)
        }
        guard let rawEntries = object["keys"] else {
            throw KeyringError(.missingKeys, file: source, reason: "no \"keys\" array")
        }
        guard let list = rawEntries as? [Any] else {
            throw KeyringError(.missingKeys, file: source, field: "keys", reason: "\"keys\" is not an array")
        }
        var keyring = Keyring()
        for (i, raw) in list.enumerated() {
            guard let dict = raw as? [String: Any] else {
                throw KeyringError(.invalidEntry, file: source, entryIndex: i, reason: "the entry is not an object")
            }
            let label = dict["label"] as? String
            let context = ErrorContext(file: source, index: i, label: label)
            var (entry, warnings) = try parseEntry(dict, context: context)
            entry.origin = source
            if let st = entry.systemTitle,
                let j = keyring.entries.firstIndex(where: { $0.systemTitle == st })
            {
                warnings.append(KeyringWarning(code: "keyring.duplicate-system-title",
                    message: context.error(.invalidEntry, "system_title",
                        "same system title as entry \(j); both are tried, this one second").description))
            }
            keyring.entries.append(entry)
            keyring.warnings += warnings
        }
        return keyring
    }

    // MARK: - Entries

    struct ErrorContext {
        var file: String?
        var index: Int?
        var label: String?

        func error(_ code: KeyringError.Code, _ field: String?, _ reason: String) -> KeyringError {
            KeyringError(code, file: file, entryIndex: index, entryLabel: label, field: field, reason: reason)
        }
    }

    static let knownFields: Set<String> = [
        "label", "system_title", "suite", "guek", "gbek", "ak", "kek", "dedicated", "password",
        "signing_public_key", "signing_private_key", "agreement_public_key", "agreement_private_key", "comment",
    ]

    static func parseEntry(_ d: [String: Any], context c: ErrorContext) throws(KeyringError)
        -> (KeyEntry, [KeyringWarning]) {
        var e = KeyEntry()
        var warnings: [KeyringWarning] = []
        for name in d.keys.sorted() where !knownFields.contains(name) {
            warnings.append(KeyringWarning(code: "keyring.unknown-field",
                message: c.error(.invalidEntry, name, "unknown field ignored").description))
        }
        if let v = d["label"], !(v is NSNull) {
            guard let s = v as? String else { throw c.error(.wrongType, "label", "must be a string") }
            e.label = s
        }
        if let s = try string(d, "system_title", c) {
            guard let b = Hex.decode(s.trimmingASCIIWhitespace()), b.count == 8 else {
                throw c.error(.badSystemTitle, "system_title", "must be 8 bytes of hex")
            }
            e.systemTitle = b
        }
        if let v = d["suite"], !(v is NSNull) {
            guard let n = v as? Int, (0...2).contains(n) else {
                throw c.error(.badSuite, "suite", "must be 0, 1 or 2")
            }
            e.suite = UInt8(n)
        }
        for role in KeyRole.allCases {
            if let s = try string(d, role.rawValue, c) {
                e[role] = try symmetricKey(s, field: role.rawValue, context: c)
            }
        }
        if let suite = e.suite {
            // Suite 2 uses AES-256 (32-byte keys), suites 0 and 1 AES-128 (IEC 62056-5-3 §9.2.3.4).
            let expected = suite == 2 ? 32 : 16
            for role in [KeyRole.guek, .gbek, .dedicated] {
                if let k = e[role], k.count != expected {
                    warnings.append(KeyringWarning(code: "keyring.suite-key-length",
                        message: c.error(.badKey, role.rawValue,
                            "\(k.count)-byte key for suite \(suite), which uses \(expected)-byte keys").description))
                }
            }
        }
        if let s = try string(d, "password", c) { e.password = SecretKey(Array(s.utf8)) }
        if let s = try string(d, "signing_public_key", c) {
            e.signingPublicKey = try publicKey(s, field: "signing_public_key", context: c)
        }
        if let s = try string(d, "agreement_public_key", c) {
            e.agreementPublicKey = try publicKey(s, field: "agreement_public_key", context: c)
        }
        if let s = try string(d, "signing_private_key", c) {
            e.signingPrivateKey = try privateKey(s, field: "signing_private_key", context: c)
        }
        if let s = try string(d, "agreement_private_key", c) {
            e.agreementPrivateKey = try privateKey(s, field: "agreement_private_key", context: c)
        }
        return (e, warnings)
    }

    /// A string field; nil when absent or JSON null.
    static func string(_ d: [String: Any], _ field: String, _ c: ErrorContext) throws(KeyringError) -> String? {
        guard let v = d[field], !(v is NSNull) else { return nil }
        guard let s = v as? String else { throw c.error(.wrongType, field, "must be a string") }
        return s
    }

    static func symmetricKey(_ text: String, field: String, context c: ErrorContext) throws(KeyringError)
        -> SecretKey {
        guard var b = Hex.decode(text.trimmingASCIIWhitespace()) else {
            throw c.error(.badKey, field, "is not hex (digits 0-9 A-F, optionally separated by spaces)")
        }
        defer { wipe(&b) }
        guard b.count == 16 || b.count == 32 else {
            throw c.error(.badKey, field, "must be 16 or 32 bytes, got \(b.count)")
        }
        return SecretKey(b)
    }

    static func publicKey(_ text: String, field: String, context c: ErrorContext) throws(KeyringError)
        -> ECPublicKey {
        guard let k = ECPublicKey(text: text) else {
            throw c.error(.badECKey, field,
                "not a P-256/P-384 public key (PEM SubjectPublicKeyInfo, or hex 04‖X‖Y or X‖Y on the curve)")
        }
        return k
    }

    static func privateKey(_ text: String, field: String, context c: ErrorContext) throws(KeyringError)
        -> ECPrivateKey {
        guard let k = ECPrivateKey(text: text) else {
            throw c.error(.badECKey, field,
                "not a P-256/P-384 private key (unencrypted PEM PKCS#8 or SEC1, or a hex scalar of 32 or 48 bytes)")
        }
        return k
    }

    // MARK: - capgen-keyring/1

    /// Converts the capture generator's keyring into ours, as `tools/keyring.py` does (plus the parties'
    /// private signing keys and the password).
    static func convertCapgen(_ capgen: [String: Any]) -> [String: Any] {
        let keys = capgen["keys"] as? [String: Any] ?? [:]
        var shared: [String: Any] = [:]
        for role in KeyRole.allCases {
            if let v = keys[role.rawValue] as? String { shared[role.rawValue] = v }
        }
        if let p = capgen["password"] as? String { shared["password"] = p }
        let scenario = capgen["scenario"] as? String ?? "capture"
        var out: [[String: Any]] = []
        for party in ["server", "client"] {
            guard let p = capgen[party] as? [String: Any], let st = p["system_title"] as? String else { continue }
            var e = shared
            e["label"] = "\(scenario) \(party)"
            e["system_title"] = st
            if let suite = capgen["security_suite"] { e["suite"] = suite }
            if let pub = p["signing_public_key_pem"] as? String { e["signing_public_key"] = pub }
            if let priv = p["signing_private_key_pem"] as? String { e["signing_private_key"] = priv }
            out.append(e)
        }
        if out.isEmpty {
            var e = shared
            e["label"] = "any"
            out.append(e)
        }
        return ["keys": out]
    }
}
