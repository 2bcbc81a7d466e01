import DLMSAnalyzer
import Foundation
import Testing

/// dlmsdump's JSON Lines against the truth files of the Gurux captures (Captures/gurux/*.truth.jsonl, made from
/// the pcap bytes by an independent pipeline and Gurux's translator). Mirrors ../shared/tools/compare.py: every
/// truth APDU must have an output record with the same frames, direction, wire type and service facts, and every
/// reassembled datablock transfer must appear with the same joined bytes.
@Suite struct TruthComparisonTests {
    static let plainCaptures = ["wrapper-none", "wrapper-lls", "hdlc-none"]
    /// Every protected scenario, decrypted with the keyring in Keyring/ (made from the capture's own keys).
    static let protectedCaptures = [
        "wrapper-hls-gmac-authenc", "wrapper-ded", "wrapper-general-glo", "wrapper-general-ded", "hdlc-gbt-authenc",
        "wrapper-suite1-ecdsa", "wrapper-suite2-ecdsa", "wrapper-hls-sha256-authenc", "wrapper-push-glo",
        "hdlc-auth-only",
    ]

    @Test(arguments: plainCaptures)
    func captureMatchesItsTruth(_ name: String) throws {
        let truth = try readJSONLines(Fixtures.capture("gurux/\(name).truth.jsonl"))
        let (_, out) = try analyseToJSON([Fixtures.capture("gurux/\(name).pcap")])
        let problems = TruthComparison.compare(truth: truth, output: out)
        #expect(problems.isEmpty, "\(name): \(problems.prefix(8).joined(separator: "\n"))")
    }

    @Test(arguments: protectedCaptures)
    func protectedCaptureDecryptsAndMatchesItsTruth(_ name: String) throws {
        let truth = try readJSONLines(Fixtures.capture("gurux/\(name).truth.jsonl"))
        let (_, out) = try analyseToJSON([Fixtures.capture("gurux/\(name).pcap")]) {
            $0.keyringPaths = [Fixtures.keyring("\(name).json")]
        }
        let problems = TruthComparison.compare(truth: truth, output: out)
        #expect(problems.isEmpty, "\(name): \(problems.prefix(8).joined(separator: "\n"))")
        let verified = out.filter { $0["security"]?["verdict"]?.string == "verified" }
        #expect(verified.count > 2)
    }

    /// wrapper-ded without the dedicated key in the keyring: it is learned from the ciphered InitiateRequest and
    /// every ded-* APDU still verifies.
    @Test func dedicatedKeyIsLearnedFromTheCapture() throws {
        let truth = try readJSONLines(Fixtures.capture("gurux/wrapper-ded.truth.jsonl"))
        let (_, out) = try analyseToJSON([Fixtures.capture("gurux/wrapper-ded.pcap")]) {
            $0.keyringPaths = [Fixtures.keyring("neg-missing-key.json")]
        }
        let keyring = try String(contentsOfFile: Fixtures.keyring("neg-missing-key.json"), encoding: .utf8)
        #expect(!keyring.contains("dedicated"))
        #expect(TruthComparison.compare(truth: truth, output: out).isEmpty)
        let ded = out.filter { $0["security"]?["key"]?.string == "dedicated" }
        #expect(ded.count > 10)
        #expect(ded.allSatisfy { $0["security"]?["verdict"]?.string == "verified" })
        #expect(out.contains { ($0["notes"]?.array ?? []).contains { $0.string?.contains("dedicated key learned") == true } })
    }

    /// The tampered APDU fails authentication and shows no plaintext; the others still verify.
    @Test func tamperedAPDUFailsAuthenticationAndShowsNoPlaintext() throws {
        let (_, out) = try analyseToJSON([Fixtures.capture("gurux/neg-tamper.pcap")]) {
            $0.keyringPaths = [Fixtures.keyring("neg-tamper.json")]
        }
        let failed = out.filter { $0["security"]?["verdict"]?.string == "authentication-failed" }
        #expect(failed.count == 1)
        #expect(failed.first?["plain"] == nil)
        #expect(failed.first?["service"]?["type"]?.string == "glo-get-response")
        #expect(out.filter { $0["security"]?["verdict"]?.string == "verified" }.count > 50)
    }

    /// Without keys every protected APDU says so.
    @Test func withoutKeysTheVerdictIsNoKey() throws {
        let (_, out) = try analyseToJSON([Fixtures.capture("gurux/wrapper-hls-gmac-authenc.pcap")])
        let protected = out.filter { $0["security"] != nil }
        #expect(protected.count > 50)
        #expect(protected.allSatisfy { $0["security"]?["verdict"]?.string == "no-key" && $0["plain"] == nil })
    }

