import DLMSAnomaly
import Foundation
import Testing

@Suite struct AuditReportTests {
    @Test func jsonReportParsesAndDescribesMetersClientsAndCounters() throws {
        let tap = try analyseScenario("neg-replay")
        let json = tap.report.writeJSON()
        let root = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(root["kind"] as? String == "audit-report")
        let findings = try #require(root["findings"] as? [String: Any])
        #expect((findings["by_code"] as? [String: Int])?["security.ic-replay"] == 1)
        #expect((findings["by_severity"] as? [String: Int])?["critical"] == 1)
        let meters = try #require(root["meters"] as? [[String: Any]])
        #expect(meters.count == 1)
        let meter = try #require(meters.first)
        #expect(meter["meter"] as? String == "4752580A8310D92A")
        #expect((meter["associations"] as? [String: Int])?["accepted"] == 1)
        #expect(meter["mechanisms"] as? [String] == ["hls-gmac"])
        #expect(meter["application_contexts"] as? [String] == ["LN with ciphering"])
        #expect(meter["security_policies"] as? [String] == ["0 (read)"])
        #expect((meter["apdus_by_verdict"] as? [String: Int])?["verified"] == 88)
        let counters = try #require(meter["invocation_counters"] as? [[String: Any]])
        #expect(counters.count == 2)
        let clientRange = try #require(counters.first { ($0["system_title"] as? String)?.hasPrefix("434C49") == true })
        // The keyring's initial_invocation_counter of the client, 44 client APDUs (the replay counted too).
        #expect(clientRange["min"] as? Int == 16229)
        #expect(clientRange["max"] as? Int == 16272)
        #expect(clientRange["apdus"] as? Int == 44)
        let clients = try #require(root["clients"] as? [[String: Any]])
        #expect(clients.count == 1)
        #expect((clients.first?["client"] as? String)?.hasPrefix("system title 434C49") == true)
        #expect(clients.first?["meters"] as? [String] == ["4752580A8310D92A"])
        let timeline = try #require(root["timeline"] as? [[String: Any]])
        #expect(timeline.count == tap.findings.count)
        #expect(timeline.contains { $0["code"] as? String == "security.ic-replay" && $0["frames"] as? [Int] == [92] })
    }

