import DLMSWire
import Testing

@testable import DLMSAPDU

@Suite struct COSEMNamingTests {
    // MARK: - Interface classes

    /// Class ids and names of the Blue Book classes the brief lists (ids as in Gurux `ObjectType`).
    @Test(arguments: [
        (1, "Data"), (3, "Register"), (4, "Extended register"), (5, "Demand register"), (6, "Register activation"),
        (7, "Profile generic"), (8, "Clock"), (9, "Script table"), (10, "Schedule"), (11, "Special days table"),
        (12, "Association SN"), (15, "Association LN"), (17, "SAP assignment"), (18, "Image transfer"),
        (19, "IEC local port setup"), (20, "Activity calendar"), (21, "Register monitor"),
        (22, "Single action schedule"), (23, "IEC HDLC setup"), (24, "IEC twisted pair (1) setup"),
        (25, "M-Bus slave port setup"), (26, "Utility tables"), (27, "Modem configuration"), (28, "Auto answer"),
        (29, "Auto connect"), (30, "Data protection"), (40, "Push setup"), (41, "TCP-UDP setup"), (42, "IPv4 setup"),
        (43, "MAC address setup"), (44, "PPP setup"), (45, "GPRS modem setup"), (46, "SMTP setup"),
        (47, "GSM diagnostic"), (48, "IPv6 setup"), (61, "Register table"), (62, "Compact data"),
        (63, "Status mapping"), (64, "Security setup"), (65, "Parameter monitor"), (67, "Sensor manager"),
        (68, "Arbitrator"), (70, "Disconnect control"), (71, "Limiter"), (72, "M-Bus client"),
        (73, "Wireless mode Q channel"), (74, "M-Bus master port setup"), (76, "DLMS/COSEM server M-Bus port setup"),
        (77, "M-Bus diagnostic"), (80, "61334-4-32 LLC SSCS setup"), (111, "Account"), (112, "Credit"),
        (113, "Charge"), (115, "Token gateway"), (122, "Function control"), (123, "Array manager"),
        (124, "Communication port protection"), (151, "LTE monitoring"),
    ] as [(UInt16, String)])
    func classNamesFollowTheBlueBook(id: UInt16, name: String) {
        #expect(COSEM.className(id) == name)
    }

    @Test func unknownClassesHaveNoNameButAttributeOneIsStillTheLogicalName() {
        #expect(COSEM.className(0) == nil)
        #expect(COSEM.className(2) == nil)
        #expect(COSEM.className(9999) == nil)
        #expect(COSEM.attributeName(classID: 9999, attribute: 1) == "logical_name")
        #expect(COSEM.attributeName(classID: 9999, attribute: 2) == nil)
        #expect(COSEM.attributeName(classID: 8, attribute: 0) == nil)
        #expect(COSEM.attributeName(classID: 8, attribute: -3) == nil)
        #expect(COSEM.methodName(classID: 8, method: 0) == nil)
        #expect(COSEM.methodName(classID: 8, method: 7) == nil)
    }

