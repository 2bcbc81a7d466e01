import DLMSAPDU
import DLMSWire
import Testing
@testable import DLMSSession

/// General-block-transfer sequences built by hand (`BlockAPDU.gbt`, IEC 62056-5-3 §9.4.6.13), decoded by
/// `APDUDecoder` for their `BlockFacts`, and fed to one direction's `GBTReassembler` (the acknowledgements to the
/// other direction's, as the analyzer does).
@Suite struct GBTReassemblerTests {
    typealias A = BlockAPDU

    /// The server's APDU carried in the blocks: a get-response-normal with a 30-row profile buffer.
    static let carried: (apdu: [UInt8], value: DataValue) = {
        let (bytes, value) = A.profile(rows: 30)
        return ([0xC4, 0x01, 0xC1, 0x00] + bytes, value)
    }()

    static func facts(_ apdu: [UInt8]) -> BlockFacts {
        let d = APDUDecoder.decode(apdu[...])
        precondition(d.errors.isEmpty, "test GBT APDU did not decode")
        guard let b = d.facts.block else { preconditionFailure("no block facts") }
        return b
    }

    /// Server blocks 1...n of `carried` (window `window`, streaming), keyed by number.
    static func serverBlocks(_ n: Int, window: UInt8 = 1) -> [UInt16: (apdu: [UInt8], data: [UInt8])] {
        var out: [UInt16: ([UInt8], [UInt8])] = [:]
        for (i, piece) in A.split(carried.apdu, into: n).enumerated() {
            let number = UInt16(i + 1)
            out[number] = (A.gbt(last: i == n - 1, streaming: window > 1 && i != n - 1, window: window,
                                 block: number, ack: 0, data: piece), piece)
        }
        return out
    }

    struct Run {
        var server = GBTReassembler()
        var client = GBTReassembler()
        var frame = 0
        var done: [GBTAssembly] = []
        var remarks: [[String]] = []

        /// A server block: fed to the server direction.
        mutating func server(_ apdu: [UInt8], time: Timestamp? = nil) {
            frame += 1
            let (asm, r) = server.add(GBTReassemblerTests.facts(apdu), frames: [frame], time: time)
            if let asm { done.append(asm) }
            remarks.append(r)
        }

        /// A client acknowledgement: its remarks, and what it says about the server's blocks.
        mutating func clientAck(block: UInt16, ack: UInt16, window: UInt8) -> (remarks: [String], about: String?) {
            frame += 1
            let b = GBTReassemblerTests.facts(A.gbt(last: true, window: window, block: block, ack: ack, data: []))
            let about = server.acknowledgement(UInt16(b.gbt?.blockNumberAck ?? 0))
            let (asm, r) = client.add(b, frames: [frame], time: nil)
            #expect(asm == nil)
            return (r, about)
        }
    }

    @Test func theBlockHeaderIsDecoded() throws {
        let b = Self.facts(A.gbt(last: false, streaming: true, window: 5, block: 7, ack: 3, data: [0xAA]))
        #expect(b.kind == .generalBlockTransfer)
        #expect(b.blockNumber == 7)
        #expect(!b.lastBlock)
        #expect(b.gbt == GBTFacts(streaming: true, window: 5, blockNumberAck: 3))
        #expect(b.rawData == [0xAA])
    }

