import DLMSAnomaly
import DLMSSession
import Testing

/// The block rule on the notes of the reassembly bounds and of recovery in progress (texts of `BlockTransfers.swift`
/// and `GBTReassembler.swift`).
@Suite struct BlockTransferRuleBoundsTests {
    @Test(arguments: [
        ("reassembly.expired: block transfer get#1 not continued within 120 s of capture time: dropped after 3 blocks, "
            + "block 4 never came", "block.missing"),
        ("reassembly.expired: general-block-transfer not continued within 120 s of capture time: dropped after 2 "
            + "block(s), last block never came (highest seen 2)", "block.missing"),
        ("reassembly.limit: transfer set#1 larger than 16777216 bytes or 1048576 blocks: not reassembled",
         "block.aborted"),
        ("reassembly.limit: too many block transfers open (32): the oldest, get#1, was dropped", "block.aborted"),
        ("reassembly.limit: general-block-transfer larger than 16777216 bytes or 65535 blocks: abandoned",
         "block.aborted"),
        ("block transfer set#1 aborted by the peer: the server answered block 2 with its last response before the "
            + "last block", "block.aborted"),
        ("block 3 received again after its APDU was joined: not joined twice", "block.duplicate"),
        ("block transfer action-request#1 aborted by the peer: an action-response without a block (result "
            + "long-action-aborted) ended it after 2 blocks", "block.aborted"),
        ("block transfer get#1 abandoned after 1 blocks: a new get-request with its invoke id", "block.aborted"),
    ])
    func boundNotesBecomeBlockFindings(_ note: String, _ code: String) {
        let f = run([Build.service(1, "get-response", notes: [note])])
        #expect(f.map(\.code) == [code])
    }

    @Test(arguments: [
        "block 2 arrived out of order (after block 4)",
        "block 2 arrived late, after block 4: the gap is filled",
        "asks again for block(s) 2..3 (lost-block recovery)",
        "joined after lost-block recovery: block(s) 2 came late",
        "2 block(s) were received twice and joined once",
        "transfer get#1 joined from block 3: the data lacks blocks 1..2",
    ])
    func recoveryNotesAreNoFindings(_ note: String) {
        #expect(run([Build.service(1, "get-response", notes: [note])]).isEmpty)
    }

    @Test func anIncompleteGBTAtTheEndIsMissingBlocks() {
        let e = ErrorRecord(provenance: Build.provenance(9, .serverToClient), code: "block.incomplete",
                            message: "general-block-transfer incomplete: 3 block(s) received, block(s) 2 missing",
                            offset: nil)
        #expect(run([.error(e)]).map(\.code) == ["block.missing"])
    }
}
