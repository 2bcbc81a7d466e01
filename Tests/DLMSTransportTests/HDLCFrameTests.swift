import DLMSTransport
import DLMSWire
import Testing

/// Builds an HDLC frame (IEC 62056-46) with a correct HCS and FCS (CRC-16/X.25, LSB first; CRC16 is tested
/// against the catalogue check value in DLMSWireTests).
func hdlcFrame(destination: [UInt8] = [0x03], source: [UInt8] = [0x21], control: UInt8, info: [UInt8] = [],
               segmented: Bool = false, corruptHCS: Bool = false, corruptFCS: Bool = false) -> [UInt8] {
    let length = 2 + destination.count + source.count + 1 + (info.isEmpty ? 0 : 2 + info.count) + 2
    var content: [UInt8] = [0xA0 | (segmented ? 0x08 : 0) | UInt8(length >> 8), UInt8(length & 0xFF)]
    content += destination + source + [control]
    if !info.isEmpty {
        var hcs = CRC16.x25(content)
        if corruptHCS { hcs ^= 0xFFFF }
        content += [UInt8(hcs & 0xFF), UInt8(hcs >> 8)] + info
    }
    var fcs = CRC16.x25(content)
    if corruptFCS { fcs ^= 0xFFFF }
    return [0x7E] + content + [UInt8(fcs & 0xFF), UInt8(fcs >> 8), 0x7E]
}

/// I-frame control byte: N(R) N(R) N(R) P N(S) N(S) N(S) 0.
func iControl(ns: UInt8, nr: UInt8, poll: Bool = true) -> UInt8 { nr << 5 | (poll ? 0x10 : 0) | ns << 1 }

@Suite struct HDLCFrameTests {
    // MARK: - Control field

