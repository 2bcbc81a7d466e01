import Testing
@testable import DLMSCapture

@Suite struct InputKindTests {
    @Test(arguments: [([UInt8(0xA1), 0xB2, 0xC3, 0xD4], InputKind.pcap), ([0xD4, 0xC3, 0xB2, 0xA1], .pcap),
                      ([0xA1, 0xB2, 0x3C, 0x4D], .pcap), ([0x4D, 0x3C, 0xB2, 0xA1], .pcap),
                      ([0x0A, 0x0D, 0x0D, 0x0A], .pcapng)])
    func magicNumbersWinOverTheExtension(_ magic: [UInt8], _ kind: InputKind) {
        #expect(InputKind.detect(path: "trace.txt", firstBytes: magic + [0, 0, 0, 0]) == kind)
        #expect(InputKind.detect(path: "-", firstBytes: magic) == kind)
    }

    @Test func extensionsDecideWithoutMagic() {
        let binary: [UInt8] = [0x7E, 0xA0, 0x21, 0x02, 0x03]
        #expect(InputKind.detect(path: "a/b.pcap", firstBytes: binary) == .pcap)
        #expect(InputKind.detect(path: "b.CAP", firstBytes: binary) == .pcap)
        #expect(InputKind.detect(path: "b.pcapng", firstBytes: binary) == .pcapng)
        #expect(InputKind.detect(path: "b.raw", firstBytes: Array("7E A0".utf8)) == .raw)
        #expect(InputKind.detect(path: "b.bin", firstBytes: binary) == .raw)
        #expect(InputKind.detect(path: "b.hex", firstBytes: binary) == .hex)
        #expect(InputKind.detect(path: "b.txt", firstBytes: binary) == .hex)
    }

    @Test func contentDecidesForUnknownExtensions() {
        #expect(InputKind.detect(path: "-", firstBytes: Array("7E A0 21 02\n03 04\n".utf8)) == .hex)
        #expect(InputKind.detect(path: "capture", firstBytes: Array("12:00:01 TX: 0x7E, 0xA0\r\n".utf8)) == .hex)
        #expect(InputKind.detect(path: "trace.log", firstBytes: [0x7E, 0xA0, 0x21, 0x02, 0x03, 0x10]) == .raw)
        #expect(InputKind.detect(path: "notes", firstBytes: Array("Hello, this is prose.".utf8)) == .raw)
        #expect(InputKind.detect(path: "empty", firstBytes: []) == .raw)
    }

    @Test func guruxRawCaptureIsDetectedAsRaw() throws {
        let reader = try RawStreamReader(path: Fixtures.capture("gurux/hdlc-none.raw"))
        let first = try #require(try reader.next())
        #expect(InputKind.detect(path: "-", firstBytes: first) == .raw)
    }
}
