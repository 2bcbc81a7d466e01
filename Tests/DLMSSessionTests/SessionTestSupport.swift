import DLMSAPDU
import DLMSSecurity
import DLMSWire
import Foundation
@testable import DLMSSession

/// Bytes of a hex literal written in a test (our own constant; capture bytes come through `Hex.decode` checks).
func hex(_ s: String) -> [UInt8] {
    guard let b = Hex.decode(s) else { preconditionFailure("bad hex literal in a test: \(s)") }
    return b
}

/// Paths of the package's fixtures, from this file's path (Tests/DLMSSessionTests/SessionTestSupport.swift).
enum SessionFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let vectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors")
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// The keyring of a Gurux capture in its capgen form (it holds the password, the HLS secret).
    static func guruxKeyring(_ name: String) throws -> Keyring {
        try Keyring.load(path: path("Captures/gurux/\(name).keyring.json"))
    }

    /// The `kind: apdu` / `reassembled` records of a Gurux truth file, in capture order.
    static func truthAPDUs(_ name: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: path("Captures/gurux/\(name).truth.jsonl"), encoding: .utf8)
        var out: [[String: Any]] = []
        for line in text.split(separator: "\n") {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            if let k = o["kind"] as? String, k == "apdu" || k == "reassembled" { out.append(o) }
        }
        return out
    }

    /// The last line of a truth file (`kind: association-check`): what the HLS exchange should give.
    static func associationCheck(_ name: String) throws -> [String: Any] {
        let text = try String(contentsOfFile: path("Captures/gurux/\(name).truth.jsonl"), encoding: .utf8)
        guard let last = text.split(separator: "\n").last,
              let o = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any],
              o["kind"] as? String == "association-check", let check = o["check"] as? [String: Any]
        else { return [:] }
        return check
    }
}

/// What the analyzer's pipeline does with one APDU, for the security side only (Pipeline.buildRecord): system
/// titles from AARQ/AARE, `unprotect`, the innermost service, `observe`, release at RLRQ/RLRE.
struct SessionDriver {
    let engine: SecurityEngine
    var association = AssociationSecurity()

    init(keyring: Keyring) { engine = SecurityEngine(keyring: keyring) }

    struct Step {
        var decoded: DecodedAPDU
        var security: SecurityResult?
        var service: ServiceFacts
        var observation: SecurityObservation
    }

    mutating func feed(_ bytes: [UInt8], _ direction: Direction?) -> Step {
        let decoded = APDUDecoder.decode(bytes[...])
        if let a = decoded.facts.association {
            if decoded.type == "aarq" {
                association.release()
                if let st = a.callingAPTitle, st.count == 8 { association.clientSystemTitle = st }
            }
            if decoded.type == "aare", let st = a.respondingAPTitle, st.count == 8 {
                association.serverSystemTitle = st
            }
        }
        var service = decoded.facts
        var security: SecurityResult?
        if let p = decoded.facts.protection {
            let s = engine.unprotect(p, direction: direction, association: &association)
            security = s
            if !["aarq", "aare", "rlrq", "rlre"].contains(decoded.type), s.verdict != "authentication-failed" {
                var layer: SecurityResult? = s
                while let l = layer {
                    if let pd = l.plainDecoded, l.verdict != "authentication-failed" { service = pd.facts }
                    layer = l.inner.first
                }
            }
        }
        let o = engine.observe(apduType: decoded.type, service: service, direction: direction,
                               association: &association)
        if decoded.type == "rlrq" || decoded.type == "rlre" { association.release() }
        return Step(decoded: decoded, security: security, service: service, observation: o)
    }
}

extension Direction {
    init?(truth: Any?) {
        switch truth as? String {
        case "client->server": self = .clientToServer
        case "server->client": self = .serverToClient
        default: return nil
        }
    }
}
