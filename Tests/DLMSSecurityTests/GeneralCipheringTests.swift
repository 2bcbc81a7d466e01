import DLMSWire
import Testing
@testable import DLMSSecurity

/// Green Book key-agreement examples (DLMS UA 1000-2, Table 41 and Annex C), as quoted in public code:
/// - the Table 41 APDU: u9n dlms-cosem PR #92 `tests/test_xdlms/test_general_ciphering.py`;
/// - the Annex C keys and shared secrets: Connexo (chandangeek/Connexo_Code)
///   `encryption/asymetric/keyagreement/KeyAgreementImplTest.java` and `ECDSASignatureImplTest.java`;
/// - the Table C.1 signing key and signature, the "page 499/502" ciphertexts and the ACCESS request plaintext:
///   Gurux.Java `development/src/test/java/gurux/dlms/secure/GXSymmetricTest.java`;
/// - K for C(1e,1s) = 59A71FD8… and K for C(0e,2s) = 56C46B57…: ../shared/notes/security-layouts.md §4.
@Suite struct GeneralCipheringTests {
    let clientTitle = hex("4D4D4D0000BC614E")  // party U, the originator
    let serverTitle = hex("4D4D4D0000000001")  // party V
    let ak = SecretKey(hex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"))

    /// Table C.1: the client's signing key pair.
    let clientSigningPrivate = "418073C239FA6125011DE4D6CD2E645780289F761BB21BFB0835CB5585E8B373"
    let clientSigningPublic =
        "BAAFFDE06A8CB1C9DAE8D94023C601DBBB249254BA22EDD827E820BCA2BCC64362FBB83D86A82B87BB8B7161D2AAB5521911A946B97A284A90F7785CD9047D25"
    /// The server's static key agreement key pair, and the client's.
    let serverAgreementPrivate = "AAD3FD0732E991CF52A74C66C1F2827DDC53522A2E0A169D7C4FFCC0FB5D6A4D"
    let serverAgreementPublic =
        "A653565B0E06070BAE9FBE140A5D215681" + "2AEE2DD525053E3EFC850BF13BFDFFCB240BC7B77BFF5883344E7275908D2287BEFA3725017295A096989D2338290B"
    let clientAgreementPrivate = "A51C16FF5C498FCC89323D4A9267CD71BF81FD6F6A891CD240DA7F3D6F283E65"
    let clientAgreementPublic =
        "07C56DE2DCAF0FD793EF29F019C89B4A0CC1E001CE94F4FFBE10BC05E7E66F7671A13FBCF9E662B9826FFF6A6938546D524ED6D3405F020296BDE16B04F7A7C2"

    /// Table 133 "ACCESS service without block transfer", the plaintext of both examples.
    let accessRequest = hex(
        "D94000000000040100010000600100FF020100080000010000FF0202001400000D0000FF0702001400000D0000FF0804000001040203090100090CFFFFFFFFFFFFFF00000000000901FF0203090101090CFFFFFFFFFFFFFF00000000000901FF0203090102090CFFFFFFFFFFFFFF00000000000901FF0203090103090CFFFFFFFFFFFFFF00000000000901FF0104020809010011FF11FF11FF11FF11FF11FF11FF02080901011102110111011101110111011101020809010211FF11FF11FF11FF11FF11FF11FF02080901031101110211021102110211021102"
    )

    /// Table 41: general-ciphering with agreed-key C(1e,1s), 401 bytes.
    let table41 = hex(
        "DD080102030405060708084D4D4D0000BC614E084D4D4D00000000010000010201018180C323C2BD45711DE4688637D919F92E9DB8FB2DFC213A88D21C9DC8DCBA917D8170511DE1BADB360D50058F794B0960AE11FA28D392CFF907A62D13E3357B1DC0B51BE089D0B682863B2217201E73A1A9031968A9B4121DCBC3281A69739AF87429F5B3AC5471E7B6A04A2C0F2F8A25FD772A317DF97FC5463FEAC248EB8AB8BE81EB3100000000F435069679270C5BF4425EE5777402A6C8D51C620EED52DBB188378B836E2857D5C053E6DDF27FA87409AEF502CD9618AE47017C010224FD109CC0BEB21E742D44AB40CD11908743EC90EC8C40E221D517F72228E1A26E827F43DC18ED27B5F458D66508B05A2A4CC6FED178C881AFC3BC67064689BE8BB41C80ABB3C114A31F4CB03B8B64C7E0B4CE77B2399C93347858888F92239713B38DF01C4858245827A92EF334172EA636B31CBBDF2A96AD5D035F66AA38F1A2D97D4BBA99622E6B5F18789CECB2DFB3937D9F3E17F8B472098E6563238F37528374809836002AEA6E7012D2ADFAA7"
    )

    /// The Table 41 fields at fixed offsets (the test parses no more than it needs).
    var header: ArraySlice<UInt8> { table41[1..<30] }  // OS(tid) OS(orig) OS(recip) OS(date) OS(other)
    var keyCipheredData: ArraySlice<UInt8> { table41[36..<164] }
    var cipheredContent: ArraySlice<UInt8> { table41[166...] }  // SC IC ciphertext tag

    @Test func theTable41FieldsAreWhereTheTestExpectsThem() {
        #expect(table41.count == 401)
        #expect(Array(header) == hex("080102030405060708 084D4D4D0000BC614E 084D4D4D0000000001 00 00"))
        #expect(Array(table41[30..<37]) == hex("01 02 01 01 81 80 C3"))
        #expect(Array(table41[164..<166]) == hex("81EB") && cipheredContent.count == 0xEB)
        // The header rebuilt from its decoded fields is the wire header.
        #expect(GeneralCiphering.header(transactionID: hex("0102030405060708"), originatorSystemTitle: clientTitle,
                                        recipientSystemTitle: serverTitle, dateTime: nil, otherInformation: [])
                == Array(header))
        var long: [UInt8] = []
        GeneralCiphering.appendAXDRLength(200, to: &long)
        GeneralCiphering.appendAXDRLength(0x1234, to: &long)
        #expect(long == [0x81, 200, 0x82, 0x12, 0x34])
    }

    @Test func tableC2OnePassAgreedKeyIsDerivedAndItsSignatureVerifiesOverXY() throws {
        let recipient = try #require(ECPrivateKey(scalar: hex(serverAgreementPrivate)))
        #expect(recipient.publicKey.rawXY.elementsEqual(hex(serverAgreementPublic)))
        let signer = try #require(ECPublicKey(point: hex(clientSigningPublic)))
        let outcome = GeneralCiphering.onePassAgreedKey(
            keyCipheredData: keyCipheredData, recipientAgreementKey: recipient, originatorSigningKey: signer,
            originatorSystemTitle: clientTitle, recipientSystemTitle: serverTitle)
        guard case .derived(let key, let signature) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(key.bytes == hex("59A71FD81C929A86A99438DA17A66C05"))
        #expect(signature == .verifiedOverPublicKey)
        // Z itself (Connexo ONEPASS_EXPECTED_SHARED_SECRET_SERVER).
        let ephemeral = try #require(ECPublicKey(point: keyCipheredData.prefix(64)))
        #expect(ECDH.sharedSecret(privateKey: recipient, publicKey: ephemeral)?.bytes
                == hex("0D4385BA0DD756CBCAB9887EB538396EE8F090A14C1079B4359F115B977F4615"))
        // A wrong signing key is reported, and the key is still derived.
        let other = try #require(ECPublicKey(point: hex(serverAgreementPublic)))
        guard case .derived(_, .failed) = GeneralCiphering.onePassAgreedKey(
            keyCipheredData: keyCipheredData, recipientAgreementKey: recipient, originatorSigningKey: other,
            originatorSystemTitle: clientTitle, recipientSystemTitle: serverTitle)
        else { Issue.record("a wrong signing key was not reported"); return }
        guard case .failed = GeneralCiphering.onePassAgreedKey(
            keyCipheredData: keyCipheredData.dropLast(), recipientAgreementKey: recipient, originatorSigningKey: nil,
            originatorSystemTitle: clientTitle, recipientSystemTitle: serverTitle)
        else { Issue.record("short key-ciphered-data accepted"); return }
    }

    @Test func table41DecryptsToTheAccessRequestWithTheAgreedKey() throws {
        var r = ByteReader(cipheredContent)
        let scByte = r.readUInt8()
        let icValue = r.readUInt32()
        let payload = r.readRest()
        let sc = try #require(scByte)
        let ic = try #require(icValue)
        #expect(sc == 0x31 && ic == 0)
        let key = SecretKey(hex("59A71FD81C929A86A99438DA17A66C05"))
        let cipher = try #require(DLMSCipher())
        let unverified = GeneralCiphering.unprotect(
            cipher: cipher, securityControl: SecurityControl(rawValue: sc), originatorSystemTitle: clientTitle,
            invocationCounter: ic, payload: payload, header: header, encryptionKey: key, authenticationKey: nil)
        #expect(unverified.outcome == .decryptedUnverified(accessRequest, .noAuthenticationKey))
        #expect(unverified.layout == nil)
        // The published tag is reproduced by no known AAD layout (security-layouts.md §5): with the AK, both
        // layouts are tried and the outcome is an authentication failure, not a guess.
        let withAK = GeneralCiphering.unprotect(
            cipher: cipher, securityControl: SecurityControl(rawValue: sc), originatorSystemTitle: clientTitle,
            invocationCounter: ic, payload: payload, header: header, encryptionKey: key, authenticationKey: ak)
        #expect(withAK.outcome == .authenticationFailed && withAK.layout == nil)
    }

    @Test func eachAADLayoutRoundTripsAndIsNamed() throws {
        let cipher = try #require(DLMSCipher())
        let key = SecretKey(hex("59A71FD81C929A86A99438DA17A66C05"))
        for layout in [GeneralCiphering.AADLayout.securityControlAndAK, .withHeader] {
            for raw: UInt8 in [0x31, 0x11] {
                let sc = SecurityControl(rawValue: raw)
                let payload = try #require(GeneralCiphering.protect(
                    cipher: cipher, layout: layout, securityControl: sc, originatorSystemTitle: clientTitle,
                    invocationCounter: 9, plaintext: accessRequest, header: Array(header), encryptionKey: key,
                    authenticationKey: ak))
                let back = GeneralCiphering.unprotect(
                    cipher: cipher, securityControl: sc, originatorSystemTitle: clientTitle, invocationCounter: 9,
                    payload: payload[...], header: header, encryptionKey: key, authenticationKey: ak)
                #expect(back.outcome == .verified(accessRequest) && back.layout == layout, "\(layout) SC \(raw)")
                // A changed header byte breaks only the header layout.
                var otherHeader = Array(header)
                otherHeader[1] ^= 1
                let changed = GeneralCiphering.unprotect(
                    cipher: cipher, securityControl: sc, originatorSystemTitle: clientTitle, invocationCounter: 9,
                    payload: payload[...], header: otherHeader[...], encryptionKey: key, authenticationKey: ak)
                #expect((changed.outcome == .authenticationFailed) == (layout == .withHeader))
            }
        }
    }

    @Test func staticUnifiedModelGivesTheGreenBookKeyFromEitherSide() throws {
        let tid = hex("080102030405060708")  // OS(transaction-id), length byte included
        let fromClient = GeneralCiphering.staticUnifiedModelAgreedKey(
            privateKey: try #require(ECPrivateKey(scalar: hex(clientAgreementPrivate))),
            peerPublicKey: try #require(ECPublicKey(point: hex(serverAgreementPublic))),
            originatorSystemTitle: clientTitle, recipientSystemTitle: serverTitle, transactionID: tid)
        let fromServer = GeneralCiphering.staticUnifiedModelAgreedKey(
            privateKey: try #require(ECPrivateKey(scalar: hex(serverAgreementPrivate))),
            peerPublicKey: try #require(ECPublicKey(point: hex(clientAgreementPublic))),
            originatorSystemTitle: clientTitle, recipientSystemTitle: serverTitle, transactionID: tid)
        let expected = hex("56C46B57DF675515C31025455822514A")
        #expect(fromClient?.bytes == expected && fromServer?.bytes == expected)
        // "Page 502" ciphertext ‖ tag decrypts (GCTR, IC 0) to the same ACCESS request.
        let page502 = hex(
            "607581D83815281B561904E6A72B83BF3FB0B1F2A0A23A82A804B39911F6CB1B4EF9B6F76C6338ED058014FFBF4A13A162E0EED11EEB8F597757A18215F28E1D3FC2D44586C4B8AFE4500B535B579506CDB925CBEFF7F1CF6BF96C583B9CF588FE8F6B01A574824D7CEC597F057FFA8700AF12AD63A7FA72040439F4392C089B265F9EB1AC308239906DC04E1A8712ABE383CF92349842EBA166EF2E9EB2F53D0DBA025D79875463398BBC3007BC4A6FC12780C21EE1ABF080BF0FA926242834C0AC30D55A1EF8856E7DED48621F17FDF4D5B54EDDADD874119251049B6AEE111C12FBC2FEAF"
        )
        let outcome = DLMSCipher.unprotect(securityControl: SecurityControl(rawValue: 0x31), systemTitle: clientTitle,
                                           invocationCounter: 0, payload: page502[...],
                                           encryptionKey: SecretKey(expected), authenticationKey: nil)
        #expect(outcome == .decryptedUnverified(accessRequest, .noAuthenticationKey))
    }

    @Test func tableC1SignatureVerifiesOverKeyIDAndEphemeralKey() throws {
        // Table C.1: the client's ephemeral public key and the signature over key-id(0) ‖ x ‖ y.
        let ephemeral = hex(
            "2914D60E10AB705F62ED6CC349D7CB99B9AB3F3978E59278C7AF595B3AF987941372DAB6D5AF1FA867E134167E6F23DE664A6693E05F43414611058D1B48F894")
        let signature = hex(
            "06F0607702AA0E2435A183E2F6B1ECD19629712E389A213610C03F77B2590860EA840AF5C3FA1F2BCDF055D4744E9A01CE9A0E55026BCAA4EEBEB764CED64BB3")
        let signingKey = try #require(ECPrivateKey(scalar: hex(clientSigningPrivate)))
        #expect(signingKey.publicKey.rawXY.elementsEqual(hex(clientSigningPublic)))
        #expect(ECDSA.verify(signature: signature, message: [0] + ephemeral, publicKey: signingKey.publicKey))
        #expect(!ECDSA.verify(signature: signature, message: ephemeral, publicKey: signingKey.publicKey))
        // Through the agreed-key path: the server's ephemeral key as recipient gives Connexo's Z = C1CF8FE7….
        let serverEphemeral = try #require(ECPrivateKey(
            scalar: hex("34A8C23A34DBB519D09B245754C85A6CFE05D14A063EFA5AA41545AA8241EFAE")))
        #expect(ECDH.sharedSecret(privateKey: serverEphemeral, publicKey: try #require(ECPublicKey(point: ephemeral)))?
            .bytes == hex("C1CF8FE7891AEF3617D7190795E61FE6C24EFC3CCA2E08469BAD1A225CE6EA08"))
        guard case .derived(_, let check) = GeneralCiphering.onePassAgreedKey(
            keyCipheredData: ephemeral + signature, recipientAgreementKey: serverEphemeral,
            originatorSigningKey: signingKey.publicKey, originatorSystemTitle: clientTitle,
            recipientSystemTitle: serverTitle)
        else { Issue.record("not derived"); return }
        #expect(check == .verifiedOverKeyIDAndPublicKey)
    }
}
