import DLMSWire

/// What a TCP tap reports: the connection came up, bytes arrived, or the connection went down (or could not be
/// made) and the next attempt is scheduled.
public enum TapEvent: Sendable, Hashable {
    /// Connected to `peer` (`127.0.0.1:2000`). After a reconnect the byte stream restarts mid-frame: reset the
    /// stream decoder (report the unfinished frame) before feeding the new bytes.
    case connected(peer: String, time: Timestamp)
    case data(ByteChunk)
    /// The tap dropped the connection, or a connection attempt failed; the next attempt is in `retryIn` seconds.
    case disconnected(reason: String, time: Timestamp, retryIn: Double)
}

/// Exponential backoff between connection attempts: `initial`, then twice as long after each failed attempt, at
/// most `maximum`; back to `initial` after a connection succeeded.
public struct Backoff: Sendable, Hashable {
    public var initial: Double
    public var maximum: Double
    public init(initial: Double = 0.5, maximum: Double = 30) {
        self.initial = max(0.001, initial)
        self.maximum = max(self.initial, maximum)
    }
}
