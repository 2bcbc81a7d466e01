import DLMSWire
import Testing

@testable import DLMSAPDU

/// `AXDR.writeDataJSON` (JSON straight from A-XDR bytes) against the DataValue path (`AXDR.decodeData` then
/// `DataValue.writeJSON(into:hint:)`): the same bytes out, or the same error (code, message, offset) and nothing
/// written. On every value of the Gurux captures (`AXDRCorpusTests.samples`) and on seeded random and mutated
/// buffers.
@Suite struct AXDRJSONTests {
    static let hints: [DataRenderHint] = [[], .logicalName, .dateTime, .scalerUnit]

    /// What the DataValue path writes for one value read from `r` (inside an array, after an item, so that commas
    /// count), or its error; and where the reader stops.
    static func expected(_ r: ByteReader, hint: DataRenderHint) -> (String, DecodeError?, Int) {
        var reader = r
        var out = JSONBuffer()
        out.beginArray()
        out.int(1)
        do {
            let v = try AXDR.decodeData(&reader)
            v.writeJSON(into: &out, hint: hint)
        } catch {
            out.int(2)
            out.endArray()
            return (out.string, error, reader.offset)
        }
        out.int(2)
        out.endArray()
        return (out.string, nil, reader.offset)
    }

    /// The same through the byte writer; on an error, the buffer is rolled back to before the value.
    static func actual(_ r: ByteReader, hint: DataRenderHint) -> (String, DecodeError?, Int) {
        var reader = r
        var out = JSONBuffer()
        out.beginArray()
        out.int(1)
        let m = out.mark
        do {
            try AXDR.writeDataJSON(&reader, hint: hint, into: &out)
        } catch {
            out.rollBack(to: m)
            out.int(2)
            out.endArray()
            return (out.string, error, reader.offset)
        }
        out.int(2)
        out.endArray()
        return (out.string, nil, reader.offset)
    }

    /// Compares both paths on the value at the start of `r`, with every hint; returns whether it decoded.
    @discardableResult
    static func compare(_ r: ByteReader, _ label: @autoclosure () -> String) -> Bool {
        var decoded = false
        for hint in hints {
            let (e, eErr, eEnd) = expected(r, hint: hint)
            let (a, aErr, aEnd) = actual(r, hint: hint)
            #expect(a == e, "\(label()) hint \(hint.rawValue)")
            #expect(aErr?.code == eErr?.code && aErr?.message == eErr?.message && aErr?.offset == eErr?.offset,
                    "\(label()): \(String(describing: aErr)) vs \(String(describing: eErr))")
            // The reader's position matters only where the value decoded (callers go on reading after it).
            if eErr == nil { #expect(aEnd == eEnd, "\(label())") }
            decoded = eErr == nil
        }
        return decoded
    }

