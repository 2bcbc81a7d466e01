import DLMSAPDU
import DLMSWire
import Testing
@testable import DLMSSession

/// GET/SET/ACTION block transfers followed through the session state, from hand-built APDUs (`BlockAPDUs.swift`)
/// decoded by `APDUDecoder`: what each block's record gets (`block`, `reassembled`, `notes`).
@Suite struct BlockTransferServicesTests {
    typealias A = BlockAPDU
    let c2s = Direction.clientToServer
    let s2c = Direction.serverToClient

    // MARK: - GET

    @Test func getDatablocksWithNextRequestsAreJoinedIntoTheProfileBuffer() throws {
        var s = BlockSession()
        let (bytes, value) = A.profile(rows: 40)
        let pieces = A.split(bytes, into: 4)
        var done: [Reassembly] = []
        for (i, p) in pieces.enumerated() {
            let n = UInt32(i + 1)
            let o = s.feed(A.getResponseBlock(1, last: i == 3, block: n, raw: p), s2c)
            #expect(o.block?.transfer == "get#1")
            #expect(o.block?.blockNumber == n)
            #expect(o.notes.isEmpty)
            if let r = o.reassembled { done.append(r) }
            if i < 3 {
                let ack = s.feed(A.getRequestNext(1, block: n), c2s)
                #expect(ack.block == nil && ack.reassembled == nil && ack.notes.isEmpty)
            }
        }
        let r = try #require(done.first)
        #expect(done.count == 1)
        #expect(r.blocks == 4)
        #expect(r.frames == [1, 3, 5, 7])
        #expect(r.bytes == bytes)
        #expect(r.value == value)
        #expect(r.error == nil)
        #expect(s.state.finish().isEmpty)
    }

    @Test func aGetTransferAbortedByTheServerIsReportedAndClosed() {
        var s = BlockSession()
        _ = s.feed(A.getResponseBlock(2, last: false, block: 1, raw: [0x01, 0x02]), s2c)
        _ = s.feed(A.getRequestNext(2, block: 1), c2s)
        // data-access-result 15 long-get-aborted instead of block 2.
        let o = s.feed(A.getResponseResult(2, block: 2, result: 15), s2c)
        #expect(o.notes == ["block transfer get#1 aborted by the peer: long-get-aborted"])
        #expect(o.block?.transfer == "get#1")
        #expect(o.reassembled == nil)
        #expect(s.state.finish().isEmpty)
    }

    @Test func noLongGetInProgressWithoutATransferIsReported() {
        var s = BlockSession()
        let o = s.feed(A.getResponseResult(3, block: 5, result: 16), s2c)
        #expect(o.notes == ["block 5 carries no-long-get-in-progress"])
        #expect(o.block == nil)
    }

    @Test func outOfOrderBlocksAreHeldAndJoinedInOrderOnce() throws {
        var s = BlockSession()
        let (bytes, value) = A.profile(rows: 12)
        let p = A.split(bytes, into: 4)
        #expect(s.feed(A.getResponseBlock(1, last: false, block: 1, raw: p[0]), s2c).notes.isEmpty)
        let third = s.feed(A.getResponseBlock(1, last: false, block: 3, raw: p[2]), s2c)
        #expect(third.notes == ["blocks 2..2 missing"])
        let last = s.feed(A.getResponseBlock(1, last: true, block: 4, raw: p[3]), s2c)
        #expect(last.reassembled == nil)
        #expect(last.notes.isEmpty)
        let second = s.feed(A.getResponseBlock(1, last: false, block: 2, raw: p[1]), s2c)
        #expect(second.notes == ["block 2 arrived out of order (after block 4)"])
        let r = try #require(second.reassembled)
        #expect(r.bytes == bytes)
        #expect(r.value == value)
        #expect(r.blocks == 4)
        #expect(r.frames == [1, 4, 2, 3])
    }

