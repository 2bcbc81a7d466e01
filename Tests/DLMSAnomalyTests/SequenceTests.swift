import DLMSAnomaly
import Testing

/// Sequences built for the tests, as hex text through the real analyzer (`--input hex`, one APDU per line, `TX:`
/// client → server, `RX:` server → client). The APDUs follow IEC 62056-5-3 and decode without errors (each test
/// checks that none is malformed).
@Suite struct SequenceTests {
    // AARQ, LN context, LLS (mechanism 1) with password "00000000" (an 8-byte charstring, masked in every output).
    static let aarqLLS = "60 36 A1 09 06 07 60 85 74 05 08 01 01 8A 02 07 80 8B 07 60 85 74 05 08 02 01 AC 0A 80 08 "
        + "30 30 30 30 30 30 30 30 BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 00 7E 1F 04 B0"
    // AARE accepted / rejected-permanent with acse-service-user authentication-failure (13).
    static let aareAccepted = "61 29 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 00 A3 05 A1 03 02 01 00 BE 10 04 0E "
        + "08 00 06 5F 1F 04 00 00 1E 1D 04 00 00 07"
    static let aareRejected = "61 29 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 01 A3 05 A1 03 02 01 0D BE 10 04 0E "
        + "08 00 06 5F 1F 04 00 00 1E 1D 04 00 00 07"

    static let operations = """
        TX: \(aarqLLS)
        RX: \(aareAccepted)
        TX: C0 01 C1 00 08 00 00 01 00 00 FF 02 00
        RX: C4 01 C1 00 09 0C 07 E8 03 01 05 0C 00 00 00 00 00 00
        TX: C1 01 C2 00 08 00 00 01 00 00 FF 02 00 09 0C 07 E8 03 02 06 0C 00 00 00 00 00 00
        RX: C5 01 C2 00
        TX: C3 01 C3 00 46 00 00 60 03 0A FF 01 01 0F 00
        RX: C7 01 C3 00 00
        TX: C3 01 C4 00 40 00 00 2B 00 00 FF 02 01 01 01 02 02 16 00 09 18
            00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF 00 11 22 33 44 55 66 77
        RX: C7 01 C4 00 00
        TX: C3 01 C5 00 12 00 00 2C 00 00 FF 01 01 02 02 09 04 46 57 30 31 06 00 01 00 00
        RX: C7 01 C5 00 00
        TX: C3 01 C6 00 12 00 00 2C 00 00 FF 04 01 0F 00
        RX: C7 01 C6 FA 00
        TX: C1 01 C7 00 40 00 00 2B 00 00 FF 02 00 16 03
        RX: C5 01 C7 00
        TX: C3 01 C8 00 40 00 00 2B 00 00 FF 01 01 16 03
        RX: C7 01 C8 00 00
        RX: D8 01 01
        """

