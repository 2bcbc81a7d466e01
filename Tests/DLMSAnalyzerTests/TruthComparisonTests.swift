import DLMSAnalyzer
import Foundation
import Testing

/// dlmsdump's JSON Lines against the truth files of the Gurux captures (Captures/gurux/*.truth.jsonl, made from
/// the pcap bytes by an independent pipeline and Gurux's translator). Mirrors ../shared/tools/compare.py: every
/// truth APDU must have an output record with the same frames, direction, wire type and service facts, and every
/// reassembled datablock transfer must appear with the same joined bytes.
@Suite struct TruthComparisonTests {
    static let plainCaptures = ["wrapper-none", "wrapper-lls", "hdlc-none"]

    @Test(arguments: plainCaptures)
    func captureMatchesItsTruth(_ name: String) throws {
        let truth = try readJSONLines(Fixtures.capture("gurux/\(name).truth.jsonl"))
        let (_, out) = try analyseToJSON([Fixtures.capture("gurux/\(name).pcap")])
        let problems = TruthComparison.compare(truth: truth, output: out)
        #expect(problems.isEmpty, "\(name): \(problems.prefix(8).joined(separator: "\n"))")
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
        }
        let joined = Set(output.compactMap { $0["reassembled"]?["hex"]?.string?.lowercased() })
        for b in blocks where !joined.contains(b["data_hex"]?.string?.lowercased() ?? "?") {
            problems.append("truth #\(b["index"]?.int ?? -1): reassembled data (\(b["data_len"]?.int ?? 0) bytes) not found")
        }
        return problems
    }
}
