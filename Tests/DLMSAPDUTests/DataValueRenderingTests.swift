import DLMSWire
import Foundation
import Testing

@testable import DLMSAPDU

private func json(_ v: DataValue, hint: DataRenderHint = []) -> String {
    var out = JSONBuffer()
    v.writeJSON(into: &out, hint: hint)
    return out.string
}

private func value(_ hex: String) throws -> DataValue { try AXDR.decodeData((Hex.decode(hex) ?? [])[...]) }

@Suite struct DataValueRenderingTests {
    // MARK: - JSON contract

    @Test func scalarsRenderAsTypeAndValue() throws {
        #expect(json(.doubleLongUnsigned(123_456)) == #"{"type":"double-long-unsigned","value":123456}"#)
        #expect(json(.long(-1000)) == #"{"type":"long","value":-1000}"#)
        #expect(json(.enumValue(30)) == #"{"type":"enum","value":30}"#)
        #expect(json(.boolean(true)) == #"{"type":"boolean","value":true}"#)
        #expect(json(.nullData) == #"{"type":"null-data","value":null}"#)
        #expect(json(.long64Unsigned(.max)) == #"{"type":"long64-unsigned","value":18446744073709551615}"#)
        #expect(json(.float32(1.5)) == #"{"type":"float32","value":1.5}"#)
        #expect(json(.float32(0.1)) == #"{"type":"float32","value":0.1}"#)
        #expect(json(.float64(-2.25)) == #"{"type":"float64","value":-2.25}"#)
        #expect(json(.float64(.nan)) == #"{"type":"float64","value":"NaN"}"#)
        #expect(json(.bitString(bytes: [0xA8], count: 5)) == #"{"type":"bit-string","value":"10101","hex":"a8"}"#)
    }

    @Test func containersRenderTheirItems() throws {
        let v = try value("02020f01161e")
        #expect(json(v) == #"{"type":"structure","items":[{"type":"integer","value":1},{"type":"enum","value":30}]}"#)
        #expect(json(.array([])) == #"{"type":"array","items":[]}"#)
    }

    @Test func compactArraysCarryTheirDescription() throws {
        let v = try value("13020212060c000100000010000200000020")
        #expect(json(v) == #"{"type":"compact-array","description":{"type":"structure","items":["long-unsigned","#
            + #""double-long-unsigned"]},"items":[{"type":"structure","items":[{"type":"long-unsigned","value":1},"#
            + #"{"type":"double-long-unsigned","value":16}]},{"type":"structure","items":[{"type":"long-unsigned","#
            + #""value":2},{"type":"double-long-unsigned","value":32}]}]}"#)
        #expect(v.textSummary == "compact-array[2] of structure{long-unsigned, double-long-unsigned}")
    }

    @Test func octetStringsAreHexWithTextWhenPrintable() throws {
        // The Gurux meter's logical device name (wrapper-none.truth.jsonl #11).
        let ldn = try value("091047525830303030303737363431383932")
        #expect(json(ldn) == #"{"type":"octet-string","value":"47525830303030303737363431383932","#
            + #""text":"GRX0000077641892"}"#)
        #expect(ldn.textSummary == #"octet-string 47525830303030303737363431383932 ("GRX0000077641892")"#)
        // System title bytes are not text.
        #expect(json(.octetString([0x43, 0x4C, 0x49, 0x9F, 0x88, 0xC6, 0x40, 0xC0]))
                == #"{"type":"octet-string","value":"434c499f88c640c0"}"#)
    }

    @Test func aTwelveByteOctetStringThatIsADateTimeIsDecoded() throws {
        // The Gurux clock as the meter sends it: an octet-string, not the date-time type (wrapper-none #3).
        let clock = try value("090c07e80301ff0c000000000000")
        #expect(json(clock) == #"{"type":"octet-string","value":"07e80301ff0c000000000000","date_time":{"#
            + #""iso8601":"2024-03-01T12:00:00.00+00:00","kind":"date-time","deviation":0,"utc_offset_minutes":0,"#
            + #""clock_status":0,"clock_status_flags":[],"day_of_week":null}}"#)
        #expect(clock.textSummary == "octet-string 07e80301ff0c000000000000 (date-time 2024-03-01T12:00:00.00+00:00)")
    }

