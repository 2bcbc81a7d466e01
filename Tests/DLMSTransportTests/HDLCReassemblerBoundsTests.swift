import DLMSTransport
import DLMSWire
import Testing

/// The bounds of HDLC segment reassembly (IEC 62056-46 §6.4.4.4.3.3): a sequence not continued within
/// `StreamLimits.idleSeconds` of capture time is dropped (`reassembly.expired`), one larger than `maxAPDUBytes` is
/// dropped (`reassembly.limit`); without capture times nothing expires. Frames built by `hdlcFrame` (CRC-16/X.25).
@Suite struct HDLCReassemblerBoundsTests {
    static let t0: Int64 = 1_700_000_000

    /// A get-response split over two I-frames from the server (0x03 → 0x21): first with S = 1, then the last.
    static let first = hdlcFrame(destination: [0x21], source: [0x03], control: iControl(ns: 0, nr: 1),
                                 info: [0xE6, 0xE7, 0x00, 0xC4, 0x01, 0xC1, 0x00], segmented: true)
    static let last = hdlcFrame(destination: [0x21], source: [0x03], control: iControl(ns: 1, nr: 1),
                                info: [0x09, 0x02, 0x41, 0x42])

    static func decode(_ frames: [[UInt8]], seconds: [Int64?], limits: StreamLimits = StreamLimits())
        -> [TransportEvent]
    {
        var d = StreamDecoder(framing: .auto, limits: limits)
        var events: [TransportEvent] = []
        for (i, f) in frames.enumerated() {
            let time = seconds[i].map { Timestamp(seconds: t0 + $0, micros: 0) }
            events += d.feed(f[...], frame: i + 1, time: time)
        }
        return events + d.finish()
    }

    @Test func segmentsWithinTheIdleLimitAreJoined() throws {
        let events = Self.decode([Self.first, Self.last], seconds: [0, 119])
        let apdus = events.compactMap(\.apdu)
        #expect(apdus.count == 1)
        #expect(apdus.first?.bytes == [0xC4, 0x01, 0xC1, 0x00, 0x09, 0x02, 0x41, 0x42])
        #expect(apdus.first?.frames == [1, 2])
        #expect(events.compactMap(\.issue).isEmpty)
    }

    @Test func aSequenceIdleBeyondTheLimitIsDroppedAsExpired() throws {
        let events = Self.decode([Self.first, Self.last], seconds: [0, 121])
        let issue = try #require(events.compactMap(\.issue).first { $0.code == "reassembly.expired" })
        #expect(issue.frames == [1])
        #expect(issue.time == Timestamp(seconds: Self.t0, micros: 0))
        #expect(issue.message == "HDLC segment sequence of 1 frame(s), 7 bytes, not continued within 120 s of "
            + "capture time; the partial APDU is dropped")
        // The first segment is never joined with the late one.
        #expect(!events.compactMap(\.apdu).contains { $0.frames.contains(1) })
        // Nothing is left to report at the end.
        #expect(!events.compactMap(\.issue).contains { $0.code == "hdlc.segment-incomplete" })
    }

    @Test func theIdleLimitIsConfigurable() throws {
        var limits = StreamLimits()
        limits.idleSeconds = 5
        let expired = Self.decode([Self.first, Self.last], seconds: [0, 6], limits: limits)
        #expect(expired.compactMap(\.issue).contains { $0.code == "reassembly.expired" })
        limits.idleSeconds = nil
        let never = Self.decode([Self.first, Self.last], seconds: [0, 1_000_000], limits: limits)
        #expect(never.compactMap(\.apdu).first?.frames == [1, 2])
    }

    @Test func withoutCaptureTimesNothingExpires() throws {
        var limits = StreamLimits()
        limits.idleSeconds = 0
        let events = Self.decode([Self.first, Self.last], seconds: [nil, nil], limits: limits)
        #expect(events.compactMap(\.apdu).first?.frames == [1, 2])
        #expect(events.compactMap(\.issue).isEmpty)
    }

    @Test func anotherLinksFrameExpiresAStaleSequence() throws {
        // A frame between other stations, later than the limit, drops the stale sequence too.
        let other = hdlcFrame(destination: [0x41], source: [0x05], control: iControl(ns: 0, nr: 0),
                              info: [0xE6, 0xE6, 0x00, 0xC0, 0x01, 0xC1, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00,
                                     0xFF, 0x02, 0x00])
        let events = Self.decode([Self.first, other], seconds: [0, 500])
        let issues = events.compactMap(\.issue)
        #expect(issues.map(\.code) == ["reassembly.expired"])
        #expect(events.compactMap(\.apdu).map(\.frames) == [[2]])
    }

    /// Byte by byte, all at once and in seeded random chunks, with capture times a millisecond apart: the
    /// segments are joined once, nothing expires; every strict prefix leaves only `hdlc.segment-incomplete` or
    /// nothing.
    @Test func dripFedSegmentsWithTimesAreJoinedOnce() throws {
        let stream = Self.first + Self.last
        var rng = SplitMix64(seed: 0x5EED)
        for mode in 0..<3 {
            var d = StreamDecoder(framing: .auto)
            var events: [TransportEvent] = []
            var i = 0
            var chunk = 0
            while i < stream.count {
                let n = mode == 0 ? 1 : mode == 1 ? stream.count : Int(rng.next() % 7) + 1
                let end = min(stream.count, i + n)
                chunk += 1
                let time = Timestamp(seconds: Self.t0, micros: Int32(chunk * 1000))
                events += d.feed(stream[i..<end], frame: chunk, time: time)
                i = end
            }
            events += d.finish()
            #expect(events.compactMap(\.apdu).map(\.bytes) == [[0xC4, 0x01, 0xC1, 0x00, 0x09, 0x02, 0x41, 0x42]])
            #expect(events.compactMap(\.issue).isEmpty)
        }
        for cut in 1..<stream.count {
            var d = StreamDecoder(framing: .auto)
            let events = d.feed(stream[0..<cut], frame: 1, time: Timestamp(seconds: Self.t0, micros: 0)) + d.finish()
            // A cut frame is reported by the framer (whatever its code); never a joined APDU, never an expiry.
            #expect(events.compactMap(\.apdu).isEmpty)
            #expect(!events.compactMap(\.issue).contains { $0.code == "reassembly.expired" })
            if cut >= Self.first.count {
                #expect(events.compactMap(\.issue).contains { $0.code == "hdlc.segment-incomplete" })
            }
        }
    }

    @Test func aSequenceLargerThanTheCapIsDroppedAsALimit() throws {
        var limits = StreamLimits()
        limits.maxAPDUBytes = 8
        let events = Self.decode([Self.first, Self.last], seconds: [0, 1], limits: limits)
        let codes = events.compactMap(\.issue).map(\.code)
        #expect(codes.contains("reassembly.limit"))
        #expect(events.compactMap(\.apdu).isEmpty)
    }
}
