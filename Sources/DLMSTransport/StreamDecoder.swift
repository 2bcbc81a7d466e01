import DLMSWire

/// Turns one direction of a byte stream (a TCP direction, a UDP datagram sequence, or a raw serial stream with both
/// directions interleaved) into link frames and complete APDUs.
///
/// Framings: IEC 62056-47 wrapper, IEC 62056-46 HDLC (with segmentation and LLC), bare APDUs, or `.auto`, which
/// decides per frame (0x7E → HDLC, `00 01` + a plausible header → wrapper, otherwise junk in a stream or a bare
/// APDU in a record).
///
/// Contract (NIO `ByteToMessageDecoder`): an empty result means "need more bytes"; bytes consumed stay consumed;
/// every emitted unit names the capture frames that carried its bytes (`frames`) and the time of the last one.
/// Malformed input never traps: it becomes a `TransportIssue` and decoding resynchronises on the next frame.
///
/// ```swift
/// var decoder = StreamDecoder(framing: .auto)
/// for segment in tcpDirection {
///     for event in decoder.feed(segment.payload, frame: segment.frame, time: segment.time) { … }
/// }
/// for event in decoder.finish() { … }
/// ```
public struct StreamDecoder: Sendable {
    public var framing: Framing {
        get { scanner.framing }
        set { scanner.framing = newValue }
    }
    public var limits: StreamLimits {
        get { scanner.limits }
        set {
            scanner.limits = newValue
            scanner.reassembler.maxAPDUBytes = newValue.maxAPDUBytes
            scanner.reassembler.idleSeconds = newValue.idleSeconds
        }
    }
    /// When true (raw/hex input), each link frame found is numbered 1, 2, 3, ... and those ordinals are the
    /// `frames` of what it emits; when false, the `frame` argument of `feed` is used.
    public var numberFramesInternally: Bool {
        get { scanner.numberFramesInternally }
        set { scanner.numberFramesInternally = newValue }
    }

    var scanner: FrameScanner
    /// Unconsumed stream bytes (a partial frame); `buffer[0]` is at absolute stream position `bufferBase`.
    var buffer: [UInt8] = []
    var bufferBase = 0
    /// The buffer logically holds one more byte that is not stored: the closing flag of the last frame, left
    /// unconsumed because it may open the next one (`buffer` is then empty). Held instead of stored, it costs nothing
    /// when the next chunk brings its own opening flag (HDLC over TCP: a frame per segment); any other use of the
    /// buffer stores it first (`storeHeldFlag`).
    var heldFlag = false
    var marks = ChunkMarks()

    public init(framing: Framing = .auto, limits: StreamLimits = .init(), numberFramesInternally: Bool = false) {
        scanner = FrameScanner(framing: framing, limits: limits, numberFramesInternally: numberFramesInternally)
    }

    /// Feeds the next chunk of the stream, carried by capture frame `frame` at `time`.
    public mutating func feed(_ bytes: ArraySlice<UInt8>, frame: Int, time: Timestamp?) -> [TransportEvent] {
        var out: [TransportEvent] = []
        feed(bytes, frame: frame, time: time, into: &out)
        return out
    }

