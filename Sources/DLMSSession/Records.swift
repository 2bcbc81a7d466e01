import DLMSAPDU
import DLMSTransport
import DLMSWire

/// Which way an APDU or frame travelled, by DLMS role.
public enum Direction: String, Sendable {
    case clientToServer = "client->server"
    case serverToClient = "server->client"

    public var reversed: Direction { self == .clientToServer ? .serverToClient : .clientToServer }
}

/// Where a unit came from: capture frames, time, conversation and direction.
public struct Provenance: Sendable {
    public var frames: [Int]
    public var time: Timestamp?
    public var conversation: String
    public var direction: Direction?
    public init(frames: [Int], time: Timestamp?, conversation: String, direction: Direction?) {
        self.frames = frames
        self.time = time
        self.conversation = conversation
        self.direction = direction
    }
}

/// The joined data of a completed datablock transfer.
///
/// The value is built on demand: the session checks the joined data at once (without building values, so `error`
/// is known) and decodes it into a `DataValue` tree only when `value` is read (each read decodes again; a renderer
/// reads it once). Decoding alone never pays for the tree of a profile buffer nobody shows.
public struct Reassembly: Sendable {
    public var blocks: Int
    public var frames: [Int]
    public var bytes: [UInt8]
    /// The joined data decoded (see `BlockTransfers.decode`): one A-XDR Data, or the list a with-list transfer
    /// encodes; nil when it is neither.
    public var value: DataValue? {
        get {
            switch stored {
            case .built(let v): return v
            case .deferred: return BlockTransfers.decode(bytes).0
            }
        }
        set { stored = .built(newValue) }
    }
    public var error: DecodeError?
    var stored: Stored
    /// True when `value` is decoded from `bytes` when read (`BlockTransfers.decode`): a renderer may write it from
    /// the bytes instead.
    public var isValueDeferred: Bool {
        if case .deferred = stored { return true }
        return false
    }

    enum Stored: Sendable {
        case built(DataValue?)
        /// `value` is decoded from `bytes` when read.
        case deferred
    }

    public init(blocks: Int, frames: [Int], bytes: [UInt8], value: DataValue?, error: DecodeError?) {
        self.blocks = blocks
        self.frames = frames
        self.bytes = bytes
        self.stored = .built(value)
        self.error = error
    }

    /// A reassembly whose value is decoded from `bytes` when read; `error` is what that decode reports.
    init(blocks: Int, frames: [Int], deferredBytes bytes: [UInt8], error: DecodeError?) {
        self.blocks = blocks
        self.frames = frames
        self.bytes = bytes
        self.stored = .deferred
        self.error = error
    }
}

/// Position of one block inside a transfer (shown on every block's record).
public struct BlockPosition: Sendable {
    /// Stable id of the transfer within its conversation, e.g. "get#1".
    public var transfer: String
    public var blockNumber: UInt32
    public var lastBlock: Bool
    public init(transfer: String, blockNumber: UInt32, lastBlock: Bool) {
        self.transfer = transfer
        self.blockNumber = blockNumber
        self.lastBlock = lastBlock
    }
}

/// Result of removing a protection layer (filled in by the security layer; `nil` on an unprotected APDU).
public struct SecurityResult: Sendable {
    public var protection: String
    public var securityControl: UInt8
    public var suite: Int
    public var authenticated: Bool
    public var encrypted: Bool
    public var broadcast: Bool
    public var compressed: Bool
    public var systemTitle: [UInt8]?
    public var invocationCounter: UInt32?
    /// `guek`, `gbek`, `dedicated`, `wrapped`, `agreed`, `signing`; nil when no key was found.
    public var key: String?
    /// `verified`, `decrypted-unverified`, `authentication-failed`, `no-key`, `unsupported`.
    public var verdict: String
    /// Which key entry / layout verified (for the text output), never key bytes.
    public var detail: String?
    public var plain: [UInt8]?
    public var plainDecoded: DecodedAPDU?
    /// A nested protection layer inside `plain`.
    public var inner: [SecurityResult]
    /// Keys learned while removing this layer (by role and system title, never by value).
    public var learned: [String] = []
    /// Byte ranges of `plain` that hold secrets (the dedicated key of an InitiateRequest).
    public var plainRedactions: [Range<Int>] = []
    public init(protection: String, securityControl: UInt8, suite: Int, authenticated: Bool, encrypted: Bool,
                broadcast: Bool, compressed: Bool, systemTitle: [UInt8]?, invocationCounter: UInt32?, key: String?,
                verdict: String, detail: String? = nil, plain: [UInt8]? = nil, plainDecoded: DecodedAPDU? = nil,
                inner: [SecurityResult] = []) {
        self.protection = protection
        self.securityControl = securityControl
        self.suite = suite
        self.authenticated = authenticated
        self.encrypted = encrypted
        self.broadcast = broadcast
        self.compressed = compressed
        self.systemTitle = systemTitle
        self.invocationCounter = invocationCounter
        self.key = key
        self.verdict = verdict
        self.detail = detail
        self.plain = plain
        self.plainDecoded = plainDecoded
        self.inner = inner
    }
}

