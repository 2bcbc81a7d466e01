import DLMSWire

/// One APDU joined from the DLMS transport-layer segments of wired M-Bus long frames.
public struct MBusAPDU: Sendable {
    /// The frames that carried the segments, first to last.
    public var segments: [MBusFrameInfo]
    /// Source and destination transport service access points (the two bytes after CI).
    public var stsap: UInt8
    public var dtsap: UInt8
    public var bytes: [UInt8]
    public var frames: [Int]
    public var time: Timestamp?
    public var errors: [DecodeError]

    public init(segments: [MBusFrameInfo], stsap: UInt8, dtsap: UInt8, bytes: [UInt8], frames: [Int],
                time: Timestamp?, errors: [DecodeError] = []) {
        self.segments = segments
        self.stsap = stsap
        self.dtsap = dtsap
        self.bytes = bytes
        self.frames = frames
        self.time = time
        self.errors = errors
    }
}

/// Joins the DLMS transport layer carried by wired M-Bus (the "3-layer M-Bus profile" of IEC 62056-7-6 /
/// EN 13757-1, used on the customer ports of Austrian, Polish, Swiss... meters) into APDUs:
///
/// ```
/// 68 L L 68 | C | A | CI | STSAP | DTSAP | APDU segment | CS | 16
///     CI = 000F SSSS   (F = last segment, SSSS = segment number mod 16; CI 0x00...0x1F is DLMS)
/// ```
///
/// A one-frame APDU has CI `0x10`; a two-frame push CI `0x00` then `0x11` (fneur/smart-meter-tirol
/// doc/EXAMPLE.md, TINETZ Kaifa MA309). The bit layout is the one of UtilitechAS/amsreader-firmware
/// `MbusParser.cpp` ("Bits 7 6 5 4 3 2 1 0: 0 0 0 Finished Sequence number"); Gurux `GXDLMS.getWiredMBusData`
/// only tests CI 0 (more to come) and `CI >> 4 == CI & 0xF` (last), which agrees on these frames.
///
/// Segments are joined per link: the A field, the C field's direction bit (PRM) and the STSAP/DTSAP pair.
///
/// Rules:
/// - Frames with a bad checksum are never offered here (the caller drops them); frames with a CI outside 0x00-0x1F
///   are not DLMS and are reported (`mbus.not-dlms`) once per CI value.
/// - A segment 0 while a sequence is pending ends that sequence (unless it follows segment 15: the number wraps) (`mbus.segment-incomplete`); a segment whose
///   number repeats the last one with the same bytes is a retransmission (`mbus.duplicate-segment`, not joined
///   twice); any other number than the next one drops the sequence (`mbus.segment-out-of-order`).
/// - Bounded: `maxAPDUBytes` per APDU, `maxLinks` links with pending segments, and a pending sequence idle for
///   more than `idleSeconds` of capture time is dropped (`mbus.segment-incomplete`).
public struct MBusAssembler: Sendable {
    public enum Event: Sendable {
        case apdu(MBusAPDU)
        case issue(TransportIssue)
    }

    struct LinkKey: Hashable, Sendable {
        var address: UInt8
        var fromPrimary: Bool
        var stsap: UInt8
        var dtsap: UInt8
    }

    struct Pending: Sendable {
        var segments: [MBusFrameInfo] = []
        var bytes: [UInt8] = []
        var frames: [Int] = []
        var lastNumber: UInt8 = 0
        var lastTime: Timestamp?
    }

    public var maxAPDUBytes: Int
    public var maxLinks: Int
    public var idleSeconds: Double
    var pending: [LinkKey: Pending] = [:]
    var order: [LinkKey] = []
    var reportedCIs: Set<UInt8> = []

    public init(maxAPDUBytes: Int = 1 << 16, maxLinks: Int = 64, idleSeconds: Double = 30) {
        self.maxAPDUBytes = maxAPDUBytes
        self.maxLinks = maxLinks
        self.idleSeconds = idleSeconds
    }

    /// Offers one frame whose checksum passed.
    public mutating func accept(_ frame: MBusFrameInfo) -> [Event] {
        var out: [Event] = []
        accept(frame, into: &out)
        return out
    }

