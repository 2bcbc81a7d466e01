internal import CPcap
import DLMSWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Frames captured live from a network interface through libpcap (`dlmsdump -i IFACE`), as tcpdump captures them.
///
/// The handle is created with `pcap_create` and activated in **immediate mode** (each packet is delivered as soon
/// as it arrives, so an APDU appears when it completes, not when a kernel buffer fills), then put in non-blocking
/// mode: `next()` waits with `poll(2)` on `pcap_get_selectable_fd` for at most `LiveClock.pollInterval` at a time
/// and checks its `StopFlag` in between, so SIGINT, `--duration` and `-c` stop it within about 100 ms on a quiet
/// interface.
///
/// Frames are numbered 1, 2, 3, ... in arrival order (of those that passed the kernel BPF filter, as tcpdump
/// numbers them). Each frame is copied once out of libpcap's ring buffer.
///
/// The class owns the `pcap_t`; `deinit` closes it. No C type leaves it.
public final class LiveInterfaceSource: FrameSource {
    private var handle: OpaquePointer?
    private let selectableFD: Int32
    private let stop: StopFlag
    private var counter = 0

    public let interface: String
    /// The DLT_* link type of the interface (Linux `lo` and Ethernet: 1; `any`: 276 or 113).
    public let linkType: Int32
    public let snapshotLength: Int32
    /// A non-fatal remark from activation (promiscuous mode not supported, ...), for stderr.
    public private(set) var warning: String?

    /// Opens `interface` (`any` for all on Linux). `filter`: a BPF expression (tcpdump syntax) installed in the
    /// kernel, or nil. `snaplen`: bytes kept per frame (tcpdump's default 262144). `promiscuous`: false for `-p`.
    /// `immediate`: deliver each packet at once (the default; false lets libpcap batch them). `bufferSize`: the
    /// kernel ring in bytes. In immediate mode Linux libpcap uses TPACKET_V2, whose ring has fixed slots of the
    /// frame size (up to the MTU: 64 KiB on `lo`), so libpcap's 2 MiB default holds only 32 frames of `lo` and a
    /// burst overflows it; 16 MiB holds 256 of `lo` and about 10,000 of Ethernet.
    /// Errors are one line: "capture on lo needs root or CAP_NET_RAW", "no such interface: eth9", a bad filter.
    public init(interface: String, filter: String? = nil, snaplen: Int32 = 262_144, promiscuous: Bool = true,
                immediate: Bool = true, bufferSize: Int32 = 16 << 20, stop: StopFlag = StopFlag())
        throws(CaptureError)
    {
        self.interface = interface
        self.stop = stop
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard let h = pcap_create(interface, &errbuf) else {
            throw CaptureError("cannot capture on \(interface): \(LiveInterfaceSource.text(errbuf))")
        }
        func fail(_ message: String) -> CaptureError {
            pcap_close(h)
            return CaptureError(message)
        }
        _ = pcap_set_snaplen(h, max(64, min(snaplen, 262_144)))
        _ = pcap_set_promisc(h, promiscuous ? 1 : 0)
        _ = pcap_set_immediate_mode(h, immediate ? 1 : 0)
        _ = pcap_set_buffer_size(h, max(1 << 20, bufferSize))
        // Without immediate mode libpcap returns a batch when this timeout expires.
        _ = pcap_set_timeout(h, Int32(LiveClock.pollInterval))
        let rc = pcap_activate(h)
        if rc < 0 {
            let detail = String(cString: pcap_geterr(h))
            switch rc {
            case PCAP_ERROR_PERM_DENIED:
                throw fail("capture on \(interface) needs root or CAP_NET_RAW (\(detail))")
            case PCAP_ERROR_NO_SUCH_DEVICE:
                throw fail("no such interface: \(interface) (dlmsdump -D lists them)")
            case PCAP_ERROR_IFACE_NOT_UP:
                throw fail("interface \(interface) is down")
            case PCAP_ERROR_PROMISC_PERM_DENIED:
                throw fail("promiscuous capture on \(interface) is not permitted; use -p")
            default:
                let text = detail.isEmpty ? String(cString: pcap_statustostr(rc)) : detail
                throw fail("cannot capture on \(interface): \(text)")
            }
        }
        if rc > 0 {
            let detail = String(cString: pcap_geterr(h))
            warning = "\(interface): \(detail.isEmpty ? String(cString: pcap_statustostr(rc)) : detail)"
        }
        linkType = pcap_datalink(h)
        snapshotLength = pcap_snapshot(h)
        guard PcapSource.supportedLinkTypes.contains(linkType) else {
            let name = pcap_datalink_val_to_name(linkType).map { String(cString: $0) } ?? "unknown"
            throw fail("\(interface): unsupported link type \(linkType) (\(name)); supported: Ethernet, Linux "
                + "cooked (SLL, SLL2), BSD loopback (NULL, LOOP), raw IP")
        }
        if let filter, !filter.isEmpty {
            var program = bpf_program()
            guard pcap_compile(h, &program, filter, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
                throw fail("bad capture filter \"\(filter)\": \(String(cString: pcap_geterr(h)))")
            }
            let set = pcap_setfilter(h, &program)
            pcap_freecode(&program)
            guard set == 0 else {
                throw fail("cannot install the filter on \(interface): \(String(cString: pcap_geterr(h)))")
            }
        }
        guard pcap_setnonblock(h, 1, &errbuf) == 0 else {
            throw fail("\(interface): cannot switch to non-blocking mode: \(LiveInterfaceSource.text(errbuf))")
        }
        let fd = pcap_get_selectable_fd(h)
        guard fd >= 0 else { throw fail("\(interface): no selectable descriptor for this interface") }
        selectableFD = fd
        handle = h
    }