    /// `feed(_:frame:time:)` appending to the caller's array: a caller that reuses one array (emptied, capacity
    /// kept) allocates nothing per chunk for the events.
    public mutating func feed(_ bytes: ArraySlice<UInt8>, frame: Int, time: Timestamp?,
                              into out: inout [TransportEvent]) {
        guard !bytes.isEmpty else { return }
        if heldFlag {
            if framing != .bare, bytes.first == 0x7E, scanner.closingFlagAt == bufferBase {
                // Two flags in a row: the first only fills the line (what the scan would decide).
                heldFlag = false
                scanner.closingFlagAt = nil
                bufferBase += 1
            } else {
                storeHeldFlag()
            }
        }
        let chunkStart = bufferBase + buffer.count
        marks.append(start: chunkStart, count: bytes.count, frame: frame, time: time)
        if framing == .bare {
            // Each chunk is one APDU; nothing is buffered.
            let input = FrameScanner.Input(data: bytes, base: chunkStart, final: true, record: true, marks: marks)
            scanner.emitBare(input, into: &out)
            bufferBase = chunkStart + bytes.count
            marks.discard(before: bufferBase)
            return
        }
        if buffer.count == 1, scanner.closingFlagAt == bufferBase, bytes.first == 0x7E {
            // All that is buffered is the last frame's closing flag, kept in case it opens the next frame, and the
            // chunk brings its own opening flag: two flags in a row, the first only fills the line. The scan would
            // step over it and forget it was a closing flag; doing so here spares copying the chunk behind it.
            scanner.closingFlagAt = nil
            bufferBase += 1
            buffer.removeAll(keepingCapacity: true)
        }
        if buffer.isEmpty {
            // Fast path: scan the caller's bytes in place and keep only an unfinished tail.
            var input = FrameScanner.Input(data: bytes, base: chunkStart, final: false, record: false,
                                           marks: ChunkMarks())
            // The marks are lent to the scan and taken back (swapped, not copied: no reference count round trip).
            swap(&input.marks, &marks)
            input.callerBytes = true
            let stop = scanner.scan(input, into: &out)
            swap(&input.marks, &marks)
            if stop + 1 == bytes.endIndex, bytes[stop] == 0x7E, scanner.closingFlagAt == input.abs(stop),
               limits.maxBufferedBytes >= 1 {
                heldFlag = true
            } else if stop < bytes.endIndex {
                buffer.append(contentsOf: bytes[stop...])
            }
            bufferBase = input.abs(stop)
        } else {
            buffer.append(contentsOf: bytes)
            var input = FrameScanner.Input(data: buffer[...], base: bufferBase, final: false, record: false,
                                           marks: ChunkMarks())
            swap(&input.marks, &marks)
            let stop = scanner.scan(input, into: &out)
            swap(&input.marks, &marks)
            buffer.removeFirst(stop)
            bufferBase += stop
        }
        if buffer.count > limits.maxBufferedBytes {
            out.append(.issue(TransportIssue(
                code: "reassembly.limit",
                message: "\(buffer.count) bytes buffered without a complete frame (limit \(limits.maxBufferedBytes));"
                    + " dropped",
                frames: marks.frames(bufferBase, bufferBase + buffer.count), time: time)))
            dropBuffer()
        }
        marks.discard(before: bufferBase)
    }

    /// `missing` bytes of the stream were lost (TCP gap): drop partial state and resynchronise.
    ///
    /// A wrapper frame cut by the gap is emitted with what arrived (error `stream.gap`); when the gap ends inside
    /// that frame, the rest of its body is skipped, so the next frame is found by its header, not by scanning.
    public mutating func gap(missing: Int, frame: Int, time: Timestamp?) -> [TransportEvent] {
        storeHeldFlag()
        let missing = max(0, missing)
        var out: [TransportEvent] = []
        scanner.flushJunk(into: &out)
        scanner.skip = 0
        // What follows a gap starts anywhere in a frame: resynchronise as after junk.
        scanner.afterGap = true
        var dropped = buffer.count
        if framing != .hdlc, let cut = truncatedWrapperFrame() {
            // Emit the part that arrived; skip the part still to come.
            let input = FrameScanner.Input(data: buffer[...], base: bufferBase, final: true, record: false,
                                           marks: marks)
            let header = cut.header
            let body = buffer.startIndex + WrapperFrameDecoder.headerLength
            let frames = scanner.framesOf(input, buffer.startIndex, buffer.endIndex, consumeOrdinal: true)
            let message = "\(missing) byte(s) missing in a \(header.length)-byte wrapper APDU; "
                + "\(buffer.count - WrapperFrameDecoder.headerLength) arrived"
            out.append(.apdu(TransportAPDU(
                kind: .wrapper(header), bytes: Array(buffer[body...]), frames: frames,
                time: marks.time(at: bufferBase + buffer.count - 1),
                errors: [DecodeError("stream.gap", message, offset: buffer.count - WrapperFrameDecoder.headerLength)])))
            if missing < cut.stillNeeded { scanner.skip = cut.stillNeeded - missing }
            dropped = 0
        }
        var message = "\(missing) byte(s) of the stream are missing"
        if dropped > 0 { message += "; \(dropped) buffered byte(s) of an unfinished frame dropped" }
        out.append(.issue(TransportIssue(code: "stream.gap", message: message,
                                         frames: marks.frames(bufferBase, bufferBase + buffer.count) + [frame],
                                         time: time, offset: nil)))
        dropBuffer()
        marks.discard(before: bufferBase)
        return out
    }

