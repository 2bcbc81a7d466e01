import DLMSAPDU
import DLMSSecurity
import DLMSWire
import Foundation
import Testing
@testable import DLMSSession

/// Security setup key_transfer (class 64 method 2) learned from the traffic: Vectors/vectors.json `key_transfer`
/// (Python `cryptography`, RFC 3394 wrap under the KEK) holds the ACTION request carrying a new GUEK, its response,
/// and a glo-get-request protected with the new GUEK.
@Suite struct KeyTransferTests {
    struct Exchange {
        var request: [UInt8]
        var response: [UInt8]
        var after: [UInt8]
        var plain: [UInt8]
        var client: [UInt8]
        var server: [UInt8]
    }

    static func exchange() throws -> Exchange {
        let data = try Data(contentsOf: SessionFixtures.vectors.appendingPathComponent("vectors.json"))
        let top = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let kt = try #require(top["key_transfer"] as? [String: String])
        func b(_ k: String) throws -> [UInt8] { try #require(kt[k].flatMap(Hex.decode)) }
        return Exchange(request: try b("request"), response: try b("response"), after: try b("after"),
                        plain: try b("plain"), client: try b("client_system_title"),
                        server: try b("server_system_title"))
    }

    static func driver(_ keyring: Keyring, _ x: Exchange) -> SessionDriver {
        var d = SessionDriver(keyring: keyring)
        d.association.clientSystemTitle = x.client
        d.association.serverSystemTitle = x.server
        return d
    }

    @Test func theNewGUEKAppliesAfterTheResponse() throws {
        let x = try Self.exchange()
        var d = Self.driver(try ProtectionVector.keyring(), x)
        // Before the transfer the keyring's GUEK does not open the APDU made with the new one.
        var probe = Self.driver(try ProtectionVector.keyring(), x)
        #expect(probe.feed(x.after, .clientToServer).security?.verdict == "authentication-failed")

        let req = d.feed(x.request, .clientToServer)
        #expect(req.service.objects.first?.classID == 64)
        let learned = req.observation.notes.joined(separator: "\n")
        #expect(learned.contains("new guek for system title \(Hex.encode(x.server, uppercase: true)) learned"))
        #expect(d.association.transferredKeys.isEmpty)  // not before the response
        let resp = d.feed(x.response, .serverToClient)
        #expect(resp.observation.notes.contains { $0.contains("new guek in use") })
        #expect(d.association.transferredKeys[.guek] != nil)

        let after = d.feed(x.after, .clientToServer)
        let s = try #require(after.security)
        #expect(s.verdict == "verified")
        #expect(s.key == "guek")
        #expect(s.detail?.contains("key_transfer") == true)
        #expect(s.plain == x.plain)

        // Notes name the role and system title, never the key.
        let newKey = try #require(d.association.transferredKeys[.guek])
        for n in req.observation.notes + resp.observation.notes {
            #expect(!n.lowercased().contains(Hex.encode(newKey.bytes)))
        }
    }

    /// A response the capture never shows: the transferred key is still tried, last.
    @Test func aMissingResponseStillLetsTheNewKeyBeTried() throws {
        let x = try Self.exchange()
        var d = Self.driver(try ProtectionVector.keyring(), x)
        _ = d.feed(x.request, .clientToServer)
        let s = try #require(d.feed(x.after, .clientToServer).security)
        #expect(s.verdict == "verified")
        #expect(s.detail?.contains("response not seen") == true)
    }

    /// A refused key_transfer changes nothing.
    @Test func aRefusedTransferIsNotApplied() throws {
        let x = try Self.exchange()
        var d = Self.driver(try ProtectionVector.keyring(), x)
        _ = d.feed(x.request, .clientToServer)
        // Action-Response-Normal, invoke-id 1, result 3 (read-write-denied).
        let resp = d.feed(hex("C701410300"), .serverToClient)
        #expect(resp.observation.notes.contains { $0.contains("refused") })
        #expect(d.association.transferredKeys.isEmpty)
        #expect(d.association.pendingTransfer.isEmpty)
    }

    /// Without the KEK the transfer is noted, nothing is learned.
    @Test func withoutAKEKNothingIsLearned() throws {
        let x = try Self.exchange()
        var keyring = try ProtectionVector.keyring()
        for i in keyring.entries.indices { keyring.entries[i].kek = nil }
        var d = Self.driver(keyring, x)
        let req = d.feed(x.request, .clientToServer)
        #expect(req.observation.notes.contains { $0.contains("no kek") })
        _ = d.feed(x.response, .serverToClient)
        #expect(d.association.transferredKeys.isEmpty)
    }

    /// security_activate (method 1) is noted.
    @Test func securityActivateIsNoted() throws {
        let x = try Self.exchange()
        var d = Self.driver(try ProtectionVector.keyring(), x)
        // Action-Request-Normal, Security setup 0.0.43.0.0.255 method 1, enum 3 (authenticated and encrypted).
        let step = d.feed(hex("C3014100400000 2B0000FF01011603".replacingOccurrences(of: " ", with: "")),
                          .clientToServer)
        #expect(step.observation.notes.contains { $0.hasPrefix("security_activate requested with security_policy 3") })
    }
}
