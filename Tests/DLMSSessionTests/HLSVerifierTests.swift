import DLMSAPDU
import DLMSSecurity
import DLMSWire
import Foundation
import Testing
@testable import DLMSSession

/// The HLS exchanges of the Gurux captures (Captures/gurux, gurux-dlms 1.0.203 client and server): each APDU of
/// the truth file goes through the session engine as the analyzer's pipeline sends it, and the checks on the
/// reply_to_HLS_authentication action request (client f(StoC)) and response (server f(CtoS)) must agree with the
/// truth's `association-check` line.
@Suite struct HLSVerifierTests {
    static let hlsCaptures = [
        "wrapper-hls-gmac-authenc", "wrapper-hls-sha256-authenc", "wrapper-suite1-ecdsa", "wrapper-suite2-ecdsa",
        "hdlc-auth-only", "hdlc-gbt-authenc", "wrapper-ded", "wrapper-general-glo", "wrapper-general-ded",
    ]

    struct Seen {
        var frames: [Int]
        var check: HLSCheck
    }

    /// Feeds the truth's APDUs (up to and including `limit` records) and collects the authentication checks.
    static func run(_ name: String, keyring: Keyring, replace: [Int: [UInt8]] = [:], limit: Int = 40) throws
        -> [Seen] {
        var driver = SessionDriver(keyring: keyring)
        var seen: [Seen] = []
        for (i, r) in try SessionFixtures.truthAPDUs(name).prefix(limit).enumerated() {
            guard r["kind"] as? String == "apdu", let h = r["apdu_hex"] as? String, let bytes = Hex.decode(h) else {
                continue
            }
            let step = driver.feed(replace[i] ?? bytes, Direction(truth: r["direction"]))
            if let c = step.observation.hls { seen.append(Seen(frames: r["frames"] as? [Int] ?? [], check: c)) }
        }
        return seen
    }

    @Test(arguments: hlsCaptures)
    func theHLSRepliesOfEachGuruxCaptureVerify(_ name: String) throws {
        let truth = try SessionFixtures.associationCheck(name)
        let seen = try Self.run(name, keyring: try SessionFixtures.guruxKeyring(name))
        let frames = truth["frames"] as? [String: [Int]] ?? [:]
        let client = try #require(seen.first { $0.check.party == "client" })
        let server = try #require(seen.first { $0.check.party == "server" })
        #expect(client.check.mechanism == truth["mechanism"] as? String)
        #expect(server.check.mechanism == truth["mechanism"] as? String)
        #expect(client.check.result == ((truth["client_f_stoc_ok"] as? Bool ?? false) ? "verified" : "failed"),
                "\(client.check.detail ?? "")")
        #expect(server.check.result == ((truth["server_f_ctos_ok"] as? Bool ?? false) ? "verified" : "failed"),
                "\(server.check.detail ?? "")")
        #expect(client.frames == frames["pass3"])
        #expect(server.frames == frames["pass4"])
        #expect(seen.count == 2)
    }

    /// The same exchanges with one byte of each reply altered (fed as the plaintext the truth gives for the
    /// ciphered action): both checks fail.
    @Test(arguments: hlsCaptures)
    func anAlteredReplyFails(_ name: String) throws {
        let records = try SessionFixtures.truthAPDUs(name)
        let frames = try SessionFixtures.associationCheck(name)["frames"] as? [String: [Int]] ?? [:]
        var replace: [Int: [UInt8]] = [:]
        for (i, r) in records.prefix(40).enumerated() {
            // The pass-3 request and pass-4 response, by the frames the truth names.
            guard let f = r["frames"] as? [Int], f == frames["pass3"] || f == frames["pass4"],
                  r["kind"] as? String == "apdu" else { continue }
            let h = (r["plain_hex"] as? String) ?? (r["apdu_hex"] as? String) ?? ""
            guard var plain = Hex.decode(h), !plain.isEmpty else { continue }
            plain[plain.count - 1] ^= 0x01  // the last byte of the reply octet-string
            replace[i] = plain
        }
        #expect(replace.count == 2)
        let seen = try Self.run(name, keyring: try SessionFixtures.guruxKeyring(name), replace: replace)
        #expect(seen.map(\.check.result) == ["failed", "failed"], "\(seen.map(\.check))")
    }

    /// Without the keys the check says so rather than failing.
    @Test func withoutKeysTheResultIsNoKey() throws {
        let seen = try Self.run("wrapper-hls-gmac-authenc", keyring: Keyring())
        // Nothing decrypts either, so the replies stay hidden: no check at all, rather than a false failure.
        #expect(seen.allSatisfy { $0.check.result != "failed" })
        // With only the ciphering keys (no password), SHA-256 HLS cannot be checked.
        let name = "wrapper-hls-sha256-authenc"
        var keyring = try SessionFixtures.guruxKeyring(name)
        for i in keyring.entries.indices { keyring.entries[i].password = nil }
        let checks = try Self.run(name, keyring: keyring).map(\.check)
        #expect(checks.count == 2)
        #expect(checks.allSatisfy { $0.result == "no-key" && $0.mechanism == "hls-sha256" })
    }

    /// LLS: the AARQ's password is compared with the keyring's (wrapper-lls: `password_matches_keyring`).
    @Test func theLLSPasswordMatchesTheKeyring() throws {
        let truth = try SessionFixtures.associationCheck("wrapper-lls")
        #expect(truth["password_matches_keyring"] as? Bool == true)
        var keyring = try SessionFixtures.guruxKeyring("wrapper-lls")
        let seen = try Self.run("wrapper-lls", keyring: keyring, limit: 2)
        #expect(seen.map(\.check) == [HLSCheck(mechanism: "lls", party: "client", result: "verified",
                                               detail: "the password matches the keyring's")])
        for i in keyring.entries.indices { keyring.entries[i].password = SecretKey(Array("00000000".utf8)) }
        #expect(try Self.run("wrapper-lls", keyring: keyring, limit: 2).map(\.check.result) == ["failed"])
    }
}
