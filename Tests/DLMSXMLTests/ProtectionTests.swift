import DLMSSecurity
import DLMSWire
import Foundation
import Testing
@testable import DLMSXML

/// `Protection.protect` reproduces Gurux's ciphered APDUs byte for byte from their plaintext, and what it
/// produces decrypts and verifies with `DLMSCipher.unprotect` (and with Python `cryptography`:
/// Vectors/protect-crosscheck.py and its committed output).
@Suite struct ProtectionTests {
    static func keyring(_ truthFile: String) throws -> [String: Any] {
        let name = truthFile.replacingOccurrences(of: ".truth.jsonl", with: ".keyring.json")
        let data = try Data(contentsOf: capturesURL.appendingPathComponent("gurux/\(name)"))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    static func key(_ ring: [String: Any], _ name: String) -> SecretKey? {
        ((ring["keys"] as? [String: Any])?[name] as? String).flatMap(Hex.decode).map(SecretKey.init)
    }

    @Test func protectingGuruxPlaintextGivesGuruxCiphertextExactly() throws {
        var checked = 0
        var kinds: Set<Protection.Kind> = []
        var rings: [String: [String: Any]] = [:]
        for (file, r) in try truthRecords() {
            guard r["kind"] as? String == "apdu", let c = r["ciphered"] as? [String: Any],
                c["decrypt"] as? String == "ok", c["tag_ok"] as? Bool == true,
                let wireHex = r["apdu_hex"] as? String, let plainHex = r["plain_hex"] as? String,
                let scText = c["security_control"] as? String, let sc = UInt8(scText.dropFirst(2), radix: 16),
                let ic = c["invocation_counter"] as? Int, let st = (c["system_title"] as? String).flatMap(Hex.decode)
            else { continue }
            let wire = hex(wireHex)
            let kind: Protection.Kind
            switch wire.first ?? 0 {
            case 0xC8...0xCF, 0x21...0x2E: kind = .glo
            case 0xD0...0xD7, 0x41...0x4E: kind = .ded
            case 0xDB: kind = .generalGlo
            case 0xDC: kind = .generalDed
            default: continue
            }
            if rings[file] == nil { rings[file] = try Self.keyring(file) }
            let ring = rings[file] ?? [:]
            let keys = Protection.Keys(
                encryptionKey: Self.key(ring, c["key"] as? String == "dedicated" ? "dedicated" : "guek"),
                authenticationKey: Self.key(ring, "ak"))
            let out = try Protection.protect(apdu: hex(plainHex), kind: kind, securityControl: sc,
                                             invocationCounter: UInt32(ic), systemTitle: st, keys: keys)
            #expect(out == wire, "\(file) #\(r["index"] ?? "?")")
            checked += 1
            kinds.insert(kind)
        }
        #expect(checked > 500)
        #expect(kinds == [.glo, .ded, .generalGlo, .generalDed])
    }

    static let ek = SecretKey(hex("000102030405060708090A0B0C0D0E0F"))
    static let ak = SecretKey(hex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"))
    static let st = hex("4D4D4D0000BC614E")

    @Test(arguments: [0x30, 0x10, 0x20, 0x31] as [UInt8])
    func protectedOutputUnprotectsWithDLMSCipher(sc: UInt8) throws {
        let plain = hex("C001C100080000010000FF0200")
        let keys = Protection.Keys(encryptionKey: Self.ek, authenticationKey: Self.ak)
        let out = try Protection.protect(apdu: plain, kind: .generalGlo, securityControl: sc, invocationCounter: 7,
                                         systemTitle: Self.st, keys: keys)
        // DB 08 ST len SC IC payload
        #expect(out.prefix(10) == [0xDB, 0x08] + Self.st[...])
        let payload = out.dropFirst(10 + 1 + 5)
        let outcome = DLMSCipher.unprotect(
            securityControl: SecurityControl(rawValue: sc), systemTitle: Self.st, invocationCounter: 7,
            payload: payload, encryptionKey: Self.ek, authenticationKey: Self.ak)
        #expect(outcome.plaintext == plain)
        if sc & 0x10 != 0 { #expect(outcome == .verified(plain)) }
    }

    @Test func serviceTagsFollowTheGreenBookOffsets() {
        #expect(Protection.serviceCipheredTag(for: 0xC0, dedicated: false) == 0xC8)
        #expect(Protection.serviceCipheredTag(for: 0xC7, dedicated: true) == 0xD7)
        #expect(Protection.serviceCipheredTag(for: 0x01, dedicated: false) == 0x21)
        #expect(Protection.serviceCipheredTag(for: 0x08, dedicated: true) == 0x48)
        #expect(Protection.serviceCipheredTag(for: 0xE0, dedicated: false) == nil)
    }

    @Test func missingKeysAndBadSystemTitlesAreErrorsNotCrashes() {
        let plain = hex("C001C100080000010000FF0200")
        #expect(throws: Protection.ProtectError.self) {
            try Protection.protect(apdu: plain, kind: .glo, securityControl: 0x30, invocationCounter: 1,
                                   systemTitle: Self.st, keys: .init(encryptionKey: Self.ek))
        }
        #expect(throws: Protection.ProtectError.self) {
            try Protection.protect(apdu: plain, kind: .glo, securityControl: 0x30, invocationCounter: 1,
                                   systemTitle: [1, 2, 3], keys: .init(encryptionKey: Self.ek, authenticationKey: Self.ak))
        }
        #expect(throws: Protection.ProtectError.self) {
            try Protection.protect(apdu: hex("E0"), kind: .glo, securityControl: 0x30, invocationCounter: 1,
                                   systemTitle: Self.st, keys: .init(encryptionKey: Self.ek, authenticationKey: Self.ak))
        }
        #expect(throws: Protection.ProtectError.self) {
            try Protection.protect(apdu: plain, kind: .generalSigning, securityControl: 0, invocationCounter: 1,
                                   systemTitle: Self.st, keys: .init())
        }
    }

    @Test func generalSigningVerifiesWithTheSignersPublicKeyAndDecodesAsXML() throws {
        let file = "wrapper-suite1-ecdsa.truth.jsonl"
        let ring = try Self.keyring(file)
        let client = try #require(ring["client"] as? [String: Any])
        let pem = try #require(client["signing_private_key_pem"] as? String)
        let key = try #require(ECPrivateKey(pem: pem))
        let inner = try Protection.protect(apdu: hex("C001C100080000010000FF0200"), kind: .glo, securityControl: 0x31,
                                           invocationCounter: 9, systemTitle: Self.st,
                                           keys: .init(encryptionKey: Self.ek, authenticationKey: Self.ak))
        let signed = try Protection.protect(apdu: inner, kind: .generalSigning, securityControl: 0,
                                            invocationCounter: 0, systemTitle: Self.st,
                                            keys: .init(signingKey: key), recipientSystemTitle: hex("4142434445464748"),
                                            transactionID: hex("0000000000000001"))
        let e = XMLTranslator.apduToElement(signed[...])
        let gs = try #require(e.child("general-signing"))
        #expect(gs.child("content")?.text == Hex.encode(inner, uppercase: true))
        let signature = hex(try #require(gs.child("signature")?.text))
        #expect(signature.count == 64)
        let message = Protection.signedData(content: inner, originator: Self.st, recipient: hex("4142434445464748"),
                                            transactionID: hex("0000000000000001"), dateTime: [], otherInformation: [])
        #expect(ECDSA.verify(signature: signature, message: message, publicKey: key.publicKey))
        #expect(!ECDSA.verify(signature: signature, message: message + [0], publicKey: key.publicKey))
        #expect(try XMLEncoder.encode(xml: e.xmlString()) == signed)
    }
}

