import Testing

@testable import DLMSWire

/// The JSON writer behind every JSON Lines record: its fast paths (8-byte escape test, bit-stack commas, in-place
/// digits and hex) must write exactly what the plain definitions say.
@Suite struct JSONBufferTests {
    /// The reference: RFC 8259 escaping written the slow, obvious way.
    static func reference(_ s: String) -> String {
        var out: [UInt8] = [0x22]
        let hex = Array("0123456789ABCDEF".utf8)
        for c in s.utf8 {
            switch c {
            case 0x22: out += Array("\\\"".utf8)
            case 0x5C: out += Array("\\\\".utf8)
            case 0x0A: out += Array("\\n".utf8)
            case 0x0D: out += Array("\\r".utf8)
            case 0x09: out += Array("\\t".utf8)
            case 0..<0x20, 0x7F: out += Array("\\u00".utf8) + [hex[Int(c >> 4)], hex[Int(c & 0xF)]]
            default: out.append(c)
            }
        }
        out.append(0x22)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func stringsNeedingAnEscapeAtAnyPositionAreEscapedLikeTheReference() {
        let specials: [UInt8] = [0x00, 0x01, 0x09, 0x0A, 0x0D, 0x1F, 0x22, 0x5C, 0x7F]
        for length in [1, 7, 8, 9, 15, 16, 17, 40] {
            for position in 0..<length {
                for special in specials {
                    var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    bytes[position] = special
                    let s = String(decoding: bytes, as: UTF8.self)
                    var j = JSONBuffer()
                    j.string(s)
                    #expect(j.string == Self.reference(s), "length \(length), 0x\(special) at \(position)")
                }
            }
        }
    }

    @Test func stringsWithoutSpecialsIncludingNonASCIIAreCopiedAsTheyAre() {
        for s in ["", "a", "abcdefgh", "abcdefghi", "Clock 0-0:1.0.0*255", "Zähler €uro ✓ long enough to span",
                  " ~!#$%&'()*+,-./0123456789:;<=>?@[]^_`{|}"] {
            var j = JSONBuffer()
            j.string(s)
            #expect(j.string == Self.reference(s))
        }
    }

    @Test func keysValuesAndCommasComeOutInJSONOrder() {
        var j = JSONBuffer(capacity: 1)  // grows from the smallest buffer
        j.beginObject()
        j.field("a", 1)
        j.field("b", "x\"y")
        j.key("c")
        j.beginArray()
        j.int(-5)
        j.bool(true)
        j.null()
        j.hex([0x00, 0xAB, 0xFF])
        j.beginObject()
        j.endObject()
        j.endArray()
        j.field("d", false)
        j.endObject()
        #expect(j.string == #"{"a":1,"b":"x\"y","c":[-5,true,null,"00abff",{}],"d":false}"#)
        #expect(j.bytes == Array(j.string.utf8))
        #expect(j.count == j.bytes.count)
    }

    @Test func integersAtTheirLimitsAreWrittenInDecimal() {
        var j = JSONBuffer()
        j.beginArray()
        j.int(0)
        j.int(9)
        j.int(10)
        j.int(-1)
        j.int(Int64.min)
        j.int(Int64.max)
        j.int(UInt64.max)
        j.int(Int8.min)
        j.endArray()
        #expect(j.string == "[0,9,10,-1,-9223372036854775808,9223372036854775807,18446744073709551615,-128]")
    }

    @Test func commasAreRightInContainersNestedDeeperThanTheBitStack() {
        // 100 levels: the comma state of the outer 36 levels is spilled and must come back on the way out.
        var j = JSONBuffer()
        var expected = ""
        for level in 0..<100 {
            j.beginArray()
            j.int(level)
            expected += "[\(level),"
        }
        for level in (0..<100).reversed() {
            j.int(level)
            j.endArray()
            expected += "\(level)]"
            if level > 0 { expected += "," }
        }
        // After each inner array closes, its parent already holds an item: the next value needs a comma.
        #expect(j.string == expected)
    }

    @Test func resetStartsAnEmptyDocument() {
        var j = JSONBuffer()
        j.beginObject()
        j.field("k", 1)
        j.reset()
        j.beginArray()
        j.endArray()
        #expect(j.string == "[]")
    }
}

/// Capture times are written without building Strings; the result must be the padded-field form in every case.
@Suite struct TimestampFormattingTests {
    @Test func theFixedLayoutMatchesThePaddedFieldsForTimesAcrossTheRange() {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2000 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let seconds = Int64(bitPattern: seed >> 1) % 253_402_300_800  // up to 9999-12-31
            let micros = Int32(truncatingIfNeeded: (seed >> 20) % 1_000_000)
            let t = Timestamp(seconds: seconds, micros: micros)
            #expect(t.rfc3339 == t.rfc3339Padded)
            var j = JSONBuffer()
            j.timestamp(t)
            #expect(j.string == "\"" + t.rfc3339Padded + "\"")
        }
    }

