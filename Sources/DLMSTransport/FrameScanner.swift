import DLMSWire

/// The framing state machine behind `StreamDecoder`: walks a run of bytes, decides per frame which link framing
/// applies (`Link`), delimits and decodes frames, reports junk, and hands HDLC frames to the segment reassembler.
///
/// It is pure: bytes in, events out. The caller owns the buffer; `scan` returns where it stopped, and everything
/// before that index is consumed for good (NIO `ByteToMessageDecoder` contract: "need more" never consumes).
struct FrameScanner: Sendable {
    /// The link framings the detector can choose from. A third framer (M-Bus long frames `68 L L 68`) is added as a
    /// case here, a branch in `detect`, and an `attempt…` method.
    enum Link: Sendable {
        case hdlc
        case wrapper
        /// EN 13757-2 wired M-Bus (`68 L L 68 ... 16`, `10 C A CS 16`), joined by the DLMS transport layer.
        case mbus
    }

    /// A run of bytes that belong to no frame, reported once when the run ends.
    struct Junk: Sendable {
        var start: Int
        var count: Int
        var code: String
        var reason: String
        var frames: [Int]
        var offset: Int
        var time: Timestamp?
    }

    /// One scan's input: `data` with its absolute stream position `base` (position of `data.startIndex`).
    struct Input {
        var data: ArraySlice<UInt8>
        var base: Int
        /// No more bytes will follow (end of stream, or a self-contained record).
        var final: Bool
        /// A self-contained record (UDP datagram): a frame longer than the record is malformed, not unfinished.
        var record: Bool
        var marks: ChunkMarks
        /// `data` is the caller's chunk (a TCP segment's payload, a datagram), not the decoder's buffer: a frame that
        /// fills most of it may keep a view of it (see `attemptHDLC`).
        var callerBytes = false

        @inline(__always) func abs(_ i: Int) -> Int { base + (i - data.startIndex) }
    }

    var framing: Framing
    var limits: StreamLimits
    var numberFramesInternally: Bool
    var reassembler: HDLCReassembler
    var nextOrdinal = 1
    var junk: Junk? = nil
    /// Absolute position of the closing flag of the last HDLC frame, left unconsumed: it may be shared as the
    /// opening flag of the next frame (IEC 62056-46 §8.4.1).
    var closingFlagAt: Int? = nil
    /// Wrapper bytes still to skip: the rest of a frame whose middle was lost in a TCP gap.
    var skip = 0
    /// Wired M-Bus segments waiting for the rest of their APDU.
    var mbus: MBusAssembler
    /// The stream has carried HDLC frames with a good FCS: after junk or a gap it resynchronises on a flag only, so
    /// the rest of a cut HDLC frame is never taken for a wrapper header (`00 01 ...`).
    var provenHDLC = false
    /// The bytes at the scan position follow a gap in the stream (they may start anywhere in a frame).
    var afterGap = false

    init(framing: Framing, limits: StreamLimits, numberFramesInternally: Bool) {
        self.framing = framing
        self.limits = limits
        self.numberFramesInternally = numberFramesInternally
        self.reassembler = HDLCReassembler(maxAPDUBytes: limits.maxAPDUBytes, idleSeconds: limits.idleSeconds)
        self.mbus = MBusAssembler(maxAPDUBytes: limits.maxAPDUBytes)
    }

    // MARK: - Scan loop

    /// Scans `input`; returns the index of the first byte not consumed.
    mutating func scan(_ input: Input, into out: inout [TransportEvent]) -> Int {
        let data = input.data
        let end = data.endIndex
        var pos = data.startIndex
        while pos < end {
            if skip > 0 {
                let n = min(skip, end - pos)
                pos += n
                skip -= n
                continue
            }
            switch detect(input, at: pos) {
            case .needMore:
                return pos
            case .junk:
                let q = nextCandidate(input, from: pos + 1)
                addJunk(input, from: pos, to: q, code: "stream.junk",
                        reason: "bytes that start no \(framingName) frame", into: &out)
                pos = q
            case .link(.hdlc):
                guard let next = attemptHDLC(input, at: pos, into: &out) else { return pos }
                pos = next
            case .link(.wrapper):
                guard let next = attemptWrapper(input, at: pos, into: &out) else { return pos }
                pos = next
            case .link(.mbus):
                // The assembler is moved out for the call (it is a field of the scanner being mutated) and back.
                var assembler = MBusAssembler(maxAPDUBytes: limits.maxAPDUBytes)
                swap(&assembler, &mbus)
                let next = attemptMBus(input, at: pos, assembler: &assembler, into: &out, wrap: {
                    .apdu(TransportAPDU(kind: .mbus(segments: $0.segments), bytes: $0.bytes, frames: $0.frames,
                                        time: $0.time, errors: $0.errors))
                })
                swap(&assembler, &mbus)
                guard let next else { return pos }
                pos = next
            }
        }
        return pos
    }