    public mutating func accept(_ frame: MBusFrameInfo, into out: inout [Event]) {
        expire(now: frame.time, into: &out)
        guard frame.kind == .long, let ci = frame.ci, let c = frame.control, let a = frame.address else { return }
        guard ci <= 0x1F else {
            if reportedCIs.count < 256, reportedCIs.insert(ci).inserted {
                out.append(.issue(TransportIssue(
                    code: "mbus.not-dlms",
                    message: "M-Bus CI 0x\(Hex.encode([ci])) is not the DLMS transport layer (0x00-0x1F); "
                        + "the frame's application data is not decoded",
                    frames: frame.frames, time: frame.time)))
            }
            return
        }
        var r = ByteReader(frame.data)
        guard let stsap = r.readUInt8(), let dtsap = r.readUInt8() else {
            out.append(.issue(TransportIssue(
                code: "mbus.bad-segment", message: "DLMS M-Bus frame without its STSAP and DTSAP bytes",
                frames: frame.frames, time: frame.time)))
            return
        }
        let segment = r.readRest()
        let number = ci & 0x0F
        let last = ci & 0x10 != 0
        let key = LinkKey(address: a, fromPrimary: c & 0x40 != 0, stsap: stsap, dtsap: dtsap)

        // Segment 0 after segment 15 is the 4-bit number wrapping (an APDU of more than 16 segments), not a new
        // first segment: a sequence that reached 15 is long already, and a lost last segment would have made the
        // next push start at 0 after some other number.
        let wraps = number == 0 && pending[key]?.lastNumber == 0x0F
        if number == 0 && !wraps {
            abandon(key, because: "a new first segment", at: frame, into: &out)
            if last {
                // The common case, one frame = one APDU.
                out.append(.apdu(MBusAPDU(segments: [frame], stsap: stsap, dtsap: dtsap, bytes: Array(segment),
                                          frames: frame.frames, time: frame.time)))
                return
            }
            if pending.count >= maxLinks, let oldest = order.first {
                let dropped = pending[oldest]
                abandon(oldest, because: "too many links are reassembling at once", at: frame, into: &out)
                out.append(.issue(TransportIssue(
                    code: "reassembly.limit",
                    message: "more than \(maxLinks) M-Bus links with pending segments; the oldest is dropped",
                    frames: dropped?.frames ?? [], time: frame.time)))
            }
            var p = Pending()
            p.segments = [frame]
            p.bytes = Array(segment)
            p.frames = frame.frames
            p.lastNumber = 0
            p.lastTime = frame.time
            pending[key] = p
            order.append(key)
            return
        }
        guard var p = pending[key] else {
            out.append(.issue(TransportIssue(
                code: "mbus.segment-out-of-order",
                message: "M-Bus segment \(number) without its first segment; dropped",
                frames: frame.frames, time: frame.time)))
            return
        }
        if number == p.lastNumber, let prev = p.segments.last, prev.data == frame.data {
            out.append(.issue(TransportIssue(
                code: "mbus.duplicate-segment",
                message: "M-Bus segment \(number) repeats the one already received; not joined twice",
                frames: frame.frames, time: frame.time)))
            return
        }
        guard number == (p.lastNumber &+ 1) & 0x0F else {
            abandon(key, because: "segment \(number) where \((p.lastNumber &+ 1) & 0x0F) was expected", at: frame,
                    code: "mbus.segment-out-of-order", into: &out)
            return
        }
        guard p.bytes.count + segment.count <= maxAPDUBytes else {
            abandon(key, because: "it grew beyond the limit", at: frame, into: &out)
            out.append(.issue(TransportIssue(
                code: "reassembly.limit",
                message: "M-Bus segments exceed \(maxAPDUBytes) bytes; the partial APDU is dropped",
                frames: p.frames + frame.frames, time: frame.time)))
            return
        }
        p.segments.append(frame)
        p.bytes.append(contentsOf: segment)
        p.frames.append(contentsOf: frame.frames)
        p.lastNumber = number
        p.lastTime = frame.time
        if last {
            pending[key] = nil
            order.removeAll { $0 == key }
            out.append(.apdu(MBusAPDU(segments: p.segments, stsap: stsap, dtsap: dtsap, bytes: p.bytes,
                                      frames: p.frames, time: frame.time)))
        } else {
            pending[key] = p
        }
    }

    /// End of stream: every pending sequence is incomplete.
    public mutating func finish() -> [Event] {
        var out: [Event] = []
        for key in order {
            guard let p = pending[key] else { continue }
            out.append(.issue(incomplete(p, reason: "the stream ended", code: "mbus.segment-incomplete")))
        }
        pending.removeAll()
        order.removeAll()
        return out
    }

    // MARK: - Limits

    /// Drops sequences idle for longer than `idleSeconds` at capture time `now`.
    private mutating func expire(now: Timestamp?, into out: inout [Event]) {
        guard let now, !order.isEmpty else { return }
        var kept: [LinkKey] = []
        for key in order {
            guard let p = pending[key] else { continue }
            if let t = p.lastTime, now.seconds(since: t) > idleSeconds {
                pending[key] = nil
                out.append(.issue(incomplete(p, reason: "\(idleSeconds) s without a further segment",
                                             code: "mbus.segment-incomplete")))
            } else {
                kept.append(key)
            }
        }
        order = kept
    }

    private mutating func abandon(_ key: LinkKey, because reason: String, at frame: MBusFrameInfo,
                                  code: String = "mbus.segment-incomplete", into out: inout [Event]) {
        guard let p = pending.removeValue(forKey: key) else {
            if code != "mbus.segment-incomplete" {
                out.append(.issue(TransportIssue(code: code, message: "M-Bus \(reason); dropped",
                                                 frames: frame.frames, time: frame.time)))
            }
            return
        }
        order.removeAll { $0 == key }
        var issue = incomplete(p, reason: reason, code: code)
        issue.frames = p.frames + frame.frames
        issue.time = frame.time
        out.append(.issue(issue))
    }

    private func incomplete(_ p: Pending, reason: String, code: String) -> TransportIssue {
        TransportIssue(
            code: code,
            message: "M-Bus segment sequence of \(p.segments.count) frame(s), \(p.bytes.count) bytes, ended by "
                + "\(reason) before its last segment",
            frames: p.frames, time: p.segments.last?.time)
    }
}
