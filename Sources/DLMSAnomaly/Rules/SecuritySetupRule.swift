import DLMSAPDU
import DLMSSession
import DLMSWire

/// `security.key-change` and `security.setup-change`: changes of a meter's security set-up (Blue Book 4.4.7,
/// Security setup, class 64).
///
/// - key-change (info): `key_transfer` (method 2: array of {key_id, wrapped key}) and `key_agreement` (method 3)
///   requests, and keys the session learned from the capture (its notes: the dedicated key of a ciphered
///   InitiateRequest, keys unwrapped from a key_transfer). A refused key change is reported on its response.
/// - setup-change (warning): `security_activate` (method 1) and a SET of `security_policy` (attribute 2) or
///   `security_suite` (attribute 3). A refused one is reported on its response.
final class SecuritySetupRule: AnomalyRule {
    static let securitySetupClass: UInt16 = 64

    func observe(_ event: RuleEvent, options: AnomalyOptions, into out: inout [Finding]) {
        guard case .apdu(let e) = event else { return }  // errors change no key
        let r = e.record
        let s = r.service
        // Keys learned by the session, from its notes (never the key, only role and system title). Those of a
        // key_transfer request go into the request's own finding.
        let isKeyTransfer = s.type == "action-request"
            && s.objects.first.map { $0.classID == Self.securitySetupClass && $0.methodID == 2 } == true
        var transferNotes: [String] = []
        for note in r.notes where note.contains("learned") && note.contains("key") {
            if isKeyTransfer && note.hasPrefix("key_transfer") {
                transferNotes.append(note)
                continue
            }
            out.append(Finding("security.key-change", .info, about: r, systemTitle: r.security?.systemTitle,
                               message: note,
                               evidence: [EvidenceItem("source", .string("session")),
                                          EvidenceItem("note", .string(note))]))
        }
        if s.type == "action-request", let o = s.objects.first, o.classID == Self.securitySetupClass {
            let ln = RecordFacts.obis(o.obis)
            switch o.methodID {
            case 1:
                var ev = [EvidenceItem("object", .string(ln)), EvidenceItem("method", .string("security_activate"))]
                if let v = s.values.first, let p = Self.integer(v) {
                    ev.append(EvidenceItem("security_policy", .int(Int64(p))))
                }
                out.append(Finding("security.setup-change", .warning, about: r,
                                   systemTitle: e.conversation.serverSystemTitle,
                                   message: "security_activate on \(ln): the meter's security policy is changed",
                                   evidence: ev))
            case 2:
                let roles = Self.transferredRoles(s.values.first)
                var ev = [EvidenceItem("object", .string(ln)), EvidenceItem("method", .string("key_transfer")),
                          EvidenceItem("key_roles", .strings(roles)),
                          EvidenceItem("wrapped_keys", .string("present, not shown"))]
                if !transferNotes.isEmpty { ev.append(EvidenceItem("session_notes", .strings(transferNotes))) }
                out.append(Finding("security.key-change", .info, about: r,
                                   systemTitle: e.conversation.serverSystemTitle,
                                   message: "key_transfer on \(ln): new "
                                       + (roles.isEmpty ? "keys" : roles.joined(separator: ", "))
                                       + " for the meter (wrapped with its master key)"
                                       + (transferNotes.isEmpty ? "" : "; the session unwrapped them"),
                                   evidence: ev))
            case 3:
                out.append(Finding("security.key-change", .info, about: r,
                                   systemTitle: e.conversation.serverSystemTitle,
                                   message: "key_agreement on \(ln): keys agreed by ECDH",
                                   evidence: [EvidenceItem("object", .string(ln)),
                                              EvidenceItem("method", .string("key_agreement"))]))
            default:
                break
            }
        }
        if s.type == "set-request" {
            for o in s.objects
            where o.classID == Self.securitySetupClass && (o.attributeID == 2 || o.attributeID == 3) {
                let ln = RecordFacts.obis(o.obis)
                let attr = o.attributeID == 2 ? "security_policy" : "security_suite"
                var ev = [EvidenceItem("object", .string(ln)), EvidenceItem("attribute", .string(attr))]
                if s.objects.count == 1, let v = s.values.first, let n = Self.integer(v) {
                    ev.append(EvidenceItem("value", .int(Int64(n))))
                }
                out.append(Finding("security.setup-change", .warning, about: r,
                                   systemTitle: e.conversation.serverSystemTitle,
                                   message: "SET of \(attr) on \(ln)", evidence: ev))
            }
        }
        // A refused change: the response names it.
        if let req = e.request, let o = req.objects.first, o.classID == Self.securitySetupClass,
           let result = s.result, result != "success"
        {
            let ln = RecordFacts.obis(o.obis)
            if req.type == "action-request", o.methodID == 2 || o.methodID == 3 {
                out.append(Finding("security.key-change", .info, about: r,
                                   systemTitle: e.conversation.serverSystemTitle,
                                   message: "the meter refused the key change on \(ln): \(result)",
                                   evidence: [EvidenceItem("request_frames", .frames(req.frames)),
                                              EvidenceItem("result", .string(result))]))
            } else if req.type == "action-request" && o.methodID == 1
                || req.type == "set-request" && (o.attributeID == 2 || o.attributeID == 3)
            {
                out.append(Finding("security.setup-change", .info, about: r,
                                   systemTitle: e.conversation.serverSystemTitle,
                                   message: "the meter refused the security set-up change on \(ln): \(result)",
                                   evidence: [EvidenceItem("request_frames", .frames(req.frames)),
                                              EvidenceItem("result", .string(result))]))
            }
        }
    }

    /// key_transfer's parameter: array of structure {key_id enum (0 global unicast encryption key, 1 global
    /// broadcast encryption key, 2 authentication key, 3 master key), key_wrapped octet-string}.
    static func transferredRoles(_ v: DataValue?) -> [String] {
        guard case .array(let items)? = v else { return [] }
        var out: [String] = []
        for item in items.prefix(16) {
            guard case .structure(let f) = item, let first = f.first, case .enumValue(let id) = first else { continue }
            let role: String
            switch id {
            case 0: role = "guek"
            case 1: role = "gbek"
            case 2: role = "ak"
            case 3: role = "kek"
            default: role = "key_id \(id)"
            }
            if !out.contains(role) { out.append(role) }
        }
        return out
    }

    static func integer(_ v: DataValue) -> Int? {
        switch v {
        case .enumValue(let x): Int(x)
        case .unsigned(let x): Int(x)
        case .integer(let x): Int(x)
        case .longUnsigned(let x): Int(x)
        default: nil
        }
    }
}
