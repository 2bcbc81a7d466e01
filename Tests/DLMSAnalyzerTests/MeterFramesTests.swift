import DLMSAPDU
import DLMSSecurity
import DLMSSession
import DLMSTransport
import DLMSWire
import Foundation
import Testing

/// Real pushes from meters' customer ports (Tests/DLMSAnalyzerTests/MeterFrames/SOURCE.md names each source and
/// its published key), decoded end to end and checked against the values the sources publish.
enum MeterFrames {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("MeterFrames")
    static func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// The link frames of a vector file: one hex paragraph each.
    static func frames(_ name: String) throws -> [[UInt8]] {
        let text = try String(contentsOfFile: path(name), encoding: .utf8)
        return text.components(separatedBy: "\n\n").compactMap { p in
            let compact = p.filter { !$0.isWhitespace }
            return compact.isEmpty ? nil : Hex.decode(compact)
        }
    }

    static func bytes(_ name: String) throws -> [UInt8] { try frames(name).flatMap { $0 } }

    /// The body of a data-notification's plaintext, as a DataValue.
    static func notificationBody(_ plain: [UInt8]) throws -> DataValue {
        let decoded = APDUDecoder.decode(plain[...])
        #expect(decoded.type == "data-notification")
        #expect(decoded.errors.isEmpty, "\(decoded.errors)")
        return try #require(decoded.facts.values.first)
    }

    static func value(_ labelled: [LabelledValue], _ obis: [UInt8]) -> LabelledValue? {
        labelled.first { $0.obis == obis }
    }
}

@Suite struct MeterFramesTests {
    // MARK: - HDLC UI push with a verified tag (Kamstrup Omnipower, Denmark)

    @Test func kamstrupOmnipowerUIPushVerifiesItsTagAndGivesTheMeterValues() throws {
        let out = try analyseToJSON([MeterFrames.path("kamstrup-omnipower-hdlc-glo.hex")]) {
            $0.input = .hex
            $0.keyringPaths = [Fixtures.keyring("meters-kamstrup-omnipower.json")]
        }
        let apdus = out.records.filter { $0["kind"]?.string == "apdu" }
        let push = try #require(apdus.first)
        #expect(apdus.count == 1)
        #expect(push["transport"]?["frame_type"]?.string == "UI")
        #expect(push["apdu"]?["type"]?.string == "general-glo-ciphering")
        #expect(push["security"]?["verdict"]?.string == "verified")
        #expect(push["errors"]?.array?.isEmpty ?? true)
        let plainHex = try #require(push["plain"]?["hex"]?.string)
        let plain = try #require(Hex.decode(plainHex))
        let values = PushLabeller().label(body: try MeterFrames.notificationBody(plain), pushSetup: nil)
        #expect(values.count == 32)
        #expect(MeterFrames.value(values, [1, 1, 1, 8, 0, 255])?.value == .doubleLongUnsigned(866_636))
        #expect(MeterFrames.value(values, [1, 1, 32, 7, 0, 255])?.value == .longUnsigned(224))
        #expect(MeterFrames.value(values, [1, 1, 52, 7, 0, 255])?.value == .longUnsigned(223))
        #expect(MeterFrames.value(values, [1, 1, 0, 0, 1, 255])?.value == .doubleLongUnsigned(0x01A4_DC52))
        let clock = try #require(MeterFrames.value(values, [0, 1, 1, 0, 0, 255]))
        guard case .octetString(let dt) = clock.value else { Issue.record("clock is \(clock.value)"); return }
        #expect(COSEM.decodeDateTime(dt)?.iso8601.hasPrefix("2020-01-07T14:47:20") == true)
    }

