import DLMSWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `--save FILE` format of the byte-stream taps (serial, TCP tap): the raw bytes exactly as read, with their
/// arrival times, and the places where the stream broke (a TCP tap that lost its connection), so that
/// `dlmsdump --input timed-raw FILE` replays a session with the same output (same frames, same timestamps, the
/// same resynchronisation after a break). Version 1:
///
/// ```
/// file   = header record*
/// header = "DLMSDUMP-RAW v1\n"                       ; 16 bytes of ASCII, the last one LF (0x0A)
/// record = seconds  : u64, big-endian               ; arrival time, Unix seconds (UTC)
///          micros   : u32, big-endian               ; 0 ... 999999
///          length   : u32, big-endian               ; see below
///          bytes    : (length & 0x7FFFFFFF) bytes
/// length = 1 ... 16777216                           ; data: the bytes one read(2) returned
///        | 0x80000000 + (0 ... 4096)                ; break: the stream was cut here (bytes before and after do
///                                                   ; not join); the bytes are the reason, UTF-8
/// ```
///
/// One data record per `read`, so record boundaries are arbitrary and carry no meaning: a frame may span records
/// and a record may hold several frames (the decoder reassembles, exactly as it did live). Big-endian, like every
/// length in DLMS. `xxd -s 16 FILE` shows the records; a file cut short (a probe that lost power) loses at most
/// its last record, which the reader reports.
public enum TimedRawFormat {
    /// `DLMSDUMP-RAW v1\n`.
    public static let magic: [UInt8] = Array("DLMSDUMP-RAW v1\n".utf8)
    public static let recordHeaderSize = 16
    public static let maximumRecordLength = 16 << 20
    /// Set in `length` for a break record.
    public static let breakFlag: UInt32 = 0x8000_0000
    public static let maximumReasonLength = 4096

    /// Whether `firstBytes` start with the header (for `--input auto`).
    public static func matches(_ firstBytes: ArraySlice<UInt8>) -> Bool {
        firstBytes.count >= magic.count && firstBytes.prefix(magic.count).elementsEqual(magic)
    }
}

/// Writes the `TimedRawFormat` (`--save FILE`). `path` `-` writes to standard output. By default every record is
/// flushed at once, so a file being written is always readable up to its last complete record: the rates of serial
/// lines make that cheap.
public final class TimedRawWriter {
    private var file: UnsafeMutablePointer<FILE>?
    public let path: String
    private let flushEachRecord: Bool
    /// Records written so far.
    public private(set) var count = 0

    public init(path: String, flushEachRecord: Bool = true) throws(CaptureError) {
        self.path = path
        self.flushEachRecord = flushEachRecord
        let opened: UnsafeMutablePointer<FILE>?
        if path == "-" {
            let fd = dup(1)
            opened = fd >= 0 ? fdopen(fd, "wb") : nil
            if opened == nil, fd >= 0 { closeDescriptor(fd) }
        } else {
            opened = fopen(path, "wb")
        }
        guard let f = opened else {
            throw CaptureError("\(path == "-" ? "standard output" : path): \(String(cString: strerror(errno)))")
        }
        file = f
        try put(TimedRawFormat.magic)
        if flushEachRecord { try flush() }
    }

    deinit { close() }

    /// Appends one record. Empty chunks are skipped; a chunk over 16 MiB is split.
    public func write(_ chunk: ByteChunk) throws(CaptureError) {
        var start = 0
        while start < chunk.bytes.count {
            let end = min(chunk.bytes.count, start + TimedRawFormat.maximumRecordLength)
            var header: [UInt8] = []
            header.reserveCapacity(TimedRawFormat.recordHeaderSize)
            let seconds = UInt64(bitPattern: chunk.time.seconds)
            let micros = UInt32(clamping: max(0, min(999_999, Int(chunk.time.micros))))
            let length = UInt32(end - start)
            TimedRawWriter.appendBigEndian(seconds, bytes: 8, to: &header)
            TimedRawWriter.appendBigEndian(UInt64(micros), bytes: 4, to: &header)
            TimedRawWriter.appendBigEndian(UInt64(length), bytes: 4, to: &header)
            try put(header[...])
            try put(chunk.bytes[start..<end])
            count += 1
            start = end
        }
        if flushEachRecord { try flush() }
    }

    /// Records a break in the stream (a TCP tap that lost its connection) with its reason; the replay reports it
    /// where it happened and resynchronises as the live run did. The reason is cut to 4096 bytes.
    public func writeBreak(reason: String, time: Timestamp) throws(CaptureError) {
        let full = Array(reason.utf8)
        var text = Array(full.prefix(TimedRawFormat.maximumReasonLength))
        if full.count > text.count, let lastIndex = text.indices.last {
            // Do not cut a UTF-8 sequence in half: find the last lead byte and drop its sequence if incomplete.
            var lead = lastIndex
            while lead > 0, text[lead] & 0xC0 == 0x80 { lead -= 1 }
            let b = text[lead]
            let needed = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
            if text.count - lead < needed { text.removeSubrange(lead...) }
        }
        var header: [UInt8] = []
        header.reserveCapacity(TimedRawFormat.recordHeaderSize)
        TimedRawWriter.appendBigEndian(UInt64(bitPattern: time.seconds), bytes: 8, to: &header)
        TimedRawWriter.appendBigEndian(UInt64(max(0, min(999_999, Int(time.micros)))), bytes: 4, to: &header)
        TimedRawWriter.appendBigEndian(UInt64(TimedRawFormat.breakFlag) | UInt64(text.count), bytes: 4, to: &header)
        try put(header[...])
        try put(text[...])
        count += 1
        if flushEachRecord { try flush() }
    }