/// One complete APDU with everything known about it.
///
/// Only what every APDU has is stored inline (provenance, transport, bytes, the decoded APDU); everything a record
/// has only sometimes (security, a decrypted service, block position, reassembly, errors, notes, scaler/units,
/// labels, redactions, authentication check, GBT origin) lives in one optional copy-on-write box. Destroying or
/// copying a typical record then touches a handful of references instead of two dozen.
public struct APDURecord: Sendable {
    public var provenance: Provenance
    public var transport: TransportKind
    public var bytes: [UInt8]
    public var decoded: DecodedAPDU
    /// The rarely present parts; nil when the record has none of them.
    @usableFromInline var extras: RecordExtras?

    /// The box, made unique (copied if shared) so it can be changed in place; created when absent.
    @usableFromInline mutating func uniqueExtras() -> RecordExtras {
        guard var e = extras else {
            let n = RecordExtras()
            extras = n
            return n
        }
        extras = nil
        if !isKnownUniquelyReferenced(&e) { e = e.copy() }
        extras = e
        return e
    }

    /// The unprotection of a ciphered APDU (most APDUs have none).
    @inlinable public var security: SecurityResult? {
        get { extras?.security }
        set {
            if newValue == nil && extras == nil { return }
            uniqueExtras().security = newValue
        }
    }
    /// `security?.verdict`, without copying the security result out of its box.
    @inlinable public var securityVerdict: String? { extras?.security?.verdict }
    /// Facts of the innermost service APDU (after protection layers are removed, when they could be): the decoded
    /// APDU's own facts unless a protection layer was removed, then stored boxed (a record no longer holds and
    /// releases a second copy of the same facts).
    @inlinable public var service: ServiceFacts {
        _read {
            if let e = extras, let b = e.serviceBox { yield b.value } else { yield decoded.facts }
        }
        set { uniqueExtras().serviceBox = RecordBox(newValue) }
    }
    @inlinable public var block: BlockPosition? {
        get { extras?.block }
        set {
            if newValue == nil && extras == nil { return }
            uniqueExtras().block = newValue
        }
    }
    /// Present on one record of a transfer, and large.
    @inlinable public var reassembled: Reassembly? {
        get { extras?.reassembled }
        set {
            if newValue == nil && extras == nil { return }
            uniqueExtras().reassembled = newValue
        }
    }
    /// Problems inside this APDU (transport and decoding), each with an offset.
    @inlinable public var errors: [DecodeError] {
        _read { if let e = extras { yield e.errors } else { yield [] } }
        _modify { let e = uniqueExtras(); yield &e.errors }
    }
    /// Notes the session adds (block transfer state, scaler applied, ...): human text.
    @inlinable public var notes: [String] {
        _read { if let e = extras { yield e.notes } else { yield [] } }
        _modify { let e = uniqueExtras(); yield &e.notes }
    }
    /// Scalers/units known in the conversation for the objects of this APDU (for labelling values).
    @inlinable public var scalerUnits: [ObjectRef: ScalerUnitInfo] {
        _read { if let e = extras { yield e.scalerUnits } else { yield [:] } }
        _modify { let e = uniqueExtras(); yield &e.scalerUnits }
    }
    /// Set on an APDU joined from general-block-transfer blocks.
    @inlinable public var gbt: GBTOrigin? {
        get { extras?.gbt }
        set {
            if newValue == nil && extras == nil { return }
            uniqueExtras().gbt = newValue
        }
    }
    /// The values of a push (data-notification, event-notification) labelled with their OBIS codes, classes and
    /// units, where the capture or the body shows the push_object_list.
    @inlinable public var labels: [LabelledValue] {
        _read { if let e = extras { yield e.labels } else { yield [] } }
        _modify { let e = uniqueExtras(); yield &e.labels }
    }
    /// Byte ranges of `bytes` that hold secrets (an LLS password, a dedicated key): masked unless the user asks
    /// for secrets.
    @inlinable public var redactions: [Range<Int>] {
        _read { if let e = extras { yield e.redactions } else { yield [] } }
        _modify { let e = uniqueExtras(); yield &e.redactions }
    }
    /// The authentication check this APDU carries (LLS password of an AARQ, an HLS reply of
    /// reply_to_HLS_authentication), filled in by `SecurityEngine.observe`.
    @inlinable public var hls: HLSCheck? {
        get { extras?.hls }
        set {
            if newValue == nil && extras == nil { return }
            uniqueExtras().hls = newValue
        }
    }
}

