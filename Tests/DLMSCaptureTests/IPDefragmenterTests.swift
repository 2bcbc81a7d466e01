import DLMSWire
import Testing
@testable import DLMSCapture

@Suite struct IPDefragmenterTests {
    /// A 60-byte UDP datagram (8-byte header + 52 bytes) cut into IPv4 fragments of 24, 24 and 12 bytes.
    static let datagram = Build.udp(src: 4059, dst: 4059, payload: (0..<52).map { UInt8($0) })

    static func v4Fragments() -> [[UInt8]] {
        let pieces = [(0, 24, true), (24, 24, true), (48, 12, false)]
        return pieces.map { offset, count, more in
            let flags = (more ? 0x2000 : 0) | offset / 8
            return Build.ipv4(Array(datagram[offset..<(offset + count)]), proto: 17, fragment: flags)
        }
    }

    func frame(_ ip: [UInt8], _ number: Int, seconds: Int64 = 0, link: Int32 = 228) -> CapturedFrame {
        CapturedFrame(number: number, time: Timestamp(seconds: seconds, micros: 0), linkType: link, data: ip,
                      originalLength: ip.count)
    }

    func payload(_ r: PacketDecodeResult) -> [UInt8]? {
        if case .packet(let p) = r { return Array(p.payload) }
        return nil
    }

    @Test(arguments: [[0, 1, 2], [2, 1, 0], [1, 2, 0], [0, 0, 2, 1]])
    func fragmentsInAnyOrderGiveTheWholeDatagramInTheCompletingFrame(_ order: [Int]) {
        var d = IPDefragmenter()
        let fragments = Self.v4Fragments()
        var results: [PacketDecodeResult] = []
        for (k, i) in order.enumerated() {
            results.append(PacketDecoder.decode(frame(fragments[i], k + 1), defragmenter: &d))
        }
        for r in results.dropLast() {
            guard case .ignored = r else { Issue.record("\(r)"); continue }
        }
        guard let last = results.last, case .packet(let p) = last else { Issue.record("\(results)"); return }
        #expect(Array(p.payload) == (0..<52).map { UInt8($0) })
        #expect(p.frame == order.count)
        #expect(!p.fragmented && !p.truncated)
        #expect(d.pendingDatagrams == 0)
    }

    @Test func withoutADefragmenterFragmentsAreMarkedOrReported() {
        let fragments = Self.v4Fragments()
        if case .packet(let p) = PacketDecoder.decode(frame(fragments[0], 1)) {
            #expect(p.fragmented)
            #expect(p.missingBytes == 36)
        } else {
            Issue.record("first fragment did not decode")
        }
        guard case .malformed(let e) = PacketDecoder.decode(frame(fragments[1], 2)) else {
            Issue.record("later fragment not reported")
            return
        }
        #expect(e.code == "ip.fragment")
    }

    @Test func ipv6FragmentsAreReassembled() {
        let segment = Build.tcp(src: 40000, dst: 4059, seq: 9, payload: (0..<40).map { UInt8($0) })
        func fragment(_ offset: Int, _ count: Int, more: Bool) -> [UInt8] {
            let field = offset | (more ? 1 : 0)  // offset in 8-byte units << 3 == byte offset
            let header: [UInt8] = [0, 0] + Build.be16(field) + [0xDE, 0xAD, 0xBE, 0xEF]
            return Build.ipv6(Array(segment[offset..<(offset + count)]), extensions: [(44, header)])
        }
        var d = IPDefragmenter()
        let first = PacketDecoder.decode(frame(fragment(0, 32, more: true), 1, link: 229), defragmenter: &d)
        guard case .ignored = first else { Issue.record("\(first)"); return }
        let second = PacketDecoder.decode(frame(fragment(32, 28, more: false), 2, link: 229), defragmenter: &d)
        #expect(payload(second) == (0..<40).map { UInt8($0) })
    }

    @Test func incompleteDatagramsExpireAndAreCounted() {
        var d = IPDefragmenter(timeout: 5)
        let fragments = Self.v4Fragments()
        _ = PacketDecoder.decode(frame(fragments[0], 1, seconds: 0), defragmenter: &d)
        #expect(d.pendingDatagrams == 1)
        // Another datagram (different identification) ten seconds later pushes the first one out.
        var other = Self.v4Fragments()[0]
        other[4] = 0x99
        _ = PacketDecoder.decode(frame(other, 2, seconds: 10), defragmenter: &d)
        #expect(d.droppedDatagrams == 1)
        #expect(d.pendingDatagrams == 1)
        // The rest of the first datagram can no longer complete it.
        _ = PacketDecoder.decode(frame(fragments[1], 3, seconds: 10), defragmenter: &d)
        let r = PacketDecoder.decode(frame(fragments[2], 4, seconds: 10), defragmenter: &d)
        guard case .ignored = r else { Issue.record("\(r)"); return }
    }

    @Test func tableAndSizeBoundsHold() {
        var d = IPDefragmenter(maxDatagrams: 2, maxDatagramBytes: 40)
        for id in 0..<5 {
            var f = Self.v4Fragments()[0]
            f[5] = UInt8(id)
            _ = PacketDecoder.decode(frame(f, id + 1), defragmenter: &d)
            #expect(d.pendingDatagrams <= 2)
        }
        #expect(d.droppedDatagrams == 3)
        // The third fragment ends at byte 60 > 40.
        _ = PacketDecoder.decode(frame(Self.v4Fragments()[2], 9), defragmenter: &d)
        #expect(d.droppedDatagrams == 4)
    }
}
