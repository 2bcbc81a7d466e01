import DLMSTransport
import DLMSWire
import Testing

/// Builds a wired M-Bus long frame carrying one DLMS transport-layer segment (EN 13757-2 §5, CI = last-flag |
/// segment number, then STSAP and DTSAP as in the TINETZ example of MBusVectors).
func mbusSegment(ci: UInt8, segment: [UInt8], control: UInt8 = 0x53, address: UInt8 = 0xFF, stsap: UInt8 = 0x01,
                 dtsap: UInt8 = 0x67, time: Timestamp? = nil, frame: Int = 1) -> MBusFrameInfo {
    let data = [stsap, dtsap] + segment
    var sum = control &+ address &+ ci
    for b in data { sum &+= b }
    return MBusFrameInfo(kind: .long, control: control, address: address, ci: ci, data: data, checksum: sum,
                         checksumOK: true, length: data.count + 9, frames: [frame], time: time)
}

struct AssemblerRun {
    var apdus: [MBusAPDU] = []
    var issues: [String] = []
    mutating func add(_ events: [MBusAssembler.Event]) {
        for e in events {
            switch e {
            case .apdu(let a): apdus.append(a)
            case .issue(let i): issues.append(i.code)
            }
        }
    }
}

@Suite struct MBusAssemblerTests {
    @Test func tinetzTwoSegmentsJoinIntoTheDocumentedCipheredAPDU() throws {
        var d = MBusFrameDecoder()
        var asm = MBusAssembler()
        var run = AssemblerRun()
        for e in d.feed(MBusVectors.stream[...], frame: 1, time: nil) + d.finish() {
            if case .frame(let f) = e { run.add(asm.accept(f)) }
        }
        run.add(asm.finish())
        #expect(run.issues.isEmpty)
        let apdu = try #require(run.apdus.first)
        #expect(run.apdus.count == 1)
        #expect(apdu.segments.map(\.ci) == [0x00, 0x11])
        #expect(apdu.stsap == 0x01 && apdu.dtsap == 0x67)
        // doc/EXAMPLE.md, "Transportierte DLMS/COSEM Nachricht": the joined general-glo-ciphering APDU.
        let documented = MBusVectors.hex("""
            DB084B464D10100000238201092100295B9AEFC1546E644A2C9E32EDD42CBD0F1B945B194D086885C4D8DF86DD52CB5B448854A6D548D5
            D270739B2A169D05B013F9015070089D3C5FA45CA05E92309A645CC83D7DA40FBC8F4CF9C225AFA69A25FF0B2AC9C2744550ABA53CE914
            3FD10B0AD85FD30BD6B6DFFEE65F8204DC9C5067CA73B62E299A39D50AA730B2B9AE3836BC2F3490FB41BE5B6F930D84952976369DD7DA
            BBB5A4354AECA1D2486CFF2EB0C6206380BA501D122AF75D716D3092C3960506A15E06FAB0EE5B7DFA3C2CDF0CAFD051B88E44B8B9FB88
            65F20CB89D1143CDC7EFEB07FB4C4898E764E9E3A32DDC3D1FB46961CE962B2C78050C96598C7E4D26658043F9CBCA78189BD01B139F8A
            E0F739
            """)
        #expect(documented.count == 0x109 + 13)
        #expect(apdu.bytes == documented)
    }

    @Test func oneFrameAPDUHasCI0x10() {
        var asm = MBusAssembler()
        var run = AssemblerRun()
        run.add(asm.accept(mbusSegment(ci: 0x10, segment: [0x0F, 0x00, 0x00, 0x00, 0x01, 0x00, 0x11, 0x07])))
        #expect(run.apdus.map(\.bytes) == [[0x0F, 0x00, 0x00, 0x00, 0x01, 0x00, 0x11, 0x07]])
        #expect(run.issues.isEmpty)
    }

    @Test func manySegmentsJoinInOrderAndWrapTheNumberAt16() {
        var asm = MBusAssembler()
        var run = AssemblerRun()
        for n in 0..<20 {
            let ci = UInt8(n & 0x0F) | (n == 19 ? 0x10 : 0)
            run.add(asm.accept(mbusSegment(ci: ci, segment: [UInt8(n)], frame: n + 1)))
        }
        #expect(run.issues.isEmpty)
        #expect(run.apdus.first?.bytes == (0..<20).map { UInt8($0) })
        #expect(run.apdus.first?.frames == Array(1...20))
    }