    /// The whole-buffer entry point: the same JSON, or nothing written and the error `decodeData(_:)` throws.
    static func compareWhole(_ bytes: [UInt8], _ label: String) {
        var expectedOut = JSONBuffer()
        var expectedError: DecodeError?
        do {
            try AXDR.decodeData(bytes[...]).writeJSON(into: &expectedOut)
        } catch {
            expectedError = error
        }
        var out = JSONBuffer()
        let error = AXDR.writeDataJSON(bytes[...], into: &out)
        #expect(out.string == expectedOut.string, "\(label)")
        #expect(error?.code == expectedError?.code && error?.message == expectedError?.message
                    && error?.offset == expectedError?.offset, "\(label)")
    }

    @Test func everyValueOfTheGuruxCapturesIsWrittenAsTheDataValuePathWritesIt() {
        var values = 0
        for s in AXDRCorpusTests.samples {
            for start in s.starts {
                var r = ByteReader(s.bytes)
                _ = r.skip(start)
                if Self.compare(r, "\(s.label) at \(start)") { values += 1 }
            }
            if s.label.hasSuffix("reassembled data") { Self.compareWhole(s.bytes, s.label) }
        }
        #expect(values >= 470)
    }

    /// Every strict prefix and single-byte change of the Gurux reassembled profile buffers (the large values the
    /// writer exists for): decoded or not, both paths agree.
    @Test func cutAndMutatedGuruxBuffersGiveTheSameOutputOrTheSameError() {
        var rng = SplitMix64(seed: 0x4A53_4F4E)
        let buffers = AXDRCorpusTests.samples.filter { $0.label.hasSuffix("reassembled data") }.map(\.bytes)
        #expect(buffers.count >= 45)
        for (k, b) in buffers.prefix(6).enumerated() {
            for cut in stride(from: 0, to: b.count, by: max(1, b.count / 25)) {
                Self.compare(ByteReader(Array(b[..<cut])), "buffer \(k) cut at \(cut)")
            }
            for _ in 0..<30 {
                var m = b
                guard !m.isEmpty else { break }
                let i = Int.random(in: 0..<m.count, using: &rng)
                m[i] = UInt8.random(in: 0...255, using: &rng)
                Self.compare(ByteReader(m), "buffer \(k) byte \(i) = \(m[i])")
                Self.compareWhole(m, "buffer \(k) byte \(i) = \(m[i]) (whole)")
            }
        }
    }

    /// A random value biased towards what the writer special-cases: object_list/capture_objects entries (class id,
    /// version, logical name), scaler_unit structures, plausible and special date-times, printable text.
    static func randomValue(_ rng: inout SplitMix64, depth: Int) -> DataValue {
        func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        let pick = Int.random(in: 0..<(depth > 3 ? 20 : 26), using: &rng)
        switch pick {
        case 0: return .nullData
        case 1: return .boolean(Bool.random(using: &rng))
        case 2: return .doubleLong(Int32.random(in: .min ... .max, using: &rng))
        case 3: return .doubleLongUnsigned(UInt32.random(in: 0 ... .max, using: &rng))
        case 4: return .integer(Int8.random(in: .min ... .max, using: &rng))
        case 5: return .long(Int16.random(in: .min ... .max, using: &rng))
        case 6: return .unsigned(UInt8.random(in: 0 ... .max, using: &rng))
        case 7: return .longUnsigned([1, 3, 7, 8, 15, 9999][Int.random(in: 0..<6, using: &rng)])
        case 8: return .long64(Int64.random(in: .min ... .max, using: &rng))
        case 9: return .long64Unsigned(Bool.random(using: &rng) ? UInt64.max : UInt64.random(in: 0...1000, using: &rng))
        case 10: return .enumValue(UInt8.random(in: 0 ... .max, using: &rng))
        case 11: return .bcd(Int8.random(in: .min ... .max, using: &rng))
        case 12: return .octetString([1, 0, 1, 8, 0, 255].map { $0 &+ UInt8.random(in: 0...1, using: &rng) })
        case 13:
            // A date-time: plausible, special values, clock status bits, or random.
            var d: [UInt8] = [0x07, 0xE8, 3, 1, 5, 12, 0, 0, 0, 0xFF, 0xC4, 0]
            for _ in 0..<Int.random(in: 0...2, using: &rng) {
                d[Int.random(in: 0..<12, using: &rng)] = [0xFF, 0xFE, 0xFD, 0, 0x80, 13, 0x81][Int.random(in: 0..<7, using: &rng)]
            }
            return .octetString(d)
        case 14: return .octetString(Array("meter-\(Int.random(in: 0...99, using: &rng))".utf8))
        case 15: return .octetString(bytes(Int.random(in: 0...14, using: &rng)))
        case 16: return .visibleString(bytes(Int.random(in: 0...5, using: &rng)))
        case 17: return [.float32(Float(bitPattern: UInt32.random(in: 0 ... .max, using: &rng))),
                         .float64(Double(Int.random(in: -5...5, using: &rng)) / 4),
                         .dateTime(bytes(12)), .date(bytes(5)), .time(bytes(4)), .dontCare,
                         .bitString(bytes: bytes(2), count: Int.random(in: 9...16, using: &rng)),
                         .utf8String(bytes(3))][Int.random(in: 0..<8, using: &rng)]
        case 18: return .structure([.integer(Int8.random(in: -3...3, using: &rng)),
                                    Bool.random(using: &rng) ? .enumValue(UInt8.random(in: 25...35, using: &rng))
                                        : .unsigned(255)])
        case 19: return .compactArray(description: .simple(18),
                                      elements: (0..<Int.random(in: 0...3, using: &rng)).map { _ in .longUnsigned(7) })
        case 20, 21:
            // An object_list / capture_objects entry.
            var items: [DataValue] = [.longUnsigned([3, 7, 8, 40000][Int.random(in: 0..<4, using: &rng)])]
            if Bool.random(using: &rng) { items.append(.unsigned(0)) }
            items.append(.octetString(bytes(Int.random(in: 5...7, using: &rng))))
            items.append(.integer(2))
            return .structure(items)
        default:
            let n = Int.random(in: 0...5, using: &rng)
            let items = (0..<n).map { _ in randomValue(&rng, depth: depth + 1) }
            return pick % 2 == 0 ? .array(items) : .structure(items)
        }
    }

    @Test func randomValuesAndTheirMutationsGiveTheSameOutputOrTheSameError() {
        var rng = SplitMix64(seed: 0x0D15_EA5E)
        var decoded = 0
        for k in 0..<2500 {
            let v = Self.randomValue(&rng, depth: 0)
            var bytes = v.encodeAXDR()
            if Self.compare(ByteReader(bytes), "random value \(k)") { decoded += 1 }
            // A mutation: a byte changed, bytes cut off, or a byte inserted.
            switch Int.random(in: 0..<3, using: &rng) {
            case 0 where !bytes.isEmpty:
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            case 1 where !bytes.isEmpty:
                bytes.removeLast(Int.random(in: 1...bytes.count, using: &rng))
            default:
                bytes.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...bytes.count, using: &rng))
            }
            Self.compare(ByteReader(bytes), "mutated value \(k)")
            Self.compareWhole(bytes, "mutated value \(k) (whole)")
        }
        #expect(decoded == 2500)
    }

    @Test func deepNestingFailsAtTheSameDepthAsTheDecoder() {
        for depth in [31, 32, 33, 40] {
            // `depth` nested one-element arrays around an unsigned.
            var bytes: [UInt8] = []
            for _ in 0..<depth { bytes += [1, 1] }
            bytes += [17, 5]
            Self.compare(ByteReader(bytes), "nesting \(depth)")
            Self.compareWhole(bytes, "nesting \(depth) (whole)")
        }
    }

    @Test func malformedLengthsCountsAndTypesGiveTheDecodersErrors() {
        let cases: [[UInt8]] = [
            [], [1], [2, 0x80], [2, 0x85, 0, 0, 0, 0, 0], [1, 5, 17], [2, 0x82, 0xFF], [9, 0x81], [9, 3, 1, 2],
            [9, 0x80], [99], [2, 2, 17, 1, 99], [19, 2, 1, 17, 0], [19, 0, 1, 0], [4, 9, 0xFF], [16, 1], [25, 1, 2],
            [2, 2, 18, 0, 3, 9, 6, 1, 0, 1, 8, 0],
        ]
        for (k, b) in cases.enumerated() {
            Self.compare(ByteReader(b), "case \(k)")
            Self.compareWhole(b, "case \(k) (whole)")
        }
    }

    @Test func objectListEntriesGetLogicalNamesAndScalerUnitsTheirMember() {
        // {long-unsigned 3 (Register), unsigned 0, octet-string 1.0.1.8.0.255}: the logical name is shown as OBIS.
        let entry: [UInt8] = [2, 3, 18, 0, 3, 17, 0, 9, 6, 1, 0, 1, 8, 0, 255]
        var out = JSONBuffer()
        #expect(AXDR.writeDataJSON(entry[...], into: &out) == nil)
        #expect(out.string.contains(#""obis":"1.0.1.8.0.255""#))
        Self.compare(ByteReader(entry), "object_list entry")
        // {integer -1, enum 30 (Wh)} with the scaler_unit hint.
        var su = JSONBuffer()
        #expect(AXDR.writeDataJSON([2, 2, 15, 0xFF, 22, 30][...], hint: .scalerUnit, into: &su) == nil)
        #expect(su.string.contains(#""scaler_unit":{"scaler":-1,"unit":30"#))
    }
}
