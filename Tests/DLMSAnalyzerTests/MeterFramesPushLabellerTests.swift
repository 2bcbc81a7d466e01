import DLMSAPDU
import DLMSSession
import DLMSWire
import Testing

/// PushLabeller on the real pushes of MeterFrames/ (SOURCE.md), plus the rules that need a list or a scaler/unit
/// learned from GET responses.
@Suite struct MeterFramesPushLabellerTests {
    /// The Landis+Gyr E450 plaintext (MeterFrames/landisgyr-e450-hdlc-gbt-glo.plain.hex) and its body's items.
    static func e450() throws -> (list: DataValue, items: [DataValue]) {
        let body = try MeterFrames.notificationBody(try MeterFrames.bytes("landisgyr-e450-hdlc-gbt-glo.plain.hex"))
        guard case .structure(let items) = body, let list = items.first else {
            throw LabellerTestError.unexpectedBody
        }
        return (list, items)
    }

    enum LabellerTestError: Error { case unexpectedBody }

    static let pushSetup: [UInt8] = [0, 8, 25, 9, 0, 255]

    static func hex(_ s: String) -> [UInt8] { Hex.decode(s.filter { !$0.isWhitespace }) ?? [] }

    @Test func captureObjectsReadTheE450PushObjectList() throws {
        let list = try #require(PushLabeller.captureObjects(from: try Self.e450().list))
        #expect(list.count == 18)
        #expect(list[0] == CaptureObject(classID: 40, obis: Self.pushSetup, attributeID: 2, dataIndex: 0))
        #expect(list[3] == CaptureObject(classID: 8, obis: [0, 0, 1, 0, 0, 255], attributeID: 2))
        #expect(list[15].obis == [1, 0, 32, 7, 0, 255] && list[15].classID == 3)
    }

    @Test func listLearnedFromAGetResponseLabelsABodyWithoutOne() throws {
        let (list, items) = try Self.e450()
        var labeller = PushLabeller()
        // GET Push setup 0-8:25.9.0.255 attribute 2, answered with the list.
        var response = ServiceFacts(type: "get-response")
        response.values = [list]
        labeller.observe(request: [ObjectRef(classID: 40, obis: Self.pushSetup, attributeID: 2)], response: response)
        #expect(labeller.pushObjectLists[Self.pushSetup]?.count == 18)

        // The same body with its first value (the list itself) left out as null-data.
        let body = DataValue.structure([.nullData] + items.dropFirst())
        let values = labeller.label(body: body, pushSetup: Self.pushSetup)
        #expect(values.count == 18)
        #expect(MeterFrames.value(values, [1, 0, 1, 8, 0, 255])?.value == .doubleLongUnsigned(49805))
        #expect(MeterFrames.value(values, [1, 0, 1, 8, 0, 255])?.classID == 3)
        // Without naming the push setup, the only list learned applies.
        #expect(labeller.label(body: body, pushSetup: nil).count == 18)
        // A list whose length does not fit the body is not applied.
        #expect(labeller.label(body: .structure(Array(items.dropFirst(2))), pushSetup: Self.pushSetup).isEmpty)
    }

    @Test func responseValuesPairOnlyWhenTheyMatchTheRequest() throws {
        let (list, _) = try Self.e450()
        var labeller = PushLabeller()
        var response = ServiceFacts(type: "get-response")
        response.values = [list, list]
        labeller.observe(request: [ObjectRef(classID: 40, obis: Self.pushSetup, attributeID: 2)], response: response)
        #expect(labeller.pushObjectLists.isEmpty)
        response.values = [list]
        response.type = "set-request"
        labeller.observe(request: [ObjectRef(classID: 40, obis: Self.pushSetup, attributeID: 2)], response: response)
        #expect(labeller.pushObjectLists.isEmpty)
    }