    @Test func aRepeatedBlockIsReportedAndNotJoinedTwice() throws {
        var s = BlockSession()
        let (bytes, value) = A.profile(rows: 6)
        let p = A.split(bytes, into: 3)
        _ = s.feed(A.getResponseBlock(1, last: false, block: 1, raw: p[0]), s2c)
        _ = s.feed(A.getResponseBlock(1, last: false, block: 2, raw: p[1]), s2c)
        let again = s.feed(A.getResponseBlock(1, last: false, block: 2, raw: p[1]), s2c)
        #expect(again.notes == ["block 2 repeated (expected 3): not joined twice"])
        // A repeated first block (same bytes) is a duplicate too, not a restart.
        let first = s.feed(A.getResponseBlock(1, last: false, block: 1, raw: p[0]), s2c)
        #expect(first.notes == ["block 1 repeated (expected 3): not joined twice"])
        let r = try #require(s.feed(A.getResponseBlock(1, last: true, block: 3, raw: p[2]), s2c).reassembled)
        #expect(r.value == value)
        #expect(r.blocks == 3)
    }

    @Test func aNewFirstBlockRestartsTheTransfer() throws {
        var s = BlockSession()
        _ = s.feed(A.getResponseBlock(1, last: false, block: 1, raw: [0x01, 0x01]), s2c)
        _ = s.feed(A.getResponseBlock(1, last: false, block: 2, raw: [0x11]), s2c)
        let o = s.feed(A.getResponseBlock(1, last: false, block: 1, raw: [0x02, 0x01]), s2c)
        #expect(o.notes == ["block transfer get#1 restarted at block 1 after 2 blocks"])
        #expect(o.block?.transfer == "get#2")
        let r = try #require(s.feed(A.getResponseBlock(1, last: true, block: 2, raw: [0x11, 0x07]), s2c).reassembled)
        #expect(r.value == .structure([.unsigned(7)]))
    }

