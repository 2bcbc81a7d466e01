import DLMSTransport
import DLMSWire
import Foundation
import Testing

/// HDLC decoding of the Gurux serial-sniffer streams (Captures/gurux/*.raw: both directions interleaved, TCP
/// payloads of the Gurux client and server concatenated in capture order), checked against the truth files.
@Suite struct StreamDecoderHDLCTests {
    static let rawCaptures = ["hdlc-none", "hdlc-auth-only", "hdlc-gbt-authenc"]

    @Test(arguments: rawCaptures)
    func guruxRawStreamDecodesToTheTruthAPDUsInOrder(_ name: String) throws {
        let raw = try Fixtures.bytes("gurux/\(name).raw")
        let truth = try Fixtures.truth(name)
        let events = decodeChunked(raw, chunkSize: { _ in raw.count })

        let frames = events.compactMap(\.frame)
        #expect(!frames.isEmpty)
        #expect(frames.allSatisfy { $0.fcsOK && $0.hcsOK != false })
        // Link frames are numbered 1, 2, 3 ... in stream order.
        #expect(frames.map(\.frames) == (1...frames.count).map { [$0] })

        let expected = truth.filter { $0["kind"] as? String == "apdu" }.compactMap { $0["apdu_hex"] as? String }
        let apdus = events.compactMap(\.apdu)
        #expect(apdus.map { Hex.encode($0.bytes) } == expected)

        // Only Gurux's RLRE (README quirk 18) lacks the LLC header; every other APDU has the right one.
        for (a, record) in zip(apdus, truth.filter { $0["kind"] as? String == "apdu" }) {
            guard case .hdlc(let segments, let llc) = a.kind else {
                Issue.record("not an HDLC APDU")
                continue
            }
            #expect(segments.count == record["hdlc_segments"] as? Int)
            let nsList = (record["hdlc"] as? [[String: Any]] ?? []).compactMap { $0["ns"] as? Int }
            #expect(segments.compactMap { $0.sendSequence.map(Int.init) } == nsList)
            if let llc {
                #expect(Hex.encode(llc) == record["llc"] as? String)
                #expect(a.errors.isEmpty)
            } else {
                #expect(record["apdu"] as? String == "rlre")
                #expect(a.errors.map(\.code) == ["hdlc.no-llc"])
            }
        }
        #expect(events.compactMap(\.issue).isEmpty, "issues: \(events.compactMap(\.issue).map(\.code))")
    }

    @Test(arguments: rawCaptures)
    func nonInformationFramesMatchTheTruthLinkRecords(_ name: String) throws {
        let raw = try Fixtures.bytes("gurux/\(name).raw")
        let links = try Fixtures.truth(name).filter { $0["kind"] as? String == "link" }
        let frames = decodeChunked(raw, chunkSize: { _ in 4096 }).compactMap(\.frame).filter { $0.type != .i }
        #expect(frames.count == links.count)
        for (f, l) in zip(frames, links) {
            #expect(f.type.rawValue == l["hdlc_type"] as? String)
            #expect(String(format: "0x%02X", f.control) == l["control"] as? String)
            #expect(Int(f.destination.value) == l["dst_addr"] as? Int)
            #expect(Int(f.source.value) == l["src_addr"] as? Int)
            #expect(Hex.encode(f.info) == l["info_hex"] as? String)
            #expect(Hex.encode(f.raw) == l["raw_hex"] as? String)
        }
    }

    @Test func snrmAndUAParametersAreDecoded() throws {
        // hdlc-none truth: SNRM info 818006050140060140, UA info 818012050140060140070400000001080400000001.
        let raw = try Fixtures.bytes("gurux/hdlc-none.raw")
        let frames = decodeChunked(raw, chunkSize: { _ in raw.count }).compactMap(\.frame)
        let snrm = try #require(frames.first { $0.type == .snrm })
        let ua = try #require(frames.first { $0.type == .ua })
        let p = try #require(snrm.parameters)
        #expect(p.maxInfoTransmit == 64 && p.maxInfoReceive == 64)
        #expect(p.windowTransmit == nil && p.windowReceive == nil)
        let q = try #require(ua.parameters)
        #expect(q.maxInfoTransmit == 64 && q.maxInfoReceive == 64 && q.windowTransmit == 1 && q.windowReceive == 1)
        #expect(snrm.destination == HDLCAddress(size: 1, value: 1, upper: 1, lower: nil))
        #expect(snrm.source.value == 16 && snrm.pollFinal && snrm.hcsOK == true)
    }

    // MARK: - Drip feeding