/// The parts of an `APDURecord` that most records lack. Copy-on-write: a record changes it only when it holds the
/// sole reference (`APDURecord.uniqueExtras`), so it is shared safely between copies.
@usableFromInline final class RecordExtras: @unchecked Sendable {
    // Spelled `Optional<…>`: a `T?` property starts as nil, so the initializer's first store assigned over it
    // (destroying the nil first, ~200 instructions for the large ones) instead of initializing it.
    @usableFromInline var security: Optional<SecurityResult>
    @usableFromInline var serviceBox: Optional<RecordBox<ServiceFacts>>
    @usableFromInline var block: Optional<BlockPosition>
    @usableFromInline var reassembled: Optional<Reassembly>
    @usableFromInline var errors: [DecodeError]
    @usableFromInline var notes: [String]
    @usableFromInline var scalerUnits: [ObjectRef: ScalerUnitInfo]
    @usableFromInline var gbt: Optional<GBTOrigin>
    @usableFromInline var labels: [LabelledValue]
    @usableFromInline var redactions: [Range<Int>]
    @usableFromInline var hls: Optional<HLSCheck>

    // Every part initialized once (no defaults): assigning over a default destroyed it first.
    init(security: consuming SecurityResult?, serviceBox: RecordBox<ServiceFacts>?, block: consuming BlockPosition?,
         reassembled: consuming Reassembly?, errors: consuming [DecodeError], notes: consuming [String],
         scalerUnits: consuming [ObjectRef: ScalerUnitInfo], gbt: GBTOrigin?, labels: consuming [LabelledValue],
         redactions: consuming [Range<Int>], hls: consuming HLSCheck?) {
        self.security = security
        self.serviceBox = serviceBox
        self.block = block
        self.reassembled = reassembled
        self.errors = errors
        self.notes = notes
        self.scalerUnits = scalerUnits
        self.gbt = gbt
        self.labels = labels
        self.redactions = redactions
        self.hls = hls
    }

    @usableFromInline convenience init() {
        self.init(security: nil, serviceBox: nil, block: nil, reassembled: nil, errors: [], notes: [],
                  scalerUnits: [:], gbt: nil, labels: [], redactions: [], hls: nil)
    }

    /// A box with the same parts (for a record about to change a shared box).
    func copy() -> RecordExtras {
        RecordExtras(security: security, serviceBox: serviceBox, block: block, reassembled: reassembled,
                     errors: errors, notes: notes, scalerUnits: scalerUnits, gbt: gbt, labels: labels,
                     redactions: redactions, hls: hls)
    }

    /// The box for the parts of a record without security parts, or nil when all are absent or empty.
    static func make(block: consuming BlockPosition?, reassembled: consuming Reassembly?,
                     errors: consuming [DecodeError], notes: consuming [String],
                     scalerUnits: consuming [ObjectRef: ScalerUnitInfo], redactions: consuming [Range<Int>],
                     hls: consuming HLSCheck?, labels: consuming [LabelledValue]) -> RecordExtras? {
        if block == nil && reassembled == nil && errors.isEmpty && notes.isEmpty && scalerUnits.isEmpty
            && redactions.isEmpty && hls == nil && labels.isEmpty
        {
            return nil
        }
        return RecordExtras(security: nil, serviceBox: nil, block: block, reassembled: reassembled, errors: errors,
                            notes: notes, scalerUnits: scalerUnits, gbt: nil, labels: labels,
                            redactions: redactions, hls: hls)
    }

