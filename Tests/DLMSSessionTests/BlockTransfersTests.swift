import DLMSAPDU
import DLMSWire
import Testing
@testable import DLMSSession

@Suite struct BlockTransfersTests {
    /// Three GET datablocks joined in order give one value; a repeated block is not joined twice.
    @Test func datablocksAreJoinedOnceInOrder() {
        var t = BlockTransfers()
        // structure { unsigned 1, unsigned 2 } split into three raw-data pieces.
        let pieces: [[UInt8]] = [[0x02, 0x02], [0x11, 0x01], [0x11, 0x02]]
        var result: Reassembly?
        for (i, p) in pieces.enumerated() {
            let b = BlockFacts(kind: .getResponseDatablock, blockNumber: UInt32(i + 1), lastBlock: i == 2, rawData: p)
            let r = t.add(b, invokeID: 1, service: "get-response", frames: [i + 10], time: nil)
            if i == 1 {
                let again = t.add(b, invokeID: 1, service: "get-response", frames: [99], time: nil)
                #expect(again.reassembled == nil)
                #expect(again.notes.contains { $0.contains("repeated") })
            }
            if let re = r.reassembled { result = re }
        }
        #expect(result?.bytes == [0x02, 0x02, 0x11, 0x01, 0x11, 0x02])
        #expect(result?.frames == [10, 11, 12])
        #expect(result?.value == .structure([.unsigned(1), .unsigned(2)]))
    }

    /// A gap in the block numbers is reported.
    @Test func missingBlocksAreReported() {
        var t = BlockTransfers()
        _ = t.add(BlockFacts(kind: .getResponseDatablock, blockNumber: 1, lastBlock: false, rawData: [0x11]),
                  invokeID: 2, service: "get-response", frames: [1], time: nil)
        let r = t.add(BlockFacts(kind: .getResponseDatablock, blockNumber: 3, lastBlock: true, rawData: [0x01]),
                      invokeID: 2, service: "get-response", frames: [3], time: nil)
        #expect(r.notes.contains { $0.contains("missing") })
    }
}