    enum Detection {
        case link(Link)
        case junk
        case needMore
    }

    /// Which framer owns the frame starting at `pos`.
    @inline(__always)
    func detect(_ input: Input, at pos: Int) -> Detection {
        let data = input.data
        let b = data[pos]
        switch framing {
        case .hdlc, .bare:
            return b == 0x7E ? .link(.hdlc) : .junk
        case .wrapper:
            // The wrapper attempt judges the header itself so that a bad version or length is named as such.
            return .link(.wrapper)
        case .auto:
            if b == 0x7E { return .link(.hdlc) }
            if b == 0x68 || b == 0x10 {
                switch mbusStart(input, at: pos) {
                case true?: return .link(.mbus)
                case nil: return .needMore
                case false?: break
                }
            }
            // After junk or a gap on a line that carries HDLC, only a flag resynchronises.
            if provenHDLC && (afterGap || resynchronising(input, pos)) { return .junk }
            // A known APDU tag is required only of a header found by scanning through junk.
            switch WrapperFrameDecoder.plausibleStart(data[pos...], maxLength: limits.maxAPDUBytes,
                                                      requireTag: resynchronising(input, pos)) {
            case true?: return .link(.wrapper)
            case false?: return .junk
            case nil: return input.final ? .link(.wrapper) : .needMore
            }
        }
    }

    /// The next position at or after `from` where a frame could start (`endIndex` when none).
    func nextCandidate(_ input: Input, from: Int) -> Int {
        let data = input.data
        var q = from
        while q < data.endIndex {
            let b = data[q]
            if b == 0x7E, framing != .wrapper { return q }
            if b == 0x68 || b == 0x10, framing == .auto, mbusStart(input, at: q) != false { return q }
            if b == 0x00, framing != .hdlc,
               WrapperFrameDecoder.plausibleStart(data[q...], maxLength: limits.maxAPDUBytes) != false {
                return q
            }
            q += 1
        }
        return q
    }

    private var framingName: String {
        switch framing {
        case .hdlc, .bare: return "HDLC"
        case .wrapper: return "wrapper"
        case .auto: return "HDLC or wrapper"
        }
    }

    // MARK: - HDLC

