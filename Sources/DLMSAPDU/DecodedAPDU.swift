import DLMSWire

/// One decoded APDU: its wire type, an annotated tree of its fields, the flat facts the session layer and the JSON
/// `"service"` object need, and the problems found inside it. Decoding never throws: a malformed APDU still yields
/// a record whose `errors` say what is wrong and where.
///
/// The tree may be deferred (`DecodeOptions.buildTree` false): the APDU then keeps a slice of its bytes and builds
/// `fields` when first read, by decoding again (each read decodes again; a renderer reads it once). Facts and errors
/// are always decoded at once, since the session needs them.
public struct DecodedAPDU: Sendable {
    /// The first byte.
    public var tag: UInt8
    /// ASN.1 name from IEC 62056-5-3: `aarq`, `get-request`, `glo-get-request`, `general-glo-ciphering`,
    /// `general-block-transfer`, `data-notification`, `exception-response`, ... or `unknown`.
    public var type: String
    /// The decoded fields: the children of the JSON `"apdu"` object after `type` and `hex`.
    public var fields: [Node] {
        get {
            switch tree {
            case .built(let nodes): return nodes
            case .deferred(let bytes, let options):
                var o = options
                o.buildTree = true
                return APDUDecoder.decode(bytes, options: o).fields
            }
        }
        set { tree = .built(newValue) }
    }
    public var facts: ServiceFacts
    public var errors: [DecodeError]
    var tree: Tree

    /// The fields as built, or what is needed to build them.
    enum Tree: Sendable {
        case built([Node])
        case deferred(ArraySlice<UInt8>, DecodeOptions)
    }

    public init(tag: UInt8, type: String, fields: [Node] = [], facts: ServiceFacts, errors: [DecodeError] = []) {
        self.tag = tag
        self.type = type
        self.tree = .built(fields)
        self.facts = facts
        self.errors = errors
    }

    init(tag: UInt8, type: String, tree: Tree, facts: ServiceFacts, errors: [DecodeError]) {
        self.tag = tag
        self.type = type
        self.tree = tree
        self.facts = facts
        self.errors = errors
    }

    /// True when `fields` is built on demand (the decode was asked for facts only).
    public var isTreeDeferred: Bool {
        if case .deferred = tree { return true }
        return false
    }
}

/// Options that change how an APDU is shown (not how it is parsed).
public struct DecodeOptions: Sendable {
    /// Show LLS passwords in clear instead of masked.
    public var showSecrets: Bool = false
    /// Build the annotated tree (`DecodedAPDU.fields`) while decoding. False when nothing may read it (decoding
    /// only, or a renderer that shows no trees): the tree is then built only if `fields` is read.
    public var buildTree: Bool = true
    public init(showSecrets: Bool = false, buildTree: Bool = true) {
        self.showSecrets = showSecrets
        self.buildTree = buildTree
    }
}

/// A logical name (OBIS code) held inline: its bytes packed into one word, the first byte highest. A service names
/// an object with 6 bytes (SN services name none: 0 bytes); at most 8 are kept. An `ObjectRef` is therefore a
/// plain value: nothing to allocate, retain or hash byte by byte.
public struct OBIS: Sendable, Hashable, RandomAccessCollection, ExpressibleByArrayLiteral, CustomStringConvertible {
    /// The bytes, big-endian in the low `count` bytes of the word.
    public let packed: UInt64
    let length: UInt8

    public static let maximumCount = 8

    /// The first `maximumCount` bytes of `bytes`.
    @inlinable
    public init<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        var v: UInt64 = 0
        var n: UInt8 = 0
        for b in bytes.prefix(Self.maximumCount) {
            v = v << 8 | UInt64(b)
            n += 1
        }
        self.init(packed: v, count: n)
    }

    public init(arrayLiteral elements: UInt8...) { self.init(elements) }

    @usableFromInline
    init(packed: UInt64, count: UInt8) {
        self.packed = packed
        self.length = count
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { Int(length) }
    public var count: Int { Int(length) }
    public subscript(position: Int) -> UInt8 {
        precondition(position >= 0 && position < Int(length), "OBIS index out of range")
        return UInt8(truncatingIfNeeded: packed >> (8 * UInt64(Int(length) - 1 - position)))
    }

    public func hash(into h: inout Hasher) { h.combine(packed ^ UInt64(length) << 56) }

    /// `A-B:C.D.E*F`.
    public var description: String { COSEM.formatOBIS(self) }
}