    @Test func attributeAndMethodNamesOfTheCommonClasses() {
        #expect(COSEM.attributeName(classID: 8, attribute: 2) == "time")
        #expect(COSEM.attributeName(classID: 8, attribute: 3) == "time_zone")
        #expect(COSEM.attributeName(classID: 8, attribute: 9) == "clock_base")
        #expect(COSEM.attributeName(classID: 3, attribute: 3) == "scaler_unit")
        #expect(COSEM.attributeName(classID: 7, attribute: 2) == "buffer")
        #expect(COSEM.attributeName(classID: 7, attribute: 3) == "capture_objects")
        #expect(COSEM.attributeName(classID: 7, attribute: 7) == "entries_in_use")
        #expect(COSEM.attributeName(classID: 15, attribute: 2) == "object_list")
        #expect(COSEM.attributeName(classID: 15, attribute: 7) == "secret")
        #expect(COSEM.attributeName(classID: 64, attribute: 2) == "security_policy")
        #expect(COSEM.attributeName(classID: 64, attribute: 5) == "server_system_title")
        #expect(COSEM.attributeName(classID: 70, attribute: 3) == "control_state")
        #expect(COSEM.attributeName(classID: 40, attribute: 2) == "push_object_list")
        #expect(COSEM.attributeName(classID: 18, attribute: 7) == "image_to_activate_info")
        #expect(COSEM.methodName(classID: 70, method: 1) == "remote_disconnect")
        #expect(COSEM.methodName(classID: 70, method: 2) == "remote_reconnect")
        #expect(COSEM.methodName(classID: 15, method: 1) == "reply_to_HLS_authentication")
        #expect(COSEM.methodName(classID: 8, method: 6) == "shift_time")
        #expect(COSEM.methodName(classID: 64, method: 2) == "key_transfer")
        #expect(COSEM.methodName(classID: 18, method: 4) == "image_activate")
        #expect(COSEM.methodName(classID: 3, method: 1) == "reset")
        #expect(COSEM.methodName(classID: 40, method: 1) == "push")
    }