    @Test func blocksInOrderAreJoinedIntoTheCarriedAPDUOnce() throws {
        var run = Run()
        let blocks = Self.serverBlocks(4)
        for n in UInt16(1)...4 { run.server(try #require(blocks[n]).apdu) }
        #expect(run.done.count == 1)
        let asm = try #require(run.done.first)
        #expect(asm.bytes == Self.carried.apdu)
        #expect(asm.blocks == 4)
        #expect(asm.frames == [1, 2, 3, 4])
        #expect(asm.notes.isEmpty)
        #expect(run.remarks.allSatisfy { $0.isEmpty })
        #expect(!run.server.inProgress)
        // The joined bytes are the APDU the server sent: a get-response with the profile buffer.
        let d = APDUDecoder.decode(asm.bytes[...])
        #expect(d.type == "get-response")
        #expect(d.facts.values == [Self.carried.value])
    }

    @Test func aStreamedWindowIsAcknowledgedAndJoined() throws {
        var run = Run()
        let blocks = Self.serverBlocks(6, window: 3)
        for n in UInt16(1)...3 { run.server(try #require(blocks[n]).apdu) }
        let ack = run.clientAck(block: 2, ack: 3, window: 3)
        #expect(ack.remarks == ["acknowledges block 3"])
        #expect(ack.about == nil)
        for n in UInt16(4)...6 { run.server(try #require(blocks[n]).apdu) }
        let asm = try #require(run.done.first)
        #expect(run.done.count == 1)
        #expect(asm.bytes == Self.carried.apdu)
        #expect(asm.frames == [1, 2, 3, 5, 6, 7])
    }

    @Test func aLostBlockIsAskedForAgainResentAndJoinedOnce() throws {
        var run = Run()
        let blocks = Self.serverBlocks(6, window: 3)
        // The capture (near the server) sees 1, 2, 3; the client lost 2 and acknowledges 1.
        for n in UInt16(1)...3 { run.server(try #require(blocks[n]).apdu) }
        let ack = run.clientAck(block: 2, ack: 1, window: 3)
        #expect(ack.about == "asks again for block(s) 2..3 (lost-block recovery)")
        // The server re-sends 2 and 3, then goes on.
        run.server(try #require(blocks[2]).apdu)
        run.server(try #require(blocks[3]).apdu)
        #expect(run.remarks[3] == ["block 2 received again: not joined twice"])
        #expect(run.remarks[4] == ["block 3 received again: not joined twice"])
        for n in UInt16(4)...6 { run.server(try #require(blocks[n]).apdu) }
        let asm = try #require(run.done.first)
        #expect(run.done.count == 1)
        #expect(asm.bytes == Self.carried.apdu)
        #expect(asm.blocks == 6)
        #expect(asm.frames == [1, 2, 3, 7, 8, 9])
        #expect(asm.notes == ["2 block(s) were received twice and joined once"])
    }

    @Test func aBlockTheCaptureMissedIsFilledByTheResentOne() throws {
        var run = Run()
        let blocks = Self.serverBlocks(4, window: 4)
        run.server(try #require(blocks[1]).apdu)
        run.server(try #require(blocks[3]).apdu)
        #expect(run.remarks[1] == ["blocks 2..2 missing so far"])
        run.server(try #require(blocks[4]).apdu)
        #expect(run.remarks[2] == ["waiting for block 2"])
        #expect(run.server.unfinished() == "general-block-transfer incomplete: 3 block(s) received, block(s) 2 missing")
        let ack = run.clientAck(block: 2, ack: 1, window: 4)
        #expect(ack.about == "asks again for block(s) 2..4 (lost-block recovery)")
        run.server(try #require(blocks[2]).apdu)
        #expect(run.remarks[3] == ["block 2 arrived late, after block 4: the gap is filled"])
        let asm = try #require(run.done.first)
        #expect(asm.bytes == Self.carried.apdu)
        #expect(asm.frames == [1, 5, 2, 3])
        #expect(asm.notes == ["joined after lost-block recovery: block(s) 2 came late"])
    }

    @Test func aDuplicateAfterTheAPDUWasJoinedStartsNoPhantomTransfer() throws {
        var run = Run()
        let blocks = Self.serverBlocks(3, window: 3)
        for n in UInt16(1)...3 { run.server(try #require(blocks[n]).apdu) }
        run.server(try #require(blocks[3]).apdu)
        run.server(try #require(blocks[2]).apdu)
        #expect(run.remarks[3] == ["block 3 received again after its APDU was joined: not joined twice"])
        #expect(run.remarks[4] == ["block 2 received again after its APDU was joined: not joined twice"])
        #expect(run.done.count == 1)
        #expect(!run.server.inProgress)
        // A new block 1 is a new transfer, even with the same bytes (the same request asked again).
        run.server(try #require(blocks[1]).apdu)
        #expect(run.remarks[5].isEmpty)
        #expect(run.server.inProgress)
    }

    @Test func anUnfinishedTransferSaysWhatIsMissing() throws {
        var run = Run()
        let blocks = Self.serverBlocks(5, window: 5)
        run.server(try #require(blocks[1]).apdu)
        run.server(try #require(blocks[2]).apdu)
        run.server(try #require(blocks[4]).apdu)
        #expect(run.done.isEmpty)
        #expect(run.server.unfinished()
            == "general-block-transfer incomplete: 3 block(s) received, block(s) 3 missing, last block never came "
            + "(highest seen 4)")
        #expect(run.client.unfinished() == nil)
    }

    @Test func blockOneWithOtherBytesStartsANewTransfer() throws {
        var run = Run()
        run.server(A.gbt(last: false, block: 1, ack: 0, data: [0xC4, 0x01]))
        run.server(A.gbt(last: false, block: 1, ack: 0, data: [0xC4, 0x01, 0xC1, 0x00]))
        #expect(run.remarks[1] == ["a new transfer starts at block 1: the previous one (1 blocks) is abandoned"])
        run.server(A.gbt(last: true, block: 2, ack: 0, data: [0x11, 0x07]))
        let asm = try #require(run.done.first)
        #expect(asm.bytes == [0xC4, 0x01, 0xC1, 0x00, 0x11, 0x07])
        #expect(asm.frames == [2, 3])
    }

    @Test func aTransferSeenFromTheMiddleIsJoinedAndSaysSo() throws {
        var run = Run()
        run.server(A.gbt(last: false, block: 3, ack: 0, data: [0x01]))
        run.server(A.gbt(last: true, block: 4, ack: 0, data: [0x02]))
        let asm = try #require(run.done.first)
        #expect(asm.blocks == 2)
        #expect(asm.notes == ["blocks 1..2 were not captured: the APDU is incomplete"])
    }

    @Test func anIdleTransferExpiresInCaptureTime() throws {
        var run = Run()
        let blocks = Self.serverBlocks(3)
        run.server(try #require(blocks[1]).apdu, time: at(0))
        run.server(try #require(blocks[2]).apdu, time: at(120))
        #expect(run.remarks[1].isEmpty)
        run.server(try #require(blocks[3]).apdu, time: at(241))
        #expect(run.remarks[2] == [
            "reassembly.expired: general-block-transfer not continued within 120 s of capture time: dropped after 2 "
                + "block(s), last block never came (highest seen 2)",
        ])
        // Block 3 alone is then an APDU joined without its first blocks.
        #expect(run.done.first?.notes == ["blocks 1..2 were not captured: the APDU is incomplete"])
    }

    @Test func withoutCaptureTimesNothingExpires() throws {
        var run = Run()
        run.server.idleSeconds = 1
        let blocks = Self.serverBlocks(3)
        for n in UInt16(1)...3 { run.server(try #require(blocks[n]).apdu) }
        #expect(run.done.first?.bytes == Self.carried.apdu)
    }

    @Test func aTransferBeyondTheSizeCapIsAbandoned() {
        var g = GBTReassembler()
        let mib = [UInt8](repeating: 0x00, count: 1 << 20)
        var remarks: [String] = []
        for n in 1...17 {
            let b = BlockFacts(kind: .generalBlockTransfer, blockNumber: UInt32(n), lastBlock: false, rawData: mib,
                               gbt: GBTFacts(streaming: true, window: 63, blockNumberAck: 0))
            remarks += g.add(b, frames: [n], time: nil).1
        }
        #expect(remarks == ["reassembly.limit: general-block-transfer larger than 16777216 bytes or 65535 blocks: "
            + "abandoned"])
        #expect(!g.inProgress)
    }

    /// Random orders, duplicates and re-sends of the same blocks (seeded): whatever the order, once every block
    /// has come the APDU is joined exactly once and byte-exact.
    @Test func anyOrderWithDuplicatesJoinsExactlyOnce() throws {
        var rng = SplitMix(seed: 0x6B7)
        let blocks = Self.serverBlocks(8, window: 8)
        for _ in 0..<200 {
            var order = (1...8).map { UInt16($0) }
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
            }
            // Block 1 first: a new block 1 is how a new transfer starts, so recovery never re-sends it late.
            if let i = order.firstIndex(of: 1) { order.swapAt(0, i) }
            var sequence: [UInt16] = []
            for n in order {
                sequence.append(n)
                if rng.next() % 4 == 0 { sequence.append(n) }
            }
            var run = Run()
            for n in sequence { run.server(try #require(blocks[n]).apdu) }
            #expect(run.done.count == 1)
            #expect(run.done.first?.bytes == Self.carried.apdu)
        }
    }
}

/// SplitMix64, for seeded shuffles in tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
