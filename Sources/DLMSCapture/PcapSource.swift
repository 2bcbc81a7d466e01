internal import CPcap
import DLMSWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Frames of a pcap or pcapng file (or of a pcap stream on standard input, path `-`), read through libpcap.
///
/// Frames are numbered 1, 2, 3, ... over **every** record of the file, as Wireshark numbers them, also when a BPF
/// filter is given: the filter is compiled once and applied here, record by record, with `pcap_offline_filter`
/// (instead of `pcap_setfilter`, which would hide the rejected records from the counter).
///
/// The class owns the `pcap_t` and the compiled `bpf_program`; `deinit` releases both. No C type leaves it.
/// Each accepted record is copied once, into the `[UInt8]` of its `CapturedFrame`.
///
/// A damaged record (for example a file cut in the middle of the last record, "truncated dump file") ends the
/// source with a `CaptureError`; the frames returned before it stay valid, so a caller may treat that error as a
/// warning and as the end of the capture.
public final class PcapSource: FrameSource {
    private var handle: OpaquePointer?
    private var program = bpf_program()
    private var hasProgram = false
    private var counter = 0
    private var ended = false
    /// The byte buffer of the last frame handed back (`recycle`), reused for the next one: one allocation fewer
    /// per frame when nothing kept a view of it.
    private var spare: [UInt8] = []

    /// The DLT_* link type of the capture (`pcap_datalink`).
    public let linkType: Int32
    /// The snapshot length recorded in the file header.
    public let snapshotLength: Int32
    /// Number of records read so far, including those the filter rejected (the last frame number).
    public var framesRead: Int { counter }

    /// Link types `PacketDecoder` understands. DLT_RAW is 12 on most systems and 14 on OpenBSD; libpcap maps the
    /// file's LINKTYPE_RAW (101) to it, but 101 is accepted as well.
    public static let supportedLinkTypes: Set<Int32> = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276]

    /// Opens `path` (`-` = standard input). `filter` is a BPF expression (tcpdump syntax), or nil for every frame.
    public init(path: String, filter: String? = nil) throws(CaptureError) {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        var opened: OpaquePointer?
        if path == "-" {
            // A duplicate of fd 0, so that pcap_close() closes our FILE and not the process's stdin.
            let fd = dup(0)
            guard fd >= 0, let file = fdopen(fd, "rb") else {
                if fd >= 0 { close(fd) }
                throw CaptureError("cannot read standard input")
            }
            opened = pcap_fopen_offline(file, &errbuf)
            if opened == nil { fclose(file) }
        } else {
            opened = pcap_open_offline(path, &errbuf)
        }
        guard let h = opened else {
            let name = path == "-" ? "standard input" : path
            let reason = PcapSource.cString(errbuf)
            // libpcap names the file itself in some messages ("x.pcap: No such file or directory").
            throw CaptureError(reason.hasPrefix(name) ? reason : "\(name): \(reason)")
        }
        handle = h
        linkType = pcap_datalink(h)
        snapshotLength = pcap_snapshot(h)
        guard PcapSource.supportedLinkTypes.contains(linkType) else {
            let name = pcap_datalink_val_to_name(linkType).map { String(cString: $0) } ?? "unknown"
            pcap_close(h)
            handle = nil
            throw CaptureError("\(path == "-" ? "standard input" : path): unsupported link type \(linkType) "
                + "(\(name)); supported: Ethernet, Linux cooked (SLL, SLL2), BSD loopback (NULL, LOOP), raw IP")
        }
        if let filter, !filter.isEmpty {
            if pcap_compile(h, &program, filter, 1, PCAP_NETMASK_UNKNOWN) != 0 {
                let message = String(cString: pcap_geterr(h))
                pcap_close(h)
                handle = nil
                throw CaptureError("bad capture filter \"\(filter)\": \(message)")
            }
            hasProgram = true
        }
    }

    deinit {
        if hasProgram { pcap_freecode(&program) }
        if let h = handle { pcap_close(h) }
    }

    /// The next frame that passes the filter, or nil at the end of the capture.
    public func next() throws(CaptureError) -> CapturedFrame? {
        guard let h = handle, !ended else { return nil }
        while true {
            var header: UnsafeMutablePointer<pcap_pkthdr>?
            var data: UnsafePointer<UInt8>?
            let rc = pcap_next_ex(h, &header, &data)
            switch rc {
            case 1:
                counter += 1
                guard let header, let data else { continue }
                if hasProgram, pcap_offline_filter(&program, header, data) == 0 { continue }
                let caplen = Int(header.pointee.caplen)
                // The one copy of the record (libpcap reuses its buffer on the next call), into the buffer of a
                // frame handed back when nothing else holds it (`removeAll` keeps a shared buffer untouched and
                // starts a new one).
                var bytes: [UInt8] = []
                swap(&bytes, &spare)
                bytes.replaceSubrange(bytes.startIndex..<bytes.endIndex,
                                      with: UnsafeBufferPointer(start: data, count: caplen))
                let ts = header.pointee.ts
                return CapturedFrame(
                    number: counter,
                    time: Timestamp(seconds: Int64(ts.tv_sec), micros: Int32(truncatingIfNeeded: ts.tv_usec)),
                    linkType: linkType, data: bytes, originalLength: max(Int(header.pointee.len), caplen))
            case 0:
                // Only live captures time out; an offline handle never returns 0. Treat it as "nothing more".
                ended = true
                return nil
            case -2:
                ended = true
                return nil
            default:
                ended = true
                throw CaptureError("error reading frame \(counter + 1): \(String(cString: pcap_geterr(h)))")
            }
        }
    }

    public func recycle(_ frame: consuming CapturedFrame) {
        // Swapped, not assigned: the buffer changes hands without a retain and a release.
        var f = frame
        swap(&spare, &f.data)
    }

    private static func cString(_ buffer: [CChar]) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        let text = String(decoding: bytes, as: UTF8.self)
        return text.isEmpty ? "cannot open" : text
    }
}

@available(*, unavailable) extension PcapSource: Sendable {}
