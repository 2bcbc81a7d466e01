import DLMSWire
import Testing
@testable import DLMSCapture

@Suite struct PacketDecoderTests {
    static let payload: [UInt8] = [0x00, 0x01, 0x00, 0x10, 0x00, 0x01, 0x00, 0x05, 0xC0, 0x01, 0xC1, 0x00, 0x08]
    static let segment = Build.tcp(src: 40000, dst: 4059, seq: 1000, ack: 77, payload: payload)
    static let ipv4 = Build.ipv4(segment)
    static let ipv6 = Build.ipv6(segment)

    func frame(_ data: [UInt8], link: Int32, wire: Int? = nil) -> CapturedFrame {
        CapturedFrame(number: 7, time: Timestamp(seconds: 1, micros: 2), linkType: link, data: data,
                      originalLength: wire ?? data.count)
    }

    func packet(_ result: PacketDecodeResult, sourceLocation: SourceLocation = #_sourceLocation) -> Packet? {
        if case .packet(let p) = result { return p }
        Issue.record("expected a packet, got \(result)", sourceLocation: sourceLocation)
        return nil
    }

    func malformedCode(_ result: PacketDecodeResult) -> String? {
        if case .malformed(let e) = result { return e.code }
        return nil
    }

    func checkTCP(_ p: Packet?, v6: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let p else { return }
        #expect(p.proto == .tcp, sourceLocation: sourceLocation)
        #expect(Array(p.payload) == Self.payload, sourceLocation: sourceLocation)
        #expect(p.source.port == 40000 && p.destination.port == 4059, sourceLocation: sourceLocation)
        #expect(p.source.address == (v6 ? Build.v6a : [10, 0, 0, 1]), sourceLocation: sourceLocation)
        #expect(p.destination.address == (v6 ? Build.v6b : [10, 0, 0, 2]), sourceLocation: sourceLocation)
        #expect(p.tcp == TCPHeader(sequence: 1000, acknowledgement: 77, flags: 0x18), sourceLocation: sourceLocation)
        #expect(!p.truncated && p.missingBytes == 0, sourceLocation: sourceLocation)
        #expect(p.frame == 7 && p.time == Timestamp(seconds: 1, micros: 2), sourceLocation: sourceLocation)
    }

    // MARK: - Link types

    @Test func ethernetIPv4AndIPv6Decode() {
        checkTCP(packet(PacketDecoder.decode(frame(Build.ethernet(Self.ipv4), link: 1))))
        checkTCP(packet(PacketDecoder.decode(frame(Build.ethernet(Self.ipv6, type: 0x86DD), link: 1))), v6: true)
    }

    @Test(arguments: [[0x8100], [0x88A8, 0x8100], [0x9100, 0x8100, 0x8100]])
    func ethernetVLANAndQinQTagsAreSkipped(_ tags: [Int]) {
        checkTCP(packet(PacketDecoder.decode(frame(Build.ethernet(Self.ipv4, vlans: tags), link: 1))))
    }

    @Test func ethernetPaddingIsTrimmedByTheIPTotalLength() {
        // A 60-byte minimum Ethernet frame: a short UDP datagram followed by zero padding.
        let ip = Build.ipv4(Build.udp(src: 1, dst: 4059, payload: [0xAA, 0xBB]), proto: 17)
        let padded = Build.ethernet(ip) + [UInt8](repeating: 0, count: 60 - 14 - ip.count)
        let p = packet(PacketDecoder.decode(frame(padded, link: 1)))
        #expect(p.map { Array($0.payload) } == [0xAA, 0xBB])
        #expect(p?.proto == .udp)
    }

    @Test func linuxCookedV1AndV2Decode() {
        let sll: [UInt8] = [0, 0, 0, 1, 0, 6] + Build.mac1 + [0, 0] + [0x08, 0x00]
        checkTCP(packet(PacketDecoder.decode(frame(sll + Self.ipv4, link: 113))))
        let sll2: [UInt8] = [0x86, 0xDD, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6] + Build.mac1 + [0, 0]
        checkTCP(packet(PacketDecoder.decode(frame(sll2 + Self.ipv6, link: 276))), v6: true)
    }