    @Test func aSweepOfTheControlByteNamesEveryFrameType() {
        // ISO/IEC 13239 control field encodings as profiled by IEC 62056-46 §6.4.3.
        let unnumbered: [UInt8: HDLCFrameType] = [0x83: .snrm, 0x43: .disc, 0x63: .ua, 0x0F: .dm, 0x87: .frmr,
                                                  0x03: .ui]
        var counts: [HDLCFrameType: Int] = [:]
        for c in UInt8(0)...UInt8(255) {
            let control = HDLCControl(c)
            counts[control.type, default: 0] += 1
            #expect(control.pollFinal == (c & 0x10 != 0))
            if c & 1 == 0 {
                #expect(control.type == .i)
                #expect(control.sendSequence == (c >> 1) & 7 && control.receiveSequence == c >> 5)
            } else if c & 3 == 1 {
                let expected: HDLCFrameType = c & 0x0C == 0 ? .rr : c & 0x0C == 4 ? .rnr : .unknown
                #expect(control.type == expected, "control 0x\(Hex.encode([c]))")
                #expect(control.sendSequence == nil && control.receiveSequence == c >> 5)
            } else {
                #expect(control.type == unnumbered[c & 0xEF] ?? .unknown, "control 0x\(Hex.encode([c]))")
                #expect(control.sendSequence == nil && control.receiveSequence == nil)
            }
        }
        // 128 I; 64 S (16 RR, 16 RNR, 32 REJ/SREJ); 64 U (12 named with P/F clear or set, 52 others).
        #expect(counts[.i] == 128 && counts[.rr] == 16 && counts[.rnr] == 16)
        for t in [HDLCFrameType.snrm, .disc, .ua, .dm, .frmr, .ui] { #expect(counts[t] == 2) }
        #expect(counts[.unknown] == 32 + 52)
    }

    @Test(arguments: ["hdlc-none", "hdlc-auth-only", "hdlc-gbt-authenc"])
    func sequenceNumbersMatchGuruxForEveryTruthSegment(_ name: String) throws {
        // The truth's hdlc segments carry Gurux's own (control, ns, nr) readings.
        var checked = 0
        for record in try Fixtures.truth(name) {
            for seg in record["hdlc"] as? [[String: Any]] ?? [] {
                let c = try #require(seg["control"] as? Int)
                let control = HDLCControl(UInt8(c))
                #expect(control.type == .i)
                #expect(control.sendSequence.map(Int.init) == seg["ns"] as? Int)
                #expect(control.receiveSequence.map(Int.init) == seg["nr"] as? Int)
                checked += 1
            }
        }
        #expect(checked > 50)
    }

    // MARK: - Addresses

    @Test func oneTwoAndFourByteAddressesSplitIntoUpperAndLower() throws {
        // Server logical 1, physical 17: 2 bytes 02 23, 4 bytes 00 02 00 23 (Gurux GXDLMS.getHdlcAddress layout).
        let cases: [([UInt8], HDLCAddress)] = [
            ([0x03], HDLCAddress(size: 1, value: 1, upper: 1, lower: nil)),
            ([0x21], HDLCAddress(size: 1, value: 16, upper: 16, lower: nil)),
            ([0x02, 0x23], HDLCAddress(size: 2, value: 1 << 7 | 17, upper: 1, lower: 17)),
            ([0x00, 0x02, 0x00, 0x23], HDLCAddress(size: 4, value: 1 << 14 | 17, upper: 1, lower: 17)),
            ([0xFE, 0xFE, 0xFE, 0xFF], HDLCAddress(size: 4, value: 0x0FFF_FFFF, upper: 0x3FFF, lower: 0x3FFF)),
        ]
        for (bytes, expected) in cases {
            let raw = hdlcFrame(destination: bytes, source: [0x21], control: 0x93)
            var d = StreamDecoder(framing: .hdlc, numberFramesInternally: true)
            let f = try #require(d.feed(raw[...], frame: 1, time: nil).compactMap(\.frame).first)
            #expect(f.destination == expected)
            #expect(f.source == HDLCAddress(size: 1, value: 16, upper: 16, lower: nil))
            #expect(f.fcsOK && f.hcsOK == nil && f.type == .snrm)
        }
    }

    @Test func aThreeByteAddressIsNotAFrame() {
        let raw = hdlcFrame(destination: [0x00, 0x02, 0x23], control: 0x93)
        var d = StreamDecoder(framing: .hdlc, numberFramesInternally: true)
        let events = d.feed(raw[...], frame: 1, time: nil) + d.finish()
        #expect(events.compactMap(\.frame).isEmpty)
        #expect(events.compactMap(\.issue).map(\.code) == ["stream.junk"])
    }

    // MARK: - Checks

    @Test func aBadHCSIsReportedAndTheFrameIsNotUsed() {
        let bad = hdlcFrame(control: iControl(ns: 0, nr: 0), info: [0xE6, 0xE6, 0x00, 0x62, 0x00], corruptHCS: true)
        let good = hdlcFrame(control: iControl(ns: 1, nr: 0), info: [0xE6, 0xE6, 0x00, 0x62, 0x00])
        let events = decodeChunked(bad + good, chunkSize: { _ in 3 })
        #expect(events.compactMap(\.issue).map(\.code) == ["hdlc.bad-hcs"])
        #expect(events.compactMap(\.frame).map(\.hcsOK) == [false, true])
        #expect(events.compactMap(\.apdu).map(\.frames) == [[2]])
    }

    @Test func malformedParametersAreAFrameErrorNotAStreamError() throws {
        let raw = hdlcFrame(control: 0x93, info: [0x81, 0x80, 0x09, 0x05, 0x01, 0x40])  // group overruns
        var d = StreamDecoder(framing: .hdlc, numberFramesInternally: true)
        let f = try #require(d.feed(raw[...], frame: 1, time: nil).compactMap(\.frame).first)
        #expect(f.parameters == nil && f.errors.map(\.code) == ["hdlc.bad-parameters"])
    }

    @Test func parameterValuesOfOneToFourBytesAreRead() throws {
        // IEC 62056-46 §6.4.4.4.3.2 example layout: max info tx 0x0100 (2 bytes), rx 0x80 (1 byte), window tx 7
        // (4 bytes), window rx 1 (3 bytes), and an unknown parameter 0x09 that is skipped.
        let info: [UInt8] = [0x81, 0x80, 0x15, 0x05, 0x02, 0x01, 0x00, 0x06, 0x01, 0x80, 0x07, 0x04, 0x00, 0x00, 0x00,
                             0x07, 0x08, 0x03, 0x00, 0x00, 0x01, 0x09, 0x01, 0x55]
        let raw = hdlcFrame(destination: [0x21], source: [0x03], control: 0x73, info: info)
        var d = StreamDecoder(framing: .hdlc)
        let f = try #require(d.feed(raw[...], frame: 1, time: nil).compactMap(\.frame).first)
        let p = try #require(f.parameters)
        #expect(f.type == .ua && f.errors.isEmpty)
        #expect(p.maxInfoTransmit == 256 && p.maxInfoReceive == 128 && p.windowTransmit == 7 && p.windowReceive == 1)
        // A 5-byte value is malformed.
        let bad = hdlcFrame(control: 0x93, info: [0x81, 0x80, 0x07, 0x05, 0x05, 0x00, 0x00, 0x00, 0x00, 0x80])
        let g = try #require(d.feed(bad[...], frame: 2, time: nil).compactMap(\.frame).first)
        #expect(g.parameters == nil && g.errors.map(\.code) == ["hdlc.bad-parameters"])
    }

    // MARK: - Segmentation

    @Test func segmentsAreJoinedPerLinkAndCarryAllTheirFrames() throws {
        // Server (1) → client (16) response in three segments, with an RR from the client in between and a
        // client frame of another link interleaved (as a serial sniffer sees both directions).
        let s1 = hdlcFrame(destination: [0x21], source: [0x03], control: iControl(ns: 0, nr: 1),
                           info: [0xE6, 0xE7, 0x00, 0xC4, 0x01], segmented: true)
        let rr = hdlcFrame(control: 0x31)
        let s2 = hdlcFrame(destination: [0x21], source: [0x03], control: iControl(ns: 1, nr: 1),
                           info: [0xC1, 0x00], segmented: true)
        let other = hdlcFrame(destination: [0x05], source: [0x21], control: iControl(ns: 0, nr: 0),
                              info: [0xE6, 0xE6, 0x00, 0x62, 0x00])
        let s3 = hdlcFrame(destination: [0x21], source: [0x03], control: iControl(ns: 2, nr: 1),
                           info: [0x09, 0x00])
        let events = decodeChunked(s1 + rr + s2 + other + s3, chunkSize: { _ in 5 })
        #expect(events.compactMap(\.issue).isEmpty)
        let apdus = events.compactMap(\.apdu)
        #expect(apdus.map(\.bytes) == [[0x62, 0x00], [0xC4, 0x01, 0xC1, 0x00, 0x09, 0x00]])
        #expect(apdus.map(\.frames) == [[4], [1, 3, 5]])
        guard case .hdlc(let segments, let llc) = apdus[1].kind else {
            Issue.record("not HDLC")
            return
        }
        #expect(segments.map(\.segmented) == [true, true, false] && llc == [0xE6, 0xE7, 0x00])
    }

    @Test func aRetransmittedSegmentIsNotJoinedTwice() {
        let s1 = hdlcFrame(destination: [0x21], source: [0x03], control: iControl(ns: 3, nr: 1),
                           info: [0xE6, 0xE7, 0x00, 0xC4, 0x01], segmented: true)
        let s2 = hdlcFrame(destination: [0x21], source: [0x03], control: iControl(ns: 4, nr: 1), info: [0xC1])
        let events = decodeChunked(s1 + s1 + s2 + s2, chunkSize: { _ in 64 })
        #expect(events.compactMap(\.issue).map(\.code) == ["hdlc.retransmission", "hdlc.retransmission"])
        #expect(events.compactMap(\.apdu).map(\.bytes) == [[0xC4, 0x01, 0xC1]])
        #expect(events.compactMap(\.apdu).map(\.frames) == [[1, 3]])
    }

    @Test func aGoBackNRetransmissionOfSeveralSegmentsIsSkipped() {
        // Window 2: segments N(S) 0, 1, 2 arrive, the receiver rejects, the sender re-sends 1 and 2 with a new N(R)
        // (so other control bytes and FCS), then sends the last segment 3.
        func seg(_ ns: UInt8, nr: UInt8, _ info: [UInt8], more: Bool = true) -> [UInt8] {
            hdlcFrame(destination: [0x21], source: [0x03], control: iControl(ns: ns, nr: nr), info: info,
                      segmented: more)
        }
        let stream = seg(0, nr: 1, [0xE6, 0xE7, 0x00, 0xC4]) + seg(1, nr: 1, [0x01]) + seg(2, nr: 1, [0x02])
            + seg(1, nr: 2, [0x01]) + seg(2, nr: 2, [0x02]) + seg(3, nr: 2, [0x03], more: false)
        let events = decodeChunked(stream, chunkSize: { _ in 9 })
        #expect(events.compactMap(\.issue).map(\.code) == ["hdlc.retransmission", "hdlc.retransmission"])
        #expect(events.compactMap(\.apdu).map(\.bytes) == [[0xC4, 0x01, 0x02, 0x03]])
        #expect(events.compactMap(\.apdu).map(\.frames) == [[1, 2, 3, 6]])
    }

    @Test func aSegmentSequenceEndsIncompleteOnDISCOnAWrongSequenceNumberAndAtTheEnd() {
        let seg = hdlcFrame(destination: [0x21], source: [0x03], control: iControl(ns: 0, nr: 0),
                            info: [0xE6, 0xE7, 0x00, 0xC4], segmented: true)
        let disc = hdlcFrame(control: 0x53)
        let jump = hdlcFrame(destination: [0x21], source: [0x03], control: iControl(ns: 5, nr: 0),
                             info: [0xE6, 0xE7, 0x00, 0xC5, 0x01])
        let byDisc = decodeChunked(seg + disc, chunkSize: { _ in 100 })
        #expect(byDisc.compactMap(\.issue).map(\.code) == ["hdlc.segment-incomplete"])
        #expect(byDisc.compactMap(\.issue).first?.frames == [1, 2])
        let byJump = decodeChunked(seg + jump, chunkSize: { _ in 100 })
        #expect(byJump.compactMap(\.issue).map(\.code) == ["hdlc.segment-incomplete"])
        #expect(byJump.compactMap(\.apdu).map(\.bytes) == [[0xC5, 0x01]])
        var d = StreamDecoder(framing: .hdlc, numberFramesInternally: true)
        #expect(d.feed(seg[...], frame: 1, time: nil).compactMap(\.issue).isEmpty)
        let end = d.finish()
        #expect(end.compactMap(\.issue).map(\.code) == ["hdlc.segment-incomplete"])
        #expect(end.compactMap(\.issue).first?.frames == [1])
    }

    @Test func reassemblyStopsAtTheAPDULimit() {
        var limits = StreamLimits()
        limits.maxAPDUBytes = 100
        var d = StreamDecoder(framing: .hdlc, limits: limits, numberFramesInternally: true)
        var events: [TransportEvent] = []
        for ns in UInt8(0)..<5 {
            let f = hdlcFrame(destination: [0x21], source: [0x03], control: iControl(ns: ns, nr: 0),
                              info: [UInt8](repeating: 0xAB, count: 40), segmented: true)
            events += d.feed(f[...], frame: Int(ns) + 1, time: nil)
        }
        events += d.finish()
        #expect(events.compactMap(\.issue).map(\.code).contains("reassembly.limit"))
        #expect(events.compactMap(\.apdu).isEmpty)
    }

    @Test func anInformationFieldWithoutLLCStillYieldsTheAPDU() throws {
        // Gurux's RLRE (Captures/gurux/README.md quirk 18): the I-frame's information field starts with 63.
        let raw = hdlcFrame(destination: [0x21], source: [0x03], control: iControl(ns: 0, nr: 0),
                            info: [0x63, 0x03, 0x80, 0x01, 0x00])
        var d = StreamDecoder(framing: .hdlc)
        let a = try #require(d.feed(raw[...], frame: 9, time: nil).compactMap(\.apdu).first)
        #expect(a.bytes == [0x63, 0x03, 0x80, 0x01, 0x00] && a.errors.map(\.code) == ["hdlc.no-llc"])
        #expect(a.frames == [9])
    }
}
