import Testing
@testable import DLMSCapture

@Suite struct HexDumpParserTests {
    /// The first frame of Captures/gurux/hdlc-none.raw (Gurux client SNRM, 20 bytes); the dumps below are the
    /// output of `head -c 20 hdlc-none.raw > snrm.bin` then `hexdump -C`, `xxd` and `od -A x -t x1z` on it.
    static let snrm: [UInt8] = [
        0x7E, 0xA0, 0x12, 0x03, 0x21, 0x93, 0xF9, 0xAC, 0x81, 0x80, 0x06, 0x05, 0x01, 0x40, 0x06, 0x01,
        0x40, 0xA0, 0x91, 0x7E,
    ]

    func records(_ text: String) -> [HexRecord] { HexDumpParser.records(text) }

    func errors(_ text: String) -> [HexDumpError] {
        HexDumpParser.parse(text).compactMap { if case .error(let e) = $0 { return e } else { return nil } }
    }

    @Test func plainHexInAnyCommonSpellingIsOneRecord() {
        for text in ["7E A0 21 02", "7ea02102", "7E:A0:21:02", "0x7E, 0xA0, 0x21, 0x02", "{ 0x7e, 0xa0, 0x21, 0x02 };",
                     "7E-A0-21-02", "\t7E A0\r\n21 02\r\n", "7E A0\n21 02\n", "0x7e,0xa0,\n0x21,0x02,"] {
            #expect(records(text) == [HexRecord(bytes: [0x7E, 0xA0, 0x21, 0x02], line: 1, direction: nil)],
                    "\(text)")
            #expect(errors(text).isEmpty, "\(text)")
        }
        #expect(records("0x7 0xA")[0].bytes == [0x07, 0x0A])
    }

    @Test func blankLinesSeparateRecords() {
        let r = records("7E A0\n\n  \n21 02\n03\n\n")
        #expect(r == [HexRecord(bytes: [0x7E, 0xA0], line: 1, direction: nil),
                      HexRecord(bytes: [0x21, 0x02, 0x03], line: 4, direction: nil)])
    }

    @Test func markersAndTimestampsStartRecordsAndGiveTheDirection() {
        let text = """
            12:00:01.123 TX: 7E A0 21
            02 03
            12:00:01.200 RX: 7E A0 21
            2024-03-01 12:00:01 -> 01 02
            2024-03-01T12:00:01.5Z <- 03
            [12:00:02] >> 04
            [2024-03-01 12:00:02.001] << 05
            Tx 06
            rx: 07
            [RX] 08
            > 09
            SEND 0a
            """
        let r = records(text)
        #expect(r.map(\.bytes) == [[0x7E, 0xA0, 0x21, 0x02, 0x03], [0x7E, 0xA0, 0x21], [1, 2], [3], [4], [5], [6],
                                   [7], [8], [9], [10]])
        #expect(r.map(\.direction) == ["TX", "RX", "TX", "RX", "TX", "RX", "TX", "RX", "RX", "TX", "TX"])
        #expect(r.map(\.line) == [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        #expect(errors(text).isEmpty)
    }

    @Test func timestampWithoutMarkerStartsARecordWithoutDirection() {
        let r = records("12:00:01 7E A0\n12:00:02 21\n")
        #expect(r == [HexRecord(bytes: [0x7E, 0xA0], line: 1, direction: nil),
                      HexRecord(bytes: [0x21], line: 2, direction: nil)])
    }

    @Test func europeanDatesAndSecondTimestampsArePrefixes() {
        let r = records("25.11.2026 12:00:01 TX 7E\n  0.000123 RX 7F\n1700000000.250000: 80\n01/03/2024 81")
        #expect(r.map(\.bytes) == [[0x7E], [0x7F], [0x80], [0x81]])
        #expect(r.map(\.direction) == ["TX", "RX", nil, nil])
    }

    @Test func markerOnItsOwnLineAppliesToTheFollowingLines() {
        let r = records("TX:\n7E A0\n21\nRX:\n7E\n")
        #expect(r == [HexRecord(bytes: [0x7E, 0xA0, 0x21], line: 2, direction: "TX"),
                      HexRecord(bytes: [0x7E], line: 5, direction: "RX")])
    }

    /// `hexdump -C snrm.bin` (util-linux): the ASCII column between bars is ignored.
    @Test func hexdumpCanonicalOutputIsReadWithoutItsASCIIColumn() {
        let text = """
            00000000  7e a0 12 03 21 93 f9 ac  81 80 06 05 01 40 06 01  |~...!........@..|
            00000010  40 a0 91 7e                                       |@..~|
            00000014
            """
        #expect(records(text) == [HexRecord(bytes: Self.snrm, line: 1, direction: nil)])
        #expect(errors(text).isEmpty)
    }

    /// `xxd` output: the ASCII column follows two spaces; here it is made of hex-looking letters on purpose.
    @Test func xxdOutputIsReadWithoutItsASCIIColumn() {
        let text = """
            00000000: 7ea0 1203 2193 f9ac 8180 0605 0140 0601  ~...!........@..
            00000010: 40a0 917e                                @..~

            00000000: 6162 6364                                abcd
            """
        #expect(records(text) == [HexRecord(bytes: Self.snrm, line: 1, direction: nil),
                                  HexRecord(bytes: [0x61, 0x62, 0x63, 0x64], line: 4, direction: nil)])
    }

    /// `tshark -r hdlc-none.pcap -x -c 2` (Wireshark 4.0.17): two frames separated by a blank line, whose ASCII
    /// columns (after three spaces) hold hex-looking letters such as `E`.
    @Test func tsharkHexOutputGivesOneRecordPerFrame() throws {
        let text = """
            0000  00 00 00 00 00 00 00 00 00 00 00 00 08 00 45 00   ..............E.
            0010  00 3c 90 bc 40 00 40 06 ab fd 7f 00 00 01 7f 00   .<..@.@.........
            0020  00 01 82 1e 5d f6 cc 50 af c9 00 00 00 00 a0 02   ....]..P........
            0030  ff d7 c5 9e 00 00 02 04 ff d7 04 02 08 0a 2f 1b   ............../.
            0040  ff 15 00 00 00 00 01 03 03 0a                     ..........

            0000  00 00 00 00 00 00 00 00 00 00 00 00 08 00 45 00   ..............E.
            0010  00 3c 00 00 40 00 40 06 3c ba 7f 00 00 01 7f 00   .<..@.@.<.......
            0020  00 01 5d f6 82 1e 6f 36 e2 c9 cc 50 af ca a0 12   ..]...o6...P....
            0030  ff cb 5a d6 00 00 02 04 ff d7 04 02 08 0a 8c bf   ..Z.............
            0040  8c 03 2f 1b ff 15 01 03 03 0a                     ../.......
            """
        let frames = try Fixtures.frames("gurux/hdlc-none.pcap").prefix(2).map(\.data)
        #expect(records(text).map(\.bytes) == Array(frames))
        #expect(errors(text).isEmpty)
    }

    @Test func odOutputWithAnASCIIColumnIsRead() {
        let text = """
            000000 7e a0 12 03 21 93 f9 ac 81 80 06 05 01 40 06 01  >~...!........@..<
            000010 40 a0 91 7e                                      >@..~<
            000014
            """
        #expect(records(text) == [HexRecord(bytes: Self.snrm, line: 1, direction: nil)])
    }

    @Test func dumpOffsetZeroStartsANewRecord() {
        let text = "0000: 7E A0\n0002: 21\n0000: 02 03\n"
        #expect(records(text).map(\.bytes) == [[0x7E, 0xA0, 0x21], [0x02, 0x03]])
    }

    @Test func commentsAreIgnored() {
        #expect(records("# SNRM\n7E A0 // flag and format\n21 # address\n").map(\.bytes) == [[0x7E, 0xA0, 0x21]])
    }

    @Test func garbageInALineIsAnErrorNamingLineAndColumnAndParsingGoesOn() {
        let text = "7E A0\n7E zz 21\n02 03\n"
        let items = HexDumpParser.parse(text)
        #expect(items == [
            .error(HexDumpError(code: "hex.unexpected-character", message: "unexpected 'z' in hex data", line: 2,
                                column: 4)),
            .record(HexRecord(bytes: [0x7E, 0xA0, 0x02, 0x03], line: 1, direction: nil)),
        ])
        let odd = errors("TX: 7E A 21")
        #expect(odd.map(\.code) == ["hex.odd-digits"])
        #expect(odd.first?.column == 8)
        #expect(errors("7E\u{01}A0").first?.message == "unexpected byte 0x1 in hex data")
    }

    @Test func overlongLinesAndRecordsAreBoundedAndReported() {
        var p = HexDumpParser()
        p.maximumLineLength = 16
        var items = p.feed(Array("7E A0 21 02 03 10 99 FB 81\n01 02\n".utf8)[...])
        items += p.finish()
        #expect(items.count == 2)
        if case .error(let e) = items.first { #expect(e.code == "hex.line-too-long") } else { Issue.record("\(items)") }
        #expect(items.last == .record(HexRecord(bytes: [1, 2], line: 2, direction: nil)))

        var q = HexDumpParser()
        q.maximumRecordBytes = 4
        var out = q.feed(Array("01 02 03\n04 05 06\n".utf8)[...])
        out += q.finish()
        let cutRecords = out.compactMap { item -> [UInt8]? in
            if case .record(let r) = item { return r.bytes } else { return nil }
        }
        #expect(cutRecords == [[1, 2, 3], [4, 5, 6]])
        #expect(out.contains { if case .error(let e) = $0 { e.code == "hex.record-too-long" } else { false } })
    }

    /// Drip-feeding: byte by byte, whole, and in seeded random chunks give the same items.
    @Test(arguments: [UInt64(1), 2, 3, 4])
    func chunkingDoesNotChangeTheResult(_ seed: UInt64) {
        let text = """
            12:00:01.123 TX: 7E A0 21 02 03 10 99 FB
            81 80 12 05 01 80 06 01

            00000000  7e a0 21 02 03 10 99 fb  81 80 12 05 01 80 06 01  |~.!.............|
            00000010  80 07
            RX: 7E zz
            0x01, 0x02
            """
        let whole = HexDumpParser.parse(text)
        #expect(whole.count == 4)
        let bytes = Array(text.utf8)
        var rng = SplitMix64(seed: seed)
        for mode in 0..<2 {
            var p = HexDumpParser()
            var items: [HexDumpParser.Item] = []
            var i = 0
            while i < bytes.count {
                let n = mode == 0 ? 1 : Int.random(in: 1...17, using: &rng)
                let end = min(bytes.count, i + n)
                items += p.feed(bytes[i..<end])
                i = end
            }
            items += p.finish()
            #expect(items == whole)
        }
    }

    @Test func everyPrefixOfATraceParsesWithoutCrashing() {
        let text = Array("[2024-03-01 12:00:01.123] TX: 0x7E, 0xA0 |\n00000000: 7ea0 2102  ~.!.\n".utf8)
        for n in 0...text.count {
            var p = HexDumpParser()
            _ = p.feed(text[..<n])
            _ = p.finish()
        }
    }
}