    @Test func kamstrupOmnipowerWithOneCiphertextBitFlippedFailsItsTag() throws {
        // The same frame with one ciphertext bit flipped and the FCS made right again: only the GCM tag notices.
        var frame = try MeterFrames.bytes("kamstrup-omnipower-hdlc-glo.hex")
        frame[100] ^= 0x01
        let fcs = CRC16.x25(frame[1..<(frame.count - 3)])
        frame[frame.count - 3] = UInt8(fcs & 0xFF)
        frame[frame.count - 2] = UInt8(fcs >> 8)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meterframes-tamper-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("tampered.hex")
        try Data(Hex.encode(frame).utf8).write(to: file)
        let out = try analyseToJSON([file.path]) {
            $0.input = .hex
            $0.keyringPaths = [Fixtures.keyring("meters-kamstrup-omnipower.json")]
        }
        let push = try #require(out.records.first { $0["kind"]?.string == "apdu" })
        #expect(push["security"]?["verdict"]?.string == "authentication-failed")
        #expect(push["errors"]?.array?.isEmpty ?? true)
    }

    // MARK: - Wired M-Bus, two segments, general-glo (TINETZ Kaifa MA309)

    @Test func tinetzKaifaTwoSegmentMBusPushIsJoinedDecryptedAndLabelled() throws {
        var decoder = MBusFrameDecoder()
        var assembler = MBusAssembler()
        var apdus: [MBusAPDU] = []
        var issues: [String] = []
        let stream = try MeterFrames.bytes("tinetz-kaifa-ma309-mbus.hex")
        // Byte by byte, as a serial tap delivers it.
        var events: [MBusFrameDecoder.Event] = []
        for (i, b) in stream.enumerated() { events += decoder.feed([b][...], frame: i + 1, time: nil) }
        events += decoder.finish()
        for e in events {
            switch e {
            case .frame(let f):
                #expect(f.checksumOK)
                for a in assembler.accept(f) {
                    switch a {
                    case .apdu(let x): apdus.append(x)
                    case .issue(let i): issues.append(i.code)
                    }
                }
            case .issue(let i): issues.append(i.code)
            }
        }
        #expect(issues.isEmpty)
        let apdu = try #require(apdus.first)
        #expect(apdus.count == 1 && apdu.segments.count == 2)

        let decoded = APDUDecoder.decode(apdu.bytes[...])
        #expect(decoded.type == "general-glo-ciphering")
        #expect(decoded.errors.isEmpty)
        let protection = try #require(decoded.facts.protection)
        #expect(protection.systemTitle == [0x4B, 0x46, 0x4D, 0x10, 0x10, 0x00, 0x00, 0x23])
        #expect(protection.invocationCounter == 0x0029_5B9A)

        let keyring = try Keyring.load(path: Fixtures.keyring("meters-tinetz-kaifa-ma309.json"))
        let engine = SecurityEngine(keyring: keyring)
        var association = AssociationSecurity()
        let result = engine.unprotect(protection, direction: .serverToClient, association: &association)
        // SC 0x21: encryption only, so there is no tag to verify.
        #expect(result.verdict == "decrypted-unverified")
        let plain = try #require(result.plain)
        #expect(plain == (try MeterFrames.bytes("tinetz-kaifa-ma309-mbus.plain.hex")))

        let body = try MeterFrames.notificationBody(plain)
        let values = PushLabeller().label(body: body, pushSetup: nil)
        let voltage = try #require(MeterFrames.value(values, [1, 0, 32, 7, 0, 255]))
        #expect(voltage.value == .longUnsigned(2308))
        #expect(voltage.scaled?.text == "230.8" && voltage.scaled?.unit == "V")
        let energy = try #require(MeterFrames.value(values, [1, 0, 1, 8, 0, 255]))
        #expect(energy.value == .doubleLongUnsigned(9108))
        #expect(energy.scaled?.text == "9108" && energy.scaled?.unit == "Wh")
        let serial = try #require(MeterFrames.value(values, [0, 0, 96, 1, 0, 255]))
        #expect(serial.value == .octetString(Array("1KFM0100000035".utf8)))
        let clock = try #require(MeterFrames.value(values, [0, 0, 1, 0, 0, 255]))
        guard case .octetString(let dt) = clock.value else { Issue.record("clock is \(clock.value)"); return }
        #expect(COSEM.decodeDateTime(dt)?.iso8601.hasPrefix("2021-07-19T15:46:35") == true)
        // The clock pair, the two identifiers and eight registers.
        #expect(values.count == 11)
    }

