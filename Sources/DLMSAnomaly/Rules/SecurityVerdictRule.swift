import DLMSSession
import DLMSWire

/// `security.auth-failed`, `security.signature-invalid`, `security.no-key`, `security.unverified`: the verdicts of
/// the session's security layer, one finding per protection layer that did not verify.
///
/// A failed tag or signature is reported on every APDU (each one is a forged, corrupted or mis-keyed message).
/// "No key" and "decrypted but not authenticated" are reported once per conversation, sender and key role (unless
/// `reportEveryUndecryptable`): the first one says what is missing, the audit report counts the rest.
final class SecurityVerdictRule: AnomalyRule {
    struct Key: Hashable {
        var code: String
        var conversation: String
        var sender: [UInt8]
        var role: String
    }
    var reported: Set<Key> = []
    var suppressed: [String: Int] = [:]

    func observe(_ event: RuleEvent, options: AnomalyOptions, into out: inout [Finding]) {
        guard case .apdu(let e) = event else { return }  // errors carry no verdict
        let r = e.record
        guard r.security != nil else { return }
        var layer = r.security
        var depth = 0
        while let s = layer, depth < 8 {
            layer = s.inner.first
            depth += 1
            if s.verdict == "verified" { continue }
            let role = RecordFacts.keyRole(s)
            var evidence: [EvidenceItem] = [
                EvidenceItem("protection", .string(s.protection)),
                EvidenceItem("security_control", .int(Int64(s.securityControl))),
                EvidenceItem("key", .string(role)),
            ]
            if let ic = s.invocationCounter { evidence.append(EvidenceItem("invocation_counter", .int(Int64(ic)))) }
            evidence.append(EvidenceItem("verdict", .string(s.verdict)))
            if let d = s.detail { evidence.append(EvidenceItem("detail", .string(d))) }
            switch s.verdict {
            case "verified":
                continue
            case "authentication-failed":
                // general-signing (and a key-info signature of general-ciphering) fail as signatures; the session
                // names them so in its detail.
                let signature = s.protection == "general-signing" || (s.detail ?? "").hasPrefix("signature")
                if signature {
                    out.append(Finding("security.signature-invalid", .error, about: r, systemTitle: s.systemTitle,
                                       message: "the digital signature of the \(s.protection) APDU does not verify",
                                       evidence: evidence))
                } else {
                    out.append(Finding("security.auth-failed", .error, about: r, systemTitle: s.systemTitle,
                                       message: "the authentication tag of the \(s.protection) APDU does not verify "
                                           + "with the \(role) key: altered, forged or ciphered with another key",
                                       evidence: evidence))
                }
            case "signature-invalid":
                out.append(Finding("security.signature-invalid", .error, about: r, systemTitle: s.systemTitle,
                                   message: "the digital signature of the \(s.protection) APDU does not verify",
                                   evidence: evidence))
            case "no-key":
                once("security.no-key", .warning, r, s, role, options, evidence, into: &out,
                     message: "no \(role) key for the \(s.protection) APDU: it is neither decrypted nor verified")
            case "decrypted-unverified":
                once("security.unverified", .warning, r, s, role, options, evidence, into: &out,
                     message: "the \(s.protection) APDU was decrypted but not authenticated (no tag, or no "
                         + "authentication key): its integrity is not proven")
            default:
                // `unsupported` (compression, a protection not decrypted yet): the audit report counts it.
                continue
            }
        }
    }

    func once(_ code: String, _ severity: Severity, _ r: APDURecord, _ s: SecurityResult, _ role: String,
                       _ options: AnomalyOptions, _ evidence: [EvidenceItem], into out: inout [Finding],
                       message: String) {
        let key = Key(code: code, conversation: r.provenance.conversation, sender: s.systemTitle ?? [],
                      role: role)
        if !options.reportEveryUndecryptable {
            if reported.contains(key) {
                suppressed[code, default: 0] += 1
                return
            }
            if reported.count >= options.maxTrackedSenders { reported.removeAll() }
            reported.insert(key)
        }
        var ev = evidence
        if !options.reportEveryUndecryptable {
            ev.append(EvidenceItem("reported", .string("first of the conversation for this sender and key")))
        }
        out.append(Finding(code, severity, about: r, systemTitle: s.systemTitle, message: message, evidence: ev))
    }
}
