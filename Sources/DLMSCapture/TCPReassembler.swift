import DLMSWire

/// Turns TCP segments and UDP datagrams into per-connection, per-direction byte streams (`StreamEvent`s).
///
/// TCP, per connection and direction:
/// - bytes are delivered in sequence order, exactly once: a retransmission delivers only the bytes not delivered
///   yet, and retransmitted bytes that differ from those delivered first give a `tcp.overlap-mismatch` notice
///   (the first copy wins, as in Wireshark's default);
/// - out-of-order segments wait in a bounded queue (`ReassemblyLimits`);
/// - the stream moves past missing bytes, with a `.gap(missing:)`, when the peer acknowledges beyond them, when
///   the queue is over its bound, at FIN/RST close and at `finish()` with data queued after a hole, and after the
///   bytes a truncated frame did not keep (with a `capture.truncated` notice);
/// - a capture that starts mid-connection starts each direction at its first segment; the SYN / SYN-ACK, when
///   present, give the initiator; FIN in both directions or a RST closes (`.closed`), and a new SYN on a closed
///   (or reused) 4-tuple opens a new connection with a new ID.
///
/// UDP: each datagram is one `.data` event on the flow of its 4-tuple, which gets a ConnectionID as well.
///
/// Connections are numbered from 1 in order of first appearance. Every event carries the frame number and time
/// of the packet whose arrival made it happen (for `finish()`, the last packet seen). Memory is bounded: closed
/// connections are forgotten after `closedLinger`, silent ones after `idleTimeout`, and beyond `maxConnections`
/// the least recently used ones are evicted (`.closed(reason: "evicted")`).
public struct TCPReassembler: Sendable {
    struct FlowKey: Hashable {
        var proto: UInt8
        var lo: Endpoint
        var hi: Endpoint

        init(_ proto: IPProtocol, _ x: Endpoint, _ y: Endpoint) {
            self.proto = proto.rawValue
            if TCPReassembler.precedes(x, y) { lo = x; hi = y } else { lo = y; hi = x }
        }

        /// Fewer words than the synthesized hash (this runs for every packet); equality compares every field.
        func hash(into h: inout Hasher) {
            h.combine(lo.high ^ hi.high.byteSwapped)
            h.combine(lo.low ^ hi.low.byteSwapped ^ UInt64(lo.port) << 16 ^ UInt64(hi.port) ^ UInt64(proto) << 40)
        }
    }

    struct Connection {
        var id: ConnectionID
        var key: FlowKey
        var proto: IPProtocol
        /// `a` is the source of the first packet seen; direction 0 is a → b.
        var a: Endpoint
        var b: Endpoint
        /// Direction 0 (a → b) and 1 (b → a), stored inline: an array of two cost a uniqueness check (and its
        /// bounds checks) on every access of a segment.
        var forward = StreamDirection()
        var backward = StreamDirection()
        var closed = false
        var lastUse: UInt64 = 0
        var lastTime: Timestamp?
    }

    public let limits: ReassemblyLimits
    private var table: [FlowKey: Int] = [:]
    private var slots: [Connection?] = []
    private var freeSlots: [Int] = []
    private var nextID = 1
    private var tick: UInt64 = 0
    private var lastFrame = 0
    private var lastTime: Timestamp?
    private var lastSweep: Timestamp?
    /// The flow of the last lookup and its slot (`lookup`); forgotten whenever a slot is freed.
    private var recentKey: FlowKey?
    private var recentSlot = 0

    public init(limits: ReassemblyLimits = .default) {
        self.limits = limits
    }

    /// Connections and flows currently tracked (open or lingering closed).
    public var trackedConnections: Int { table.count }

    // MARK: - Packets

    public mutating func process(_ p: Packet) -> [StreamEvent] {
        var out: [StreamEvent] = []
        process(p, into: &out)
        return out
    }

