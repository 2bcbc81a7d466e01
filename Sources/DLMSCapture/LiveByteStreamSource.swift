import DLMSWire

/// Bytes read from a live byte stream (serial line, TCP tap) or a `--save` file, with the time they arrived.
public struct ByteChunk: Sendable, Hashable {
    public var bytes: [UInt8]
    /// Arrival time: when `read` returned them (live), or the recorded time (replay).
    public var time: Timestamp
    public init(bytes: [UInt8], time: Timestamp) {
        self.bytes = bytes
        self.time = time
    }
}

/// A source of a serial byte stream with arrival times: a live serial tap, a TCP tap, or the replay of a `--save`
/// file. The analyzer drives all three with one loop:
///
/// ```swift
/// while let event = try source.nextEvent() {
///     switch event {
///     case .data(let chunk): feed chunk.bytes, stamped chunk.time, to the line's stream decoder
///     case .connected: tell the user
///     case .disconnected(let reason, let time, _):
///         if bytes were fed since the last break: report the break, `decoder.gap(missing: 0, ...)` (the stream
///         resumes mid-frame), and `save?.writeBreak(reason:time:)`
///     }
/// }
/// ```
///
/// nil ends the stream: the stop flag was set, the line hung up (`SerialTapSource.endReason`), or the file ended.
public protocol ByteStreamSource: AnyObject {
    /// The next event, or nil at the end.
    func nextEvent() throws(CaptureError) -> TapEvent?
    /// What the user named: the device, `HOST:PORT`, or the file. Keys the line's conversation.
    var streamName: String { get }
}

extension SerialTapSource: ByteStreamSource {
    public func nextEvent() throws(CaptureError) -> TapEvent? {
        try next().map { .data($0) }
    }

    public var streamName: String { device }
}

extension TCPTapSource: ByteStreamSource {
    public func nextEvent() throws(CaptureError) -> TapEvent? { try next() }

    public var streamName: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension TimedRawReader: ByteStreamSource {
    /// Data records as `.data`, break records as `.disconnected(reason:time:retryIn: 0)`: the replay sees the
    /// breaks where the live run saw them.
    public func nextEvent() throws(CaptureError) -> TapEvent? {
        switch try nextRecord() {
        case .data(let chunk)?: .data(chunk)
        case .streamBreak(let reason, let time)?: .disconnected(reason: reason, time: time, retryIn: 0)
        case nil: nil
        }
    }

    public var streamName: String { path }
}
