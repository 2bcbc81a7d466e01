import DLMSWire
@testable import DLMSCapture

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes small pcap files in memory, field by field against libpcap's `struct pcap_file_header` and
/// `struct pcap_sf_pkthdr`, after swift-nio-extras' `NIOWritePCAPHandler.writePCAPHeader` (host byte order, magic
/// a1b2c3d4, version 2.4).
struct PcapWriter {
    var bytes: [UInt8] = []

    init(linkType: UInt32, snapLength: UInt32 = 65535, bigEndian: Bool = false) {
        self.bigEndian = bigEndian
        u32(0xA1B2_C3D4)  // guint32 magic_number
        u16(2)            // guint16 version_major
        u16(4)            // guint16 version_minor
        u32(0)            // gint32 thiszone
        u32(0)            // guint32 sigfigs
        u32(snapLength)   // guint32 snaplen
        u32(linkType)     // guint32 network
    }

    private let bigEndian: Bool

    /// One record; `wireLength` defaults to the data length (a frame cut by the snap length has a larger one).
    mutating func add(_ data: [UInt8], seconds: UInt32 = 1_700_000_000, micros: UInt32 = 0, wireLength: Int? = nil) {
        u32(seconds)
        u32(micros)
        u32(UInt32(data.count))
        u32(UInt32(wireLength ?? data.count))
        bytes += data
    }

    private mutating func u32(_ v: UInt32) {
        let x = bigEndian ? v.bigEndian : v.littleEndian
        withUnsafeBytes(of: x) { bytes += $0 }
    }

    private mutating func u16(_ v: UInt16) {
        let x = bigEndian ? v.bigEndian : v.littleEndian
        withUnsafeBytes(of: x) { bytes += $0 }
    }

    /// Writes the file to a fresh temporary path and returns it.
    func write(name: String) -> String {
        TempFile.write(bytes, name: name + ".pcap")
    }
}

/// A minimal pcapng writer (Section Header Block, one Interface Description Block, Enhanced Packet Blocks), from
/// the block layouts of draft-ietf-opsawg-pcapng §4.1, §4.2 and §4.3, little-endian.
struct PcapngWriter {
    var bytes: [UInt8] = []

    init(linkType: UInt16) {
        block(0x0A0D_0D0A, body: le32(0x1A2B_3C4D) + le16(1) + le16(0) + le64(UInt64.max))
        block(1, body: le16(linkType) + le16(0) + le32(0))
    }

    mutating func add(_ data: [UInt8], micros: UInt64 = 1_700_000_000_000_000) {
        var body = le32(0) + le32(UInt32(micros >> 32)) + le32(UInt32(micros & 0xFFFF_FFFF))
        body += le32(UInt32(data.count)) + le32(UInt32(data.count)) + data
        while body.count % 4 != 0 { body.append(0) }
        block(6, body: body)
    }

    private mutating func block(_ type: UInt32, body: [UInt8]) {
        let total = UInt32(12 + body.count)
        bytes += le32(type) + le32(total) + body + le32(total)
    }

    func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
    func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8((v >> (8 * UInt64($0))) & 0xFF) } }

    func write(name: String) -> String { TempFile.write(bytes, name: name + ".pcapng") }
}

enum TempFile {
    /// Writes `bytes` to a unique file under the temporary directory.
    static func write(_ bytes: [UInt8], name: String) -> String {
        var template = Array("/tmp/dlmscapture-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { buf -> String in
            guard let base = buf.baseAddress, let p = mkdtemp(base) else { return "/tmp" }
            return String(cString: p)
        }
        let path = dir + "/" + name
        if let f = fopen(path, "wb") {
            bytes.withUnsafeBufferPointer { _ = fwrite($0.baseAddress, 1, $0.count, f) }
            fclose(f)
        }
        return path
    }
}

/// The package root, from this file's path (Tests/DLMSCaptureTests/Support/PcapWriter.swift).
enum Fixtures {
    static let root: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(4)
        return parts.joined(separator: "/")
    }()

    static func capture(_ relative: String) -> String { root + "/Captures/" + relative }

    /// Every frame of a capture file.
    static func frames(_ relative: String, filter: String? = nil) throws -> [CapturedFrame] {
        let source = try PcapSource(path: capture(relative), filter: filter)
        var frames: [CapturedFrame] = []
        while let f = try source.next() { frames.append(f) }
        return frames
    }

    /// Every packet of a capture file (malformed and ignored frames dropped).
    static func packets(_ relative: String) throws -> [Packet] {
        try frames(relative).compactMap {
            if case .packet(let p) = PacketDecoder.decode($0) { return p } else { return nil }
        }
    }
}

/// Builds link, IP and transport headers for synthetic frames.
enum Build {
    static let mac1: [UInt8] = [0x02, 0, 0, 0, 0, 1]
    static let mac2: [UInt8] = [0x02, 0, 0, 0, 0, 2]

    static func be16(_ v: Int) -> [UInt8] { [UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF),
                                                UInt8(v & 0xFF)] }

    static func tcp(src: Int, dst: Int, seq: UInt32, ack: UInt32 = 0, flags: UInt8 = 0x18, options: [UInt8] = [],
                    payload: [UInt8] = []) -> [UInt8] {
        let offset = (20 + options.count) / 4
        return be16(src) + be16(dst) + be32(seq) + be32(ack) + [UInt8(offset << 4), flags] + be16(65535)
            + [0, 0, 0, 0] + options + payload
    }

    static func udp(src: Int, dst: Int, payload: [UInt8], length: Int? = nil) -> [UInt8] {
        be16(src) + be16(dst) + be16(length ?? 8 + payload.count) + [0, 0] + payload
    }

    static func ipv4(_ transport: [UInt8], proto: UInt8 = 6, src: [UInt8] = [10, 0, 0, 1],
                     dst: [UInt8] = [10, 0, 0, 2], options: [UInt8] = [], fragment: Int = 0,
                     totalLength: Int? = nil) -> [UInt8] {
        let ihl = (20 + options.count) / 4
        let total = totalLength ?? 20 + options.count + transport.count
        return [UInt8(0x40 | ihl), 0] + be16(total) + [0x12, 0x34] + be16(fragment) + [64, proto, 0, 0] + src + dst
            + options + transport
    }

    static let v6a: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]
    static let v6b: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [2]

    /// `extensions`: (header type, bytes of the header including its next-header byte, which is patched).
    static func ipv6(_ transport: [UInt8], proto: UInt8 = 6, extensions: [(UInt8, [UInt8])] = [],
                     src: [UInt8] = v6a, dst: [UInt8] = v6b) -> [UInt8] {
        var chain: [UInt8] = []
        let first = extensions.first?.0 ?? proto
        for (k, ext) in extensions.enumerated() {
            var h = ext.1
            h[0] = k + 1 < extensions.count ? extensions[k + 1].0 : proto
            chain += h
        }
        return [0x60, 0, 0, 0] + be16(chain.count + transport.count) + [first, 64] + src + dst + chain + transport
    }

    static func ethernet(_ ip: [UInt8], type: Int = 0x0800, vlans: [Int] = []) -> [UInt8] {
        var tags: [UInt8] = []
        for t in vlans { tags += be16(t) + [0x00, 0x05] }
        return mac2 + mac1 + tags + be16(type) + ip
    }
}

/// A seeded SplitMix64 (Steele, Lea, Flood 2014), so every shuffled test reproduces.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// FNV-1a 64 of a byte sequence (the digests committed for the captures' TCP streams).
func fnv1a64<C: Sequence>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
    return h
}