    /// Returns the next position, or nil to wait for more bytes.
    private mutating func attemptHDLC(_ input: Input, at pos: Int, into out: inout [TransportEvent]) -> Int? {
        let data = input.data
        let shared = closingFlagAt == input.abs(pos)
        if pos + 1 == data.endIndex {
            guard input.final else { return nil }
            closingFlagAt = nil
            if !shared {
                addJunk(input, from: pos, to: pos + 1, code: "stream.junk", reason: "a lone HDLC flag", into: &out)
            }
            return pos + 1
        }
        if data[pos + 1] == 0x7E {
            // Two flags in a row: the first closes a frame or fills the line; the second may open the next.
            closingFlagAt = nil
            return pos + 1
        }
        let format: UInt16
        switch HDLCFrameDecoder.scan(data[pos...]) {
        case .frame(let f):
            format = f
        case .needMore:
            guard input.final else { return nil }
            flushJunk(into: &out)
            closingFlagAt = nil
            let first = shared ? pos + 1 : pos
            out.append(.issue(TransportIssue(
                code: "hdlc.truncated",
                message: "HDLC frame cut short: \(data.endIndex - first) byte(s) of a frame that announces more",
                frames: framesOf(input, first, data.endIndex, consumeOrdinal: true),
                time: input.marks.time(at: input.abs(data.endIndex - 1)), offset: location(input, first))))
            return data.endIndex
        case .broken(let reason):
            return brokenHDLC(input, at: pos, shared: shared, reason: reason, into: &out)
        }
        let n = Int(format & 0x07FF) + 2
        guard let fields = HDLCFrameDecoder.decodeContent(data[(pos + 1)..<(pos + n - 1)], format: format) else {
            return brokenHDLC(input, at: pos, shared: shared, reason: HDLCFrameDecoder.unparsableHeader, into: &out)
        }
        if !fields.fcsOK && (fields.hcsOK == false || resynchronising(input, pos)) {
            // Nothing vouches for this length: the HCS (which covers the length) failed too, or we are scanning
            // through junk and hit a 0x7E inside data. Taking it as a frame could swallow the start of a real
            // one, so only its opening flag is skipped and the scan goes on from there.
            closingFlagAt = nil
            if shared { return pos + 1 }
            let q = nextCandidate(input, from: pos + 1)
            if fields.hcsOK == false {
                addJunk(input, from: pos, to: q, code: "hdlc.bad-hcs",
                        reason: "HDLC frame whose HCS and FCS both fail (its length is not trusted)", into: &out)
            } else {
                addJunk(input, from: pos, to: q, code: "stream.junk", reason: "no frame check passes", into: &out)
            }
            return q
        }
        flushJunk(into: &out)
        let first = shared ? pos + 1 : pos
        let last = pos + n
        let frame = fields.frame(raw: data[pos..<last], frames: frameNumbersOf(input, first, last),
                                 time: input.marks.time(at: input.abs(last - 1)))
        out.append(.hdlcFrame(frame))
        if frame.hcsOK == false || !frame.fcsOK {
            let code = frame.fcsOK ? "hdlc.bad-hcs" : "hdlc.bad-fcs"
            out.append(.issue(TransportIssue(
                code: code,
                message: "\(frame.type.rawValue) frame with a bad \(frame.fcsOK ? "HCS" : "FCS") is not used",
                frames: frame.frames.array, time: frame.time, offset: location(input, first))))
        } else {
            provenHDLC = true
            afterGap = false
            // A frame kept waiting for its other segments may hold on to its view only where the bytes around
            // it are few (the rest of its own packet); otherwise it gets bytes of its own, so that memory stays
            // bounded by what the reassembler holds, not by the packets or buffers those bytes came from.
            let small = input.callerBytes && data.count <= 2 * n + 256
            reassembler.accept(frame, viewIsSmall: small, into: &out)
        }
        // Leave the closing flag: it may be the next frame's opening flag.
        closingFlagAt = input.abs(last - 1)
        return last - 1
    }

    /// No HDLC frame starts at `pos`: junk up to the next candidate, or only the previous frame's closing flag.
    private mutating func brokenHDLC(_ input: Input, at pos: Int, shared: Bool, reason: String,
                                     into out: inout [TransportEvent]) -> Int {
        closingFlagAt = nil
        if shared { return pos + 1 }  // it was only the previous frame's closing flag
        let q = nextCandidate(input, from: pos + 1)
        addJunk(input, from: pos, to: q, code: "stream.junk", reason: reason, into: &out)
        return q
    }

    /// True while a junk run ends right at `pos`: the frame candidate there was found by scanning.
    func resynchronising(_ input: Input, _ pos: Int) -> Bool {
        // Two fields read through the optional, not the whole run copied (it holds strings and an array).
        guard let start = junk?.start, let count = junk?.count else { return false }
        return start + count == input.abs(pos)
    }

    // MARK: - Wrapper

