import DLMSWire
import Foundation

/// Bytes of a hex literal written in a test (our own constant, never capture data).
func hex(_ s: String) -> [UInt8] {
    guard let b = Hex.decode(s) else { preconditionFailure("bad hex literal in a test: \(s)") }
    return b
}

/// The package root, found from this file's path (Tests/DLMSSecurityTests/TestSupport.swift).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

let guruxCaptures = packageRoot.appendingPathComponent("Captures/gurux")
let vectorsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors")
