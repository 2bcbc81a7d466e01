import DLMSAPDU
import DLMSSecurity
import DLMSWire

// general-ciphering (0xDD) and general-signing (0xDF): IEC 62056-5-3 §9.2.7.2.4–5, security-layouts.md §3–6.
// The mechanics (AES-GCM under both AAD layouts, AES key wrap, ECDH and its KDF, ECDSA) are DLMSSecurity's; this
// picks the keys from the keyring for the system titles the header carries and names what verified.
extension SecurityEngine {
    /// One encryption key to try on a general-ciphering APDU, with where it came from.
    struct GeneralKey {
        var key: SecretKey
        /// `guek`, `gbek`, `dedicated`, `wrapped`, `agreed`.
        var role: String
        /// Human text for `detail` (entry label, KDF variant, signature check), never key bytes.
        var origin: String
    }

    /// Keyring entries that apply to a general-* APDU: the originator's, the recipient's, the association's
    /// parties', then the entries without a system title.
    func generalEntries(_ p: ProtectionFacts, association: AssociationSecurity) -> [KeyEntry] {
        var titles: [[UInt8]] = []
        for t in [p.originatorSystemTitle, p.recipientSystemTitle, association.clientSystemTitle,
                  association.serverSystemTitle] {
            if let t, t.count == 8, !titles.contains(t) { titles.append(t) }
        }
        var out: [KeyEntry] = []
        for t in titles { out += keyring.entries(forSystemTitle: t) }
        out += keyring.entriesWithoutSystemTitle
        return out
    }

    static func label(_ e: KeyEntry) -> String {
        if let l = e.label { return "\"\(l)\"" }
        if let st = e.systemTitle { return "the entry for " + Hex.encode(st, uppercase: true) }
        return "the entry without system title"
    }

