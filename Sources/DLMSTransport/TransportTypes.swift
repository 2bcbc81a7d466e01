import DLMSWire

/// IEC 62056-47 wrapper header: version (1), source wPort, destination wPort, length of the APDU that follows.
public struct WrapperHeader: Sendable, Hashable {
    public var version: UInt16
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var length: UInt16
    public init(version: UInt16, sourcePort: UInt16, destinationPort: UInt16, length: UInt16) {
        self.version = version
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.length = length
    }
}

/// An HDLC address (IEC 62056-46 §8.4.2.2): 1, 2 or 4 bytes; the server address splits into upper (logical device)
/// and lower (physical device) parts.
public struct HDLCAddress: Sendable, Hashable {
    /// Number of bytes on the wire (1, 2 or 4).
    public var size: Int
    /// The value with the extension bits removed, e.g. 0x10 for a client with address 16.
    public var value: UInt32
    /// For 2- and 4-byte addresses: the upper (logical) and lower (physical) halves; 1-byte: upper = value.
    public var upper: UInt16
    public var lower: UInt16?
    public init(size: Int, value: UInt32, upper: UInt16, lower: UInt16?) {
        self.size = size
        self.value = value
        self.upper = upper
        self.lower = lower
    }
}

public enum HDLCFrameType: String, Sendable {
    case i = "I", rr = "RR", rnr = "RNR", snrm = "SNRM", disc = "DISC", ua = "UA", dm = "DM", frmr = "FRMR",
         ui = "UI", unknown = "unknown"
}

/// SNRM/UA negotiation parameters (IEC 62056-46 §6.4.4.4.3.2, format identifier 0x81, group 0x80).
public struct HDLCParameters: Sendable, Hashable {
    public var maxInfoTransmit: Int?
    public var maxInfoReceive: Int?
    public var windowTransmit: Int?
    public var windowReceive: Int?
    public init() {}
}

/// One HDLC frame as seen on the line.
///
/// A reference type whose fields never change: a frame travels from the decoder through the event list, the
/// segment reassembler and the APDU's transport description to the renderer, and each of those hands on one
/// reference instead of a copy of every field. `raw` is a view into the bytes the frame was decoded from (no copy)
/// and `info` a view into `raw`.
public final class HDLCFrame: Sendable {
    /// Frame format field (type 3 = 0xA in the top nibble), segmentation bit and 11-bit length.
    public let format: UInt16
    public var segmented: Bool { format & 0x0800 != 0 }
    public var length: Int { Int(format & 0x07FF) }
    public let destination: HDLCAddress
    public let source: HDLCAddress
    public let control: UInt8
    public let type: HDLCFrameType
    public let sendSequence: UInt8?
    public let receiveSequence: UInt8?
    public let pollFinal: Bool
    public let hcsOK: Bool?
    public let fcsOK: Bool
    public let parameters: HDLCParameters?
    /// The whole frame, flags included.
    public let raw: ArraySlice<UInt8>
    /// Where the information field lies in `raw` (indices of `raw`).
    public let infoRange: Range<Int>
    /// Capture frames that carried the frame (one or two held inline: no array allocated per frame).
    public let frames: FrameNumbers
    public let time: Timestamp?
    /// Malformations inside the frame that did not stop it from being delimited (a bad HCS/FCS, an SNRM/UA
    /// parameter block that does not parse, an address of 3 bytes). Codes: `hdlc.bad-hcs`, `hdlc.bad-fcs`,
    /// `hdlc.bad-parameters`, `hdlc.bad-address`.
    public let errors: [DecodeError]

    /// Information field (LLC header not removed).
    public var info: ArraySlice<UInt8> { raw[infoRange] }

    /// `infoRange` must lie within `raw.indices`.
    public convenience init(format: UInt16, destination: HDLCAddress, source: HDLCAddress, control: UInt8,
                hcsOK: Bool?, fcsOK: Bool, parameters: HDLCParameters?, raw: ArraySlice<UInt8>,
                infoRange: Range<Int>, frames: [Int], time: Timestamp?, errors: [DecodeError] = []) {
        let c = HDLCControl(control)
        self.init(format: format, destination: destination, source: source, control: c, hcsOK: hcsOK, fcsOK: fcsOK,
                  parameters: parameters, raw: raw, infoRange: infoRange, frames: FrameNumbers(frames), time: time,
                  errors: errors)
    }

    @inline(__always)
    init(format: UInt16, destination: HDLCAddress, source: HDLCAddress, control c: HDLCControl, hcsOK: Bool?,
         fcsOK: Bool, parameters: HDLCParameters?, raw: ArraySlice<UInt8>, infoRange: Range<Int>,
         frames: FrameNumbers, time: Timestamp?, errors: [DecodeError]) {
        let control = c.raw
        self.format = format
        self.destination = destination
        self.source = source
        self.control = control
        self.type = c.type
        self.sendSequence = c.sendSequence
        self.receiveSequence = c.receiveSequence
        self.pollFinal = c.pollFinal
        self.hcsOK = hcsOK
        self.fcsOK = fcsOK
        self.parameters = parameters
        self.raw = raw
        self.infoRange = infoRange.clamped(to: raw.startIndex..<raw.endIndex)
        self.frames = frames
        self.time = time
        self.errors = errors
    }

