import DLMSWire

/// Turns one direction of a byte stream (a TCP direction, a UDP datagram sequence, or a raw serial stream with both
/// directions interleaved) into link frames and complete APDUs. Placeholder until the framing decoders land.
public struct StreamDecoder: Sendable {
    public var framing: Framing
    public var limits: StreamLimits
    /// When true (raw/hex input), each link frame found is numbered 1, 2, 3, ... and those ordinals are the
    /// `frames` of what it emits; when false, the `frame` argument of `feed` is used.
    public var numberFramesInternally: Bool

    public init(framing: Framing = .auto, limits: StreamLimits = .init(), numberFramesInternally: Bool = false) {
        self.framing = framing
        self.limits = limits
        self.numberFramesInternally = numberFramesInternally
    }

    /// Feeds the next chunk of the stream, carried by capture frame `frame` at `time`.
    public mutating func feed(_ bytes: ArraySlice<UInt8>, frame: Int, time: Timestamp?) -> [TransportEvent] {
        []
    }

    /// `missing` bytes of the stream were lost (TCP gap): drop partial state and resynchronise.
    public mutating func gap(missing: Int, frame: Int, time: Timestamp?) -> [TransportEvent] { [] }

    /// End of stream: report what is left unfinished.
    public mutating func finish() -> [TransportEvent] { [] }
}

extension StreamDecoder {
    /// Feeds a self-contained record (a UDP datagram, a hex-dump line or paragraph): it holds one or more whole
    /// frames or one bare APDU; nothing is carried over to the next record except HDLC segmentation state.
    public mutating func feedRecord(_ bytes: ArraySlice<UInt8>, frame: Int, time: Timestamp?) -> [TransportEvent] {
        []
    }
}