    @Test(arguments: rawCaptures)
    func byteByByteAllAtOnceAndRandomChunksGiveTheSameEvents(_ name: String) throws {
        let raw = try Fixtures.bytes("gurux/\(name).raw")
        let whole = decodeChunked(raw, chunkSize: { _ in raw.count }).map(\.summary)
        let single = decodeChunked(raw, chunkSize: { _ in 1 }).map(\.summary)
        #expect(single == whole)
        for seed: UInt64 in [1, 2, 3] {
            let random = decodeChunked(raw, chunkSize: { Int($0.next() % 97) + 1 }, seed: seed).map(\.summary)
            #expect(random == whole, "seed \(seed)")
        }
    }

    @Test func capturedFrameNumbersFollowTheChunksThatCarriedTheBytes() throws {
        // Feed hdlc-none as 3-byte chunks numbered 1, 2, 3 ...: a frame spans the chunks covering its bytes.
        let raw = try Fixtures.bytes("gurux/hdlc-none.raw")
        let events = decodeChunked(raw, internalNumbers: false, chunkSize: { _ in 3 })
        var offset = 0
        for f in events.compactMap(\.frame) {
            let start = try #require(indexOf(Array(f.raw), in: raw, from: offset))
            let end = start + f.raw.count
            #expect(f.frames.array == Array((start / 3 + 1)...((end - 1) / 3 + 1)))
            offset = end - 1
        }
        // An APDU of several segments carries every segment's frames.
        let segmented = try #require(events.compactMap(\.apdu).first {
            if case .hdlc(let s, _) = $0.kind { return s.count > 1 } else { return false }
        })
        guard case .hdlc(let segments, _) = segmented.kind else { return }
        #expect(segmented.frames == segments.flatMap(\.frames))
    }

    @Test func everyStrictPrefixOfAFrameNeedsMoreBytes() throws {
        let raw = try Fixtures.bytes("gurux/hdlc-none.raw")
        // The first 12 frames: SNRM, UA, AARQ, AARE, GETs, and a segmented response later in the stream.
        let frames = decodeChunked(raw, chunkSize: { _ in raw.count }).compactMap(\.frame)
        for f in frames.prefix(12) + frames.filter(\.segmented).prefix(2) {
            let bytes = Array(f.raw)
            for n in 0..<bytes.count {
                var d = StreamDecoder(framing: .hdlc, numberFramesInternally: true)
                #expect(d.feed(bytes[..<n], frame: 1, time: nil).isEmpty, "prefix \(n) of \(Hex.encode(bytes))")
            }
            var d = StreamDecoder(framing: .hdlc, numberFramesInternally: true)
            let events = d.feed(bytes[...], frame: 1, time: nil)
            #expect(events.compactMap(\.frame).map(\.raw) == [bytes[...]])
            #expect(d.finish().compactMap(\.issue).allSatisfy { $0.code == "hdlc.segment-incomplete" })
        }
    }

    // MARK: - Broken frames

    @Test func badFCSIsReportedAtItsFrameAndTheFollowingFramesDecode() throws {
        // Captures/gurux/neg-bad-fcs: the FCS of the get-response in pcap frame 15 (N(S)=3, control 0x96) is inverted.
        let raw = try Fixtures.bytes("gurux/neg-bad-fcs.raw")
        let truth = try Fixtures.truth("neg-bad-fcs").filter { $0["kind"] as? String == "apdu" }
        let events = decodeChunked(raw, chunkSize: { _ in 64 })
        let issues = events.compactMap(\.issue)
        #expect(issues.map(\.code) == ["hdlc.bad-fcs"])
        let bad = try #require(events.compactMap(\.frame).first { !$0.fcsOK })
        #expect(bad.control == 0x96 && bad.hcsOK == true)
        #expect(issues.first?.frames == bad.frames.array)
        // The bad frame's APDU is not used; all the others are, in order.
        let expected = truth.filter { $0["fcs_ok"] as? Bool == true }.compactMap { $0["apdu_hex"] as? String }
        #expect(events.compactMap(\.apdu).map { Hex.encode($0.bytes) } == expected)
        #expect(expected.count == truth.count - 1)
    }

    @Test func junkBetweenFramesIsReportedOnceAndDecodingResumes() throws {
        let raw = try Fixtures.bytes("gurux/hdlc-none.raw")
        let clean = decodeChunked(raw, chunkSize: { _ in raw.count })
        let firstFrameLength = try #require(clean.compactMap(\.frame).first).raw.count
        var dirty = Array(raw[..<firstFrameLength])
        dirty += [0x01, 0x02, 0x7E, 0xA0, 0x03, 0x55]  // junk, including a flag and a bogus format
        dirty += raw[firstFrameLength...]
        for size in [1, 5, dirty.count] {
            let events = decodeChunked(dirty, chunkSize: { _ in size })
            let issues = events.compactMap(\.issue)
            #expect(issues.map(\.code) == ["stream.junk"], "chunk size \(size)")
            #expect(issues.first?.offset == firstFrameLength)
            #expect(issues.first?.message.hasPrefix("6 byte(s)") == true)
            #expect(events.compactMap(\.apdu).map(\.bytes) == clean.compactMap(\.apdu).map(\.bytes))
        }
    }

    @Test func aCorruptedLengthFieldLosesOnlyItsOwnFrame() throws {
        // Frame 3 of hdlc-none (the AARQ) gets a length 9 bytes too long: its closing flag is not where the
        // format field says. The AARQ is lost as junk (its HCS is then wrong too); everything after it decodes.
        let raw = try Fixtures.bytes("gurux/hdlc-none.raw")
        let clean = decodeChunked(raw, chunkSize: { _ in raw.count })
        let frames = clean.compactMap(\.frame)
        let start = frames[0].raw.count + frames[1].raw.count
        var broken = raw
        broken[start + 2] &+= 9
        for size in [1, 13, broken.count] {
            let events = decodeChunked(broken, chunkSize: { _ in size })
            #expect(events.compactMap(\.issue).map(\.code) == ["stream.junk"], "chunk size \(size)")
            #expect(events.compactMap(\.issue).first?.offset == start)
            #expect(events.compactMap(\.apdu).map(\.bytes) == Array(clean.compactMap(\.apdu).map(\.bytes).dropFirst()))
        }
    }

    @Test func aFrameWhoseHCSAndFCSBothFailIsSkippedAsABadHCS() {
        let bad = hdlcFrame(control: iControl(ns: 0, nr: 0), info: [0xE6, 0xE6, 0x00, 0x62, 0x00], corruptHCS: true,
                            corruptFCS: true)
        let good = hdlcFrame(control: iControl(ns: 1, nr: 0), info: [0xE6, 0xE6, 0x00, 0x62, 0x00])
        let events = decodeChunked(bad + good, chunkSize: { _ in 4 })
        #expect(events.compactMap(\.issue).map(\.code) == ["hdlc.bad-hcs"])
        #expect(events.compactMap(\.issue).first?.message.hasPrefix("\(bad.count - 1) byte(s)") == true)
        #expect(events.compactMap(\.frame).count == 1 && events.compactMap(\.apdu).count == 1)
    }

    @Test func aSharedFlagClosesOneFrameAndOpensTheNext() throws {
        let raw = try Fixtures.bytes("gurux/hdlc-none.raw")
        let frames = decodeChunked(raw, chunkSize: { _ in raw.count }).compactMap(\.frame).prefix(6)
        var shared: [UInt8] = [0x7E]
        for f in frames { shared += f.raw.dropFirst() }  // 7E f1 7E f2 7E ... 7E
        let events = decodeChunked(shared, chunkSize: { _ in 7 })
        #expect(events.compactMap(\.frame).map(\.raw) == frames.map(\.raw))
        #expect(events.compactMap(\.issue).isEmpty)
    }

    @Test func aGapDropsThePartialFrameAndTheNextFrameDecodes() throws {
        let raw = try Fixtures.bytes("gurux/hdlc-none.raw")
        let frames = decodeChunked(raw, chunkSize: { _ in raw.count }).compactMap(\.frame)
        let aarq = frames[2].raw, aare = frames[3].raw, get = frames[4].raw
        var d = StreamDecoder(framing: .hdlc)
        var events = d.feed(aarq[...], frame: 1, time: nil)
        events += d.feed(aare.prefix(20), frame: 2, time: nil)
        events += d.gap(missing: aare.count - 20, frame: 3, time: nil)
        events += d.feed(get[...], frame: 4, time: nil) + d.finish()
        #expect(events.compactMap(\.issue).map(\.code) == ["stream.gap"])
        #expect(events.compactMap(\.issue).first?.frames == [2, 3])
        #expect(events.compactMap(\.apdu).map(\.frames) == [[1], [4]])
    }

    private func indexOf(_ needle: [UInt8], in hay: [UInt8], from: Int) -> Int? {
        guard needle.count <= hay.count else { return nil }
        var i = from
        while i + needle.count <= hay.count {
            if hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
