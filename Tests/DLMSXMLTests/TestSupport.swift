import DLMSWire
import Foundation
import Testing
@testable import DLMSXML

/// Hex literal → bytes (strict: a typo gives an empty array and fails the test).
func hex(_ text: String) -> [UInt8] { Hex.decode(text) ?? [] }

/// The package root, found from this file's path.
let packageURL: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

let capturesURL = packageURL.appendingPathComponent("Captures")

/// Every record of every `Captures/gurux/*.truth.jsonl` (Gurux 1.0.203 traffic and translator output), with its
/// file name.
func truthRecords() throws -> [(file: String, record: [String: Any])] {
    let dir = capturesURL.appendingPathComponent("gurux")
    let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        .filter { $0.hasSuffix(".truth.jsonl") }.sorted()
    var out: [(String, [String: Any])] = []
    for name in names {
        let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
        for line in text.split(separator: "\n") where !line.isEmpty {
            if let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] {
                out.append((name, obj))
            }
        }
    }
    return out
}

/// The APDUs of the peer captures (Captures/peers: Gurux, EPRI and other stacks' traffic from public repositories),
/// as listed by the APDU module's vector file: `capture flow hex`.
func peerAPDUs() throws -> [(source: String, bytes: [UInt8])] {
    let url = packageURL.appendingPathComponent("Tests/DLMSAPDUTests/Vectors/peer-apdus.txt")
    let text = try String(contentsOf: url, encoding: .utf8)
    var out: [(String, [UInt8])] = []
    for line in text.split(separator: "\n") {
        let parts = line.split(separator: " ")
        guard parts.count == 3, let b = Hex.decode(String(parts[2])) else { continue }
        out.append(("\(parts[0]) \(parts[1])", b))
    }
    return out
}

// MARK: - compare-xml.py's normalisation, ported

/// A tree as `../shared/tools/compare-xml.py` compares it: local names, text stripped and upper-cased, comments and
/// attributes ignored, the text under calling-authentication-value ignored.
struct NormalTree: Equatable, CustomStringConvertible {
    var name: String
    var text: String
    var children: [NormalTree]

    init(_ e: XElement, secret: Bool = false) {
        let s = secret || e.name == "calling-authentication-value"
        name = e.name
        text = s ? "" : e.text.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        children = e.children.map { NormalTree($0, secret: s) }
    }

    var description: String { "\(name)(\(text.prefix(30)))[\(children.map(\.description).joined(separator: ","))]" }

    /// The path of the first difference, as compare-xml.py's `first_diff` reports it.
    func firstDifference(_ other: NormalTree, path: String = "") -> String? {
        if name != other.name { return "\(path)/\(name): element is \(other.name)" }
        let p = path + "/" + name
        if text != other.text { return "\(p): text \(other.text.prefix(40)) != \(text.prefix(40))" }
        for i in 0..<max(children.count, other.children.count) {
            guard i < children.count else { return "\(p): child \(i) extra \(other.children[i].name)" }
            guard i < other.children.count else { return "\(p): child \(i) missing" }
            if let d = children[i].firstDifference(other.children[i], path: p) { return d }
        }
        return nil
    }
}
