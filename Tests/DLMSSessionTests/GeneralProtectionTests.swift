import DLMSAPDU
import DLMSSecurity
import DLMSWire
import Foundation
import Testing
@testable import DLMSSession

/// The vectors of Vectors/vectors.json: general-ciphering with identified, wrapped and agreed keys (suites 1 and
/// 2), broadcast glo-ciphering and general-signing, built by Vectors/make_vectors.py with Python `cryptography`
/// following IEC 62056-5-3 (security-layouts.md §2–6). No peer at hand produces these kinds.
struct ProtectionVector: Sendable, CustomTestStringConvertible {
    var name: String
    var apdu: [UInt8]
    var plain: [UInt8]
    var key: String
    var verdict: String
    var layout: String?
    var innerPlain: [UInt8]?
    var innerKey: String?
    var testDescription: String { name }

    static let all: [ProtectionVector] = {
        guard let data = try? Data(contentsOf: SessionFixtures.vectors.appendingPathComponent("vectors.json")),
              let top = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let list = top["vectors"] as? [[String: Any]]
        else { return [] }
        return list.compactMap { v in
            guard let name = v["name"] as? String, let a = v["apdu"] as? String, let apdu = Hex.decode(a),
                  let p = v["plain"] as? String, let plain = Hex.decode(p), let key = v["key"] as? String,
                  let verdict = v["verdict"] as? String
            else { return nil }
            return ProtectionVector(name: name, apdu: apdu, plain: plain, key: key, verdict: verdict,
                                    layout: v["layout"] as? String,
                                    innerPlain: (v["inner_plain"] as? String).flatMap(Hex.decode),
                                    innerKey: v["inner_key"] as? String)
        }
    }()

    static func keyring() throws -> Keyring {
        let data = try Data(contentsOf: SessionFixtures.vectors.appendingPathComponent("keyring.json"))
        return try Keyring.parse(data, source: "Vectors/keyring.json")
    }
}

@Suite struct GeneralProtectionTests {
    func unprotect(_ bytes: [UInt8], keyring: Keyring) throws -> SecurityResult {
        let decoded = APDUDecoder.decode(bytes[...])
        let p = try #require(decoded.facts.protection, "\(decoded.type) carries no protection: \(decoded.errors)")
        var association = AssociationSecurity()
        return SecurityEngine(keyring: keyring).unprotect(p, direction: .clientToServer, association: &association)
    }

    @Test func theVectorsAreThere() {
        #expect(ProtectionVector.all.count >= 13)
    }

