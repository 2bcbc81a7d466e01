import DLMSAPDU
import DLMSSecurity
import DLMSWire

/// What one association knows about its protection: the parties' system titles and the keys learned from the
/// capture (the dedicated key of the ciphered InitiateRequest, keys set by key_transfer). Never rendered.
public struct AssociationSecurity: Sendable {
    public var clientSystemTitle: [UInt8]?
    public var serverSystemTitle: [UInt8]?
    /// The dedicated key carried by the client's InitiateRequest; forgotten at release.
    public var dedicatedKey: SecretKey?
    /// Keys learned through Security setup key_transfer, by role, for the server's system title.
    public var transferredKeys: [KeyRole: SecretKey] = [:]
    /// Authentication mechanism of the association (the AARQ's/AARE's mechanism name, last arc).
    public var mechanism: Int?
    /// The AARQ's calling-authentication-value (CtoS) and the AARE's responding one (StoC): the HLS challenges.
    public var clientChallenge: [UInt8]?
    public var serverChallenge: [UInt8]?
    /// The invoke-id of the client's reply_to_HLS_authentication, until the server's response arrives.
    public var pendingHLSInvokeID: UInt32?
    /// Keys of a key_transfer request, applied once its response has passed (the request and its response use
    /// the old keys; security-layouts.md §7).
    public var pendingTransfer: [KeyRole: SecretKey] = [:]
    public var pendingTransferInvokeID: UInt32?
    public init() {}

    /// Forgets what belongs to the association (the dedicated key); system titles stay as identities.
    public mutating func release() {
        dedicatedKey = nil
        clientChallenge = nil
        serverChallenge = nil
        pendingHLSInvokeID = nil
        mechanism = nil
    }
}

/// Removes protection layers: picks the key for each protected APDU (keyring entries for the system titles
/// involved, entries without a system title, keys learned in the association), tries the candidates, and names the
/// one that verified. Mechanics (AES-GCM, ...) are DLMSSecurity's; this is the policy.
public final class SecurityEngine {
    public let keyring: Keyring
    let cipher: DLMSCipher?
    let decodeOptions: DecodeOptions
    /// Deepest nesting of protection layers followed.
    static let maximumLayers = 4

    public init(keyring: Keyring, decodeOptions: DecodeOptions = .init()) {
        self.keyring = keyring
        self.cipher = DLMSCipher()
        self.decodeOptions = decodeOptions
    }

    /// A candidate key for one APDU.
    struct Candidate {
        var systemTitle: [UInt8]
        var encryptionKey: SecretKey
        var authenticationKey: SecretKey?
        var role: String
        var label: String?
    }

    /// Unprotects `p` (the header of a protected APDU travelling in `direction`); returns the verdict, and the
    /// decrypted inner APDU (decoded, with further layers removed) when it could be recovered and was not proven
    /// false.
    public func unprotect(_ p: ProtectionFacts, direction: Direction?, association: inout AssociationSecurity,
                          depth: Int = 0) -> SecurityResult {
        var result = SecurityResult(
            protection: p.kind, securityControl: p.securityControl, suite: p.suite, authenticated: p.authenticated,
            encrypted: p.encrypted, broadcast: p.broadcast, compressed: p.compressed, systemTitle: nil,
            invocationCounter: p.invocationCounter, key: nil, verdict: "no-key")
        // The system title of the IV: carried by general-* headers, otherwise the sender's (AARQ calling-AP-title
        // for the client, AARE responding-AP-title for the server).
        let senderTitle: [UInt8]? = p.systemTitle ?? (direction == .clientToServer ? association.clientSystemTitle
            : direction == .serverToClient ? association.serverSystemTitle : nil)
        result.systemTitle = senderTitle
        if p.compressed {
            result.verdict = "unsupported"
            result.detail = "V.44 compression (security control bit 7) is not supported"
            return result
        }
        switch p.kind {
        case "glo-ciphering", "ded-ciphering", "general-glo-ciphering", "general-ded-ciphering":
            break
        case "general-ciphering":
            return generalCiphering(p, result: result, direction: direction, association: &association, depth: depth)
        case "general-signing":
            return generalSigning(p, result: result, direction: direction, association: &association, depth: depth)
        default:
            result.verdict = "unsupported"
            result.detail = "\(p.kind) is not decrypted yet"
            return result
        }
        guard let cipher else {
            result.verdict = "unsupported"
            result.detail = "the AES-GCM context could not be created"
            return result
        }
        let candidates = self.candidates(for: p, senderTitle: senderTitle, association: association)
        guard !candidates.isEmpty else {
            result.detail = keyDescription(p, senderTitle: senderTitle) + ": no key in the keyring"
            return result
        }
        let sc = SecurityControl(rawValue: p.securityControl)
        var fallback: (Candidate, [UInt8], String)?
        var tried = 0
        for c in candidates {
            tried += 1
            let outcome = cipher.unprotect(securityControl: sc, systemTitle: c.systemTitle,
                                           invocationCounter: p.invocationCounter, payload: p.payload[...],
                                           encryptionKey: c.encryptionKey, authenticationKey: c.authenticationKey)
            switch outcome {
            case .verified(let plain):
                return finish(result, candidate: c, plain: plain, verdict: "verified", tried: tried,
                              association: &association, depth: depth, direction: direction)
            case .decryptedUnverified(let plain, let why):
                // Without a tag the only check of a key is whether the plaintext makes sense as an APDU.
                let decoded = APDUDecoder.decode(plain[...], options: decodeOptions)
                if decoded.errors.isEmpty && decoded.type != "unknown" {
                    if fallback == nil { fallback = (c, plain, why.rawValue) }
                }
            case .authenticationFailed, .malformed, .unsupported:
                continue
            }
        }
        if let (c, plain, why) = fallback {
            var r = finish(result, candidate: c, plain: plain, verdict: "decrypted-unverified", tried: tried,
                           association: &association, depth: depth, direction: direction)
            r.detail = (r.detail ?? "") + "; not authenticated: " + why
            return r
        }
        if sc.isAuthenticated {
            result.verdict = "authentication-failed"
            result.key = candidates.first?.role
            result.detail = "the tag verified with none of \(candidates.count) candidate key(s) for "
                + keyDescription(p, senderTitle: senderTitle)
        } else {
            result.verdict = "no-key"
            result.detail = "no candidate key gave a decodable plaintext"
        }
        return result
    }

