import DLMSAPDU
import DLMSSession
import DLMSWire

/// `security.policy-downgrade`: an xDLMS APDU protected less than its association requires.
///
/// Three references, each per association (or per conversation where there is none, as for pushes):
/// 1. the application context: 2.16.756.5.8.1.3/4 (LN/SN with ciphering) means the xDLMS APDUs are ciphered
///    (Green Book 9.4.2.2), so an unprotected one is a downgrade;
/// 2. the security policy read from the Security setup object (class 64 attribute 2) in the conversation: version 0
///    enum (1 authenticated, 2 encrypted, 3 both) or version 1 bits (2/3 authenticated/encrypted requests,
///    5/6 authenticated/encrypted responses; Blue Book 4.4.7);
/// 3. earlier APDUs of the same kind and direction: a get-request without the encryption every earlier get-request
///    of the association had is a downgrade (an active attacker stripping protection, or a client bug).
/// Exempt: ACSE APDUs (their protection is in the user-information), general-block-transfer blocks (their
/// reassembled APDU is judged), exception-response and confirmed-service-error (a server may send these plain when
/// it cannot decipher the request), and APDUs of unknown type (reported as malformed).
final class PolicyDowngradeRule: AnomalyRule {
    /// A class, so its tables are updated in place.
    final class Scope {
        let key: String
        init(key: String) { self.key = key }
        /// Per kind and direction: the protection every earlier APDU had (intersection) and its first frame.
        var seen: [Slot: (level: ProtectionLevel, frames: [Int])] = [:]
        /// Required by the security policy read in the conversation: requests, responses.
        var policyRequests = ProtectionLevel()
        var policyResponses = ProtectionLevel()
        var policyFrames: [Int] = []
        var policyValue: Int?
    }
    var scopes: [String: Scope] = [:]
    struct Slot: Hashable {
        var kind: String
        var direction: Direction?
    }
    static func isExempt(_ type: String) -> Bool {
        switch type {
        // `unknown`: not an APDU we can judge (apdu.malformed reports it).
        case "aarq", "aare", "rlrq", "rlre", "general-block-transfer", "exception-response", "confirmed-service-error",
             "unknown":
            true
        default:
            false
        }
    }

    func observe(_ event: RuleEvent, options: AnomalyOptions, into out: inout [Finding]) {
        guard case .apdu(let e) = event else { return }  // errors have no protection
        let r = e.record
        let c = e.conversation
        if Self.isExempt(r.decoded.type) || Self.isExempt(r.service.type) { return }
        if r.service.block?.kind == .generalBlockTransfer { return }
        let scopeKey = c.associationKey
        let scope: Scope
        if let s = scopes[c.id], s.key == scopeKey {
            scope = s
        } else {
            if scopes[c.id] == nil, scopes.count >= options.maxTrackedConversations { scopes.removeAll() }
            scope = Scope(key: scopeKey)
            scopes[c.id] = scope
        }
        // The policy applies from the next APDU on (the response that carries it is judged without it).
        defer { learnPolicy(e, scope) }
        let level = ProtectionLevel(r)
        let dir = r.provenance.direction
        let kind = RecordFacts.serviceKind(r)
        var reasons: [String] = []
        var required = ProtectionLevel()
        var evidence: [EvidenceItem] = []
        if c.cipheredContext && level.isEmpty {
            reasons.append("the association's application context (\(c.applicationContext ?? 0)) requires ciphering")
            evidence.append(EvidenceItem("application_context", .int(Int64(c.applicationContext ?? 0))))
            evidence.append(EvidenceItem("association_frames", .frames(c.associationFrames)))
            required.insert(.encrypted)
        }
        let policy = dir == .clientToServer ? scope.policyRequests : dir == .serverToClient ? scope.policyResponses
            : ProtectionLevel()
        if !policy.isEmpty, !level.isSuperset(of: policy) {
            reasons.append("the security policy (\(scope.policyValue ?? 0), read in frame "
                           + "\(scope.policyFrames.first ?? 0)) requires \(policy.name)")
            evidence.append(EvidenceItem("security_policy", .int(Int64(scope.policyValue ?? 0))))
            evidence.append(EvidenceItem("policy_frames", .frames(scope.policyFrames)))
            required.formUnion(policy)
        }
        if let k = kind {
            let slot = Slot(kind: k, direction: dir)
            if let prev = scope.seen[slot] {
                if !level.isSuperset(of: prev.level) {
                    reasons.append("every earlier \(k) of the association was \(prev.level.name) (first in frame "
                                   + "\(prev.frames.first ?? 0))")
                    evidence.append(EvidenceItem("earlier_protection", .string(prev.level.name)))
                    evidence.append(EvidenceItem("earlier_frames", .frames(prev.frames)))
                    required.formUnion(prev.level)
                }
                scope.seen[slot] = (prev.level.intersection(level), prev.frames)
            } else if scope.seen.count < 256 {
                scope.seen[slot] = (level, r.provenance.frames)
            }
        }
        guard !reasons.isEmpty else { return }
        var ev: [EvidenceItem] = [
            EvidenceItem("apdu", .string(r.decoded.type)),
            EvidenceItem("service", .string(kind ?? r.service.type)),
            EvidenceItem("protection", .string(level.name)),
            EvidenceItem("required", .string(required.name)),
        ]
        ev += evidence
        out.append(Finding("security.policy-downgrade", .error, about: r, systemTitle: r.security?.systemTitle,
                           message: "\(kind ?? r.decoded.type) protected \(level.name), less than required: "
                               + reasons.joined(separator: "; "),
                           evidence: ev))
    }

    /// A GET of Security setup attribute 2 (security_policy) answered in this conversation.
    func learnPolicy(_ e: APDUEvent, _ scope: Scope) {
        guard e.record.service.type == "get-response", let req = e.request, req.objects.count == 1,
              let o = req.objects.first, o.classID == 64, o.attributeID == 2,
              let v = e.record.service.values.first else { return }
        let raw: Int
        switch v {
        case .enumValue(let x): raw = Int(x)
        case .unsigned(let x): raw = Int(x)
        default: return
        }
        var requests = ProtectionLevel()
        var responses = ProtectionLevel()
        switch raw {
        case 0:
            break
        case 1...3:
            // Version 0: 1 all messages authenticated, 2 all encrypted, 3 authenticated and encrypted.
            let l: ProtectionLevel = raw == 1 ? .authenticated : raw == 2 ? .encrypted : [.authenticated, .encrypted]
            requests = l
            responses = l
        default:
            // Version 1 bits.
            if raw & 0x04 != 0 { requests.insert(.authenticated) }
            if raw & 0x08 != 0 { requests.insert(.encrypted) }
            if raw & 0x20 != 0 { responses.insert(.authenticated) }
            if raw & 0x40 != 0 { responses.insert(.encrypted) }
        }
        scope.policyValue = raw
        scope.policyRequests = requests
        scope.policyResponses = responses
        scope.policyFrames = e.record.provenance.frames
    }
}
