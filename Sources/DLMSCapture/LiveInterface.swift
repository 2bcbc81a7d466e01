/// One capturable interface, as `tcpdump -D` lists it: `1.eth0 (Ethernet port) [Up, Running, Connected]`.
public struct LiveInterface: Sendable, Hashable {
    public var name: String
    /// libpcap's description ("" when it has none; most Linux interfaces).
    public var description: String
    /// "Loopback", "Up", "Running", "Wireless", "Connected", "Disconnected".
    public var flags: [String]
    public init(name: String, description: String, flags: [String]) {
        self.name = name
        self.description = description
        self.flags = flags
    }

    /// The `-D` line for entry `index` (1-based): `2.lo [Loopback, Up, Running]`.
    public func listing(index: Int) -> String {
        var line = "\(index).\(name)"
        if !description.isEmpty { line += " (\(description))" }
        if !flags.isEmpty { line += " [" + flags.joined(separator: ", ") + "]" }
        return line
    }
}

/// Counters of a live capture (`pcap_stats`), for the summary: dropped packets mean missing bytes, which the TCP
/// reassembler then reports as gaps.
public struct CaptureStatistics: Sendable, Hashable {
    /// Packets that passed the filter (on Linux: including those dropped).
    public var received: Int
    /// Dropped because the capture buffer was full (the analyzer did not keep up).
    public var dropped: Int
    /// Dropped by the interface or its driver.
    public var droppedByInterface: Int
    public init(received: Int, dropped: Int, droppedByInterface: Int) {
        self.received = received
        self.dropped = dropped
        self.droppedByInterface = droppedByInterface
    }
}
