import DLMSWire

/// One wired M-Bus frame (EN 13757-2 §5, the IEC 60870-5-2 FT1.2 format):
///
/// ```
/// long frame     68 | L | L | 68 | C | A | CI | user data (L - 3 bytes) | CS | 16     CS = C + A + CI + data mod 256
/// control frame  68 | 03 | 03 | 68 | C | A | CI | CS | 16                          (a long frame without data)
/// short frame    10 | C | A | CS | 16                                              CS = C + A mod 256
/// single char    E5                                                                (acknowledgement)
/// ```
///
/// `L` counts C, A, CI and the user data, so it is at least 3. The C field's bit 6 (PRM) is set in messages from
/// the primary (calling) station; a meter pushing on a customer port sends SND_UD (`53`/`73`) itself.
public struct MBusFrameInfo: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case long, control, short, ack
    }

    public var kind: Kind
    /// C field (nil for the single character).
    public var control: UInt8?
    /// A field, the secondary station's primary address (nil for the single character).
    public var address: UInt8?
    /// CI field (long and control frames only).
    public var ci: UInt8?
    /// The user data after CI (long frames), for DLMS: STSAP, DTSAP and the APDU segment.
    public var data: [UInt8]
    /// The checksum byte as sent, and whether it matches.
    public var checksum: UInt8?
    public var checksumOK: Bool
    /// Bytes on the wire, start to stop character.
    public var length: Int
    /// Capture frames (or link-frame ordinals) that carried it, and the time of the last one.
    public var frames: [Int]
    public var time: Timestamp?
    /// Deviations that did not stop the frame from being delimited (`mbus.length-overflow`).
    public var errors: [DecodeError] = []

    public init(kind: Kind, control: UInt8?, address: UInt8?, ci: UInt8?, data: [UInt8], checksum: UInt8?,
                checksumOK: Bool, length: Int, frames: [Int] = [], time: Timestamp? = nil,
                errors: [DecodeError] = []) {
        self.errors = errors
        self.kind = kind
        self.control = control
        self.address = address
        self.ci = ci
        self.data = data
        self.checksum = checksum
        self.checksumOK = checksumOK
        self.length = length
        self.frames = frames
        self.time = time
    }

    /// The C field's function (low 4 bits, EN 13757-2 Table 3): `SND_NKE`, `SND_UD`, `REQ_UD2`, `RSP_UD`, ...
    public var functionName: String? {
        guard let c = control else { return nil }
        let fromPrimary = c & 0x40 != 0
        switch (fromPrimary, c & 0x0F) {
        case (true, 0x0): return "SND_NKE"
        case (true, 0x3): return "SND_UD"
        case (true, 0x4): return "SND_NR"
        case (true, 0xA): return "REQ_UD1"
        case (true, 0xB): return "REQ_UD2"
        case (false, 0x0): return "ACK"
        case (false, 0x8): return "RSP_UD"
        default: return nil
        }
    }

    /// The CI field carries the DLMS transport layer (EN 13757-1 reserves CI 0x00...0x1F for DLMS-based
    /// applications; IEC 62056-7-6 puts the segment number in bits 0-3 and the last-segment flag in bit 4).
    public var carriesDLMS: Bool { kind == .long && (ci ?? 0xFF) <= 0x1F }

    /// DLMS transport layer: the segment number (CI bits 0-3), nil when the frame is not DLMS.
    public var segmentNumber: UInt8? { carriesDLMS ? (ci ?? 0) & 0x0F : nil }
    /// DLMS transport layer: CI bit 4, the last (or only) segment of an APDU.
    public var lastSegment: Bool? { carriesDLMS ? (ci ?? 0) & 0x10 != 0 : nil }
    /// DLMS transport layer: source and destination transport service access points (the two bytes after CI).
    public var stsap: UInt8? { carriesDLMS && data.count >= 2 ? data.first : nil }
    public var dtsap: UInt8? { carriesDLMS && data.count >= 2 ? data.dropFirst().first : nil }
    /// True when the frame comes from the primary (calling) station: C field bit 6 (PRM).
    public var fromPrimary: Bool? { control.map { $0 & 0x40 != 0 } }
}

/// Delimits wired M-Bus frames in a byte stream, with the contract of the other link decoders (NIO
/// `ByteToMessageDecoder`): `feed` returns what the bytes so far complete (nothing = need more bytes), bytes
/// consumed stay consumed, and bytes that start no frame are reported once per run as junk.
///
/// A long frame is trusted when its length is repeated, both start characters are there and the stop character
/// sits where the length says; a wrong checksum then leaves the frame delimited but marked (`checksumOK` false,
/// issue `mbus.bad-checksum`), so that one flipped data byte does not cost the resynchronisation of the stream.
///
/// ```swift
/// var decoder = MBusFrameDecoder()
/// for chunk in serialLine { for event in decoder.feed(chunk.bytes[...], frame: chunk.number, time: chunk.time) { … } }
/// for event in decoder.finish() { … }
/// ```
public struct MBusFrameDecoder: Sendable {
    /// Longest frame: L = 255 → 4 + 255 + 2 bytes, or 264 with the length-overflow quirk (L = 0...2 standing
    /// for 256...258).
    public static let maximumFrameLength = 264

