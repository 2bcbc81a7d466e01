import DLMSAPDU
import DLMSSecurity
import DLMSWire

/// The outcome of an authentication check of the association (IEC 62056-5-3 §9.2.7.4): the LLS password of the
/// AARQ, or one HLS pass-3/4 reply (`reply_to_HLS_authentication` of Association LN, class 15 method 1).
/// Rendered as `"hls": {"mechanism", "party", "result", "detail"}`; never holds key or challenge bytes.
public struct HLSCheck: Sendable, Hashable {
    /// `lls`, `hls`, `hls-md5`, `hls-sha1`, `hls-gmac`, `hls-sha256`, `hls-ecdsa`.
    public var mechanism: String
    /// Whose reply (or password) is checked: `client` (f(StoC), the LLS password) or `server` (f(CtoS)).
    public var party: String
    /// `verified`, `failed`, `no-key` (the keyring lacks what the check needs) or `unsupported`.
    public var result: String
    /// Which key verified, or why nothing could be checked.
    public var detail: String?

    public init(mechanism: String, party: String, result: String, detail: String? = nil) {
        self.mechanism = mechanism
        self.party = party
        self.result = result
        self.detail = detail
    }

    /// The mechanism name of the last arc of 2.16.756.5.8.2.x (IEC 62056-5-3 §7.2.2.2, Green Book Table 15).
    public static func mechanismName(_ m: Int) -> String {
        switch m {
        case 0: "none"
        case 1: "lls"
        case 2: "hls"
        case 3: "hls-md5"
        case 4: "hls-sha1"
        case 5: "hls-gmac"
        case 6: "hls-sha256"
        case 7: "hls-ecdsa"
        default: "mechanism-\(m)"
        }
    }
}

/// What the security engine learned from one APDU's service: an authentication check and notes (keys learned,
/// by role and system title).
public struct SecurityObservation: Sendable {
    public var hls: HLSCheck?
    public var notes: [String] = []
    public init(hls: HLSCheck? = nil, notes: [String] = []) {
        self.hls = hls
        self.notes = notes
    }
}

extension SecurityEngine {
    /// Association LN (class 15), method 1 `reply_to_HLS_authentication`.
    static let associationLNClass: UInt16 = 15
    /// Security setup (class 64): method 1 `security_activate`, method 2 `key_transfer`.
    static let securitySetupClass: UInt16 = 64