    /// The same frame with `raw` in storage of its own (for frames kept for long: a view would keep alive the
    /// whole buffer it was cut from).
    func compacted() -> HDLCFrame {
        let own = Array(raw)[...]
        let shift = infoRange.lowerBound - raw.startIndex
        return HDLCFrame(format: format, destination: destination, source: source,
                         control: HDLCControl(control), hcsOK: hcsOK,
                         fcsOK: fcsOK, parameters: parameters, raw: own,
                         infoRange: shift..<(shift + infoRange.count), frames: frames, time: time, errors: errors)
    }
}

/// How a complete APDU was carried.
public enum TransportKind: Sendable {
    case wrapper(WrapperHeader)
    /// HDLC I or UI frames: the frames that carried the segments (first to last) and the LLC header found (nil
    /// when the information field had none).
    case hdlc(segments: [HDLCFrame], llc: [UInt8]?)
    /// EN 13757-2 wired M-Bus long frames joined by the DLMS transport layer (segment number and last-segment flag
    /// in the CI field, STSAP/DTSAP).
    case mbus(segments: [MBusFrameInfo])
    /// A bare APDU (raw/hex input without framing).
    case raw
    /// An APDU behind the IEC 61334-4-32 LLC header (S-FSK PLC convergence layer: destination LSAP, source LSAP,
    /// and a third byte; `90 01 01` is what the Wireshark DLMS plugin recognises by its first byte 0x90).
    case iec432(llc: [UInt8])
}

/// One complete APDU after link-layer reassembly.
public struct TransportAPDU: Sendable {
    public var kind: TransportKind
    /// The APDU bytes (LLC header removed).
    public var bytes: [UInt8]
    /// Capture frame numbers (or link-frame ordinals for raw/hex input) that carried its bytes, in order.
    public var frames: [Int]
    public var time: Timestamp?
    public var errors: [DecodeError]
    public init(kind: TransportKind, bytes: [UInt8], frames: [Int], time: Timestamp?, errors: [DecodeError] = []) {
        self.kind = kind
        self.bytes = bytes
        self.frames = frames
        self.time = time
        self.errors = errors
    }
}

/// A problem between units: a frame that could not be used, a resynchronisation, a reassembly limit.
public struct TransportIssue: Sendable {
    /// Stable code: `hdlc.bad-fcs`, `hdlc.bad-hcs`, `wrapper.bad-length`, `wrapper.bad-header`, `stream.junk`,
    /// `hdlc.segment-incomplete`, `reassembly.limit`, ...
    public var code: String
    public var message: String
    public var frames: [Int]
    public var time: Timestamp?
    /// Byte offset within the frame/stream chunk, when known.
    public var offset: Int?
    public init(code: String, message: String, frames: [Int], time: Timestamp?, offset: Int? = nil) {
        self.code = code
        self.message = message
        self.frames = frames
        self.time = time
        self.offset = offset
    }
}

public enum TransportEvent: Sendable {
    case apdu(TransportAPDU)
    /// Every HDLC frame decoded (I-frames included; a renderer may show only the non-I ones).
    case hdlcFrame(HDLCFrame)
    case issue(TransportIssue)

    /// The APDU of an `.apdu` event, moved out of the event (nil for the other cases): bound by `case .apdu(let a)`
    /// in a large switch, the payload was copied and the event destroyed after the case.
    @inline(never)
    public consuming func takeAPDU() -> TransportAPDU? {
        switch consume self {
        case .apdu(let a): return a
        case .hdlcFrame, .issue: return nil
        }
    }
}

/// Framing of a byte stream.
public enum Framing: Sendable, Hashable {
    /// Decided per frame: HDLC (0x7E), wrapper (0x0001), otherwise a bare APDU.
    case auto
    case wrapper
    case hdlc
    /// The whole chunk is one APDU (e.g. a UDP datagram or one hex line without framing).
    case bare
}

/// Limits of a stream decoder's buffers (bounded memory).
public struct StreamLimits: Sendable {
    /// Largest buffered partial frame, bytes.
    public var maxBufferedBytes: Int = 1 << 20
    /// Largest reassembled HDLC APDU, bytes.
    public var maxAPDUBytes: Int = 1 << 20
    /// Seconds of capture time a pending segment sequence (HDLC) may wait for its next segment before it is
    /// dropped (`reassembly.expired`); nil = never. Frames without a capture time (raw/hex input) never expire.
    public var idleSeconds: Double? = 120
    public init() {}
}