    /// End of stream: report what is left unfinished.
    public mutating func finish() -> [TransportEvent] {
        storeHeldFlag()
        var out: [TransportEvent] = []
        if !buffer.isEmpty {
            let input = FrameScanner.Input(data: buffer[...], base: bufferBase, final: true, record: false,
                                           marks: marks)
            _ = scanner.scan(input, into: &out)
            dropBuffer()
        }
        scanner.flushJunk(into: &out)
        scanner.closingFlagAt = nil
        scanner.skip = 0
        scanner.reassembler.finish(into: &out)
        for e in scanner.mbus.finish() {
            switch e {
            case .apdu(let a):
                out.append(.apdu(TransportAPDU(kind: .mbus(segments: a.segments), bytes: a.bytes, frames: a.frames,
                                               time: a.time, errors: a.errors)))
            case .issue(let i):
                out.append(.issue(i))
            }
        }
        marks.removeAll()
        return out
    }

    // MARK: - Buffer

    /// Stores the held closing flag in the buffer (see `heldFlag`).
    private mutating func storeHeldFlag() {
        guard heldFlag else { return }
        heldFlag = false
        buffer.append(0x7E)
    }

    private mutating func dropBuffer() {
        bufferBase += buffer.count
        buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 16)
        scanner.closingFlagAt = nil
    }

    /// The buffer starts with a plausible wrapper header whose APDU has not fully arrived.
    private func truncatedWrapperFrame() -> (header: WrapperHeader, stillNeeded: Int)? {
        guard framing == .wrapper || framing == .auto, buffer.count >= WrapperFrameDecoder.headerLength,
              let h = WrapperFrameDecoder.header(buffer[...]), h.version == 1, h.length >= 1,
              Int(h.length) <= limits.maxAPDUBytes else { return nil }
        let total = WrapperFrameDecoder.headerLength + Int(h.length)
        guard total > buffer.count else { return nil }
        return (h, total - buffer.count)
    }
}

extension StreamDecoder {
    /// Feeds a self-contained record (a UDP datagram, a hex-dump line or paragraph): it holds one or more whole
    /// frames or one bare APDU; nothing is carried over to the next record except HDLC segmentation state.
    public mutating func feedRecord(_ bytes: ArraySlice<UInt8>, frame: Int, time: Timestamp?) -> [TransportEvent] {
        var out: [TransportEvent] = []
        feedRecord(bytes, frame: frame, time: time, into: &out)
        return out
    }

    /// `feedRecord(_:frame:time:)` appending to the caller's array.
    public mutating func feedRecord(_ bytes: ArraySlice<UInt8>, frame: Int, time: Timestamp?,
                                    into out: inout [TransportEvent]) {
        guard !bytes.isEmpty else { return }
        var recordMarks = ChunkMarks()
        recordMarks.append(start: 0, count: bytes.count, frame: frame, time: time)
        var input = FrameScanner.Input(data: bytes, base: 0, final: true, record: true, marks: recordMarks)
        input.callerBytes = true
        if framing == .bare || (framing == .auto && !Self.startsFrame(bytes, limits: limits)) {
            scanner.emitBare(input, into: &out)
            return
        }
        // The stream's own state (junk run, shared flag, wrapper skip) is not the record's.
        let saved = (scanner.junk, scanner.closingFlagAt, scanner.skip)
        scanner.junk = nil
        scanner.closingFlagAt = nil
        scanner.skip = 0
        _ = scanner.scan(input, into: &out)
        scanner.flushJunk(into: &out)
        (scanner.junk, scanner.closingFlagAt, scanner.skip) = saved
        return
    }

    /// Does a record start with a link frame (HDLC flag + frame format type 3, or a plausible wrapper header)?
    static func startsFrame(_ bytes: ArraySlice<UInt8>, limits: StreamLimits) -> Bool {
        var r = ByteReader(bytes)
        guard let first = r.readUInt8() else { return false }
        if first == 0x7E, let format = r.readUInt8() { return format >> 4 == 0xA }
        if first == 0x68 || first == 0x10,
           (MBusFrameDecoder.frameLength(at: bytes, acceptsSingleCharacter: false) ?? 0) > 0 {
            return true
        }
        // A wrapper header whose length matches the datagram exactly needs no known APDU tag to be believed.
        if let h = WrapperFrameDecoder.header(bytes), WrapperFrameDecoder.headerLength + Int(h.length) == bytes.count,
           WrapperFrameDecoder.plausibleStart(bytes, maxLength: limits.maxAPDUBytes, requireTag: false) == true {
            return true
        }
        return WrapperFrameDecoder.plausibleStart(bytes, maxLength: limits.maxAPDUBytes) == true
    }
}