    @Test func netzNOEExamplePushThroughMBusLinkGivesThePublishedValues() throws {
        var link = MBusLink()
        var apdus: [MBusAPDU] = []
        var issues: [String] = []
        let frames = try MeterFrames.frames("netznoe-kaifa-mbus.hex")
        for (i, f) in frames.enumerated() {
            for e in link.feed(f[...], frame: i + 1, time: Timestamp(seconds: 1_632_736_035, micros: 0)) {
                switch e {
                case .apdu(let a): apdus.append(a)
                case .issue(let x): issues.append(x.code)
                case .frame(let fr): #expect(fr.checksumOK && fr.errors.isEmpty)
                }
            }
        }
        for e in link.finish() { if case .issue(let x) = e { issues.append(x.code) } }
        #expect(issues.isEmpty)
        let apdu = try #require(apdus.first)
        #expect(apdu.frames == [1, 2] && apdu.segments.map(\.ci) == [0x00, 0x11])
        let decoded = APDUDecoder.decode(apdu.bytes[...])
        let protection = try #require(decoded.facts.protection)
        #expect(protection.securityControl == 0x20)
        let engine = SecurityEngine(keyring: try Keyring.load(path: Fixtures.keyring("meters-netznoe-kaifa.json")))
        var association = AssociationSecurity()
        let result = engine.unprotect(protection, direction: nil, association: &association)
        #expect(result.verdict == "decrypted-unverified")
        let plain = try #require(result.plain)
        #expect(plain == (try MeterFrames.bytes("netznoe-kaifa-mbus.plain.hex")))
        // tests/test_data.py: WirkenergieP == 12937, SpannungL1 == 233.7.
        let values = PushLabeller().label(body: try MeterFrames.notificationBody(plain), pushSetup: nil)
        #expect(values.count == 11)
        let energy = try #require(MeterFrames.value(values, [1, 0, 1, 8, 0, 255]))
        #expect(energy.scaled?.text == "12937" && energy.scaled?.unit == "Wh")
        let voltage = try #require(MeterFrames.value(values, [1, 0, 32, 7, 0, 255]))
        #expect(voltage.scaled?.value == 233.7 && voltage.scaled?.unit == "V")
        #expect(MeterFrames.value(values, [1, 0, 13, 7, 0, 255])?.scaled?.text == "1")
    }

    // MARK: - HDLC → GBT → general-glo (Landis+Gyr E450)

    @Test func landisGyrGBTPushOverHDLCIsJoinedDecryptedAndLabelledByItsOwnList() throws {
        let out = try analyseToJSON([MeterFrames.path("landisgyr-e450-hdlc-gbt-glo.hex")]) {
            $0.input = .hex
            $0.keyringPaths = [Fixtures.keyring("meters-landisgyr-e450.json")]
        }
        let apdus = out.records.filter { $0["kind"]?.string == "apdu" }
        #expect(apdus.count == 5)
        #expect(apdus.prefix(4).map { $0["apdu"]?["type"]?.string } == Array(repeating: "general-block-transfer", count: 4))
        let joined = try #require(apdus.last)
        #expect(joined["transport"]?["gbt"]?["blocks"]?.int == 4)
        #expect(joined["frames"]?.array?.compactMap(\.int) == [1, 2, 3, 4])
        #expect(joined["apdu"]?["type"]?.string == "general-glo-ciphering")
        #expect(joined["security"]?["verdict"]?.string == "decrypted-unverified")
        #expect(joined["plain"]?["type"]?.string == "data-notification")
        let plainHex = try #require(joined["plain"]?["hex"]?.string)
        let plain = try #require(Hex.decode(plainHex))
        #expect(plain == (try MeterFrames.bytes("landisgyr-e450-hdlc-gbt-glo.plain.hex")))

        let body = try MeterFrames.notificationBody(plain)
        let values = PushLabeller().label(body: body, pushSetup: nil)
        #expect(values.count == 18)
        #expect(values.first?.classID == 40 && values.first?.attributeID == 2)
        #expect(MeterFrames.value(values, [1, 0, 1, 8, 0, 255])?.value == .doubleLongUnsigned(49805))
        #expect(MeterFrames.value(values, [1, 0, 32, 7, 0, 255])?.value == .longUnsigned(234))
        #expect(MeterFrames.value(values, [1, 0, 32, 7, 0, 255])?.classID == 3)
        #expect(MeterFrames.value(values, [0, 0, 96, 1, 0, 255])?.value == .octetString(Array("56815930".utf8)))
        let clock = try #require(MeterFrames.value(values, [0, 0, 1, 0, 0, 255]))
        #expect(clock.classID == 8)
        guard case .octetString(let dt) = clock.value else { Issue.record("clock is \(clock.value)"); return }
        #expect(COSEM.decodeDateTime(dt)?.iso8601.hasPrefix("2023-10-12T14:05:40") == true)
    }