    /// The comparison itself must be able to fail: a wrong invoke id or a missing record is noticed.
    @Test func comparisonDetectsDifferences() throws {
        let truth = try readJSONLines(Fixtures.capture("gurux/wrapper-none.truth.jsonl"))
        var (_, out) = try analyseToJSON([Fixtures.capture("gurux/wrapper-none.pcap")])
        let firstAPDU = try #require(out.firstIndex { $0["kind"]?.string == "apdu" })
        out.remove(at: firstAPDU)
        #expect(!TruthComparison.compare(truth: truth, output: out).isEmpty)
    }
}

enum TruthComparison {
    static func normOBIS(_ s: String?) -> String? {
        guard let s else { return nil }
        let parts = s.split(whereSeparator: { ".-:*".contains($0) }).compactMap { Int($0) }.map(String.init)
        return parts.joined(separator: ".")
    }

    static func compare(truth: [JSONValue], output: [JSONValue]) -> [String] {
        var problems: [String] = []
        let expected = truth.filter {
            $0["kind"]?.string == "apdu"
                || ($0["kind"]?.string == "reassembled" && $0["via"]?.string == "general-block-transfer")
        }
        let blocks = truth.filter {
            $0["kind"]?.string == "reassembled" && $0["via"]?.string != "general-block-transfer"
        }
        let got = output.filter { $0["kind"]?.string == "apdu" }
        if expected.count != got.count {
            problems.append("\(expected.count) APDUs in the truth, \(got.count) in the output")
        }
        for (i, t) in expected.enumerated() {
            guard i < got.count else {
                problems.append("truth #\(t["index"]?.int ?? -1): no output record")
                continue
            }
            let o = got[i]
            let where_ = "truth #\(t["index"]?.int ?? -1)"
            func want(_ field: String, _ e: JSONValue?, _ a: JSONValue?) {
                if let e, !e.isNull, e != (a ?? .null) {
                    problems.append("\(where_) \(field): want \(e) got \(a.map { "\($0)" } ?? "nothing")")
                }
            }
            want("frames", t["frames"], o["frames"])
            want("direction", t["direction"], o["direction"])
            want("apdu.type", t["apdu"], o["apdu"]?["type"])
            let f = t["facts"] ?? .object([])
            let svc = o["service"] ?? .object([])
            want("service.type", f["apdu"], svc["type"])
            want("service.variant", f["type"], svc["variant"])
            want("service.invoke_id", f["invoke_id"], svc["invoke_id"])
            if let cid = f["class_id"] {
                let o0 = svc["objects"]?[0] ?? .object([])
                want("objects[0].class_id", cid, o0["class_id"])
                if normOBIS(f["obis"]?.string) != normOBIS(o0["obis"]?.string) {
                    problems.append("\(where_) obis: want \(f["obis"]?.string ?? "-") got \(o0["obis"]?.string ?? "-")")
                }
                want("objects[0].attribute_id", f["attribute_id"], o0["attribute_id"])
                want("objects[0].method_id", f["method_id"], o0["method_id"])
            }
            if let r = f["result"]?.string, r != "data", r != "raw-data" {
                want("service.result", .string(r), svc["result"])
            }
            if let c = t["ciphered"] {
                let sec = o["security"] ?? .object([])
                let verdict: String
                switch (c["decrypt"]?.string, c["tag_ok"]) {
                case ("ok", .bool(true)?): verdict = "verified"
                case ("ok", _): verdict = "decrypted-unverified"
                case ("tag-mismatch", _): verdict = "authentication-failed"
                default: verdict = "no-key"
                }
                want("security.verdict", .string(verdict), sec["verdict"])
                want("security.invocation_counter", c["invocation_counter"], sec["invocation_counter"])
                if c["system_title"]?.string?.lowercased() != sec["system_title"]?.string?.lowercased() {
                    problems.append("\(where_) security.system_title: want \(c["system_title"].map { "\($0)" } ?? "-")")
                }
                if c["decrypt"]?.string == "ok" {
                    if t["plain_hex"]?.string?.lowercased() != o["plain"]?["hex"]?.string?.lowercased() {
                        problems.append("\(where_) plain.hex differs")
                    }
                } else if o["plain"] != nil {
                    problems.append("\(where_) plaintext shown for an APDU that did not decrypt")
                }
            }
        }
        let joined = Set(output.compactMap { $0["reassembled"]?["hex"]?.string?.lowercased() })
        for b in blocks where !joined.contains(b["data_hex"]?.string?.lowercased() ?? "?") {
            problems.append("truth #\(b["index"]?.int ?? -1): reassembled data (\(b["data_len"]?.int ?? 0) bytes) not found")
        }
        return problems
    }
}