    /// Follows the association's authentication and key management through the (innermost, decrypted) service
    /// of each APDU: AARQ/AARE challenges and mechanism, the HLS replies, the LLS password, key_transfer and
    /// security_activate. Call once per APDU, after `unprotect`, with the APDU's wire type.
    public func observe(apduType: String, service s: ServiceFacts, direction: Direction?,
                        association a: inout AssociationSecurity) -> SecurityObservation {
        // Only AARQ/AARE and ACTION services are followed (all start with "a"), and pending key transfers.
        guard s.type.utf8.first == UInt8(ascii: "a") || !a.pendingTransfer.isEmpty else {
            return SecurityObservation()
        }
        var out = SecurityObservation()
        // Keys of a key_transfer apply once its response has passed.
        let commitAfter = !a.pendingTransfer.isEmpty && direction == .serverToClient && s.type == "action-response"
            && (a.pendingTransferInvokeID == nil || s.invokeID == a.pendingTransferInvokeID)
        switch s.type {
        case "aarq":
            if let f = s.association {
                a.mechanism = f.mechanism
                if let m = f.mechanism, m >= 2 { a.clientChallenge = f.callingAuthenticationValue }
                if f.mechanism == 1 { out.hls = checkLLS(f.callingAuthenticationValue, association: a) }
            }
        case "aare":
            if let f = s.association {
                if let m = f.mechanism { a.mechanism = m }
                if let m = a.mechanism, m >= 2 {
                    a.serverChallenge = f.respondingAuthenticationValue
                    if f.result == 0 {
                        out.notes.append("\(HLSCheck.mechanismName(m)): challenges recorded (CtoS \(a.clientChallenge?.count ?? 0) "
                                         + "bytes, StoC \(a.serverChallenge?.count ?? 0) bytes); the replies are checked on "
                                         + "reply_to_HLS_authentication")
                    }
                }
            }
        case "action-request":
            guard direction != .serverToClient, let o = s.objects.first, s.objects.count == 1 else { break }
            if o.classID == Self.associationLNClass, o.methodID == 1 {
                a.pendingHLSInvokeID = s.invokeID ?? UInt32.max
                out.hls = checkHLSReply(s.values.first, party: "client", association: a)
            } else if o.classID == Self.securitySetupClass, o.methodID == 2 {
                out.notes += keyTransfer(s, association: &a)
            } else if o.classID == Self.securitySetupClass, o.methodID == 1 {
                var n = "security_activate"
                if case .enumValue(let v)? = s.values.first { n += " requested with security_policy \(v)" }
                else if case .bitString? = s.values.first { n += " requested (security_policy bit string)" }
                if let st = a.serverSystemTitle { n += " for system title " + Hex.encode(st, uppercase: true) }
                out.notes.append(n)
            }
        case "action-response":
            guard direction != .clientToServer, let pending = a.pendingHLSInvokeID,
                  pending == UInt32.max || s.invokeID == nil || s.invokeID == pending else { break }
            a.pendingHLSInvokeID = nil
            if let v = s.values.first {
                out.hls = checkHLSReply(v, party: "server", association: a)
            } else if let m = a.mechanism {
                out.hls = HLSCheck(mechanism: HLSCheck.mechanismName(m), party: "server", result: "failed",
                                   detail: "the server sent no f(CtoS) (result \(s.result ?? "?")): it did not "
                                       + "accept the client's reply")
            }
        default:
            break
        }
        if commitAfter {
            let roles = a.pendingTransfer.keys.map(\.rawValue).sorted().joined(separator: ", ")
            let st = a.serverSystemTitle.map { Hex.encode($0, uppercase: true) } ?? "unknown"
            if s.result == nil || s.result == "success" {
                for (role, k) in a.pendingTransfer { a.transferredKeys[role] = k }
                out.notes.append("key_transfer: new \(roles) in use for system title \(st) from the next APDU on")
            } else {
                out.notes.append("key_transfer refused by the server (\(s.result ?? "?")): \(roles) not changed")
            }
            a.pendingTransfer = [:]
            a.pendingTransferInvokeID = nil
        }
        return out
    }

    /// Keyring entries for the parties of the association, then those without a system title.
    func associationEntries(_ a: AssociationSecurity, first: [UInt8]?) -> [KeyEntry] {
        var titles: [[UInt8]] = []
        for t in [first, a.clientSystemTitle, a.serverSystemTitle] { if let t, !titles.contains(t) { titles.append(t) } }
        var out: [KeyEntry] = []
        for t in titles { out += keyring.entries(forSystemTitle: t) }
        return out + keyring.entriesWithoutSystemTitle
    }

    /// LLS: the AARQ's password against the keyring's `password` of the parties (never shown).
    func checkLLS(_ value: [UInt8]?, association a: AssociationSecurity) -> HLSCheck {
        var check = HLSCheck(mechanism: "lls", party: "client", result: "no-key",
                             detail: "no password in the keyring for the association's parties")
        // An LLS AARQ rarely names the parties (no calling-AP-title): then every keyring password is a candidate.
        let partiesKnown = a.clientSystemTitle != nil || a.serverSystemTitle != nil
        let passwords = (partiesKnown ? associationEntries(a, first: a.serverSystemTitle) : keyring.entries)
            .compactMap(\.password)
        guard !passwords.isEmpty else { return check }
        let v = value ?? []
        if passwords.contains(where: { $0 == SecretKey(v) }) {
            check.result = "verified"
            check.detail = "the password matches the keyring's"
        } else {
            check.result = "failed"
            check.detail = "the password matches none of \(passwords.count) keyring password(s)"
        }
        return check
    }

