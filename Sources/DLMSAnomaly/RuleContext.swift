import DLMSAPDU
import DLMSSession
import DLMSWire

/// A request waiting for its response (responses carry only the invoke id).
public struct PendingRequest: Sendable {
    public var type: String
    public var objects: [ObjectRef]
    public var values: [DataValue]
    public var frames: [Int]
    public var time: Timestamp?
}

/// What the engine knows about one conversation, shared by every rule: the current association (its number,
/// application context, mechanism, parties) and the requests still waiting for their response.
public final class ConversationContext {
    public let id: String
    /// From the `conversation` record: `127.0.0.1:33310`, `HDLC address 16`, ...
    public var client: String?
    public var server: String?
    /// Counts the AARQs of the conversation: APDUs with the same number belong to the same association.
    public var association = 0 {
        didSet { associationKey = id + "#" + String(association) }
    }
    /// The key of the current association: `conversation#n`.
    public private(set) var associationKey: String
    public var associationFrames: [Int] = []
    public var applicationContext: Int?
    public var mechanism: Int?
    public var clientSystemTitle: [UInt8]?
    public var serverSystemTitle: [UInt8]?
    /// Who asked for the association: the calling AP title when sent, else the client's network address without
    /// its port, else its HDLC address or wPort, else the conversation.
    public var clientIdentity: String
    /// Set by the AARE: accepted or not (nil before the AARE).
    public var accepted: Bool?
    var pending: [UInt32: PendingRequest] = [:]
    static let maxPending = 64
    /// Recency for the least-recently-used eviction.
    var lastUse = 0

    init(id: String) {
        self.id = id
        self.clientIdentity = id
        self.associationKey = id + "#0"
    }


    /// Whether the association's application context asks for ciphering (2.16.756.5.8.1.3 / .4).
    public var cipheredContext: Bool { applicationContext == 3 || applicationContext == 4 }
}

/// What a rule sees for one APDU record: the record, its conversation, and the request it answers (for a
/// response whose invoke id matched). A class: every rule gets a reference, not a copy of the record.
public final class APDUEvent {
    public let record: APDURecord
    public let conversation: ConversationContext
    public let request: PendingRequest?
    init(record: APDURecord, conversation: ConversationContext, request: PendingRequest?) {
        self.record = record
        self.conversation = conversation
        self.request = request
    }
}

/// The inputs of a rule.
public enum RuleEvent {
    case apdu(APDUEvent)
    case error(ErrorRecord)
}

/// One anomaly rule: bounded state keyed by system title or conversation, capture time as its only clock. Rules
/// are classes held in constants of the engine (no copy and no exclusivity check per call).
protocol AnomalyRule: AnyObject {
    func observe(_ event: RuleEvent, options: AnomalyOptions, into out: inout [Finding])
    /// End of input: what is still pending.
    func finish(options: AnomalyOptions, into out: inout [Finding])
}

extension AnomalyRule {
    func finish(options: AnomalyOptions, into out: inout [Finding]) {}
}

// MARK: - Helpers shared by the rules

extension Finding {
    /// A finding about one APDU record (its frames, time and conversation).
    init(_ code: String, _ severity: Severity, about r: APDURecord, systemTitle: [UInt8]? = nil, message: String,
         evidence: [EvidenceItem] = []) {
        self.init(code: code, severity: severity, frames: r.provenance.frames, time: r.provenance.time,
                  conversation: r.provenance.conversation, systemTitle: systemTitle, message: message,
                  evidence: evidence)
    }
}

/// How an APDU was protected (the union of its protection layers).
struct ProtectionLevel: OptionSet, Hashable {
    let rawValue: UInt8
    static let authenticated = ProtectionLevel(rawValue: 1)
    static let encrypted = ProtectionLevel(rawValue: 2)
    static let signed = ProtectionLevel(rawValue: 4)

    init(rawValue: UInt8) { self.rawValue = rawValue }

    init(_ r: APDURecord) {
        var level = ProtectionLevel()
        var layer = r.security
        var depth = 0
        while let s = layer, depth < 8 {
            if s.authenticated { level.insert(.authenticated) }
            if s.encrypted { level.insert(.encrypted) }
            if s.protection == "general-signing" { level.insert(.signed) }
            layer = s.inner.first
            depth += 1
        }
        self = level
    }

    /// `none`, `authenticated`, `encrypted`, `authenticated+encrypted`, ... (static strings: no allocation).
    var name: String { Self.names[Int(rawValue & 7)] }
    static let names = ["none", "authenticated", "encrypted", "authenticated+encrypted", "signed",
                        "authenticated+signed", "encrypted+signed", "authenticated+encrypted+signed"]
}

enum RecordFacts {
    static let acseTypes: Set<String> = ["aarq", "aare", "rlrq", "rlre"]

    /// The service type of an APDU, with its protection removed when it could be; for a protected APDU that could
    /// not be opened, the service a service-specific ciphering names (`glo-get-request` → `get-request`), else nil.
    static func serviceKind(_ r: APDURecord) -> String? {
        if r.security == nil { return r.service.type }
        if let s = r.security, s.verdict == "verified" || s.verdict == "decrypted-unverified",
           r.service.protection == nil
        {
            return r.service.type
        }
        return r.decoded.facts.protection?.protectedService
    }

    /// The key role of a protected APDU: the one that verified, else the one its kind asks for.
    static func keyRole(_ s: SecurityResult) -> String {
        if let k = s.key { return k }
        switch s.protection {
        case "general-signing": return "signing"
        // identified, wrapped or agreed: without the key the header alone does not say which (key-info).
        case "general-ciphering": return "unknown"
        default: break
        }
        if s.protection.contains("ded") { return "dedicated" }
        return s.broadcast ? "gbek" : "guek"
    }

    /// Every layer of a security result, outermost first (bounded).
    static func layers(_ s: SecurityResult?) -> [SecurityResult] {
        var out: [SecurityResult] = []
        var layer = s
        while let l = layer, out.count < 8 {
            out.append(l)
            layer = l.inner.first
        }
        return out
    }

    /// The network address of a `host:port` / `[v6]:port` endpoint, without the port.
    static func host(of endpoint: String) -> String {
        if endpoint.hasPrefix("["), let close = endpoint.firstIndex(of: "]") {
            return String(endpoint[...close])
        }
        if endpoint.filter({ $0 == ":" }).count == 1, let colon = endpoint.lastIndex(of: ":") {
            return String(endpoint[..<colon])
        }
        return endpoint
    }

    /// The 6-byte logical name as `a.b.c.d.e.f`.
    static func obis<C: Collection>(_ b: C) -> String where C.Element == UInt8 {
        b.map(String.init).joined(separator: ".")
    }
}