    @Test func whatIsMissingIsReportedWhenTheConversationEnds() {
        var s = BlockSession()
        _ = s.feed(A.getResponseBlock(1, last: false, block: 1, raw: [0x01]), s2c)
        _ = s.feed(A.getResponseBlock(1, last: false, block: 2, raw: [0x02]), s2c)
        _ = s.feed(A.getResponseBlock(2, last: false, block: 1, raw: [0x01]), s2c)
        _ = s.feed(A.getResponseBlock(2, last: true, block: 4, raw: [0x04]), s2c)
        #expect(s.state.finish() == [
            "block transfer get#1 incomplete: 2 blocks received, block 3 never came",
            "block transfer get#2 incomplete: 2 blocks received, block(s) 2..3 missing",
        ])
    }

    @Test func aTransferSeenFromTheMiddleIsReported() {
        var s = BlockSession()
        let o = s.feed(A.getResponseBlock(1, last: false, block: 3, raw: [0x11]), s2c)
        #expect(o.notes == ["transfer starts at block 3: blocks 1..2 not seen"])
        let last = s.feed(A.getResponseBlock(1, last: true, block: 4, raw: [0x05]), s2c)
        #expect(last.notes == ["transfer get#1 joined from block 3: the data lacks blocks 1..2"])
        #expect(last.reassembled?.bytes == [0x11, 0x05])
    }

    @Test func blockNumberZeroAndTheHighestNumberDoNotTrap() {
        var s = BlockSession()
        let o = s.feed(A.getResponseBlock(1, last: false, block: 0, raw: [0x11]), s2c)
        #expect(o.notes == ["transfer starts at block 0, where block numbers start at 1"])
        _ = s.feed(A.getResponseBlock(1, last: false, block: UInt32.max, raw: [0x11]), s2c)
        _ = s.feed(A.getResponseBlock(4, last: true, block: UInt32.max, raw: [0x11, 0x01]), s2c)
        #expect(s.state.finish().count == 1)
    }

    @Test func getWithListDatablocksDecodeAsAListOfResults() throws {
        var s = BlockSession()
        // SEQUENCE OF Get-Data-Result: 2 items, data unsigned 5, data-access-result 4 (object-unavailable).
        let raw: [UInt8] = [0x02, 0x00, 0x11, 0x05, 0x01, 0x04]
        _ = s.feed(A.getResponseBlock(1, last: false, block: 1, raw: Array(raw[0..<3])), s2c)
        let o = s.feed(A.getResponseBlock(1, last: true, block: 2, raw: Array(raw[3...])), s2c)
        let r = try #require(o.reassembled)
        #expect(r.value == .array([.unsigned(5), .enumValue(4)]))
        #expect(r.error == nil)
    }

    // MARK: - SET

    @Test func setWithFirstDatablockWithDatablockAndLastIsJoined() throws {
        var s = BlockSession()
        let (bytes, value) = A.profile(rows: 20)
        let p = A.split(bytes, into: 3)
        let first = s.feed(A.setFirst(5, last: false, raw: p[0]), c2s)
        #expect(first.block?.transfer == "set#1")
        #expect(s.feed(A.setResponseBlock(5, block: 1), s2c).notes.isEmpty)
        #expect(s.feed(A.setBlock(5, last: false, block: 2, raw: p[1]), c2s).reassembled == nil)
        #expect(s.feed(A.setResponseBlock(5, block: 2), s2c).notes.isEmpty)
        let last = s.feed(A.setBlock(5, last: true, block: 3, raw: p[2]), c2s)
        let r = try #require(last.reassembled)
        #expect(r.value == value)
        #expect(r.frames == [1, 3, 5])
        let answer = s.feed(A.setResponseLast(5, result: 0, block: 3), s2c)
        #expect(answer.notes.isEmpty)
        #expect(s.state.finish().isEmpty)
    }

    @Test func aSetEndedByTheServerBeforeItsLastBlockIsAborted() {
        var s = BlockSession()
        _ = s.feed(A.setFirst(6, last: false, raw: [0x09, 0x10, 0x00]), c2s)
        _ = s.feed(A.setResponseBlock(6, block: 1), s2c)
        _ = s.feed(A.setBlock(6, last: false, block: 2, raw: [0x01, 0x02]), c2s)
        // set-response-last-datablock, result 17 long-set-aborted.
        let o = s.feed(A.setResponseLast(6, result: 17, block: 2), s2c)
        #expect(o.notes == ["block transfer set#1 aborted by the peer: the server answered block 2 with its last "
            + "response before the last block"])
        #expect(s.state.finish().isEmpty)
    }

    @Test func setWithListAndFirstDatablockDecodesTheListOfValues() throws {
        var s = BlockSession()
        // SEQUENCE OF Data: 2 values, unsigned 1 and octet-string "AB".
        let raw: [UInt8] = [0x02, 0x11, 0x01, 0x09, 0x02, 0x41, 0x42]
        _ = s.feed(A.setListFirst(7, last: false, raw: Array(raw[0..<4])), c2s)
        let o = s.feed(A.setBlock(7, last: true, block: 2, raw: Array(raw[4...])), c2s)
        #expect(try #require(o.reassembled).value == .array([.unsigned(1), .octetString([0x41, 0x42])]))
    }

    // MARK: - ACTION

    @Test func actionRequestPblocksAreJoined() throws {
        var s = BlockSession()
        let (bytes, value) = A.profile(rows: 9)
        let p = A.split(bytes, into: 3)
        let first = s.feed(A.actionFirst(3, last: false, raw: p[0]), c2s)
        #expect(first.block?.transfer == "action-request#1")
        #expect(s.feed(A.actionResponseNext(3, block: 1), s2c).notes.isEmpty)
        _ = s.feed(A.actionWithPblock(3, last: false, block: 2, raw: p[1]), c2s)
        _ = s.feed(A.actionResponseNext(3, block: 2), s2c)
        let r = try #require(s.feed(A.actionWithPblock(3, last: true, block: 3, raw: p[2]), c2s).reassembled)
        #expect(r.value == value)
        #expect(s.feed(A.actionResponseNormal(3, result: 0), s2c).notes.isEmpty)
    }

    @Test func actionResponsePblocksAreASeparateTransferFromTheRequestOfTheSameInvokeID() throws {
        var s = BlockSession()
        let (bytes, value) = A.profile(rows: 8)
        let p = A.split(bytes, into: 2)
        _ = s.feed(A.actionFirst(4, last: false, raw: [0x02, 0x01]), c2s)
        let resp = s.feed(A.actionResponsePblock(4, last: false, block: 1, raw: p[0]), s2c)
        #expect(resp.block?.transfer == "action-response#2")
        #expect(s.feed(A.actionRequestNext(4, block: 1), c2s).notes.isEmpty)
        let r = try #require(s.feed(A.actionResponsePblock(4, last: true, block: 2, raw: p[1]), s2c).reassembled)
        #expect(r.value == value)
        // The request's own transfer is still open, and says so at the end.
        #expect(s.state.finish()
            == ["block transfer action-request#1 incomplete: 1 blocks received, block 2 never came"])
    }

    @Test func actionWithListAndFirstPblockDecodesTheListOfParameters() throws {
        var s = BlockSession()
        let raw: [UInt8] = [0x02, 0x12, 0x00, 0x05, 0x0F, 0xFE]
        _ = s.feed(A.actionListFirst(8, last: false, raw: Array(raw[0..<2])), c2s)
        let o = s.feed(A.actionWithPblock(8, last: true, block: 2, raw: Array(raw[2...])), c2s)
        #expect(try #require(o.reassembled).value == .array([.longUnsigned(5), .integer(-2)]))
    }

    @Test func missingRepeatedAndLatePblocksAreReported() throws {
        var s = BlockSession()
        _ = s.feed(A.actionFirst(9, last: false, raw: [0x02]), c2s)
        let third = s.feed(A.actionWithPblock(9, last: true, block: 3, raw: [0x11, 0x11]), c2s)
        #expect(third.notes == ["blocks 2..2 missing"])
        #expect(s.feed(A.actionWithPblock(9, last: true, block: 3, raw: [0x11, 0x11]), c2s).notes
            == ["block 3 repeated (expected 2): not joined twice"])
        let late = s.feed(A.actionWithPblock(9, last: false, block: 2, raw: [0x02, 0x11, 0x01]), c2s)
        #expect(late.notes == ["block 2 arrived out of order (after block 3)"])
        let r = try #require(late.reassembled)
        #expect(r.bytes == [0x02, 0x02, 0x11, 0x01, 0x11, 0x11])
        #expect(r.value == .structure([.unsigned(1), .unsigned(0x11)]))
    }

    // MARK: - Ended without a last block

    @Test func anActionAbortedByANormalResponseIsReported() {
        var s = BlockSession()
        _ = s.feed(A.actionFirst(2, last: false, raw: [0x01, 0x05]), c2s)
        _ = s.feed(A.actionResponseNext(2, block: 1), s2c)
        _ = s.feed(A.actionWithPblock(2, last: false, block: 2, raw: [0x11, 0x01]), c2s)
        // action-response-normal, action-result 15 long-action-aborted.
        let o = s.feed(A.actionResponseNormal(2, result: 15), s2c)
        #expect(o.notes == ["block transfer action-request#1 aborted by the peer: an action-response without a block "
            + "(result long-action-aborted) ended it after 2 blocks"])
        #expect(o.block?.transfer == "action-request#1")
        #expect(s.state.finish().isEmpty)
    }

    @Test func aNewRequestWithTheInvokeIDOfAnOpenTransferAbandonsIt() {
        var s = BlockSession()
        _ = s.feed(A.getResponseBlock(1, last: false, block: 1, raw: [0x01, 0x05]), s2c)
        // get-request-normal, invoke id 1, clock 0.0.1.0.0.255 attribute 2 (Gurux capture bytes, plain).
        let o = s.feed([0xC0, 0x01, 0xC1, 0x00, 0x08, 0x00, 0x00, 0x01, 0x00, 0x00, 0xFF, 0x02, 0x00], c2s)
        #expect(o.notes == ["block transfer get#1 abandoned after 1 blocks: a new get-request with its invoke id"])
        #expect(s.state.finish().isEmpty)
    }

    @Test func aNormalResponseOfAnotherInvokeIDEndsNothing() {
        var s = BlockSession()
        _ = s.feed(A.setFirst(3, last: false, raw: [0x01, 0x05]), c2s)
        #expect(s.feed([0xC5, 0x01, 0xC4, 0x00], s2c).notes.isEmpty)
        #expect(s.state.finish().count == 1)
    }

    // MARK: - Bounds

    @Test func aTransferIdleLongerThanTheLimitExpires() {
        var s = BlockSession()
        _ = s.feed(A.getResponseBlock(1, last: false, block: 1, raw: [0x01]), s2c, time: at(0))
        _ = s.feed(A.getResponseBlock(1, last: false, block: 2, raw: [0x02]), s2c, time: at(100))
        // 100 s later still within 120 s of the last block.
        #expect(s.feed(A.getResponseBlock(1, last: false, block: 3, raw: [0x03]), s2c, time: at(200)).notes.isEmpty)
        let o = s.feed(A.getResponseBlock(1, last: false, block: 4, raw: [0x04]), s2c, time: at(321))
        #expect(o.notes == [
            "reassembly.expired: block transfer get#1 not continued within 120 s of capture time: dropped after 3 "
                + "blocks, block 4 never came",
            "transfer starts at block 4: blocks 1..3 not seen",
        ])
        #expect(o.block?.transfer == "get#2")
    }

    @Test func theIdleLimitIsConfigurable() {
        var s = BlockSession()
        s.state.blockIdleSeconds = 10
        _ = s.feed(A.getResponseBlock(1, last: false, block: 1, raw: [0x01]), s2c, time: at(0))
        #expect(s.feed(A.getResponseBlock(1, last: false, block: 2, raw: [0x02]), s2c, time: at(11)).notes.first?
            .hasPrefix("reassembly.expired: block transfer get#1 not continued within 10 s") == true)
        s.state.blockIdleSeconds = nil
        _ = s.feed(A.getResponseBlock(2, last: false, block: 1, raw: [0x01]), s2c, time: at(20))
        #expect(s.feed(A.getResponseBlock(2, last: false, block: 2, raw: [0x02]), s2c, time: at(100_000)).notes.isEmpty)
    }

    @Test func withoutCaptureTimesNothingExpires() {
        var s = BlockSession()
        _ = s.feed(A.getResponseBlock(1, last: false, block: 1, raw: [0x01]), s2c)
        let o = s.feed(A.getResponseBlock(1, last: false, block: 2, raw: [0x02]), s2c)
        #expect(o.notes.isEmpty)
        #expect(o.block?.transfer == "get#1")
    }

    @Test func aTransferLargerThanTheCapIsDroppedAndReported() {
        var t = BlockTransfers()
        let mib = [UInt8](repeating: 0x11, count: 1 << 20)
        var notes: [String] = []
        for n in 1...18 {
            let b = BlockFacts(kind: .setRequestDatablock, blockNumber: UInt32(n), lastBlock: n == 18, rawData: mib)
            let r = t.add(b, invokeID: 1, service: "set-request", frames: [n], time: nil)
            #expect(r.reassembled == nil)
            notes += r.notes
        }
        #expect(notes == [
            "reassembly.limit: transfer set#1 larger than 16777216 bytes or 1048576 blocks: not reassembled",
        ])
        #expect(t.open.isEmpty)
    }

    @Test func tooManyOpenTransfersDropTheOldest() {
        var t = BlockTransfers()
        var notes: [String] = []
        for id in 0..<33 {
            let b = BlockFacts(kind: .getResponseDatablock, blockNumber: 1, lastBlock: false, rawData: [0x01])
            notes += t.add(b, invokeID: UInt32(id), service: "get-response", frames: [id], time: nil).notes
        }
        #expect(notes == ["reassembly.limit: too many block transfers open (32): the oldest, get#1, was dropped"])
        #expect(t.open.count == 32)
    }
}
