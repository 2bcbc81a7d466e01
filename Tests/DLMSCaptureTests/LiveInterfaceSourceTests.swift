import DLMSWire
import Testing
@testable import DLMSCapture

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Live capture on the loopback interface. The tests run as root in CI, where they must really run; they are
/// skipped (and say why) only where opening `lo` fails for lack of capture permission.
@Suite struct LiveInterfaceSourceTests {
    /// nil when capture on `lo` works; otherwise the one-line permission error. Any other failure to open `lo`
    /// lets the tests run (and fail), so a broken capture path is never mistaken for a missing permission.
    static let permissionProblem: String? = {
        do throws(CaptureError) {
            _ = try LiveInterfaceSource(interface: "lo", filter: "tcp port 9")
            return nil
        } catch {
            return error.message.contains("needs root or CAP_NET_RAW") ? error.message : nil
        }
    }()

    static var capturePermitted: Bool { permissionProblem == nil }

    /// The client side of Captures/gurux/wrapper-none (Gurux client ↔ Gurux server): each wrapper frame is sent
    /// over a real loopback TCP connection; what libpcap captured on `lo`, taken through `PacketDecoder` and
    /// `TCPReassembler`, must be exactly those bytes in that order, and `-w` must write it readably.
    @Test(.enabled(if: capturePermitted, "capture on lo needs root or CAP_NET_RAW"), .timeLimit(.minutes(1)))
    func loopbackCaptureCarriesTheWrapperFramesSentOverARealTCPConnection() throws {
        let frames = try GuruxStreams.initiatorSegments("wrapper-none.pcap")
        try #require(frames.count > 20)
        let sent = frames.flatMap { $0 }
        let server = try TestSocket.listenTCP()
        defer { close(server.fd) }

        let stop = StopFlag(after: 10)
        let source = try LiveInterfaceSource(interface: "lo", filter: "tcp port \(server.port)", snaplen: 65535,
                                             promiscuous: false, stop: stop)
        #expect(source.linkType == 1)  // Linux lo is DLT_EN10MB

        let dumpPath = TempFile.write([], name: "live.pcap")
        let dump = try PcapDumpWriter(path: dumpPath, linkType: source.linkType, snaplen: 65535)
        var reassembler = TCPReassembler()
        var client2server: [UInt8] = []
        var clientEndpoint: Endpoint?
        var captured: [CapturedFrame] = []
        var sawFIN = false
        func take(_ frame: CapturedFrame) {
            captured.append(frame)
            dump.write(frame)
            guard case .packet(let p) = PacketDecoder.decode(frame) else { return }
            if p.tcp?.fin == true, p.destination.port == server.port { sawFIN = true }
            for e in reassembler.process(p) {
                switch e {
                case .opened(_, _, _, _, let initiator, _, _): clientEndpoint = initiator
                case .data(_, let from, _, let bytes, _, _) where from == clientEndpoint: client2server += bytes
                default: break
                }
            }
        }

        // The capture is read between the sends, as the analyzer reads it live, not only at the end.
        let client = try TestSocket.connectTCP(port: server.port)
        let accepted = try TestSocket.acceptOne(server.fd)
        for f in frames {
            try TestSocket.sendAll(client, f)
            while let frame = try source.next(timeout: 0) { take(frame) }
        }
        shutdown(client, Int32(SHUT_WR))
        let received = TestSocket.readToEnd(accepted)
        close(accepted)
        close(client)
        let serverGotEverything = received == sent
        #expect(serverGotEverything, "the server received \(received.count) of \(sent.count) bytes")
        while client2server.count < sent.count || !sawFIN, let frame = try source.next() { take(frame) }

        #expect(stop.reason == nil, "the capture ran into its deadline before the bytes arrived")
        #expect(clientEndpoint?.port != server.port && clientEndpoint != nil)
        let capturedEverything = client2server == sent
        #expect(capturedEverything, "captured \(client2server.count) of \(sent.count) client bytes")
        #expect(captured.map(\.number) == Array(1...captured.count))
        #expect(captured.allSatisfy { $0.time != nil && $0.data.count == $0.originalLength })
        let stats = try #require(source.statistics)
        #expect(stats.dropped == 0)
        #expect(stats.received >= captured.count)

        try dump.flush()
        dump.close()
        #expect(dump.count == captured.count)
        let replay = try PcapSource(path: dumpPath)
        #expect(replay.linkType == source.linkType)
        var replayed: [CapturedFrame] = []
        while let f = try replay.next() { replayed.append(f) }
        let sameRecords = replayed.map(\.data) == captured.map(\.data) && replayed.map(\.time) == captured.map(\.time)
        #expect(sameRecords, "the -w file differs from what was captured")
    }

