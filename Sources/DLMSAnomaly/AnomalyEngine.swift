import DLMSAPDU
import DLMSSession
import DLMSWire

/// Runs every anomaly rule over the analyzer's records, in capture order.
///
/// ```swift
/// let engine = AnomalyEngine(options: AnomalyOptions())
/// for record in records {
///     render(record)
///     for f in engine.observe(record) { render(f) }   // right after the record they concern
/// }
/// for f in engine.finish() { render(f) }
/// ```
///
/// The engine keeps a small table per conversation (association, pending requests) that the rules share, and each
/// rule keeps its own bounded state. It never decrypts: it judges what the session layer concluded.
public final class AnomalyEngine {
    public let options: AnomalyOptions
    /// Findings so far, by code and by severity (for the summary).
    public private(set) var countsByCode: [String: Int] = [:]
    public private(set) var countsBySeverity: [Severity: Int] = [:]
    /// The most severe finding so far (for `--fail-on`).
    public private(set) var worstSeverity: Severity?

    var conversations: [String: ConversationContext] = [:]
    var clock = 0

    let invocationCounters = InvocationCounterRule()
    let verdicts = SecurityVerdictRule()
    let authentication = AuthenticationRule()
    let associations = AssociationRule()
    let cleartext = CleartextPasswordRule()
    let downgrade = PolicyDowngradeRule()
    let securitySetup = SecuritySetupRule()
    let operations = OperationRule()
    let clockSet = ClockSetRule()
    let transport = TransportErrorRule()
    let malformed = MalformedAPDURule()
    let blocks = BlockTransferRule()
    let exceptions = ExceptionRule()

    public init(options: AnomalyOptions = AnomalyOptions()) {
        self.options = options
    }

    /// The findings that concern `record`, to be rendered right after it.
    public func observe(_ record: Record) -> [Finding] {
        var out: [Finding] = []
        switch record {
        case .apdu(let r):
            let c = context(r.provenance.conversation)
            let request = track(r, c)
            let event = RuleEvent.apdu(APDUEvent(record: r, conversation: c, request: request))
            run(event, into: &out)
            if r.service.type == "aare", let a = r.service.association { c.accepted = a.result == 0 }
        case .error(let e):
            run(.error(e), into: &out)
        case .conversation(let cr):
            let c = context(cr.id)
            c.client = cr.client
            c.server = cr.server
            if let cl = cr.client { c.clientIdentity = RecordFacts.host(of: cl) }
        case .frame, .summary:
            // Link frames (SNRM, UA, DISC, RR) carry no APDU; the summary is the analyzer's own count.
            break
        }
        return account(out)
    }

    /// End of input: findings about what never completed.
    public func finish() -> [Finding] {
        var out: [Finding] = []
        invocationCounters.finish(options: options, into: &out)
        verdicts.finish(options: options, into: &out)
        authentication.finish(options: options, into: &out)
        associations.finish(options: options, into: &out)
        cleartext.finish(options: options, into: &out)
        downgrade.finish(options: options, into: &out)
        securitySetup.finish(options: options, into: &out)
        operations.finish(options: options, into: &out)
        clockSet.finish(options: options, into: &out)
        transport.finish(options: options, into: &out)
        malformed.finish(options: options, into: &out)
        blocks.finish(options: options, into: &out)
        exceptions.finish(options: options, into: &out)
        return account(out)
    }

    func run(_ event: RuleEvent, into out: inout [Finding]) {
        transport.observe(event, options: options, into: &out)
        malformed.observe(event, options: options, into: &out)
        verdicts.observe(event, options: options, into: &out)
        invocationCounters.observe(event, options: options, into: &out)
        cleartext.observe(event, options: options, into: &out)
        authentication.observe(event, options: options, into: &out)
        // Failed authentications feed the brute-force count of the association rule.
        for f in out where f.code == "security.hls-failed" || f.code == "security.lls-failed" {
            associations.noteFailedAuthentication(f, event: event, options: options, into: &out)
        }
        associations.observe(event, options: options, into: &out)
        downgrade.observe(event, options: options, into: &out)
        securitySetup.observe(event, options: options, into: &out)
        operations.observe(event, options: options, into: &out)
        clockSet.observe(event, options: options, into: &out)
        blocks.observe(event, options: options, into: &out)
        exceptions.observe(event, options: options, into: &out)
    }

    func account(_ findings: [Finding]) -> [Finding] {
        guard !findings.isEmpty else { return findings }
        var out = findings
        for i in out.indices {
            if let s = options.severityOverrides[out[i].code] { out[i].severity = s }
            countsByCode[out[i].code, default: 0] += 1
            countsBySeverity[out[i].severity, default: 0] += 1
            if worstSeverity.map({ out[i].severity > $0 }) ?? true { worstSeverity = out[i].severity }
        }
        return out
    }

