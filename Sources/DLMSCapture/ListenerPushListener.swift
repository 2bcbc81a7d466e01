import DLMSWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Receives what meters push (`dlmsdump --listen [HOST:]PORT [--udp]`): DataNotification and EventNotification
/// APDUs over the wrapper (IEC 62056-47), to a port the meter's push setup names (4059 by IANA; often another).
///
/// It only listens: it accepts TCP connections and reads datagrams, and **never sends anything** — no DLMS reply,
/// no application data (the kernel still completes the TCP handshake and acknowledges segments, as it must).
///
/// Its output is the `StreamEvent` vocabulary of `TCPReassembler`, so the analyzer drives it exactly like a
/// capture: one connection (TCP) or one peer (UDP) is one `ConnectionID` and one conversation.
/// - TCP: `.opened(id, .tcp, a: peer, b: local, initiator: peer)`, then `.data(id, from: peer, to: local)` per read
///   (in-order stream bytes), then `.closed(id, reason:)` when the peer closes or resets, on idle timeout, or at
///   `shutdown`.
/// - UDP: `.opened` at the first datagram of a peer, `.data` per datagram (one record: feed it with
///   `feedRecord`), `.closed` on idle timeout, when the flow table is full (the least recently active flow goes)
///   or at `shutdown`.
/// - `.notice(nil, code: "listen.refused", ...)` when a connection over `maxConnections` is turned away (closed
///   at once, unread).
///
/// `frame` in the events counts reads (1, 2, 3, ...): it locates a finding the way a frame number does.
/// Bounded: at most `maxConnections` connections or UDP flows, reads of at most 64 KiB.
public final class PushListener {
    public enum Transport: String, Sendable, CaseIterable { case tcp, udp }

    private struct Connection {
        var id: ConnectionID
        var fd: Int32
        var peer: Endpoint
        var lastActive: UInt64
    }

    private var listenFD: Int32 = -1
    private var connections: [Connection] = []
    /// UDP flows by peer.
    private var flows: [Endpoint: (id: ConnectionID, lastActive: UInt64)] = [:]
    private var pending: [StreamEvent] = []
    private var pendingHead = 0
    private var nextID = 1
    private var reads = 0
    private var buffer = [UInt8](repeating: 0, count: 65536)
    private let stop: StopFlag
    private let idleNanos: UInt64?

    public let transport: Transport
    public let maxConnections: Int
    /// The address actually bound (with the real port when 0 was asked for).
    public let local: Endpoint

