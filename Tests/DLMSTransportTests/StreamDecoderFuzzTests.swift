import DLMSTransport
import DLMSWire
import Testing

/// Random mutations of real frames (seeded SplitMix64, so every failure reproduces): the decoder must never trap,
/// never hang, keep its bounds, and consume everything by `finish()`.
@Suite struct StreamDecoderFuzzTests {
    static func corpus() throws -> [UInt8] {
        let hdlc = try Fixtures.bytes("gurux/hdlc-none.raw")
        let wrapper: [UInt8] = Hex.decode("000100100001000dc001c100080000010000ff0200"
            + "0001000100100012c401c100090c07e80301ff0c000000000000") ?? []
        return Array(hdlc.prefix(3000)) + wrapper + Array(hdlc.suffix(1500))
    }

    static func mutate(_ input: [UInt8], rng: inout SplitMix64) -> [UInt8] {
        var b = input
        for _ in 0..<(Int(rng.next() % 12) + 1) {
            guard !b.isEmpty else { break }
            let i = Int(rng.next() % UInt64(b.count))
            switch rng.next() % 6 {
            case 0: b[i] ^= UInt8(truncatingIfNeeded: rng.next() | 1)                     // flip bits
            case 1: b[i] = [0x7E, 0x00, 0x01, 0xA8, 0xFF][Int(rng.next() % 5)]             // framing bytes
            case 2: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: i)                 // insert
            case 3: b.removeSubrange(i..<min(b.count, i + Int(rng.next() % 40)))           // delete a run
            case 4: b.insert(contentsOf: b[i..<min(b.count, i + Int(rng.next() % 30))], at: i)  // duplicate
            default: b = Array(b.prefix(i))                                                 // truncate
            }
        }
        return b
    }

    @Test(arguments: [Framing.auto, .hdlc, .wrapper])
    func mutatedStreamsNeverTrapNorHang(_ framing: Framing) throws {
        let corpus = try Self.corpus()
        var rng = SplitMix64(seed: 0xD1_5D_00)
        for round in 0..<120 {
            let input = Self.mutate(corpus, rng: &rng)
            var limits = StreamLimits()
            limits.maxAPDUBytes = 600
            var d = StreamDecoder(framing: framing, limits: limits, numberFramesInternally: round % 2 == 0)
            var events: [TransportEvent] = []
            var i = 0
            var frame = 0
            while i < input.count {
                let n = min(input.count - i, Int(rng.next() % 300) + 1)
                frame += 1
                if rng.next() % 50 == 0 {
                    events += d.gap(missing: Int(rng.next() % 100) + 1, frame: frame, time: nil)
                }
                events += d.feed(input[i..<(i + n)], frame: frame, time: nil)
                i += n
            }
            events += d.finish()
            for a in events.compactMap(\.apdu) {
                #expect(a.bytes.count <= limits.maxAPDUBytes)
                #expect(!a.frames.isEmpty)
            }
            #expect(events.compactMap(\.frame).allSatisfy { $0.raw.count <= 2049 && !$0.frames.isEmpty })
            // Decoding the same bytes again in one chunk gives the same units (gaps aside).
            if round % 10 == 0 {
                var again = StreamDecoder(framing: framing, limits: limits, numberFramesInternally: true)
                let one = again.feed(input[...], frame: 1, time: nil) + again.finish()
                var drip = StreamDecoder(framing: framing, limits: limits, numberFramesInternally: true)
                var dripEvents: [TransportEvent] = []
                for k in input.indices { dripEvents += drip.feed(input[k...k], frame: 1, time: nil) }
                dripEvents += drip.finish()
                let a = dripEvents.map(\.summary), b = one.map(\.summary)
                let k = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
                let first = "\(a.dropFirst(k).first ?? "-") / \(b.dropFirst(k).first ?? "-")"
                #expect(a == b, "round \(round), event \(k): \(first)")
            }
        }
    }

    @Test func mutatedDatagramsNeverTrap() throws {
        let corpus = try Self.corpus()
        var rng = SplitMix64(seed: 42)
        var d = StreamDecoder(framing: .auto)
        for round in 0..<400 {
            let start = Int(rng.next() % UInt64(corpus.count - 300))
            let record = Self.mutate(Array(corpus[start..<(start + Int(rng.next() % 300) + 1)]), rng: &rng)
            for a in d.feedRecord(record[...], frame: round, time: nil).compactMap(\.apdu) {
                #expect(a.frames == [round])
            }
        }
        _ = d.finish()
    }
}
