import DLMSWire
import Testing
@testable import DLMSCapture

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct PcapSourceTests {
    static let segment = Build.tcp(src: 40000, dst: 4059, seq: 1, payload: [0xE6, 0xE7, 0x00])

    func readAll(_ source: PcapSource) throws -> [CapturedFrame] {
        var frames: [CapturedFrame] = []
        while let f = try source.next() { frames.append(f) }
        return frames
    }

    func error(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let e as CaptureError {
            return e.message
        } catch {
            return "not a CaptureError: \(error)"
        }
    }

    @Test func guruxCaptureGivesEveryFrameNumberedFromOne() throws {
        let source = try PcapSource(path: Fixtures.capture("gurux/wrapper-none.pcap"), filter: nil)
        #expect(source.linkType == 1)
        let frames = try readAll(source)
        // capinfos: 126 packets, Ethernet.
        #expect(frames.count == 126)
        #expect(frames.map(\.number) == Array(1...126))
        #expect(frames.allSatisfy { $0.data.count == $0.originalLength && $0.linkType == 1 })
        #expect(try source.next() == nil)
    }

    /// The frames tshark lists for `-Y "tcp.flags.push==1 && tcp.srcport==24050"` on wrapper-none.pcap: the
    /// same BPF filter must keep Wireshark's frame numbers, not renumber the survivors.
    @Test func bpfFilterKeepsWiresharkFrameNumbers() throws {
        let source = try PcapSource(path: Fixtures.capture("gurux/wrapper-none.pcap"),
                                    filter: "tcp src port 24050 and tcp[tcpflags] & tcp-push != 0")
        let numbers = try readAll(source).map(\.number)
        #expect(numbers == [6] + Array(stride(from: 9, through: 123, by: 2)))
        #expect(source.framesRead == 126)
    }

    @Test func badFilterMissingFileAndNonCaptureAreOneLineErrors() throws {
        let bad = error { _ = try PcapSource(path: Fixtures.capture("gurux/wrapper-none.pcap"), filter: "tcp portt 1") }
        #expect(bad?.hasPrefix("bad capture filter \"tcp portt 1\": ") == true)
        let missing = error { _ = try PcapSource(path: "/nonexistent/x.pcap", filter: nil) }
        #expect(missing?.hasPrefix("/nonexistent/x.pcap: ") == true)
        let text = TempFile.write(Array("7E A0 21 02\n".utf8), name: "notes.pcap")
        let notCapture = error { _ = try PcapSource(path: text, filter: nil) }
        #expect(notCapture?.hasPrefix(text + ": ") == true)
        for message in [bad, missing, notCapture] { #expect(message?.contains("\n") == false) }
    }

    @Test func unsupportedLinkTypeIsRefused() {
        var w = PcapWriter(linkType: 147)  // LINKTYPE_USER0
        w.add([1, 2, 3])
        let path = w.write(name: "user0")
        let message = error { _ = try PcapSource(path: path, filter: nil) }
        #expect(message?.contains("unsupported link type 147") == true)
    }

    /// LINKTYPE values written in the file; libpcap maps some to DLT values (LINKTYPE_RAW 101 → DLT_RAW).
    @Test(arguments: [(UInt32(1), 0x0800), (113, 0x0800), (276, 0x86DD), (0, 2), (108, 2), (101, 0), (228, 0),
                      (229, 0)])
    func synthesisedCapturesOfEachLinkTypeReadAndDecode(_ linkType: UInt32, _ hint: Int) throws {
        let ip = hint == 0x86DD || linkType == 229 ? Build.ipv6(Self.segment) : Build.ipv4(Self.segment)
        let frame: [UInt8]
        switch linkType {
        case 1: frame = Build.ethernet(ip)
        case 113: frame = [0, 0, 0, 1, 0, 6] + Build.mac1 + [0, 0] + Build.be16(hint) + ip
        case 276: frame = Build.be16(hint) + [0, 0, 0, 0, 0, 2, 0, 1, 0, 6] + Build.mac1 + [0, 0] + ip
        case 0: frame = [2, 0, 0, 0] + ip
        case 108: frame = [0, 0, 0, 2] + ip
        default: frame = ip
        }
        var w = PcapWriter(linkType: linkType)
        w.add(frame, seconds: 1_700_000_123, micros: 456_789)
        w.add(frame, seconds: 1_700_000_124, micros: 0)
        let source = try PcapSource(path: w.write(name: "link\(linkType)"), filter: nil)
        let frames = try readAll(source)
        #expect(frames.count == 2)
        let first = try #require(frames.first)
        #expect(first.time == Timestamp(seconds: 1_700_000_123, micros: 456_789))
        #expect(first.data == frame)
        guard case .packet(let p) = PacketDecoder.decode(first) else {
            Issue.record("link type \(linkType) (DLT \(first.linkType)) did not decode")
            return
        }
        #expect(Array(p.payload) == [0xE6, 0xE7, 0x00])
    }

    @Test func bigEndianPcapAndPcapngAreRead() throws {
        var be = PcapWriter(linkType: 0, bigEndian: true)
        be.add([0, 0, 0, 2] + Build.ipv4(Self.segment))  // a NULL header written by a big-endian host
        let beFrames = try readAll(PcapSource(path: be.write(name: "bigendian"), filter: nil))
        #expect(beFrames.count == 1)
        var ng = PcapngWriter(linkType: 1)
        ng.add(Build.ethernet(Build.ipv4(Self.segment)))
        ng.add(Build.ethernet(Build.ipv6(Self.segment), type: 0x86DD))
        let ngFrames = try readAll(PcapSource(path: ng.write(name: "two"), filter: "ip6"))
        #expect(ngFrames.map(\.number) == [2])
        guard let f = ngFrames.first, case .packet(let p) = PacketDecoder.decode(f) else {
            Issue.record("pcapng frame did not decode")
            return
        }
        #expect(p.source.address == Build.v6a)
    }

    @Test func snapLengthCutRecordKeepsItsWireLength() throws {
        let full = Build.ethernet(Build.ipv4(Self.segment))
        var w = PcapWriter(linkType: 1, snapLength: 54)
        w.add(Array(full.prefix(54)), wireLength: full.count)
        let frames = try readAll(PcapSource(path: w.write(name: "snap"), filter: nil))
        #expect(frames.first?.data.count == 54)
        #expect(frames.first?.originalLength == full.count)
    }

    @Test func fileCutInsideARecordReturnsTheFramesBeforeThenAnError() throws {
        var w = PcapWriter(linkType: 1)
        let frame = Build.ethernet(Build.ipv4(Self.segment))
        w.add(frame)
        w.add(frame)
        let path = TempFile.write(Array(w.bytes.dropLast(10)), name: "cut.pcap")
        let source = try PcapSource(path: path, filter: nil)
        #expect(try source.next()?.number == 1)
        let message = error { _ = try source.next() }
        #expect(message?.hasPrefix("error reading frame 2: ") == true)
        #expect(try source.next() == nil)
    }

    @Test func dashReadsAPcapStreamFromStandardInput() throws {
        let path = Fixtures.capture("gurux/wrapper-push-glo.pcap")
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0)
        let saved = dup(0)
        dup2(fd, 0)
        close(fd)
        // PcapSource duplicates fd 0 when it opens, so the process's stdin can be restored right away.
        let source = Result { try PcapSource(path: "-", filter: nil) }
        dup2(saved, 0)
        close(saved)
        let frames = try readAll(try source.get())
        #expect(frames.count == 12)
    }
}
