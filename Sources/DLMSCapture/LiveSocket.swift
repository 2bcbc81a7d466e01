import DLMSWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Addresses

/// A resolved socket address (`sockaddr_in` or `sockaddr_in6` inside a `sockaddr_storage`).
struct SocketAddress {
    var storage = sockaddr_storage()
    var length: socklen_t = 0

    var family: Int32 { Int32(storage.ss_family) }

    /// The address as an `Endpoint`; an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, what a dual-stack listener
    /// sees from IPv4 peers) becomes the plain IPv4 endpoint.
    var endpoint: Endpoint {
        var s = storage
        switch family {
        case AF_INET:
            return withUnsafeBytes(of: &s) { raw in
                raw.withMemoryRebound(to: sockaddr_in.self) { p -> Endpoint in
                    guard let a = p.first else { return Endpoint(address: [], port: 0) }
                    let bytes = withUnsafeBytes(of: a.sin_addr) { Array($0) }
                    return Endpoint(address: bytes, port: UInt16(bigEndian: a.sin_port))
                }
            }
        case AF_INET6:
            return withUnsafeBytes(of: &s) { raw in
                raw.withMemoryRebound(to: sockaddr_in6.self) { p -> Endpoint in
                    guard let a = p.first else { return Endpoint(address: [], port: 0) }
                    let bytes = withUnsafeBytes(of: a.sin6_addr) { Array($0) }
                    let port = UInt16(bigEndian: a.sin6_port)
                    let mapped: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]
                    if bytes.count == 16, bytes.prefix(12).elementsEqual(mapped) {
                        return Endpoint(address: Array(bytes.suffix(4)), port: port)
                    }
                    return Endpoint(address: bytes, port: port)
                }
            }
        default:
            return Endpoint(address: [], port: 0)
        }
    }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var s = storage
        return withUnsafePointer(to: &s) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}

enum SocketKind {
    case stream, datagram

    var rawValue: Int32 {
        #if os(Linux)
        switch self {
        case .stream: Int32(SOCK_STREAM.rawValue)
        case .datagram: Int32(SOCK_DGRAM.rawValue)
        }
        #else
        switch self {
        case .stream: SOCK_STREAM
        case .datagram: SOCK_DGRAM
        }
        #endif
    }
}

enum LiveSocket {
    /// Splits `HOST:PORT`, `[V6]:PORT` or (with `hostOptional`) a bare `PORT` into host and port.
    static func parse(_ text: String, hostOptional: Bool) throws(CaptureError) -> (host: String?, port: UInt16) {
        var host: Substring?
        var portText = Substring(text)
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw CaptureError("bad address \"\(text)\"") }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw CaptureError("bad address \"\(text)\": a port must follow ]") }
            portText = rest.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host?.contains(":") == true {
                throw CaptureError("bad address \"\(text)\": write IPv6 addresses as [ADDR]:PORT")
            }
        }
        guard let port = UInt16(portText) else { throw CaptureError("bad port in \"\(text)\"") }
        if host == nil || host?.isEmpty == true {
            guard hostOptional else { throw CaptureError("bad address \"\(text)\": expected HOST:PORT") }
            return (nil, port)
        }
        return (host.map(String.init), port)
    }

    /// getaddrinfo(3): the addresses of `host` (nil: the wildcard address, for a listener) for `port`.
    static func resolve(host: String?, port: UInt16, kind: SocketKind, passive: Bool) throws(CaptureError)
        -> [SocketAddress]
    {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = kind.rawValue
        hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0 else {
            throw CaptureError("cannot resolve \(host ?? "*"): \(String(cString: gai_strerror(rc)))")
        }
        defer { if let list { freeaddrinfo(list) } }
        var out: [SocketAddress] = []
        var cursor = list
        while let ai = cursor, out.count < 64 {
            if let addr = ai.pointee.ai_addr, Int(ai.pointee.ai_addrlen) <= MemoryLayout<sockaddr_storage>.size {
                var a = SocketAddress()
                a.length = ai.pointee.ai_addrlen
                withUnsafeMutableBytes(of: &a.storage) { dst in
                    dst.copyMemory(from: UnsafeRawBufferPointer(start: addr, count: Int(ai.pointee.ai_addrlen)))
                }
                out.append(a)
            }
            cursor = ai.pointee.ai_next
        }
        guard !out.isEmpty else { throw CaptureError("cannot resolve \(host ?? "*"): no address") }
        return out
    }

    /// A non-blocking, close-on-exec socket, or -1.
    static func open(family: Int32, kind: SocketKind) -> Int32 {
        let fd = socket(family, kind.rawValue, 0)
        guard fd >= 0 else { return -1 }
        setNonBlocking(fd)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return fd
    }

    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var v = value
        _ = setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size))
    }

    /// The local address of a bound socket.
    static func localAddress(_ fd: Int32) -> SocketAddress {
        var a = SocketAddress()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &a.storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        a.length = len
        return a
    }

    static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }
}
