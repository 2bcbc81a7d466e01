import Testing
@testable import DLMSSecurity

@Suite struct AESGCMTests {
    // NIST GCM spec (McGrew & Viega, "The Galois/Counter Mode of Operation", Appendix B) Test Case 4: AES-128,
    // 96-bit IV, 60-byte plaintext, 20-byte AAD.
    let key = hex("feffe9928665731c6d6a8f9467308308")
    let iv = hex("cafebabefacedbaddecaf888")
    let plaintext = hex(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
    )
    let aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
    let ciphertext = hex(
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
    )
    let fullTag = hex("5bc94fbc3221a5db94fae95ae7121a47")

    @Test func nistTestCase4EncryptsToThePublishedCiphertextAndTag() throws {
        let (c, t) = try #require(AESGCM.encrypt(key: key, iv: iv, aad: aad, plaintext: plaintext, tagLength: 16))
        #expect(c == ciphertext)
        #expect(t == fullTag)
    }

    @Test func nistTestCase4DecryptsWithTheTruncatedTwelveByteTag() throws {
        let p = try #require(
            AESGCM.decrypt(key: key, iv: iv, aad: aad, ciphertext: ciphertext, tag: fullTag.prefix(12)))
        #expect(p == plaintext)
    }

    @Test func aFlippedCiphertextBitOrTagBitFailsDecryption() {
        var c = ciphertext
        c[5] ^= 0x01
        #expect(AESGCM.decrypt(key: key, iv: iv, aad: aad, ciphertext: c, tag: fullTag.prefix(12)) == nil)
        var t = Array(fullTag.prefix(12))
        t[11] ^= 0x80
        #expect(AESGCM.decrypt(key: key, iv: iv, aad: aad, ciphertext: ciphertext, tag: t) == nil)
        var a = aad
        a[0] ^= 0x01
        #expect(AESGCM.decrypt(key: key, iv: iv, aad: a, ciphertext: ciphertext, tag: fullTag.prefix(12)) == nil)
    }

    // Same paper, Test Case 16: AES-256, 96-bit IV.
    @Test func nistTestCase16WithAnAES256Key() throws {
        let key256 = hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
        let (c, t) = try #require(AESGCM.encrypt(key: key256, iv: iv, aad: aad, plaintext: plaintext, tagLength: 16))
        #expect(
            c == hex(
                "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
            ))
        #expect(t == hex("76fc6ece0f4e1768cddf8853bb2d551b"))
    }

    // Same paper, Test Case 2 (AES-128, zero key, zero IV, one zero block): GCTR alone gives its ciphertext.
    @Test func gctrAloneEqualsTheGCMCiphertext() throws {
        let c = try #require(AESGCM.gctr(key: [UInt8](repeating: 0, count: 16), iv: [UInt8](repeating: 0, count: 12),
                                         input: [UInt8](repeating: 0, count: 16)))
        #expect(c == hex("0388dace60b6a392f328c2b971b2fe78"))
        // and it is its own inverse
        let there = try #require(AESGCM.gctr(key: key, iv: iv, input: plaintext))
        let back = try #require(AESGCM.gctr(key: key, iv: iv, input: there))
        #expect(back == plaintext)
    }

    // Same paper, Test Case 1: empty plaintext and AAD; the tag is the GMAC of nothing.
    @Test func gmacOfNothingIsTestCase1Tag() throws {
        let t = try #require(AESGCM.gmac(key: [UInt8](repeating: 0, count: 16), iv: [UInt8](repeating: 0, count: 12),
                                         aad: [UInt8](), tagLength: 16))
        #expect(t == hex("58e2fccefa7e3061367f1d57a4e7455a"))
    }

    @Test func keysOfOtherLengthsAndOddTagLengthsAreRefused() {
        #expect(AESGCM.encrypt(key: [UInt8](repeating: 0, count: 24), iv: iv, aad: aad, plaintext: plaintext) == nil)
        #expect(AESGCM.encrypt(key: key, iv: iv, aad: aad, plaintext: plaintext, tagLength: 3) == nil)
        #expect(AESGCM.decrypt(key: key, iv: iv, aad: aad, ciphertext: ciphertext, tag: [UInt8]()) == nil)
        #expect(AESGCM.gctr(key: key, iv: iv.prefix(8), input: plaintext) == nil)
    }

    @Test func oneContextServesManyCallsInARow() throws {
        let gcm = try #require(AESGCM())
        for _ in 0..<3 {
            let (c, t) = try #require(gcm.encrypt(key: key, iv: iv, aad: aad, plaintext: plaintext))
            #expect(c == ciphertext)
            #expect(gcm.decrypt(key: key, iv: iv, aad: aad, ciphertext: c, tag: t) == plaintext)
            #expect(gcm.decrypt(key: key, iv: iv, aad: aad, ciphertext: c, tag: t.reversed()) == nil)
        }
    }

    @Test func aReusedContextGivesTheSameResultsAsFreshOnesWhateverTheOrderOfKeysAndModes() throws {
        let gcm = try #require(AESGCM())
        let key256 = hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
        let other = Array(key.reversed())
        for round in 0..<4 {
            for k in [key, other, key256, key] {
                let fresh = try #require(AESGCM.encrypt(key: k, iv: iv, aad: aad, plaintext: plaintext))
                let (c, t) = try #require(gcm.encrypt(key: k, iv: iv, aad: aad, plaintext: plaintext), "round \(round)")
                #expect(c == fresh.ciphertext && t == fresh.tag)
                // a failed check in between must not disturb the next operation
                #expect(gcm.decrypt(key: k, iv: iv, aad: aad, ciphertext: c, tag: t.map { $0 ^ 1 }) == nil)
                #expect(gcm.decrypt(key: k, iv: iv, aad: aad, ciphertext: c, tag: t) == plaintext)
                #expect(gcm.gctr(key: k, iv: iv, input: c) == AESGCM.gctr(key: k, iv: iv, input: c))
                #expect(gcm.gmac(key: k, iv: iv.reversed(), aad: aad) == AESGCM.gmac(key: k, iv: iv.reversed(), aad: aad))
                // a different IV length with the same key (GCM allows any; DLMS uses 12)
                let long = try #require(gcm.encrypt(key: k, iv: iv + iv, aad: aad, plaintext: plaintext))
                #expect(long.ciphertext == AESGCM.encrypt(key: k, iv: iv + iv, aad: aad, plaintext: plaintext)?.ciphertext)
            }
        }
    }
}
