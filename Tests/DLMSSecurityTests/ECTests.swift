import DLMSWire
import Foundation
import Testing
@testable import DLMSSecurity

/// ECDSA, ECDH and KDF against vectors made by Python `cryptography` (Vectors/generate_ec_vectors.py →
/// Vectors/ec-vectors.json).
@Suite struct ECTests {
    struct KeyText: Decodable, Sendable {
        let scalar: String, pkcs8_pem: String, sec1_pem: String, public_pem: String, public_point: String
    }
    struct KDFCase: Decodable, Sendable {
        let originator: String, recipient: String, key: String
        let transaction_id_os: String?
    }
    struct CurveCase: Decodable, Sendable, CustomTestStringConvertible {
        let curve: String, a: KeyText, b: KeyText, message: String, signature_a: String, shared_secret: String
        let kdf_one_pass: KDFCase, kdf_static_unified: KDFCase
        var testDescription: String { curve }
    }
    struct File: Decodable { let curves: [CurveCase] }

    static let cases: [CurveCase] = {
        let url = vectorsDirectory.appendingPathComponent("ec-vectors.json")
        guard let data = try? Data(contentsOf: url), let f = try? JSONDecoder().decode(File.self, from: data) else {
            return []
        }
        return f.curves
    }()

    @Test func vectorsAreThere() { #expect(Self.cases.map(\.curve) == ["P-256", "P-384"]) }

    @Test(arguments: cases) func everyKeyFormatGivesTheSameKey(_ c: CurveCase) throws {
        let curve = try #require(ECCurve(rawValue: c.curve))
        for k in [c.a, c.b] {
            let fromScalar = try #require(ECPrivateKey(scalar: hex(k.scalar)))
            let fromPKCS8 = try #require(ECPrivateKey(pem: k.pkcs8_pem))
            let fromSEC1 = try #require(ECPrivateKey(text: k.sec1_pem))
            #expect(fromScalar.curve == curve && fromPKCS8.curve == curve && fromSEC1.curve == curve)
            #expect(fromPKCS8.scalar.bytes == hex(k.scalar) && fromSEC1.scalar.bytes == hex(k.scalar))
            let point = hex(k.public_point)
            #expect(fromScalar.publicKey.uncompressedPoint == point)
            #expect(fromPKCS8.publicKey.uncompressedPoint == point)
            #expect(ECPublicKey(pem: k.public_pem)?.uncompressedPoint == point)
            #expect(ECPublicKey(text: k.public_point)?.uncompressedPoint == point)
            #expect(ECPublicKey(point: point.dropFirst())?.uncompressedPoint == point)
            #expect(ECPublicKey(text: Hex.encode(point.dropFirst(), uppercase: true))?.curve == curve)
        }
        // Short scalars are left-padded: b's scalar starts with two zero bytes.
        let b = hex(c.b.scalar)
        #expect(ECPrivateKey(scalar: b.dropFirst(2), curve: curve)?.publicKey.uncompressedPoint == hex(c.b.public_point))
    }

    @Test(arguments: cases) func theirSignatureVerifiesAndOursVerifiesToo(_ c: CurveCase) throws {
        let pub = try #require(ECPublicKey(pem: c.a.public_pem))
        let message = hex(c.message)
        let theirs = hex(c.signature_a)
        #expect(theirs.count == pub.curve.signatureLength)
        #expect(ECDSA.verify(signature: theirs, message: message, publicKey: pub))
        let priv = try #require(ECPrivateKey(scalar: hex(c.a.scalar)))
        let ours = try #require(ECDSA.sign(message: message, privateKey: priv))
        #expect(ours.count == pub.curve.signatureLength)
        #expect(ECDSA.verify(signature: ours, message: message, publicKey: pub))
    }

    @Test(arguments: cases) func aSignatureFailsOnAnyChange(_ c: CurveCase) throws {
        let pub = try #require(ECPublicKey(pem: c.a.public_pem))
        let other = try #require(ECPublicKey(pem: c.b.public_pem))
        let message = hex(c.message)
        let sig = hex(c.signature_a)
        var m = message
        m[0] ^= 1
        #expect(!ECDSA.verify(signature: sig, message: m, publicKey: pub))
        #expect(!ECDSA.verify(signature: sig, message: message, publicKey: other))
        for i in stride(from: 0, to: sig.count, by: 7) {
            var s = sig
            s[i] ^= 0x10
            #expect(!ECDSA.verify(signature: s, message: message, publicKey: pub), "byte \(i)")
        }
        #expect(!ECDSA.verify(signature: sig.dropLast(), message: message, publicKey: pub))
        #expect(!ECDSA.verify(signature: [UInt8](repeating: 0, count: sig.count), message: message, publicKey: pub))
        #expect(!ECDSA.verify(signature: [UInt8](repeating: 0xFF, count: sig.count), message: message, publicKey: pub))
    }

    @Test(arguments: cases) func ecdhAgreesWithTheirSharedSecretFromBothSides(_ c: CurveCase) throws {
        let a = try #require(ECPrivateKey(scalar: hex(c.a.scalar)))
        let b = try #require(ECPrivateKey(pem: c.b.pkcs8_pem))
        #expect(ECDH.sharedSecret(privateKey: a, publicKey: b.publicKey)?.bytes == hex(c.shared_secret))
        #expect(ECDH.sharedSecret(privateKey: b, publicKey: a.publicKey)?.bytes == hex(c.shared_secret))
    }

    @Test(arguments: cases) func dlmsKeyDerivationMatchesTheirConcatKDF(_ c: CurveCase) throws {
        let curve = try #require(ECCurve(rawValue: c.curve))
        let z = SecretKey(hex(c.shared_secret))
        let onePass = ConcatKDF.dlmsAgreedKey(sharedSecret: z, suite: curve.suite,
            originatorSystemTitle: hex(c.kdf_one_pass.originator), recipientSystemTitle: hex(c.kdf_one_pass.recipient))
        #expect(onePass?.bytes == hex(c.kdf_one_pass.key))
        let um = c.kdf_static_unified
        let staticUM = ConcatKDF.dlmsAgreedKey(sharedSecret: z, suite: curve.suite,
            originatorSystemTitle: hex(um.originator), recipientSystemTitle: hex(um.recipient),
            transactionID: hex(um.transaction_id_os ?? ""))
        #expect(staticUM?.bytes == hex(um.key))
    }

    @Test func keysAcrossCurvesDoNotMix() throws {
        let c = Self.cases
        try #require(c.count == 2)
        let a256 = try #require(ECPrivateKey(scalar: hex(c[0].a.scalar)))
        let b384 = try #require(ECPublicKey(pem: c[1].b.public_pem))
        #expect(ECDH.sharedSecret(privateKey: a256, publicKey: b384) == nil)
    }

    @Test func pointsOffTheCurveAndGarbageAreRejected() {
        var point = hex(Self.cases.first?.a.public_point ?? "")
        #expect(ECPublicKey(point: point) != nil)
        point[40] ^= 1
        #expect(ECPublicKey(point: point) == nil)
        #expect(ECPublicKey(point: [UInt8](repeating: 0, count: 65)) == nil)
        #expect(ECPublicKey(point: [UInt8](repeating: 4, count: 33)) == nil)
        #expect(ECPublicKey(text: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n") == nil)
        #expect(ECPublicKey(text: "zz") == nil)
        #expect(ECPrivateKey(text: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n") == nil)
        #expect(ECPrivateKey(scalar: [UInt8](repeating: 0, count: 32)) == nil)
        #expect(ECPrivateKey(scalar: [UInt8](repeating: 0xFF, count: 32)) == nil)  // above the group order
        #expect(ECPrivateKey(scalar: [UInt8](repeating: 1, count: 20)) == nil)
    }

    // A SubjectPublicKeyInfo holding a compressed point (made with Python `cryptography`, scalar 12345 on P-256)
    // is read and kept as the uncompressed point.
    @Test func aPEMWithACompressedPointGivesTheUncompressedPoint() throws {
        let pem = "-----BEGIN PUBLIC KEY-----\nMDkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDIgACJu/OvQ7p40pmkYfhizqRIrL3M5RbZJzJ+fkh6fna2BI=\n-----END PUBLIC KEY-----\n"
        let key = try #require(ECPublicKey(pem: pem))
        #expect(key.uncompressedPoint == hex(
            "0426efcebd0ee9e34a669187e18b3a9122b2f733945b649cc9f9f921e9f9dad81290238bde9cc7bb330d150c67704dd25ae7055205744b6f31bf4070745872d0e6"))
        #expect(ECPrivateKey(scalar: [0x30, 0x39], curve: .p256)?.publicKey == key)
    }

    @Test func aPrivateKeyNeverPrintsItsScalar() throws {
        let k = try #require(ECPrivateKey(scalar: hex(Self.cases.first?.a.scalar ?? "")))
        let scalarHex = Hex.encode(k.scalar.bytes)
        for text in [String(describing: k), String(reflecting: k), "\(k)", String(describing: k.scalar)] {
            #expect(!text.lowercased().contains(scalarHex))
        }
    }
}
