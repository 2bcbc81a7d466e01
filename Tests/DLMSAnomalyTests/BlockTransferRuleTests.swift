import DLMSAnomaly
import DLMSSession
import Testing

/// The block rule reads the session's notes; the texts are those of `BlockTransfers.swift` and
/// `GBTReassembler.swift`.
@Suite struct BlockTransferRuleTests {
    @Test(arguments: [
        ("blocks 3..4 missing", "block.missing"),
        ("transfer starts at block 2: blocks 1..1 not seen", "block.missing"),
        ("blocks 1..2 were not captured: the APDU is incomplete", "block.missing"),
        ("block 3 repeated (expected 4): not joined twice", "block.duplicate"),
        ("block 3 received again: not joined twice", "block.duplicate"),
        ("block transfer get#1 aborted by the peer: object-unavailable", "block.aborted"),
        ("block 1 carries read-write-denied", "block.aborted"),
        ("block transfer get#2 restarted at block 1 after 3 blocks", "block.aborted"),
        ("a new transfer starts at block 1: the previous one (2 blocks) is abandoned", "block.aborted"),
    ])
    func notesBecomeBlockFindings(_ note: String, _ code: String) {
        let f = run([Build.service(1, "get-response", notes: [note])])
        #expect(f.map(\.code) == [code])
        #expect(f.first?.evidence("note") == .string(note))
    }

    @Test(arguments: ["acknowledges block 3", "blocks 2..3 missing so far", "waiting for block 4",
                      "scaler applied"])
    func progressNotesAreNoFindings(_ note: String) {
        #expect(run([Build.service(1, "get-response", notes: [note])]).isEmpty)
    }

    @Test func incompleteTransferAtTheEndIsMissingBlocks() {
        let e = ErrorRecord(provenance: Build.provenance(9, .serverToClient), code: "block.incomplete",
                            message: "block transfer get#1 incomplete: 2 blocks received, block 3 never came",
                            offset: nil)
        let f = run([.error(e)])
        #expect(f.map(\.code) == ["block.missing"])
        #expect(f.first?.frames == [9])
    }
}