    @Test func operationsSequenceYieldsClockSetDisconnectKeyTransferFirmwareAndSetupChanges() throws {
        let tap = try analyseHex(Self.operations)
        let got = tap.findings.map { "\($0.code)@\($0.frames.first ?? 0)" }
        #expect(got == [
            "security.cleartext-password@1", "operation.clock-set@5", "operation.disconnect@7",
            "security.key-change@9", "operation.firmware@11", "operation.firmware@13", "operation.firmware@14",
            "security.setup-change@15", "security.setup-change@17", "dlms.exception@19",
        ], "\(got)")
        // The clock read in frame 4 is 2024-03-01 12:00 and the SET asks for 2024-03-02 12:00: a step of one day
        // (hex input has no capture time, so no time elapsed between them), above the one-hour warning threshold.
        let clock = try #require(tap.findings.with(code: "operation.clock-set").first)
        #expect(clock.evidence("step_seconds") == .int(86400))
        #expect(clock.evidence("previous_frames") == .frames([4]))
        #expect(clock.severity == .warning)
        #expect(clock.message.contains("+1 d"))
        let disconnect = try #require(tap.findings.with(code: "operation.disconnect").first)
        #expect(disconnect.evidence("method") == .string("remote_disconnect"))
        #expect(disconnect.severity == .info)
        let key = try #require(tap.findings.with(code: "security.key-change").first)
        #expect(key.evidence("key_roles") == .strings(["guek"]))
        // The wrapped key bytes are nowhere in the finding.
        #expect(!key.jsonLine.contains("00112233445566778899aabbccddeeff"))
        let firmware = tap.findings.with(code: "operation.firmware")
        #expect(firmware.first?.evidence("image_size") == .int(65536))
        #expect(firmware.first?.evidence("image_identifier") == .hex([0x46, 0x57, 0x30, 0x31]))
        #expect(firmware.last?.message.contains("refused image_activate") == true)
        #expect(firmware.last?.evidence("result") == .string("other-reason"))
        let setup = tap.findings.with(code: "security.setup-change")
        #expect(setup.first?.evidence("attribute") == .string("security_policy"))
        #expect(setup.first?.evidence("value") == .int(3))
        #expect(setup.last?.evidence("method") == .string("security_activate"))
        #expect(setup.allSatisfy { $0.severity == .warning })
        let exception = try #require(tap.findings.with(code: "dlms.exception").first)
        #expect(exception.evidence("error") == .string("operation-not-possible"))
    }

    @Test func clockStepBelowTheThresholdStaysInfo() throws {
        var options = AnomalyOptions()
        options.clockStepWarning = 2 * 86400
        let tap = try analyseHex(Self.operations, options: options)
        #expect(tap.findings.with(code: "operation.clock-set").first?.severity == .info)
    }

    static let bruteForce = [String](repeating: "TX: \(aarqLLS)\nRX: \(aareRejected)", count: 3)
        .joined(separator: "\n")

    @Test func threeRejectedAssociationsFromOneClientAreABruteForce() throws {
        let tap = try analyseHex(Self.bruteForce)
        #expect(tap.findings.with(code: "association.rejected").map(\.frames) == [[2], [4], [6]])
        let rejected = try #require(tap.findings.with(code: "association.rejected").first)
        #expect(rejected.evidence("diagnostic_meaning") == .string("authentication-failure"))
        #expect(rejected.evidence("mechanism") == .string("lls"))
        let bf = tap.findings.with(code: "association.brute-force")
        #expect(bf.map(\.frames) == [[6]], "\(tap.findings.summary)")
        #expect(bf.first?.severity == .critical)
        #expect(bf.first?.evidence("failure_frames") == .frames([2, 4, 6]))
        #expect(tap.findings.with(code: "security.cleartext-password").count == 3)
        #expect(tap.findings.with(code: "apdu.malformed").isEmpty)
    }

    @Test func fewerFailuresThanTheThresholdAreNoBruteForce() throws {
        var options = AnomalyOptions()
        options.bruteForceCount = 4
        let tap = try analyseHex(Self.bruteForce, options: options)
        #expect(tap.findings.with(code: "association.rejected").count == 3)
        #expect(tap.findings.with(code: "association.brute-force").isEmpty)
    }

    // AARQ with calling AP title 434C490000000001, mechanism 2 (HLS) and a 16-byte challenge; AARE accepted with
    // authentication-required (14), responding AP title 4D54520000000001 and the server's challenge.
    static let aarqHLS = "60 4A A1 09 06 07 60 85 74 05 08 01 01 A6 0A 04 08 43 4C 49 00 00 00 00 01 8A 02 07 80 "
        + "8B 07 60 85 74 05 08 02 02 AC 12 80 10 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 10 "
        + "BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 00 7E 1F 04 B0"
    static let aareHLS = "61 56 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 00 A3 05 A1 03 02 01 0E "
        + "A4 0A 04 08 4D 54 52 00 00 00 00 01 88 02 07 80 89 07 60 85 74 05 08 02 02 "
        + "AA 12 80 10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F 20 "
        + "BE 10 04 0E 08 00 06 5F 1F 04 00 00 1E 1D 04 00 00 07"
    // reply_to_HLS_authentication (Association LN 0.0.40.0.0.255, method 1) with f(StoC), and the server's answer:
    // read-write-denied without f(CtoS).
    static let hlsReply = "C3 01 C1 00 0F 00 00 28 00 00 FF 01 01 09 10 "
        + "A1 A2 A3 A4 A5 A6 A7 A8 A9 AA AB AC AD AE AF B0"
    static let hlsRefused = "C7 01 C1 03 00"

    @Test func refusedHLSReplyIsAnHLSFailureAndCountsTowardsBruteForce() throws {
        let one = "TX: \(Self.aarqHLS)\nRX: \(Self.aareHLS)\nTX: \(Self.hlsReply)\nRX: \(Self.hlsRefused)"
        let tap = try analyseHex([String](repeating: one, count: 3).joined(separator: "\n"))
        let hls = tap.findings.with(code: "security.hls-failed")
        #expect(hls.map(\.frames) == [[4], [8], [12]], "\(tap.findings.summary)")
        // The party whose reply is judged failed: the client here (the server refused its f(StoC)); the session's
        // own check, where it is merged, names the server whose f(CtoS) never came. Either is a party of it.
        let parties: [[UInt8]] = [[0x43, 0x4C, 0x49, 0, 0, 0, 0, 1], [0x4D, 0x54, 0x52, 0, 0, 0, 0, 1]]
        #expect(hls.first?.systemTitle.map { parties.contains($0) } == true)
        #expect(hls.first?.evidence("mechanism") == .string("hls"))
        #expect(hls.first?.evidence("association_frames") == .frames([1]))
        let bf = tap.findings.with(code: "association.brute-force")
        #expect(bf.map(\.frames) == [[12]])
        #expect(bf.first?.evidence("client") == .string("system title 434C490000000001"))
        #expect(tap.findings.with(code: "association.rejected").isEmpty)
        #expect(tap.findings.with(code: "apdu.malformed").isEmpty)
    }

    @Test func acceptedHLSReplyIsNoFinding() throws {
        let ok = "TX: \(Self.aarqHLS)\nRX: \(Self.aareHLS)\nTX: \(Self.hlsReply)\n"
            + "RX: C7 01 C1 00 01 00 09 10 B1 B2 B3 B4 B5 B6 B7 B8 B9 BA BB BC BD BE BF C0"
        let tap = try analyseHex(ok)
        #expect(tap.findings.isEmpty, "\(tap.findings.summary)")
    }
}