    @Test func timelineIsBoundedButCountsStayExact() throws {
        var options = AnomalyOptions()
        options.maxReportFindings = 2
        let report = AuditReport(options: options)
        for i in 0..<5 {
            report.add(Finding(code: "tcp.gap", severity: .warning, frames: [i], time: nil, conversation: "-",
                               message: "gap"))
        }
        let root = try #require(try JSONSerialization.jsonObject(with: Data(report.writeJSON().utf8))
            as? [String: Any])
        #expect((root["timeline"] as? [Any])?.count == 2)
        let findings = try #require(root["findings"] as? [String: Any])
        #expect(findings["total"] as? Int == 5)
        #expect(findings["dropped_from_timeline"] as? Int == 3)
    }

    @Test func htmlReportIsWellFormedAndSelfContained() throws {
        let tap = try analyseScenario("neg-tamper")
        let html = tap.report.writeHTML()
        try HTMLCheck.wellFormed(html)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        // Nothing is loaded from anywhere: no scripts, links, images or URLs.
        for needle in ["<script", "<link", "<img", "http://", "https://", "src=", "@import"] {
            #expect(!html.contains(needle), "\(needle)")
        }
        #expect(html.contains("security.auth-failed"))
        #expect(html.contains("4752580A8310D92A"))
        // Text from the capture is escaped.
        let report = AuditReport()
        report.add(Finding(code: "x.y", severity: .info, frames: [1], time: nil, conversation: "<c&\"d\">",
                           message: "<script>alert(1)</script>"))
        let escaped = report.writeHTML()
        try HTMLCheck.wellFormed(escaped)
        #expect(!escaped.contains("<script>"))
        #expect(escaped.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
    }

    /// The page in a real browser: Chromium parses it into the DOM we wrote (every table and timeline row), and
    /// renders it to a PNG. Skipped (with a message) where no Chromium is installed (Debian package `chromium`).
    @Test func htmlReportRendersInAHeadlessBrowser() throws {
        guard let chromium = HTMLCheck.chromium() else {
            print("skipped: no chromium on PATH (apt-get install chromium): the HTML report is not checked in a "
                  + "browser")
            return
        }
        let tap = try analyseScenario("neg-replay")
        let html = tap.report.writeHTML()
        let dir = NSTemporaryDirectory() + "dlmsanomaly-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let page = dir + "/report.html"
        try html.write(toFile: page, atomically: true, encoding: .utf8)
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=" + dir + "/p"]
        let dom = try HTMLCheck.run(chromium, common + ["--dump-dom", "file://" + page])
        #expect(dom.contains("<title>dlmsdump audit report</title>"))
        #expect(dom.contains("security.ic-replay"))
        let rows = dom.components(separatedBy: "<tr class=\"sev-").count - 1
        #expect(rows == tap.findings.count, "timeline rows \(rows), findings \(tap.findings.count)")
        let marks = dom.components(separatedBy: "<span class=\"mark sev-").count - 1
        #expect(marks == tap.findings.count)
        let png = dir + "/report.png"
        _ = try HTMLCheck.run(chromium, common + ["--window-size=1280,2000", "--screenshot=" + png, "file://" + page])
        let size = (try? FileManager.default.attributesOfItem(atPath: png)[.size] as? Int) ?? 0
        #expect(size > 10_000, "screenshot of \(size) bytes")
    }
}

enum HTMLCheck {
    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    static let void: Set<String> = ["meta", "br", "hr", "img", "input", "link", "wbr"]

    /// Every element is closed in order (XHTML-style nesting), attributes are quoted, and no stray `<`/`&`.
    static func wellFormed(_ html: String) throws {
        var stack: [String] = []
        let chars = Array(html.utf8)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == UInt8(ascii: "&") {
                var j = i + 1
                while j < chars.count, j - i < 10, chars[j] != UInt8(ascii: ";") { j += 1 }
                guard j < chars.count, chars[j] == UInt8(ascii: ";") else {
                    throw Malformed(description: "bare & at \(i)")
                }
                i = j + 1
                continue
            }
            guard c == UInt8(ascii: "<") else { i += 1; continue }
            guard let end = chars[i...].firstIndex(of: UInt8(ascii: ">")) else {
                throw Malformed(description: "unclosed tag at \(i)")
            }
            let tag = String(decoding: chars[(i + 1)..<end], as: UTF8.self)
            i = end + 1
            if tag.hasPrefix("!") { continue }
            guard tag.filter({ $0 == "\"" }).count % 2 == 0, !tag.contains("<") else {
                throw Malformed(description: "bad tag <\(tag)>")
            }
            if tag.hasPrefix("/") {
                let name = String(tag.dropFirst())
                guard stack.last == name else {
                    throw Malformed(description: "</\(name)> closes <\(stack.last ?? "nothing")>")
                }
                stack.removeLast()
                continue
            }
            let name = String(tag.prefix { $0 != " " && $0 != "/" })
            if tag.hasSuffix("/") || void.contains(name) { continue }
            stack.append(name)
            if name == "style" {
                // CSS is text: skip to its end tag.
                guard let close = html.range(of: "</style>") else { throw Malformed(description: "open style") }
                i = html.utf8.distance(from: html.startIndex, to: close.lowerBound)
            }
        }
        guard stack.isEmpty else { throw Malformed(description: "unclosed \(stack)") }
    }

    static func chromium() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            for name in ["chromium", "chromium-browser", "google-chrome"] {
                let p = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: p) { return p }
            }
        }
        return nil
    }

    static func run(_ tool: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