    /// Binds `host` (nil: every address, IPv6 and IPv4) and `port` (0: any free port, see `local`).
    /// `idleTimeout`: close a connection or UDP flow silent for that many seconds (nil: never).
    public init(host: String? = nil, port: UInt16, transport: Transport = .tcp, maxConnections: Int = 256,
                idleTimeout: Double? = nil, stop: StopFlag = StopFlag()) throws(CaptureError) {
        self.transport = transport
        self.maxConnections = max(1, min(maxConnections, 4096))
        self.stop = stop
        idleNanos = idleTimeout.map { UInt64(max(0.001, min($0, 1e6)) * 1e9) }
        let kind: SocketKind = transport == .tcp ? .stream : .datagram
        let name = "\(host ?? "*"):\(port)"
        var candidates = try LiveSocket.resolve(host: host, port: port, kind: kind, passive: true)
        // For the wildcard prefer the IPv6 socket with IPV6_V6ONLY off: one socket for both families.
        if host == nil { candidates.sort { $0.family == AF_INET6 && $1.family != AF_INET6 } }
        var lastError: Int32 = 0
        var bound: Int32 = -1
        for address in candidates {
            let fd = LiveSocket.open(family: address.family, kind: kind)
            guard fd >= 0 else {
                lastError = errno
                continue
            }
            LiveSocket.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
            if address.family == AF_INET6 { LiveSocket.setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 0) }
            let ok = address.withSockaddr { bind(fd, $0, $1) } == 0
                && (transport == .udp || listen(fd, 64) == 0)
            if ok {
                bound = fd
                break
            }
            lastError = errno
            closeDescriptor(fd)
        }
        guard bound >= 0 else {
            let hint = lastError == EACCES ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)" : ""
            throw CaptureError("cannot listen on \(transport.rawValue) \(name): \(LiveSocket.errorText(lastError))"
                + hint)
        }
        listenFD = bound
        local = LiveSocket.localAddress(bound).endpoint
    }

    /// `--listen [HOST:]PORT`: binds HOST (or every address) and PORT.
    public convenience init(address: String, transport: Transport = .tcp, maxConnections: Int = 256,
                            idleTimeout: Double? = nil, stop: StopFlag = StopFlag()) throws(CaptureError) {
        let (host, port) = try PushListener.parseAddress(address)
        try self.init(host: host, port: port, transport: transport, maxConnections: maxConnections,
                      idleTimeout: idleTimeout, stop: stop)
    }

    /// Splits `[HOST:]PORT` (`4059`, `0.0.0.0:4059`, `[::1]:4059`); host nil means every address.
    public static func parseAddress(_ text: String) throws(CaptureError) -> (host: String?, port: UInt16) {
        try LiveSocket.parse(text, hostOptional: true)
    }

    deinit {
        for c in connections { closeDescriptor(c.fd) }
        if listenFD >= 0 { closeDescriptor(listenFD) }
    }

    /// Open TCP connections plus UDP flows.
    public var openCount: Int { connections.count + flows.count }

    /// The next event; nil once the stop flag is set (then call `shutdown`).
    public func next() throws(CaptureError) -> StreamEvent? {
        while true {
            if pendingHead < pending.count {
                let e = pending[pendingHead]
                pendingHead += 1
                if pendingHead == pending.count {
                    pending.removeAll(keepingCapacity: true)
                    pendingHead = 0
                }
                return e
            }
            if stop.isSet || listenFD < 0 { return nil }
            try waitAndRead()
        }
    }

    /// Closes the listening socket and every connection, returning their `.closed` events (reason: `reason`), so
    /// the analyzer can report what was unfinished. Undelivered events are returned first.
    public func shutdown(reason: String = "capture stopped") -> [StreamEvent] {
        var out = Array(pending[pendingHead...])
        pending.removeAll()
        pendingHead = 0
        let time = LiveClock.now()
        for c in connections {
            closeDescriptor(c.fd)
            out.append(.closed(c.id, reason: reason, frame: reads, time: time))
        }
        connections.removeAll()
        for (_, f) in flows.sorted(by: { $0.value.id < $1.value.id }) {
            out.append(.closed(f.id, reason: reason, frame: reads, time: time))
        }
        flows.removeAll()
        if listenFD >= 0 { closeDescriptor(listenFD) }
        listenFD = -1
        return out
    }

    // MARK: - I/O

    private func waitAndRead() throws(CaptureError) {
        var fds = [pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)]
        for c in connections { fds.append(pollfd(fd: c.fd, events: Int16(POLLIN), revents: 0)) }
        let r = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), stop.waitBudget()) }
        if r < 0 {
            if errno == EINTR { return }
            throw CaptureError("listener: poll failed: \(LiveSocket.errorText(errno))")
        }
        let now = LiveClock.monotonicNanos()
        if r > 0 {
            // Connections first (their indices shift once accept appends), the listening socket last.
            var closedIndices: [Int] = []
            for (i, p) in fds.enumerated().dropFirst() where p.revents != 0 {
                if !readConnection(i - 1, now: now) { closedIndices.append(i - 1) }
            }
            for i in closedIndices.reversed() { connections.remove(at: i) }
            if fds[0].revents != 0 {
                if transport == .tcp { acceptPending(now: now) } else { receiveDatagrams(now: now) }
            }
        }
        expireIdle(now: now)
    }

    /// Reads once from connection `index`; false when it closed.
    private func readConnection(_ index: Int, now: UInt64) -> Bool {
        let c = connections[index]
        let n = buffer.withUnsafeMutableBytes { read(c.fd, $0.baseAddress, $0.count) }
        if n > 0 {
            reads += 1
            connections[index].lastActive = now
            pending.append(.data(c.id, from: c.peer, to: local, bytes: Array(buffer[0..<n])[...],
                                 frame: reads, time: LiveClock.now()))
            return true
        }
        let e = errno
        if n < 0, e == EAGAIN || e == EWOULDBLOCK || e == EINTR { return true }
        closeDescriptor(c.fd)
        let reason = n == 0 ? "closed by \(c.peer)" : e == ECONNRESET ? "reset by \(c.peer)"
            : "read failed: \(LiveSocket.errorText(e))"
        pending.append(.closed(c.id, reason: reason, frame: reads, time: LiveClock.now()))
        return false
    }

    private func acceptPending(now: UInt64) {
        // A bounded number per wake-up, so a connection flood cannot starve the open connections.
        for _ in 0..<64 {
            var peer = SocketAddress()
            var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &peer.storage) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listenFD, $0, &len) }
            }
            guard fd >= 0 else { return }
            peer.length = len
            let endpoint = peer.endpoint
            let time = LiveClock.now()
            guard connections.count < maxConnections else {
                closeDescriptor(fd)
                pending.append(.notice(nil, code: "listen.refused",
                                       message: "connection from \(endpoint) refused: \(maxConnections) "
                                           + "connections are open", frame: reads, time: time))
                continue
            }
            LiveSocket.setNonBlocking(fd)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            let id = ConnectionID(nextID)
            nextID += 1
            connections.append(Connection(id: id, fd: fd, peer: endpoint, lastActive: now))
            pending.append(.opened(id, proto: .tcp, a: endpoint, b: local, initiator: endpoint, frame: reads,
                                   time: time))
        }
    }

    private func receiveDatagrams(now: UInt64) {
        for _ in 0..<64 {
            var peer = SocketAddress()
            var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = buffer.withUnsafeMutableBytes { raw in
                withUnsafeMutablePointer(to: &peer.storage) { p in
                    p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        recvfrom(listenFD, raw.baseAddress, raw.count, 0, $0, &len)
                    }
                }
            }
            guard n >= 0 else { return }
            peer.length = len
            let endpoint = peer.endpoint
            let time = LiveClock.now()
            reads += 1
            let id: ConnectionID
            if let flow = flows[endpoint] {
                id = flow.id
            } else {
                if flows.count >= maxConnections,
                   let oldest = flows.min(by: { $0.value.lastActive < $1.value.lastActive }) {
                    flows[oldest.key] = nil
                    pending.append(.closed(oldest.value.id, reason: "flow table full (\(maxConnections) peers)",
                                           frame: reads, time: time))
                }
                id = ConnectionID(nextID)
                nextID += 1
                pending.append(.opened(id, proto: .udp, a: endpoint, b: local, initiator: endpoint, frame: reads,
                                       time: time))
            }
            flows[endpoint] = (id, now)
            // A copy of just the datagram: a slice of `buffer` would force a 64 KiB copy at the next receive.
            pending.append(.data(id, from: endpoint, to: local, bytes: Array(buffer[0..<n])[...], frame: reads,
                                 time: time))
        }
    }

    private func expireIdle(now: UInt64) {
        guard let idleNanos else { return }
        let time = LiveClock.now()
        var kept: [Connection] = []
        for c in connections {
            if now >= c.lastActive, now - c.lastActive >= idleNanos {
                closeDescriptor(c.fd)
                pending.append(.closed(c.id, reason: "idle timeout", frame: reads, time: time))
            } else {
                kept.append(c)
            }
        }
        connections = kept
        for (peer, f) in flows where now >= f.lastActive && now - f.lastActive >= idleNanos {
            flows[peer] = nil
            pending.append(.closed(f.id, reason: "idle timeout", frame: reads, time: time))
        }
    }
}

@available(*, unavailable) extension PushListener: Sendable {}