    @Test(arguments: [(UInt32(2), false), (2, true), (24, false), (28, true), (30, false)])
    func nullAndLoopFamiliesDecodeInEitherByteOrder(_ family: UInt32, _ bigEndian: Bool) {
        let value = bigEndian ? family.bigEndian : family.littleEndian
        let header = withUnsafeBytes(of: value) { Array($0) }
        let ip = family == 2 ? Self.ipv4 : Self.ipv6
        for link: Int32 in [0, 108] {
            checkTCP(packet(PacketDecoder.decode(frame(header + ip, link: link))), v6: family != 2)
        }
    }

    @Test func loopbackFamilyThatIsNotIPIsIgnored() {
        let result = PacketDecoder.decode(frame([7, 0, 0, 0] + Self.ipv4, link: 0))
        guard case .ignored = result else { Issue.record("\(result)"); return }
    }

    @Test(arguments: [Int32(101), 12, 14])
    func rawIPFindsTheVersionFromTheFirstNibble(_ link: Int32) {
        checkTCP(packet(PacketDecoder.decode(frame(Self.ipv4, link: link))))
        checkTCP(packet(PacketDecoder.decode(frame(Self.ipv6, link: link))), v6: true)
    }

    @Test func ipv4AndIPv6LinkTypesDecode() {
        checkTCP(packet(PacketDecoder.decode(frame(Self.ipv4, link: 228))))
        checkTCP(packet(PacketDecoder.decode(frame(Self.ipv6, link: 229))), v6: true)
    }

    @Test func arpAndICMPAreIgnored() {
        let arp = Build.ethernet([UInt8](repeating: 0, count: 28), type: 0x0806)
        let icmp = Build.ethernet(Build.ipv4([8, 0, 0, 0, 0, 1, 0, 1], proto: 1))
        for data in [arp, icmp] {
            let result = PacketDecoder.decode(frame(data, link: 1))
            guard case .ignored = result else { Issue.record("\(result)"); continue }
        }
    }

    // MARK: - IP and transport details

    @Test func ipv4OptionsAndTCPOptionsAreSkipped() {
        // Router alert option (RFC 2113) and MSS + NOP + NOP + SACK-permitted... padded to 4 bytes.
        let options: [UInt8] = [0x02, 0x04, 0x05, 0xB4, 0x01, 0x01, 0x04, 0x02]
        let seg = Build.tcp(src: 40000, dst: 4059, seq: 1000, ack: 77, options: options, payload: Self.payload)
        let ip = Build.ipv4(seg, options: [0x94, 0x04, 0x00, 0x00])
        checkTCP(packet(PacketDecoder.decode(frame(Build.ethernet(ip), link: 1))))
    }

