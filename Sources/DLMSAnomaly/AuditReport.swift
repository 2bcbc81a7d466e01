import DLMSAPDU
import DLMSSession
import DLMSWire

/// An audit report over a whole run: per meter (server system title) and per client, the associations,
/// mechanisms and security policies seen, APDU counts by protection and verdict, invocation counter ranges and the
/// findings by code and severity; plus a timeline of the findings.
///
/// Feed it every record and every finding in order (`add`), then write it as JSON (`writeJSON`, for audit
/// pipelines) or as a self-contained HTML page (`writeHTML`, no network needed). Memory is bounded: conversations
/// are folded into their meter and client when the table is full, sets and tables have caps, and the timeline
/// keeps `maxReportFindings` findings (the counts stay exact).
public final class AuditReport {
    public let options: AnomalyOptions

    /// A class, so its counts are updated in place.
    final class Conversation {
        let id: String
        var client: String
        var server: String?
        var meterTitle: [UInt8]?
        var stats = AuditStats()
        var pendingPolicy: Set<UInt32> = []
        var lastUse = 0

        init(id: String, client: String) {
            self.id = id
            self.client = client
        }

        var meter: String {
            if let t = meterTitle { return Hex.encode(t, uppercase: true) }
            return server.map { "address " + $0 } ?? "conversation " + id
        }
    }

    var conversations: [String: Conversation] = [:]
    var meters: [String: AuditStats] = [:]
    var clients: [String: AuditStats] = [:]
    var clock = 0
    public private(set) var timeline: [Finding] = []
    public private(set) var droppedFindings = 0
    public private(set) var findingsByCode: [String: Int] = [:]
    public private(set) var findingsBySeverity: [Severity: Int] = [:]
    var summary: Summary?
    var firstTime: Timestamp?
    var lastTime: Timestamp?
    var sources: [String] = []

    public init(options: AnomalyOptions = AnomalyOptions()) {
        self.options = options
    }

    // MARK: - Input

    public func add(_ record: Record) {
        switch record {
        case .conversation(let c):
            let conv = conversation(c.id)
            if let cl = c.client { conv.client = RecordFacts.host(of: cl) }
            conv.server = c.server
            if let s = c.source, !sources.contains(s), sources.count < 64 { sources.append(s) }
        case .apdu(let r):
            apdu(r, conversation(r.provenance.conversation))
        case .summary(let s):
            summary = s
        case .error(let e):
            see(e.provenance.time)
        case .frame:
            // Link frames carry no APDU and nothing the report counts.
            break
        }
    }

    public func add(_ finding: Finding) {
        findingsByCode[finding.code, default: 0] += 1
        findingsBySeverity[finding.severity, default: 0] += 1
        if timeline.count < options.maxReportFindings { timeline.append(finding) } else { droppedFindings += 1 }
        see(finding.time)
        if let conv = conversations[finding.conversation] {
            conv.stats.findingsByCode[finding.code, default: 0] += 1
            conv.stats.findingsBySeverity[finding.severity.description, default: 0] += 1
        }
    }

    public func add(_ findings: [Finding]) { for f in findings { add(f) } }

    func see(_ t: Timestamp?) {
        guard let t else { return }
        if firstTime.map({ t < $0 }) ?? true { firstTime = t }
        if lastTime.map({ t > $0 }) ?? true { lastTime = t }
    }

    func conversation(_ id: String) -> Conversation {
        clock += 1
        if let c = conversations[id] {
            c.lastUse = clock
            return c
        }
        if conversations.count >= options.maxTrackedConversations,
           let victim = conversations.min(by: { $0.value.lastUse < $1.value.lastUse })?.value
        {
            // The oldest conversation is folded into its meter and client for good.
            fold(victim, meters: &meters, clients: &clients)
            conversations[victim.id] = nil
        }
        let c = Conversation(id: id, client: id)
        c.lastUse = clock
        conversations[id] = c
        return c
    }

