import DLMSWire

/// Joins HDLC I/UI frames with the segmentation bit set into APDUs (IEC 62056-46 §6.4.4.4.3.3: a segmented
/// information field is sent as frames with S = 1, the last one with S = 0), per link. A raw serial line carries both
/// directions, so a link is the ordered (source, destination) address pair.
///
/// Rules:
/// - Frames with a bad HCS/FCS are never offered here (the caller drops them).
/// - An I-frame whose N(S) and bytes repeat the last accepted I-frame of the link is a retransmission: reported
///   (`hdlc.retransmission`) and not joined twice.
/// - While segments are pending, the next I-frame must carry N(S) + 1 (mod 8); any other N(S), a DISC or SNRM
///   between the two stations, or the end of the stream ends the sequence with `hdlc.segment-incomplete`.
/// - The LLC header (E6 E6 00 command, E6 E7 00 response; IEC 62056-46 §8.4.5 / IEC 8802-2) is removed from the
///   first segment; without it the APDU is still emitted, with a `hdlc.no-llc` error (Gurux sends its RLRE so).
/// - Bounded: `maxAPDUBytes` per APDU and `maxLinks` links with pending segments (`reassembly.limit`), and a
///   pending sequence whose next segment does not come within `idleSeconds` of capture time is dropped
///   (`reassembly.expired`, checked when the next frame arrives). Frames without a capture time never expire.
struct HDLCReassembler {
    struct LinkKey: Hashable {
        var source: UInt32
        var sourceSize: Int
        var destination: UInt32
        var destinationSize: Int

        init(_ f: HDLCFrame) {
            source = f.source.value
            sourceSize = f.source.size
            destination = f.destination.value
            destinationSize = f.destination.size
        }

        /// One word hashed instead of four (an HDLC address value has at most 28 bits; the sizes follow from the
        /// values in practice and still take part in `==`).
        func hash(into hasher: inout Hasher) {
            hasher.combine(UInt64(source) << 32 | UInt64(destination))
        }

        var reversed: LinkKey {
            var k = self
            swap(&k.source, &k.destination)
            swap(&k.sourceSize, &k.destinationSize)
            return k
        }
    }

    struct Pending {
        var segments: [HDLCFrame] = []
        var bytes: [UInt8] = []
        var frames: [Int] = []
    }

    /// The last accepted I-frame of a link, to recognise a retransmission. `info` shares the frame's storage.
    struct LastIFrame {
        var sendSequence: UInt8
        var info: [UInt8]
    }

    static let maxLinks = 64
    /// Segments per APDU (frames with an empty information field would otherwise grow a sequence without bytes).
    static let maxSegments = 1 << 16
    static let llcCommand: [UInt8] = [0xE6, 0xE6, 0x00]
    static let llcResponse: [UInt8] = [0xE6, 0xE7, 0x00]

    var maxAPDUBytes: Int
    var idleSeconds: Double?
    var pending: [LinkKey: Pending] = [:]
    /// Order in which links started pending, for eviction at `maxLinks`.
    var pendingOrder: [LinkKey] = []
    var lastIFrame: [LinkKey: LastIFrame] = [:]

    init(maxAPDUBytes: Int, idleSeconds: Double? = 120) {
        self.maxAPDUBytes = maxAPDUBytes
        self.idleSeconds = idleSeconds
    }

    /// Offers one decoded frame whose checks passed; appends the resulting APDUs and issues to `out`.
    mutating func accept(_ frame: HDLCFrame, into out: inout [TransportEvent]) {
        if !pendingOrder.isEmpty, let now = frame.time, idleSeconds != nil { expire(now: now, into: &out) }
        let key = LinkKey(frame)
        switch frame.type {
        case .snrm, .disc:
            // A new (or ended) connection between the two stations: whatever was being reassembled is lost.
            abandon(key, because: "a \(frame.type.rawValue) frame", at: frame, into: &out)
            abandon(key.reversed, because: "a \(frame.type.rawValue) frame", at: frame, into: &out)
            lastIFrame[key] = nil
            lastIFrame[key.reversed] = nil
        case .i, .ui:
            carryInformation(frame, key: key, into: &out)
        case .rr, .rnr, .ua, .dm, .frmr, .unknown:
            // Supervisory and unnumbered responses carry no APDU bytes and do not end a segment sequence
            // (RR is how the receiver asks for the next segment).
            break
        }
    }

    /// End of stream: every pending sequence is incomplete.
    mutating func finish(into out: inout [TransportEvent]) {
        for key in pendingOrder {
            guard let p = pending[key] else { continue }
            out.append(.issue(incomplete(p, reason: "the stream ended")))
        }
        pending.removeAll()
        pendingOrder.removeAll()
    }

    /// Drops the pending sequences whose last segment is more than `idleSeconds` of capture time before `now`.
    mutating func expire(now: Timestamp, into out: inout [TransportEvent]) {
        guard let limit = idleSeconds else { return }
        func isStale(_ key: LinkKey) -> Bool {
            guard let last = pending[key]?.segments.last?.time else { return false }
            return now.seconds(since: last) > limit
        }
        // Checked for every frame while segments are pending: nothing is allocated unless a sequence went stale.
        guard pendingOrder.contains(where: isStale) else { return }
        var kept: [LinkKey] = []
        kept.reserveCapacity(pendingOrder.count)
        for key in pendingOrder {
            guard let p = pending[key] else { continue }
            guard let last = p.segments.last?.time, now.seconds(since: last) > limit else {
                kept.append(key)
                continue
            }
            pending[key] = nil
            out.append(.issue(TransportIssue(
                code: "reassembly.expired",
                message: "HDLC segment sequence of \(p.segments.count) frame(s), \(p.bytes.count) bytes, not continued "
                    + "within \(Self.seconds(limit)) s of capture time; the partial APDU is dropped",
                frames: p.frames, time: last)))
        }
        pendingOrder = kept
    }