    /// The box for these parts, or nil when all are absent or empty.
    static func make(security: consuming SecurityResult?, decryptedService: consuming ServiceFacts?,
                     block: consuming BlockPosition?, reassembled: consuming Reassembly?,
                     errors: consuming [DecodeError], notes: consuming [String],
                     scalerUnits: consuming [ObjectRef: ScalerUnitInfo], redactions: consuming [Range<Int>],
                     hls: consuming HLSCheck?, labels: consuming [LabelledValue]) -> RecordExtras? {
        if security == nil && decryptedService == nil && block == nil && reassembled == nil && errors.isEmpty
            && notes.isEmpty && scalerUnits.isEmpty && redactions.isEmpty && hls == nil && labels.isEmpty
        {
            return nil
        }
        return RecordExtras(security: security, serviceBox: decryptedService.map(RecordBox.init), block: block,
                            reassembled: reassembled, errors: errors, notes: notes, scalerUnits: scalerUnits,
                            gbt: nil, labels: labels, redactions: redactions, hls: hls)
    }
}

extension APDURecord {
    public init(provenance: Provenance, transport: TransportKind, bytes: [UInt8], decoded: DecodedAPDU,
                security: SecurityResult? = nil, service: ServiceFacts, block: BlockPosition? = nil,
                reassembled: Reassembly? = nil, errors: [DecodeError] = [], notes: [String] = [],
                scalerUnits: [ObjectRef: ScalerUnitInfo] = [:], redactions: [Range<Int>] = [],
                hls: HLSCheck? = nil, labels: [LabelledValue] = []) {
        // The service given is stored as given.
        self.init(provenance: provenance, transport: transport, bytes: bytes, decoded: decoded,
                  extras: RecordExtras.make(security: security, decryptedService: service, block: block,
                                            reassembled: reassembled, errors: errors, notes: notes,
                                            scalerUnits: scalerUnits, redactions: redactions, hls: hls,
                                            labels: labels))
    }

    /// A record of an unprotected APDU (no security result, its service the decoded APDU's own facts): the
    /// pipeline's initializer for most APDUs, which neither makes nor tests security parts.
    public init(provenance: Provenance, transport: TransportKind, bytes: [UInt8], decoded: DecodedAPDU,
                block: BlockPosition?, reassembled: Reassembly?, errors: [DecodeError], notes: [String],
                scalerUnits: [ObjectRef: ScalerUnitInfo], redactions: [Range<Int>], hls: HLSCheck?,
                labels: [LabelledValue]) {
        self.init(provenance: provenance, transport: transport, bytes: bytes, decoded: decoded,
                  extras: RecordExtras.make(block: block, reassembled: reassembled, errors: errors, notes: notes,
                                            scalerUnits: scalerUnits, redactions: redactions, hls: hls,
                                            labels: labels))
    }

    /// A record whose service is the decoded APDU's own facts, or `decryptedService` where a protection layer was
    /// removed (the pipeline's initializer: the facts are not copied).
    public init(provenance: Provenance, transport: TransportKind, bytes: [UInt8], decoded: DecodedAPDU,
                security: SecurityResult?, decryptedService: ServiceFacts?, block: BlockPosition?,
                reassembled: Reassembly?, errors: [DecodeError], notes: [String],
                scalerUnits: [ObjectRef: ScalerUnitInfo], redactions: [Range<Int>], hls: HLSCheck?,
                labels: [LabelledValue]) {
        self.init(provenance: provenance, transport: transport, bytes: bytes, decoded: decoded,
                  extras: RecordExtras.make(security: security, decryptedService: decryptedService, block: block,
                                            reassembled: reassembled, errors: errors, notes: notes,
                                            scalerUnits: scalerUnits, redactions: redactions, hls: hls,
                                            labels: labels))
    }
}

/// An immutable heap box: a record's large, rarely present part, shared by copies (replaced, never mutated).
@usableFromInline final class RecordBox<Value: Sendable>: Sendable {
    @usableFromInline let value: Value
    @usableFromInline init(_ value: Value) { self.value = value }
}

/// Finds the secrets an APDU carries, so renderers can mask them.
public enum Secrets {
    /// Where `needle` occurs in `bytes` (first occurrence), as offsets from the start.
    public static func range(of needle: [UInt8], in bytes: [UInt8]) -> Range<Int>? {
        guard !needle.isEmpty, needle.count <= bytes.count else { return nil }
        var i = 0
        while i + needle.count <= bytes.count {
            if bytes[i] == needle[0] && bytes[i..<(i + needle.count)].elementsEqual(needle) {
                return i..<(i + needle.count)
            }
            i += 1
        }
        return nil
    }

