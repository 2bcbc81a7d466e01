import DLMSWire
import Testing
@testable import DLMSCapture

private let client = Endpoint(address: [10, 0, 0, 1], port: 40000)
private let server = Endpoint(address: [10, 0, 0, 2], port: 4059)

private func tcp(_ from: Endpoint, _ to: Endpoint, seq: UInt32, ack: UInt32? = nil, flags: UInt8 = 0x08,
                 _ payload: [UInt8] = [], frame: Int = 1, seconds: Int64 = 0, missing: Int = 0) -> Packet {
    Packet(frame: frame, time: Timestamp(seconds: seconds, micros: 0), proto: .tcp, source: from, destination: to,
           tcp: TCPHeader(sequence: seq, acknowledgement: ack ?? 0, flags: ack == nil ? flags : flags | 0x10),
           payload: payload[...], truncated: missing > 0, missingBytes: missing)
}

private func bytes(_ n: Int, from: Int = 0) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 + from) } }

@Suite struct TCPReassemblerTests {
    // MARK: - A real stream, cut up and disturbed

    /// The TCP packets of wrapper-none.pcap re-cut into pieces of 1-40 bytes (correct sequence numbers), with the
    /// ACK flag cleared so only the sequence space drives delivery. SYNs and FINs stay where they were.
    struct Cut {
        var packets: [Packet]
        /// Index range of the data pieces between the handshake and the first FIN.
        var middle: Range<Int>
        var clientToServer: [UInt8]
        var serverToClient: [UInt8]
    }

    static func cut(seed: UInt64) throws -> Cut {
        var rng = SplitMix64(seed: seed)
        let original = try Fixtures.packets("gurux/wrapper-none.pcap")
        let reference = StreamLog.run(original)
        var out: [Packet] = []
        var firstData: Int?
        var firstFin: Int?
        for p in original {
            guard let h = p.tcp else { continue }
            var q = p
            q.tcp?.flags = h.flags & ~0x10
            if h.fin, firstFin == nil { firstFin = out.count }
            if p.payload.isEmpty || h.syn || h.fin {
                out.append(q)
                continue
            }
            if firstData == nil { firstData = out.count }
            var offset = 0
            while offset < p.payload.count {
                let n = min(Int.random(in: 1...40, using: &rng), p.payload.count - offset)
                var piece = q
                piece.tcp?.sequence = h.sequence &+ UInt32(offset)
                let s = p.payload.startIndex + offset
                piece.payload = p.payload[s..<(s + n)]
                out.append(piece)
                offset += n
            }
        }
        let middle = (firstData ?? 0)..<(firstFin ?? out.count)
        return Cut(packets: out, middle: middle,
                   clientToServer: reference.bytes("127.0.0.1:34036", "127.0.0.1:24050"),
                   serverToClient: reference.bytes("127.0.0.1:24050", "127.0.0.1:34036"))
    }

