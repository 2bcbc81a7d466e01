import DLMSAnalyzer
import Foundation
import Testing

/// Every line dlmsdump writes validates against docs/dlmsdump.schema.json (the JSON contract of docs/json.md).
@Suite struct SchemaTests {
    static let inputs = [
        "gurux/wrapper-none.pcap", "gurux/wrapper-lls.pcap", "gurux/hdlc-none.pcap", "gurux/hdlc-none.raw",
        "gurux/neg-bad-fcs.pcap", "gurux/neg-wrapper-length.pcap", "gurux/neg-truncated-segment.pcap",
        "gurux/wrapper-hls-gmac-authenc.pcap", "gurux/hdlc-gbt-authenc.pcap", "gurux/wrapper-general-glo.pcap",
        "peers/Output-EPRI.pcap", "peers/hdlc-over-udp-sample.pcap", "peers/Output-Ciphered-Simple-Key.pcap",
    ]

    @Test(arguments: inputs)
    func everyLineValidates(_ input: String) throws {
        let validator = try JSONSchemaValidator(schemaText: Fixtures.schemaText)
        let (lines, records) = try analyseToJSON([Fixtures.capture(input)])
        #expect(!lines.isEmpty)
        var problems: [String] = []
        for (i, r) in records.enumerated() {
            for p in validator.validate(r) { problems.append("line \(i + 1): \(p)") }
        }
        #expect(problems.isEmpty, "\(problems.prefix(10).joined(separator: "\n"))")
        #expect(records.last?["kind"]?.string == "summary")
    }

    /// The validator is not a rubber stamp: a record with a wrong type or a missing member fails.
    @Test func validatorRejectsBadRecords() throws {
        let validator = try JSONSchemaValidator(schemaText: Fixtures.schemaText)
        let bad = try JSONValue.parse(#"{"kind":"apdu","frames":[0],"conversation":"x"}"#)
        #expect(!validator.validate(bad).isEmpty)
        let badDirection = try JSONValue.parse(
            #"{"kind":"error","frames":[1],"conversation":"c","code":"x.y","message":"m","direction":"up"}"#)
        #expect(!validator.validate(badDirection).isEmpty)
        let good = try JSONValue.parse(
            #"{"kind":"error","frames":[1],"conversation":"c","code":"x.y","message":"m","direction":"client->server"}"#)
        #expect(validator.validate(good).isEmpty)
    }
}

/// The binary's output (with the anomaly rules, which the CLI always runs) validates too, findings included.
@Suite struct CLISchemaTests {
    @Test(arguments: ["neg-replay", "neg-tamper", "neg-bad-fcs", "neg-wrapper-length", "neg-truncated-segment",
                      "wrapper-lls"])
    func everyLineOfTheBinaryValidates(_ name: String) throws {
        let validator = try JSONSchemaValidator(schemaText: Fixtures.schemaText)
        let r = try CLITests.run(["--format", "jsonl", "--keyring", Fixtures.keyring("\(name).json"),
                                  Fixtures.capture("gurux/\(name).pcap")])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        var problems: [String] = []
        var anomalies = 0
        for (i, line) in lines.enumerated() {
            let v = try JSONValue.parse(line)
            if v["kind"]?.string == "anomaly" { anomalies += 1 }
            for p in validator.validate(v) { problems.append("line \(i + 1): \(p)") }
        }
        #expect(anomalies > 0)
        #expect(problems.isEmpty, "\(problems.prefix(10).joined(separator: "\n"))")
        #expect(try JSONValue.parse(lines.last ?? "")["anomalies"] != nil)
    }
}

/// Real meters' pushes (labelled values, HDLC UI, GBT) validate too.
@Suite struct MeterFrameSchemaTests {
    @Test(arguments: ["aidon-han-hdlc.hex", "kamstrup-omnipower-hdlc-glo.hex", "landisgyr-e450-hdlc-gbt-glo.hex",
                      "iskra-am550-hdlc-segmented.hex"])
    func pushRecordsValidate(_ file: String) throws {
        let validator = try JSONSchemaValidator(schemaText: Fixtures.schemaText)
        let path = Fixtures.root.appendingPathComponent("Tests/DLMSAnalyzerTests/MeterFrames/" + file).path
        let (_, records) = try analyseToJSON([path]) { $0.input = .hex }
        #expect(records.contains { $0["kind"]?.string == "apdu" })
        var problems: [String] = []
        for (i, r) in records.enumerated() {
            for p in validator.validate(r) { problems.append("line \(i + 1): \(p)") }
        }
        #expect(problems.isEmpty, "\(problems.prefix(10).joined(separator: "\n"))")
    }
}