    /// The secret byte ranges of a decoded APDU: the LLS password (mechanism 1) of an AARQ and the dedicated key of
    /// an InitiateRequest.
    public static func ranges(in bytes: [UInt8], facts: ServiceFacts) -> [Range<Int>] {
        var out: [Range<Int>] = []
        if facts.hasAssociation, let a = facts.association {
            if a.mechanism == 1, let pw = a.callingAuthenticationValue, let r = range(of: pw, in: bytes) {
                out.append(r)
            }
            if let k = a.initiate?.dedicatedKey, let r = range(of: k, in: bytes) { out.append(r) }
        }
        return out
    }

    /// Hex with the secret ranges shown as `*`.
    public static func maskedHex(_ bytes: [UInt8], _ ranges: [Range<Int>]) -> String {
        var chars = Array(Hex.encode(bytes).utf8)
        for r in ranges {
            for i in r where i * 2 + 1 < chars.count {
                chars[i * 2] = UInt8(ascii: "*")
                chars[i * 2 + 1] = UInt8(ascii: "*")
            }
        }
        return String(decoding: chars, as: UTF8.self)
    }
}

/// A scaler and unit learned from a Register's attribute 3 in the same conversation.
public struct ScalerUnitInfo: Sendable, Hashable {
    public var scaler: Int8
    public var unit: UInt8
    public init(scaler: Int8, unit: UInt8) {
        self.scaler = scaler
        self.unit = unit
    }
}

/// A link frame that is not an APDU carrier worth an APDU record (SNRM, UA, RR, DISC, ...).
public struct FrameRecord: Sendable {
    public var provenance: Provenance
    public var hdlc: HDLCFrame
    public init(provenance: Provenance, hdlc: HDLCFrame) {
        self.provenance = provenance
        self.hdlc = hdlc
    }
}

/// Input that could not be decoded into an APDU or link frame.
public struct ErrorRecord: Sendable {
    public var provenance: Provenance
    public var code: String
    public var message: String
    public var offset: Int?
    public init(provenance: Provenance, code: String, message: String, offset: Int?) {
        self.provenance = provenance
        self.code = code
        self.message = message
        self.offset = offset
    }
}

/// A conversation (a TCP connection, a UDP flow, an HDLC link on a serial line) as first seen.
public struct ConversationRecord: Sendable {
    public var id: String
    /// `tcp`, `udp`, `serial`, `raw`, `hex`.
    public var carrier: String
    public var client: String?
    public var server: String?
    public var frame: Int?
    public var time: Timestamp?
    public var source: String?
    public init(id: String, carrier: String, client: String?, server: String?, frame: Int?, time: Timestamp?,
                source: String?) {
        self.id = id
        self.carrier = carrier
        self.client = client
        self.server = server
        self.frame = frame
        self.time = time
        self.source = source
    }
}

/// End-of-run counts.
public struct Summary: Sendable {
    public var frames: Int = 0
    public var apdus: Int = 0
    public var linkFrames: Int = 0
    public var errors: Int = 0
    public var conversations: Int = 0
    public var bytes: Int = 0
    /// APDUs by type. Counted per tag while the pipeline runs (`countAPDU(tag:)`: no string hashed per APDU) and
    /// named when read.
    public var apduTypes: [String: Int] {
        get {
            var d = apduTypeCounts
            for (i, n) in apduTagCounts.enumerated() where n > 0 {
                d[APDUNames.apduType(UInt8(truncatingIfNeeded: i)) ?? "unknown", default: 0] += n
            }
            return d
        }
        set {
            apduTypeCounts = newValue
            apduTagCounts = []
        }
    }
    var apduTypeCounts: [String: Int] = [:]
    /// APDUs per first byte (256 entries once one is counted).
    var apduTagCounts: [Int] = []
    /// Counts one APDU whose type is `APDUNames.apduType(tag) ?? "unknown"` (as `APDUDecoder` names it).
    public mutating func countAPDU(tag: UInt8) {
        if apduTagCounts.isEmpty { apduTagCounts = Array(repeating: 0, count: 256) }
        apduTagCounts[Int(tag)] += 1
    }
    public var verdicts: [String: Int] = [:]
    public var errorCodes: [String: Int] = [:]
    /// Findings of the anomaly rules by code and by severity (empty when the rules did not run).
    public var anomalyCodes: [String: Int] = [:]
    public var anomalySeverities: [String: Int] = [:]
    public init() {}
}

public enum Record: Sendable {
    case conversation(ConversationRecord)
    case apdu(APDURecord)
    case frame(FrameRecord)
    case error(ErrorRecord)
    case summary(Summary)
}
