import DLMSAPDU
import DLMSCapture
import DLMSSession
import DLMSTransport

/// What identifies a conversation: a TCP connection / UDP flow, or a link on a raw stream.
enum ConversationKey: Hashable, CustomStringConvertible {
    case connection(ConnectionID)
    /// A raw/hex input as a whole (its path).
    case serialLine(String)
    /// One link (address pair) on a raw/hex input.
    case link(String, String)

    var description: String {
        switch self {
        case .connection(let id): "conn \(id.value)"
        case .serialLine(let p): p
        case .link(let p, let pair): "\(p) \(pair)"
        }
    }

    /// Not used for ordering records; conversations are ordered by first appearance.
    var order: String { description }

    /// A connection hashes by its number alone (looked up for every segment); equality tells the cases apart.
    func hash(into h: inout Hasher) {
        switch self {
        case .connection(let id): h.combine(id.value)
        case .serialLine(let p): h.combine(p)
        case .link(let p, let pair):
            h.combine(p)
            h.combine(pair)
        }
    }
}

struct StreamKey: Hashable {
    var conversation: ConversationKey
    var from: Endpoint

    func hash(into h: inout Hasher) {
        if case .connection(let id) = conversation {
            // One word more than the endpoint's: the connection number folded into its address word.
            h.combine(from.high ^ UInt64(truncatingIfNeeded: id.value))
            h.combine(from.low ^ UInt64(from.port) << 32 ^ UInt64(from.addressLength) << 56)
        } else {
            conversation.hash(into: &h)
            from.hash(into: &h)
        }
    }
}

/// One side of a conversation as far as the analyzer can name it.
enum Party: Hashable {
    case endpoint(Endpoint)
    case hdlc(UInt32)
    case wport(UInt16)
    case unknown
}

/// A reference type on purpose: its state (block transfers, security, GBT) is mutated for every APDU, and a struct
/// copied out of the conversation table and written back would copy that state each time.
final class Conversation {
    var id: String
    var carrier: String
    var endpoints: (Endpoint, Endpoint)?
    var clientEndpoint: Endpoint?
    /// `clientEndpoint` was taken from the TCP handshake (the initiator), not yet confirmed by an APDU type.
    var clientFromHandshake = false
    /// On a raw line: the client's HDLC address or wPort.
    var clientParty: Party?
    var announced = false
    /// The conversation has shown DLMS (a valid frame or an APDU in a DLMS framing, or DLMS's port). Until then
    /// its undecodable bytes are not DLMS's business: other protocols on other ports are skipped silently, as a
    /// dissector that has not confirmed its protocol does (Zeek's analyzer confirmation).
    var confirmed = false
    /// Bare APDUs (no framing) are believed only where the input says it is DLMS: raw/hex input, or a flow on
    /// the DLMS port.
    var bareAPDUsAllowed = false
    var state: ConversationState
    var security = AssociationSecurity()
    var labeller = PushLabeller()
    var gbtClient = GBTReassembler()
    var gbtServer = GBTReassembler()

    init(id: String, carrier: String, state: ConversationState) {
        self.id = id
        self.carrier = carrier
        self.state = state
    }
    var firstFrame: Int?
}

extension Analyzer {
    func conversation(_ key: ConversationKey, carrier: String) -> Conversation {
        if let c = conversations[key] { return c }
        // The id is given when the conversation shows DLMS (`confirm`), so flows of other protocols take no number.
        let c = Conversation(id: "-", carrier: carrier, state: ConversationState(id: "-"))
        if case .connection = key {} else { c.bareAPDUsAllowed = true }
        conversations[key] = c
        return c
    }

    /// Marks the conversation as DLMS and numbers it.
    func confirm(_ c: inout Conversation) {
        guard !c.confirmed else { return }
        c.confirmed = true
        conversationOrder += 1
        c.id = "\(c.carrier)-\(conversationOrder)"
        c.state = ConversationState(id: c.id)
        c.state.blockIdleSeconds = options.limits.idleSeconds
        // A run that renders no values (decoding only), or writes them from their bytes (JSON Lines), checks
        // reassembled data without building its values.
        c.state.deferReassembledValues = !decodeOptions.buildTree || !renderer.needsDecodedValues
    }

