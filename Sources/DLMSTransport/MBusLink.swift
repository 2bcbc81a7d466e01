import DLMSWire

/// A wired M-Bus line end to end: frames delimited by `MBusFrameDecoder`, DLMS segments joined by
/// `MBusAssembler`. For a raw serial tap or hex dump known to carry M-Bus only; a stream that may mix framings
/// goes through `StreamDecoder` once its detector has the M-Bus branch.
///
/// ```swift
/// var link = MBusLink()
/// for chunk in tap { for event in link.feed(chunk.bytes[...], frame: chunk.number, time: chunk.time) { … } }
/// for event in link.finish() { … }
/// ```
public struct MBusLink: Sendable {
    public enum Event: Sendable {
        /// A complete APDU, from one or more frames.
        case apdu(MBusAPDU)
        /// Every frame delimited, DLMS or not (the DLMS ones are also offered to the assembler).
        case frame(MBusFrameInfo)
        case issue(TransportIssue)
    }

    public var decoder: MBusFrameDecoder
    public var assembler: MBusAssembler

    public init(acceptsSingleCharacter: Bool = true, limits: StreamLimits = .init()) {
        decoder = MBusFrameDecoder(acceptsSingleCharacter: acceptsSingleCharacter)
        assembler = MBusAssembler(maxAPDUBytes: limits.maxAPDUBytes)
    }

    public mutating func feed(_ bytes: ArraySlice<UInt8>, frame: Int, time: Timestamp?) -> [Event] {
        var out: [Event] = []
        route(decoder.feed(bytes, frame: frame, time: time), into: &out)
        return out
    }

    public mutating func finish() -> [Event] {
        var out: [Event] = []
        route(decoder.finish(), into: &out)
        for e in assembler.finish() { out.append(Self.event(e)) }
        return out
    }

    private mutating func route(_ events: [MBusFrameDecoder.Event], into out: inout [Event]) {
        for e in events {
            switch e {
            case .frame(let f):
                out.append(.frame(f))
                // A frame with a bad checksum was reported by the decoder and is not used.
                guard f.checksumOK else { continue }
                var produced: [MBusAssembler.Event] = []
                assembler.accept(f, into: &produced)
                for p in produced { out.append(Self.event(p)) }
            case .issue(let i):
                out.append(.issue(i))
            }
        }
    }

    private static func event(_ e: MBusAssembler.Event) -> Event {
        switch e {
        case .apdu(let a): .apdu(a)
        case .issue(let i): .issue(i)
        }
    }
}
