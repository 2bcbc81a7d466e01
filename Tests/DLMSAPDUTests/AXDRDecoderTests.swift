import DLMSWire
import Testing

@testable import DLMSAPDU

private func bytes(_ hex: String) -> [UInt8] { Hex.decode(hex) ?? [] }

private func axdr(_ hex: String) throws(DecodeError) -> DataValue { try AXDR.decodeData(bytes(hex)[...]) }

@Suite struct AXDRDecoderTests {
    // MARK: - Simple types

    /// One vector per simple type (tags from IEC 62056-6-2 §4.1.5 Data ::= CHOICE); values chosen so a byte-order
    /// or sign mistake shows.
    @Test(arguments: [
        ("00", DataValue.nullData),
        ("0301", .boolean(true)),
        ("0300", .boolean(false)),
        ("0405a8", .bitString(bytes: [0xA8], count: 5)),
        ("050000fffe", .doubleLong(65534)),
        ("05fffffffe", .doubleLong(-2)),
        ("060001e240", .doubleLongUnsigned(123_456)),
        ("090600002a0000ff", .octetString([0, 0, 42, 0, 0, 255])),
        ("0a03475258", .visibleString(Array("GRX".utf8))),
        ("0c02c3a9", .utf8String([0xC3, 0xA9])),
        ("0d12", .bcd(0x12)),
        ("0fff", .integer(-1)),
        ("10fc18", .long(-1000)),
        ("11c8", .unsigned(200)),
        ("1208fd", .longUnsigned(2301)),
        ("14fffffffffffffffe", .long64(-2)),
        ("15ffffffffffffffff", .long64Unsigned(.max)),
        ("161e", .enumValue(30)),
        ("173fc00000", .float32(1.5)),
        ("18400921fb54442d18", .float64(3.141592653589793)),
        ("1907e80301050c000000ffc400", .dateTime(bytes("07e80301050c000000ffc400"))),
        ("1a07e8030105", .date(bytes("07e8030105"))),
        ("1b0c1e0000", .time(bytes("0c1e0000"))),
        ("ff", .dontCare),
    ])
    func eachSimpleTypeDecodesAndEncodesBack(hex: String, expected: DataValue) throws {
        let v = try axdr(hex)
        #expect(v == expected)
        #expect(v.encodeAXDR() == bytes(hex))
    }