    @Test func knownTimesAndOutOfLayoutTimesAreWrittenAsBefore() {
        #expect(Timestamp(seconds: 0, micros: 0).rfc3339 == "1970-01-01T00:00:00.000000Z")
        #expect(Timestamp(seconds: 1_709_294_400, micros: 123_456).rfc3339 == "2024-03-01T12:00:00.123456Z")
        // Before year 0 and micros beyond a second fall back to the padded fields.
        for t in [Timestamp(seconds: -62_200_000_000, micros: 5), Timestamp(seconds: 10, micros: 1_500_000),
                  Timestamp(seconds: 10, micros: -1)] {
            #expect(t.rfc3339 == t.rfc3339Padded)
            var j = JSONBuffer()
            j.timestamp(t)
            #expect(j.string == "\"" + t.rfc3339Padded + "\"")
        }
    }
}

/// The writer's per-second time cache and its chunked hex must write what the plain definitions say.
@Suite struct JSONBufferCacheAndHexTests {
    @Test func timesInTheSameSecondAndAcrossSecondsAreEachWrittenInFull() {
        var j = JSONBuffer()
        var expected: [String] = []
        j.beginArray()
        let times = [
            Timestamp(seconds: 1_709_294_400, micros: 5), Timestamp(seconds: 1_709_294_400, micros: 999_999),
            Timestamp(seconds: 1_709_294_400, micros: 0), Timestamp(seconds: 1_709_294_400, micros: 1_000_000),
            Timestamp(seconds: 1_709_294_400, micros: -1), Timestamp(seconds: 1_709_294_401, micros: 123_456),
            Timestamp(seconds: 1_709_294_400, micros: 42), Timestamp(seconds: -62_200_000_000, micros: 7),
            Timestamp(seconds: -62_200_000_000, micros: 8), Timestamp(seconds: 0, micros: 0),
        ]
        for t in times {
            j.timestamp(t)
            expected.append("\"" + t.rfc3339 + "\"")
        }
        j.endArray()
        #expect(j.string == "[" + expected.joined(separator: ",") + "]")
    }

    @Test func hexOfEveryLengthAndByteValueIsLowerCaseDigitPairs() {
        for n in 0..<40 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ n) }
            var j = JSONBuffer()
            j.hex(bytes)
            #expect(j.string == "\"" + Hex.encode(bytes) + "\"")
        }
        var all = JSONBuffer()
        all.hex((0...255).map { UInt8($0) })
        #expect(all.string == "\"" + Hex.encode((0...255).map { UInt8($0) }) + "\"")
    }

    @Test func linesAccumulateWithoutACommaBetweenRecords() {
        var j = JSONBuffer()
        j.beginObject()
        j.field("a", 1)
        j.endObject()
        j.endLine()
        j.beginObject()
        j.endObject()
        j.endLine()
        #expect(j.string == "{\"a\":1}\n{}\n")
        j.removeAllBytes()
        j.beginArray()
        j.endArray()
        #expect(j.string == "[]")
    }
}

/// Runs written through `JSONBuffer.fragment` are bounded by the room asked for.
@Suite struct FragmentWriterTests {
    @Test func writesPastTheReservedRoomAreDroppedAndItemsGetTheirCommas() {
        var j = JSONBuffer()
        j.beginArray()
        j.int(1)
        j.fragment(maxLength: 6) { w in
            w.literal("\"abcd\"")
            w.literal("xyz")  // no room left: dropped
            w.byte(UInt8(ascii: "!"))  // dropped
        }
        j.fragment(maxLength: 24) { w in
            w.decimal(-1234567)
            w.byte(UInt8(ascii: ","))
            w.decimal(0)
            w.byte(UInt8(ascii: ","))
            w.twoDigits(7)
        }
        j.endArray()
        #expect(j.string == #"[1,"abcd",-1234567,0,07]"#)
    }
}