    /// `process(_:)` appending to the caller's array: a caller that reuses one array (emptied, capacity kept)
    /// allocates nothing per packet for the events.
    public mutating func process(_ p: Packet, into out: inout [StreamEvent]) {
        lastFrame = p.frame
        if let t = p.time { lastTime = t }
        tick &+= 1
        sweep(&out)
        let key = FlowKey(p.proto, p.source, p.destination)
        switch p.proto {
        case .udp: processUDP(p, key, &out)
        case .tcp: processTCP(p, key, &out)
        }
    }

    /// End of the capture: every open connection delivers what it holds (reporting holes) and is closed with
    /// reason "end of capture", in ID order.
    public mutating func finish() -> [StreamEvent] {
        var out: [StreamEvent] = []
        let open = slots.indices.filter { slots[$0].map { !$0.closed } ?? false }
            .sorted { (slots[$0]?.id.value ?? 0) < (slots[$1]?.id.value ?? 0) }
        for s in open { close(slot: s, reason: "end of capture", &out) }
        table.removeAll()
        slots.removeAll()
        freeSlots.removeAll()
        recentKey = nil
        return out
    }

    private mutating func processUDP(_ p: Packet, _ key: FlowKey, _ out: inout [StreamEvent]) {
        let s = lookup(key) ?? open(p, key, initiator: nil, &out)
        // Mutated in place in its slot (optional chaining on the slot: no copy of the connection's buffers).
        slots[s]?.receiveDatagram(p, tick: tick, &out)
    }

    @inline(__always)
    private mutating func processTCP(_ p: Packet, _ key: FlowKey, _ out: inout [StreamEvent]) {
        guard let tcp = p.tcp else { return }
        let opening = tcp.syn && !tcp.ack
        if let s = lookup(key) {
            // One mutating call on the slot (optional chaining): the connection is neither copied out nor back.
            switch slots[s]?.arrive(p, tcp, opening: opening, tick: tick, limits: limits, &out) {
            case nil:
                return
            case .late?:
                return
            case .received(let finished)?:
                if tcp.rst {
                    close(slot: s, reason: "reset", &out)
                } else if finished {
                    close(slot: s, reason: "fin", &out)
                }
                return
            case .reused(let wasClosed)?:
                if !wasClosed { close(slot: s, reason: "reused", &out) }
                remove(slot: s)
            }
        }
        guard !tcp.rst else { return }  // a RST for a connection we never saw opens nothing
        let initiator = opening ? p.source : (tcp.syn ? p.destination : nil)
        let s = open(p, key, initiator: initiator, &out)
        guard let finished = slots[s]?.receiveSegment(p, tcp, tick: tick, limits: limits, &out) else { return }
        if finished { close(slot: s, reason: "fin", &out) }
    }

    // MARK: - Table

    private mutating func open(_ p: Packet, _ key: FlowKey, initiator: Endpoint?, _ out: inout [StreamEvent])
        -> Int
    {
        if table.count >= limits.maxConnections { evict(&out) }
        let id = ConnectionID(nextID)
        nextID += 1
        let conn = Connection(id: id, key: key, proto: p.proto, a: p.source, b: p.destination, lastUse: tick,
                              lastTime: p.time)
        let s: Int
        if let free = freeSlots.popLast() {
            s = free
            slots[s] = conn
        } else {
            s = slots.count
            slots.append(conn)
        }
        table[key] = s
        out.append(.opened(id, proto: p.proto, a: p.source, b: p.destination, initiator: initiator, frame: p.frame,
                           time: p.time))
        return s
    }

    /// Flushes both directions and reports the close; the slot stays (closed) until forgotten.
    private mutating func close(slot s: Int, reason: String, _ out: inout [StreamEvent]) {
        guard var conn = slots[s], !conn.closed else { return }
        slots[s] = nil
        let p = (frame: lastFrame, time: lastTime)
        if conn.proto == .tcp, conn.forward.started {
            let c = DirectionContext(id: conn.id, from: conn.a, to: conn.b, frame: p.frame, time: p.time,
                                     limits: limits)
            conn.forward.flush(c, &out)
        }
        if conn.proto == .tcp, conn.backward.started {
            let c = DirectionContext(id: conn.id, from: conn.b, to: conn.a, frame: p.frame, time: p.time,
                                     limits: limits)
            conn.backward.flush(c, &out)
        }
        // Drop the buffers now: a closed connection only needs to be recognised.
        conn.forward = StreamDirection()
        conn.backward = StreamDirection()
        conn.closed = true
        slots[s] = conn
        out.append(.closed(conn.id, reason: reason, frame: p.frame, time: p.time))
    }

