import DLMSTransport
import DLMSWire
import Testing

/// Self-contained records (`feedRecord`: UDP datagrams, hex-dump records) and per-frame detection.
@Suite struct StreamDecoderRecordTests {
    @Test func segmentedHDLCOverUDPFromThePeerCaptureIsReassembled() throws {
        // Captures/peers/hdlc-over-udp-sample.pcap (bearxiong99/wireshark-dlms @ d967a49): SNRM/UA, AARQ/AARE,
        // then get-response-with-datablock blocks each sent as an I-frame with S=1 (format A8 89), an RR, and the
        // last segment. Datagrams 41...51 (except the DISC in 43) carry no HDLC (they start 90 01 01): bare records.
        let segments = try Pcap.segments(try Fixtures.bytes("peers/hdlc-over-udp-sample.pcap"))
        #expect(segments.count == 51)
        var d = StreamDecoder(framing: .auto)
        var events: [TransportEvent] = []
        for s in segments { events += d.feedRecord(s.payload[...], frame: s.frame, time: s.time) }
        events += d.finish()
        // The sample's AARQ (datagram 3) really has a bad FCS (its HCS is right: the body was edited after the
        // checksum; checked independently with a Python CRC-16/X.25): reported, and not used.
        let issues = events.compactMap(\.issue)
        #expect(issues.map(\.code) == ["hdlc.bad-fcs"] && issues.first?.frames == [3])
        let frames = events.compactMap(\.frame)
        #expect(frames.count == 41 && frames.filter { !$0.fcsOK }.map(\.frames) == [[3]])
        #expect(frames.last?.type == .disc && frames.last?.frames == [43])
        #expect(frames.first?.type == .snrm && frames[1].type == .ua)
        #expect(frames[1].parameters?.maxInfoTransmit == 128 && frames[1].parameters?.windowReceive == 1)

        let apdus = events.compactMap(\.apdu)
        let joined = apdus.filter { $0.frames.count > 1 }
        #expect(joined.map(\.frames) == [[8, 10], [12, 14], [16, 18], [20, 22], [24, 26], [28, 30], [32, 34],
                                         [36, 38]])
        for a in joined {
            // get-response-with-datablock: C4 02 invoke, last-block, block-number (4), choice 00 raw-data, then an
            // A-XDR length and that many bytes: the joined APDU must end exactly there.
            var r = ByteReader(a.bytes)
            #expect(r.readUInt8() == 0xC4 && r.readUInt8() == 0x02)
            #expect(r.skip(1 + 1 + 4) && r.readUInt8() == 0x00)
            let length = r.readAXDRLength()
            try #require(length != nil)
            #expect(r.remaining == length ?? -1, "frames \(a.frames)")
        }
        // Datagrams 41... carry APDUs behind the IEC 61334-4-32 LLC header 90 01 01, not HDLC.
        let plc = apdus.filter { if case .iec432(let llc) = $0.kind { return llc == [0x90, 0x01, 0x01] } else { return false } }
        #expect(plc.map(\.frames) == [41, 42, 44, 45, 46, 47, 48, 49, 50, 51].map { [$0] })
        #expect(plc.first?.bytes.first == 0x60)  // an AARQ
    }

    @Test func aRawStreamMayMixHDLCAndWrapperFrames() throws {
        let hdlc = try Fixtures.bytes("gurux/hdlc-none.raw")
        let h = decodeChunked(hdlc, chunkSize: { _ in hdlc.count }).compactMap(\.frame).prefix(4).flatMap(\.raw)
        let w1: [UInt8] = Hex.decode("000100100001000dc001c100080000010000ff0200") ?? []
        // wrapper-none frames 8 and 9: get-request (16 → 1) and its get-response (1 → 16).
        let w2: [UInt8] = Hex.decode("000100010010" + "0012c401c100090c07e80301ff0c000000000000") ?? []
        let stream = w1 + h + w1 + w1 + h + w2
        for size in [1, 7, stream.count] {
            let events = decodeChunked(stream, chunkSize: { _ in size })
            #expect(events.compactMap(\.issue).isEmpty, "chunk size \(size)")
            let kinds = events.compactMap(\.apdu).map(\.kind.summary)
            #expect(kinds.count == 1 + 2 + 1 + 1 + 2 + 1)
            #expect(events.compactMap(\.frame).count == 8)
            // Every link frame, of either framing, gets the next ordinal.
            var ordinals = events.compactMap(\.frame).map(\.frames.array)
            ordinals += events.compactMap(\.apdu).filter { if case .wrapper = $0.kind { true } else { false } }
                .map(\.frames)
            #expect(ordinals.flatMap { $0 }.sorted() == Array(1...12))
        }
    }

    @Test func aRecordWithoutFramingIsOneBareAPDU() throws {
        var d = StreamDecoder(framing: .auto, numberFramesInternally: true)
        let apdu: [UInt8] = [0xC0, 0x01, 0xC1, 0x00, 0x08, 0x00, 0x00, 0x01, 0x00, 0x00, 0xFF, 0x02, 0x00]
        let a = try #require(d.feedRecord(apdu[...], frame: 3, time: nil).compactMap(\.apdu).first)
        #expect(a.bytes == apdu && a.frames == [1])
        guard case .raw = a.kind else {
            Issue.record("not raw")
            return
        }
        var b = StreamDecoder(framing: .bare)
        #expect(b.feed(apdu[...], frame: 4, time: nil).compactMap(\.apdu).map(\.frames) == [[4]])
    }

    @Test func aRecordWithSeveralFramesAndATruncatedTailReportsTheTail() {
        let f1 = hdlcFrame(control: iControl(ns: 0, nr: 0), info: [0xE6, 0xE6, 0x00, 0x62, 0x00])
        let f2 = hdlcFrame(control: iControl(ns: 1, nr: 0), info: [0xE6, 0xE6, 0x00, 0x62, 0x00])
        var d = StreamDecoder(framing: .auto)
        let events = d.feedRecord((f1 + f2.prefix(6))[...], frame: 2, time: nil)
        #expect(events.compactMap(\.apdu).count == 1)
        #expect(events.compactMap(\.issue).map(\.code) == ["hdlc.truncated"])
        // Nothing is carried over into the next record.
        #expect(d.feedRecord(f2[...], frame: 3, time: nil).compactMap(\.apdu).map(\.frames) == [[3]])
    }

    @Test func aDatagramWithTwoWrapperFramesYieldsBoth() {
        // wrapper-none frames 8 and 10 (two get-requests), as one UDP datagram.
        let f1: [UInt8] = Hex.decode("000100100001000dc001c100080000010000ff0200") ?? []
        let f2: [UInt8] = Hex.decode("000100100001000dc001c100010000600100ff0200") ?? []
        var d = StreamDecoder(framing: .auto)
        let events = d.feedRecord((f1 + f2)[...], frame: 7, time: Timestamp(seconds: 5, micros: 0))
        #expect(events.compactMap(\.issue).isEmpty)
        #expect(events.compactMap(\.apdu).map(\.bytes) == [Array(f1[8...]), Array(f2[8...])])
        let t = Timestamp(seconds: 5, micros: 0)
        #expect(events.compactMap(\.apdu).allSatisfy { $0.frames == [7] && $0.time == t })
    }

    @Test func aStreamThatNeverCompletesAFrameStaysWithinItsBufferLimit() {
        var limits = StreamLimits()
        limits.maxBufferedBytes = 100
        var d = StreamDecoder(framing: .wrapper, limits: limits)
        // A header claiming 1000 bytes, then the bytes trickle in.
        var events = d.feed([0x00, 0x01, 0x00, 0x10, 0x00, 0x01, 0x03, 0xE8, 0xC4][...], frame: 1, time: nil)
        for k in 2...20 { events += d.feed([UInt8](repeating: 0x55, count: 10)[...], frame: k, time: nil) }
        #expect(events.compactMap(\.issue).first?.code == "reassembly.limit")
        #expect(events.compactMap(\.apdu).isEmpty)
    }
}