/// A COSEM object named by a service: class, logical name and attribute or method.
public struct ObjectRef: Sendable, Hashable {
    public var classID: UInt16
    /// The 6-byte logical name (OBIS code); empty for SN services.
    public var obis: OBIS
    public var attributeID: Int8?
    public var methodID: Int8?
    /// Selective-access selector, when present.
    public var selector: UInt8?
    /// SN referencing: the short name (base name + offset), when the service names objects that way.
    public var shortName: UInt16?

    public init(classID: UInt16, obis: [UInt8], attributeID: Int8? = nil, methodID: Int8? = nil,
                selector: UInt8? = nil, shortName: UInt16? = nil) {
        self.classID = classID
        self.obis = OBIS(obis)
        self.attributeID = attributeID
        self.methodID = methodID
        self.selector = selector
        self.shortName = shortName
    }
}

/// Flat facts of a service APDU (the JSON `"service"` object, plus what the session layer needs).
public struct ServiceFacts: Sendable {
    /// `get-request`, `aarq`, `data-notification`, ... For a ciphered APDU (before decryption), its wire type.
    public var type: String
    /// The CHOICE variant without the service prefix: `normal`, `next`, `with-list`, `with-datablock`,
    /// `with-first-datablock`, `datablock`, `last-datablock`, `with-pblock`, `with-first-pblock`, `with-list-and-first-pblock`, ...
    public var variant: String?
    /// Invoke-id (bits 0..3 of Invoke-Id-And-Priority, or bits 0..23 of Long-Invoke-Id-And-Priority).
    public var invokeID: UInt32?
    public var priorityHigh: Bool?
    public var confirmed: Bool?
    public var objects: [ObjectRef] = []
    /// `success`, a data-access-result or action-result name, `accepted`/`rejected-permanent`/`rejected-transient`
    /// for an AARE, the state-error/service-error for exception-response, ...
    public var result: String?
    /// The data values the service carries (get/set/action data, notification body), in order. When the APDU
    /// was decoded for its facts only (`DecodeOptions.buildTree` false) each value has been checked but is kept
    /// as its bytes, and decoded when read (each read decodes again): `valueCount` and `firstValue` read less.
    public var values: [DataValue] {
        get {
            switch valueStore {
            case .built(let v): return v
            case .one(let bytes): return [Self.decodeValue(bytes)]
            case .many(let list): return list.map(Self.decodeValue)
            }
        }
        set { valueStore = .built(newValue) }
    }
    /// How many values the service carries (nothing decoded).
    public var valueCount: Int {
        switch valueStore {
        case .built(let v): v.count
        case .one: 1
        case .many(let list): list.count
        }
    }
    /// The first value (only it decoded).
    public var firstValue: DataValue? {
        switch valueStore {
        case .built(let v): v.first
        case .one(let bytes): Self.decodeValue(bytes)
        case .many(let list): list.first.map(Self.decodeValue)
        }
    }
    var valueStore: ValueStore = .built([])

    /// The values as decoded, or the bytes of each (checked by `AXDR.skipData`, so they decode).
    enum ValueStore: Sendable {
        case built([DataValue])
        case one(ArraySlice<UInt8>)
        case many([ArraySlice<UInt8>])
    }

    /// Appends a value checked but not decoded: `bytes` are exactly its encoding.
    mutating func appendValueBytes(_ bytes: ArraySlice<UInt8>) {
        switch valueStore {
        case .built(let v) where v.isEmpty: valueStore = .one(bytes)
        case .built(let v): valueStore = .built(v + [Self.decodeValue(bytes)])
        case .one(let first): valueStore = .many([first, bytes])
        case .many(var list):
            valueStore = .built([])
            list.append(bytes)
            valueStore = .many(list)
        }
    }

