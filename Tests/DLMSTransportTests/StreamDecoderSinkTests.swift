import DLMSWire
import Testing
@testable import DLMSTransport

/// The `into:` forms of `feed`/`feedRecord` append to the caller's (reused) array: they give the same events as the
/// array-returning forms, after whatever the array already holds.
@Suite struct StreamDecoderSinkTests {
    @Test func feedingIntoAReusedArrayGivesTheSameEventsAsReturnedArrays() throws {
        // The client→server payload of Captures/gurux/wrapper-none (Gurux client), in random chunks.
        let segments = try Pcap.segments(try Fixtures.bytes("gurux/wrapper-none.pcap"))
        let server = try #require(segments.first { $0.syn }?.destination)
        let stream = segments.filter { $0.isTCP && $0.destination == server }.flatMap(\.payload)
        var returned = StreamDecoder(framing: .auto)
        var sunk = StreamDecoder(framing: .auto)
        var rng = SplitMix64(seed: 11)
        var scratch: [TransportEvent] = []
        var expected: [String] = []
        var got: [String] = []
        var i = 0
        var frame = 1
        while i < stream.count {
            let n = min(Int(rng.next() % 64) + 1, stream.count - i)
            let chunk = stream[i..<(i + n)]
            expected += returned.feed(chunk, frame: frame, time: nil).map { "\($0)" }
            sunk.feed(chunk, frame: frame, time: nil, into: &scratch)
            got += scratch.map { "\($0)" }
            scratch.removeAll(keepingCapacity: true)
            i += n
            frame += 1
        }
        #expect(expected.count > 20)
        #expect(got == expected)
    }

    @Test func feedingIntoAnArrayKeepsWhatItHeld() {
        // wrapper-none, frame 8: get-request for the clock, wPorts 16 → 1 (Gurux client).
        let frame: [UInt8] = Hex.decode("0001 0010 0001 000d c001c100080000010000ff0200") ?? []
        let marker = TransportEvent.issue(TransportIssue(code: "test.marker", message: "kept", frames: [], time: nil))
        for record in [false, true] {
            var d = StreamDecoder(framing: .auto)
            var out = [marker]
            if record {
                d.feedRecord(frame[...], frame: 1, time: nil, into: &out)
            } else {
                d.feed(frame[...], frame: 1, time: nil, into: &out)
            }
            #expect(out.count == 2)
            #expect(out.first?.issue?.code == "test.marker")
            #expect(out.last?.apdu?.bytes == Array(frame[8...]))
        }
    }
}
