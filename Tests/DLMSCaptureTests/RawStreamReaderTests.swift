import Testing
@testable import DLMSCapture

@Suite struct RawStreamReaderTests {
    @Test(arguments: [1, 1000, 64 * 1024])
    func chunksConcatenateToTheWholeFile(_ chunk: Int) throws {
        let path = Fixtures.capture("gurux/hdlc-none.raw")
        let reader = try RawStreamReader(path: path, chunkSize: chunk)
        var all: [UInt8] = []
        while let c = try reader.next() {
            #expect(!c.isEmpty && c.count <= chunk)
            all += c
        }
        #expect(all.count == 20169)  // ls -l Captures/gurux/hdlc-none.raw
        #expect(reader.offset == 20169)
        #expect(Array(all.prefix(3)) == [0x7E, 0xA0, 0x12])  // xxd: the SNRM frame 7E A0 12 ... starts the stream
        #expect(try RawStreamReader(path: path).readAll() == all)
    }

    @Test func missingFileAndOversizedInputAreErrors() throws {
        do {
            _ = try RawStreamReader(path: "/nonexistent/trace.raw")
            Issue.record("no error")
        } catch {
            #expect(error.message.hasPrefix("/nonexistent/trace.raw: "))
        }
        let reader = try RawStreamReader(path: Fixtures.capture("gurux/hdlc-none.raw"))
        #expect(throws: CaptureError.self) { try reader.readAll(limit: 100) }
    }
}
