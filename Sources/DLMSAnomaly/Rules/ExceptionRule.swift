import DLMSSession
import DLMSWire

/// `dlms.exception`: an exception-response (the server could not even parse or accept the request: state-error
/// and service-error, IEC 62056-5-3 §9.5) or a confirmed-service-error (a service refused as a whole, e.g. an
/// initiate error). Warning: a healthy client/meter pair does not produce them; a stream of them is probing.
final class ExceptionRule: AnomalyRule {
    func observe(_ event: RuleEvent, options: AnomalyOptions, into out: inout [Finding]) {
        guard case .apdu(let e) = event else { return }  // error records are not DLMS errors
        let r = e.record
        let t = r.service.type
        guard t == "exception-response" || t == "confirmed-service-error" else { return }
        var ev = [EvidenceItem("apdu", .string(t))]
        if let v = r.service.variant { ev.append(EvidenceItem("service", .string(v))) }
        if let res = r.service.result { ev.append(EvidenceItem("error", .string(res))) }
        if let req = e.request { ev.append(EvidenceItem("request_frames", .frames(req.frames))) }
        let what = [r.service.variant, r.service.result].compactMap { $0 }.joined(separator: ": ")
        out.append(Finding("dlms.exception", .warning, about: r, systemTitle: r.security?.systemTitle,
                           message: "\(t)" + (what.isEmpty ? "" : " (\(what))"), evidence: ev))
    }
}