    /// The slot of `key`. The last flow looked up is remembered: consecutive packets nearly always belong to the
    /// same connection, and comparing two keys costs less than hashing one.
    @inline(__always)
    private mutating func lookup(_ key: FlowKey) -> Int? {
        if let k = recentKey, k == key { return recentSlot }
        guard let s = table[key] else { return nil }
        recentKey = key
        recentSlot = s
        return s
    }

    private mutating func remove(slot s: Int) {
        recentKey = nil
        guard let conn = slots[s] else { return }
        table[conn.key] = nil
        slots[s] = nil
        freeSlots.append(s)
    }

    /// Forgets the least recently used eighth of the table (closed connections first), so that the cost of a
    /// sort is paid once per many new connections.
    private mutating func evict(_ out: inout [StreamEvent]) {
        var candidates: [(slot: Int, closed: Bool, use: UInt64)] = []
        candidates.reserveCapacity(table.count)
        for (s, conn) in slots.enumerated() {
            if let conn { candidates.append((s, conn.closed, conn.lastUse)) }
        }
        candidates.sort { $0.closed != $1.closed ? $0.closed : $0.use < $1.use }
        let count = max(1, limits.maxConnections / 8)
        let victims = candidates.prefix(count).sorted { $0.slot < $1.slot }
        for v in victims {
            close(slot: v.slot, reason: "evicted", &out)
            remove(slot: v.slot)
        }
    }

    /// Once per second of capture time: forgets closed connections after `closedLinger` and closes idle ones.
    /// The check is inlined into `process`; the sweep itself is not.
    @inline(__always)
    private mutating func sweep(_ out: inout [StreamEvent]) {
        guard let now = lastTime else { return }
        if let last = lastSweep, now.seconds(since: last) < 1 { return }
        sweep(now: now, &out)
    }

    @inline(never)
    private mutating func sweep(now: Timestamp, _ out: inout [StreamEvent]) {
        lastSweep = now
        var expired: [(slot: Int, id: Int, closed: Bool)] = []
        for (s, conn) in slots.enumerated() {
            guard let conn, let seen = conn.lastTime else { continue }
            let idle = now.seconds(since: seen)
            if conn.closed, idle > limits.closedLinger {
                expired.append((s, conn.id.value, true))
            } else if !conn.closed, let timeout = limits.idleTimeout, idle > timeout {
                expired.append((s, conn.id.value, false))
            }
        }
        for e in expired.sorted(by: { $0.id < $1.id }) {
            if !e.closed { close(slot: e.slot, reason: "idle", &out) }
            remove(slot: e.slot)
        }
    }

    /// A total order on endpoints, so that both directions of a flow share one key.
    static func precedes(_ x: Endpoint, _ y: Endpoint) -> Bool {
        x < y
    }
}

extension TCPReassembler.Connection {
    static func notices(_ p: Packet, _ id: ConnectionID, _ out: inout [StreamEvent]) {
        if p.truncated {
            out.append(.notice(id, code: "capture.truncated",
                               message: "frame \(p.frame) was cut by the snap length: \(p.missingBytes) of "
                                   + "\(p.payload.count + p.missingBytes) payload bytes \(p.source) → "
                                   + "\(p.destination) were not captured",
                               frame: p.frame, time: p.time))
        }
        if p.fragmented {
            out.append(.notice(id, code: "ip.fragmented",
                               message: "frame \(p.frame) is the first fragment of an IP datagram; the other "
                                   + "fragments are not reassembled",
                               frame: p.frame, time: p.time))
        }
    }