    @Test func longLengthsUseTheBERLongForm() throws {
        // 200-byte octet-string: 09 81 C8 ...; 300-byte: 09 82 01 2C ... (Gurux GXCommon.setObjectCount).
        for n in [127, 128, 200, 255, 256, 300, 70_000] {
            let v = DataValue.octetString([UInt8](repeating: 0x5A, count: n))
            let enc = v.encodeAXDR()
            let prefix: [UInt8] = n < 128 ? [9, UInt8(n)] : n < 256 ? [9, 0x81, UInt8(n)] :
                n < 65536 ? [9, 0x82, UInt8(n >> 8), UInt8(n & 0xFF)] :
                [9, 0x84, 0, UInt8(n >> 16), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
            #expect(Array(enc.prefix(prefix.count)) == prefix)
            #expect(try AXDR.decodeData(enc[...]) == v)
        }
    }

    @Test func nestedContainersRoundTrip() throws {
        // A Register's scaler_unit inside a get-response-with-list (wrapper-none.truth.jsonl #26): {1, Wh}.
        let v = try axdr("02020f01161e")
        #expect(v == .structure([.integer(1), .enumValue(30)]))
        // An object_list entry of the Gurux association (wrapper-none.truth.jsonl #24).
        let entry = "0204120008110009060000010000ff020201000100"
        let e = try axdr(entry)
        #expect(e == .structure([.longUnsigned(8), .unsigned(0), .octetString([0, 0, 1, 0, 0, 255]),
                                 .structure([.array([]), .array([])])]))
        #expect(e.encodeAXDR() == bytes(entry))
    }

    // MARK: - Compact array

    // Vectors cross-checked with Gurux's decoder (gurux-dlms 1.0.203, `_GXCommon.getData` → `getCompactArray`);
    // the script, and what it printed:
    //
    //     from gurux_dlms import GXByteBuffer
    //     from gurux_dlms.internal._GXCommon import _GXCommon
    //     from gurux_dlms.internal._GXDataInfo import _GXDataInfo
    //     from gurux_dlms.GXDLMSSettings import GXDLMSSettings
    //     for h in [...the hex below...]:
    //         v = _GXCommon.getData(GXDLMSSettings(False, None), GXByteBuffer(GXByteBuffer.hexToBytes(h)),
    //                               _GXDataInfo())
    //
    //     131206000100020003 -> [['1'], ['2'], ['3']]
    //     13020212060c000100000010000200000020 -> [['1', '16'], ['2', '32']]
    //     1302020911090341424307025a5a09 -> [['414243', '7'], ['5a5a', '9']]
    //     1302031906122407e80301ff0c000000000000000186a00fa007e80301ff0c0f0000000000000186a70fa1
    //       -> [['03/01/24 12:00:00:000000', '100000', '4000'], ['03/01/24 12:15:00:000000', '100007', '4001']]

    @Test func aCompactArrayOfASimpleTypeHoldsTheUntaggedValues() throws {
        let v = try axdr("131206000100020003")
        #expect(v == .compactArray(description: .simple(18), elements: [.longUnsigned(1), .longUnsigned(2),
                                                                          .longUnsigned(3)]))
        #expect(v.encodeAXDR() == bytes("131206000100020003"))
    }

    @Test func aCompactArrayOfStructuresSplitsRowsByTheDescription() throws {
        let v = try axdr("13020212060c000100000010000200000020")
        #expect(v == .compactArray(description: .structure([.simple(18), .simple(6)]), elements: [
            .structure([.longUnsigned(1), .doubleLongUnsigned(16)]),
            .structure([.longUnsigned(2), .doubleLongUnsigned(32)]),
        ]))
    }

    @Test func compactArrayStringsKeepTheirLengthPrefix() throws {
        let hex = "1302020911090341424307025a5a09"
        let v = try axdr(hex)
        #expect(v == .compactArray(description: .structure([.simple(9), .simple(17)]), elements: [
            .structure([.octetString([0x41, 0x42, 0x43]), .unsigned(7)]),
            .structure([.octetString([0x5A, 0x5A]), .unsigned(9)]),
        ]))
        #expect(v.encodeAXDR() == bytes(hex))
    }

    @Test func aCompactProfileBufferDecodesLikeTheTaggedOne() throws {
        // The first two rows of the Gurux load profile (wrapper-none.truth.jsonl #91) as a compact-array.
        let hex = "1302031906122407e80301ff0c000000000000000186a00fa007e80301ff0c0f0000000000000186a70fa1"
        let v = try axdr(hex)
        guard case .compactArray(let desc, let rows) = v else { Issue.record("not a compact-array"); return }
        #expect(desc == .structure([.simple(25), .simple(6), .simple(18)]))
        #expect(rows.count == 2)
        #expect(rows.last == .structure([.dateTime(bytes("07e80301ff0c0f0000000000")), .doubleLongUnsigned(100_007),
                                         .longUnsigned(4001)]))
        #expect(v.encodeAXDR() == bytes(hex))
    }

    @Test func anArrayDescriptionInsideACompactArrayIsRepeatedCountTimes() throws {
        // description: array[2] of unsigned; contents: two elements of two bytes each.
        let hex = "1301000211040102030"
        let v = try axdr(hex + "4")
        #expect(v == .compactArray(description: .array(count: 2, element: .simple(17)), elements: [
            .array([.unsigned(1), .unsigned(2)]), .array([.unsigned(3), .unsigned(4)]),
        ]))
        #expect(v.encodeAXDR() == bytes(hex + "4"))
    }

    @Test func aCompactArrayWithARaggedLastElementIsTruncated() {
        // Content of 5 bytes for long-unsigned elements: the last one is cut short.
        #expect(throws: DecodeError("axdr.truncated", "")) { try axdr("1312050001000200") }
    }

    @Test func zeroWidthElementsCannotMultiplyIntoMillionsOfValues() throws {
        // structure{unsigned, array[65535] of array[65535] of null-data}: 4 billion values from 13 bytes, if the
        // decoder let it.
        #expect(throws: DecodeError("axdr.bad-type-description", "")) { try axdr("1302021101ffff01ffff000105") }
        // null-data elements with content that never advances: must not loop forever.
        #expect(throws: DecodeError("axdr.bad-compact-array", "")) { try axdr("13000101") }
        // ...but an empty compact-array of null-data is fine.
        #expect(try axdr("130000") == .compactArray(description: .simple(0), elements: []))
    }

    @Test func aCompactArrayInsideATypeDescriptionIsRejected() {
        #expect(throws: DecodeError("axdr.bad-type-description", "")) { try axdr("131300") }
    }

    // MARK: - Hostile input

    @Test func everyStrictPrefixOfAValueIsReportedAsTruncated() throws {
        let samples = [
            "020412000811000906 0000010000ff 02020100 0100",  // object_list entry
            "1302031906122407e80301ff0c000000000000000186a00fa007e80301ff0c0f0000000000000186a70fa1",
            "0a820100" + String(repeating: "41", count: 256),
            "15ffffffffffffffff", "1907e80301050c000000ffc400", "0405a8",
        ].map { bytes($0.replacingOccurrences(of: " ", with: "")) }
        for full in samples {
            #expect(throws: Never.self) { try AXDR.decodeData(full[...]) }
            for cut in 0..<full.count {
                do {
                    _ = try AXDR.decodeData(full[..<cut])
                    Issue.record("prefix of \(cut) bytes of \(Hex.encode(full)) decoded")
                } catch {
                    #expect(["axdr.truncated", "axdr.bad-count"].contains(error.code), "\(cut): \(error)")
                }
            }
        }
    }

    @Test func hugeCountsAreRejectedBeforeAnythingIsAllocated() {
        // array of 2^32-1 elements in 6 bytes; octet-string claiming 4 GB.
        #expect(throws: DecodeError("axdr.bad-count", "")) { try axdr("0184ffffffff00") }
        #expect(throws: DecodeError("axdr.truncated", "")) { try axdr("0984ffffffff00") }
        // A length form longer than 4 bytes, or the indefinite form, is malformed rather than short.
        #expect(throws: DecodeError("axdr.bad-length", "")) { try axdr("098500000000010a") }
        #expect(throws: DecodeError("axdr.bad-length", "")) { try axdr("0180000000") }
        #expect(throws: DecodeError("axdr.truncated", "")) { try axdr("098200") }
    }

    @Test func nestingDeeperThanTheLimitIsAnErrorNotAStackOverflow() {
        var deep: [UInt8] = []
        for _ in 0..<10_000 { deep += [0x01, 0x01] }
        deep.append(0)
        #expect(throws: DecodeError("axdr.too-deep", "")) { try AXDR.decodeData(deep[...]) }
        var ok: [UInt8] = []
        for _ in 0..<AXDR.maximumDepth { ok += [0x02, 0x01] }
        ok.append(0)
        #expect(throws: Never.self) { try AXDR.decodeData(ok[...]) }
    }

    @Test func unknownTagsAreNamedWithTheirOffset() throws {
        var r = ByteReader(bytes("02020f0107"))
        do {
            _ = try AXDR.decodeData(&r)
            Issue.record("decoded")
        } catch {
            #expect(error.code == "axdr.unknown-type")
            #expect(error.offset == 4)
        }
    }

    @Test func randomMutationsOfRealDataNeverCrashAndDecodedValuesReencode() throws {
        // Seeded so a failure can be replayed; the seeds are the Gurux profile rows and object list.
        let seeds = [
            bytes("0102020412000809060000010000ff0f02120000020412000309060100010800ff0f02120000"),
            bytes("0102" + "0203090c07e80219ff0000000000000006000186a00600000fa0"
                + "0203090c07e80219ff000f000000000006000186a70600000fa1"),
            bytes("1302031906122407e80301ff0c000000000000000186a00fa007e80301ff0c0f0000000000000186a70fa1"),
            bytes("010c0204120008110009060000010000ff02020100010002041200011100090600006001"),
        ]
        var rng = AXDRFuzzRandom(seed: 0x0D1_5D0)
        var decoded = 0
        for _ in 0..<20_000 {
            var b = seeds[Int(rng.next() % UInt64(seeds.count))]
            for _ in 0..<(1 + rng.next() % 4) {
                let i = Int(rng.next() % UInt64(b.count))
                switch rng.next() % 4 {
                case 0: b[i] = UInt8(truncatingIfNeeded: rng.next())
                case 1: b[i] ^= 1 << UInt8(rng.next() % 8)
                case 2: b.removeSubrange(i...)
                default: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: i)
                }
                if b.isEmpty { b = [0x13] }
            }
            var r = ByteReader(b)
            if let v = try? AXDR.decodeData(&r) {
                decoded += 1
                // Canonical lengths and booleans re-encode exactly; others at least decode to the same value.
                let again = try AXDR.decodeData(v.encodeAXDR()[...])
                #expect(again == v || again.hasNaN)
            }
        }
        #expect(decoded > 1000)
    }
}