    @Test(.enabled(if: capturePermitted, "capture on lo needs root or CAP_NET_RAW"), .timeLimit(.minutes(1)))
    func aQuietInterfaceStopsShortlyAfterTheDeadline() throws {
        let stop = StopFlag(after: 0.3)
        // Port 9 (discard) on loopback: nothing is sent to it during the tests.
        let source = try LiveInterfaceSource(interface: "lo", filter: "udp port 9 and udp port 9", stop: stop)
        let start = LiveClock.monotonicNanos()
        #expect(try source.next() == nil)
        let elapsed = Double(LiveClock.monotonicNanos() - start) / 1e9
        #expect(elapsed >= 0.25 && elapsed < 2, "stopped after \(elapsed) s")
        #expect(stop.reason == .deadline)
        source.close()
        #expect(try source.next() == nil)
        #expect(source.statistics == nil)
    }

    @Test func unknownInterfaceAndBadFilterAreOneLineErrors() {
        do throws(CaptureError) {
            _ = try LiveInterfaceSource(interface: "nosuch0")
            Issue.record("opened a nonexistent interface")
        } catch {
            // Without capture permission libpcap may report the permission problem first.
            #expect(error.message.hasPrefix("no such interface: nosuch0")
                || error.message.contains("needs root or CAP_NET_RAW"), "\(error.message)")
            #expect(!error.message.contains("\n"))
        }
        guard LiveInterfaceSourceTests.capturePermitted else { return }
        do throws(CaptureError) {
            _ = try LiveInterfaceSource(interface: "lo", filter: "tcp portt 1")
            Issue.record("accepted a bad filter")
        } catch {
            #expect(error.message.hasPrefix("bad capture filter \"tcp portt 1\": "), "\(error.message)")
            #expect(!error.message.contains("\n"))
        }
    }

    @Test func interfaceListIncludesTheLoopback() throws {
        let list = try LiveInterfaceSource.listInterfaces()
        let lo = try #require(list.first { $0.name == "lo" })
        #expect(lo.flags.contains("Loopback"))
        #expect(lo.listing(index: 3).hasPrefix("3.lo "))
        #expect(LiveInterface(name: "eth0", description: "", flags: ["Up", "Running"]).listing(index: 1)
            == "1.eth0 [Up, Running]")
    }

    /// `-w` without a live capture: the 126 frames of Captures/gurux/wrapper-none.pcap written through
    /// `pcap_dump` read back identical (bytes, times, wire lengths), also a frame cut by the snap length.
    @Test func dumpWriterRecordsReadBackIdenticalThroughPcapSource() throws {
        var frames = try Fixtures.frames("gurux/wrapper-none.pcap")
        try #require(frames.count == 126)
        var cut = frames[5]
        cut.originalLength = cut.data.count + 100
        frames.append(cut)
        let path = TempFile.write([], name: "dump.pcap")
        let dump = try PcapDumpWriter(path: path, linkType: 1, snaplen: 65535)
        for f in frames { dump.write(f) }
        try dump.flush()
        dump.close()
        dump.write(frames[0])  // ignored after close
        #expect(dump.count == frames.count)
        let back = try PcapSource(path: path)
        #expect(back.linkType == 1 && back.snapshotLength == 65535)
        var read: [CapturedFrame] = []
        while let f = try back.next() { read.append(f) }
        let same = read.map(\.data) == frames.map(\.data) && read.map(\.time) == frames.map(\.time)
            && read.map(\.originalLength) == frames.map(\.originalLength)
        #expect(same, "read back \(read.count) of \(frames.count) frames")
    }

    @Test func dumpWriterToAMissingDirectoryFailsWithThePath() {
        do throws(CaptureError) {
            _ = try PcapDumpWriter(path: "/nonexistent/dir/x.pcap", linkType: 1)
            Issue.record("opened a dump file in a missing directory")
        } catch {
            #expect(error.message.hasPrefix("/nonexistent/dir/x.pcap"), "\(error.message)")
        }
    }
}