    /// Appends a decoded value.
    mutating func appendValue(_ value: DataValue) {
        switch valueStore {
        case .built(var v):
            valueStore = .built([])
            v.append(value)
            valueStore = .built(v)
        case .one, .many:
            valueStore = .built(values + [value])
        }
    }

    /// Bytes that `skipData` accepted decode; `.nullData` stands in should they ever not.
    static func decodeValue(_ bytes: ArraySlice<UInt8>) -> DataValue {
        (try? AXDR.decodeData(bytes)) ?? .nullData
    }
    public var block: BlockFacts?
    /// ACSE facts (AARQ/AARE/RLRQ/RLRE, or an initiate). Stored boxed, like `protection`: most APDUs have neither,
    /// and the facts are copied along with every record, so they stay a pointer wide instead of a few hundred bytes
    /// of fields to copy and retain.
    public var association: AssociationFacts? {
        get { associationBox?.value }
        set { associationBox = newValue.map(FactsBox.init) }
    }
    public var protection: ProtectionFacts? {
        get { protectionBox?.value }
        set { protectionBox = newValue.map(FactsBox.init) }
    }
    var associationBox: FactsBox<AssociationFacts>?
    var protectionBox: FactsBox<ProtectionFacts>?
    /// `association != nil`, without copying the facts out of their box (checked for every APDU).
    public var hasAssociation: Bool { associationBox != nil }
    /// `protection != nil`, without copying the facts out of their box.
    public var hasProtection: Bool { protectionBox != nil }

    public init(type: String) { self.type = type }
}

/// An immutable heap box: a value type's large, rarely present part, shared by copies (replaced, never mutated).
final class FactsBox<Value: Sendable>: Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// One block of a block transfer (service-specific datablocks/pblocks, or general-block-transfer).
public struct BlockFacts: Sendable {
    public enum Kind: String, Sendable {
        case getResponseDatablock = "get-response-datablock"
        case getRequestNext = "get-request-next"
        case setRequestDatablock = "set-request-datablock"
        case setResponseDatablock = "set-response-datablock"
        case actionRequestPblock = "action-request-pblock"
        case actionRequestNextPblock = "action-request-next-pblock"
        case actionResponsePblock = "action-response-pblock"
        case actionResponseNextPblock = "action-response-next-pblock"
        case generalBlockTransfer = "general-block-transfer"
    }
    public var kind: Kind
    public var blockNumber: UInt32
    public var lastBlock: Bool
    /// The block's raw-data (nil when the block carries a data-access-result instead).
    public var rawData: [UInt8]?
    /// A data-access-result carried instead of raw data.
    public var dataAccessResult: String?
    /// General-block-transfer only.
    public var gbt: GBTFacts?

    public init(kind: Kind, blockNumber: UInt32, lastBlock: Bool, rawData: [UInt8]? = nil,
                dataAccessResult: String? = nil, gbt: GBTFacts? = nil) {
        self.kind = kind
        self.blockNumber = blockNumber
        self.lastBlock = lastBlock
        self.rawData = rawData
        self.dataAccessResult = dataAccessResult
        self.gbt = gbt
    }
}

/// General-block-transfer control: `block-control` (last-block, streaming, window), block number, ack.
public struct GBTFacts: Sendable, Hashable {
    public var streaming: Bool
    public var window: UInt8
    public var blockNumberAck: UInt16
    public init(streaming: Bool, window: UInt8, blockNumberAck: UInt16) {
        self.streaming = streaming
        self.window = window
        self.blockNumberAck = blockNumberAck
    }
}

