import DLMSAPDU
import DLMSSession
import DLMSWire

/// `association.rejected` (an AARE that does not accept the AARQ) and `association.brute-force` (repeated rejected
/// or failed associations from the same client within a window: password or key guessing, or a misconfigured
/// head-end hammering a meter).
///
/// The client is the calling AP title when the AARQ carries one, else the client's network address without its
/// port (every TCP connection has a new port), else its HDLC address or wPort. Failures are counted in a sliding
/// window of capture time (`bruteForceWindow`); without timestamps every failure counts. One finding per burst:
/// the count starts again once the window holds no failure.
final class AssociationRule: AnomalyRule {
    struct Client {
        var failures: [(time: Timestamp?, frames: [Int])] = []
        var reported = false
        var lastUse = 0
    }
    var clients: [String: Client] = [:]
    var clock = 0

    func observe(_ event: RuleEvent, options: AnomalyOptions, into out: inout [Finding]) {
        guard case .apdu(let e) = event else { return }  // errors are not associations
        let r = e.record
        guard r.service.type == "aare", let a = r.service.association, let result = a.result, result != 0 else {
            return
        }
        let c = e.conversation
        let resultName = result == 1 ? "rejected-permanent" : result == 2 ? "rejected-transient" : "result \(result)"
        var evidence: [EvidenceItem] = [
            EvidenceItem("result", .string(resultName)),
            EvidenceItem("client", .string(c.clientIdentity)),
            EvidenceItem("aarq_frames", .frames(c.associationFrames)),
        ]
        if let d = a.diagnostic {
            evidence.append(EvidenceItem("diagnostic", .int(Int64(d))))
            evidence.append(EvidenceItem("diagnostic_meaning",
                                         .string(Self.diagnosticName(d, source: a.diagnosticSource))))
        }
        if let s = a.diagnosticSource { evidence.append(EvidenceItem("diagnostic_source", .string(s))) }
        if let m = c.mechanism {
            evidence.append(EvidenceItem("mechanism", .string(AuthenticationRule.mechanismName(m))))
        }
        if let ctx = c.applicationContext { evidence.append(EvidenceItem("application_context", .int(Int64(ctx)))) }
        out.append(Finding("association.rejected", .warning, about: r, systemTitle: c.serverSystemTitle,
                           message: "the meter rejected the association (\(resultName)"
                               + (a.diagnostic.map { ", " + Self.diagnosticName($0, source: a.diagnosticSource) }
                                   ?? "") + ")",
                           evidence: evidence))
        failure(e, options: options, into: &out)
    }

    /// A failed HLS/LLS check ends the association as surely as a rejection.
    func noteFailedAuthentication(_ f: Finding, event: RuleEvent, options: AnomalyOptions,
                                           into out: inout [Finding]) {
        guard case .apdu(let e) = event else { return }
        failure(e, options: options, into: &out)
    }

    func failure(_ e: APDUEvent, options: AnomalyOptions, into out: inout [Finding]) {
        let id = e.conversation.clientIdentity
        let time = e.record.provenance.time
        clock += 1
        var client = clients[id] ?? Client()
        if clients[id] == nil, clients.count >= options.maxTrackedSenders,
           let victim = clients.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
        {
            clients[victim] = nil
        }
        client.lastUse = clock
        if let now = time {
            client.failures.removeAll { f in f.time.map { now.seconds(since: $0) > options.bruteForceWindow } ?? false }
        }
        if client.failures.isEmpty { client.reported = false }
        client.failures.append((time, e.record.provenance.frames))
        // Bounded: only the last `bruteForceCount` failures matter for the threshold (and a few for evidence).
        let keep = max(options.bruteForceCount, 1) * 4
        if client.failures.count > keep { client.failures.removeFirst(client.failures.count - keep) }
        if client.failures.count >= options.bruteForceCount, !client.reported {
            client.reported = true
            let frames = client.failures.compactMap { $0.frames.first }
            var evidence: [EvidenceItem] = [
                EvidenceItem("client", .string(id)),
                EvidenceItem("failures", .int(Int64(client.failures.count))),
                EvidenceItem("failure_frames", .frames(frames)),
                EvidenceItem("threshold", .int(Int64(options.bruteForceCount))),
            ]
            if let first = client.failures.first?.time, let now = time {
                evidence.append(EvidenceItem("seconds", .string(String(format1(now.seconds(since: first))))))
                evidence.append(EvidenceItem("window_seconds", .int(Int64(options.bruteForceWindow))))
            } else {
                evidence.append(EvidenceItem("window_seconds", .string("not applied (no capture timestamps)")))
            }
            out.append(Finding("association.brute-force", .critical, about: e.record,
                               systemTitle: e.conversation.serverSystemTitle,
                               message: "\(client.failures.count) rejected or failed associations from \(id)"
                                   + (time != nil ? " within \(Int(options.bruteForceWindow)) s" : "")
                                   + ": password or key guessing?",
                               evidence: evidence))
        }
        clients[id] = client
    }

    /// ACSE result-source-diagnostic (IEC 62056-5-3 §7.2.3, ISO 8650 Associate-source-diagnostic).
    static func diagnosticName(_ d: Int, source: String?) -> String {
        if source == "acse-service-provider" {
            switch d {
            case 0: return "null"
            case 1: return "no-reason-given"
            case 2: return "no-common-acse-version"
            default: return "diagnostic \(d)"
            }
        }
        switch d {
        case 0: return "null"
        case 1: return "no-reason-given"
        case 2: return "application-context-name-not-supported"
        case 3: return "calling-AP-title-not-recognized"
        case 4: return "calling-AP-invocation-identifier-not-recognized"
        case 5: return "calling-AE-qualifier-not-recognized"
        case 6: return "calling-AE-invocation-identifier-not-recognized"
        case 7: return "called-AP-title-not-recognized"
        case 8: return "called-AP-invocation-identifier-not-recognized"
        case 9: return "called-AE-qualifier-not-recognized"
        case 10: return "called-AE-invocation-identifier-not-recognized"
        case 11: return "authentication-mechanism-name-not-recognised"
        case 12: return "authentication-mechanism-name-required"
        case 13: return "authentication-failure"
        case 14: return "authentication-required"
        default: return "diagnostic \(d)"
        }
    }
}

/// Seconds with one decimal, without Foundation.
func format1(_ v: Double) -> String {
    let tenths = Int64((v * 10).rounded())
    let sign = tenths < 0 ? "-" : ""
    let a = tenths < 0 ? -tenths : tenths
    return sign + String(a / 10) + "." + String(a % 10)
}
