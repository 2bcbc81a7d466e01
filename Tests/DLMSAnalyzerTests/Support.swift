import DLMSAnalyzer
import DLMSRender
import Foundation

/// Paths of the package's fixtures.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static func capture(_ relative: String) -> String { root.appendingPathComponent("Captures/" + relative).path }
    static func keyring(_ name: String) -> String { root.appendingPathComponent("Keyring/" + name).path }
    static var schemaText: String {
        (try? String(contentsOf: root.appendingPathComponent("docs/dlmsdump.schema.json"), encoding: .utf8)) ?? ""
    }
}

/// Runs the analyzer on inputs and returns its JSON Lines output, parsed.
func analyseToJSON(_ paths: [String], configure: (inout AnalyzerOptions) -> Void = { _ in }) throws
    -> (lines: [String], records: [JSONValue])
{
    var options = AnalyzerOptions()
    configure(&options)
    let sink = MemorySink()
    let analyzer = try Analyzer(options: options, renderer: JSONLinesRenderer(sink: sink))
    _ = try analyzer.run(paths: paths)
    let lines = sink.string.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    return (lines, try lines.map { try JSONValue.parse($0) })
}

/// Runs the analyzer with the text renderer.
func analyseToText(_ paths: [String], configure: (inout AnalyzerOptions) -> Void = { _ in }) throws -> String {
    var options = AnalyzerOptions()
    configure(&options)
    let sink = MemorySink()
    let analyzer = try Analyzer(options: options, renderer: TextRenderer(sink: sink))
    _ = try analyzer.run(paths: paths)
    return sink.string
}

/// Reads a JSON Lines file.
func readJSONLines(_ path: String) throws -> [JSONValue] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return try text.split(separator: "\n").map { try JSONValue.parse(String($0)) }
}