    func expectOriginal(_ log: StreamLog, _ cut: Cut, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(log.bytes("127.0.0.1:34036", "127.0.0.1:24050") == cut.clientToServer, sourceLocation: sourceLocation)
        #expect(log.bytes("127.0.0.1:24050", "127.0.0.1:34036") == cut.serverToClient, sourceLocation: sourceLocation)
        #expect(log.gaps.isEmpty, sourceLocation: sourceLocation)
        #expect(log.closed.map(\.reason) == ["fin"], sourceLocation: sourceLocation)
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func piecesInOrderGiveTheOriginalStreams(_ seed: UInt64) throws {
        let c = try Self.cut(seed: seed)
        #expect(c.clientToServer.count == 2398 && c.serverToClient.count == 9545)
        let log = StreamLog.run(c.packets)
        expectOriginal(log, c)
        #expect(log.notices.isEmpty)
    }

    @Test(arguments: [UInt64(11), 12, 13, 14])
    func reorderedDuplicatedAndOverlappingPiecesGiveTheOriginalStreamsOnce(_ seed: UInt64) throws {
        var c = try Self.cut(seed: seed)
        var rng = SplitMix64(seed: seed)
        var middle = Array(c.packets[c.middle])
        // Overlapping re-sends: a piece widened by up to 5 bytes on each side, taken from the real stream.
        for _ in 0..<30 {
            guard let i = middle.indices.randomElement(using: &rng), let h = middle[i].tcp else { continue }
            let toServer = middle[i].destination.port == 24050
            let stream = toServer ? c.clientToServer : c.serverToClient
            let isn = toServer ? c.packets[0].tcp?.sequence : c.packets[1].tcp?.sequence
            guard let isn else { continue }
            let start = Int(h.sequence &- isn &- 1)
            let lo = max(0, start - Int.random(in: 0...5, using: &rng))
            let hi = min(stream.count, start + middle[i].payload.count + Int.random(in: 0...5, using: &rng))
            var wide = middle[i]
            wide.tcp?.sequence = isn &+ 1 &+ UInt32(lo)
            wide.payload = stream[lo..<hi]
            middle.insert(wide, at: min(middle.count, i + Int.random(in: 0...6, using: &rng)))
        }
        // Exact duplicates.
        for _ in 0..<30 {
            guard let i = middle.indices.randomElement(using: &rng) else { continue }
            middle.insert(middle[i], at: min(middle.count, i + Int.random(in: 0...6, using: &rng)))
        }
        // Reorder within windows of 8.
        var k = 0
        while k < middle.count {
            let end = min(middle.count, k + 8)
            middle[k..<end].shuffle(using: &rng)
            k = end
        }
        c.packets.replaceSubrange(c.middle, with: middle)
        let log = StreamLog.run(c.packets)
        expectOriginal(log, c)
        #expect(log.notices.isEmpty)
    }

    @Test func droppedPieceIsOneGapOfItsSizeAndTheRestArrivesOnce() throws {
        var c = try Self.cut(seed: 21)
        // Drop a server → client piece in the middle of the capture.
        let serverPieces = c.middle.filter { c.packets[$0].source.port == 24050 }
        let victim = serverPieces[serverPieces.count / 2]
        let lost = c.packets[victim]
        c.packets.remove(at: victim)
        let log = StreamLog.run(c.packets)
        #expect(log.bytes("127.0.0.1:34036", "127.0.0.1:24050") == c.clientToServer)
        #expect(log.gaps.count == 1)
        #expect(log.gaps.first?.missing == lost.payload.count)
        #expect(log.gaps.first?.key.from == "127.0.0.1:24050")
        let got = log.bytes("127.0.0.1:24050", "127.0.0.1:34036")
        #expect(got.count == c.serverToClient.count - lost.payload.count)
        let isn = try #require(c.packets[1].tcp?.sequence)
        let at = Int((lost.tcp?.sequence ?? 0) &- isn &- 1)
        #expect(Array(got[..<at]) == Array(c.serverToClient[..<at]))
        #expect(Array(got[at...]) == Array(c.serverToClient[(at + lost.payload.count)...]))
    }

    @Test func retransmissionWithDifferentBytesIsNoticedAndTheFirstCopyKept() throws {
        var c = try Self.cut(seed: 31)
        var middle = Array(c.packets[c.middle])
        var altered = 0
        var i = 3
        while i < middle.count, altered < 5 {
            var copy = middle[i]
            var changed = Array(copy.payload)
            changed[0] ^= 0xFF
            copy.payload = changed[...]
            middle.insert(copy, at: i + 1)
            altered += 1
            i += 17
        }
        c.packets.replaceSubrange(c.middle, with: middle)
        let log = StreamLog.run(c.packets)
        expectOriginal(log, c)
        #expect(log.notices.map(\.code) == Array(repeating: "tcp.overlap-mismatch", count: 5))
    }

    @Test func peerAcknowledgingUnseenBytesDeclaresTheGapAtThatFrame() throws {
        var packets = try Fixtures.packets("gurux/wrapper-none.pcap")
        // Frame 27: server → client, 264 bytes; frame 28 is the client's ACK of it.
        let index = try #require(packets.firstIndex { $0.frame == 27 })
        packets.remove(at: index)
        let log = StreamLog.run(packets)
        #expect(log.gaps.count == 1)
        #expect(log.gaps.first?.missing == 264)
        #expect(log.gaps.first?.frame == 28)
    }

    // MARK: - Sequence space

    @Test func sequenceNumbersWrapAround() {
        let isn: UInt32 = 0xFFFF_FFF0
        let all = bytes(30)
        var r = TCPReassembler()
        var log = StreamLog()
        log.add(r.process(tcp(client, server, seq: isn, flags: 0x02)))
        // Segments 10...19, 0...9, 20...29: crossing 2^32 at offset 15.
        log.add(r.process(tcp(client, server, seq: isn &+ 11, Array(all[10..<20]), frame: 2)))
        log.add(r.process(tcp(client, server, seq: isn &+ 1, Array(all[0..<10]), frame: 3)))
        log.add(r.process(tcp(client, server, seq: isn &+ 21, Array(all[20..<30]), frame: 4)))
        log.add(r.finish())
        #expect(log.bytes(client.description, server.description) == all)
        #expect(log.gaps.isEmpty)
        #expect(log.opened.first?.initiator == client.description)
    }

    @Test func captureStartingMidConnectionStartsAtTheFirstSegment() {
        let log = StreamLog.run([
            tcp(server, client, seq: 900_000, ack: 5000, [1, 2, 3], frame: 1),
            tcp(client, server, seq: 5000, ack: 900_003, [4, 5], frame: 2),
            tcp(server, client, seq: 900_003, ack: 5002, [6], frame: 3),
        ])
        #expect(log.opened.count == 1)
        #expect(log.opened.first?.initiator == nil)
        #expect(log.bytes(server.description, client.description) == [1, 2, 3, 6])
        #expect(log.bytes(client.description, server.description) == [4, 5])
        #expect(log.gaps.isEmpty)
    }

    @Test func synAckAloneNamesTheInitiator() {
        let log = StreamLog.run([tcp(server, client, seq: 7, ack: 100, flags: 0x02)])
        #expect(log.opened.first?.initiator == client.description)
    }

    @Test func dataMadeContiguousIsStampedWithTheFillingFrame() {
        var r = TCPReassembler()
        _ = r.process(tcp(client, server, seq: 99, flags: 0x02, frame: 1))
        let early = r.process(tcp(client, server, seq: 105, [6, 7], frame: 2))
        #expect(early.count == 0)
        var log = StreamLog()
        log.add(r.process(tcp(client, server, seq: 100, [1, 2, 3, 4, 5], frame: 3)))
        #expect(log.bytes(client.description, server.description) == [1, 2, 3, 4, 5, 6, 7])
        #expect(log.frames == [3, 3])
    }

    @Test func keepAliveIsNeitherDataNorANotice() {
        let log = StreamLog.run([
            tcp(client, server, seq: 100, [1, 2, 3], frame: 1),
            tcp(client, server, seq: 102, [0], frame: 2),  // keep-alive: one garbage byte at next - 1
        ])
        #expect(log.bytes(client.description, server.description) == [1, 2, 3])
        #expect(log.notices.isEmpty)
    }

    // MARK: - Bounds and gaps

    @Test func outOfOrderQueueOverItsSegmentCapMovesPastTheHole() {
        let limits = ReassemblyLimits(maxBufferedSegmentsPerDirection: 4)
        var packets = [tcp(client, server, seq: 0, [0], frame: 1)]
        // Offset 1...10 never arrives; five segments after it do.
        for k in 0..<5 { packets.append(tcp(client, server, seq: UInt32(11 + 10 * k), bytes(10, from: 11 + 10 * k),
                                            frame: 2 + k)) }
        let log = StreamLog.run(packets, limits: limits)
        #expect(log.gaps.map(\.missing) == [10])
        #expect(log.gaps.first?.frame == 6)  // the fifth queued segment goes over the cap of four
        #expect(log.bytes(client.description, server.description) == [0] + bytes(50, from: 11))
    }

    @Test func outOfOrderQueueOverItsByteCapMovesPastTheHole() {
        let limits = ReassemblyLimits(maxBufferedBytesPerDirection: 25)
        var packets = [tcp(client, server, seq: 0, [0], frame: 1)]
        for k in 0..<3 { packets.append(tcp(client, server, seq: UInt32(11 + 10 * k), bytes(10), frame: 2 + k)) }
        let log = StreamLog.run(packets, limits: limits)
        #expect(log.gaps.map(\.missing) == [10])
        #expect(log.gaps.first?.frame == 4)
    }

    @Test func finInBothDirectionsWithAHoleReportsTheGapThenClosesThenANewSynIsANewConnection() {
        let log = StreamLog.run([
            tcp(client, server, seq: 0, flags: 0x02, frame: 1),
            tcp(server, client, seq: 500, ack: 1, flags: 0x02, frame: 2),
            tcp(client, server, seq: 1, [1, 2], frame: 3),
            tcp(client, server, seq: 6, [6, 7], frame: 4),  // 3, 4, 5 lost
            tcp(client, server, seq: 8, flags: 0x01, frame: 5),
            tcp(server, client, seq: 501, flags: 0x01, frame: 6),
            tcp(client, server, seq: 9, frame: 7),  // late ACK: ignored
            tcp(client, server, seq: 7000, flags: 0x02, frame: 8),
            tcp(client, server, seq: 7001, [9], frame: 9),
        ])
        #expect(log.gaps.map(\.missing) == [3])
        #expect(log.gaps.first?.frame == 6)
        #expect(log.closed.map(\.reason) == ["fin", "end of capture"])
        #expect(log.opened.map(\.id) == [ConnectionID(1), ConnectionID(2)])
        let second = log.data.filter { $0.key.id == ConnectionID(2) }.values.first
        #expect(second == [9])
    }

    @Test func resetClosesAndFlushesWhatIsQueued() {
        let log = StreamLog.run([
            tcp(client, server, seq: 0, [1], frame: 1),
            tcp(client, server, seq: 3, [4], frame: 2),
            tcp(server, client, seq: 0, flags: 0x04, frame: 3),
        ])
        #expect(log.gaps.map(\.missing) == [2])
        #expect(log.bytes(client.description, server.description) == [1, 4])
        #expect(log.closed.map(\.reason) == ["reset"])
    }

    @Test func synWithANewSequenceOnAnOpenTupleReplacesTheConnection() {
        let log = StreamLog.run([
            tcp(client, server, seq: 0, flags: 0x02, frame: 1),
            tcp(client, server, seq: 0, flags: 0x02, frame: 2),  // retransmitted SYN: same connection
            tcp(client, server, seq: 1, [1], frame: 3),
            tcp(client, server, seq: 90_000, flags: 0x02, frame: 4),  // port reused without a FIN seen
        ])
        #expect(log.opened.count == 2)
        #expect(log.closed.map(\.reason) == ["reused", "end of capture"])
    }

    @Test func finishDeliversQueuedDataAfterTheHole() {
        var r = TCPReassembler()
        var log = StreamLog()
        log.add(r.process(tcp(client, server, seq: 0, [1], frame: 1)))
        log.add(r.process(tcp(client, server, seq: 5, [6], frame: 2)))
        #expect(log.gaps.isEmpty)
        log.add(r.finish())
        #expect(log.gaps.map(\.missing) == [4])
        #expect(log.gaps.first?.frame == 2)
        #expect(log.bytes(client.description, server.description) == [1, 6])
        #expect(log.closed.map(\.reason) == ["end of capture"])
    }

    @Test func truncatedSegmentDeliversItsBytesThenAGapThenTheNextSegment() {
        let log = StreamLog.run([
            tcp(client, server, seq: 0, [1, 2, 3], frame: 1, missing: 4),
            tcp(client, server, seq: 7, [8, 9], frame: 2),
        ])
        #expect(log.notices.map(\.code) == ["capture.truncated"])
        #expect(log.gaps.map(\.missing) == [4])
        #expect(log.gaps.first?.frame == 1)
        #expect(log.bytes(client.description, server.description) == [1, 2, 3, 8, 9])
    }

    @Test func leastRecentlyUsedConnectionsAreEvictedPastTheCap() {
        let limits = ReassemblyLimits(maxConnections: 8)
        var r = TCPReassembler(limits: limits)
        var log = StreamLog()
        for k in 0..<20 {
            let c = Endpoint(address: [10, 0, 0, 1], port: UInt16(30000 + k))
            log.add(r.process(tcp(c, server, seq: 0, [UInt8(k)], frame: k + 1)))
            #expect(r.trackedConnections <= 8)
        }
        #expect(log.opened.map(\.id.value) == Array(1...20))
        #expect(log.closed.count >= 12)
        #expect(log.closed.allSatisfy { $0.reason == "evicted" })
        // The oldest go first.
        #expect(log.closed.first?.id == ConnectionID(1))
    }

    @Test func idleConnectionsAreClosedAfterTheTimeout() {
        let limits = ReassemblyLimits(idleTimeout: 10)
        let other = Endpoint(address: [10, 0, 0, 3], port: 1)
        let log = StreamLog.run([
            tcp(client, server, seq: 0, [1], frame: 1, seconds: 0),
            tcp(other, server, seq: 0, [2], frame: 2, seconds: 100),
        ], limits: limits)
        #expect(log.closed.map(\.reason) == ["idle", "end of capture"])
        #expect(log.closed.first?.id == ConnectionID(1))
    }

    // MARK: - UDP

    @Test func udpDatagramsAreDataEventsOnAFlowPerTuple() {
        func udp(_ from: Endpoint, _ to: Endpoint, _ payload: [UInt8], frame: Int, missing: Int = 0) -> Packet {
            Packet(frame: frame, time: nil, proto: .udp, source: from, destination: to, tcp: nil,
                   payload: payload[...], truncated: missing > 0, missingBytes: missing)
        }
        let third = Endpoint(address: [10, 0, 0, 3], port: 4059)
        var r = TCPReassembler()
        var log = StreamLog()
        log.add(r.process(udp(client, server, [1, 2], frame: 1)))
        log.add(r.process(udp(server, client, [3], frame: 2)))
        log.add(r.process(udp(client, third, [4], frame: 3, missing: 2)))
        #expect(log.opened.map(\.id.value) == [1, 2])
        #expect(log.bytes(client.description, server.description) == [1, 2])
        #expect(log.bytes(server.description, client.description) == [3])
        #expect(log.gaps.map(\.missing) == [2])
        #expect(log.notices.map(\.code) == ["capture.truncated"])
        // Each datagram is its own event.
        var r2 = TCPReassembler()
        let events = r2.process(udp(client, server, [1], frame: 1)) + r2.process(udp(client, server, [1], frame: 2))
        #expect(events.filter { if case .data = $0 { return true } else { return false } }.count == 2)
    }
}

@Suite struct TCPReassemblerRandomTests {
    /// Seeded random segments (any flags, sequence numbers near and far, truncation) on a handful of tuples:
    /// nothing traps, every event carries the frame of the packet being processed, and the table stays bounded.
    @Test(arguments: [UInt64(101), 102, 103])
    func randomSegmentsKeepTheInvariants(_ seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let limits = ReassemblyLimits(maxBufferedBytesPerDirection: 300, maxBufferedSegmentsPerDirection: 6,
                                      maxConnections: 3, retainedBytesPerDirection: 64, idleTimeout: 50)
        var r = TCPReassembler(limits: limits)
        let hosts = (0..<4).map { Endpoint(address: [10, 0, 0, UInt8($0)], port: UInt16(4059 + $0 % 2)) }
        var bases: [UInt32] = (0..<4).map { _ in UInt32.random(in: 0...UInt32.max, using: &rng) }
        for frame in 1...3000 {
            let a = Int.random(in: 0..<4, using: &rng)
            var b = Int.random(in: 0..<4, using: &rng)
            if b == a { b = (a + 1) % 4 }
            let jump = Int64.random(in: -200...400, using: &rng)
            let seq = UInt32(truncatingIfNeeded: Int64(bases[a]) + jump)
            if Bool.random(using: &rng) { bases[a] = bases[a] &+ UInt32.random(in: 0...60, using: &rng) }
            let payload = (0..<Int.random(in: 0...60, using: &rng)).map { _ in UInt8.random(in: 0...3, using: &rng) }
            let missing = Int.random(in: 0...9, using: &rng) == 0 ? Int.random(in: 1...30, using: &rng) : 0
            var flags = UInt8.random(in: 0...0x1F, using: &rng)
            if Int.random(in: 0...5, using: &rng) != 0 { flags &= ~0x07 }  // keep SYN/FIN/RST rarer
            let p = Packet(frame: frame, time: Timestamp(seconds: Int64(frame / 20), micros: 0),
                           proto: Int.random(in: 0...9, using: &rng) == 0 ? .udp : .tcp, source: hosts[a],
                           destination: hosts[b],
                           tcp: TCPHeader(sequence: seq, acknowledgement: bases[b] &+ UInt32.random(in: 0...100,
                                                                                                  using: &rng),
                                          flags: flags),
                           payload: payload[...], truncated: missing > 0, missingBytes: missing)
            var log = StreamLog()
            log.add(r.process(p))
            #expect(log.frames.allSatisfy { $0 == frame })
            #expect(log.gaps.allSatisfy { $0.missing > 0 })
            #expect(r.trackedConnections <= 3)
        }
        var end = StreamLog()
        end.add(r.finish())
        #expect(r.trackedConnections == 0)
    }
}