    /// The direction of a unit from `from` to `to`, learning the client's identity the first time it can be told:
    /// from the TCP handshake, from an APDU or frame type whose direction is inherent (AARQ, SNRM, responses, LLC
    /// E6E6/E6E7), or, failing those, from the well-known DLMS ports.
    func direction(_ c: inout Conversation, from: Party, to: Party, hint: Direction?) -> Direction? {
        switch from {
        case .endpoint(let ep):
            if let client = c.clientEndpoint {
                let d: Direction = ep == client ? .clientToServer : .serverToClient
                // The TCP handshake only says who connected: a meter that pushes connects to its listener. The
                // first APDU whose type tells its direction settles the roles.
                if c.clientFromHandshake, let h = hint {
                    c.clientFromHandshake = false
                    if h != d, case .endpoint(let other) = to {
                        c.clientEndpoint = other
                        return h
                    }
                }
                return d
            }
            if let h = hint {
                if h == .clientToServer { c.clientEndpoint = ep } else if case .endpoint(let other) = to {
                    c.clientEndpoint = other
                }
                return h
            }
            if case .endpoint(let other) = to {
                // Well-known server ports (IEC 62056-47: 4059; Gurux test servers use 4060-4063), else the
                // lower port is the listener.
                let serverPorts: Set<UInt16> = [4059, 4060, 4061, 4062, 4063]
                if serverPorts.contains(other.port) && !serverPorts.contains(ep.port) {
                    c.clientEndpoint = ep
                    return .clientToServer
                }
                if serverPorts.contains(ep.port) && !serverPorts.contains(other.port) {
                    c.clientEndpoint = other
                    return .serverToClient
                }
            }
            return nil
        case .hdlc, .wport:
            // The unit's own type is the strongest evidence (some links use the same address both ways).
            if let h = hint {
                if c.clientParty == nil && from != to { c.clientParty = h == .clientToServer ? from : to }
                return h
            }
            if let client = c.clientParty { return from == client ? .clientToServer : .serverToClient }
            return nil
        case .unknown:
            return hint
        }
    }

    /// The conversation's client and server as text, once known.
    func describeParties(_ c: Conversation) -> (String?, String?) {
        if let (a, b) = c.endpoints {
            if let cl = c.clientEndpoint {
                return (cl.description, (cl == a ? b : a).description)
            }
            return (nil, nil)
        }
        switch c.clientParty {
        case .hdlc(let v): return ("HDLC address \(v)", nil)
        case .wport(let v): return ("wPort \(v)", nil)
        default: return (nil, nil)
        }
    }
}

/// The inherent direction of an APDU type (requests go client → server; responses, notifications and errors
/// server → client); nil for types used both ways (general-*-ciphering, general-block-transfer, ...).
enum InherentDirection {
    /// The inherent direction of the type `APDUDecoder` gives an APDU with this first byte
    /// (`APDUNames.apduType(tag) ?? "unknown"`), from a table made once with `of(apduType:)`.
    static func of(tag: UInt8) -> Direction? { byTag[Int(tag)] }

    private static let byTag: [Direction?] = (0...255).map {
        of(apduType: APDUNames.apduType(UInt8($0)) ?? "unknown")
    }

    static func of(apduType t: String) -> Direction? {
        // Fast path on the UTF-8 bytes (this runs for every APDU; a `switch` over strings compared them one by
        // one). Same answers as the table below, which stays the reference.
        var t = t
        if let d = t.withUTF8({ fastOf($0) }) { return d.direction }
        return slowOf(apduType: t)
    }

    private enum Fast {
        case known(Direction?)
        var direction: Direction? { if case .known(let d) = self { d } else { nil } }
    }

    private static func fastOf(_ u: UnsafeBufferPointer<UInt8>) -> Fast? {
        @inline(__always) func ends(_ suffix: StaticString) -> Bool {
            let n = suffix.utf8CodeUnitCount
            guard u.count >= n else { return false }
            let p = suffix.utf8Start
            for i in 0..<n where u[u.count - n + i] != p[i] { return false }
            return true
        }
        if ends("-response") { return .known(.serverToClient) }
        if ends("-request") {
            // The two server-originated "-request"s of the table.
            if ends("event-notification-request") || ends("information-report-request") { return nil }
            return .known(.clientToServer)
        }
        return nil
    }

    static func slowOf(apduType t: String) -> Direction? {
        switch t {
        case "aarq", "rlrq", "initiate-request", "read-request", "write-request", "unconfirmed-write-request":
            return .clientToServer
        case "aare", "rlre", "initiate-response", "read-response", "write-response", "data-notification",
             "event-notification-request", "information-report-request", "exception-response",
             "confirmed-service-error":
            return .serverToClient
        default:
            if t.hasSuffix("-request") { return .clientToServer }
            if t.hasSuffix("-response") { return .serverToClient }
            return nil
        }
    }

    /// HDLC frame types: SNRM, DISC and I-frames with LLC E6 E6 come from the client (primary station).
    static func of(frame: HDLCFrame) -> Direction? {
        switch frame.type {
        case .snrm, .disc: return .clientToServer
        case .ua, .dm, .frmr: return .serverToClient
        case .i, .ui:
            let info = frame.info
            if info.count >= 3 && info[info.startIndex] == 0xE6 {
                if info[info.startIndex + 1] == 0xE6 { return .clientToServer }
                if info[info.startIndex + 1] == 0xE7 { return .serverToClient }
            }
            return nil
        default: return nil
        }
    }
}