    public enum Event: Sendable {
        case frame(MBusFrameInfo)
        /// A run of bytes that starts no frame (`stream.junk`), or the unfinished frame left at the end
        /// (`mbus.truncated`).
        case issue(TransportIssue)
    }

    /// What the bytes at a position are, for a per-frame detector (`FrameScanner`).
    public enum Scan: Sendable {
        /// A strict prefix of a frame: wait for more bytes.
        case needMore
        /// No M-Bus frame starts here.
        case broken(reason: String)
        /// A frame of `byteCount` bytes, start to stop character.
        case frame(MBusFrameInfo, byteCount: Int)
    }

    /// Accept the single character `E5` and short frames `10 C A CS 16` as frames. A stream that may carry other
    /// framings (HDLC, bare APDUs) should leave the single character off: `E5` is a common data byte.
    public var acceptsSingleCharacter: Bool

    var buffer: [UInt8] = []
    /// Frames and times of the buffered bytes, one mark per fed chunk.
    var marks = ChunkMarks()
    var bufferBase = 0
    var junkStart: Int? = nil
    var junkCount = 0
    var junkFrames: [Int] = []
    var junkTime: Timestamp? = nil

    public init(acceptsSingleCharacter: Bool = true) {
        self.acceptsSingleCharacter = acceptsSingleCharacter
    }

    // MARK: - Probe

    /// The length of the frame starting at `bytes.startIndex` (a `frameLength(at:)` probe): nil while the bytes
    /// are a strict prefix of one, 0 when no frame starts there.
    public static func frameLength(at bytes: ArraySlice<UInt8>, acceptsSingleCharacter: Bool = true) -> Int? {
        switch scan(bytes, acceptsSingleCharacter: acceptsSingleCharacter) {
        case .needMore: return nil
        case .broken: return 0
        case .frame(_, let n): return n
        }
    }

    /// Decodes the frame that starts at `bytes.startIndex`, if one does. `frames`/`time` are left empty.
    public static func scan(_ bytes: ArraySlice<UInt8>, acceptsSingleCharacter: Bool = true) -> Scan {
        var r = ByteReader(bytes)
        guard let start = r.readUInt8() else { return .needMore }
        switch start {
        case 0xE5 where acceptsSingleCharacter:
            return .frame(MBusFrameInfo(kind: .ack, control: nil, address: nil, ci: nil, data: [], checksum: nil,
                                        checksumOK: true, length: 1), byteCount: 1)
        case 0x10:
            guard let c = r.readUInt8(), let a = r.readUInt8(), let cs = r.readUInt8(), let stop = r.readUInt8()
            else { return .needMore }
            guard stop == 0x16 else { return .broken(reason: "short frame without its stop character 0x16") }
            // A short frame has nothing else to vouch for it: a wrong checksum means it is not one.
            guard c &+ a == cs else { return .broken(reason: "short frame whose checksum does not match") }
            return .frame(MBusFrameInfo(kind: .short, control: c, address: a, ci: nil, data: [], checksum: cs,
                                        checksumOK: true, length: 5), byteCount: 5)
        case 0x68:
            guard let l1 = r.readUInt8() else { return .needMore }
            guard let l2 = r.readUInt8() else { return .needMore }
            guard l1 == l2 else { return .broken(reason: "long frame length \(l1) is not repeated (\(l2))") }
            guard let second = r.readUInt8() else { return .needMore }
            guard second == 0x68 else { return .broken(reason: "long frame without its second start character") }
            // L counts at least C, A and CI. Below 3 it can only be a length past 255 sent modulo 256: the
            // Sagemcom T210-D on Netz NÖ customer ports sends 257-byte bodies as `68 01 01 68`
            // (UtilitechAS/amsreader-firmware issue #155; its MbusParser.cpp adds 256 "if(len < headersize)").
            let wrapped = l1 < 3
            let l = Int(l1) + (wrapped ? 256 : 0)
            guard let body = r.readSlice(l), let cs = r.readUInt8(), let stop = r.readUInt8() else {
                return .needMore
            }
            guard stop == 0x16 else {
                if wrapped { return .broken(reason: "long frame length \(l1) is below the minimum of 3") }
                return .broken(reason: "no stop character 0x16 after the \(l)-byte frame the length announces")
            }
            var sum: UInt8 = 0
            for b in body { sum &+= b }  // the checksum is the arithmetic sum mod 256 (EN 13757-2 §5.4)
            var br = ByteReader(body)
            guard let c = br.readUInt8(), let a = br.readUInt8(), let ci = br.readUInt8() else {
                return .broken(reason: "long frame shorter than C, A and CI")
            }
            let data = br.readRest()
            var errors: [DecodeError] = []
            if wrapped {
                errors.append(DecodeError("mbus.length-overflow",
                                          "L field \(l1) stands for \(l) bytes (the length modulo 256, as the "
                                              + "Sagemcom T210-D sends it); EN 13757-2 allows at most 255",
                                          offset: 1))
            }
            return .frame(MBusFrameInfo(kind: l == 3 ? .control : .long, control: c, address: a, ci: ci,
                                        data: Array(data), checksum: cs, checksumOK: sum == cs, length: l + 6,
                                        errors: errors),
                          byteCount: l + 6)
        default:
            return .broken(reason: "byte 0x\(Hex.encode([start])) starts no M-Bus frame")
        }
    }

