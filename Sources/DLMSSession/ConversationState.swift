import DLMSAPDU
import DLMSTransport
import DLMSWire

/// Per-conversation DLMS state: association, outstanding requests (to pair responses with the objects they
/// concern), block transfers in progress and scaler/units learned. Bounded: every table has a cap.
public struct ConversationState: Sendable {
    public let id: String
    /// Set once the association context says so (AARQ application context name).
    public var applicationContext: Int?
    public var mechanism: Int?
    public var clientSystemTitle: [UInt8]?
    public var serverSystemTitle: [UInt8]?

    /// Objects of the last request per invoke id (responses carry only the invoke id).
    var pending: [UInt32: [ObjectRef]] = [:]
    var blocks = BlockTransfers()
    var scalerUnits: [ObjectRef: ScalerUnitInfo] = [:]
    static let maxPending = 64
    static let maxScalerUnits = 4096

    public init(id: String) { self.id = id }

    /// Seconds of capture time a GET/SET/ACTION block transfer may wait for its next block before it is dropped
    /// (`reassembly.expired`); nil = never. Default 120.
    public var blockIdleSeconds: Double? {
        get { blocks.idleSeconds }
        set { blocks.idleSeconds = newValue }
    }

    /// Observes a decoded APDU (plaintext service facts) and returns what the session adds to its record.
    public mutating func observe(service: ServiceFacts, direction: Direction?, frames: [Int], time: Timestamp?)
        -> (block: BlockPosition?, reassembled: Reassembly?, notes: [String], scalerUnits: [ObjectRef: ScalerUnitInfo])
    {
        var notes: [String] = []
        if let a = service.association {
            if service.type == "aarq" {
                if let ctx = a.applicationContext { applicationContext = ctx }
                mechanism = a.mechanism
                if let st = a.callingAPTitle { clientSystemTitle = st }
            } else if service.type == "aare", let st = a.respondingAPTitle {
                serverSystemTitle = st
            }
            if service.type == "rlrq" || service.type == "rlre" || service.type == "aarq" {
                pending.removeAll()
                blocks.reset()
            }
        }
        // Requests: remember the objects per invoke id.
        var requestObjects: [ObjectRef] = []
        if service.type.hasSuffix("-request"), let id = service.invokeID, !service.objects.isEmpty {
            if pending.count >= Self.maxPending { pending.removeAll() }
            pending[id] = service.objects
        }
        if service.type.hasSuffix("-response"), let id = service.invokeID, let objs = pending[id] {
            requestObjects = objs
            if service.block == nil || service.block?.lastBlock == true { pending[id] = nil }
        }

        var position: BlockPosition?
        var reassembled: Reassembly?
        if let b = service.block {
            let r = blocks.add(b, invokeID: service.invokeID, service: service.type, frames: frames, time: time)
            position = r.position
            reassembled = r.reassembled
            notes.append(contentsOf: r.notes)
        } else if !blocks.open.isEmpty {
            // A normal request or response with the invoke id of an open transfer ends it (aborted, abandoned).
            let r = blocks.observeUnblocked(type: service.type, invokeID: service.invokeID, result: service.result)
            position = r.position
            notes.append(contentsOf: r.notes)
        }

        // Scaler/unit learning: attribute 3 of Register (3), Extended register (4), Demand register (5 has it at 4).
        if service.type == "get-response", requestObjects.count == 1, let obj = requestObjects.first {
            let value: DataValue? = service.values.first ?? reassembled?.value
            if let v = value, let su = Self.scalerUnit(from: v),
               (obj.classID == 3 || obj.classID == 4) && obj.attributeID == 3
                || obj.classID == 5 && obj.attributeID == 4
            {
                if scalerUnits.count < Self.maxScalerUnits {
                    var key = obj
                    key.attributeID = nil
                    key.selector = nil
                    scalerUnits[key] = su
                }
            }
        }
        var known: [ObjectRef: ScalerUnitInfo] = [:]
        if !scalerUnits.isEmpty {
            for list in [requestObjects, service.objects] {
                for o in list {
                    var key = o
                    key.attributeID = nil
                    key.selector = nil
                    if let su = scalerUnits[key] { known[o] = su }
                }
            }
        }
        return (position, reassembled, notes, known)
    }

    /// Objects of the request a response answers (for labelling), without consuming them.
    public func requestObjects(for invokeID: UInt32?) -> [ObjectRef] {
        guard let id = invokeID else { return [] }
        return pending[id] ?? []
    }

    public static func scalerUnit(from v: DataValue) -> ScalerUnitInfo? {
        guard case .structure(let items) = v, items.count == 2 else { return nil }
        guard case .integer(let s) = items[0], case .enumValue(let u) = items[1] else { return nil }
        return ScalerUnitInfo(scaler: s, unit: u)
    }

    /// End of capture / association released: transfers still open are incomplete.
    public mutating func finish() -> [String] { blocks.openTransfersDescription() }
}