    @Test func landisGyrTagDoesNotVerifyWithTheAllZeroAuthenticationKeyTheSourceLists() throws {
        // The source lists AK = 00…00 as well; with it the tag fails, which is why the keyring carries no AK.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meterframes-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("e450-with-ak.json")
        try Data("""
            {"keys": [{"system_title": "4C475A677362F13A", "guek": "00000000000000000000000000000000",
                       "ak": "00000000000000000000000000000000"}]}
            """.utf8).write(to: file)
        _ = chmod(file.path, 0o600)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = try analyseToJSON([MeterFrames.path("landisgyr-e450-hdlc-gbt-glo.hex")]) {
            $0.input = .hex
            $0.keyringPaths = [file.path]
        }
        let joined = out.records.last { $0["kind"]?.string == "apdu" }
        #expect(joined?["security"]?["verdict"]?.string == "authentication-failed")
    }

    @Test func landisGyrE570FiveBlockGBTPushDecryptsToTheSourcesMeterID() throws {
        let out = try analyseToJSON([MeterFrames.path("landisgyr-e570-hdlc-gbt-glo.hex")]) {
            $0.input = .hex
            $0.keyringPaths = [Fixtures.keyring("meters-landisgyr-e570.json")]
        }
        let joined = try #require(out.records.last { $0["kind"]?.string == "apdu" })
        #expect(joined["transport"]?["gbt"]?["blocks"]?.int == 5)
        #expect(joined["apdu"]?["type"]?.string == "general-glo-ciphering")
        // SC 0x20: encryption only.
        #expect(joined["security"]?["verdict"]?.string == "decrypted-unverified")
        let plainHex = try #require(joined["plain"]?["hex"]?.string)
        let plain = try #require(Hex.decode(plainHex))
        let values = PushLabeller().label(body: try MeterFrames.notificationBody(plain), pushSetup: nil)
        #expect(values.count == 18)
        // tests/test_lge570.py: every value's source is LGZ1030769231253.
        #expect(MeterFrames.value(values, [0, 0, 42, 0, 0, 255])?.value
                == .octetString(Array("LGZ1030769231253".utf8)))
        #expect(MeterFrames.value(values, [1, 1, 1, 8, 0, 255])?.value == .long64Unsigned(862055))
        #expect(MeterFrames.value(values, [1, 0, 13, 7, 0, 255])?.value == .long(1000))
        let clock = try #require(MeterFrames.value(values, [0, 0, 1, 0, 0, 255]))
        guard case .octetString(let dt) = clock.value else { Issue.record("clock is \(clock.value)"); return }
        #expect(COSEM.decodeDateTime(dt)?.iso8601.hasPrefix("2024-03-13T09:02:45") == true)
    }

    // MARK: - Segmented HDLC push carrying its own push_object_list (Iskra AM550)

    @Test func iskraSegmentedHDLCPushIsJoinedAndLabelledByItsOwnList() throws {
        let out = try analyseToJSON([MeterFrames.path("iskra-am550-hdlc-segmented.hex")]) { $0.input = .hex }
        let apdus = out.records.filter { $0["kind"]?.string == "apdu" }
        let push = try #require(apdus.first)
        #expect(apdus.count == 1)
        #expect(push["frames"]?.array?.compactMap(\.int) == [1, 2, 3, 4, 5])
        #expect(push["transport"]?["segment_count"]?.int == 5)
        #expect(push["errors"]?.array?.isEmpty ?? true)
        let apduHex = try #require(push["apdu"]?["hex"]?.string)
        let apdu = try #require(Hex.decode(apduHex))
        var labeller = PushLabeller()
        let body = try MeterFrames.notificationBody(apdu)
        labeller.learn(notificationBody: body)
        // The list the body carried is now known for its Push setup, 0-6:25.9.0.255.
        #expect(labeller.pushObjectLists[[0, 6, 25, 9, 0, 255]]?.count == 28)
        let values = labeller.label(body: body, pushSetup: [0, 6, 25, 9, 0, 255])
        #expect(values.count == 28)
        #expect(MeterFrames.value(values, [0, 0, 42, 0, 0, 255])?.value
                == .octetString(Array("ISK1030775213859".utf8)))
        #expect(MeterFrames.value(values, [1, 1, 1, 8, 0, 255])?.value == .doubleLongUnsigned(6229669))
        #expect(MeterFrames.value(values, [1, 1, 1, 8, 0, 255])?.name != nil)
    }

    // MARK: - Plain HDLC pushes (Aidon, Kamstrup HAN)

    @Test func aidonHANPushIsLabelledWithItsScalerUnits() throws {
        let out = try analyseToJSON([MeterFrames.path("aidon-han-hdlc.hex")]) { $0.input = .hex }
        let apdus = out.records.filter { $0["kind"]?.string == "apdu" }
        let push = try #require(apdus.first)
        #expect(apdus.count == 1)
        #expect(push["transport"]?["frame_type"]?.string == "UI")
        #expect(push["apdu"]?["type"]?.string == "data-notification")
        #expect(push["errors"]?.array?.isEmpty ?? true)
        let plainHex = try #require(push["apdu"]?["hex"]?.string)
        let plain = try #require(Hex.decode(plainHex))

        let values = PushLabeller().label(body: try MeterFrames.notificationBody(plain), pushSetup: nil)
        #expect(values.count == 27)
        let power = try #require(MeterFrames.value(values, [1, 0, 1, 7, 0, 255]))
        #expect(power.value == .doubleLongUnsigned(1122) && power.scaled?.text == "1122" && power.scaled?.unit == "W")
        let voltage = try #require(MeterFrames.value(values, [1, 0, 32, 7, 0, 255]))
        #expect(voltage.scaled?.text == "230.7" && voltage.scaled?.value == 230.7)
        let current = try #require(MeterFrames.value(values, [1, 0, 51, 7, 0, 255]))
        #expect(current.scaled?.text == "7.5" && current.scaled?.unit == "A")
        let energy = try #require(MeterFrames.value(values, [1, 0, 1, 8, 0, 255]))
        #expect(energy.scaled?.text == "10049926" && energy.scaled?.unit == "Wh")
        let clock = try #require(MeterFrames.value(values, [0, 0, 1, 0, 0, 255]))
        guard case .octetString(let dt) = clock.value else { Issue.record("clock is \(clock.value)"); return }
        #expect(COSEM.decodeDateTime(dt)?.iso8601.hasPrefix("2019-12-16T07:59:40") == true)
    }

    @Test func kamstrupHANPushIsFramedAndItsAlternatingListLabelled() throws {
        let out = try analyseToJSON([MeterFrames.path("kamstrup-han-hdlc.hex")]) { $0.input = .hex }
        let push = try #require(out.records.first { $0["kind"]?.string == "apdu" })
        #expect(push["transport"]?["frame_type"]?.string == "UI")
        #expect(push["apdu"]?["type"]?.string == "data-notification")
        let apduHex = try #require(push["apdu"]?["hex"]?.string)
        let apdu = try #require(Hex.decode(apduHex))
        #expect(apdu.count == 215)
        // The 2017 Kamstrup firmware sends the date-time as a Data octet-string (09 0C + 12 bytes): accepted as
        // that variant, without errors, and the body follows.
        #expect(push["errors"]?.array?.isEmpty == true)
        #expect(push["apdu"]?["notification_body"] != nil)
        // The body after 0F, the long-invoke-id and the 14-byte date-time field.
        let body = try AXDR.decodeData(apdu[19...])
        let values = PushLabeller().label(body: body, pushSetup: nil)
        #expect(values.count == 12)
        #expect(MeterFrames.value(values, [1, 1, 0, 0, 5, 255])?.value
                == .visibleString(Array("5706567274389702".utf8)))
        #expect(MeterFrames.value(values, [1, 1, 1, 7, 0, 255])?.value == .doubleLongUnsigned(1468))
        #expect(MeterFrames.value(values, [1, 1, 32, 7, 0, 255])?.value == .longUnsigned(232))
        #expect(MeterFrames.value(values, [1, 1, 52, 7, 0, 255])?.value == .longUnsigned(228))
        #expect(MeterFrames.value(values, [1, 1, 72, 7, 0, 255])?.value == .longUnsigned(233))
    }
}