    /// An HLS pass-3 (`party` client: f(StoC)) or pass-4 (`party` server: f(CtoS)) reply.
    func checkHLSReply(_ value: DataValue?, party: String, association a: AssociationSecurity) -> HLSCheck? {
        guard let m = a.mechanism, m >= 2 else { return nil }
        var check = HLSCheck(mechanism: HLSCheck.mechanismName(m), party: party, result: "no-key")
        guard case .octetString(let reply)? = value else {
            check.result = "failed"
            check.detail = "the reply is not an octet-string"
            return check
        }
        let client = party == "client"
        let signerTitle = client ? a.clientSystemTitle : a.serverSystemTitle
        let peerTitle = client ? a.serverSystemTitle : a.clientSystemTitle
        // The signer answers the peer's challenge.
        guard let peerChallenge = client ? a.serverChallenge : a.clientChallenge,
              let signerChallenge = client ? a.clientChallenge : a.serverChallenge
        else {
            check.detail = "the challenges of the AARQ/AARE were not seen"
            return check
        }
        let entries = associationEntries(a, first: signerTitle)
        var tried = 0
        func done(_ ok: Bool, _ what: String) -> HLSCheck {
            var c = check
            c.result = ok ? "verified" : "failed"
            c.detail = ok ? what : "the reply verified with none of \(tried) candidate key(s)"
            return c
        }
        switch m {
        case 2:
            // Manufacturer-specific: only Gurux's AES-128-ECB form is known (HLSManufacturer.swift).
            for e in entries {
                guard let pw = e.password else { continue }
                tried += 1
                if let expected = GuruxHighAuthentication.reply(challenge: peerChallenge, secret: pw.bytes),
                   Self.constantTimeEqual(expected, reply) {
                    return done(true, "manufacturer-specific mechanism 2 in Gurux's form (AES-128-ECB of the "
                                + "challenge under the HLS secret) with the password of " + Self.label(e))
                }
            }
            check.result = tried == 0 ? "no-key" : "unsupported"
            check.detail = tried == 0
                ? "mechanism 2 is manufacturer-specific; Gurux's form needs the HLS secret (password), none in the keyring"
                : "mechanism 2 is manufacturer-specific: the reply is not Gurux's form with any of \(tried) keyring "
                    + "password(s), and no other form is known"
            return check
        case 3, 4:
            for e in entries {
                guard let pw = e.password else { continue }
                tried += 1
                let ok = pw.withUnsafeBytes { p in
                    HLS.verifyLegacyDigest(m == 3 ? .md5 : .sha1, reply: reply, challenge: peerChallenge, secret: p)
                }
                if ok { return done(true, "with the password of " + Self.label(e)) }
            }
        case 5:
            guard let st = signerTitle else {
                check.detail = "the \(party)'s system title is unknown"
                return check
            }
            var pairs: [(SecretKey, SecretKey, String)] = []
            for e in entries {
                guard let ak = e.ak ?? a.transferredKeys[.ak] else { continue }
                if let ek = e.guek { pairs.append((ek, ak, "guek and ak of " + Self.label(e))) }
            }
            if let ek = a.transferredKeys[.guek], let ak = a.transferredKeys[.ak] ?? entries.compactMap(\.ak).first {
                pairs.append((ek, ak, "guek from key_transfer"))
            }
            for (ek, ak, what) in pairs {
                tried += 1
                if HLS.verifyGMAC(reply: reply, challenge: peerChallenge, systemTitle: st, encryptionKey: ek,
                                  authenticationKey: ak) { return done(true, "GMAC with the " + what) }
            }
        case 6:
            guard let st = signerTitle, let pt = peerTitle else {
                check.detail = "the parties' system titles are unknown"
                return check
            }
            for e in entries {
                guard let pw = e.password else { continue }
                tried += 1
                let ok = pw.withUnsafeBytes { p in
                    HLS.verifySHA256(reply: reply, secret: p, signerSystemTitle: st, peerSystemTitle: pt,
                                     peerChallenge: peerChallenge, signerChallenge: signerChallenge)
                }
                if ok { return done(true, "SHA-256 with the HLS secret (password) of " + Self.label(e)) }
            }
        case 7:
            guard let st = signerTitle, let pt = peerTitle else {
                check.detail = "the parties' system titles are unknown"
                return check
            }
            let own = keyring.entries(forSystemTitle: st) + keyring.entriesWithoutSystemTitle
            for e in own {
                guard let k = e.signingPublicKey else { continue }
                tried += 1
                if HLS.verifyECDSA(reply: reply, publicKey: k, signerSystemTitle: st, peerSystemTitle: pt,
                                   peerChallenge: peerChallenge, signerChallenge: signerChallenge) {
                    return done(true, "ECDSA \(k.curve.rawValue) with the signing_public_key of " + Self.label(e))
                }
            }
        default:
            check.result = "unsupported"
            check.detail = "mechanism \(m) is not defined by IEC 62056-5-3 and cannot be checked"
            return check
        }
        guard tried > 0 else {
            let need = m == 5 ? "guek and ak" : m == 7 ? "signing_public_key" : "password (HLS secret)"
            check.detail = "no \(need) in the keyring for the \(party)"
                + (signerTitle.map { " " + Hex.encode($0, uppercase: true) } ?? "")
            return check
        }
        return done(false, "")
    }