    @Test func ipv6ExtensionHeadersAreSkipped() {
        let hopByHop: [UInt8] = [0, 0, 1, 4, 0, 0, 0, 0]  // PadN
        let routing: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0]  // type 0, segments left 0
        let destination: [UInt8] = [0, 1] + [UInt8](repeating: 0, count: 14)  // 16 bytes
        let fragment: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 9]  // offset 0, M = 0: an atomic fragment
        let ip = Build.ipv6(Self.segment, extensions: [(0, hopByHop), (43, routing), (60, destination),
                                                        (44, fragment)])
        let p = packet(PacketDecoder.decode(frame(Build.ethernet(ip, type: 0x86DD), link: 1)))
        checkTCP(p, v6: true)
        #expect(p?.fragmented == false)
    }

    @Test func udpOverIPv6Decodes() {
        let ip = Build.ipv6(Build.udp(src: 4059, dst: 4059, payload: [1, 2, 3]), proto: 17)
        let p = packet(PacketDecoder.decode(frame(ip, link: 229)))
        #expect(p?.proto == .udp)
        #expect(p.map { Array($0.payload) } == [1, 2, 3])
        #expect(p?.tcp == nil)
    }

    @Test func firstFragmentIsMarkedAndLaterFragmentsAreReported() {
        let first = Build.ipv4(Self.segment, fragment: 0x2000)  // MF set, offset 0
        let p = packet(PacketDecoder.decode(frame(first, link: 228)))
        #expect(p?.fragmented == true)
        let later = Build.ipv4([1, 2, 3, 4, 5, 6, 7, 8], fragment: 0x0003)  // offset 24
        #expect(malformedCode(PacketDecoder.decode(frame(later, link: 228))) == "ip.fragment")
        // A UDP first fragment knows from the UDP length how much is missing.
        let udp = Build.udp(src: 1, dst: 2, payload: [1, 2, 3, 4], length: 8 + 100)
        let u = packet(PacketDecoder.decode(frame(Build.ipv4(udp, proto: 17, fragment: 0x2000), link: 228)))
        #expect(u?.fragmented == true)
        #expect(u?.missingBytes == 96)
    }

    @Test func frameCutBySnapLengthIsTruncatedWithTheMissingByteCount() {
        let full = Build.ethernet(Self.ipv4)
        let cut = Array(full.prefix(full.count - 5))
        let p = packet(PacketDecoder.decode(frame(cut, link: 1, wire: full.count)))
        #expect(p?.truncated == true)
        #expect(p?.missingBytes == 5)
        #expect(p.map { Array($0.payload) } == Array(Self.payload.prefix(Self.payload.count - 5)))
    }

    @Test func malformedHeadersAreReportedWithTheirOffset() {
        var badIHL = Self.ipv4
        badIHL[0] = 0x44
        var longTotal = Self.ipv4
        longTotal[2] = 0x10
        var shortTotal = Self.ipv4
        shortTotal[2] = 0
        shortTotal[3] = 8
        var badOffset = Self.ipv4
        badOffset[20 + 12] = 0x40
        var bigOffset = Self.ipv4
        bigOffset[20 + 12] = 0xF0
        let cases: [([UInt8], String, Int)] = [
            (badIHL, "ip.bad-header-length", 14), (longTotal, "ip.bad-total-length", 16),
            (shortTotal, "ip.bad-total-length", 16), (badOffset, "tcp.bad-data-offset", 14 + 32),
            (bigOffset, "tcp.bad-data-offset", 14 + 32), ([0x45, 0], "ip.truncated", 14),
        ]
        for (ip, code, offset) in cases {
            let result = PacketDecoder.decode(frame(Build.ethernet(ip), link: 1))
            guard case .malformed(let e) = result else { Issue.record("\(code): \(result)"); continue }
            #expect(e.code == code)
            #expect(e.offset == offset, "\(code)")
        }
        var v6 = Self.ipv6
        v6[0] = 0x40
        #expect(malformedCode(PacketDecoder.decode(frame(v6, link: 229))) == "ip.bad-version")
    }

    /// Every strict prefix of a frame: as a frame cut by the snap length it decodes (truncated) once the headers
    /// are complete and is malformed before; as a frame that was really that short it is always malformed.
    @Test(arguments: [Int32(1), 113, 276, 0, 108, 101])
    func everyStrictPrefixIsTruncatedOrMalformedNeverACrash(_ link: Int32) throws {
        let full: [UInt8]
        switch link {
        case 1: full = Build.ethernet(Self.ipv6, type: 0x86DD, vlans: [0x8100])
        case 113: full = [0, 0, 0, 1, 0, 6] + Build.mac1 + [0, 0, 0x08, 0x00] + Self.ipv4
        case 276: full = [0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6] + Build.mac1 + [0, 0] + Self.ipv4
        case 0, 108: full = [0, 0, 0, 2] + Self.ipv4
        default: full = Self.ipv6
        }
        let headers = full.count - Self.payload.count
        for n in 0..<full.count {
            let prefix = Array(full.prefix(n))
            let cut = PacketDecoder.decode(frame(prefix, link: link, wire: full.count))
            if n >= headers {
                let p = try #require(packet(cut))
                #expect(p.truncated && p.missingBytes == full.count - n)
                #expect(Array(p.payload) == Array(Self.payload.prefix(n - headers)))
            } else {
                #expect(malformedCode(cut) != nil, "prefix \(n) of link \(link)")
            }
            #expect(malformedCode(PacketDecoder.decode(frame(prefix, link: link))) != nil, "prefix \(n)")
        }
    }

    @Test func everyByteValueAtEveryHeaderPositionNeverCrashes() {
        // A 0...255 sweep of each byte of the link, IP and TCP headers (results vary; only totality matters).
        let base = Build.ethernet(Self.ipv4)
        var decoded = 0
        for i in 0..<(base.count - Self.payload.count) {
            var f = base
            for v in 0...255 {
                f[i] = UInt8(v)
                if case .packet = PacketDecoder.decode(frame(f, link: 1)) { decoded += 1 }
            }
        }
        #expect(decoded > 0)
    }
}