    static func appendBigEndian(_ value: UInt64, bytes: Int, to out: inout [UInt8]) {
        for i in stride(from: bytes - 1, through: 0, by: -1) { out.append(UInt8(truncatingIfNeeded: value >> (8 * i))) }
    }

    public func flush() throws(CaptureError) {
        guard let file else { return }
        guard fflush(file) == 0 else {
            throw CaptureError("\(path): write failed: \(String(cString: strerror(errno)))")
        }
    }

    public func close() {
        if let file { fclose(file) }
        file = nil
    }

    private func put(_ bytes: [UInt8]) throws(CaptureError) { try put(bytes[...]) }

    private func put(_ bytes: ArraySlice<UInt8>) throws(CaptureError) {
        guard let file else { throw CaptureError("\(path): already closed") }
        let written = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
        guard written == bytes.count else {
            throw CaptureError("\(path): write failed: \(String(cString: strerror(errno)))")
        }
    }
}

@available(*, unavailable) extension TimedRawWriter: Sendable {}

/// Reads the `TimedRawFormat` (`--input timed-raw`), record by record, with the recorded arrival times. `path` `-`
/// reads standard input. A damaged file ends the replay with a `CaptureError` naming the byte offset; the
/// records returned before it stay valid (treat it as a warning, as for a truncated pcap).
public final class TimedRawReader {
    private var file: UnsafeMutablePointer<FILE>?
    public let path: String
    /// Byte offset of the next record in the file.
    public private(set) var offset = 0
    /// Records returned so far.
    public private(set) var count = 0

    public init(path: String) throws(CaptureError) {
        self.path = path
        let name = path == "-" ? "standard input" : path
        let opened: UnsafeMutablePointer<FILE>?
        if path == "-" {
            let fd = dup(0)
            opened = fd >= 0 ? fdopen(fd, "rb") : nil
            if opened == nil, fd >= 0 { closeDescriptor(fd) }
        } else {
            opened = fopen(path, "rb")
        }
        guard let f = opened else { throw CaptureError("\(name): \(String(cString: strerror(errno)))") }
        file = f
        var head = [UInt8](repeating: 0, count: TimedRawFormat.magic.count)
        let n = head.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
        guard n == head.count, TimedRawFormat.matches(head[...]) else {
            close()
            throw CaptureError("\(name): not a dlmsdump timed-raw file (no \"DLMSDUMP-RAW v1\" header)")
        }
        offset = n
    }

    deinit { close() }

    public func close() {
        if let file { fclose(file) }
        file = nil
    }

    /// The next data record, or nil at the end of the file. Break records are skipped (see `nextRecord`).
    public func next() throws(CaptureError) -> ByteChunk? {
        while let r = try nextRecord() {
            if case .data(let chunk) = r { return chunk }
        }
        return nil
    }

    /// The next record, data or break, or nil at the end of the file.
    public func nextRecord() throws(CaptureError) -> TimedRawRecord? {
        guard let file else { return nil }
        let name = path == "-" ? "standard input" : path
        var header = [UInt8](repeating: 0, count: TimedRawFormat.recordHeaderSize)
        let got = header.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if got == 0 {
            close()
            return nil
        }
        let at = offset
        func fail(_ message: String) -> CaptureError {
            close()
            return CaptureError("\(name): \(message)")
        }
        guard got == header.count else { throw fail("truncated record header at offset \(at) (\(got) of 16 bytes)") }
        var r = ByteReader(header[...])
        guard let seconds = r.readUInt64(), let micros = r.readUInt32(), let rawLength = r.readUInt32() else {
            throw fail("unreadable record header at offset \(at)")
        }
        guard micros < 1_000_000 else {
            throw fail("bad record at offset \(at): microseconds \(micros) out of range")
        }
        let isBreak = rawLength & TimedRawFormat.breakFlag != 0
        let length = Int(rawLength & ~TimedRawFormat.breakFlag)
        if isBreak {
            guard length <= TimedRawFormat.maximumReasonLength else {
                throw fail("bad break record at offset \(at): reason length \(length) over 4096")
            }
        } else {
            guard length >= 1, length <= TimedRawFormat.maximumRecordLength else {
                throw fail("bad record at offset \(at): length \(length) out of range 1...16777216")
            }
        }
        var bytes = [UInt8](repeating: 0, count: length)
        let n = length == 0 ? 0 : bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        guard n == length else { throw fail("truncated record at offset \(at) (\(n) of \(length) bytes)") }
        offset += TimedRawFormat.recordHeaderSize + length
        count += 1
        let time = Timestamp(seconds: Int64(bitPattern: seconds), micros: Int32(micros))
        if isBreak { return .streamBreak(reason: String(decoding: bytes, as: UTF8.self), time: time) }
        return .data(ByteChunk(bytes: bytes, time: time))
    }
}

/// One record of a `TimedRawFormat` file.
public enum TimedRawRecord: Sendable, Hashable {
    case data(ByteChunk)
    /// The stream broke here (a TCP tap lost its connection); `reason` as the live run reported it.
    case streamBreak(reason: String, time: Timestamp)
}

@available(*, unavailable) extension TimedRawReader: Sendable {}
