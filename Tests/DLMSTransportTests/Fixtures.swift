import DLMSTransport
import DLMSWire
import Foundation

/// Test fixtures: the shared captures, their truth files, and small readers for them.
enum Fixtures {
    /// Package root, from this file's path (Tests/DLMSTransportTests/Fixtures.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func bytes(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: root.appendingPathComponent("Captures").appendingPathComponent(relative)))
    }

    /// Records of a Gurux truth file (Captures/gurux/README.md, "Truth").
    static func truth(_ name: String) throws -> [[String: Any]] {
        let text = try String(contentsOf: root.appendingPathComponent("Captures/gurux/\(name).truth.jsonl"),
                              encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            guard let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw FixtureError.badTruth
            }
            return obj
        }
    }

    enum FixtureError: Error { case badTruth, badPcap }
}

// MARK: - A minimal pcap / Ethernet / IPv4 / TCP / UDP reader (test-only)

/// One transport segment of a pcap (libpcap format, link type EN10MB, IPv4).
struct PcapSegment {
    var frame: Int
    var time: Timestamp
    var source: String
    var destination: String
    var isTCP: Bool
    var syn: Bool
    var seq: UInt32
    /// Captured payload bytes.
    var payload: [UInt8]
    /// Payload bytes the IP header announces but the capture does not hold (caplen < wire length).
    var missing: Int
}

enum Pcap {
    static func segments(_ bytes: [UInt8]) throws -> [PcapSegment] {
        func le32(_ i: Int) -> UInt32 {
            UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
        }
        guard bytes.count >= 24, le32(0) == 0xA1B2_C3D4 || le32(0) == 0xA1B2_3C4D else {
            throw Fixtures.FixtureError.badPcap
        }
        let nanos = le32(0) == 0xA1B2_3C4D
        // Link types: 1 = EN10MB (14-byte Ethernet header), 0 = DLT_NULL (4-byte address family, host order).
        let linkType = le32(20)
        guard linkType == 1 || linkType == 0 else { throw Fixtures.FixtureError.badPcap }
        var out: [PcapSegment] = []
        var o = 24
        var frame = 0
        while o + 16 <= bytes.count {
            let sec = le32(o), frac = le32(o + 4), capLen = Int(le32(o + 8))
            let p = o + 16
            o = p + capLen
            frame += 1
            guard o <= bytes.count, capLen >= 34 else { continue }
            let pkt = Array(bytes[p..<o])
            let ip: Int
            if linkType == 1 {
                guard pkt[12] == 0x08, pkt[13] == 0x00 else { continue }  // IPv4 only
                ip = 14
            } else {
                guard pkt[0] == 2 || pkt[3] == 2 else { continue }  // AF_INET
                ip = 4
            }
            let ihl = Int(pkt[ip] & 0x0F) * 4
            let total = Int(pkt[ip + 2]) << 8 | Int(pkt[ip + 3])
            let proto = pkt[ip + 9]
            let src = pkt[(ip + 12)..<(ip + 16)].map(String.init).joined(separator: ".")
            let dst = pkt[(ip + 16)..<(ip + 20)].map(String.init).joined(separator: ".")
            let l4 = ip + ihl
            let time = Timestamp(seconds: Int64(sec), micros: Int32(nanos ? frac / 1000 : frac))
            if proto == 6, pkt.count >= l4 + 20 {
                let sport = Int(pkt[l4]) << 8 | Int(pkt[l4 + 1]), dport = Int(pkt[l4 + 2]) << 8 | Int(pkt[l4 + 3])
                let seq = UInt32(pkt[l4 + 4]) << 24 | UInt32(pkt[l4 + 5]) << 16 | UInt32(pkt[l4 + 6]) << 8
                    | UInt32(pkt[l4 + 7])
                let dataOffset = Int(pkt[l4 + 12] >> 4) * 4
                let start = l4 + dataOffset
                let wireEnd = ip + total
                let capEnd = min(wireEnd, pkt.count)
                out.append(PcapSegment(frame: frame, time: time, source: "\(src):\(sport)",
                                       destination: "\(dst):\(dport)", isTCP: true, syn: pkt[l4 + 13] & 0x02 != 0,
                                       seq: seq, payload: start < capEnd ? Array(pkt[start..<capEnd]) : [],
                                       missing: max(0, wireEnd - max(capEnd, start))))
            } else if proto == 17, pkt.count >= l4 + 8 {
                let sport = Int(pkt[l4]) << 8 | Int(pkt[l4 + 1]), dport = Int(pkt[l4 + 2]) << 8 | Int(pkt[l4 + 3])
                let udpLen = Int(pkt[l4 + 4]) << 8 | Int(pkt[l4 + 5])
                let end = min(l4 + udpLen, pkt.count)
                out.append(PcapSegment(frame: frame, time: time, source: "\(src):\(sport)",
                                       destination: "\(dst):\(dport)", isTCP: false, syn: false, seq: 0,
                                       payload: l4 + 8 < end ? Array(pkt[(l4 + 8)..<end]) : [], missing: 0))
            }
        }
        return out
    }

