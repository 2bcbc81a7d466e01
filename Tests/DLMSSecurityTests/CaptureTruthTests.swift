import DLMSWire
import Foundation
import Testing
@testable import DLMSSecurity

/// Every ciphered APDU of the Gurux captures (Captures/gurux/*.truth.jsonl, produced by gurux-dlms 1.0.203 and
/// decrypted there independently with Python `cryptography`) decrypts to the truth's plaintext with the truth's
/// verdict; and the truth's association checks (HLS passes 3 and 4) verify with `HLS`.
@Suite struct CaptureTruthTests {
    /// One capture: its truth records and its keyring (capgen-keyring/1).
    struct Capture: Sendable, CustomTestStringConvertible {
        let name: String
        let records: [[String: any Sendable]]
        let keyring: [String: any Sendable]
        var testDescription: String { name }

        func key(_ role: String) -> SecretKey? {
            guard let keys = keyring["keys"] as? [String: any Sendable], let h = keys[role] as? String,
                let b = Hex.decode(h)
            else { return nil }
            return SecretKey(b)
        }

        func party(_ p: String) -> [String: any Sendable] { keyring[p] as? [String: any Sendable] ?? [:] }
    }

    static let captures: [Capture] = {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: guruxCaptures.path) else { return [] }
        return names.filter { $0.hasSuffix(".truth.jsonl") }.sorted().compactMap { file in
            let name = String(file.dropLast(".truth.jsonl".count))
            guard let text = try? String(contentsOf: guruxCaptures.appendingPathComponent(file), encoding: .utf8),
                let kdata = try? Data(contentsOf: guruxCaptures.appendingPathComponent(name + ".keyring.json")),
                let keyring = (try? JSONSerialization.jsonObject(with: kdata)) as? [String: any Sendable]
            else { return nil }
            let records = text.split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: any Sendable]
            }
            return Capture(name: name, records: records, keyring: keyring)
        }
    }()

    static var cipheredCaptures: [Capture] {
        captures.filter { c in c.records.contains { Self.ciphered($0) != nil } }
    }

    static func ciphered(_ r: [String: any Sendable]) -> [String: any Sendable]? {
        if let c = r["ciphered"] as? [String: any Sendable] { return c }
        return (r["facts"] as? [String: any Sendable])?["user_information_ciphered"] as? [String: any Sendable]
    }

    // MARK: - Minimal APDU parsing (tests only; DLMSAPDU does the real work)

    /// BER/A-XDR length.
    static func length(_ r: inout ByteReader) -> Int? { r.readAXDRLength() }

    /// SC, IC and payload of a ciphered APDU: glo-/ded- (tag len SC IC payload), general-glo/ded (tag OS(ST) len
    /// SC IC payload), or the ciphered xDLMS-Initiate inside an AARQ/AARE's user-information [30].
    static func protectedParts(_ apdu: [UInt8]) -> (sc: UInt8, ic: UInt32, payload: ArraySlice<UInt8>)? {
        var r = ByteReader(apdu)
        guard let tag = r.readUInt8() else { return nil }
        switch tag {
        case 0x60, 0x61:  // AARQ / AARE: walk the BER elements to user-information (tag BE).
            guard let total = length(&r), total == r.remaining else { return nil }
            while !r.isAtEnd {
                guard let t = r.readUInt8(), let n = length(&r), let body = r.readSlice(n) else { return nil }
                if t == 0xBE {
                    var u = ByteReader(body)
                    guard u.readUInt8() == 0x04, let m = length(&u), let inner = u.readSlice(m) else { return nil }
                    return protectedParts(Array(inner))
                }
            }
            return nil
        case 0xDB, 0xDC:  // general-glo / general-ded: system title first
            guard let stLength = length(&r), r.skip(stLength) else { return nil }
        default:
            break
        }
        guard let n = length(&r), n == r.remaining, let sc = r.readUInt8(), let ic = r.readUInt32() else { return nil }
        return (sc, ic, r.readRest())
    }

    // MARK: - Decryption

    @Test func theCapturesAreThere() {
        #expect(Self.captures.count >= 19)
        #expect(Self.cipheredCaptures.count >= 12)
    }

    @Test(arguments: cipheredCaptures) func everyCipheredAPDUDecryptsToTheTruth(_ capture: Capture) throws {
        let cipher = try #require(DLMSCipher())
        var checked = 0
        for record in capture.records {
            guard let c = Self.ciphered(record) else { continue }
            let index = record["index"] as? Int ?? -1
            let apdu = try #require((record["apdu_hex"] as? String).flatMap(Hex.decode), "record \(index)")
            let parts = try #require(Self.protectedParts(apdu), "record \(index)")
            #expect("0x" + Hex.encode([parts.sc]) == c["security_control"] as? String, "record \(index)")
            #expect(Int(parts.ic) == c["invocation_counter"] as? Int, "record \(index)")
            let st = try #require((c["system_title"] as? String).flatMap(Hex.decode))
            guard let role = c["key"] as? String, let ek = capture.key(role) else {
                #expect(c["decrypt"] as? String == "no-key", "record \(index): a key is missing")
                continue
            }
            let outcome = cipher.unprotect(securityControl: SecurityControl(rawValue: parts.sc), systemTitle: st,
                                           invocationCounter: parts.ic, payload: parts.payload, encryptionKey: ek,
                                           authenticationKey: capture.key("ak"))
            let plainHex = record["plain_hex"] as? String
                ?? (record["facts"] as? [String: any Sendable])?["initiate_plain_hex"] as? String
            switch c["tag_ok"] as? Bool {
            case true?:
                let plain = try #require(plainHex.flatMap(Hex.decode), "record \(index)")
                #expect(outcome == .verified(plain), "record \(index)")
            case false?:
                #expect(outcome == .authenticationFailed, "record \(index)")
            case nil:
                Issue.record("record \(index): encryption-only is not in these captures; extend the test")
            }
            // Without the AK the same bytes still decrypt (unverified) to the same plaintext, even a tampered one
            // (GCTR has no integrity): compare with the truth's plaintext where the tag was good.
            if c["tag_ok"] as? Bool == true, let plain = plainHex.flatMap(Hex.decode) {
                let unverified = cipher.unprotect(securityControl: SecurityControl(rawValue: parts.sc), systemTitle: st,
                                                  invocationCounter: parts.ic, payload: parts.payload,
                                                  encryptionKey: ek, authenticationKey: nil)
                #expect(unverified == .decryptedUnverified(plain, .noAuthenticationKey), "record \(index)")
            }
            checked += 1
        }
        #expect(checked > 0)
    }

    @Test func theTamperedAPDUOfNegTamperIsTheOnlyFailure() throws {
        let capture = try #require(Self.captures.first { $0.name == "neg-tamper" })
        let failures = capture.records.filter { Self.ciphered($0)?["tag_ok"] as? Bool == false }
        #expect(failures.count == 1)
    }

    // MARK: - HLS association checks

    struct Association {
        let clientTitle: [UInt8], serverTitle: [UInt8], ctos: [UInt8], stoc: [UInt8]
        let clientReply: [UInt8], serverReply: [UInt8]
    }

    /// Challenges from the AARQ/AARE facts and the replies from the decrypted reply_to_HLS_authentication
    /// action-request/-response (class 15, method 1).
    static func association(_ capture: Capture) throws -> Association {
        let facts = capture.records.compactMap { $0["facts"] as? [String: any Sendable] }
        let aarq = try #require(facts.first { $0["apdu"] as? String == "aarq" })
        let aare = try #require(facts.first { $0["apdu"] as? String == "aare" })
        func bytes(_ f: [String: any Sendable], _ k: String) throws -> [UInt8] {
            try #require((f[k] as? String).flatMap(Hex.decode), "\(k)")
        }
        let requestIndex = try #require(capture.records.firstIndex { r in
            let f = r["facts"] as? [String: any Sendable]
            return f?["apdu"] as? String == "action-request" && f?["class_id"] as? Int == 15
                && f?["method_id"] as? Int == 1
        })
        let response = try #require(capture.records[(requestIndex + 1)...].first { r in
            (r["facts"] as? [String: any Sendable])?["apdu"] as? String == "action-response"
        })
        let requestPlain = try #require((capture.records[requestIndex]["plain_hex"] as? String).flatMap(Hex.decode))
        let responsePlain = try #require((response["plain_hex"] as? String).flatMap(Hex.decode))
        // action-request-normal: C3 01 invoke, class(2) OBIS(6) method(1), 01 (parameters present), 09 OS
        var q = ByteReader(requestPlain)
        #expect(q.skip(12) && q.readUInt8() == 0x01 && q.readUInt8() == 0x09)
        let ql = q.readAXDRLength()
        let clientReply = try #require(ql.flatMap { q.readSlice($0) })
        // action-response-normal: C7 01 invoke, result 00, 01 (return present), 00 (data), 09 OS
        var s = ByteReader(responsePlain)
        #expect(s.skip(3) && s.readUInt8() == 0x00 && s.readUInt8() == 0x01 && s.readUInt8() == 0x00
                && s.readUInt8() == 0x09)
        let sl = s.readAXDRLength()
        let serverReply = try #require(sl.flatMap { s.readSlice($0) })
        return Association(clientTitle: try bytes(aarq, "calling_ap_title"),
                           serverTitle: try bytes(aare, "responding_ap_title"),
                           ctos: try bytes(aarq, "calling_authentication_value"),
                           stoc: try bytes(aare, "responding_authentication_value"),
                           clientReply: Array(clientReply), serverReply: Array(serverReply))
    }

    static func mechanism(_ c: Capture) -> String? {
        guard let last = c.records.last, last["kind"] as? String == "association-check",
            let check = last["check"] as? [String: any Sendable]
        else { return nil }
        #expect(check["client_f_stoc_ok"] as? Bool != false && check["server_f_ctos_ok"] as? Bool != false)
        return check["mechanism"] as? String
    }

    static func hlsCaptures(_ m: String) -> [Capture] { captures.filter { mechanism($0) == m } }

    @Test(arguments: hlsCaptures("hls-gmac")) func hlsGMACRepliesVerifyLikeTheTruth(_ capture: Capture) throws {
        let a = try Self.association(capture)
        let ek = try #require(capture.key("guek"))
        let ak = try #require(capture.key("ak"))
        #expect(HLS.verifyGMAC(reply: a.clientReply, challenge: a.stoc, systemTitle: a.clientTitle,
                               encryptionKey: ek, authenticationKey: ak))
        #expect(HLS.verifyGMAC(reply: a.serverReply, challenge: a.ctos, systemTitle: a.serverTitle,
                               encryptionKey: ek, authenticationKey: ak))
        // Swapped challenges, a flipped byte, or the other party's title fail.
        #expect(!HLS.verifyGMAC(reply: a.clientReply, challenge: a.ctos, systemTitle: a.clientTitle,
                                encryptionKey: ek, authenticationKey: ak))
        #expect(!HLS.verifyGMAC(reply: a.clientReply, challenge: a.stoc, systemTitle: a.serverTitle,
                                encryptionKey: ek, authenticationKey: ak))
        var bad = a.serverReply
        bad[bad.count - 1] ^= 1
        #expect(!HLS.verifyGMAC(reply: bad, challenge: a.ctos, systemTitle: a.serverTitle, encryptionKey: ek,
                                authenticationKey: ak))
    }

    @Test(arguments: hlsCaptures("hls-sha256")) func hlsSHA256RepliesVerifyLikeTheTruth(_ capture: Capture) throws {
        let a = try Self.association(capture)
        let secret = Array(try #require(capture.keyring["password"] as? String).utf8)
        #expect(HLS.verifySHA256(reply: a.clientReply, secret: secret, signerSystemTitle: a.clientTitle,
                                 peerSystemTitle: a.serverTitle, peerChallenge: a.stoc, signerChallenge: a.ctos))
        #expect(HLS.verifySHA256(reply: a.serverReply, secret: secret, signerSystemTitle: a.serverTitle,
                                 peerSystemTitle: a.clientTitle, peerChallenge: a.ctos, signerChallenge: a.stoc))
        #expect(!HLS.verifySHA256(reply: a.clientReply, secret: secret + [0x30], signerSystemTitle: a.clientTitle,
                                  peerSystemTitle: a.serverTitle, peerChallenge: a.stoc, signerChallenge: a.ctos))
        #expect(!HLS.verifySHA256(reply: a.clientReply, secret: secret, signerSystemTitle: a.serverTitle,
                                  peerSystemTitle: a.clientTitle, peerChallenge: a.stoc, signerChallenge: a.ctos))
    }

    @Test func theHLSCapturesCoverEveryMechanism() {
        #expect(Self.hlsCaptures("hls-gmac").count >= 5)
        #expect(Self.hlsCaptures("hls-sha256").count == 1)
        #expect(Self.hlsCaptures("hls-ecdsa").count == 2)
    }

    @Test(arguments: hlsCaptures("hls-ecdsa")) func hlsECDSARepliesVerifyLikeTheTruth(_ capture: Capture) throws {
        let a = try Self.association(capture)
        let clientKey = try #require((capture.party("client")["signing_public_key_pem"] as? String)
            .flatMap { ECPublicKey(pem: $0) })
        let serverKey = try #require((capture.party("server")["signing_public_key_pem"] as? String)
            .flatMap { ECPublicKey(text: $0) })
        #expect(a.clientReply.count == clientKey.curve.signatureLength)
        #expect(HLS.verifyECDSA(reply: a.clientReply, publicKey: clientKey, signerSystemTitle: a.clientTitle,
                                peerSystemTitle: a.serverTitle, peerChallenge: a.stoc, signerChallenge: a.ctos))
        #expect(HLS.verifyECDSA(reply: a.serverReply, publicKey: serverKey, signerSystemTitle: a.serverTitle,
                                peerSystemTitle: a.clientTitle, peerChallenge: a.ctos, signerChallenge: a.stoc))
        #expect(!HLS.verifyECDSA(reply: a.clientReply, publicKey: serverKey, signerSystemTitle: a.clientTitle,
                                 peerSystemTitle: a.serverTitle, peerChallenge: a.stoc, signerChallenge: a.ctos))
        #expect(!HLS.verifyECDSA(reply: a.serverReply, publicKey: serverKey, signerSystemTitle: a.serverTitle,
                                 peerSystemTitle: a.clientTitle, peerChallenge: a.stoc, signerChallenge: a.ctos))
        // Our own reply with the capture's private key verifies with the public key.
        let clientPrivate = try #require((capture.party("client")["signing_private_key_raw"] as? String)
            .flatMap { ECPrivateKey(text: $0) })
        let ours = try #require(HLS.ecdsaReply(privateKey: clientPrivate, signerSystemTitle: a.clientTitle,
                                               peerSystemTitle: a.serverTitle, peerChallenge: a.stoc,
                                               signerChallenge: a.ctos))
        #expect(HLS.verifyECDSA(reply: ours, publicKey: clientKey, signerSystemTitle: a.clientTitle,
                                peerSystemTitle: a.serverTitle, peerChallenge: a.stoc, signerChallenge: a.ctos))
    }

    // Green Book Table 43 (HLS mechanism 5 with GMAC), quoted in a Unity test of a C DLMS stack (aes128gcm test
    // "GreenBookHlsMechanism5Vector") and jDLMS GcmCipherModTest (testA).
    @Test func greenBookTable43GMACRepliesVerify() {
        let ek = SecretKey(hex("000102030405060708090A0B0C0D0E0F"))
        let ak = SecretKey(hex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"))
        let ctos = Array("K56iVagY".utf8), stoc = Array("P6wRJ21F".utf8)
        #expect(ctos == hex("4B35366956616759") && stoc == hex("503677524A323146"))
        let clientReply = hex("10000000011A52FE7DD3E72748973C1E28")
        let serverReply = hex("1001234567FE1466AFB3DBCD4F9389E2B7")
        #expect(HLS.gmacReply(securityControl: 0x10, invocationCounter: 1, challenge: stoc,
                              systemTitle: hex("4D4D4D0000000001"), encryptionKey: ek, authenticationKey: ak)
                == clientReply)
        #expect(HLS.verifyGMAC(reply: clientReply, challenge: stoc, systemTitle: hex("4D4D4D0000000001"),
                               encryptionKey: ek, authenticationKey: ak))
        #expect(HLS.verifyGMAC(reply: serverReply, challenge: ctos, systemTitle: hex("4D4D4D0000BC614E"),
                               encryptionKey: ek, authenticationKey: ak))
        #expect(!HLS.verifyGMAC(reply: serverReply.dropLast(), challenge: ctos, systemTitle: hex("4D4D4D0000BC614E"),
                                encryptionKey: ek, authenticationKey: ak))
        #expect(!HLS.verifyGMAC(reply: serverReply, challenge: ctos, systemTitle: hex("4D4D4D0000BC61"),
                                encryptionKey: ek, authenticationKey: ak))
    }

    // Mechanisms 3 and 4: expected values from Python hashlib (md5/sha1 of StoC ‖ secret), StoC of Table 43.
    @Test func legacyDigestRepliesAreTheDigestOfChallengeThenSecret() {
        let stoc = Array("P6wRJ21F".utf8), secret = Array("12345678".utf8)
        #expect(HLS.legacyDigestReply(.md5, challenge: stoc, secret: secret) == hex("53d4537e37dab4ff089629e25557af9f"))
        #expect(HLS.legacyDigestReply(.sha1, challenge: stoc, secret: secret)
                == hex("6dbd949d1b1efdd6fe5f9ea627877e986e8708cb"))
        #expect(HLS.verifyLegacyDigest(.sha1, reply: hex("6dbd949d1b1efdd6fe5f9ea627877e986e8708cb"), challenge: stoc,
                                       secret: secret))
        #expect(!HLS.verifyLegacyDigest(.sha1, reply: hex("6dbd949d1b1efdd6fe5f9ea627877e986e8708cb"), challenge: secret,
                                        secret: stoc))
        #expect(!HLS.verifyLegacyDigest(.md5, reply: [], challenge: stoc, secret: secret))
    }
}
