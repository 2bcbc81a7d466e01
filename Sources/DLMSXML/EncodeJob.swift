import DLMSSecurity
import DLMSWire

/// Everything `dlmsdump encode` does, as a library call: read standard XML (one APDU, or a `--format xml`
/// document) or hex, optionally protect each APDU with keys from a keyring, optionally frame it.
///
/// ```
/// dlmsdump encode [--frame wrapper|hdlc ...] [--protect KIND --keyring FILE --sc N --ic N] [-o FILE] [FILE|-]
/// ```
/// The CLI parses its options into an `EncodeJob`, reads the input text and calls `run(input:keyring:)`.
public struct EncodeJob: Sendable {
    public enum Frame: Sendable, Hashable {
        case none
        /// Wrapper with source and destination wPorts (client 16 → server 1 is usual).
        case wrapper(source: UInt16, destination: UInt16)
        /// HDLC I-frames; `control` nil numbers the frames from N(S)=0, N(R)=0; `maxInfo` splits long APDUs
        /// (a given `control` applies to APDUs that fit in one frame; longer ones are numbered from 0).
        case hdlc(client: UInt8, server: Framing.ServerAddress, control: UInt8?, maxInfo: Int, fromClient: Bool)
    }

    public struct Protect: Sendable, Hashable {
        public var kind: Protection.Kind
        public var securityControl: UInt8
        /// The IC of the first APDU; each further APDU of the input takes the next value.
        public var invocationCounter: UInt32
        /// The sender's system title; nil takes it from the keyring entry used.
        public var systemTitle: [UInt8]?
        /// For general-signing: the recipient system title and the transaction id (default: the IC, 8 bytes).
        public var recipientSystemTitle: [UInt8]
        /// Use the GBEK instead of the GUEK (also set by the broadcast bit 0x40 of the security control).
        public var broadcast: Bool

        public init(kind: Protection.Kind, securityControl: UInt8, invocationCounter: UInt32,
                    systemTitle: [UInt8]? = nil, recipientSystemTitle: [UInt8] = [], broadcast: Bool = false) {
            self.kind = kind
            self.securityControl = securityControl
            self.invocationCounter = invocationCounter
            self.systemTitle = systemTitle
            self.recipientSystemTitle = recipientSystemTitle
            self.broadcast = broadcast
        }
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var code: String
        public var message: String
        public var description: String { "\(message) [\(code)]" }
        init(_ code: String, _ message: String) {
            self.code = code
            self.message = message
        }
    }

    public var frame: Frame
    public var protect: Protect?
    /// For a `--format xml` document: encode the `plain` APDUs (to protect them afresh) instead of the wire ones.
    public var plain: Bool

    public init(frame: Frame = .none, protect: Protect? = nil, plain: Bool = false) {
        self.frame = frame
        self.protect = protect
        self.plain = plain
    }

    /// The APDUs of the input: XML (starting with `<`) or hex (one APDU per line; spaces, `#` comments allowed).
    public static func apdus(from input: String, plain: Bool = false) throws(Failure) -> [[UInt8]] {
        let t = input.trimmingXMLSpace()
        if t.hasPrefix("<") {
            do {
                return try XMLEncoder.encodeDocument(xml: input, plain: plain)
            } catch {
                throw Failure(error.code.rawValue, error.description)
            }
        }
        var out: [[UInt8]] = []
        for (n, line) in input.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let body = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let text = String(body).trimmingXMLSpace()
            if text.isEmpty { continue }
            guard let b = Hex.decode(text), !b.isEmpty else {
                throw Failure("encode.bad-hex", "line \(n + 1): not hex")
            }
            out.append(b)
        }
        return out
    }

    /// Encodes, protects and frames every APDU of `input`; one output unit per APDU (one per HDLC frame when
    /// HDLC splits an APDU).
    public func run(input: String, keyring: Keyring = Keyring()) throws(Failure) -> [[UInt8]] {
        var units: [[UInt8]] = []
        var ic = protect?.invocationCounter ?? 0
        for apdu in try Self.apdus(from: input, plain: plain) {
            var b = apdu
            if let p = protect {
                b = try protectOne(b, p, invocationCounter: ic, keyring: keyring)
                ic &+= 1
            }
            do {
                switch frame {
                case .none: units.append(b)
                case .wrapper(let s, let d): units.append(try Framing.wrap(apdu: b, source: s, destination: d))
                case .hdlc(let client, let server, let control, let maxInfo, let fromClient):
                    if let control, b.count + 3 <= maxInfo {
                        units.append(try Framing.hdlcFrame(apdu: b, client: client, server: server, control: control,
                                                           fromClient: fromClient))
                    } else {
                        units += try Framing.hdlcFrames(apdu: b, client: client, server: server, maxInfo: maxInfo,
                                                        fromClient: fromClient)
                    }
                }
            } catch {
                throw Failure("encode.frame", error.description)
            }
        }
        return units
    }

    func protectOne(_ apdu: [UInt8], _ p: Protect, invocationCounter: UInt32, keyring: Keyring) throws(Failure)
        -> [UInt8]
    {
        // The sender's entry: by system title when one is given, else the first entry holding the needed key.
        let role: KeyRole = switch p.kind {
        case .ded, .generalDed: .dedicated
        default: p.broadcast || p.securityControl & 0x40 != 0 ? .gbek : .guek
        }
        let candidates = p.systemTitle.map { keyring.candidates(forSystemTitle: $0) } ?? keyring.entries
        let entry: KeyEntry?
        if p.kind == .generalSigning {
            entry = candidates.first { $0.signingPrivateKey != nil }
        } else {
            entry = candidates.first { $0[role] != nil }
        }
        guard let entry else {
            throw Failure("encode.no-key", p.kind == .generalSigning ? "no keyring entry has a signing private key"
                          : "no keyring entry has a \(role.rawValue) key")
        }
        guard let st = p.systemTitle ?? entry.systemTitle else {
            throw Failure("encode.no-system-title", "give the sender's system title (the keyring entry has none)")
        }
        let keys = Protection.Keys(encryptionKey: entry[role], authenticationKey: entry.ak,
                                   signingKey: entry.signingPrivateKey)
        var tx: [UInt8] = []
        XMLValue.append(UInt64(invocationCounter), to: &tx)
        do {
            return try Protection.protect(apdu: apdu, kind: p.kind, securityControl: p.securityControl,
                                          invocationCounter: invocationCounter, systemTitle: st, keys: keys,
                                          recipientSystemTitle: p.recipientSystemTitle, transactionID: tx)
        } catch {
            throw Failure(error.code, error.message)
        }
    }
}
