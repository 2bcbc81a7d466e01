import DLMSAPDU
import DLMSAnomaly
import DLMSSession
import DLMSWire

/// Records built directly, for the rules whose inputs the Gurux captures do not contain (counter regressions,
/// downgrades, undecryptable APDUs): the same values the pipeline builds, with only the fields the rules read.
enum Build {
    static let client: [UInt8] = [0x43, 0x4C, 0x49, 0, 0, 0, 0, 1]
    static let meter: [UInt8] = [0x4D, 0x54, 0x52, 0, 0, 0, 0, 1]

    static func provenance(_ frame: Int, _ direction: Direction, conversation: String = "tcp-1",
                           second: Int64? = nil) -> Provenance {
        Provenance(frames: [frame], time: second.map { Timestamp(seconds: 1_700_000_000 + $0, micros: 0) },
                   conversation: conversation, direction: direction)
    }

    static func aarq(_ frame: Int, context: Int = 3, mechanism: Int? = 5, conversation: String = "tcp-1") -> Record {
        var facts = ServiceFacts(type: "aarq")
        var a = AssociationFacts()
        a.applicationContext = context
        a.mechanism = mechanism
        a.callingAPTitle = client
        facts.association = a
        return .apdu(APDURecord(provenance: provenance(frame, .clientToServer, conversation: conversation),
                                transport: .raw, bytes: [0x60], decoded: DecodedAPDU(tag: 0x60, type: "aarq",
                                                                                      facts: facts),
                                service: facts))
    }

    static func aare(_ frame: Int, result: Int = 0, conversation: String = "tcp-1") -> Record {
        var facts = ServiceFacts(type: "aare")
        var a = AssociationFacts()
        a.respondingAPTitle = meter
        a.result = result
        facts.association = a
        return .apdu(APDURecord(provenance: provenance(frame, .serverToClient, conversation: conversation),
                                transport: .raw, bytes: [0x61], decoded: DecodedAPDU(tag: 0x61, type: "aare",
                                                                                      facts: facts),
                                service: facts))
    }

    /// A service APDU, protected when `ic` is given (glo- or ded-ciphering, `sc` security control).
    static func service(_ frame: Int, _ type: String, direction: Direction? = nil, ic: UInt32? = nil,
                        sc: UInt8 = 0x30, dedicated: Bool = false, verdict: String = "verified",
                        sender: [UInt8]? = nil, objects: [ObjectRef] = [], values: [DataValue] = [],
                        invokeID: UInt32 = 1, result: String? = nil, notes: [String] = [],
                        protection kind: String? = nil, conversation: String = "tcp-1") -> Record {
        let dir = direction ?? (type.hasSuffix("-request") ? .clientToServer : .serverToClient)
        var facts = ServiceFacts(type: type)
        facts.invokeID = invokeID
        facts.objects = objects
        facts.values = values
        facts.result = result
        var decoded = DecodedAPDU(tag: 0, type: type, facts: facts)
        var security: SecurityResult?
        if let ic {
            let k = kind ?? (dedicated ? "ded-ciphering" : "glo-ciphering")
            let prefix = dedicated ? "ded-" : "glo-"
            var p = ProtectionFacts(kind: k, securityControl: sc, invocationCounter: ic, payload: [])
            p.protectedService = type
            var outer = ServiceFacts(type: prefix + type)
            outer.protection = p
            decoded = DecodedAPDU(tag: 0, type: prefix + type, facts: outer)
            let st = sender ?? (dir == .clientToServer ? client : meter)
            let ok = verdict == "verified" || verdict == "decrypted-unverified"
            security = SecurityResult(
                protection: k, securityControl: sc, suite: 0, authenticated: sc & 0x10 != 0,
                encrypted: sc & 0x20 != 0, broadcast: false, compressed: false, systemTitle: st,
                invocationCounter: ic, key: ok ? (dedicated ? "dedicated" : "guek") : nil, verdict: verdict,
                plainDecoded: ok ? DecodedAPDU(tag: 0, type: type, facts: facts) : nil)
            if !ok { facts = outer }
        }
        return .apdu(APDURecord(provenance: provenance(frame, dir, conversation: conversation), transport: .raw,
                                bytes: [0], decoded: decoded, security: security, service: facts, notes: notes))
    }

    static let clock = ObjectRef(classID: 8, obis: [0, 0, 1, 0, 0, 255], attributeID: 2)
    static let securityPolicy = ObjectRef(classID: 64, obis: [0, 0, 43, 0, 0, 255], attributeID: 2)
    static let keyTransfer = ObjectRef(classID: 64, obis: [0, 0, 43, 0, 0, 255], methodID: 2)
}

/// Feeds records to a fresh engine; returns every finding, including those of `finish()`.
func run(_ records: [Record], options: AnomalyOptions = AnomalyOptions()) -> [Finding] {
    let engine = AnomalyEngine(options: options)
    var out: [Finding] = []
    for r in records { out += engine.observe(r) }
    return out + engine.finish()
}