    @Test func duplicateSegmentIsReportedAndNotJoinedTwice() {
        var asm = MBusAssembler()
        var run = AssemblerRun()
        run.add(asm.accept(mbusSegment(ci: 0x00, segment: [1, 2])))
        run.add(asm.accept(mbusSegment(ci: 0x01, segment: [3])))
        run.add(asm.accept(mbusSegment(ci: 0x01, segment: [3])))
        run.add(asm.accept(mbusSegment(ci: 0x12, segment: [4])))
        #expect(run.issues == ["mbus.duplicate-segment"])
        #expect(run.apdus.map(\.bytes) == [[1, 2, 3, 4]])
    }

    @Test func missingSegmentDropsTheSequence() {
        var asm = MBusAssembler()
        var run = AssemblerRun()
        run.add(asm.accept(mbusSegment(ci: 0x00, segment: [1])))
        run.add(asm.accept(mbusSegment(ci: 0x12, segment: [3])))
        #expect(run.issues == ["mbus.segment-out-of-order"])
        #expect(run.apdus.isEmpty)
    }

    @Test func laterSegmentWithoutAFirstIsReported() {
        var asm = MBusAssembler()
        var run = AssemblerRun()
        run.add(asm.accept(mbusSegment(ci: 0x11, segment: [3])))
        #expect(run.issues == ["mbus.segment-out-of-order"])
    }

    @Test func newFirstSegmentEndsThePendingOne() {
        var asm = MBusAssembler()
        var run = AssemblerRun()
        run.add(asm.accept(mbusSegment(ci: 0x00, segment: [1])))
        run.add(asm.accept(mbusSegment(ci: 0x00, segment: [9])))
        run.add(asm.accept(mbusSegment(ci: 0x11, segment: [8])))
        #expect(run.issues == ["mbus.segment-incomplete"])
        #expect(run.apdus.map(\.bytes) == [[9, 8]])
    }

    @Test func linksAreKeptApartByAddressAndAccessPoints() {
        var asm = MBusAssembler()
        var run = AssemblerRun()
        run.add(asm.accept(mbusSegment(ci: 0x00, segment: [1], address: 1)))
        run.add(asm.accept(mbusSegment(ci: 0x00, segment: [5], address: 2)))
        run.add(asm.accept(mbusSegment(ci: 0x11, segment: [6], address: 2)))
        run.add(asm.accept(mbusSegment(ci: 0x11, segment: [2], address: 1)))
        #expect(run.issues.isEmpty)
        #expect(run.apdus.map(\.bytes) == [[5, 6], [1, 2]])
    }

    @Test func idleSequenceExpiresInCaptureTime() {
        var asm = MBusAssembler(idleSeconds: 10)
        var run = AssemblerRun()
        run.add(asm.accept(mbusSegment(ci: 0x00, segment: [1], time: Timestamp(seconds: 100, micros: 0))))
        run.add(asm.accept(mbusSegment(ci: 0x11, segment: [2], time: Timestamp(seconds: 111, micros: 0))))
        #expect(run.issues == ["mbus.segment-incomplete", "mbus.segment-out-of-order"])
        #expect(run.apdus.isEmpty)
    }

    @Test func sizeLimitDropsTheAPDU() {
        var asm = MBusAssembler(maxAPDUBytes: 4)
        var run = AssemblerRun()
        run.add(asm.accept(mbusSegment(ci: 0x00, segment: [1, 2, 3])))
        run.add(asm.accept(mbusSegment(ci: 0x11, segment: [4, 5])))
        #expect(run.issues == ["mbus.segment-incomplete", "reassembly.limit"])
        #expect(run.apdus.isEmpty)
    }

    @Test func tooManyLinksDropTheOldest() {
        var asm = MBusAssembler(maxLinks: 2)
        var run = AssemblerRun()
        for a in UInt8(1)...3 { run.add(asm.accept(mbusSegment(ci: 0x00, segment: [a], address: a))) }
        #expect(run.issues == ["mbus.segment-incomplete", "reassembly.limit"])
        run.add(asm.finish())
        #expect(run.issues.suffix(2) == ["mbus.segment-incomplete", "mbus.segment-incomplete"])
    }