    /// Every vector opens with the keyring, with the verdict, key role and AAD layout it was built for.
    @Test(arguments: ProtectionVector.all)
    func eachVectorDecryptsAndVerifiesWithTheKeyring(_ v: ProtectionVector) throws {
        let r = try unprotect(v.apdu, keyring: try ProtectionVector.keyring())
        #expect(r.verdict == v.verdict, "\(r.detail ?? "")")
        #expect(r.key == v.key)
        #expect(r.plain == v.plain)
        if let layout = v.layout { #expect(r.detail?.contains("AAD layout \(layout) ") == true, "\(r.detail ?? "")") }
        if let inner = v.innerPlain {
            let layer = try #require(r.inner.first)
            #expect(layer.verdict == "verified")
            #expect(layer.key == v.innerKey)
            #expect(layer.plain == inner)
            #expect(layer.plainDecoded?.type == "get-request")
        }
    }

    /// One altered byte at the end (tag or signature) is an authentication failure, and no plaintext is shown.
    @Test(arguments: ProtectionVector.all.filter { $0.verdict == "verified" })
    func anAlteredLastByteFailsAuthentication(_ v: ProtectionVector) throws {
        var bytes = v.apdu
        bytes[bytes.count - 1] ^= 0x01
        let r = try unprotect(bytes, keyring: try ProtectionVector.keyring())
        #expect(r.verdict == "authentication-failed", "\(r.detail ?? "")")
        #expect(r.plain == nil)
        #expect(r.inner.isEmpty)
    }

    /// A changed byte of the signed content of general-signing breaks the signature.
    @Test func anAlteredSignedContentFailsTheSignature() throws {
        let v = try #require(ProtectionVector.all.first { $0.name == "gs-suite1" })
        var bytes = v.apdu
        let range = try #require(Secrets.range(of: v.plain, in: bytes))
        bytes[range.upperBound - 1] ^= 0x01
        let r = try unprotect(bytes, keyring: try ProtectionVector.keyring())
        #expect(r.verdict == "authentication-failed")
        #expect(r.detail?.hasPrefix("signature-invalid") == true)
        #expect(r.key == "signing")
    }

    /// The ephemeral key of a one-pass agreement is signed by the originator: a bad signature fails the APDU even
    /// though the key still derives.
    @Test func aBadEphemeralKeySignatureFailsTheAgreedKey() throws {
        let v = try #require(ProtectionVector.all.first { $0.name == "gc-agreed-one-pass-suite1" })
        let p = try #require(APDUDecoder.decode(v.apdu[...]).facts.protection)
        let kcd = try #require(p.keyCipheredData)
        let range = try #require(Secrets.range(of: kcd, in: v.apdu))
        var bytes = v.apdu
        bytes[range.upperBound - 1] ^= 0x01  // the last byte of s
        let r = try unprotect(bytes, keyring: try ProtectionVector.keyring())
        #expect(r.verdict == "authentication-failed")
        #expect(r.detail?.contains("signature") == true)
        #expect(r.plain == nil)
    }

    /// Suite 2's agreed key is derived with SHA-384 to 32 bytes (Connexo); the detail names the variant.
    @Test func theSuite2AgreedKeyNamesItsDerivation() throws {
        let v = try #require(ProtectionVector.all.first { $0.name == "gc-agreed-one-pass-suite2" })
        let r = try unprotect(v.apdu, keyring: try ProtectionVector.keyring())
        #expect(r.verdict == "verified")
        #expect(r.detail?.contains("256-bit key (Connexo)") == true)
        #expect(r.suite == 2)
    }

    /// Without keys: general-ciphering has no key; general-signing shows its (clear) content unverified.
    @Test func withoutKeysTheVerdictIsNoKey() throws {
        for v in ProtectionVector.all {
            let r = try unprotect(v.apdu, keyring: Keyring())
            #expect(r.verdict == "no-key", "\(v.name): \(r.detail ?? "")")
            if v.name.hasPrefix("gs-") {
                #expect(r.plain == v.plain)
                #expect(r.key == nil)
            } else {
                #expect(r.plain == nil)
            }
        }
    }

    /// No detail ever carries key bytes.
    @Test func detailsNameKeysByRoleNeverByValue() throws {
        let keyring = try ProtectionVector.keyring()
        var secrets: [String] = []
        for e in keyring.entries {
            for role in KeyRole.allCases { if let k = e[role] { secrets.append(Hex.encode(k.bytes)) } }
        }
        for v in ProtectionVector.all {
            let r = try unprotect(v.apdu, keyring: keyring)
            let text = ((r.detail ?? "") + r.learned.joined()).lowercased()
            for s in secrets { #expect(!text.contains(s.lowercased())) }
        }
    }

    /// V.44 compression (SC bit 7) is reported as unsupported, never guessed.
    @Test func compressionIsUnsupported() throws {
        // glo-get-request with SC 0xB0 (compression + A+E): our bytes, the header is all that matters.
        let r = try unprotect(hex("C81EB001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B"),
                              keyring: try ProtectionVector.keyring())
        #expect(r.verdict == "unsupported")
        #expect(r.detail?.contains("V.44") == true)
    }

    /// Green Book glo-get-request example (DLMS UA 1000-2, quoted in Connexo `SecurityContextTest` and jDLMS
    /// `CipheringTest`): EK 000102…0F, AK D0…DF, system title 4D4D4D0000BC614E, IC 01234567. The bare APDU does
    /// not say who sent it: the keyring entry's system title is tried as the IV's.
    @Test func greenBookGloGetRequestVerifiesWithTheKeyringSystemTitleAsIV() throws {
        let keyring = try Keyring.parse(Data("""
            {"keys": [{"label": "Green Book", "system_title": "4D4D4D0000BC614E",
                       "guek": "000102030405060708090A0B0C0D0E0F", "ak": "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"}]}
            """.utf8))
        let decoded = APDUDecoder.decode(hex("C81E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B")[...])
        let p = try #require(decoded.facts.protection)
        var association = AssociationSecurity()
        let r = SecurityEngine(keyring: keyring).unprotect(p, direction: nil, association: &association)
        #expect(r.verdict == "verified")
        #expect(r.key == "guek")
        #expect(r.invocationCounter == 0x0123_4567)
        #expect(r.systemTitle == hex("4D4D4D0000BC614E"))
        #expect(r.detail?.contains("IV system title 4D4D4D0000BC614E") == true)
        #expect(r.plain == hex("C0010000080000010000FF0200"))
        #expect(r.plainDecoded?.type == "get-request")
    }
}
