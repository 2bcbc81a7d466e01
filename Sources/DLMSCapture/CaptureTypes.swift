import DLMSWire

/// One link-layer frame from a capture file or interface.
public struct CapturedFrame: Sendable {
    /// 1-based, as Wireshark numbers them.
    public var number: Int
    public var time: Timestamp?
    /// libpcap DLT_* link type.
    public var linkType: Int32
    public var data: [UInt8]
    /// Length on the wire (larger than `data.count` when the snap length cut the frame).
    public var originalLength: Int
    public init(number: Int, time: Timestamp?, linkType: Int32, data: [UInt8], originalLength: Int) {
        self.number = number
        self.time = time
        self.linkType = linkType
        self.data = data
        self.originalLength = originalLength
    }
}

/// An error that stops reading a source (missing file, unsupported link type, bad filter): one line for the user.
public struct CaptureError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public protocol FrameSource {
    /// The next frame, or nil at the end.
    mutating func next() throws(CaptureError) -> CapturedFrame?
    /// Hands back a frame the caller is done with: a source may copy a later frame into its byte buffer when
    /// nothing else holds that buffer (a frame's bytes are never changed while anyone else holds them). Optional;
    /// the default drops the frame.
    mutating func recycle(_ frame: consuming CapturedFrame)
}

extension FrameSource {
    public mutating func recycle(_ frame: consuming CapturedFrame) {}
}

public enum IPProtocol: UInt8, Sendable { case tcp = 6, udp = 17 }

/// An IP address (4 or 16 bytes) and port. The address is kept inline (two words), not in an array: endpoints are
/// made for every packet and hashed for every lookup, so they must not allocate.
public struct Endpoint: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// 4 or 16.
    public let addressLength: UInt8
    /// The address bytes, big-endian, left-aligned in `high` ‖ `low` (IPv4 uses the first 4 bytes of `high`).
    public let high: UInt64
    public let low: UInt64
    public var port: UInt16

    public init<C: Collection>(address: C, port: UInt16) where C.Element == UInt8 {
        var h: UInt64 = 0
        var l: UInt64 = 0
        var i = 0
        for b in address.prefix(16) {
            if i < 8 { h |= UInt64(b) << (56 - 8 * UInt64(i)) } else { l |= UInt64(b) << (56 - 8 * UInt64(i - 8)) }
            i += 1
        }
        self.addressLength = UInt8(i)
        self.high = h
        self.low = l
        self.port = port
    }

    /// An IPv4 address (big-endian value) and port.
    @inlinable public init(ipv4 address: UInt32, port: UInt16) {
        self.addressLength = 4
        self.high = UInt64(address) << 32
        self.low = 0
        self.port = port
    }

    /// An IPv6 address (its first and last 8 bytes as big-endian values) and port.
    @inlinable public init(ipv6High high: UInt64, low: UInt64, port: UInt16) {
        self.addressLength = 16
        self.high = high
        self.low = low
        self.port = port
    }

    /// The address bytes (4 or 16).
    public var address: [UInt8] {
        (0..<Int(addressLength)).map { i in
            i < 8 ? UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i)))
                : UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i - 8)))
        }
    }

    /// Two words instead of four (the flow, stream and conversation tables hash endpoints for every segment);
    /// equality still compares every field.
    public func hash(into h: inout Hasher) {
        h.combine(high)
        h.combine(low ^ UInt64(port) << 32 ^ UInt64(addressLength) << 56)
    }

    public static func < (a: Endpoint, b: Endpoint) -> Bool {
        (a.addressLength, a.high, a.low, a.port) < (b.addressLength, b.high, b.low, b.port)
    }

    /// `127.0.0.1:4059` or `[::1]:4059`.
    public var description: String {
        let bytes = address
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") + ":\(port)" }
        var groups: [String] = []
        var i = 0
        while i + 1 < bytes.count {
            groups.append(String(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]), radix: 16))
            i += 2
        }
        return "[" + groups.joined(separator: ":") + "]:\(port)"
    }
}

public struct TCPHeader: Sendable, Hashable {
    public var sequence: UInt32
    public var acknowledgement: UInt32
    /// FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10.
    public var flags: UInt8
    public init(sequence: UInt32, acknowledgement: UInt32, flags: UInt8) {
        self.sequence = sequence
        self.acknowledgement = acknowledgement
        self.flags = flags
    }
    public var syn: Bool { flags & 0x02 != 0 }
    public var fin: Bool { flags & 0x01 != 0 }
    public var rst: Bool { flags & 0x04 != 0 }
    public var ack: Bool { flags & 0x10 != 0 }
}

/// A TCP segment or UDP datagram taken out of a frame.
public struct Packet: Sendable {
    public var frame: Int
    public var time: Timestamp?
    public var proto: IPProtocol
    public var source: Endpoint
    public var destination: Endpoint
    public var tcp: TCPHeader?
    public var payload: ArraySlice<UInt8>
    /// The capture cut this packet short (caplen < wire length): `payload` is incomplete.
    public var truncated: Bool
    /// Bytes of payload missing because of the truncation.
    public var missingBytes: Int
    /// The packet is the first fragment of a fragmented IP datagram (the other fragments are not reassembled):
    /// `payload` holds only the bytes of this fragment. For UDP `missingBytes` says how many are missing (from the
    /// UDP length); for TCP the count is unknown here and the reassembler reports the hole as a gap.
    public var fragmented: Bool = false
    public init(frame: Int, time: Timestamp?, proto: IPProtocol, source: Endpoint, destination: Endpoint,
                tcp: TCPHeader?, payload: ArraySlice<UInt8>, truncated: Bool = false, missingBytes: Int = 0,
                fragmented: Bool = false) {
        self.fragmented = fragmented
        self.frame = frame
        self.time = time
        self.proto = proto
        self.source = source
        self.destination = destination
        self.tcp = tcp
        self.payload = payload
        self.truncated = truncated
        self.missingBytes = missingBytes
    }
}

public enum PacketDecodeResult: Sendable {
    case packet(Packet)
    /// Not IP/TCP/UDP (ARP, ICMP, ...): silently skipped.
    case ignored
    case malformed(DecodeError)
}

/// A connection (TCP) or a UDP flow, numbered in order of first appearance.
public struct ConnectionID: Sendable, Hashable, Comparable {
    public var value: Int
    public init(_ value: Int) { self.value = value }
    public static func < (a: ConnectionID, b: ConnectionID) -> Bool { a.value < b.value }
}

public enum StreamEvent: Sendable {
    /// New connection seen. `initiator` is the side that sent the SYN, when the capture shows it.
    case opened(ConnectionID, proto: IPProtocol, a: Endpoint, b: Endpoint, initiator: Endpoint?, frame: Int,
                time: Timestamp?)
    /// In-order stream bytes (TCP) or one datagram (UDP) from `from` to `to`.
    case data(ConnectionID, from: Endpoint, to: Endpoint, bytes: ArraySlice<UInt8>, frame: Int, time: Timestamp?)
    /// Bytes of the `from` → `to` stream lost before the data that follows.
    case gap(ConnectionID, from: Endpoint, to: Endpoint, missing: Int, frame: Int, time: Timestamp?)
    case closed(ConnectionID, reason: String, frame: Int, time: Timestamp?)
    /// Something noteworthy that is not a gap (retransmission with different bytes, truncated frame, ...).
    case notice(ConnectionID?, code: String, message: String, frame: Int, time: Timestamp?)
}
