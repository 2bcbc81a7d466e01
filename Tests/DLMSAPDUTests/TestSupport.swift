import DLMSWire
import Foundation
import Testing
@testable import DLMSAPDU

/// Hex literal → bytes (test-only; `Hex.decode` is strict, so a typo fails the test instead of decoding garbage).
func hex(_ text: String) -> [UInt8] {
    Hex.decode(text) ?? []
}

func decode(_ text: String, showSecrets: Bool = false) -> DecodedAPDU {
    APDUDecoder.decode(hex(text)[...], options: DecodeOptions(showSecrets: showSecrets))
}

/// The package's `Captures/` folder, found from this file's path.
let capturesURL: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Captures")

/// Every record of every `Captures/gurux/*.truth.jsonl`, with its file name.
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

/// A node found by a path of child names (`["cosem_attribute_descriptor", "class_id"]`).
func node(_ fields: [Node], _ path: String...) -> Node? {
    var level = fields
    var found: Node?
    for name in path {
        guard let n = level.first(where: { $0.name == name }) else { return nil }
        found = n
        level = n.children
    }
    return found
}

func stringValue(_ n: Node?) -> String? {
    if case .string(let s)? = n?.value { return s }
    return nil
}

func uintValue(_ n: Node?) -> UInt64? {
    switch n?.value {
    case .uint(let v)?: return v
    case .int(let v)?: return UInt64(exactly: v)
    default: return nil
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a seeded generator so every fuzz failure reproduces.
struct SplitMix64: RandomNumberGenerator {
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

/// True when any node of the tree shows `secret`: as raw bytes, as text, or as hex (any case) in a value or meaning.
func treeShows(_ fields: [Node], secret: [UInt8]) -> Bool {
    let hexForm = Hex.encode(secret)
    let text = String(decoding: secret, as: UTF8.self)
    func inString(_ s: String) -> Bool { s.lowercased().contains(hexForm) || s.contains(text) }
    var stack = fields
    while let n = stack.popLast() {
        switch n.value {
        case .bytes(let b):
            if b.count >= secret.count,
               (0...(b.count - secret.count)).contains(where: { b.dropFirst($0).prefix(secret.count).elementsEqual(secret) }) {
                return true
            }
        case .string(let s): if inString(s) { return true }
        default: break
        }
        if let m = n.meaning, inString(m) { return true }
        stack.append(contentsOf: n.children)
    }
    return false
}
