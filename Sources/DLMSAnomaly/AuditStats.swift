import DLMSWire

/// The invocation counters one sender used under one key: lowest, highest, how many APDUs.
public struct CounterRange: Sendable, Hashable {
    public var systemTitle: String
    public var key: String
    public var min: UInt32
    public var max: UInt32
    public var count: Int
}

/// Counts of one party (a meter or a client) in an audit report. Mergeable, and bounded: every set and table
/// has a cap.
public struct AuditStats: Sendable {
    public var associations = 0
    public var accepted = 0
    public var rejected = 0
    public var mechanisms: Set<String> = []
    public var applicationContexts: Set<String> = []
    /// security_policy values read from the Security setup object, and SET/activated ones.
    public var securityPolicies: Set<String> = []
    public var suites: Set<Int> = []
    /// APDUs by protection (`none`, `authenticated+encrypted`, ...).
    public var protection: [String: Int] = [:]
    /// APDUs by security verdict (`verified`, `authentication-failed`, ..., `plain` for unprotected ones).
    public var verdicts: [String: Int] = [:]
    public var apdus = 0
    public var counters: [String: CounterRange] = [:]
    public var findingsByCode: [String: Int] = [:]
    public var findingsBySeverity: [String: Int] = [:]
    public var firstTime: Timestamp?
    public var lastTime: Timestamp?
    /// The other side: clients of a meter, meters of a client.
    public var peers: Set<String> = []
    public var conversations: Set<String> = []
    static let maxSetSize = 64

    public init() {}

    mutating func insert(_ s: String, into set: WritableKeyPath<AuditStats, Set<String>>) {
        if self[keyPath: set].count < Self.maxSetSize { self[keyPath: set].insert(s) }
    }

    mutating func see(_ t: Timestamp?) {
        guard let t else { return }
        if firstTime.map({ t < $0 }) ?? true { firstTime = t }
        if lastTime.map({ t > $0 }) ?? true { lastTime = t }
    }

    mutating func counter(_ systemTitle: String, _ key: String, _ ic: UInt32) {
        let k = systemTitle + "/" + key
        if var c = counters[k] {
            c.min = Swift.min(c.min, ic)
            c.max = Swift.max(c.max, ic)
            c.count += 1
            counters[k] = c
        } else if counters.count < Self.maxSetSize {
            counters[k] = CounterRange(systemTitle: systemTitle, key: key, min: ic, max: ic, count: 1)
        }
    }

    mutating func merge(_ o: AuditStats) {
        associations += o.associations
        accepted += o.accepted
        rejected += o.rejected
        for s in o.mechanisms { insert(s, into: \.mechanisms) }
        for s in o.applicationContexts { insert(s, into: \.applicationContexts) }
        for s in o.securityPolicies { insert(s, into: \.securityPolicies) }
        for s in o.peers { insert(s, into: \.peers) }
        for s in o.conversations { insert(s, into: \.conversations) }
        if suites.count < Self.maxSetSize { suites.formUnion(o.suites) }
        for (k, v) in o.protection { protection[k, default: 0] += v }
        for (k, v) in o.verdicts { verdicts[k, default: 0] += v }
        apdus += o.apdus
        for (k, c) in o.counters {
            if var mine = counters[k] {
                mine.min = Swift.min(mine.min, c.min)
                mine.max = Swift.max(mine.max, c.max)
                mine.count += c.count
                counters[k] = mine
            } else if counters.count < Self.maxSetSize {
                counters[k] = c
            }
        }
        for (k, v) in o.findingsByCode { findingsByCode[k, default: 0] += v }
        for (k, v) in o.findingsBySeverity { findingsBySeverity[k, default: 0] += v }
        see(o.firstTime)
        see(o.lastTime)
    }

    func writeJSON(into j: inout JSONBuffer) {
        j.key("associations")
        j.beginObject()
        j.field("total", associations)
        j.field("accepted", accepted)
        j.field("rejected", rejected)
        j.endObject()
        writeStrings("mechanisms", mechanisms, into: &j)
        writeStrings("application_contexts", applicationContexts, into: &j)
        writeStrings("security_policies", securityPolicies, into: &j)
        j.key("security_suites")
        j.beginArray()
        for s in suites.sorted() { j.int(s) }
        j.endArray()
        j.field("apdus", apdus)
        writeCounts("apdus_by_protection", protection, into: &j)
        writeCounts("apdus_by_verdict", verdicts, into: &j)
        j.key("invocation_counters")
        j.beginArray()
        for c in counters.values.sorted(by: { ($0.systemTitle, $0.key) < ($1.systemTitle, $1.key) }) {
            j.beginObject()
            j.field("system_title", c.systemTitle)
            j.field("key", c.key)
            j.field("min", c.min)
            j.field("max", c.max)
            j.field("apdus", c.count)
            j.endObject()
        }
        j.endArray()
        j.key("findings")
        j.beginObject()
        writeCounts("by_severity", findingsBySeverity, into: &j)
        writeCounts("by_code", findingsByCode, into: &j)
        j.endObject()
        if let t = firstTime { j.field("first_time", t.rfc3339) }
        if let t = lastTime { j.field("last_time", t.rfc3339) }
        j.field("conversations", conversations.count)
    }

    func writeStrings(_ key: String, _ set: Set<String>, into j: inout JSONBuffer) {
        j.key(key)
        j.beginArray()
        for s in set.sorted() { j.string(s) }
        j.endArray()
    }

    func writeCounts(_ key: String, _ counts: [String: Int], into j: inout JSONBuffer) {
        j.key(key)
        j.beginObject()
        for (k, v) in counts.sorted(by: { $0.key < $1.key }) { j.field(k, v) }
        j.endObject()
    }
}
