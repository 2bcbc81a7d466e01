import DLMSWire
import Testing
@testable import DLMSCapture

/// The `--save` format (`TimedRawFormat`, v1): byte layout, round trip, and damaged files.
@Suite struct LiveTimedRawTests {
    static func read(_ path: String) -> (chunks: [ByteChunk], error: String?) {
        var chunks: [ByteChunk] = []
        do throws(CaptureError) {
            let reader = try TimedRawReader(path: path)
            while let c = try reader.next() { chunks.append(c) }
            return (chunks, nil)
        } catch {
            return (chunks, error.message)
        }
    }

    static func fileBytes(_ path: String) throws -> [UInt8] {
        try RawStreamReader(path: path).readAll()
    }

    /// Written by hand from the layout in the doc comment of `TimedRawFormat`.
    static let twoRecords: [UInt8] = Array("DLMSDUMP-RAW v1\n".utf8)
        + [0, 0, 0, 0, 0x65, 0xE1, 0xC3, 0xC0] + [0x00, 0x01, 0xE2, 0x40] + [0, 0, 0, 3] + [0x7E, 0xA0, 0x07]
        + [0, 0, 0, 0, 0x65, 0xE1, 0xC3, 0xC1] + [0x00, 0x0F, 0x42, 0x3F] + [0, 0, 0, 1] + [0x7E]

    static let chunks = [
        ByteChunk(bytes: [0x7E, 0xA0, 0x07], time: Timestamp(seconds: 1_709_294_528, micros: 123_456)),
        ByteChunk(bytes: [0x7E], time: Timestamp(seconds: 1_709_294_529, micros: 999_999)),
    ]

    @Test func writerProducesTheDocumentedLayout() throws {
        let path = TempFile.write([], name: "layout.dlmsraw")
        let w = try TimedRawWriter(path: path)
        for c in LiveTimedRawTests.chunks { try w.write(c) }
        try w.write(ByteChunk(bytes: [], time: Timestamp(seconds: 0, micros: 0)))  // skipped
        #expect(w.count == 2)
        w.close()
        #expect(try LiveTimedRawTests.fileBytes(path) == LiveTimedRawTests.twoRecords)
    }

    @Test func readerReturnsTheRecordsWithTheirTimes() {
        let path = TempFile.write(LiveTimedRawTests.twoRecords, name: "two.dlmsraw")
        let (chunks, error) = LiveTimedRawTests.read(path)
        #expect(error == nil)
        #expect(chunks == LiveTimedRawTests.chunks)
        #expect(TimedRawFormat.matches(LiveTimedRawTests.twoRecords[...]))
        #expect(!TimedRawFormat.matches(Array("DLMSDUMP-RAW v2\n".utf8)[...]))
        #expect(!TimedRawFormat.matches([0x7E, 0xA0][...]))
    }

    /// Every strict prefix of a two-record file: the complete records come back, and a cut inside a record is a
    /// one-line error naming its offset; a cut at a record boundary is a clean end.
    @Test func everyTruncationKeepsTheCompleteRecordsAndNamesTheOffset() {
        let file = LiveTimedRawTests.twoRecords
        let boundaries = [16, 16 + 16 + 3, file.count]
        for cut in 0..<file.count {
            let path = TempFile.write(Array(file.prefix(cut)), name: "cut.dlmsraw")
            let (chunks, error) = LiveTimedRawTests.read(path)
            if cut < 16 {
                #expect(error == "\(path): not a dlmsdump timed-raw file (no \"DLMSDUMP-RAW v1\" header)")
                continue
            }
            let complete = boundaries.filter { $0 <= cut }.count - 1
            #expect(chunks == Array(LiveTimedRawTests.chunks.prefix(complete)), "cut at \(cut)")
            if boundaries.contains(cut) {
                #expect(error == nil, "cut at \(cut)")
            } else {
                let offset = boundaries[complete]
                #expect(error?.hasPrefix("\(path): truncated record") == true, "cut at \(cut): \(error ?? "-")")
                #expect(error?.contains("at offset \(offset)") == true, "cut at \(cut): \(error ?? "-")")
            }
        }
    }

    @Test func impossibleLengthsAndMicrosecondsAreRejected() {
        let head = Array("DLMSDUMP-RAW v1\n".utf8)
        let zeroLength = head + [0, 0, 0, 0, 0, 0, 0, 1] + [0, 0, 0, 0] + [0, 0, 0, 0]
        let huge = head + [0, 0, 0, 0, 0, 0, 0, 1] + [0, 0, 0, 0] + [0x01, 0x00, 0x00, 0x01]
        let micros = head + [0, 0, 0, 0, 0, 0, 0, 1] + [0x00, 0x0F, 0x42, 0x40] + [0, 0, 0, 1, 0x7E]
        for (bytes, text) in [(zeroLength, "length 0 out of range"), (huge, "length 16777217 out of range"),
                              (micros, "microseconds 1000000 out of range")] {
            let path = TempFile.write(bytes, name: "bad.dlmsraw")
            let (chunks, error) = LiveTimedRawTests.read(path)
            #expect(chunks.isEmpty)
            #expect(error?.contains("bad record at offset 16: \(text)") == true, "\(error ?? "-")")
        }
    }