    func finish(_ r0: SecurityResult, candidate c: Candidate, plain: [UInt8], verdict: String, tried: Int,
                association: inout AssociationSecurity, depth: Int, direction: Direction?,
                detail detailOverride: String? = nil) -> SecurityResult {
        var r = r0
        r.verdict = verdict
        r.key = c.role
        r.systemTitle = c.systemTitle
        var detail = "key \(c.role)"
        if let l = c.label { detail += " of \"\(l)\"" }
        if r0.systemTitle == nil { detail += ", IV system title " + Hex.encode(c.systemTitle, uppercase: true) }
        if tried > 1 { detail += " (candidate \(tried))" }
        r.detail = detailOverride ?? detail
        r.plain = plain
        let decoded = APDUDecoder.decode(plain[...], options: decodeOptions)
        r.plainDecoded = decoded
        if !decodeOptions.showSecrets { r.plainRedactions = Secrets.ranges(in: plain, facts: decoded.facts) }
        // Key learning: the dedicated key of a ciphered InitiateRequest serves the ded-* APDUs of the association.
        if let k = decoded.facts.association?.initiate?.dedicatedKey {
            association.dedicatedKey = SecretKey(k)
            r.learned.append("dedicated key learned from the InitiateRequest (client system title "
                             + Hex.encode(association.clientSystemTitle ?? c.systemTitle, uppercase: true) + ")")
        }
        if let inner = decoded.facts.protection, depth < Self.maximumLayers {
            r.inner = [unprotect(inner, direction: direction, association: &association, depth: depth + 1)]
        }
        return r
    }

    func keyDescription(_ p: ProtectionFacts, senderTitle: [UInt8]?) -> String {
        let role = Self.role(for: p)
        let st = senderTitle.map { "system title " + Hex.encode($0, uppercase: true) } ?? "an unknown system title"
        return "\(role) of \(st)"
    }

    static func role(for p: ProtectionFacts) -> KeyRole {
        if p.kind == "ded-ciphering" || p.kind == "general-ded-ciphering" { return .dedicated }
        return p.broadcast ? .gbek : .guek
    }

    /// The keys to try, most specific first: entries for the sender's system title, for the other party's, then
    /// entries without a system title; a learned dedicated key first for ded-*. When the sender's system title is
    /// unknown, every keyring system title (and the association's) is tried as the IV's.
    func candidates(for p: ProtectionFacts, senderTitle: [UInt8]?, association: AssociationSecurity) -> [Candidate] {
        let role = Self.role(for: p)
        var titles: [[UInt8]] = []
        if let s = senderTitle {
            titles = [s]
        } else {
            for t in [association.clientSystemTitle, association.serverSystemTitle].compactMap({ $0 })
            where !titles.contains(t) { titles.append(t) }
            for e in keyring.entries { if let t = e.systemTitle, !titles.contains(t) { titles.append(t) } }
        }
        let partyTitles = [senderTitle, association.clientSystemTitle, association.serverSystemTitle].compactMap { $0 }
        var entries: [KeyEntry] = []
        for t in partyTitles { entries += keyring.entries(forSystemTitle: t) }
        for e in keyring.entries where e.systemTitle != nil && !partyTitles.contains(e.systemTitle ?? []) {
            // Unknown sender: any entry may be the one.
            if senderTitle == nil { entries.append(e) }
        }
        entries += keyring.entriesWithoutSystemTitle
        var out: [Candidate] = []
        func add(_ st: [UInt8], _ ek: SecretKey, _ ak: SecretKey?, _ roleName: String, _ label: String?) {
            // One try per distinct key/IV pair: identical keys in two entries are tried once.
            guard !out.contains(where: { $0.systemTitle == st && $0.encryptionKey == ek
                && $0.authenticationKey == ak }) else { return }
            out.append(Candidate(systemTitle: st, encryptionKey: ek, authenticationKey: ak, role: roleName,
                                 label: label))
        }
        for st in titles {
            if role == .dedicated, let k = association.dedicatedKey {
                let ak = entries.first { $0.ak != nil }?.ak
                add(st, k, ak, "dedicated", "learned from the InitiateRequest")
            }
            for e in entries {
                if let ek = e[role] { add(st, ek, e.ak, role.rawValue, e.label) }
            }
            // Keys set by key_transfer in this capture (after the keyring's: the request and its response still
            // use the old keys).
            let transferredAK = association.transferredKeys[.ak]
            if let ak = transferredAK {
                for e in entries { if let ek = e[role] { add(st, ek, ak, role.rawValue, "key_transfer (ak)") } }
            }
            if let k = association.transferredKeys[role] {
                add(st, k, transferredAK ?? entries.first { $0.ak != nil }?.ak, role.rawValue, "key_transfer")
            }
            // A key_transfer whose response was not seen: its keys are the last resort.
            if let k = association.pendingTransfer[role] {
                add(st, k, association.pendingTransfer[.ak] ?? transferredAK ?? entries.first { $0.ak != nil }?.ak,
                    role.rawValue, "key_transfer (response not seen)")
            }
        }
        return out
    }
}