    /// general-ciphering: the key named by key-info (identified, wrapped with the KEK, agreed by ECDH), then
    /// AES-GCM with IV = originator system title ‖ IC under both AAD layouts.
    func generalCiphering(_ p: ProtectionFacts, result r0: SecurityResult, direction: Direction?,
                          association: inout AssociationSecurity, depth: Int) -> SecurityResult {
        var result = r0
        guard let cipher else {
            result.verdict = "unsupported"
            result.detail = "the AES-GCM context could not be created"
            return result
        }
        let originator = p.originatorSystemTitle ?? []
        guard originator.count == 8 else {
            result.verdict = "unsupported"
            result.detail = "originator system title of \(originator.count) bytes (8 expected for the IV)"
            return result
        }
        let entries = generalEntries(p, association: association)
        var keys: [GeneralKey] = []
        var problems: [String] = []
        var signatureFailed = false
        switch p.keyInfoChoice {
        case nil:
            // No key-info: the key in use for the association, as with general-glo/ded-ciphering.
            let role: KeyRole = p.broadcast ? .gbek : .guek
            for e in entries { if let k = e[role] { keys.append(GeneralKey(key: k, role: role.rawValue,
                                                                           origin: Self.label(e))) } }
            if let k = association.transferredKeys[role] {
                keys.append(GeneralKey(key: k, role: role.rawValue, origin: "key_transfer"))
            }
            if let k = association.dedicatedKey {
                keys.append(GeneralKey(key: k, role: "dedicated", origin: "learned from the InitiateRequest"))
            }
            for e in entries { if let k = e.dedicated { keys.append(GeneralKey(key: k, role: "dedicated",
                                                                               origin: Self.label(e))) } }
        case 0:
            // identified-key: key-id 0 global unicast, 1 global broadcast (Gurux DataProtectionIdentifiedKeyType).
            guard let role: KeyRole = p.keyID == 0 ? .guek : p.keyID == 1 ? .gbek : nil else {
                result.verdict = "unsupported"
                result.detail = "identified-key with key-id \(p.keyID.map(String.init) ?? "?") (0 or 1 defined)"
                return result
            }
            for e in entries { if let k = e[role] { keys.append(GeneralKey(key: k, role: role.rawValue,
                                                                           origin: Self.label(e))) } }
            if let k = association.transferredKeys[role] {
                keys.append(GeneralKey(key: k, role: role.rawValue, origin: "key_transfer"))
            }
            if keys.isEmpty { problems.append("no \(role.rawValue) for " + generalParties(p)) }
        case 1:
            // wrapped-key: kek-id 0 = master key; AES key wrap (RFC 3394) of the encryption key.
            guard p.keyID == 0, let wrapped = p.keyCipheredData else {
                result.verdict = "unsupported"
                result.detail = "wrapped-key with kek-id \(p.keyID.map(String.init) ?? "?") (0, master key, defined)"
                return result
            }
            var keks: [(SecretKey, String)] = entries.compactMap { e in e.kek.map { ($0, Self.label(e)) } }
            if let k = association.transferredKeys[.kek] { keks.append((k, "key_transfer")) }
            if keks.isEmpty { problems.append("no kek for " + generalParties(p)) }
            for (kek, origin) in keks {
                let unwrapped = kek.withUnsafeBytes { k in AESKeyWrap.unwrap(wrapped, kek: k) }
                if let ek = unwrapped {
                    keys.append(GeneralKey(key: ek, role: "wrapped", origin: "unwrapped with the kek of " + origin))
                }
            }
            if keys.isEmpty && !keks.isEmpty {
                problems.append("the wrapped key did not unwrap with any of \(keks.count) kek(s)")
            }
        case 2:
            let (agreed, why, badSignature) = agreedKeys(p, entries: entries)
            keys = agreed
            problems += why
            signatureFailed = badSignature
        default:
            result.verdict = "unsupported"
            result.detail = "key-info choice \(p.keyInfoChoice.map(String.init) ?? "?")"
            return result
        }
        guard !keys.isEmpty else {
            result.verdict = "no-key"
            result.detail = problems.isEmpty ? "no key for " + generalParties(p) : problems.joined(separator: "; ")
            return result
        }
        var aks: [SecretKey] = []
        for e in entries { if let ak = e.ak, !aks.contains(ak) { aks.append(ak) } }
        if let ak = association.transferredKeys[.ak], !aks.contains(ak) { aks.append(ak) }
        let sc = SecurityControl(rawValue: p.securityControl)
        let header = GeneralCiphering.header(transactionID: p.transactionID, originatorSystemTitle: originator,
                                             recipientSystemTitle: p.recipientSystemTitle, dateTime: p.dateTime,
                                             otherInformation: p.otherInformation)
        var fallback: (GeneralKey, [UInt8], String)?
        var failures = 0
        var tried = 0
        for k in keys {
            // The AKs of the parties, then none (the tag then cannot be checked).
            let akList: [SecretKey?] = sc.isAuthenticated ? aks.map { Optional($0) } + [nil] : [nil]
            for ak in akList {
                tried += 1
                let (outcome, layout) = GeneralCiphering.unprotect(
                    cipher: cipher, securityControl: sc, originatorSystemTitle: originator,
                    invocationCounter: p.invocationCounter, payload: p.payload[...], header: header[...],
                    encryptionKey: k.key, authenticationKey: ak)
                switch outcome {
                case .verified(let plain):
                    var detail = "key \(k.role) (\(k.origin)), AAD layout " + (layout?.rawValue ?? "?")
                    detail += layout == .withHeader ? " (SC ‖ AK ‖ general header, Connexo)"
                        : " (SC ‖ AK, Gurux: the general header is not authenticated)"
                    if tried > 1 { detail += " (candidate \(tried))" }
                    return finishGeneral(result, key: k, plain: plain, verdict: signatureFailed
                                            ? "authentication-failed" : "verified", detail: detail,
                                         association: &association, depth: depth, direction: direction)
                case .decryptedUnverified(let plain, let why):
                    let decoded = APDUDecoder.decode(plain[...], options: decodeOptions)
                    if fallback == nil, decoded.errors.isEmpty, decoded.type != "unknown" {
                        fallback = (k, plain, why.rawValue)
                    }
                case .authenticationFailed:
                    failures += 1
                case .malformed(let m), .unsupported(let m):
                    problems.append(m)
                }
            }
        }
        if let (k, plain, why) = fallback, failures == 0 || aks.isEmpty {
            return finishGeneral(result, key: k, plain: plain,
                                 verdict: signatureFailed ? "authentication-failed" : "decrypted-unverified",
                                 detail: "key \(k.role) (\(k.origin)); not authenticated: " + why,
                                 association: &association, depth: depth, direction: direction)
        }
        result.key = keys.first?.role
        if failures > 0 {
            result.verdict = "authentication-failed"
            result.detail = "the tag verified under neither AAD layout (sc-ak, sc-ak-header) with \(keys.count) "
                + "key(s) × \(aks.count) authentication key(s)"
        } else {
            result.verdict = "no-key"
            result.detail = problems.isEmpty ? "no key gave a decodable plaintext" : problems.joined(separator: "; ")
        }
        return result
    }

    func generalParties(_ p: ProtectionFacts) -> String {
        var s = "originator " + (p.originatorSystemTitle.map { Hex.encode($0, uppercase: true) } ?? "?")
        if let r = p.recipientSystemTitle, !r.isEmpty { s += ", recipient " + Hex.encode(r, uppercase: true) }
        return s
    }