/// The vectors Python `cryptography` checked (Vectors/protect-crosscheck.py → protect-crosscheck.out) are still
/// what `Protection.protect` produces, so the independent check stays about this code.
@Suite struct ProtectionCrossCheckTests {
    static let vectors = packageURL.appendingPathComponent("Tests/DLMSXMLTests/Vectors")

    @Test func committedVectorsAreReproducedAndVerifiedByTheIndependentCheck() throws {
        let text = try String(contentsOf: Self.vectors.appendingPathComponent("protect-vectors.txt"), encoding: .utf8)
        var n = 0
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let f = line.split(separator: " ").map(String.init)
            n += 1
            if f[0] == "cipher" {
                let kind = try #require(Protection.Kind(rawValue: f[1]))
                let sc = try #require(UInt8(f[2], radix: 16))
                let ic = try #require(UInt32(f[3]))
                let (st, ek, ak, plain, out) = (hex(f[4]), hex(f[5]), hex(f[6]), hex(f[7]), hex(f[8]))
                let again = try Protection.protect(apdu: plain, kind: kind, securityControl: sc, invocationCounter: ic,
                                                   systemTitle: st, keys: .init(encryptionKey: SecretKey(ek),
                                                                                authenticationKey: SecretKey(ak)))
                #expect(again == out, "\(line.prefix(40))")
                let payload = out.suffix(out.count - (kind == .glo || kind == .ded ? 2 : 11))  // tag, [08 ST,] length (< 128 here)
                let outcome = DLMSCipher.unprotect(securityControl: SecurityControl(rawValue: sc), systemTitle: st,
                                                   invocationCounter: ic, payload: payload.dropFirst(5),
                                                   encryptionKey: SecretKey(ek), authenticationKey: SecretKey(ak))
                #expect(outcome.plaintext == plain, "\(line.prefix(40))")
                #expect(try XMLEncoder.encode(xml: XMLTranslator.apduToXML(out[...])) == out)
            } else {
                let curve = try #require(ECCurve(rawValue: f[1]))
                let pub = try #require(ECPublicKey(point: hex(f[2])))
                #expect(pub.curve == curve)
                let out = hex(f[7])
                let gs = try #require(XMLTranslator.apduToElement(out[...]).child("general-signing"))
                let signature = hex(try #require(gs.child("signature")?.text))
                let message = Protection.signedData(content: hex(f[6]), originator: hex(f[3]), recipient: hex(f[4]),
                                                    transactionID: hex(f[5]), dateTime: [], otherInformation: [])
                #expect(ECDSA.verify(signature: signature, message: message, publicKey: pub))
            }
        }
        let report = try String(contentsOf: Self.vectors.appendingPathComponent("protect-crosscheck.out"), encoding: .utf8)
        #expect(report.contains("\(n) vectors verified, 0 failed"))
        #expect(n > 60)
    }
}