    @Test func scalerUnitLearnedFromRegisterAttribute3ScalesKamstrupValues() throws {
        let apdu = try MeterFrames.frames("kamstrup-han-hdlc.hex")[0]
        // Flag, format, addresses, control and HCS (8), LLC (3), 0F + invoke id (5), 09 0C + date-time (14); FCS
        // and flag (3) at the end.
        let body = try AXDR.decodeData(apdu[30..<(apdu.count - 3)])
        var labeller = PushLabeller()
        labeller.learn(object: ObjectRef(classID: 3, obis: [1, 1, 32, 7, 0, 255], attributeID: 3),
                       value: .structure([.integer(0), .enumValue(35)]))
        labeller.learn(object: ObjectRef(classID: 3, obis: [1, 1, 31, 7, 0, 255], attributeID: 3),
                       value: .structure([.integer(-2), .enumValue(33)]))
        let values = labeller.label(body: body, pushSetup: nil)
        let voltage = try #require(MeterFrames.value(values, [1, 1, 32, 7, 0, 255]))
        #expect(voltage.scaled?.text == "232" && voltage.scaled?.unit == "V")
        // 1-1:31.7.0 = 0x0234 = 564 × 10^-2 A.
        #expect(MeterFrames.value(values, [1, 1, 31, 7, 0, 255])?.scaled?.text == "5.64")
        #expect(MeterFrames.value(values, [1, 1, 1, 7, 0, 255])?.scaled == nil)
        // Attribute 2 of a register is a value, not a scaler/unit: nothing is learned from it.
        labeller.learn(object: ObjectRef(classID: 3, obis: [1, 1, 1, 7, 0, 255], attributeID: 2),
                       value: .structure([.integer(0), .enumValue(27)]))
        #expect(labeller.scalerUnits[[1, 1, 1, 7, 0, 255]] == nil)
    }

    @Test(arguments: [
        (2308, -1, "230.8"), (-5, -2, "-0.05"), (0, -3, "0"), (12, 3, "12000"), (7, 0, "7"),
        (1000, -3, "1"), (-120, 1, "-1200"), (5, -40, "0." + String(repeating: "0", count: 39) + "5"),
        (Int64.min, -128, "-0." + String(repeating: "0", count: 109) + "9223372036854775808"),
    ] as [(Int64, Int8, String)])
    func scaleGivesExactDecimalText(raw: Int64, scaler: Int8, text: String) {
        let s = PushLabeller.scale(raw, ScalerUnitInfo(scaler: scaler, unit: 27))
        #expect(s.text == text)
        #expect(s.unit == "W")
        #expect(Double(s.text) == s.value)
    }

    @Test func enumsAndDatesAreNotScaled() {
        let body = DataValue.structure([
            .structure([.octetString([0, 0, 96, 3, 10, 255]), .enumValue(1), .structure([.integer(0), .enumValue(255)])]),
            .structure([.octetString([1, 0, 1, 8, 0, 255]), .doubleLongUnsigned(5), .structure([.integer(3), .enumValue(30)])]),
        ])
        let values = PushLabeller().label(body: body, pushSetup: nil)
        #expect(values.count == 2)
        #expect(values[0].scaled == nil)
        #expect(values[1].scaled?.text == "5000" && values[1].scaled?.unit == "Wh")
    }

    @Test func malformedListsAreNotCaptureObjects() {
        let good = DataValue.structure([.longUnsigned(3), .octetString([1, 0, 1, 8, 0, 255]), .integer(2), .longUnsigned(0)])
        #expect(PushLabeller.captureObjects(from: .array([good])) != nil)
        #expect(PushLabeller.captureObjects(from: .array([])) == nil)
        #expect(PushLabeller.captureObjects(from: .structure([good])) == nil)
        let shortName = DataValue.structure([.longUnsigned(3), .octetString([1, 0, 1, 8, 0]), .integer(2), .longUnsigned(0)])
        #expect(PushLabeller.captureObjects(from: .array([good, shortName])) == nil)
        let wrongType = DataValue.structure([.unsigned(3), .octetString([1, 0, 1, 8, 0, 255]), .integer(2), .longUnsigned(0)])
        #expect(PushLabeller.captureObjects(from: .array([wrongType])) == nil)
    }

    @Test func learnedTablesAreBounded() {
        var labeller = PushLabeller()
        let entry = DataValue.structure([.longUnsigned(3), .octetString([1, 0, 1, 8, 0, 255]), .integer(2), .longUnsigned(0)])
        for i in 0..<(PushLabeller.maxLists + 10) {
            labeller.learn(object: ObjectRef(classID: 40, obis: [0, 0, 25, 9, UInt8(i), 255], attributeID: 2),
                           value: .array([entry]))
        }
        #expect(labeller.pushObjectLists.count == PushLabeller.maxLists)
        // An already known setup can still be updated at the limit.
        labeller.learn(object: ObjectRef(classID: 40, obis: [0, 0, 25, 9, 0, 255], attributeID: 2),
                       value: .array([entry, entry]))
        #expect(labeller.pushObjectLists[[0, 0, 25, 9, 0, 255]]?.count == 2)
    }