    deinit { close() }

    /// Releases the handle; `next()` then returns nil. Read `statistics` before closing.
    public func close() {
        if let h = handle { pcap_close(h) }
        handle = nil
    }

    /// The next frame as it arrives; nil once the stop flag is set (or after `close()`).
    public func next() throws(CaptureError) -> CapturedFrame? {
        try next(deadline: nil)
    }

    /// The next frame if one arrives within `timeout` seconds (0: only one already captured); nil otherwise, or
    /// once the stop flag is set. For callers that multiplex several sources or do work between frames.
    public func next(timeout: Double) throws(CaptureError) -> CapturedFrame? {
        try next(deadline: LiveClock.monotonicNanos() &+ UInt64(max(0, min(timeout, 1e6)) * 1e9))
    }

    private func next(deadline: UInt64?) throws(CaptureError) -> CapturedFrame? {
        while true {
            guard let h = handle, !stop.isSet else { return nil }
            var header: UnsafeMutablePointer<pcap_pkthdr>?
            var data: UnsafePointer<UInt8>?
            let rc = pcap_next_ex(h, &header, &data)
            switch rc {
            case 1:
                guard let header, let data else { continue }
                counter += 1
                let caplen = Int(header.pointee.caplen)
                // The one copy: libpcap reuses its buffer on the next call.
                let bytes = Array(UnsafeBufferPointer(start: data, count: caplen))
                let ts = header.pointee.ts
                return CapturedFrame(
                    number: counter,
                    time: Timestamp(seconds: Int64(ts.tv_sec), micros: Int32(truncatingIfNeeded: ts.tv_usec)),
                    linkType: linkType, data: bytes, originalLength: max(Int(header.pointee.len), caplen))
            case 0:
                // Nothing buffered: wait for the descriptor, or for the next look at the stop flag.
                var wait = stop.waitBudget()
                if let deadline {
                    let now = LiveClock.monotonicNanos()
                    guard now < deadline else { return nil }
                    wait = Int32(min(UInt64(wait), (deadline - now + 999_999) / 1_000_000))
                }
                var p = pollfd(fd: selectableFD, events: Int16(POLLIN), revents: 0)
                let n = poll(&p, 1, wait)
                if n < 0, errno != EINTR {
                    throw CaptureError("\(interface): poll failed: \(String(cString: strerror(errno)))")
                }
            case PCAP_ERROR_BREAK:
                return nil
            default:
                let message = String(cString: pcap_geterr(h))
                // The interface went away (unplugged USB adapter, deleted VLAN): libpcap reports it here.
                throw CaptureError("capture on \(interface) failed: \(message)")
            }
        }
    }

    /// Frames returned so far (the last frame number).
    public var framesCaptured: Int { counter }

    /// Kernel counters (`pcap_stats`): packets received by the filter, dropped because the buffer was full, and
    /// dropped by the interface (0 where the platform does not say). nil after `close()` or on failure.
    public var statistics: CaptureStatistics? {
        guard let h = handle else { return nil }
        var s = pcap_stat()
        guard pcap_stats(h, &s) == 0 else { return nil }
        return CaptureStatistics(received: Int(s.ps_recv), dropped: Int(s.ps_drop),
                                 droppedByInterface: Int(s.ps_ifdrop))
    }

    // MARK: - Interfaces

    /// The interfaces libpcap can capture on (`pcap_findalldevs`), in its order (up and running first), for `-D`.
    public static func listInterfaces() throws(CaptureError) -> [LiveInterface] {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        var list: UnsafeMutablePointer<pcap_if_t>?
        guard pcap_findalldevs(&list, &errbuf) == 0 else {
            throw CaptureError("cannot list interfaces: \(text(errbuf))")
        }
        defer { if let list { pcap_freealldevs(list) } }
        var result: [LiveInterface] = []
        var cursor = list
        // pcap_findalldevs returns a finite list; the bound only guards against a corrupted one.
        while let dev = cursor, result.count < 4096 {
            let d = dev.pointee
            let name = d.name.map { String(cString: $0) } ?? ""
            let description = d.description.map { String(cString: $0) } ?? ""
            var flags: [String] = []
            if d.flags & UInt32(PCAP_IF_LOOPBACK) != 0 { flags.append("Loopback") }
            if d.flags & UInt32(PCAP_IF_UP) != 0 { flags.append("Up") }
            if d.flags & UInt32(PCAP_IF_RUNNING) != 0 { flags.append("Running") }
            if d.flags & UInt32(PCAP_IF_WIRELESS) != 0 { flags.append("Wireless") }
            switch d.flags & UInt32(PCAP_IF_CONNECTION_STATUS) {
            case UInt32(PCAP_IF_CONNECTION_STATUS_CONNECTED): flags.append("Connected")
            case UInt32(PCAP_IF_CONNECTION_STATUS_DISCONNECTED): flags.append("Disconnected")
            default: break
            }
            if !name.isEmpty { result.append(LiveInterface(name: name, description: description, flags: flags)) }
            cursor = d.next
        }
        return result
    }

    static func text(_ buffer: [CChar]) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        let text = String(decoding: bytes, as: UTF8.self)
        return text.isEmpty ? "unknown error" : text
    }
}

@available(*, unavailable) extension LiveInterfaceSource: Sendable {}