    /// Whether findings of `severity` or worse were reported (`--fail-on`).
    public func hasFindings(atLeast severity: Severity) -> Bool {
        worstSeverity.map { $0 >= severity } ?? false
    }

    // MARK: - Summary

    /// The findings counts for the end-of-run summary record: `"anomalies": {"total": n, "by_severity": {...},
    /// "by_code": {...}}` (call after `finish()`).
    public func writeSummary(into j: inout JSONBuffer) {
        j.key("anomalies")
        j.beginObject()
        Self.writeCounts(bySeverity: countsBySeverity, byCode: countsByCode, into: &j)
        j.endObject()
    }

    /// `"total"`, `"by_severity"` (worst first, zeros included) and `"by_code"` (sorted) members: the summary's
    /// and the audit report's shape.
    static func writeCounts(bySeverity: [Severity: Int], byCode: [String: Int], into j: inout JSONBuffer) {
        j.field("total", byCode.values.reduce(0, +))
        j.key("by_severity")
        j.beginObject()
        for s in Severity.allCases.reversed() { j.field(s.description, bySeverity[s] ?? 0) }
        j.endObject()
        j.key("by_code")
        j.beginObject()
        for (code, n) in byCode.sorted(by: { $0.key < $1.key }) { j.field(code, n) }
        j.endObject()
    }

    /// The same counts as text lines for the text summary: `anomalies: 1 critical, 2 warning, 3 info`, then one
    /// line per code, worst first.
    public func summaryLines() -> [String] {
        let total = countsByCode.values.reduce(0, +)
        guard total > 0 else { return ["anomalies: none"] }
        let bySeverity = Severity.allCases.reversed().compactMap { s in
            countsBySeverity[s].map { "\($0) \(s)" }
        }
        var lines = ["anomalies: \(total) (" + bySeverity.joined(separator: ", ") + ")"]
        for (code, n) in countsByCode.sorted(by: { $0.key < $1.key }) { lines.append("  \(code): \(n)") }
        return lines
    }

    // MARK: - Conversations

    func context(_ id: String) -> ConversationContext {
        clock += 1
        if let c = conversations[id] {
            c.lastUse = clock
            return c
        }
        if conversations.count >= options.maxTrackedConversations,
           let victim = conversations.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
        {
            conversations[victim] = nil
        }
        let c = ConversationContext(id: id)
        c.lastUse = clock
        conversations[id] = c
        return c
    }

    /// Follows associations and pairs responses with requests; returns the request a response answers.
    func track(_ r: APDURecord, _ c: ConversationContext) -> PendingRequest? {
        let s = r.service
        if let a = s.association {
            switch s.type {
            case "aarq":
                c.association += 1
                c.associationFrames = r.provenance.frames
                c.applicationContext = a.applicationContext
                c.mechanism = a.mechanism
                c.accepted = nil
                c.pending.removeAll()
                if let st = a.callingAPTitle, !st.isEmpty {
                    c.clientSystemTitle = st
                    c.clientIdentity = "system title " + Hex.encode(st, uppercase: true)
                } else if let cl = c.client {
                    c.clientIdentity = RecordFacts.host(of: cl)
                } else {
                    switch r.transport {
                    case .hdlc(let segs, _):
                        if let f = segs.first { c.clientIdentity = "HDLC address \(f.source.value)" }
                    case .wrapper(let h):
                        c.clientIdentity = "wPort \(h.sourcePort)"
                    case .mbus(let segs):
                        if let a = segs.first?.address { c.clientIdentity = "M-Bus address \(a)" }
                    case .raw, .iec432:
                        break
                    }
                }
            case "aare":
                if let st = a.respondingAPTitle, !st.isEmpty { c.serverSystemTitle = st }
                if a.applicationContext != nil, c.applicationContext == nil {
                    c.applicationContext = a.applicationContext
                }
            case "rlrq", "rlre":
                c.pending.removeAll()
            default:
                break
            }
            return nil
        }
        // A server's system title also travels in general-* headers (pushes have no AARE).
        if r.provenance.direction == .serverToClient, c.serverSystemTitle == nil, let st = r.security?.systemTitle {
            c.serverSystemTitle = st
        }
        guard let id = s.invokeID else { return nil }
        if s.type.hasSuffix("-request"), !s.objects.isEmpty {
            if c.pending.count >= ConversationContext.maxPending { c.pending.removeAll() }
            c.pending[id] = PendingRequest(type: s.type, objects: s.objects, values: s.values,
                                           frames: r.provenance.frames, time: r.provenance.time)
            return nil
        }
        if s.type.hasSuffix("-response") || s.type == "confirmed-service-error", let p = c.pending[id] {
            if s.block == nil || s.block?.lastBlock == true { c.pending[id] = nil }
            return p
        }
        return nil
    }
}
