import Testing
@testable import DLMSSecurity

@Suite struct SHATests {
    // FIPS 180-4 examples (NIST CSRC "Example Algorithms", SHA256.pdf / SHA384.pdf): "abc".
    @Test func sha256OfAbcIsTheFIPSExample() {
        #expect(SHA.sha256(Array("abc".utf8)) == hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
    }

    @Test func sha384OfAbcIsTheFIPSExample() {
        #expect(SHA.sha384(Array("abc".utf8)) == hex(
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"))
    }

    @Test func hashingPartsEqualsHashingTheirConcatenation() {
        let whole = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        let parts = [whole[0..<5], whole[5..<5], whole[5...]]
        #expect(SHA.hash(.sha256, parts: parts) == SHA.sha256(whole))
        // FIPS 180-4 two-block example.
        #expect(SHA.sha256(whole) == hex("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"))
        #expect(SHA.sha256([UInt8]()) == hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
    }
}