    @Test func valuesWithoutANameAreLeftOut() {
        // A list version string and a bare number: nothing names them.
        let values = PushLabeller().label(body: .structure([.visibleString(Array("AIDON_V0001".utf8)), .long(3)]),
                                          pushSetup: nil)
        #expect(values.isEmpty)
    }
}

@Suite struct PushLabellerRobustnessTests {
    /// A random value tree (seeded, bounded depth and width), biased towards the shapes push bodies have.
    static func randomValue(_ rng: inout LabellerRNG, depth: Int = 0) -> DataValue {
        let pick = rng.next() % (depth >= 4 ? 6 : 9)
        switch pick {
        case 0: return .octetString((0..<Int(rng.next() % 8)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        case 1: return .octetString([1, 0, UInt8(rng.next() % 100), 7, 0, 255])
        case 2: return .longUnsigned(UInt16(truncatingIfNeeded: rng.next()))
        case 3: return .integer(Int8(truncatingIfNeeded: rng.next()))
        case 4: return .enumValue(UInt8(truncatingIfNeeded: rng.next()))
        case 5: return .long64(Int64(bitPattern: rng.next()))
        case 6, 7:
            let n = Int(rng.next() % 6)
            let items = (0..<n).map { _ in randomValue(&rng, depth: depth + 1) }
            return pick == 6 ? .structure(items) : .array(items)
        default:
            let entries = (0..<Int(rng.next() % 4)).map { _ in
                DataValue.structure([.longUnsigned(3), .octetString([1, 0, 1, 8, 0, 255]), .integer(2),
                                     .longUnsigned(0)])
            }
            return .array(entries)
        }
    }

    @Test func randomBodiesNeverTrapAndLabelOnlyWhatTheyHold() {
        var rng = LabellerRNG(seed: 2024)
        var labeller = PushLabeller()
        for _ in 0..<2000 {
            let body = Self.randomValue(&rng)
            labeller.learn(notificationBody: body)
            let values = labeller.label(body: body, pushSetup: nil)
            let count: Int
            switch body {
            case .structure(let s), .array(let s): count = s.count
            default: count = 1
            }
            #expect(values.count <= count)
            #expect(values.allSatisfy { $0.obis.count == 6 })
        }
        #expect(labeller.pushObjectLists.count <= PushLabeller.maxLists)
    }

    @Test func eventNotificationIsLabelledByItsAttributeDescriptor() throws {
        // EventNotificationRequest (IEC 62056-5-3 §8, tag C2): no time, Register 1-0:1.8.0.255 attribute 2,
        // double-long-unsigned 9108. Built by hand from the grammar.
        let apdu: [UInt8] = [0xC2, 0x00, 0x00, 0x03, 0x01, 0x00, 0x01, 0x08, 0x00, 0xFF, 0x02,
                             0x06, 0x00, 0x00, 0x23, 0x94]
        let decoded = APDUDecoder.decode(apdu[...])
        #expect(decoded.errors.isEmpty)
        var labeller = PushLabeller()
        labeller.learn(object: ObjectRef(classID: 3, obis: [1, 0, 1, 8, 0, 255], attributeID: 3),
                       value: .structure([.integer(3), .enumValue(30)]))
        let values = labeller.label(event: decoded.facts)
        #expect(values.count == 1)
        #expect(values.first?.classID == 3 && values.first?.attributeID == 2)
        #expect(values.first?.scaled?.text == "9108000" && values.first?.scaled?.unit == "Wh")
        #expect(labeller.label(event: APDUDecoder.decode(apdu[..<1]).facts).isEmpty)
    }
}

/// Seeded generator (SplitMix64) so every random test reproduces.
struct LabellerRNG {
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

@Suite struct KaifaKFM001LayoutTests {
    /// List #3 of a Kaifa MA304H3E (Norwegian HAN), the body after the date-time, byte for byte from the
    /// breakdown in UtilitechAS/amsreader-firmware@06359a1fe7a6e914ec0343f481c73a02b8ad5bf7
    /// `Samples/Kaifa/Kaifa OBIS breakdown.md` ("List #3 (0x12)").
    static let list3 = MeterFramesPushLabellerTests.hex("""
        02 12 09 07 4B 46 4D 5F 30 30 31 09 10 36 39 37 30 36 33 31 34 30 31 37 35 33 39 38 35
        09 08 4D 41 33 30 34 48 33 45 06 00 00 01 BA 06 00 00 00 00 06 00 00 00 00 06 00 00 01 01
        06 00 00 04 92 06 00 00 05 94 06 00 00 05 A7 06 00 00 09 62 06 00 00 00 00 06 00 00 09 73
        09 0C 07 E1 09 18 07 0A 00 0A FF 80 00 00 06 00 06 27 21 06 00 00 00 00 06 00 00 03 5A
        06 00 00 DA AE
        """)

    @Test func list3IsLabelledByPositionWithTheSheetsUnits() throws {
        let body = try AXDR.decodeData(Self.list3[...])
        let values = PushLabeller().label(body: body, pushSetup: nil)
        #expect(values.count == 18)
        #expect(MeterFrames.value(values, [0, 0, 96, 1, 0, 255])?.value == .octetString(Array("6970631401753985".utf8)))
        #expect(MeterFrames.value(values, [1, 0, 1, 7, 0, 255])?.scaled?.text == "442")
        // The breakdown's own reading: 403 kWh, so the energy is in Wh; currents in mA; voltages in 0.1 V.
        #expect(MeterFrames.value(values, [1, 0, 1, 8, 0, 255])?.scaled?.text == "403233")
        #expect(MeterFrames.value(values, [1, 0, 31, 7, 0, 255])?.scaled?.text == "1.17")
        #expect(MeterFrames.value(values, [1, 0, 32, 7, 0, 255])?.scaled?.text == "240.2")
        #expect(MeterFrames.value(values, [1, 0, 72, 7, 0, 255])?.scaled?.unit == "V")
        #expect(MeterFrames.value(values, [0, 0, 1, 0, 0, 255])?.classID == 8)
    }

    @Test func otherLengthsOrVersionsAreNotGuessed() throws {
        guard case .structure(let items) = try AXDR.decodeData(Self.list3[...]) else {
            Issue.record("list 3 is not a structure")
            return
        }
        #expect(PushLabeller().label(body: .structure(Array(items.prefix(11))), pushSetup: nil).isEmpty)
        var renamed = items
        renamed[0] = .visibleString(Array("KFM_002".utf8))
        #expect(PushLabeller().label(body: .structure(renamed), pushSetup: nil).isEmpty)
    }
}

@Suite struct PushLabellerRenderingTests {
    @Test func labelsRenderAsJSONAndTextLines() throws {
        let body = try MeterFrames.notificationBody(try MeterFrames.bytes("tinetz-kaifa-ma309-mbus.plain.hex"))
        let values = PushLabeller().label(body: body, pushSetup: nil)
        let voltage = try #require(MeterFrames.value(values, [1, 0, 32, 7, 0, 255]))
        #expect(voltage.textLine.hasPrefix("1-0:32.7.0"))
        #expect(voltage.textLine.hasSuffix("= 230.8 V (long-unsigned 2308)"))
        var j = JSONBuffer()
        LabelledValue.writeJSON([voltage], into: &j)
        let json = try JSONValue.parse(j.string)
        let first = try #require(json[0])
        #expect(first["obis"]?.string == "1.0.32.7.0.255")
        #expect(first["value"]?["type"]?.string == "long-unsigned")
        #expect(first["value"]?["value"]?.int == 2308)
        #expect(first["scaled"]?["text"]?.string == "230.8")
        #expect(first["scaled"]?["unit"]?.string == "V")
        #expect(first["scaled"]?["scaler"]?.int == -1)
        // The whole body renders as valid JSON.
        var all = JSONBuffer()
        LabelledValue.writeJSON(values, into: &all)
        #expect(try JSONValue.parse(all.string).array?.count == values.count)
    }
}