    /// One UDP datagram of this flow.
    mutating func receiveDatagram(_ p: Packet, tick: UInt64, _ out: inout [StreamEvent]) {
        lastUse = tick
        lastTime = p.time ?? lastTime
        Self.notices(p, id, &out)
        if !p.payload.isEmpty {
            out.append(.data(id, from: p.source, to: p.destination, bytes: p.payload, frame: p.frame, time: p.time))
        }
        if p.missingBytes > 0 {
            out.append(.gap(id, from: p.source, to: p.destination, missing: p.missingBytes, frame: p.frame,
                            time: p.time))
        }
    }

    enum Arrival {
        /// A late ACK, FIN or retransmission of a closed connection.
        case late
        /// A SYN on a closed connection's 4-tuple, or one with another initial sequence number: a new connection.
        case reused(wasClosed: Bool)
        /// Taken by this connection; `finished`: both directions have seen their FIN.
        case received(finished: Bool)
    }

    /// A TCP segment on this connection's 4-tuple: a new connection's SYN is left to the caller, the rest taken.
    @inline(__always)
    mutating func arrive(_ p: Packet, _ tcp: TCPHeader, opening: Bool, tick: UInt64, limits: ReassemblyLimits,
                         _ out: inout [StreamEvent]) -> Arrival {
        if opening {
            let started = a == p.source ? forward.started : backward.started
            let isn = a == p.source ? forward.isn : backward.isn
            if closed || (started && isn != tcp.sequence) {
                return .reused(wasClosed: closed)
            }
        }
        if closed {
            lastUse = tick
            return .late
        }
        return .received(finished: receiveSegment(p, tcp, tick: tick, limits: limits, &out))
    }

    /// One TCP segment of this connection; returns true when both directions have seen their FIN.
    mutating func receiveSegment(_ p: Packet, _ tcp: TCPHeader, tick: UInt64, limits: ReassemblyLimits,
                                 _ out: inout [StreamEvent]) -> Bool {
        lastUse = tick
        if let t = p.time { lastTime = t }
        if p.truncated || p.fragmented { Self.notices(p, id, &out) }
        // Both directions are passed inout (distinct stored properties): the segment's own and the peer's.
        if a == p.source {
            Self.segment(p, tcp, &forward, &backward, id: id, from: a, to: b, limits: limits, &out)
        } else {
            Self.segment(p, tcp, &backward, &forward, id: id, from: b, to: a, limits: limits, &out)
        }
        return forward.finAt != nil && backward.finAt != nil
    }

    /// A segment from `from` to `to`: `own` is its direction, `peer` the other one (which its ACK may move on).
    /// A pure ACK that moves nothing builds no context and touches no buffer.
    @inline(__always)
    static func segment(_ p: Packet, _ tcp: TCPHeader, _ own: inout StreamDirection, _ peer: inout StreamDirection,
                        id: ConnectionID, from: Endpoint, to: Endpoint, limits: ReassemblyLimits,
                        _ out: inout [StreamEvent]) {
        // The peer acknowledges up to `ack`: bytes before it that the capture never showed are lost.
        if tcp.ack, peer.started, !peer.finished {
            let target = peer.position(tcp.acknowledgement)
            let ahead = target - peer.next
            if ahead > 0, ahead <= StreamDirection.maximumAhead {
                let back = DirectionContext(id: id, from: to, to: from, frame: p.frame, time: p.time, limits: limits)
                peer.skip(to: target, back, &out)
            }
        }

        if !own.started { own.start(sequence: tcp.sequence, syn: tcp.syn) }
        let carries = !tcp.rst && (!p.payload.isEmpty || p.missingBytes > 0)
        let fin = tcp.fin && !tcp.rst && own.finAt == nil
        guard carries || fin else { return }
        let start = own.position(tcp.syn ? tcp.sequence &+ 1 : tcp.sequence)
        let c = DirectionContext(id: id, from: from, to: to, frame: p.frame, time: p.time, limits: limits)
        if carries {
            own.accept(start: start, bytes: p.payload, missing: p.missingBytes, c, &out)
        }
        if fin {
            own.finAt = start + Int64(p.payload.count) + Int64(p.missingBytes)
            own.drain(c, &out)
        }
    }
}
