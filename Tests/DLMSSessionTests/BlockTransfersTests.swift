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
    /// The joined data is checked at once and decoded only when read: the check reports what the decode reports
    /// (same code, message and offset), single values, lists and broken data alike.
    @Test func theCheckWithoutValuesReportsWhatTheDecodeReports() {
        let samples: [[UInt8]] = [
            [0x02, 0x02, 0x11, 0x01, 0x11, 0x02],  // one structure
            [0x02, 0x11, 0x01, 0x11, 0x02],  // SEQUENCE OF Data (with-list)
            [0x02, 0x00, 0x11, 0x01, 0x01, 0x03],  // SEQUENCE OF Get-Data-Result
            [0x11, 0x01, 0x11],  // trailing bytes
            [0x02, 0x02, 0x11],  // truncated
            [0x07],  // unknown type
            [0x01, 0x82],  // bad length
            [],
        ]
        var rng = SplitMix(seed: 0xB10C)
        var all = samples
        for _ in 0..<3000 {
            var b = samples[Int(rng.next() % UInt64(samples.count - 1))]
            for _ in 0..<(1 + rng.next() % 3) {
                let i = Int(rng.next() % UInt64(max(b.count, 1)))
                let byte = UInt8(truncatingIfNeeded: rng.next() % 24)
                if b.isEmpty || rng.next() % 3 == 0 { b.insert(byte, at: min(i, b.count)) } else { b[i] = byte }
            }
            all.append(b)
        }
        for b in all {
            let (value, error) = BlockTransfers.decode(b)
            let checked = BlockTransfers.validate(b)
            #expect(checked?.code == error?.code && checked?.message == error?.message
                && checked?.offset == error?.offset, "\(b)")
            let lazy = Reassembly(blocks: 1, frames: [], deferredBytes: b, error: checked)
            #expect(lazy.value == value, "\(b)")
        }
    }
}

