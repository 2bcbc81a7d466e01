import DLMSWire
import Testing
@testable import DLMSAPDU

/// Bad input is normal input: truncation at every prefix, seeded random mutations of real APDUs, hostile lengths
/// and nesting. The decoder must return (never trap), and every error and field offset must lie inside the APDU.
@Suite struct APDUDecoderRobustnessTests {
    /// APDUs with no optional tail: every strict prefix is malformed. From the Gurux captures and dlms-cosem.
    static let strictAPDUs: [String] = [
        "6036A1090607608574050801018A0207808B0760857405080201AC0A80083132333435363738BE10040E01000000065F1F0400007E1F04B0",
        "6142A109060760857405080101A203020100A305A10302010E88020780890760857405080205AA0A8008503677524A323146BE10040E0800065F1F040000501F01F40007",
        "c001c100080000010000ff0200",
        "C001C10007010063010 0FF0201010204020412000809060000010000FF0F02120000090C07E10A010700000000FFC480090C07E10A010701000000FFC4800100",
        "c403c10500090c07e80301ff0c0000000000000002020f01161e0006000010e10002020fff1623001208fd",
        "c402c10000000001000a0203090c07e80219ff00",
        "c102c100010000608000ff0200000000000103787878",
        "c701c1000100091110000009c025d39ed241650fdf1d079060",
        "c81e10000012a8c001c100080000010000ff0200b76b63d8c4d11c7b481a1370",
        "db084752581ca5baaa9911300000ab720102030405060708090a0b0c",
        "e001000100000a0102030405060708090a",
        "0fc000000100020409060007190900ff0a0b4752583337323131373434090c07e80301ff0c000000000000060001e240",
        "D940000001000201000800000100 00FF020300460000600300FF01020000",
        "050202FA0004FA08020204060000000106 0000000A120001120000",
        "0E050502",
    ].map { $0.replacingOccurrences(of: " ", with: "") }

    @Test func everyStrictPrefixReportsAnErrorAndKeepsOffsetsInBounds() {
        for h in Self.strictAPDUs {
            let full = hex(h)
            #expect(!full.isEmpty, "bad hex \(h)")
            #expect(APDUDecoder.decode(full[...]).errors.isEmpty, "full \(h)")
            for n in 0..<full.count {
                let d = APDUDecoder.decode(full[0..<n])
                #expect(!d.errors.isEmpty, "prefix \(n) of \(h)")
                checkOffsets(d, count: n)
            }
        }
    }

    @Test func aPrefixKeepsTheFieldsDecodedBeforeTheCut() {
        let full = hex("c001c100080000010000ff0200")
        let d = APDUDecoder.decode(full[0..<9])
        #expect(d.facts.invokeID == 1)
        #expect(d.errors.first?.code == "apdu.truncated")
        #expect(node(d.fields, "cosem_attribute_descriptor", "class_id").flatMap(uintValue) == 8)
    }

    @Test func decodingASliceUsesOffsetsWithinTheAPDU() {
        // The APDU sits at index 3 of a larger buffer (as in a frame): offsets stay relative to the APDU.
        let buffer = [0xAA, 0xBB, 0xCC] + hex("c401c10104")
        let d = APDUDecoder.decode(buffer[3...])
        #expect(d.errors.isEmpty)
        #expect(node(d.fields, "invoke_id_and_priority")?.offset == 2)
        #expect(node(d.fields, "result")?.offset == 3)
        let t = APDUDecoder.decode(buffer[3..<6])
        #expect(t.errors.first?.offset == 3)
    }

    @Test func randomMutationsOfRealAPDUsNeverTrap() throws {
        var corpus = Self.strictAPDUs.map(hex)
        for (_, rec) in try truthRecords().prefix(400) {
            if let h = rec["apdu_hex"] as? String, h.count < 2000 { corpus.append(hex(h)) }
            if let h = rec["plain_hex"] as? String, h.count < 2000 { corpus.append(hex(h)) }
        }
        var rng = SplitMix64(seed: 0x444C_4D53)
        var decoded = 0
        for _ in 0..<6000 {
            guard var bytes = corpus.randomElement(using: &rng), !bytes.isEmpty else { continue }
            switch rng.next() % 4 {
            case 0:  // overwrite a few bytes
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
            case 1:  // length-like bytes set to extremes
                bytes[Int(rng.next() % UInt64(bytes.count))] = [0x00, 0x7F, 0x80, 0x81, 0x84, 0xFF][Int(rng.next() % 6)]
            case 2:  // cut
                bytes.removeLast(Int(rng.next() % UInt64(bytes.count)))
            default:  // append junk
                for _ in 0..<(1 + Int(rng.next() % 8)) { bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
            }
            let d = APDUDecoder.decode(bytes[...])
            checkOffsets(d, count: bytes.count)
            decoded += 1
        }
        #expect(decoded == 6000)
    }

    @Test func everyTagByteWithEveryShortBodyReturns() {
        var rng = SplitMix64(seed: 7)
        for tag in 0...255 {
            for len in 0..<24 {
                var bytes = [UInt8(tag)]
                for _ in 0..<len { bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
                let d = APDUDecoder.decode(bytes[...])
                #expect(d.tag == UInt8(tag))
                checkOffsets(d, count: bytes.count)
            }
        }
    }

    @Test func hostileCountsAndNestingAreRejectedWithoutAllocating() {
        // get-response-with-list announcing 2^31 results.
        let many = decode("C403C1847FFFFFFF00")
        #expect(many.errors.first?.code == "apdu.bad-count")
        // A data value nested 10,000 levels deep (array of one array of ...).
        var deep: [UInt8] = [0xC4, 0x01, 0xC1, 0x00]
        for _ in 0..<10_000 { deep += [0x01, 0x01] }
        let d = APDUDecoder.decode(deep[...])
        #expect(d.errors.first?.code == "axdr.too-deep")
        // A BER length of 2^32 - 1 inside an AARQ, and an indefinite length.
        #expect(decode("6006A184FFFFFFFF").errors.contains { $0.code.hasPrefix("ber.") })
        #expect(decode("6004A1800000").errors.contains { $0.code == "ber.indefinite-length" })
    }

    @Test func trailingBytesAreReported() {
        let d = decode("c401c10104AABB")
        #expect(d.errors.map(\.code) == ["apdu.trailing-bytes"])
        #expect(d.errors.first?.offset == 5)
        #expect(d.facts.result == "object-undefined")
    }

    @Test func unknownChoiceIsABadChoice() {
        let d = decode("C009C1")
        #expect(d.errors.first?.code == "apdu.bad-choice")
        #expect(d.errors.first?.offset == 1)
    }

    private func checkOffsets(_ d: DecodedAPDU, count: Int) {
        for e in d.errors {
            #expect((e.offset ?? 0) >= 0 && (e.offset ?? 0) <= count, "\(e)")
        }
        var stack = d.fields
        var visited = 0
        while let n = stack.popLast(), visited < 100_000 {
            visited += 1
            if let o = n.offset { #expect(o >= 0 && o <= count, "\(n.name) at \(o) of \(count)") }
            stack.append(contentsOf: n.children)
        }
    }
}
