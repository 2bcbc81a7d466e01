/// Bounds on the memory `TCPReassembler` may hold. Going past a bound is reported (a `.gap`, or a
/// `.closed(reason: "evicted")`), never a reason to grow.
public struct ReassemblyLimits: Sendable, Hashable {
    /// Out-of-order payload bytes buffered per direction, waiting for a hole to fill. Past it, the stream moves
    /// past the hole (`.gap`) and delivers what it holds.
    public var maxBufferedBytesPerDirection: Int
    /// Out-of-order segments buffered per direction.
    public var maxBufferedSegmentsPerDirection: Int
    /// Connections and UDP flows tracked at once; past it the least recently used are forgotten (open ones with
    /// `.closed(reason: "evicted")`).
    public var maxConnections: Int
    /// Delivered bytes remembered per direction to compare retransmissions against (`tcp.overlap-mismatch`).
    /// 0 turns the comparison off.
    public var retainedBytesPerDirection: Int
    /// Seconds of capture time after which a silent open connection is closed (`.closed(reason: "idle")`);
    /// nil = never (only the LRU bound applies).
    public var idleTimeout: Double?
    /// Seconds of capture time a closed connection is remembered, so that late ACKs and retransmissions are not
    /// taken for a new connection.
    public var closedLinger: Double

    public init(maxBufferedBytesPerDirection: Int = 1 << 20, maxBufferedSegmentsPerDirection: Int = 1024,
                maxConnections: Int = 4096, retainedBytesPerDirection: Int = 16 * 1024,
                idleTimeout: Double? = 3600, closedLinger: Double = 120) {
        self.maxBufferedBytesPerDirection = maxBufferedBytesPerDirection
        self.maxBufferedSegmentsPerDirection = maxBufferedSegmentsPerDirection
        self.maxConnections = maxConnections
        self.retainedBytesPerDirection = retainedBytesPerDirection
        self.idleTimeout = idleTimeout
        self.closedLinger = closedLinger
    }

    public static let `default` = ReassemblyLimits()
}
