import Testing
@testable import DLMSSecurity

/// RFC 3394 §4 test vectors (4.1 … 4.6).
@Suite struct AESKeyWrapTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String, kek: String, key: String, wrapped: String
        var testDescription: String { name }
    }

    static let vectors: [Vector] = [
        Vector(name: "4.1 128-bit key data with a 128-bit KEK", kek: "000102030405060708090A0B0C0D0E0F",
               key: "00112233445566778899AABBCCDDEEFF", wrapped: "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"),
        Vector(name: "4.2 128-bit key data with a 192-bit KEK", kek: "000102030405060708090A0B0C0D0E0F1011121314151617",
               key: "00112233445566778899AABBCCDDEEFF", wrapped: "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D"),
        Vector(name: "4.3 128-bit key data with a 256-bit KEK",
               kek: "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
               key: "00112233445566778899AABBCCDDEEFF", wrapped: "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7"),
        Vector(name: "4.4 192-bit key data with a 192-bit KEK", kek: "000102030405060708090A0B0C0D0E0F1011121314151617",
               key: "00112233445566778899AABBCCDDEEFF0001020304050607",
               wrapped: "031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2"),
        Vector(name: "4.5 192-bit key data with a 256-bit KEK",
               kek: "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
               key: "00112233445566778899AABBCCDDEEFF0001020304050607",
               wrapped: "A8F9BC1612C68B3FF6E6F4FBE30E71E4769C8B80A32CB8958CD5D17D6B254DA1"),
        Vector(name: "4.6 256-bit key data with a 256-bit KEK",
               kek: "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
               key: "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
               wrapped: "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"),
    ]

    @Test(arguments: vectors) func wrapGivesThePublishedBytesAndUnwrapReturnsTheKey(_ v: Vector) throws {
        #expect(AESKeyWrap.wrap(key: hex(v.key), kek: hex(v.kek)) == hex(v.wrapped))
        let unwrapped = try #require(AESKeyWrap.unwrap(hex(v.wrapped), kek: hex(v.kek)))
        #expect(unwrapped.bytes == hex(v.key))
    }

    @Test(arguments: vectors) func aCorruptedWrappedKeyOrAWrongKEKFailsTheIntegrityCheck(_ v: Vector) {
        let wrapped = hex(v.wrapped)
        for i in wrapped.indices {
            var bad = wrapped
            bad[i] ^= 0x40
            #expect(AESKeyWrap.unwrap(bad, kek: hex(v.kek)) == nil, "byte \(i)")
        }
        var kek = hex(v.kek)
        kek[0] ^= 1
        #expect(AESKeyWrap.unwrap(wrapped, kek: kek) == nil)
    }

    @Test func badLengthsAreRefused() {
        let kek = hex("000102030405060708090A0B0C0D0E0F")
        #expect(AESKeyWrap.wrap(key: [UInt8](repeating: 1, count: 15), kek: kek) == nil)
        #expect(AESKeyWrap.wrap(key: [UInt8](repeating: 1, count: 8), kek: kek) == nil)
        #expect(AESKeyWrap.wrap(key: [UInt8](repeating: 1, count: 16), kek: kek.prefix(10)) == nil)
        #expect(AESKeyWrap.unwrap([UInt8](repeating: 1, count: 16), kek: kek) == nil)
        #expect(AESKeyWrap.unwrap([UInt8](repeating: 1, count: 25), kek: kek) == nil)
    }

    @Test func keyTransferUnwrapsEachKeyIDIntoItsRole() {
        let kek = SecretKey(hex("000102030405060708090A0B0C0D0E0F"))
        let wrapped = hex("1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5")  // RFC 3394 §4.1
        for (id, role) in [(0, KeyRole.guek), (1, .gbek), (2, .ak), (3, .kek)] {
            guard case .key(let r, let k) = KeyTransfer.unwrap(keyID: id, wrappedKey: wrapped, kek: kek) else {
                Issue.record("key id \(id)")
                continue
            }
            #expect(r == role && k.bytes == hex("00112233445566778899AABBCCDDEEFF"))
        }
        guard case .unknownKeyID(4) = KeyTransfer.unwrap(keyID: 4, wrappedKey: wrapped, kek: kek) else {
            Issue.record("key id 4")
            return
        }
        guard case .unwrapFailed(.ak) = KeyTransfer.unwrap(keyID: 2, wrappedKey: wrapped.reversed(), kek: kek) else {
            Issue.record("corrupted")
            return
        }
    }
}