    /// Could a frame start with `b`? Used to skip junk quickly.
    @inline(__always) func mayStart(_ b: UInt8) -> Bool {
        b == 0x68 || b == 0x10 || (b == 0xE5 && acceptsSingleCharacter)
    }

    // MARK: - Stream

    /// Feeds the next chunk, carried by capture frame `frame` at `time`.
    public mutating func feed(_ bytes: ArraySlice<UInt8>, frame: Int, time: Timestamp?) -> [Event] {
        var out: [Event] = []
        guard !bytes.isEmpty else { return out }
        marks.append(start: bufferBase + buffer.count, count: bytes.count, frame: frame, time: time)
        buffer.append(contentsOf: bytes)
        let stop = scanBuffer(final: false, into: &out)
        buffer.removeFirst(stop)
        bufferBase += stop
        marks.discard(before: bufferBase)
        return out
    }

    /// End of stream: the unfinished frame and the junk run are reported.
    public mutating func finish() -> [Event] {
        var out: [Event] = []
        let stop = scanBuffer(final: true, into: &out)
        if stop < buffer.count {
            flushJunk(into: &out)
            let n = buffer.count - stop
            out.append(.issue(TransportIssue(
                code: "mbus.truncated", message: "M-Bus frame cut short: \(n) byte(s) of a frame that announces more",
                frames: marks.frames(bufferBase + stop, bufferBase + buffer.count),
                time: marks.time(at: bufferBase + buffer.count - 1), offset: bufferBase + stop)))
        }
        flushJunk(into: &out)
        bufferBase += buffer.count
        buffer.removeAll()
        marks.removeAll()
        return out
    }

    /// Walks the buffer; returns the index of the first byte not consumed.
    private mutating func scanBuffer(final: Bool, into out: inout [Event]) -> Int {
        var pos = 0
        let end = buffer.count
        while pos < end {
            switch Self.scan(buffer[pos...], acceptsSingleCharacter: acceptsSingleCharacter) {
            case .needMore:
                // A partial frame can be at most one frame long: beyond that its start was junk. At the end of
                // the stream, a complete frame further on shows that the unfinished "frame" was junk too.
                if final ? !completeFrame(after: pos) : end - pos < Self.maximumFrameLength { return pos }
                pos = skipJunk(from: pos)
            case .broken:
                pos = skipJunk(from: pos)
            case .frame(var f, let n):
                flushJunk(into: &out)
                f.frames = marks.frames(bufferBase + pos, bufferBase + pos + n)
                f.time = marks.time(at: bufferBase + pos + n - 1)
                if !f.checksumOK {
                    out.append(.issue(TransportIssue(
                        code: "mbus.bad-checksum",
                        message: "M-Bus \(f.kind.rawValue) frame checksum 0x\(Hex.encode([f.checksum ?? 0])) "
                            + "does not match its bytes; the frame is not used",
                        frames: f.frames, time: f.time, offset: bufferBase + pos + n - 2)))
                }
                out.append(.frame(f))
                pos += n
            }
        }
        return pos
    }

    /// Does a complete frame start somewhere after `pos` in the buffer?
    private func completeFrame(after pos: Int) -> Bool {
        var q = pos + 1
        while q < buffer.count {
            if mayStart(buffer[q]), case .frame = Self.scan(buffer[q...], acceptsSingleCharacter: acceptsSingleCharacter) {
                return true
            }
            q += 1
        }
        return false
    }

    /// Adds the bytes from `pos` to the next possible frame start to the junk run; returns that start.
    private mutating func skipJunk(from pos: Int) -> Int {
        var q = pos + 1
        while q < buffer.count, !mayStart(buffer[q]) { q += 1 }
        let absStart = bufferBase + pos
        if let s = junkStart, s + junkCount == absStart {
            junkCount += q - pos
        } else {
            junkStart = absStart
            junkCount = q - pos
            junkFrames = []
        }
        for f in marks.frames(absStart, bufferBase + q) where junkFrames.last != f { junkFrames.append(f) }
        junkTime = marks.time(at: bufferBase + q - 1)
        return q
    }

    private mutating func flushJunk(into out: inout [Event]) {
        guard let s = junkStart else { return }
        out.append(.issue(TransportIssue(code: "stream.junk",
                                         message: "\(junkCount) byte(s) skipped: bytes that start no M-Bus frame",
                                         frames: junkFrames, time: junkTime, offset: s)))
        junkStart = nil
        junkCount = 0
        junkFrames = []
    }
}