    @Test func theDateTimeTypesAreDecoded() throws {
        let v = DataValue.dateTime(Hex.decode("07e40101ff000300 00ff88ff".replacingOccurrences(of: " ", with: "")) ?? [])
        #expect(json(v) == #"{"type":"date-time","value":"2020-01-01T00:03:00.00+02:00","hex":"07e40101ff00030000ff88ff","#
            + #""date_time":{"iso8601":"2020-01-01T00:03:00.00+02:00","kind":"date-time","deviation":-120,"#
            + #""utc_offset_minutes":120,"clock_status":null,"clock_status_flags":[],"day_of_week":null}}"#)
        #expect(v.textSummary == "date-time 2020-01-01T00:03:00.00+02:00")
        #expect(json(.date([0x07, 0xE8, 0x0B, 0x15, 0x04])) == #"{"type":"date","value":"2024-11-21","hex":"07e80b1504","#
            + #""date_time":{"iso8601":"2024-11-21","kind":"date","day_of_week":"Thursday"}}"#)
        #expect(json(.time([0x08, 0x1E, 0x0F, 0x17])) == #"{"type":"time","value":"08:30:15.23","hex":"081e0f17","#
            + #""date_time":{"iso8601":"08:30:15.23","kind":"time"}}"#)
        #expect(json(.time([0x18, 0, 0, 0])) == #"{"type":"time","value":"18000000","invalid":true}"#)
    }

    @Test func logicalNamesAfterAClassIdAreShownAsOBIS() throws {
        // A capture_objects entry of the Gurux load profile (wrapper-none.truth.jsonl #36):
        // {class_id 8, logical_name 0.0.1.0.0.255, attribute 2, data_index 0}.
        let v = try value("020412000809060000010000ff0f02120000")
        let text = json(v)
        #expect(text.contains(#"{"type":"octet-string","value":"0000010000ff","obis":"0.0.1.0.0.255","obis_name":"Clock"}"#))
        let children = v.textChildren.map(\.textSummary)
        #expect(children == ["long-unsigned 8", "octet-string 0000010000ff (0-0:1.0.0*255, Clock)", "integer 2",
                             "long-unsigned 0"])
        // Without a class id before it, 6 bytes stay plain hex.
        #expect(json(.octetString([0, 0, 1, 0, 0, 255])) == #"{"type":"octet-string","value":"0000010000ff"}"#)
        // ...unless the caller knows better.
        #expect(json(.octetString([1, 0, 1, 8, 0, 255]), hint: .logicalName)
                == #"{"type":"octet-string","value":"0100010800ff","obis":"1.0.1.8.0.255","#
                + #""obis_name":"Active energy import (+A), total"}"#)
        #expect(HintedDataValue(.octetString([1, 0, 1, 8, 0, 255]), hint: .logicalName).textSummary
                == "octet-string 0100010800ff (1-0:1.8.0*255, Active energy import (+A), total)")
    }

    @Test func stringsRenderAsText() throws {
        #expect(json(try value("0a0b4752583737363431383932")) == #"{"type":"visible-string","value":"GRX77641892"}"#)
        #expect(json(.visibleString([0x41, 0x0A])) == #"{"type":"visible-string","value":"A\n","hex":"410a"}"#)
        #expect(json(.utf8String(Array("grüß".utf8))) == #"{"type":"utf8-string","value":"grüß"}"#)
        #expect(json(.utf8String([0xC3])) == #"{"type":"utf8-string","value":"\#u{FFFD}","hex":"c3"}"#)
        #expect(DataValue.visibleString([0x41, 0x01]).textSummary == #"visible-string "A\x01""#)
    }

    @Test func everyValueInTheGuruxCapturesRendersAsValidJSON() throws {
        var n = 0
        for s in AXDRCorpusTests.samples {
            var r = ByteReader(s.bytes)
            for start in s.starts {
                _ = r.skip(start - r.offset)
                guard let v = try? AXDR.decodeData(&r) else { break }
                let text = json(v)
                let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
                #expect(parsed?["type"] as? String == v.typeName)
                _ = v.textSummary
                n += 1
            }
        }
        #expect(n >= 470)
    }

    @Test func mutatedValuesStillRenderAsValidJSON() throws {
        var rng = AXDRFuzzRandom(seed: 99)
        let seed = Hex.decode("0203090c07e80219ff0000000000000006000186a00600000fa0") ?? []
        for _ in 0..<3000 {
            var b = seed
            let i = Int(rng.next() % UInt64(b.count))
            b[i] = UInt8(truncatingIfNeeded: rng.next())
            guard let v = try? AXDR.decodeData(b[...]) else { continue }
            #expect((try? JSONSerialization.jsonObject(with: Data(json(v).utf8))) != nil, "\(Hex.encode(b))")
        }
    }

    // MARK: - Scaler and unit

    @Test func scalerUnitReadsTheRegisterStructure() throws {
        // 1.0.1.8.0.255 / 3 of the Gurux meter: {0, Wh} (wrapper-none #7); 1.0.32.7.0.255 / 3: {−1, V} (#26).
        let energy = try #require(ScalerUnit(from: try value("02020f00161e")))
        #expect(energy == ScalerUnit(scaler: 0, unit: 30))
        #expect(energy.description == "10^0 Wh")
        let volts = try #require(ScalerUnit(from: try value("02020fff1623")))
        #expect(volts.scaler == -1)
        #expect(DataValue.longUnsigned(2301).scaled(by: volts) == "230.1 V")
        #expect(DataValue.doubleLongUnsigned(123_456).scaled(by: energy) == "123456 Wh")
        #expect(ScalerUnit(from: .structure([.integer(1)])) == nil)
        #expect(ScalerUnit(from: .structure([.integer(1), .visibleString([])])) == nil)
        #expect(ScalerUnit(from: .doubleLong(3)) == nil)
    }

    @Test func scaledValuesAreExactDecimals() {
        let su = { (s: Int8, u: UInt8) in ScalerUnit(scaler: s, unit: u) }
        #expect(DataValue.doubleLongUnsigned(1234).scaled(by: su(-1, 30)) == "123.4 Wh")
        #expect(DataValue.doubleLongUnsigned(1234).scaled(by: su(1, 30)) == "12340 Wh")
        #expect(DataValue.doubleLongUnsigned(5).scaled(by: su(-3, 27)) == "0.005 W")
        #expect(DataValue.doubleLong(-5).scaled(by: su(-3, 27)) == "-0.005 W")
        #expect(DataValue.long(2300).scaled(by: su(-1, 35)) == "230.0 V")
        #expect(DataValue.doubleLongUnsigned(0).scaled(by: su(3, 30)) == "0 Wh")
        #expect(DataValue.long64Unsigned(.max).scaled(by: su(-2, 30)) == "184467440737095516.15 Wh")
        #expect(DataValue.long64(.min).scaled(by: su(0, 255)) == "-9223372036854775808")
        #expect(DataValue.unsigned(7).scaled(by: su(0, 255)) == "7")
        #expect(DataValue.float32(1.5).scaled(by: su(1, 44)) == "15.0 Hz")
        #expect(DataValue.visibleString([]).scaled(by: su(0, 30)) == nil)
    }
}

