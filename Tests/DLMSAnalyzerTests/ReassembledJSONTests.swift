import DLMSAPDU
import DLMSWire
import Testing

@testable import DLMSRender
@testable import DLMSSession

/// The JSON Lines renderer writes a deferred reassembly's `data` from its bytes
/// (`JSONLinesRenderer.writeReassembledData`): it must be what `Reassembly.value` (`BlockTransfers.decode`)
/// renders, for one Data, the with-list forms (SEQUENCE OF Data, SEQUENCE OF Get-Data-Result), a Data followed by
/// bytes, and bytes that are none of these.
@Suite struct ReassembledJSONTests {
    static func expected(_ data: [UInt8]) -> String {
        var j = JSONBuffer()
        j.beginArray()
        j.int(1)
        if let v = BlockTransfers.decode(data).0 { v.writeJSON(into: &j) } else { j.null() }
        j.int(2)
        j.endArray()
        return j.string
    }

    static func actual(_ data: [UInt8]) -> String {
        var j = JSONBuffer()
        j.beginArray()
        j.int(1)
        JSONLinesRenderer.writeReassembledData(data, into: &j)
        j.int(2)
        j.endArray()
        return j.string
    }

    static let cases: [[UInt8]] = [
        // One profile-buffer-like Data: array of {date-time octet-string, double-long-unsigned}.
        [1, 2, 2, 2, 9, 12, 0x07, 0xE8, 3, 1, 5, 12, 0, 0, 0, 0xFF, 0xC4, 0, 6, 0, 0, 0, 42,
         2, 2, 9, 12, 0x07, 0xE8, 3, 1, 5, 12, 15, 0, 0, 0xFF, 0xC4, 0, 6, 0, 0, 1, 0],
        // SEQUENCE OF Data (set-request-with-list): 2 items.
        [2, 17, 5, 18, 0, 7],
        // SEQUENCE OF Get-Data-Result: data, then a data-access-result.
        [2, 0, 17, 5, 1, 3],
        // A Data followed by a byte (not a list either): the Data, trailing bytes are the record's error.
        [17, 5, 0],
        // The neg-truncated-segment buffer (null-data, then leftovers).
        [0x00, 0x00, 0xFF, 0x02, 0x02, 0x01, 0x00, 0x01, 0x00],
        // Nothing that decodes.
        [], [99], [1, 3, 17], [2, 0, 17],
    ]

    @Test func deferredReassembledDataIsWrittenAsItsDecodedValueIs() {
        for (k, data) in Self.cases.enumerated() {
            #expect(Self.actual(data) == Self.expected(data), "case \(k)")
        }
    }

    @Test func mutatedReassembledDataStillMatches() {
        var rng = LiveRNG(seed: 0x5EA5_0001)
        for k in 0..<1500 {
            var data = Self.cases[k % 4]
            for _ in 0...Int.random(in: 0...2, using: &rng) {
                switch Int.random(in: 0..<3, using: &rng) {
                case 0 where !data.isEmpty:
                    data[Int.random(in: 0..<data.count, using: &rng)] = UInt8.random(in: 0...30, using: &rng)
                case 1 where !data.isEmpty:
                    data.removeLast(Int.random(in: 1...min(3, data.count), using: &rng))
                default:
                    data.insert(UInt8.random(in: 0...30, using: &rng), at: Int.random(in: 0...data.count, using: &rng))
                }
            }
            #expect(Self.actual(data) == Self.expected(data), "mutation \(k): \(data)")
        }
    }
}