    /// Feeds one TCP direction (`source` → `destination`) of `segments` to `decoder`, in sequence order:
    /// retransmissions (data already fed) are skipped; holes become `gap(missing:)`.
    static func feedTCP(_ segments: [PcapSegment], from source: String, into decoder: inout StreamDecoder)
        -> [TransportEvent] {
        var events: [TransportEvent] = []
        var next: UInt32? = nil
        for s in segments where s.isTCP && s.source == source {
            if s.syn { next = s.seq &+ 1; continue }
            guard !s.payload.isEmpty || s.missing > 0 else { continue }
            if let n = next {
                let delta = Int32(bitPattern: s.seq &- n)
                if delta < 0 { continue }  // retransmission
                if delta > 0 { events += decoder.gap(missing: Int(delta), frame: s.frame, time: s.time) }
            }
            events += decoder.feed(s.payload[...], frame: s.frame, time: s.time)
            if s.missing > 0 { events += decoder.gap(missing: s.missing, frame: s.frame, time: s.time) }
            next = s.seq &+ UInt32(s.payload.count + s.missing)
        }
        return events + decoder.finish()
    }
}

// MARK: - Event helpers

extension TransportEvent {
    var apdu: TransportAPDU? { if case .apdu(let a) = self { return a } else { return nil } }
    var frame: HDLCFrame? { if case .hdlcFrame(let f) = self { return f } else { return nil } }
    var issue: TransportIssue? { if case .issue(let i) = self { return i } else { return nil } }

    /// A canonical one-line description, to compare two decodes of the same bytes.
    var summary: String {
        switch self {
        case .apdu(let a):
            let errs = a.errors.map(\.code).joined(separator: ",")
            return "apdu \(Hex.encode(a.bytes)) frames=\(a.frames) errors=\(errs) kind=\(a.kind.summary)"
        case .hdlcFrame(let f):
            return "frame \(Hex.encode(f.raw)) \(f.type.rawValue) fcs=\(f.fcsOK) frames=\(f.frames)"
        case .issue(let i):
            return "issue \(i.code) frames=\(i.frames) offset=\(String(describing: i.offset))"
        }
    }
}

extension TransportKind {
    var summary: String {
        switch self {
        case .wrapper(let h): return "wrapper(\(h.sourcePort)->\(h.destinationPort) len \(h.length))"
        case .hdlc(let segments, let llc):
            return "hdlc(\(segments.count) segs llc \(llc.map { Hex.encode($0) } ?? "none"))"
        case .raw: return "raw"
        case .iec432(let llc): return "iec432(\(Hex.encode(llc)))"
        case .mbus(let segments): return "mbus(\(segments.count) segs)"
        }
    }
}

/// Seeded generator (SplitMix64) so every random test reproduces.
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

/// Feeds `bytes` in chunks whose sizes `sizes` yields (cycled), then finishes.
func decodeChunked(_ bytes: [UInt8], framing: Framing = .auto, internalNumbers: Bool = true,
                   chunkSize: (inout SplitMix64) -> Int, seed: UInt64 = 1) -> [TransportEvent] {
    var d = StreamDecoder(framing: framing, numberFramesInternally: internalNumbers)
    var rng = SplitMix64(seed: seed)
    var events: [TransportEvent] = []
    var i = 0
    var chunk = 0
    while i < bytes.count {
        let n = max(1, min(chunkSize(&rng), bytes.count - i))
        chunk += 1
        events += d.feed(bytes[i..<(i + n)], frame: chunk, time: nil)
        i += n
    }
    return events + d.finish()
}