/// Wired M-Bus through the whole analyzer: framing detected per frame, segments joined, decrypted with the
/// meter's published key, the push labelled.
@Suite struct MBusThroughTheAnalyzerTests {
    @Test func kaifaTwoSegmentPushDecodesAndIsLabelled() throws {
        let (_, records) = try analyseToJSON([MeterFrames.path("tinetz-kaifa-ma309-mbus.hex")]) {
            $0.input = .hex
            $0.keyringPaths = [Fixtures.keyring("meters-tinetz-kaifa-ma309.json")]
        }
        let push = try #require(records.first { $0["kind"]?.string == "apdu" })
        #expect(push["transport"]?["type"]?.string == "mbus")
        #expect(push["transport"]?["segment_count"]?.int == 2)
        #expect(push["frames"]?.array?.count == 2)
        #expect(push["security"]?["verdict"]?.string == "decrypted-unverified")  // the meter sends SC 0x21
        #expect(push["service"]?["type"]?.string == "data-notification")
        let labels = push["labels"]?.array ?? []
        let voltage = labels.first { $0["obis"]?.string == "1.0.32.7.0.255" }
        #expect(voltage?["scaled"]?["text"]?.string == "230.8")
        let errors = records.filter { $0["kind"]?.string == "error" }
        #expect(errors.count == 0)
    }

    /// A raw stream that mixes HDLC frames and M-Bus frames: each is framed by its own decoder.
    @Test func aStreamMayMixHDLCAndMBus() throws {
        let hdlcPath = Fixtures.capture("gurux/hdlc-none.raw")
        let hdlc = try Data(contentsOf: URL(fileURLWithPath: hdlcPath))
        let mbusText = try String(contentsOfFile: MeterFrames.path("tinetz-kaifa-ma309-mbus.hex"), encoding: .utf8)
        let mbus = Hex.decode(mbusText.split(whereSeparator: \.isWhitespace).joined()) ?? []
        #expect(mbus.count > 200)
        let mixed = Data(mbus) + hdlc.prefix(2000)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mixed-\(getpid()).raw")
        try mixed.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let (_, records) = try analyseToJSON([url.path]) { $0.input = .raw }
        let types = records.filter { $0["kind"]?.string == "apdu" }.map { $0["transport"]?["type"]?.string ?? "" }
        #expect(types.first == "mbus")
        #expect(types.dropFirst().contains("hdlc"))
        #expect(!records.contains { $0["code"]?.string == "stream.junk" && ($0["frames"]?.array?.isEmpty == false) })
    }
}
