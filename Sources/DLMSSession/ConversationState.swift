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
    var pending = PendingRequests()
    var blocks = BlockTransfers()
    var scalerUnits: [ObjectRef: ScalerUnitInfo] = [:]
    /// The logical names of `scalerUnits`' keys while there are few (nil past `maxScalerNames`): most objects of a
    /// conversation have no scaler/unit, and a scan of a few words tells so before a dictionary lookup.
    var scalerNames: [OBIS]? = []
    static let maxScalerNames = 32
    static let maxPending = 64
    static let maxScalerUnits = 4096

    public init(id: String) { self.id = id }

    /// Seconds of capture time a GET/SET/ACTION block transfer may wait for its next block before it is dropped
    /// (`reassembly.expired`); nil = never. Default 120.
    public var blockIdleSeconds: Double? {
        get { blocks.idleSeconds }
        set { blocks.idleSeconds = newValue }
    }

    /// Whether a completed block transfer's value is decoded only when read (`Reassembly.value`): true when
    /// nothing renders it (decoding only), so the joined data is checked without building values. Default false.
    public var deferReassembledValues: Bool {
        get { blocks.deferValues }
        set { blocks.deferValues = newValue }
    }

    /// Observes a decoded APDU (plaintext service facts) and returns what the session adds to its record.
    public mutating func observe(service: ServiceFacts, direction: Direction?, frames: [Int], time: Timestamp?)
        -> (block: BlockPosition?, reassembled: Reassembly?, notes: [String], scalerUnits: [ObjectRef: ScalerUnitInfo])
    {
        let (block, reassembled, notes, scalerUnits, _) = observeParts(service, direction: direction, frames: frames,
                                                                       time: time)
        return (block, reassembled, notes, scalerUnits)
    }

    /// Observes a decoded APDU (plaintext service facts), one call per APDU, and also returns the objects of the
    /// request it answers (as they were before this APDU). The parts come as a tuple so the caller can move them
    /// into its record (a struct's parts could only be copied out, or swapped out and the rest destroyed).
    public mutating func observeParts(_ service: ServiceFacts, direction: Direction?, frames: [Int],
                                      time: Timestamp?)
        -> (block: BlockPosition?, reassembled: Reassembly?, notes: [String],
            scalerUnits: [ObjectRef: ScalerUnitInfo], requested: [ObjectRef])
    {
        let requested = service.invokeID.flatMap { pending[$0] } ?? []
        var notes: [String] = []
        if service.hasAssociation, let a = service.association {
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
        let role = ServiceRole(service.type)
        if role == .request, let id = service.invokeID, !service.objects.isEmpty {
            if pending.count >= Self.maxPending { pending.removeAll() }
            pending[id] = service.objects
        }
        if role == .response, let id = service.invokeID, let objs = pending[id] {
            requestObjects = objs
            if service.block == nil || service.block?.lastBlock == true { pending[id] = nil }
        }

        var position: BlockPosition?
        var reassembled: Reassembly?
        if let b = service.block {
            let (p, r, n) = blocks.add(b, invokeID: service.invokeID, service: service.type, frames: frames,
                                       time: time)
            position = p
            reassembled = r
            if !n.isEmpty { notes = n }
        } else if !blocks.open.isEmpty {
            // A normal request or response with the invoke id of an open transfer ends it (aborted, abandoned).
            let (p, n) = blocks.observeUnblocked(type: service.type, invokeID: service.invokeID,
                                                 result: service.result)
            position = p
            if !n.isEmpty { notes = n }
        }

        // Scaler/unit learning: attribute 3 of Register (3), Extended register (4), Demand register (5 has it at 4).
        // The object is checked first: a reassembled value is decoded only when read.
        if requestObjects.count == 1, service.type == "get-response", let obj = requestObjects.first,
           (obj.classID == 3 || obj.classID == 4) && obj.attributeID == 3
            || obj.classID == 5 && obj.attributeID == 4
        {
            let value: DataValue? = service.firstValue ?? reassembled?.value
            if let v = value, let su = Self.scalerUnit(from: v) {
                if scalerUnits.count < Self.maxScalerUnits {
                    var key = obj
                    key.attributeID = nil
                    key.selector = nil
                    scalerUnits[key] = su
                    if let names = scalerNames, !names.contains(key.obis) {
                        scalerNames = names.count < Self.maxScalerNames ? names + [key.obis] : nil
                    }
                }
            }
        }
        var known: [ObjectRef: ScalerUnitInfo] = [:]
        if !scalerUnits.isEmpty {
            func lookUp(_ list: [ObjectRef]) {
                for o in list {
                    if let names = scalerNames, !names.contains(o.obis) { continue }
                    var key = o
                    key.attributeID = nil
                    key.selector = nil
                    if let su = scalerUnits[key] { known[o] = su }
                }
            }
            lookUp(requestObjects)
            lookUp(service.objects)
        }
        return (position, reassembled, notes, known, requested)
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

/// Whether a service type names a request or a response, read from its last bytes (this runs for every APDU;
/// `hasSuffix` on a String compared grapheme by grapheme).
enum ServiceRole {
    case request, response, other

    init(_ type: String) {
        // Read in place (a `var` copy for `withUTF8` retained and released the string); native strings always
        // have contiguous UTF-8, the fallback copies.
        let r = type.utf8.withContiguousStorageIfAvailable { Self.of($0) }
        if let r {
            self = r
        } else {
            var t = type
            self = t.withUTF8 { Self.of($0) }
        }
    }

    private static func of(_ u: UnsafeBufferPointer<UInt8>) -> ServiceRole {
        @inline(__always) func ends(_ suffix: StaticString) -> Bool {
            let n = suffix.utf8CodeUnitCount
            guard u.count >= n else { return false }
            let p = suffix.utf8Start
            for i in 0..<n where u[u.count - n + i] != p[i] { return false }
            return true
        }
        if ends("-request") { return .request }
        if ends("-response") { return .response }
        return .other
    }
}

/// The objects of the outstanding requests by invoke id (at most `ConversationState.maxPending`, mostly one): a
/// short list searched in order, where a dictionary hashed the id for every request, response and lookup.
struct PendingRequests: Sendable {
    private var ids: [UInt32] = []
    private var objects: [[ObjectRef]] = []

    var count: Int { ids.count }

    mutating func removeAll() {
        ids.removeAll(keepingCapacity: true)
        objects.removeAll(keepingCapacity: true)
    }

    /// The objects of the request with this invoke id; setting nil forgets it.
    subscript(id: UInt32) -> [ObjectRef]? {
        get {
            guard let i = ids.firstIndex(of: id) else { return nil }
            return objects[i]
        }
        set {
            if let i = ids.firstIndex(of: id) {
                if let v = newValue {
                    objects[i] = v
                } else {
                    // Order does not matter (ids are unique): the last entry takes the removed one's place.
                    ids.swapAt(i, ids.count - 1)
                    ids.removeLast()
                    objects.swapAt(i, objects.count - 1)
                    objects.removeLast()
                }
            } else if let v = newValue {
                ids.append(id)
                objects.append(v)
            }
        }
    }
}