    func apdu(_ r: APDURecord, _ c: Conversation) {
        let s = r.service
        see(r.provenance.time)
        c.stats.see(r.provenance.time)
        c.stats.insert(c.id, into: \.conversations)
        c.stats.apdus += 1
        c.stats.verdicts[r.security?.verdict ?? "plain", default: 0] += 1
        c.stats.protection[ProtectionLevel(r).name, default: 0] += 1
        if let a = s.association {
            switch s.type {
            case "aarq":
                c.stats.associations += 1
                c.stats.insert(a.mechanism.map(AuthenticationRule.mechanismName) ?? "none", into: \.mechanisms)
                if let ctx = a.applicationContext { c.stats.insert(Self.contextName(ctx), into: \.applicationContexts) }
                if let st = a.callingAPTitle, !st.isEmpty {
                    c.client = "system title " + Hex.encode(st, uppercase: true)
                }
            case "aare":
                if a.result == 0 { c.stats.accepted += 1 } else if a.result != nil { c.stats.rejected += 1 }
                if let st = a.respondingAPTitle, !st.isEmpty { c.meterTitle = st }
            default:
                break
            }
        }
        for layer in RecordFacts.layers(r.security) {
            if c.stats.suites.count < AuditStats.maxSetSize { c.stats.suites.insert(layer.suite) }
            if let ic = layer.invocationCounter, let st = layer.systemTitle {
                c.stats.counter(Hex.encode(st, uppercase: true), RecordFacts.keyRole(layer), ic)
            }
            if r.provenance.direction == .serverToClient, c.meterTitle == nil, let st = layer.systemTitle {
                c.meterTitle = st
            }
        }
        // Security policies: read (GET of Security setup attribute 2), set, or activated.
        if s.type == "get-request", s.objects.count == 1, let o = s.objects.first, o.classID == 64,
           o.attributeID == 2, let id = s.invokeID, c.pendingPolicy.count < 16
        {
            c.pendingPolicy.insert(id)
        } else if s.type == "get-response", let id = s.invokeID, c.pendingPolicy.remove(id) != nil,
                  let v = s.values.first, let p = SecuritySetupRule.integer(v)
        {
            c.stats.insert("\(p) (read)", into: \.securityPolicies)
        } else if s.type == "set-request", s.objects.count == 1, let o = s.objects.first, o.classID == 64,
                  o.attributeID == 2, let v = s.values.first, let p = SecuritySetupRule.integer(v)
        {
            c.stats.insert("\(p) (set)", into: \.securityPolicies)
        } else if s.type == "action-request", let o = s.objects.first, o.classID == 64, o.methodID == 1,
                  let v = s.values.first, let p = SecuritySetupRule.integer(v)
        {
            c.stats.insert("\(p) (activated)", into: \.securityPolicies)
        }
    }

    static func contextName(_ ctx: Int) -> String {
        switch ctx {
        case 1: "LN"
        case 2: "SN"
        case 3: "LN with ciphering"
        case 4: "SN with ciphering"
        default: "context \(ctx)"
        }
    }

    func fold(_ c: Conversation, meters: inout [String: AuditStats], clients: inout [String: AuditStats]) {
        let meterID = meters[c.meter] != nil || meters.count < options.maxTrackedSenders ? c.meter : "other"
        let clientID = clients[c.client] != nil || clients.count < options.maxTrackedSenders ? c.client : "other"
        var m = c.stats
        m.insert(c.client, into: \.peers)
        meters[meterID, default: AuditStats()].merge(m)
        var cl = c.stats
        cl.peers = []
        cl.insert(c.meter, into: \.peers)
        clients[clientID, default: AuditStats()].merge(cl)
    }

    /// Meters and clients with every open conversation folded in.
    func parties() -> (meters: [(String, AuditStats)], clients: [(String, AuditStats)]) {
        var m = meters
        var c = clients
        for conv in conversations.values.sorted(by: { $0.id < $1.id }) where conv.stats.apdus > 0 {
            fold(conv, meters: &m, clients: &c)
        }
        return (m.sorted { $0.key < $1.key }, c.sorted { $0.key < $1.key })
    }

    // MARK: - JSON

    /// The report as one JSON document (pretty enough to read: one member per line at the top level).
    public func writeJSON() -> String {
        let (m, c) = parties()
        var j = JSONBuffer(capacity: 1 << 14)
        j.beginObject()
        j.field("kind", "audit-report")
        j.field("version", 1)
        j.key("capture")
        j.beginObject()
        j.key("sources")
        j.beginArray()
        for s in sources { j.string(s) }
        j.endArray()
        if let t = firstTime { j.field("first_time", t.rfc3339) }
        if let t = lastTime { j.field("last_time", t.rfc3339) }
        if let s = summary {
            j.field("frames", s.frames)
            j.field("apdus", s.apdus)
            j.field("errors", s.errors)
            j.field("conversations", s.conversations)
        }
        j.endObject()
        j.key("findings")
        j.beginObject()
        AnomalyEngine.writeCounts(bySeverity: findingsBySeverity, byCode: findingsByCode, into: &j)
        j.field("in_timeline", timeline.count)
        j.field("dropped_from_timeline", droppedFindings)
        j.endObject()
        j.key("meters")
        j.beginArray()
        for (id, s) in m {
            j.beginObject()
            j.field("meter", id)
            s.writeJSON(into: &j)
            writeSortedStrings("clients", s.peers, into: &j)
            j.endObject()
        }
        j.endArray()
        j.key("clients")
        j.beginArray()
        for (id, s) in c {
            j.beginObject()
            j.field("client", id)
            s.writeJSON(into: &j)
            writeSortedStrings("meters", s.peers, into: &j)
            j.endObject()
        }
        j.endArray()
        j.key("timeline")
        j.beginArray()
        for f in timeline { f.writeJSON(into: &j) }
        j.endArray()
        j.endObject()
        return j.string + "\n"
    }

    func writeSortedStrings(_ key: String, _ set: Set<String>, into j: inout JSONBuffer) {
        j.key(key)
        j.beginArray()
        for s in set.sorted() { j.string(s) }
        j.endArray()
    }
}
