import DLMSWire

/// The M-Bus branch of the per-frame detector, ready for `FrameScanner` (IEC 62056-46 HDLC, IEC 62056-47 wrapper
/// and now EN 13757-2 wired M-Bus in one stream). What `FrameScanner` needs to use it, without changing what it
/// does today:
///
/// ```swift
/// enum Link { case hdlc, wrapper, mbus }
/// var mbus = MBusAssembler()                     // stored property; maxAPDUBytes = limits.maxAPDUBytes in init
/// // detect(), .auto, after the 0x7E test:
/// if b == 0x68 || b == 0x10, let m = mbusStart(input, at: pos) { return m ? .link(.mbus) : .needMore }
/// // scan():
/// case .link(.mbus):
///     guard let next = attemptMBus(input, at: pos, assembler: &mbus, into: &out, wrap: {
///         .apdu(TransportAPDU(kind: .mbus(segments: $0.segments), bytes: $0.bytes, frames: $0.frames,
///                             time: $0.time, errors: $0.errors))
///     }) else { return pos }
///     pos = next
/// // nextCandidate(), .auto: also stop at 0x68 and 0x10.
/// // StreamDecoder.finish(): append `scanner.mbus.finish()` as issues.
/// ```
extension FrameScanner {
    /// Does a wired M-Bus frame start at `pos` (auto framing)? `true`: a complete long or short frame (checksum
    /// right or wrong, stop character in place); `nil`: the bytes so far are a prefix of one and more may come;
    /// `false`: no M-Bus frame here (the other framers, or junk). The single character `E5` is not taken in auto
    /// framing: it is too common a data byte.
    func mbusStart(_ input: Input, at pos: Int) -> Bool? {
        let data = input.data
        switch MBusFrameDecoder.scan(data[pos...], acceptsSingleCharacter: false) {
        case .frame:
            return true
        case .needMore:
            // A header that announces more than a frame can hold, or the end of the input, settles it.
            if input.final || data.endIndex - pos >= MBusFrameDecoder.maximumFrameLength { return false }
            return nil
        case .broken:
            return false
        }
    }

    /// Delimits the M-Bus frame at `pos`, offers it to `assembler` and appends what comes out (APDUs through
    /// `wrap`, issues as they are). Returns the next position, or nil to wait for more bytes.
    /// `singleCharacter`: take `E5` as a frame (an M-Bus-only framing), not in auto framing.
    mutating func attemptMBus(_ input: Input, at pos: Int, assembler: inout MBusAssembler,
                              singleCharacter: Bool = false, into out: inout [TransportEvent],
                              wrap: (MBusAPDU) -> TransportEvent) -> Int? {
        let data = input.data
        closingFlagAt = nil
        switch MBusFrameDecoder.scan(data[pos...], acceptsSingleCharacter: singleCharacter) {
        case .needMore:
            guard input.final else { return nil }
            flushJunk(into: &out)
            out.append(.issue(TransportIssue(
                code: "mbus.truncated",
                message: "M-Bus frame cut short: \(data.endIndex - pos) byte(s) of a frame that announces more",
                frames: framesOf(input, pos, data.endIndex, consumeOrdinal: true),
                time: input.marks.time(at: input.abs(data.endIndex - 1)), offset: location(input, pos))))
            return data.endIndex
        case .broken(let reason):
            let q = nextCandidate(input, from: pos + 1)
            addJunk(input, from: pos, to: q, code: "stream.junk", reason: reason, into: &out)
            return q
        case .frame(var f, let n):
            flushJunk(into: &out)
            f.frames = framesOf(input, pos, pos + n, consumeOrdinal: true)
            f.time = input.marks.time(at: input.abs(pos + n - 1))
            for e in f.errors {
                out.append(.issue(TransportIssue(code: e.code, message: e.message, frames: f.frames, time: f.time,
                                                 offset: location(input, pos + (e.offset ?? 0)))))
            }
            guard f.checksumOK else {
                out.append(.issue(TransportIssue(
                    code: "mbus.bad-checksum",
                    message: "M-Bus \(f.kind.rawValue) frame checksum does not match its bytes; the frame is not used",
                    frames: f.frames, time: f.time, offset: location(input, pos + n - 2))))
                return pos + n
            }
            for e in assembler.accept(f) {
                switch e {
                case .apdu(let a): out.append(wrap(a))
                case .issue(let i): out.append(.issue(i))
                }
            }
            return pos + n
        }
    }
}