/// `AXDR.skipData` (the check without values, used for reassembled block transfers) must fail exactly where
/// `decodeData` fails, with the same code, message and offset, and stop where it stops.
@Suite struct AXDRSkipTests {
    /// Decodes and skips `b`; records any disagreement.
    static func agree(_ b: [UInt8], _ label: @autoclosure () -> String) {
        var d = ByteReader(b)
        var s = ByteReader(b)
        var decodeError: DecodeError?
        var skipError: DecodeError?
        do { _ = try AXDR.decodeData(&d) } catch { decodeError = error }
        do { try AXDR.skipData(&s) } catch { skipError = error }
        #expect(decodeError?.code == skipError?.code, "\(label())")
        #expect(decodeError?.message == skipError?.message, "\(label())")
        #expect(decodeError?.offset == skipError?.offset, "\(label())")
        if decodeError == nil { #expect(d.offset == s.offset, "\(label())") }
        // The quick walk either declines or ends where decoding ends.
        if let end = AXDR.quickEnd(of: b) {
            #expect(decodeError == nil && end == d.offset, "quick walk: \(label())")
        }
    }

    @Test func theQuickWalkRecognisesWellFormedProfileBuffers() throws {
        // Gurux profile rows (structures of date-time octet-strings and double-long-unsigneds), an object list,
        // long-form lengths and a bit-string.
        let samples = [
            "0102" + "0203090c07e80219ff0000000000000006000186a00600000fa0"
                + "0203090c07e80219ff000f000000000006000186a70600000fa1",
            "010c0204120008110009060000010000ff02020100010002041200011100090600006001"
                .replacingOccurrences(of: "010c", with: "0101"),
            "0a8200050102030405", "0405a8", "0100", "020300ff0301",
        ].map { bytes($0) }
        for b in samples {
            var r = ByteReader(b)
            _ = try AXDR.decodeData(&r)
            #expect(AXDR.quickEnd(of: b) == r.offset, "\(Hex.encode(b))")
        }
        // A compact array is left to the full check.
        #expect(AXDR.quickEnd(of: bytes("1301120003000100020003")) == nil)
    }

    @Test func skippingFailsWhereDecodingFailsOnMutatedRealData() {
        // The seeds of the mutation test above (Gurux profile rows, object list, a compact array).
        let seeds = [
            bytes("0102020412000809060000010000ff0f02120000020412000309060100010800ff0f02120000"),
            bytes("0102" + "0203090c07e80219ff0000000000000006000186a00600000fa0"
                + "0203090c07e80219ff000f000000000006000186a70600000fa1"),
            bytes("1302031906122407e80301ff0c000000000000000186a00fa007e80301ff0c0f0000000000000186a70fa1"),
            bytes("010c0204120008110009060000010000ff02020100010002041200011100090600006001"),
            bytes("1301120003000100020003"), bytes("13020212000a00" + "0600010a024142"),
            bytes("0405a8"), bytes("15ffffffffffffffff"), bytes("1907e80301050c000000ffc400"),
        ]
        var rng = AXDRFuzzRandom(seed: 0x5_C1B)
        for _ in 0..<20_000 {
            var b = seeds[Int(rng.next() % UInt64(seeds.count))]
            for _ in 0..<(rng.next() % 4) {
                let i = Int(rng.next() % UInt64(b.count))
                switch rng.next() % 4 {
                case 0: b[i] = UInt8(truncatingIfNeeded: rng.next())
                case 1: b[i] ^= 1 << UInt8(rng.next() % 8)
                case 2: b.removeSubrange(i...)
                default: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: i)
                }
                if b.isEmpty { b = [0x13] }
            }
            Self.agree(b, Hex.encode(b))
        }
    }

    @Test func skippingAgreesOnEveryPrefixAndOnHostileForms() {
        let samples = [
            "020412000811000906 0000010000ff 02020100 0100", "0184ffffffff00", "0984ffffffff00",
            "098500000000010a", "0180000000", "098200", "02020f0107", "13020200", "1301000002",
            "1301ffff" + "00", "130201000a0000",
        ].map { bytes($0.replacingOccurrences(of: " ", with: "")) }
        for full in samples {
            for cut in 0...full.count { Self.agree(Array(full[..<cut]), "\(Hex.encode(full)) cut at \(cut)") }
        }
        var deep: [UInt8] = []
        for _ in 0..<100 { deep += [0x01, 0x01] }
        deep.append(0)
        Self.agree(deep, "deep")
    }
}

extension DataValue {
    /// NaN floats are never equal to themselves.
    var hasNaN: Bool {
        switch self {
        case .float32(let f): f.isNaN
        case .float64(let f): f.isNaN
        case .array(let v), .structure(let v), .compactArray(_, let v): v.contains { $0.hasNaN }
        default: false
        }
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator so fuzz runs are reproducible.
struct AXDRFuzzRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