    /// `120` rather than `120.0` in messages.
    static func seconds(_ s: Double) -> String {
        s == s.rounded() && abs(s) < 1e15 ? String(Int64(s)) : String(s)
    }

    // MARK: - Information frames

    private mutating func carryInformation(_ frame: HDLCFrame, key: LinkKey, into out: inout [TransportEvent]) {
        if frame.type == .i, let ns = frame.sendSequence {
            if isRetransmission(frame, ns: ns, key: key) {
                out.append(.issue(TransportIssue(
                    code: "hdlc.retransmission",
                    message: "I-frame N(S)=\(ns) repeats a frame already received on this link; not joined twice",
                    frames: frame.frames, time: frame.time)))
                return
            }
            if !pending.isEmpty, let p = pending[key], let prev = p.segments.last?.sendSequence,
               ns != (prev &+ 1) & 7 {
                abandon(key, because: "I-frame N(S)=\(ns) where N(S)=\((prev &+ 1) & 7) was expected", at: frame,
                        into: &out)
            }
            lastIFrame[key] = LastIFrame(sendSequence: ns, info: frame.info)
        }

        if !frame.segmented, pending.isEmpty || pending[key] == nil {
            // The common case, one frame = one APDU: no intermediate buffer.
            emit(segments: [frame], info: frame.info[...], frames: frame.frames, time: frame.time, into: &out)
            return
        }
        // Taken out of the table while it grows, so that appending does not copy the arrays the table still holds.
        var p = pending.removeValue(forKey: key) ?? Pending()
        guard p.bytes.count + frame.info.count <= maxAPDUBytes, p.segments.count < Self.maxSegments else {
            if !p.segments.isEmpty { pending[key] = p }
            abandon(key, because: "it grew beyond the limit", at: frame, into: &out)
            out.append(.issue(TransportIssue(
                code: "reassembly.limit",
                message: "HDLC segments exceed \(maxAPDUBytes) bytes or \(Self.maxSegments) frames; the partial APDU "
                    + "is dropped",
                frames: p.frames + frame.frames, time: frame.time)))
            return
        }
        if p.segments.isEmpty {
            if pending.count >= Self.maxLinks, let oldest = pendingOrder.first {
                let dropped = pending[oldest]
                abandon(oldest, because: "too many links are reassembling at once", at: frame, into: &out)
                out.append(.issue(TransportIssue(
                    code: "reassembly.limit",
                    message: "more than \(Self.maxLinks) HDLC links with pending segments; the oldest is dropped",
                    frames: dropped?.frames ?? [], time: frame.time)))
            }
            pendingOrder.append(key)
        }
        p.segments.append(frame)
        p.bytes.append(contentsOf: frame.info)
        p.frames.append(contentsOf: frame.frames)
        if frame.segmented {
            pending[key] = p
        } else {
            pending[key] = nil
            pendingOrder.removeAll { $0 == key }
            emit(segments: p.segments, info: p.bytes[...], frames: p.frames, time: frame.time, into: &out)
        }
    }

    private func emit(segments: [HDLCFrame], info: ArraySlice<UInt8>, frames: [Int], time: Timestamp?,
                      into out: inout [TransportEvent]) {
        var llc: [UInt8]? = nil
        var apdu = info
        var errors: [DecodeError] = []
        if info.count >= 3, info[info.startIndex] == 0xE6,
           info[info.startIndex + 1] == 0xE6 || info[info.startIndex + 1] == 0xE7,
           info[info.startIndex + 2] == 0x00 {
            // The two LLC headers are shared constants: no 3-byte array allocated per APDU.
            llc = info[info.startIndex + 1] == 0xE6 ? Self.llcCommand : Self.llcResponse
            apdu = info.dropFirst(3)
        } else {
            errors.append(DecodeError("hdlc.no-llc",
                                      "information field has no LLC header (E6 E6 00 / E6 E7 00); decoded from byte 0",
                                      offset: 0))
        }
        out.append(.apdu(TransportAPDU(kind: .hdlc(segments: segments, llc: llc), bytes: Array(apdu),
                                       frames: frames, time: time, errors: errors)))
    }

    private mutating func abandon(_ key: LinkKey, because reason: String, at frame: HDLCFrame,
                                  into out: inout [TransportEvent]) {
        guard let p = pending.removeValue(forKey: key) else { return }
        pendingOrder.removeAll { $0 == key }
        var issue = incomplete(p, reason: reason)
        issue.frames = p.frames + frame.frames
        issue.time = frame.time
        out.append(.issue(issue))
    }

    private func incomplete(_ p: Pending, reason: String) -> TransportIssue {
        TransportIssue(
            code: "hdlc.segment-incomplete",
            message: "HDLC segment sequence of \(p.segments.count) frame(s), \(p.bytes.count) bytes, ended by "
                + "\(reason) before its last segment",
            frames: p.frames, time: p.segments.last?.time)
    }

    /// Same N(S) and same information field as the last I-frame of the link, or as one of the (at most 7, the
    /// modulo-8 window) most recent pending segments: a go-back-N retransmission after a loss (ISO/IEC 13239
    /// §6.11.4), whether or not its N(R) or P/F changed.
    private func isRetransmission(_ frame: HDLCFrame, ns: UInt8, key: LinkKey) -> Bool {
        if let last = lastIFrame[key], last.sendSequence == ns, last.info == frame.info { return true }
        guard !pending.isEmpty, let p = pending[key] else { return false }
        for s in p.segments.suffix(7) where s.sendSequence == ns && s.info == frame.info { return true }
        return false
    }
}