    func finishGeneral(_ r0: SecurityResult, key k: GeneralKey, plain: [UInt8], verdict: String, detail: String,
                       association: inout AssociationSecurity, depth: Int, direction: Direction?) -> SecurityResult {
        var d = detail
        if verdict == "authentication-failed" { d += "; the ephemeral key's signature is invalid" }
        let c = Candidate(systemTitle: r0.systemTitle ?? [], encryptionKey: k.key, authenticationKey: nil,
                          role: k.role, label: nil)
        var r = withSenderTitle(r0.systemTitle, direction: direction, &association) { a in
            finish(r0, candidate: c, plain: plain, verdict: verdict, tried: 1, association: &a, depth: depth,
                   direction: direction, detail: d)
        }
        if verdict == "authentication-failed" {
            // An APDU that failed authentication never shows plaintext.
            r.plain = nil
            r.plainDecoded = nil
            r.inner = []
            r.plainRedactions = []
        }
        return r
    }

    /// The agreed keys of key-info `agreed-key` (security-layouts.md §4): key-parameters 1 one-pass
    /// Diffie-Hellman C(1e,1s) with the recipient's agreement private key and the ephemeral key of
    /// key-ciphered-data (its signature checked with the originator's signing key), 2 static unified model
    /// C(0e,2s) with one party's agreement private key and the other's public key. Suite 1: SHA-256, 16 bytes
    /// (Green Book Table 41). Suite 2 is disputed: SHA-384 and 32 bytes (Connexo), then the first 16 of them
    /// (Gurux.NET); the one that verifies is named.
    func agreedKeys(_ p: ProtectionFacts, entries: [KeyEntry]) -> ([GeneralKey], [String], Bool) {
        let originator = p.originatorSystemTitle ?? []
        let recipient = p.recipientSystemTitle ?? []
        guard recipient.count == 8 else {
            return ([], ["agreed key with a recipient system title of \(recipient.count) bytes"], false)
        }
        let forRecipient = keyring.entries(forSystemTitle: recipient) + keyring.entriesWithoutSystemTitle
        let forOriginator = keyring.entries(forSystemTitle: originator) + keyring.entriesWithoutSystemTitle
        var out: [GeneralKey] = []
        var problems: [String] = []
        var badSignature = false
        func add(_ z: SecretKey, suite: UInt8, tid: [UInt8]?, scheme: String, extra: String) {
            guard let k = ConcatKDF.dlmsAgreedKey(sharedSecret: z, suite: suite, originatorSystemTitle: originator,
                                                  recipientSystemTitle: recipient, transactionID: tid)
            else { return }
            out.append(GeneralKey(key: k, role: "agreed", origin: scheme + extra
                                    + (suite == 2 ? ", SHA-384 KDF, 256-bit key (Connexo)" : "")))
            if suite == 2 {
                out.append(GeneralKey(key: SecretKey(Array(k.bytes.prefix(16))), role: "agreed",
                                      origin: scheme + extra + ", SHA-384 KDF cut to 128 bits (Gurux.NET)"))
            }
        }
        switch p.keyID {
        case 1:
            guard let data = p.keyCipheredData else { return ([], ["agreed key without key-ciphered-data"], false) }
            let privates = forRecipient.compactMap { $0.agreementPrivateKey }
            if privates.isEmpty {
                problems.append("no agreement_private_key for recipient " + Hex.encode(recipient, uppercase: true))
            }
            let signer = forOriginator.compactMap { $0.signingPublicKey }.first
            for d in privates {
                let w = d.curve.coordinateLength
                guard data.count == 4 * w, let eph = ECPublicKey(point: data.prefix(2 * w)) else {
                    problems.append("key-ciphered-data of \(data.count) bytes is not an ephemeral \(d.curve.rawValue) "
                                    + "key and signature")
                    continue
                }
                var check = ""
                if let signer {
                    let xy = Array(data.prefix(2 * w))
                    let sig = data.suffix(2 * w)
                    if ECDSA.verify(signature: sig, message: xy, publicKey: signer) {
                        check = ", ephemeral key signature verified over x ‖ y"
                    } else if ECDSA.verify(signature: sig, message: [0] + xy, publicKey: signer) {
                        check = ", ephemeral key signature verified over key-id ‖ x ‖ y (Gurux)"
                    } else {
                        badSignature = true
                        check = ", ephemeral key signature INVALID"
                    }
                } else {
                    check = ", ephemeral key signature not checked (no signing_public_key for the originator)"
                }
                guard let z = ECDH.sharedSecret(privateKey: d, publicKey: eph) else { continue }
                add(z, suite: d.curve.suite, tid: nil, scheme: "one-pass Diffie-Hellman C(1e,1s)", extra: check)
            }
        case 2:
            // OS(transaction-id), its length byte included: exactly the first field of the general header.
            let tid = Array(GeneralCiphering.header(transactionID: p.transactionID, originatorSystemTitle: nil,
                                                    recipientSystemTitle: nil, dateTime: nil, otherInformation: nil)
                                .dropLast(4))
            // Either side's private key with the other side's public key gives the same Z.
            var pairs: [(ECPrivateKey, ECPublicKey)] = []
            for d in forRecipient.compactMap({ $0.agreementPrivateKey }) {
                for q in forOriginator.compactMap({ $0.agreementPublicKey }) where q.curve == d.curve {
                    pairs.append((d, q))
                }
            }
            for d in forOriginator.compactMap({ $0.agreementPrivateKey }) {
                for q in forRecipient.compactMap({ $0.agreementPublicKey }) where q.curve == d.curve {
                    pairs.append((d, q))
                }
            }
            if pairs.isEmpty {
                problems.append("static unified model needs one party's agreement_private_key and the other's "
                                + "agreement_public_key (" + generalParties(p) + ")")
            }
            for (d, q) in pairs.prefix(8) {
                guard let z = ECDH.sharedSecret(privateKey: d, publicKey: q) else { continue }
                add(z, suite: d.curve.suite, tid: tid, scheme: "static unified model C(0e,2s)", extra: "")
            }
        default:
            problems.append("agreed-key with key-parameters \(p.keyID.map(String.init) ?? "?") (1 or 2 defined)")
        }
        return (out, problems, badSignature)
    }

