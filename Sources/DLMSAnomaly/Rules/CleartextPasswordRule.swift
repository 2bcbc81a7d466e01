import DLMSSession
import DLMSWire

/// `security.cleartext-password`: an AARQ with the LLS mechanism (2.16.756.5.8.2.1) and a
/// calling-authentication-value, i.e. a password anyone on the line can read (Green Book 9.2.7.3: LLS is a
/// password check, no cryptography). The evidence says a password was sent and how long it is, never the password.
/// Where LLS is accepted (local optical port), lower it with `severityOverrides`.
final class CleartextPasswordRule: AnomalyRule {
    func observe(_ event: RuleEvent, options: AnomalyOptions, into out: inout [Finding]) {
        guard case .apdu(let e) = event else { return }  // errors carry no AARQ
        let r = e.record
        guard r.service.type == "aarq", let a = r.service.association, a.mechanism == 1,
              let pw = a.callingAuthenticationValue else { return }
        // The password travels in clear unless the whole AARQ is protected on a lower layer we cannot see.
        out.append(Finding("security.cleartext-password", .warning, about: r, systemTitle: a.callingAPTitle,
                           message: (pw.isEmpty ? "an empty LLS password sent in the AARQ: anyone on the line "
                                     : "LLS password sent in clear in the AARQ (shown masked): anyone on the line ")
                               + "can read and reuse it",
                           evidence: [
                               EvidenceItem("mechanism", .string("lls")),
                               EvidenceItem("password", .string("present, redacted")),
                               EvidenceItem("password_length", .int(Int64(pw.count))),
                               EvidenceItem("client", .string(e.conversation.clientIdentity)),
                           ]))
    }
}