/// Facts of AARQ/AARE/RLRQ/RLRE (ACSE, IEC 62056-5-3 §7 / ISO 8650).
public struct AssociationFacts: Sendable {
    /// Last arc of the application context name OID 2.16.756.5.8.1.x: 1 LN, 2 SN, 3 LN with ciphering, 4 SN with ciphering.
    public var applicationContext: Int?
    /// Last arc of the mechanism name OID 2.16.756.5.8.2.x: 0 lowest, 1 LLS, 2 HLS, 3 MD5, 4 SHA-1, 5 GMAC,
    /// 6 SHA-256, 7 ECDSA.
    public var mechanism: Int?
    public var callingAPTitle: [UInt8]?
    public var respondingAPTitle: [UInt8]?
    /// The calling/responding authentication value (LLS password or HLS challenge). Never rendered in clear by
    /// the decoder unless `DecodeOptions.showSecrets`.
    public var callingAuthenticationValue: [UInt8]?
    public var respondingAuthenticationValue: [UInt8]?
    /// The user-information octet string (an xDLMS InitiateRequest/Response, possibly ciphered).
    public var userInformation: [UInt8]?
    /// The plain InitiateRequest/InitiateResponse, when user-information is not ciphered.
    public var initiate: InitiateFacts?
    /// AARE result: 0 accepted, 1 rejected-permanent, 2 rejected-transient. RLRQ/RLRE reason.
    public var result: Int?
    public var diagnostic: Int?
    /// `acse-service-user` or `acse-service-provider`.
    public var diagnosticSource: String?
    /// RLRQ/RLRE reason.
    public var releaseReason: Int?

    public init() {}
}

/// An xDLMS InitiateRequest or InitiateResponse (or a ConfirmedServiceError in its place).
public struct InitiateFacts: Sendable {
    public var isRequest: Bool
    public var dedicatedKey: [UInt8]?
    public var responseAllowed: Bool?
    public var proposedQualityOfService: UInt8?
    public var dlmsVersion: UInt8?
    public var conformance: UInt32?
    /// client-max-receive-pdu-size (request) or server-max-receive-pdu-size (response).
    public var maxPDUSize: UInt16?
    /// VAA name (response; 0x0007 LN, 0xFA00 SN).
    public var vaaName: UInt16?

    public init(isRequest: Bool) { self.isRequest = isRequest }
}

/// The security header of a protected APDU (IEC 62056-5-3 §5.2, §9.2.7.2).
public struct ProtectionFacts: Sendable {
    /// `glo-ciphering`, `ded-ciphering`, `general-glo-ciphering`, `general-ded-ciphering`, `general-ciphering`,
    /// `general-signing`.
    public var kind: String
    /// For service-specific ciphering, the service it protects (`get-request` for `glo-get-request`).
    public var protectedService: String?
    /// System title carried in the header (general-* only).
    public var systemTitle: [UInt8]?
    public var securityControl: UInt8
    public var invocationCounter: UInt32
    /// The bytes after SC ‖ IC: ciphertext (or plaintext for authentication-only) followed by the 12-byte tag when
    /// authenticated.
    public var payload: [UInt8]
    // general-ciphering / general-signing header fields
    public var transactionID: [UInt8]?
    public var originatorSystemTitle: [UInt8]?
    public var recipientSystemTitle: [UInt8]?
    public var dateTime: [UInt8]?
    public var otherInformation: [UInt8]?
    /// general-ciphering key-info: 0 identified-key, 1 wrapped-key, 2 agreed-key.
    public var keyInfoChoice: Int?
    /// identified-key: key-id (0 global unicast, 1 global broadcast); wrapped-key: kek-id; agreed-key: key-parameters.
    public var keyID: Int?
    /// wrapped-key: the wrapped key; agreed-key: key-ciphered-data (ephemeral public key ‖ signature, ...).
    public var keyCipheredData: [UInt8]?
    /// general-signing: the content (an APDU) and the signature.
    public var signedContent: [UInt8]?
    public var signature: [UInt8]?

    public init(kind: String, securityControl: UInt8, invocationCounter: UInt32, payload: [UInt8]) {
        self.kind = kind
        self.securityControl = securityControl
        self.invocationCounter = invocationCounter
        self.payload = payload
    }

    public var authenticated: Bool { securityControl & 0x10 != 0 }
    public var encrypted: Bool { securityControl & 0x20 != 0 }
    public var broadcast: Bool { securityControl & 0x40 != 0 }
    public var compressed: Bool { securityControl & 0x80 != 0 }
    public var suite: Int { Int(securityControl & 0x0F) }
}
