internal import CPcap
import DLMSWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes frames to a pcap file through libpcap's `pcap_dump` (`dlmsdump -i eth0 -w probe.pcap`, as tcpdump -w):
/// what the probe saw can be analysed again with `dlmsdump probe.pcap` or Wireshark. Microsecond timestamps, the
/// link type and snap length of the live capture. `path` `-` writes to standard output.
///
/// Records reach the file when libpcap's stdio buffer fills, at `flush()`, and at `close()`/`deinit`. Call
/// `flush()` from time to time (the CLI: after each frame when line-buffered, and at the end) so that a killed
/// probe leaves a readable file.
///
/// The class owns a dead `pcap_t` (`pcap_open_dead`) and the `pcap_dumper_t`; `deinit` closes both.
public final class PcapDumpWriter {
    private var dead: OpaquePointer?
    private var dumper: OpaquePointer?
    public let path: String
    public let linkType: Int32
    public let snaplen: Int32
    /// Records written so far.
    public private(set) var count = 0

    public init(path: String, linkType: Int32, snaplen: Int32 = 262_144) throws(CaptureError) {
        self.path = path
        self.linkType = linkType
        self.snaplen = snaplen
        guard let d = pcap_open_dead(linkType, snaplen) else {
            throw CaptureError("\(path): cannot create a pcap writer for link type \(linkType)")
        }
        guard let w = pcap_dump_open(d, path) else {
            let message = String(cString: pcap_geterr(d))
            pcap_close(d)
            throw CaptureError(message.hasPrefix(path) ? message : "\(path): \(message)")
        }
        dead = d
        dumper = w
    }

    deinit { close() }

    /// Appends one record (caplen = `frame.data.count`, wire length = `frame.originalLength`). A frame without a
    /// time gets the current time.
    public func write(_ frame: CapturedFrame) {
        guard let dumper else { return }
        let t = frame.time ?? LiveClock.now()
        var header = pcap_pkthdr()
        header.ts.tv_sec = .init(t.seconds)
        header.ts.tv_usec = .init(t.micros)
        header.caplen = UInt32(clamping: frame.data.count)
        header.len = UInt32(clamping: max(frame.originalLength, frame.data.count))
        frame.data.withUnsafeBufferPointer { buf in
            // pcap_dump's first argument is the dumper as `u_char *` (its pcap_handler signature).
            pcap_dump(UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self), &header,
                      buf.baseAddress)
        }
        count += 1
    }

    /// Pushes buffered records to the file.
    public func flush() throws(CaptureError) {
        guard let dumper else { return }
        guard pcap_dump_flush(dumper) == 0 else {
            throw CaptureError("\(path): write failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Flushes and closes the file; later writes are ignored.
    public func close() {
        if let dumper { pcap_dump_close(dumper) }
        if let dead { pcap_close(dead) }
        dumper = nil
        dead = nil
    }
}

@available(*, unavailable) extension PcapDumpWriter: Sendable {}