    @Test func endOfStreamReportsThePendingSequence() {
        var asm = MBusAssembler()
        var run = AssemblerRun()
        run.add(asm.accept(mbusSegment(ci: 0x00, segment: [1])))
        run.add(asm.finish())
        #expect(run.issues == ["mbus.segment-incomplete"])
    }

    @Test func nonDLMSApplicationLayerIsReportedOncePerCI() {
        var asm = MBusAssembler()
        var run = AssemblerRun()
        run.add(asm.accept(mbusSegment(ci: 0x72, segment: [1])))
        run.add(asm.accept(mbusSegment(ci: 0x72, segment: [1])))
        #expect(run.issues == ["mbus.not-dlms"])
    }

    @Test func frameWithoutAccessPointsIsABadSegment() {
        var asm = MBusAssembler()
        var run = AssemblerRun()
        let f = MBusFrameInfo(kind: .long, control: 0x53, address: 0xFF, ci: 0x10, data: [0x01], checksum: 0,
                              checksumOK: true, length: 10)
        run.add(asm.accept(f))
        #expect(run.issues == ["mbus.bad-segment"])
    }
}

@Suite struct MBusLinkTests {
    @Test func tapWithJunkABadFrameAndTheTinetzPushGivesOneAPDU() {
        var bad = MBusVectors.segment2
        bad[30] ^= 0xFF
        let tap = [0x00, 0xE5] + bad + MBusVectors.stream + MBusVectors.segment1
        var link = MBusLink()
        var apdus: [MBusAPDU] = []
        var frames: [MBusFrameInfo] = []
        var issues: [String] = []
        var i = 0
        while i < tap.count {
            let n = min(17, tap.count - i)
            for e in link.feed(tap[i..<(i + n)], frame: i / 17 + 1, time: nil) {
                switch e {
                case .apdu(let a): apdus.append(a)
                case .frame(let f): frames.append(f)
                case .issue(let x): issues.append(x.code)
                }
            }
            i += n
        }
        for e in link.finish() {
            if case .issue(let x) = e { issues.append(x.code) }
        }
        #expect(frames.map(\.kind) == [.ack, .long, .long, .long, .long])
        // The bad segment 1 has no first segment anyway; the trailing first segment never completes.
        #expect(issues == ["stream.junk", "mbus.bad-checksum", "mbus.segment-incomplete"])
        #expect(apdus.count == 1)
        #expect(apdus.first?.bytes.count == 0x109 + 13)
        #expect(frames[1].segmentNumber == 1 && frames[1].lastSegment == true)
        #expect(frames[2].stsap == 0x01 && frames[2].dtsap == 0x67 && frames[2].fromPrimary == true)
    }
}

@Suite struct MBusRenderingTests {
    static func tinetzAPDU() -> MBusAPDU? {
        var link = MBusLink()
        var apdus: [MBusAPDU] = []
        for (i, seg) in [MBusVectors.segment1, MBusVectors.segment2].enumerated() {
            for e in link.feed(seg[...], frame: i + 1, time: nil) { if case .apdu(let a) = e { apdus.append(a) } }
        }
        return apdus.first
    }

    @Test func transportJSONNamesTheLinkAndEverySegment() throws {
        let apdu = try #require(Self.tinetzAPDU())
        var j = JSONBuffer()
        j.beginObject()
        MBusFrameInfo.writeTransportJSON(apdu.segments, into: &j)
        j.endObject()
        #expect(j.string == #"{"type":"mbus","c_field":83,"function":"SND_UD","a_field":255,"stsap":1,"dtsap":103,"#
                + #""segment_count":2,"segments":[{"frames":[1],"ci":0,"segment":0,"last":false,"length":256,"#
                + #""checksum":15},{"frames":[2],"ci":17,"segment":1,"last":true,"length":44,"checksum":17}]}"#)
    }

    @Test func transportSummaryIsOneLine() throws {
        let apdu = try #require(Self.tinetzAPDU())
        #expect(MBusFrameInfo.transportSummary(apdu.segments) == "mbus A=FF SND_UD STSAP 01→DTSAP 67, 2 segments")
        #expect(MBusFrameInfo.transportSummary([]) == "mbus")
    }
}