    /// Security setup method 2 `key_transfer`: `array of structure {key_id enum, key_wrapped octet-string}`,
    /// each unwrapped with the KEK (security-layouts.md §7). The keys are staged until the response.
    func keyTransfer(_ s: ServiceFacts, association a: inout AssociationSecurity) -> [String] {
        guard case .array(let items)? = s.values.first else {
            return ["key_transfer: the parameter is not an array of {key_id, key_wrapped}"]
        }
        let st = a.serverSystemTitle.map { Hex.encode($0, uppercase: true) } ?? "unknown"
        var keks: [(SecretKey, String)] = associationEntries(a, first: a.serverSystemTitle)
            .compactMap { e in e.kek.map { ($0, Self.label(e)) } }
        if let k = a.transferredKeys[.kek] { keks.insert((k, "key_transfer"), at: 0) }
        var notes: [String] = []
        for item in items.prefix(8) {
            guard case .structure(let f) = item, f.count == 2, case .enumValue(let id) = f[0],
                  case .octetString(let wrapped) = f[1]
            else {
                notes.append("key_transfer: an element is not {key_id enum, key_wrapped octet-string}")
                continue
            }
            guard let role = KeyTransfer.role(keyID: Int(id)) else {
                notes.append("key_transfer: undefined key_id \(id)")
                continue
            }
            var learned = false
            for (kek, origin) in keks {
                if case .key(let r, let key) = KeyTransfer.unwrap(keyID: Int(id), wrappedKey: wrapped, kek: kek) {
                    a.pendingTransfer[r] = key
                    notes.append("key_transfer: new \(r.rawValue) for system title \(st) learned (unwrapped with the "
                                 + "kek of \(origin)); it applies after the response")
                    learned = true
                    break
                }
            }
            if !learned {
                notes.append(keks.isEmpty
                    ? "key_transfer of the \(role.rawValue) for system title \(st): no kek in the keyring to unwrap it"
                    : "key_transfer of the \(role.rawValue) for system title \(st): it did not unwrap with any of "
                        + "\(keks.count) kek(s)")
            }
        }
        a.pendingTransferInvokeID = s.invokeID
        return notes
    }
}

extension SecurityEngine {
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}