    /// Attribute counts (including logical_name) of Gurux's classes (gurux-dlms 1.0.203 `getNames()`): our
    /// tables name at least as many attributes, and as many methods as `getMethodNames()`.
    @Test(arguments: [
        (3, 3, 1), (4, 5, 1), (5, 9, 2), (6, 4, 3), (7, 8, 2), (8, 9, 6), (9, 2, 1), (10, 2, 3), (11, 2, 2),
        (15, 9, 6), (17, 2, 1), (18, 7, 4), (20, 10, 1), (29, 6, 1), (40, 13, 2), (42, 10, 3), (48, 10, 2),
        (64, 6, 8), (65, 4, 2), (70, 4, 2), (72, 12, 8), (80, 3, 1), (81, 5, 1), (84, 7, 1), (85, 6, 1),
        (90, 10, 1), (91, 26, 2), (100, 7, 3), (111, 19, 3), (112, 11, 3), (113, 13, 5), (115, 6, 1),
        (122, 3, 3), (123, 2, 5), (124, 10, 1), (151, 3, 0),
    ] as [(UInt16, Int, Int)])
    func tablesNameAtLeastWhatGuruxKnows(id: UInt16, attributes: Int, methods: Int) throws {
        let c = try #require(COSEM.interfaceClass(id))
        #expect(c.attributes.count + 1 >= attributes)
        #expect(c.methods.count >= methods)
        for a in 1...attributes { #expect(COSEM.attributeName(classID: id, attribute: a) != nil) }
    }

    @Test func namesAreUniqueWithinAClass() {
        for c in COSEM.interfaceClasses {
            let attrs = ["logical_name"] + c.attributes
            #expect(Set(attrs).count == attrs.count, "\(c.name)")
            #expect(Set(c.methods).count == c.methods.count, "\(c.name)")
        }
        let ids = COSEM.interfaceClasses.map(\.classID)
        #expect(Set(ids).count == ids.count)
        #expect(ids == ids.sorted())
    }

    /// Every object in the Gurux meter's association object list (wrapper-none.truth.jsonl #24, the reassembled
    /// get-response of 0.0.40.0.0.255/2) has a class name, all its attributes are named, and its logical name
    /// has an OBIS name.
    @Test func everyObjectOfTheGuruxAssociationIsNamed() throws {
        let hex = "010c0204120008110009060000010000ff0202010001000204120001110009060000600100ff0202010001000204"
            + "120001110009060000" + "2a0000ff0202010001000204120001110009060000600101ff020201000100020412000111"
            + "0009060000608000ff0202010001000204120003110009060100010800ff020201000100020412000311000906010002"
            + "0800ff0202010001000204120003110009060100200700ff0202010001000204120007110109060100630100ff020201"
            + "00010002041200401101090600002b0000ff020201000100020412004611010906000060030aff020201000100020412"
            + "000f110209060000280000ff020201000100"
        let list = try AXDR.decodeData((Hex.decode(hex) ?? [])[...])
        guard case .array(let entries) = list else { Issue.record("not an array"); return }
        #expect(entries.count == 12)
        var classes: Set<UInt16> = []
        for e in entries {
            guard case .structure(let f) = e, f.count == 4, case .longUnsigned(let cid) = f[0],
                  case .octetString(let ln) = f[2] else { Issue.record("entry \(e)"); continue }
            classes.insert(cid)
            let c = try #require(COSEM.interfaceClass(cid), "class \(cid)")
            #expect(!c.attributes.isEmpty, "\(c.name)")
            for a in 1...(c.attributes.count + 1) { #expect(COSEM.attributeName(classID: cid, attribute: a) != nil) }
            #expect(COSEM.looksLikeOBIS(ln))
            if ln != [0, 0, 96, 128, 0, 255] {
                #expect(COSEM.obisName(ln) != nil, "\(COSEM.formatOBIS(ln))")
            }
        }
        #expect(classes == [1, 3, 7, 8, 15, 64, 70])
    }

    // MARK: - OBIS

    @Test func obisCodesFormatInBothNotations() {
        #expect(COSEM.formatOBIS([0, 0, 1, 0, 0, 255]) == "0-0:1.0.0*255")
        #expect(COSEM.formatOBIS([1, 0, 99, 1, 0, 255]) == "1-0:99.1.0*255")
        #expect(COSEM.dottedOBIS([0, 7, 25, 9, 0, 255]) == "0.7.25.9.0.255")
        #expect(COSEM.formatOBIS([1, 2, 3]) == "010203")
        #expect(COSEM.formatOBIS(ArraySlice([9, 9, 0, 0, 0, 0, 0, 1, 0, 0, 255]).dropFirst(5)) == "0-0:1.0.0*255")
    }

    @Test(arguments: [
        ("0.0.1.0.0.255", "Clock"),
        ("0.0.42.0.0.255", "COSEM logical device name"),
        ("0.0.40.0.0.255", "Current association"),
        ("0.0.40.0.3.255", "Association 3"),
        ("0.0.41.0.0.255", "SAP assignment"),
        ("0.0.43.0.0.255", "Security setup 0"),
        ("0.0.43.0.2.255", "Security setup 2"),
        ("0.0.43.1.1.255", "Invocation counter (security setup 1)"),
        ("0.7.25.9.0.255", "Push setup, channel 7"),
        ("0.0.25.9.0.255", "Push setup"),
        ("0.0.96.3.10.255", "Disconnect control"),
        ("0.0.96.1.0.255", "Device ID 1 (manufacturing number)"),
        ("0.0.96.1.1.255", "Device ID 2"),
        ("0.0.99.98.0.255", "Standard event log"),
        ("0.0.99.98.2.255", "Disconnector control event log"),
        ("0.0.96.11.0.255", "Event code (Standard event log)"),
        ("0.0.96.11.4.255", "Event code (Power quality event log)"),
        ("1.0.99.1.0.255", "Load profile 1"),
        ("1.0.99.2.0.255", "Load profile 2"),
        ("0.0.98.1.0.255", "Data of billing period, scheme 1"),
        ("0.0.98.2.0.255", "Data of billing period, scheme 2"),
        ("1.0.1.8.0.255", "Active energy import (+A), total"),
        ("1.0.1.8.2.255", "Active energy import (+A), tariff 2"),
        ("1.0.2.8.0.255", "Active energy export (−A), total"),
        ("1.0.3.8.0.255", "Reactive energy import (+R), total"),
        ("1.0.4.8.1.255", "Reactive energy export (−R), tariff 1"),
        ("1.0.5.8.0.255", "Reactive energy QI (+Ri), total"),
        ("1.0.8.8.4.255", "Reactive energy QIV (−Rc), tariff 4"),
        ("1.0.15.8.0.255", "Active energy absolute (|+A|+|−A|), total"),
        ("1.0.16.8.0.255", "Active energy net (+A − −A), total"),
        ("1.0.1.7.0.255", "Active power import (+A), instantaneous"),
        ("1.0.2.7.0.255", "Active power export (−A), instantaneous"),
        ("1.0.21.7.0.255", "Active power import (+A) L1, instantaneous"),
        ("1.0.41.7.0.255", "Active power import (+A) L2, instantaneous"),
        ("1.0.61.7.0.255", "Active power import (+A) L3, instantaneous"),
        ("1.0.31.7.0.255", "Current L1, instantaneous"),
        ("1.0.51.7.0.255", "Current L2, instantaneous"),
        ("1.0.71.7.0.255", "Current L3, instantaneous"),
        ("1.0.32.7.0.255", "Voltage L1, instantaneous"),
        ("1.0.52.7.0.255", "Voltage L2, instantaneous"),
        ("1.0.72.7.0.255", "Voltage L3, instantaneous"),
        ("1.0.13.7.0.255", "Power factor, average, instantaneous"),
        ("1.0.33.7.0.255", "Power factor L1, instantaneous"),
        ("1.0.14.7.0.255", "Supply frequency, instantaneous"),
        ("1.0.32.7.3.255", "Voltage L1, instantaneous, harmonic 3"),
        ("1.0.31.7.124.255", "Current L1, instantaneous, THD"),
        ("1.0.1.6.0.255", "Active power import (+A), maximum demand 1, total"),
        ("1.0.1.6.1.255", "Active power import (+A), maximum demand 1, tariff 1"),
        ("1.0.1.4.0.255", "Active power import (+A), current average demand 1, total"),
        ("1.0.1.8.0.3", "Active energy import (+A), total, historical value 3"),
        ("1.1.1.8.0.255", "Active energy import (+A), total, channel 1"),
        ("1.0.0.2.0.255", "Active firmware identifier (metrology)"),
        ("0.0.0.2.0.255", "Active firmware identifier"),
        ("0.0.44.0.0.255", "Image transfer"),
        ("0.0.17.0.0.255", "Limiter"),
        ("0.0.25.4.0.255", "GPRS modem setup"),
        ("0.0.25.6.0.255", "GSM diagnostic"),
        ("0.0.25.0.0.255", "TCP-UDP setup"),
        ("0.0.25.1.0.255", "IPv4 setup"),
        ("0.0.22.0.0.255", "IEC HDLC setup"),
        ("0.0.15.0.0.255", "Single action schedule (end of billing period)"),
        ("0.0.10.0.106.255", "Disconnector script table"),
        ("0.1.24.2.1.255", "M-Bus value 1, channel 1"),  // DSMR: gas delivered on M-Bus channel 1
        ("0.1.24.1.0.255", "M-Bus client, channel 1"),
        ("1.0.32.32.0.255", "Voltage L1, under limit occurrence counter"),  // DSMR: number of voltage sags in L1
        ("1.0.99.97.0.255", "Power failure event log"),
    ])
    func obisNamesForCommonCodes(dotted: String, name: String) {
        let b = dotted.split(separator: ".").compactMap { UInt8($0) }
        #expect(b.count == 6)
        #expect(COSEM.obisName(b) == name)
    }

    @Test func theFastOverloadsAgreeWithTheGenericOnes() {
        let codes: [[UInt8]] = [[0, 0, 1, 0, 0, 255], [1, 0, 1, 8, 0, 255], [1, 0, 72, 7, 0, 255], [0, 0, 96, 3, 10, 255],
                                [1, 0, 1, 8, 0, 12], [0, 3, 99, 98, 7, 255], [7, 0, 3, 0, 0, 255], [1, 2, 3], []]
        for c in codes {
            let slice = ([9, 9] + c)[2...]
            #expect(COSEM.obisName(c) == COSEM.obisName(AnyCollection(c)))
            #expect(COSEM.obisName(slice) == COSEM.obisName(AnyCollection(c)))
            #expect(COSEM.formatOBIS(slice) == COSEM.formatOBIS(AnyCollection(c)))
            #expect(COSEM.dottedOBIS(slice) == COSEM.dottedOBIS(AnyCollection(c)))
            #expect(COSEM.looksLikeOBIS(slice) == COSEM.looksLikeOBIS(AnyCollection(c)))
        }
        #expect(COSEM.dottedOBIS([1, 2, 3]) == "1.2.3")
        #expect(COSEM.formatOBIS([255, 255, 255, 255, 255, 255]) == "255-255:255.255.255*255")
        // The prebuilt names are the generator's names.
        for (code, name) in COSEM.obisNameCache.names.prefix(500) {
            let b = (0..<6).map { UInt8(truncatingIfNeeded: code >> UInt64(40 - 8 * $0)) }
            #expect(COSEM.nameOBIS(b[0], b[1], b[2], b[3], b[4], b[5]) == name)
        }
        #expect(COSEM.obisNameCache.names.count > 1000)
    }

    @Test func unknownOrMalformedCodesHaveNoName() {
        #expect(COSEM.obisName([1, 0, 0]) == nil)
        #expect(COSEM.obisName([7, 0, 3, 0, 0, 255]) == nil)
        #expect(COSEM.obisName([1, 0, 250, 8, 0, 255]) == nil)
        #expect(COSEM.obisName([1, 0, 1, 250, 0, 255]) == nil)
    }

    @Test func everyAbstractAndElectricityCodeEitherHasAWellFormedNameOrNone() {
        // Sweep C × D × E for A = 0 and 1 (the generator must never trap, and names never end with a separator).
        var named = 0
        for a: UInt8 in [0, 1] {
            for c in 0...255 {
                for d in 0...255 {
                    for (e, f) in [(0, 255), (1, 255), (63, 255), (64, 255), (124, 255), (255, 255), (0, 3)] {
                        if let n = COSEM.obisName([a, 0, UInt8(c), UInt8(d), UInt8(e), UInt8(f)]) {
                            #expect(!n.isEmpty && !n.hasSuffix(",") && !n.hasSuffix(" "))
                            named += 1
                        }
                    }
                }
            }
        }
        #expect(named > 10_000)
    }

    @Test func looksLikeOBISIsConservative() {
        #expect(COSEM.looksLikeOBIS([0, 0, 1, 0, 0, 255]))
        #expect(COSEM.looksLikeOBIS([1, 0, 1, 8, 0, 255]))
        #expect(!COSEM.looksLikeOBIS([0x47, 0x52, 0x58, 0x30, 0x30, 0x30]))  // "GRX000"
        #expect(!COSEM.looksLikeOBIS([0, 0, 1, 0, 0]))
        #expect(!COSEM.looksLikeOBIS([1, 0, 1, 8, 0, 100]))  // F 100 is not a billing period
    }

    // MARK: - Units

    @Test(arguments: [
        (27, "W", "active power"), (28, "VA", "apparent power"), (29, "var", "reactive power"),
        (30, "Wh", "active energy"), (31, "VAh", "apparent energy"), (32, "varh", "reactive energy"),
        (33, "A", "current"), (35, "V", "voltage"), (44, "Hz", "frequency"), (9, "°C", "temperature"),
        (13, "m³", "volume"), (7, "s", "time (second)"), (56, "%", "percentage"), (70, "dBm", "signal strength"),
        (255, "count", "no unit, unitless, count"),
    ] as [(UInt8, String, String)])
    func unitSpotChecks(code: UInt8, symbol: String, name: String) {
        let u = COSEM.unit(code)
        #expect(u?.symbol == symbol)
        #expect(u?.name == name)
    }

    @Test func reservedUnitCodesHaveNoUnit() {
        for code: UInt8 in [0, 58, 59, 68, 69, 73, 127, 175, 253] { #expect(COSEM.unit(code) == nil, "\(code)") }
        #expect((1...255).filter { COSEM.unit(UInt8($0)) != nil }.count > 110)
    }
}