    /// general-signing: the signature (raw r ‖ s) over the general header ‖ content, with the originator's
    /// signing public key; then the content is decoded and unprotected in turn.
    func generalSigning(_ p: ProtectionFacts, result r0: SecurityResult, direction: Direction?,
                        association: inout AssociationSecurity, depth: Int) -> SecurityResult {
        var result = r0
        result.invocationCounter = nil
        result.key = "signing"
        let originator = p.originatorSystemTitle ?? []
        let content = p.signedContent ?? p.payload
        guard let signature = p.signature else {
            result.verdict = "authentication-failed"
            result.detail = "signature-invalid: no signature"
            return result
        }
        let header = GeneralCiphering.header(transactionID: p.transactionID, originatorSystemTitle: originator,
                                             recipientSystemTitle: p.recipientSystemTitle, dateTime: p.dateTime,
                                             otherInformation: p.otherInformation)
        var signers: [(ECPublicKey, String)] = []
        let entries = originator.isEmpty ? [] : keyring.entries(forSystemTitle: originator)
        for e in entries + keyring.entriesWithoutSystemTitle {
            if let k = e.signingPublicKey, !signers.contains(where: { $0.0 == k }) { signers.append((k, Self.label(e))) }
        }
        let c = Candidate(systemTitle: originator, encryptionKey: SecretKey([]), authenticationKey: nil,
                          role: "signing", label: nil)
        guard !signers.isEmpty else {
            // The content travels in clear: shown and unprotected in turn, but nothing vouches for it.
            result.suite = signature.count == 96 ? 2 : signature.count == 64 ? 1 : 0
            let detail = "no signing_public_key for originator " + Hex.encode(originator, uppercase: true)
                + ": the signature is not checked"
            var r = withSenderTitle(originator, direction: direction, &association) { a in
                finish(result, candidate: c, plain: content, verdict: "no-key", tried: 1, association: &a,
                       depth: depth, direction: direction, detail: detail)
            }
            r.key = nil
            return r
        }
        for (k, origin) in signers where k.curve.signatureLength == signature.count {
            if GeneralSigning.verify(header: header, content: content, signature: signature, publicKey: k) {
                result.suite = Int(k.curve.suite)
                let detail = "signature verified (ECDSA \(k.curve.rawValue)) with the signing_public_key of " + origin
                return withSenderTitle(originator, direction: direction, &association) { a in
                    finish(result, candidate: c, plain: content, verdict: "verified", tried: 1, association: &a,
                           depth: depth, direction: direction, detail: detail)
                }
            }
        }
        result.suite = Int(signers[0].0.curve.suite)
        result.verdict = "authentication-failed"
        result.detail = "signature-invalid: the \(signature.count)-byte signature verified with none of "
            + "\(signers.count) signing key(s) for originator " + Hex.encode(originator, uppercase: true)
        return result
    }

    /// Runs `body` with the sender's system title (the general header's originator) standing in for the
    /// association's when the association does not know it yet, so nested layers get the right IV; the
    /// association is left as it was in that respect.
    func withSenderTitle<T>(_ title: [UInt8]?, direction: Direction?, _ a: inout AssociationSecurity,
                            _ body: (inout AssociationSecurity) -> T) -> T {
        guard let title, title.count == 8, let direction else { return body(&a) }
        switch direction {
        case .clientToServer where a.clientSystemTitle == nil:
            a.clientSystemTitle = title
            defer { a.clientSystemTitle = nil }
            return body(&a)
        case .serverToClient where a.serverSystemTitle == nil:
            a.serverSystemTitle = title
            defer { a.serverSystemTitle = nil }
            return body(&a)
        default:
            return body(&a)
        }
    }
}
