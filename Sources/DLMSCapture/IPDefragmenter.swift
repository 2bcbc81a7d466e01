import DLMSWire

/// Reassembles fragmented IPv4 and IPv6 datagrams for `PacketDecoder.decode(_:defragmenter:)`, bounded in
/// datagrams, bytes and capture time, as Wireshark's `ip.defragment` does by default.
///
/// Fragments are keyed by (source, destination, protocol, identification) (RFC 791 §3.2, RFC 8200 §4.5). The
/// first copy of overlapping bytes wins. A datagram is complete when the fragment without "more fragments" has
/// been seen and the bytes from 0 to its end are all present; it is then decoded in the frame of the fragment
/// that completed it. Datagrams still incomplete after `timeout` seconds of capture time, or pushed out by
/// `maxDatagrams`, are dropped and counted in `droppedDatagrams`.
public struct IPDefragmenter: Sendable {
    struct Key: Hashable, Sendable {
        var source: [UInt8]
        var destination: [UInt8]
        var proto: UInt8
        var identification: UInt32
    }

    struct Piece: Sendable {
        var offset: Int
        var bytes: ArraySlice<UInt8>
    }

    struct Datagram: Sendable {
        var pieces: [Piece] = []
        var bytes = 0
        /// Length of the whole payload, known once the last fragment arrived.
        var total: Int?
        var firstSeen: Timestamp?
        var order: UInt64
    }

    /// Datagrams being reassembled at once; past it the oldest is dropped.
    public var maxDatagrams: Int
    /// Largest reassembled payload (IPv4 and IPv6 without jumbograms cannot exceed 65535).
    public var maxDatagramBytes: Int
    /// Fragments per datagram.
    public var maxFragments: Int
    /// Seconds of capture time a datagram may wait for its missing fragments.
    public var timeout: Double
    /// Incomplete datagrams given up (timeout, table full, over a bound, inconsistent lengths).
    public private(set) var droppedDatagrams = 0

    private var table: [Key: Datagram] = [:]
    private var counter: UInt64 = 0

    public init(maxDatagrams: Int = 1024, maxDatagramBytes: Int = 65535, maxFragments: Int = 64,
                timeout: Double = 30) {
        self.maxDatagrams = maxDatagrams
        self.maxDatagramBytes = maxDatagramBytes
        self.maxFragments = maxFragments
        self.timeout = timeout
    }

    /// Datagrams waiting for fragments.
    public var pendingDatagrams: Int { table.count }

    /// Adds one fragment (`bytes` = its part of the IP payload, starting at `offset`); returns the whole payload
    /// once complete.
    mutating func add(_ key: Key, offset: Int, more: Bool, bytes: ArraySlice<UInt8>, time: Timestamp?) -> [UInt8]? {
        expire(now: time)
        counter &+= 1
        var d = table.removeValue(forKey: key) ?? Datagram(firstSeen: time, order: counter)
        let end = offset + bytes.count
        guard end <= maxDatagramBytes, d.pieces.count < maxFragments else {
            droppedDatagrams += 1
            return nil
        }
        if !more {
            // Two different "last" fragments, or data beyond the end: the datagram cannot be rebuilt.
            if let total = d.total, total != end {
                droppedDatagrams += 1
                return nil
            }
            d.total = end
        }
        if let total = d.total, end > total {
            droppedDatagrams += 1
            return nil
        }
        d.pieces.append(Piece(offset: offset, bytes: bytes))
        d.bytes += bytes.count
        if let whole = Self.assemble(d) { return whole }
        if table.count >= maxDatagrams, let oldest = table.min(by: { $0.value.order < $1.value.order })?.key {
            table[oldest] = nil
            droppedDatagrams += 1
        }
        table[key] = d
        return nil
    }

    /// The payload when the pieces cover 0..<total without a hole (first copy of overlapping bytes kept).
    private static func assemble(_ d: Datagram) -> [UInt8]? {
        guard let total = d.total else { return nil }
        let sorted = d.pieces.sorted { $0.offset < $1.offset }
        var covered = 0
        for p in sorted {
            if p.offset > covered { return nil }
            covered = max(covered, p.offset + p.bytes.count)
        }
        guard covered >= total else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(total)
        for p in sorted where p.offset + p.bytes.count > out.count {
            out.append(contentsOf: p.bytes.dropFirst(out.count - p.offset))
        }
        if out.count > total { out.removeLast(out.count - total) }
        return out
    }

    private mutating func expire(now: Timestamp?) {
        guard let now, !table.isEmpty else { return }
        let stale = table.filter { entry in
            guard let seen = entry.value.firstSeen else { return false }
            return now.seconds(since: seen) > timeout
        }
        for key in stale.keys {
            table[key] = nil
            droppedDatagrams += 1
        }
    }
}