    /// Returns the next position, or nil to wait for more bytes.
    private mutating func attemptWrapper(_ input: Input, at pos: Int, into out: inout [TransportEvent]) -> Int? {
        let data = input.data
        let end = data.endIndex
        closingFlagAt = nil
        if resynchronising(input, pos), let j = junk {
            // Resynchronising: a header found by scanning must pass the whole plausibility test (known APDU tag
            // after it), or it is more junk.
            switch WrapperFrameDecoder.plausibleStart(data[pos...], maxLength: limits.maxAPDUBytes) {
            case true?: break
            case nil where !input.final: return nil
            default:
                let q = nextCandidate(input, from: pos + 1)
                addJunk(input, from: pos, to: q, code: j.code, reason: j.reason, into: &out)
                return q
            }
        }
        guard end - pos >= WrapperFrameDecoder.headerLength,
              let h = WrapperFrameDecoder.header(data[pos..<(pos + WrapperFrameDecoder.headerLength)]) else {
            guard input.final else { return nil }
            flushJunk(into: &out)
            out.append(.issue(TransportIssue(
                code: input.record ? "wrapper.bad-header" : "stream.truncated",
                message: "\(end - pos) byte(s) of a wrapper header, 8 needed",
                frames: framesOf(input, pos, end, consumeOrdinal: true),
                time: input.marks.time(at: input.abs(end - 1)), offset: location(input, pos))))
            return end
        }
        guard h.version == 1 else {
            let q = nextCandidate(input, from: pos + 1)
            addJunk(input, from: pos, to: q, code: "wrapper.bad-header",
                    reason: "wrapper version \(h.version) is not 1; resynchronised on the next plausible header",
                    into: &out)
            return q
        }
        let length = Int(h.length)
        guard length >= 1, length <= limits.maxAPDUBytes else {
            let q = nextCandidate(input, from: pos + 1)
            addJunk(input, from: pos, to: q, code: "wrapper.bad-length",
                    reason: "wrapper length \(length) is implausible; resynchronised on the next plausible header",
                    into: &out)
            return q
        }
        let body = pos + WrapperFrameDecoder.headerLength
        let frameEnd = body + length
        let ports = (h.sourcePort, h.destinationPort)

        if frameEnd > end {
            guard input.final else { return nil }
            // Claims more than the record (or the rest of the stream) holds. If a header of the same
            // association starts inside, the length is wrong and the frame ends there.
            let cut = headerInside(input, from: body + 1, to: end, ports: ports) ?? end
            let code = input.record || cut < end ? "wrapper.bad-length" : "wrapper.truncated"
            let message = input.record || cut < end
                ? "wrapper length \(length) but only \(cut - body) APDU byte(s) before the "
                    + (cut < end ? "next header" : "end of the datagram")
                : "stream ended \(frameEnd - end) byte(s) into a \(length)-byte wrapper APDU"
            emitWrapper(input, header: h, from: pos, body: body, to: cut, error: (code, message), into: &out)
            return cut
        }
        if frameEnd < end, !followerPlausible(input, at: frameEnd),
           let q = headerInside(input, from: body + 1, to: frameEnd, ports: ports) {
            // The bytes after the claimed end start no frame, but a header of the same wPorts starts at `q`:
            // the length field is wrong (Captures/gurux/neg-wrapper-length: +5), the APDU ends at `q`.
            emitWrapper(input, header: h, from: pos, body: body, to: q,
                        error: ("wrapper.bad-length",
                                "wrapper length \(length) does not match: the next header starts after "
                                    + "\(q - body) APDU byte(s)"),
                        into: &out)
            return q
        }
        emitWrapper(input, header: h, from: pos, body: body, to: frameEnd, error: nil, into: &out)
        return frameEnd
    }

    /// Could a frame start at `i` (a header, a flag in auto mode)? One byte is enough to say no.
    private func followerPlausible(_ input: Input, at i: Int) -> Bool {
        let data = input.data
        let b = data[i]
        if b == 0x7E, framing == .auto { return true }
        guard b == 0x00 else { return false }
        return i + 1 >= data.endIndex || data[i + 1] == 0x01
    }

    /// First position in `[from, to)` where a plausible wrapper header with the same wPorts starts.
    private func headerInside(_ input: Input, from: Int, to: Int, ports: (UInt16, UInt16)) -> Int? {
        let data = input.data
        var q = from
        while q < to {
            if data[q] == 0x00,
               WrapperFrameDecoder.plausibleStart(data[q...], maxLength: limits.maxAPDUBytes, ports: ports) == true {
                return q
            }
            q += 1
        }
        return nil
    }