    @Test func largeChunksRoundTripAndMissingFilesAreErrors() throws {
        var rng = SplitMix64(seed: 4059)
        let path = TempFile.write([], name: "big.dlmsraw")
        let w = try TimedRawWriter(path: path, flushEachRecord: false)
        var written: [ByteChunk] = []
        for i in 0..<200 {
            let n = Int.random(in: 1...3000, using: &rng)
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let c = ByteChunk(bytes: bytes, time: Timestamp(seconds: 1_700_000_000 + Int64(i), micros: Int32(i * 7)))
            try w.write(c)
            written.append(c)
        }
        try w.flush()
        w.close()
        let (chunks, error) = LiveTimedRawTests.read(path)
        #expect(error == nil)
        let same = chunks == written
        #expect(same, "read back \(chunks.count) of \(written.count) records")
        let missing = LiveTimedRawTests.read("/nonexistent/x.dlmsraw").error
        #expect(missing == "/nonexistent/x.dlmsraw: No such file or directory")
    }

    @Test func replayGoesThroughTheByteStreamProtocolLikeALiveTap() throws {
        let path = TempFile.write(LiveTimedRawTests.twoRecords, name: "proto.dlmsraw")
        let source: any ByteStreamSource = try TimedRawReader(path: path)
        var events: [TapEvent] = []
        while let e = try source.nextEvent() { events.append(e) }
        #expect(events == LiveTimedRawTests.chunks.map { .data($0) })
        #expect(source.streamName == path)
        let tap: any ByteStreamSource = try TCPTapSource(address: "[::1]:2000")
        #expect(tap.streamName == "[::1]:2000")
    }

    /// A break record (the tap lost its connection) between two data records, written by hand from the layout:
    /// length 0x80000000 | 4, reason "drop".
    @Test func breakRecordsKeepTheirPlaceAndReason() throws {
        let all = LiveTimedRawTests.twoRecords
        let breakRecord: [UInt8] = [0, 0, 0, 0, 0x65, 0xE1, 0xC3, 0xC0] + [0x00, 0x02, 0x00, 0x00] + [0x80, 0, 0, 4]
            + Array("drop".utf8)
        let file: [UInt8] = Array(all[0..<35]) + breakRecord + Array(all[35...])
        let breakTime = Timestamp(seconds: 1_709_294_528, micros: 131_072)
        let path = TempFile.write([], name: "break.dlmsraw")
        let w = try TimedRawWriter(path: path)
        try w.write(LiveTimedRawTests.chunks[0])
        try w.writeBreak(reason: "drop", time: breakTime)
        try w.write(LiveTimedRawTests.chunks[1])
        w.close()
        let written = try LiveTimedRawTests.fileBytes(path)
        #expect(written == file)

        let reader = try TimedRawReader(path: path)
        var records: [TimedRawRecord] = []
        while let r = try reader.nextRecord() { records.append(r) }
        #expect(records == [.data(LiveTimedRawTests.chunks[0]), .streamBreak(reason: "drop", time: breakTime),
                            .data(LiveTimedRawTests.chunks[1])])
        // next() skips the break; nextEvent() reports it as the live tap did.
        #expect(LiveTimedRawTests.read(path).chunks == LiveTimedRawTests.chunks)
        let source: any ByteStreamSource = try TimedRawReader(path: path)
        var events: [TapEvent] = []
        while let e = try source.nextEvent() { events.append(e) }
        #expect(events == [.data(LiveTimedRawTests.chunks[0]),
                           .disconnected(reason: "drop", time: breakTime, retryIn: 0),
                           .data(LiveTimedRawTests.chunks[1])])
    }

    @Test func breakReasonsAreBoundedAndAnEmptyReasonIsValid() throws {
        let path = TempFile.write([], name: "reasons.dlmsraw")
        let w = try TimedRawWriter(path: path)
        let long = String(repeating: "é", count: 3000)  // 6000 bytes of UTF-8
        try w.writeBreak(reason: long, time: Timestamp(seconds: 1, micros: 0))
        let odd = "x" + String(repeating: "é", count: 3000)  // the cut falls inside an é: it is dropped whole
        try w.writeBreak(reason: odd, time: Timestamp(seconds: 1, micros: 1))
        try w.writeBreak(reason: "", time: Timestamp(seconds: 2, micros: 0))
        w.close()
        let reader = try TimedRawReader(path: path)
        guard case .streamBreak(let first, _)? = try reader.nextRecord() else {
            Issue.record("no first break")
            return
        }
        #expect(first == String(repeating: "é", count: 2048))
        guard case .streamBreak(let second, _)? = try reader.nextRecord() else {
            Issue.record("no second break")
            return
        }
        #expect(second == "x" + String(repeating: "é", count: 2047))
        #expect(try reader.nextRecord() == .streamBreak(reason: "", time: Timestamp(seconds: 2, micros: 0)))
        #expect(try reader.nextRecord() == nil)

        let head = Array("DLMSDUMP-RAW v1\n".utf8)
        let tooLong = head + [0, 0, 0, 0, 0, 0, 0, 1] + [0, 0, 0, 0] + [0x80, 0, 0x10, 0x01]
        let bad = LiveTimedRawTests.read(TempFile.write(tooLong, name: "long.dlmsraw"))
        #expect(bad.error?.contains("bad break record at offset 16: reason length 4097 over 4096") == true)
    }
}
