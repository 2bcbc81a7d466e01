import DLMSAPDU
import DLMSSession
import DLMSWire

/// `security.hls-failed` (a wrong HLS reply in pass 3/4) and `security.lls-failed` (a wrong LLS password).
///
/// The session's HLS/LLS verifier puts an `hls` check on the record (`APDURecord.hls: HLSCheck?` with `result`
/// `verified`/`failed`/`no-key`/`unsupported`); where no check could be made (no HLS secret), the rule falls back
/// to what the records show: the server's answer to `reply_to_HLS_authentication` (Association LN, class 15, method 1) is a
/// failure when its result is not success or it carries no f(CtoS) (Green Book 9.2.7.4, pass 3/4).
final class AuthenticationRule: AnomalyRule {
    func observe(_ event: RuleEvent, options: AnomalyOptions, into out: inout [Finding]) {
        guard case .apdu(let e) = event else { return }  // errors carry no authentication
        let r = e.record
        let t = r.service.type
        guard t == "aarq" || t == "action-request" || t == "action-response" else { return }
        if let check = r.hls {
            if check.result == "failed" {
                report(e, mechanism: check.mechanism, party: check.party, detail: check.detail, into: &out)
                return
            }
            // A verified reply is authentic, whatever else the record shows.
            if check.result == "verified" { return }
        }
        // No failed check (none could be made without the HLS secret): the server's refusal still tells.
        // Fallback: the server refused the client's reply to its challenge.
        guard r.service.type == "action-response", let req = e.request, req.type == "action-request",
              let o = req.objects.first, o.classID == 15, o.methodID == 1 else { return }
        let ok = (r.service.result == nil || r.service.result == "success") && !r.service.values.isEmpty
        guard !ok else { return }
        let mech = e.conversation.mechanism.map(Self.mechanismName) ?? "hls"
        report(e, mechanism: mech, party: "client",
               detail: "the server answered reply_to_HLS_authentication with "
                   + (r.service.result.map { "result \($0)" } ?? "no result") + " and "
                   + (r.service.values.isEmpty ? "no f(CtoS)" : "data")
                   + ": it did not accept the client's f(StoC)", into: &out)
    }

    func report(_ e: APDUEvent, mechanism: String, party: String, detail: String?, into out: inout [Finding]) {
        let r = e.record
        var evidence: [EvidenceItem] = [
            EvidenceItem("mechanism", .string(mechanism)),
            EvidenceItem("party", .string(party)),
            EvidenceItem("association_frames", .frames(e.conversation.associationFrames)),
        ]
        if let d = detail { evidence.append(EvidenceItem("detail", .string(d))) }
        let st = party == "server" ? e.conversation.serverSystemTitle : e.conversation.clientSystemTitle
        if mechanism == "lls" {
            out.append(Finding("security.lls-failed", .error, about: r, systemTitle: st,
                               message: "the LLS password of the AARQ is wrong", evidence: evidence))
        } else {
            out.append(Finding("security.hls-failed", .error, about: r, systemTitle: st,
                               message: "the \(mechanism) authentication of the association failed (HLS pass "
                                   + (party == "server" ? "4" : "3") + "): the association is not authenticated"
                                   + (detail.map { "; " + $0 } ?? ""),
                               evidence: evidence))
        }
    }

    /// The session's check on the record (`APDURecord.hls`), read by reflection: mechanism, party, result, detail.
    /// The last arc of 2.16.756.5.8.2.x (Green Book Table 15).
    static func mechanismName(_ m: Int) -> String {
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
