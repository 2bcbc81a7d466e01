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
        var key: LinkKey
        var segments: [HDLCFrame] = []
        var bytes: [UInt8] = []
        var frames: [Int] = []
    }

    /// The last accepted I-frame of a link, to recognise a retransmission. `info` is a view of the frame's bytes.
    struct LastIFrame {
        var sendSequence: UInt8
        var info: ArraySlice<UInt8>
    }

    static let maxLinks = 64
    /// Segments per APDU (frames with an empty information field would otherwise grow a sequence without bytes).
    static let maxSegments = 1 << 16
    static let llcCommand: [UInt8] = [0xE6, 0xE6, 0x00]
    static let llcResponse: [UInt8] = [0xE6, 0xE7, 0x00]

    var maxAPDUBytes: Int
    var idleSeconds: Double?
    /// Links with pending segments, in the order their sequences started (the first is evicted at `maxLinks`). At
    /// most `maxLinks` entries, nearly always one or none: searched in order, no hashing.
    var pending: [Pending] = []
    /// The last I-frame per link. The entry of the most recent link is kept in `recentLink`/`recentIFrame` in front
    /// of the table (a stream carries one link or two): it shadows the table's entry for that link and is written to
    /// the table when another link comes.
    var lastIFrame: [LinkKey: LastIFrame] = [:]
    var recentLink: LinkKey?
    var recentIFrame: LastIFrame?

    init(maxAPDUBytes: Int, idleSeconds: Double? = 120) {
        self.maxAPDUBytes = maxAPDUBytes
        self.idleSeconds = idleSeconds
    }

    /// Offers one decoded frame whose checks passed; appends the resulting APDUs and issues to `out`.
    /// `viewIsSmall`: the frame's bytes are a view of a buffer not much larger than the frame, which a pending
    /// segment may keep alive; otherwise a kept segment is given bytes of its own.
    mutating func accept(_ frame: HDLCFrame, viewIsSmall: Bool = false, into out: inout [TransportEvent]) {
        if !pending.isEmpty, let now = frame.time, idleSeconds != nil { expire(now: now, into: &out) }
        let key = LinkKey(frame)
        switch frame.type {
        case .snrm, .disc:
            // A new (or ended) connection between the two stations: whatever was being reassembled is lost.
            abandon(key, because: "a \(frame.type.rawValue) frame", at: frame, into: &out)
            abandon(key.reversed, because: "a \(frame.type.rawValue) frame", at: frame, into: &out)
            setLastI(nil, for: key)
            setLastI(nil, for: key.reversed)
        case .i, .ui:
            carryInformation(frame, key: key, viewIsSmall: viewIsSmall, into: &out)
        case .rr, .rnr, .ua, .dm, .frmr, .unknown:
            // Supervisory and unnumbered responses carry no APDU bytes and do not end a segment sequence
            // (RR is how the receiver asks for the next segment).
            break
        }
    }

    /// End of stream: every pending sequence is incomplete.
    mutating func finish(into out: inout [TransportEvent]) {
        for p in pending {
            out.append(.issue(incomplete(p, reason: "the stream ended")))
        }
        pending.removeAll()
    }

    /// Drops the pending sequences whose last segment is more than `idleSeconds` of capture time before `now`.
    mutating func expire(now: Timestamp, into out: inout [TransportEvent]) {
        guard let limit = idleSeconds else { return }
        func isStale(_ p: Pending) -> Bool {
            guard let last = p.segments.last?.time else { return false }
            return now.seconds(since: last) > limit
        }
        // Checked for every frame while segments are pending: nothing is allocated unless a sequence went stale.
        guard pending.contains(where: isStale) else { return }
        var kept: [Pending] = []
        kept.reserveCapacity(pending.count)
        for p in pending {
            guard let last = p.segments.last?.time, now.seconds(since: last) > limit else {
                kept.append(p)
                continue
            }
            out.append(.issue(TransportIssue(
                code: "reassembly.expired",
                message: "HDLC segment sequence of \(p.segments.count) frame(s), \(p.bytes.count) bytes, not continued "
                    + "within \(Self.seconds(limit)) s of capture time; the partial APDU is dropped",
                frames: p.frames, time: last)))
        }
        pending = kept
    }

    /// `120` rather than `120.0` in messages.
    static func seconds(_ s: Double) -> String {
        s == s.rounded() && abs(s) < 1e15 ? String(Int64(s)) : String(s)
    }

    // MARK: - Tables

    func pendingIndex(_ key: LinkKey) -> Int? {
        var i = 0
        while i < pending.count {
            if pending[i].key == key { return i }
            i += 1
        }
        return nil
    }

    func lastI(of key: LinkKey) -> LastIFrame? {
        if let k = recentLink, k == key { return recentIFrame }
        return lastIFrame.isEmpty ? nil : lastIFrame[key]
    }

    @inline(__always)
    mutating func setLastI(_ value: LastIFrame?, for key: LinkKey) {
        // The link of the previous I-frame again (a stream direction carries one link): replaced in place.
        if let k = recentLink, k == key {
            recentIFrame = value
            return
        }
        switchLastI(value, to: key)
    }

    private mutating func switchLastI(_ value: LastIFrame?, to key: LinkKey) {
        if let k = recentLink, k != key {
            if let v = recentIFrame {
                // Into the table with bytes of its own (the view would keep its whole packet alive).
                lastIFrame[k] = LastIFrame(sendSequence: v.sendSequence, info: Array(v.info)[...])
            } else if !lastIFrame.isEmpty {
                lastIFrame[k] = nil
            }
        }
        recentLink = key
        recentIFrame = value
    }

    // MARK: - Information frames

    private mutating func carryInformation(_ frame: HDLCFrame, key: LinkKey, viewIsSmall: Bool,
                                           into out: inout [TransportEvent]) {
        // Looked up once: only `abandon` below changes the list before it is used.
        var index = pending.isEmpty ? nil : pendingIndex(key)
        if frame.type == .i, let ns = frame.sendSequence {
            if isRetransmission(frame, ns: ns, key: key, pendingAt: index) {
                out.append(.issue(TransportIssue(
                    code: "hdlc.retransmission",
                    message: "I-frame N(S)=\(ns) repeats a frame already received on this link; not joined twice",
                    frames: frame.frames.array, time: frame.time)))
                return
            }
            if let i = index, let prev = pending[i].segments.last?.sendSequence, ns != (prev &+ 1) & 7 {
                abandon(key, because: "I-frame N(S)=\(ns) where N(S)=\((prev &+ 1) & 7) was expected", at: frame,
                        into: &out)
                index = nil
            }
            setLastI(LastIFrame(sendSequence: ns, info: frame.info), for: key)
        }

        if !frame.segmented, index == nil {
            // The common case, one frame = one APDU: no intermediate buffer.
            emit(segments: [frame], info: frame.info, frames: frame.frames.array, time: frame.time, into: &out)
            return
        }
        let info = frame.info
        let heldBytes = index.map { pending[$0].bytes.count } ?? 0
        let heldSegments = index.map { pending[$0].segments.count } ?? 0
        guard heldBytes + info.count <= maxAPDUBytes, heldSegments < Self.maxSegments else {
            let before = index.map { pending[$0].frames } ?? []
            abandon(key, because: "it grew beyond the limit", at: frame, into: &out)
            out.append(.issue(TransportIssue(
                code: "reassembly.limit",
                message: "HDLC segments exceed \(maxAPDUBytes) bytes or \(Self.maxSegments) frames; the partial APDU "
                    + "is dropped",
                frames: before + frame.frames, time: frame.time)))
            return
        }
        let i: Int
        if let index {
            i = index
        } else {
            if pending.count >= Self.maxLinks, let oldest = pending.first {
                abandon(oldest.key, because: "too many links are reassembling at once", at: frame, into: &out)
                out.append(.issue(TransportIssue(
                    code: "reassembly.limit",
                    message: "more than \(Self.maxLinks) HDLC links with pending segments; the oldest is dropped",
                    frames: oldest.frames, time: frame.time)))
            }
            // Room for a typical sequence up front (a few segments of this frame's size), not grown from empty.
            var p = Pending(key: key)
            p.segments.reserveCapacity(8)
            p.frames.reserveCapacity(8)
            p.bytes.reserveCapacity(min(8 * info.count, maxAPDUBytes))
            pending.append(p)
            i = pending.count - 1
        }
        // Grown in place in the list (no copy of its arrays). A kept segment whose bytes are a view of a larger
        // buffer gets bytes of its own: the view would keep that buffer alive for as long as the sequence waits.
        pending[i].segments.append(viewIsSmall ? frame : frame.compacted())
        pending[i].bytes.append(contentsOf: info)
        // One by one: the generic append of a collection cost more than the one or two numbers it adds.
        for f in frame.frames { pending[i].frames.append(f) }
        if !frame.segmented {
            let p = pending.remove(at: i)
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
        guard !pending.isEmpty, let i = pendingIndex(key) else { return }
        let p = pending.remove(at: i)
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
    /// `pendingAt`: the link's index in `pending`, if it has segments pending.
    private func isRetransmission(_ frame: HDLCFrame, ns: UInt8, key: LinkKey, pendingAt index: Int?) -> Bool {
        if let k = recentLink, k == key {
            // The sequence number first: the bytes are compared (and the entry copied) only when it repeats.
            if recentIFrame?.sendSequence == ns, let last = recentIFrame, last.info == frame.info { return true }
        } else if let last = lastI(of: key), last.sendSequence == ns, last.info == frame.info {
            return true
        }
        guard let i = index else { return false }
        for s in pending[i].segments.suffix(7) where s.sendSequence == ns && s.info == frame.info { return true }
        return false
    }
}
