import DLMSWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytes of a serial line served over TCP by a terminal server (`dlmsdump --tcp-tap HOST:PORT`: ser2net in raw
/// mode, an RS-485/Ethernet converter, `socat TCP-LISTEN:2000 /dev/ttyUSB0,raw`). The tap only reads; it never
/// sends a byte.
///
/// When the connection drops (or cannot be made) `next()` says so with `.disconnected` and tries again after the
/// backoff delay, for as long as the stop flag allows; every wait is cut into slices of `LiveClock.pollInterval`.
/// Connects are non-blocking with a timeout, and TCP keep-alive (30 s idle, 3 probes 10 s apart on Linux) notices
/// a tap host that vanished without closing.
public final class TCPTapSource {
    private enum State {
        case waiting(until: UInt64)
        case connecting(fd: Int32, deadline: UInt64, peer: String)
        case connected(fd: Int32)
    }

    private var state: State = .waiting(until: 0)
    private let addresses: [SocketAddress]
    private let stop: StopFlag
    private let backoff: Backoff
    private let connectTimeout: Double
    private var delay: Double
    private var attempts = 0
    private var buffer: [UInt8]
    public let host: String
    public let port: UInt16
    /// Successful connections so far.
    public private(set) var connections = 0
    /// Bytes read over all connections.
    public private(set) var bytesRead = 0

    /// Resolves `host` now (an unknown host is an error at once); connects at the first `next()`.
    public init(host: String, port: UInt16, backoff: Backoff = Backoff(), connectTimeout: Double = 5,
                stop: StopFlag = StopFlag(), chunkSize: Int = 16384) throws(CaptureError) {
        self.host = host
        self.port = port
        self.stop = stop
        self.backoff = backoff
        self.connectTimeout = max(0.01, connectTimeout)
        delay = backoff.initial
        buffer = [UInt8](repeating: 0, count: max(1, min(chunkSize, 1 << 20)))
        addresses = try LiveSocket.resolve(host: host, port: port, kind: .stream, passive: false)
    }

    /// `HOST:PORT` or `[IPv6]:PORT`.
    public convenience init(address: String, backoff: Backoff = Backoff(), connectTimeout: Double = 5,
                            stop: StopFlag = StopFlag()) throws(CaptureError) {
        let (host, port) = try LiveSocket.parse(address, hostOptional: false)
        try self.init(host: host ?? "localhost", port: port, backoff: backoff, connectTimeout: connectTimeout,
                      stop: stop)
    }

    deinit { close() }

    /// Closes the connection; `next()` then returns nil.
    public func close() {
        switch state {
        case .connecting(let fd, _, _), .connected(let fd): closeDescriptor(fd)
        case .waiting: break
        }
        state = .waiting(until: UInt64.max)
    }

    /// The next event; nil once the stop flag is set (or after `close()`).
    public func next() throws(CaptureError) -> TapEvent? {
        while true {
            if stop.isSet {
                close()
                return nil
            }
            switch state {
            case .waiting(let until):
                if until == UInt64.max { return nil }
                let now = LiveClock.monotonicNanos()
                if now < until {
                    let left = (until - now + 999_999) / 1_000_000
                    _ = poll(nil, 0, Int32(min(UInt64(stop.waitBudget()), left)))
                    continue
                }
                if let event = startConnect() { return event }
            case .connecting(let fd, let deadline, let peer):
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let r = poll(&p, 1, stop.waitBudget())
                if r > 0 {
                    var err: Int32 = 0
                    var len = socklen_t(MemoryLayout<Int32>.size)
                    _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
                    if err == 0 { return connected(fd, peer: peer) }
                    closeDescriptor(fd)
                    return failed("connect to \(peer) failed: \(LiveSocket.errorText(err))", afterConnection: false)
                }
                if LiveClock.monotonicNanos() >= deadline {
                    closeDescriptor(fd)
                    return failed("connect to \(peer) timed out", afterConnection: false)
                }
            case .connected(let fd):
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    bytesRead += n
                    return .data(ByteChunk(bytes: Array(buffer[0..<n]), time: LiveClock.now()))
                }
                if n == 0 {
                    closeDescriptor(fd)
                    return failed("the tap \(host):\(port) closed the connection", afterConnection: true)
                }
                let e = errno
                if e == EAGAIN || e == EWOULDBLOCK || e == EINTR {
                    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    _ = poll(&p, 1, stop.waitBudget())
                    continue
                }
                closeDescriptor(fd)
                return failed("connection to the tap \(host):\(port) lost: \(LiveSocket.errorText(e))",
                              afterConnection: true)
            }
        }
    }

    // MARK: - Connection management

    private func startConnect() -> TapEvent? {
        let address = addresses[attempts % addresses.count]
        attempts += 1
        let peer = address.endpoint.description
        let fd = LiveSocket.open(family: address.family, kind: .stream)
        guard fd >= 0 else {
            return failed("cannot create a socket: \(LiveSocket.errorText(errno))", afterConnection: false)
        }
        let rc = address.withSockaddr { connect(fd, $0, $1) }
        if rc == 0 { return connected(fd, peer: peer) }
        let e = errno
        if e == EINPROGRESS || e == EINTR {
            let deadline = LiveClock.monotonicNanos() &+ UInt64(connectTimeout * 1e9)
            state = .connecting(fd: fd, deadline: deadline, peer: peer)
            return nil
        }
        closeDescriptor(fd)
        return failed("connect to \(peer) failed: \(LiveSocket.errorText(e))", afterConnection: false)
    }

    private func connected(_ fd: Int32, peer: String) -> TapEvent {
        LiveSocket.setOption(fd, SOL_SOCKET, SO_KEEPALIVE, 1)
        #if os(Linux)
        LiveSocket.setOption(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, 30)
        LiveSocket.setOption(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, 10)
        LiveSocket.setOption(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, 3)
        #endif
        connections += 1
        delay = backoff.initial
        state = .connected(fd: fd)
        return .connected(peer: peer, time: LiveClock.now())
    }

    /// Schedules the next attempt. A drop after a working connection retries after `initial`; each failed attempt
    /// doubles the delay up to `maximum`.
    private func failed(_ reason: String, afterConnection: Bool) -> TapEvent {
        if afterConnection { delay = backoff.initial }
        let wait = delay
        delay = min(backoff.maximum, delay * 2)
        state = .waiting(until: LiveClock.monotonicNanos() &+ UInt64(wait * 1e9))
        return .disconnected(reason: reason, time: LiveClock.now(), retryIn: wait)
    }
}

@available(*, unavailable) extension TCPTapSource: Sendable {}
