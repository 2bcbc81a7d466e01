import DLMSAPDU
import DLMSSession
import DLMSWire

/// `operation.disconnect` and `operation.firmware`: security-relevant operations on a meter, logged for the audit
/// trail (info).
///
/// - Disconnect control (class 70): method 1 `remote_disconnect`, method 2 `remote_reconnect` (Blue Book 4.5.8).
/// - Image transfer (class 18): method 1 `image_transfer_initiate`, 3 `image_verify`, 4 `image_activate`
///   (Blue Book 4.4.6); method 2 (`image_block_transfer`) is the data itself and is not reported block by block.
/// A refused operation is reported again on its response, with the result.
final class OperationRule: AnomalyRule {
    func observe(_ event: RuleEvent, options: AnomalyOptions, into out: inout [Finding]) {
        guard case .apdu(let e) = event else { return }  // errors are no operation
        let r = e.record
        let s = r.service
        if s.type == "action-request" {
            for o in s.objects {
                guard let (code, name) = Self.operation(o) else { continue }
                let ln = RecordFacts.obis(o.obis)
                var ev = [EvidenceItem("object", .string(ln)), EvidenceItem("method", .string(name)),
                          EvidenceItem("client", .string(e.conversation.clientIdentity))]
                if o.classID == 18, o.methodID == 1, s.objects.count == 1,
                   case .structure(let f)? = s.values.first, f.count >= 2
                {
                    if case .octetString(let id) = f[0] { ev.append(EvidenceItem("image_identifier", .hex(id))) }
                    if case .doubleLongUnsigned(let size) = f[1] {
                        ev.append(EvidenceItem("image_size", .int(Int64(size))))
                    }
                }
                out.append(Finding(code, .info, about: r, systemTitle: e.conversation.serverSystemTitle,
                                   message: "\(name) on \(ln)", evidence: ev))
            }
        }
        if s.type == "action-response", let req = e.request, let o = req.objects.first,
           let (code, name) = Self.operation(o), let result = s.result, result != "success"
        {
            out.append(Finding(code, .info, about: r, systemTitle: e.conversation.serverSystemTitle,
                               message: "the meter refused \(name) on \(RecordFacts.obis(o.obis)): \(result)",
                               evidence: [EvidenceItem("request_frames", .frames(req.frames)),
                                          EvidenceItem("result", .string(result))]))
        }
    }

    static func operation(_ o: ObjectRef) -> (String, String)? {
        switch (o.classID, o.methodID) {
        case (70, 1): ("operation.disconnect", "remote_disconnect")
        case (70, 2): ("operation.disconnect", "remote_reconnect")
        case (18, 1): ("operation.firmware", "image_transfer_initiate")
        case (18, 3): ("operation.firmware", "image_verify")
        case (18, 4): ("operation.firmware", "image_activate")
        default: nil
        }
    }
}