@Suite struct DataValueRenderHintTests {
    @Test func attributesImplyHowTheirValuesAreShown() {
        #expect(COSEM.renderHint(classID: 3, attribute: 1) == .logicalName)
        #expect(COSEM.renderHint(classID: 8, attribute: 2) == .dateTime)
        #expect(COSEM.renderHint(classID: 8, attribute: 3) == [])
        #expect(COSEM.renderHint(classID: 4, attribute: 5) == .dateTime)
        // A logical_name read by GET: shown as OBIS.
        let ln = DataValue.octetString([0, 0, 96, 3, 10, 255]).renderable(classID: 70, attribute: 1)
        #expect(ln.textSummary == "octet-string 000060030aff (0-0:96.3.10*255, Disconnect control)")
        // A Clock time with an implausible year is still decoded when the attribute says it is a date-time.
        let t = DataValue.octetString([0x00, 0x10, 3, 1, 0xFF, 12, 0, 0, 0, 0, 0, 0x00])
        #expect(t.textSummary == "octet-string 00100301ff0c000000000000")
        #expect(t.renderable(classID: 8, attribute: 2).textSummary
                == "octet-string 00100301ff0c000000000000 (date-time 0016-03-01T12:00:00.00+00:00)")
        // A Register's scaler_unit (wrapper-none #26: 1.0.32.7.0.255 / 3).
        let su = (try? AXDR.decodeData([0x02, 0x02, 0x0F, 0xFF, 0x16, 0x23][...])) ?? .nullData
        #expect(su.renderable(classID: 3, attribute: 3).textSummary == "structure[2] (scaler_unit 10^-1 V)")
        var out = JSONBuffer()
        su.renderable(classID: 3, attribute: 3).writeJSON(into: &out)
        #expect(out.string == #"{"type":"structure","items":[{"type":"integer","value":-1},{"type":"enum","value":35}],"#
            + #""scaler_unit":{"scaler":-1,"unit":35,"unit_symbol":"V","unit_name":"voltage"}}"#)
        #expect(su.textSummary == "structure[2]")
        // Other attributes get the plain value back.
        #expect(DataValue.longUnsigned(5).renderable(classID: 3, attribute: 2) is DataValue)
    }
}