    private mutating func emitWrapper(_ input: Input, header: WrapperHeader, from pos: Int, body: Int, to end: Int,
                                      error: (code: String, message: String)?, into out: inout [TransportEvent]) {
        flushJunk(into: &out)
        let frames = framesOf(input, pos, end, consumeOrdinal: true)
        let time = input.marks.time(at: input.abs(end - 1))
        var errors: [DecodeError] = []
        if let e = error {
            out.append(.issue(TransportIssue(code: e.code, message: e.message, frames: frames, time: time,
                                             offset: location(input, pos))))
            errors.append(DecodeError(e.code, e.message, offset: 6))
        }
        out.append(.apdu(TransportAPDU(kind: .wrapper(header), bytes: Array(input.data[body..<end]), frames: frames,
                                       time: time, errors: errors)))
    }

    // MARK: - Bare APDUs

    /// A record without framing: one APDU.
    mutating func emitBare(_ input: Input, into out: inout [TransportEvent]) {
        let data = input.data
        guard !data.isEmpty else { return }
        // 0x90 starts no APDU: it is the destination LSAP of an IEC 61334-4-32 LLC header (3 bytes).
        if data.count > 3, data.first == 0x90 {
            let llc = Array(data.prefix(3))
            out.append(.apdu(TransportAPDU(
                kind: .iec432(llc: llc), bytes: Array(data.dropFirst(3)),
                frames: framesOf(input, data.startIndex, data.endIndex, consumeOrdinal: true),
                time: input.marks.time(at: input.abs(data.endIndex - 1)))))
            return
        }
        out.append(.apdu(TransportAPDU(
            kind: .raw, bytes: Array(data),
            frames: framesOf(input, data.startIndex, data.endIndex, consumeOrdinal: true),
            time: input.marks.time(at: input.abs(data.endIndex - 1)))))
    }

    // MARK: - Provenance

    /// Frames of `[a, b)`: the capture frames that carried them, or the next link-frame ordinal.
    mutating func framesOf(_ input: Input, _ a: Int, _ b: Int, consumeOrdinal: Bool) -> [Int] {
        if numberFramesInternally {
            let n = nextOrdinal
            if consumeOrdinal { nextOrdinal += 1 }
            return [n]
        }
        return input.marks.frames(input.abs(a), input.abs(b))
    }

    /// `framesOf(_:_:_:consumeOrdinal: true)` without an array for one or two frames (an HDLC frame's own).
    mutating func frameNumbersOf(_ input: Input, _ a: Int, _ b: Int) -> FrameNumbers {
        if numberFramesInternally {
            let n = nextOrdinal
            nextOrdinal += 1
            return FrameNumbers(n)
        }
        return input.marks.frameNumbers(input.abs(a), input.abs(b))
    }

    /// A position for an issue: offset within the capture frame, or within the stream for raw/hex input.
    func location(_ input: Input, _ i: Int) -> Int {
        numberFramesInternally ? input.abs(i) : input.marks.offset(at: input.abs(i))
    }

    // MARK: - Junk

    mutating func addJunk(_ input: Input, from a: Int, to b: Int, code: String, reason: String,
                          into out: inout [TransportEvent]) {
        guard b > a else { return }
        let start = input.abs(a)
        let frames = numberFramesInternally ? [] : input.marks.frames(start, input.abs(b))
        let time = input.marks.time(at: input.abs(b - 1))
        if var j = junk, j.start + j.count == start, j.code == code {
            // The same run goes on (across chunks, or over failed frame attempts): one issue for all of it.
            j.count += b - a
            for f in frames where j.frames.last != f { j.frames.append(f) }
            j.time = time
            junk = j
            return
        }
        flushJunk(into: &out)
        junk = Junk(start: start, count: b - a, code: code, reason: reason, frames: frames,
                    offset: location(input, a), time: time)
    }

    mutating func flushJunk(into out: inout [TransportEvent]) {
        if let j = junk {
            out.append(.issue(Self.issue(j)))
            junk = nil
        }
    }

    static func issue(_ j: Junk) -> TransportIssue {
        TransportIssue(code: j.code, message: "\(j.count) byte(s) skipped: \(j.reason)", frames: j.frames,
                       time: j.time, offset: j.offset)
    }
}
