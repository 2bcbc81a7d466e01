import DLMSWire
import Testing
@testable import DLMSAPDU

/// Hand-picked vectors. Sources: dlms-cosem (u9n/dlms-cosem `tests/`, themselves from the DLMS Green Book
/// examples), and vectors built here from the IEC 62056-5-3 ASN.1 and cross-checked with Gurux's translator
/// (`Vectors/translate.py` → `Vectors/gurux-translations.txt`, gurux-dlms 1.0.203).
@Suite struct APDUVectorTests {
    // MARK: - ACSE (dlms-cosem tests/test_asce, Green Book examples)

    @Test func aarqWithoutSecurityNamesContextAndInitiateRequest() throws {
        // dlms-cosem tests/test_asce/test_aarq.py TestEncodeAARE.test_decode
        let d = decode("601DA109060760857405080101BE10040E01000000065F1F0400001E1DFFFF")
        #expect(d.type == "aarq")
        #expect(d.errors.isEmpty)
        #expect(d.facts.association?.applicationContext == 1)
        let ctx = node(d.fields, "application_context_name")
        #expect(stringValue(ctx) == "2.16.756.5.8.1.1")
        #expect(ctx?.meaning == "LN referencing, no ciphering")
        let ini = try #require(d.facts.association?.initiate)
        #expect(ini.isRequest)
        #expect(ini.dlmsVersion == 6)
        #expect(ini.maxPDUSize == 0xFFFF)
        #expect(ini.conformance == 0x001E1D)
        #expect(ini.responseAllowed == true)
        let bits = try #require(node(d.fields, "user_information", "proposed_conformance", "bits"))
        #expect(bits.isList)
        #expect(bits.children.compactMap(stringValue) == [
            "block-transfer-with-get-or-read", "block-transfer-with-set-or-write", "block-transfer-with-action",
            "multiple-references", "get", "set", "selective-access", "action",
        ])
    }

    @Test func aarqWithLLSMasksThePasswordUnlessSecretsAreShown() throws {
        // dlms-cosem tests/test_asce/test_aarq.py test_parse_no_ciphering_low_security (password "12345678")
        let h = "6036A1090607608574050801018A0207808B0760857405080201AC0A80083132333435363738BE10040E01000000065F1F0400007E1F04B0"
        let d = decode(h)
        #expect(d.errors.isEmpty)
        #expect(d.facts.association?.mechanism == 1)
        #expect(node(d.fields, "mechanism_name")?.meaning == "LLS")
        #expect(d.facts.association?.callingAuthenticationValue == Array("12345678".utf8))
        let masked = node(d.fields, "calling_authentication_value", "charstring")
        #expect(stringValue(masked) == "********")
        #expect(node(d.fields, "sender_acse_requirements", "authentication")?.value != nil)
        let shown = node(decode(h, showSecrets: true).fields, "calling_authentication_value", "charstring")
        #expect(shown?.meaning == "12345678")
        // No node of the masked tree may carry the password, in any form; with showSecrets it is there.
        #expect(!treeShows(d.fields, secret: Array("12345678".utf8)))
        #expect(treeShows(decode(h, showSecrets: true).fields, secret: Array("12345678".utf8)))
    }

    @Test func aarqWithCipheredInitiateShowsTheSecurityHeader() throws {
        // dlms-cosem tests/test_asce/test_aarq.py test_parse_ciphered_low_security2
        let d = decode("6066a109060760857405080103a60a04084D4D4D0000BC614E8a0207808b0760857405080201ac0a80083132333435363738be34043221303001234567801302FF8A7874133D414CED25B42534D28DB0047720606B175BD52211BE6841DB204D39EE6FDB8E356855")
        #expect(d.errors.isEmpty)
        let a = try #require(d.facts.association)
        #expect(a.applicationContext == 3)
        #expect(a.callingAPTitle == hex("4D4D4D0000BC614E"))
        #expect(node(d.fields, "calling_ap_title")?.meaning == "manufacturer MMM")
        #expect(a.initiate == nil)
        #expect(a.userInformation?.first == 0x21)
        #expect(stringValue(node(d.fields, "user_information")) == "glo-initiate-request")
        let p = try #require(d.facts.protection)
        #expect(p.kind == "glo-ciphering")
        #expect(p.protectedService == "initiate-request")
        #expect(p.securityControl == 0x30)
        #expect(p.invocationCounter == 0x0123_4567)
        #expect(p.payload.count == 0x30 - 5)
    }

    @Test func aareAcceptedWithHLSNamesDiagnosticAuthenticationRequired() throws {
        // dlms-cosem tests/test_asce/test_aare.py test_no_ciher_hls_ok
        let d = decode("6142A109060760857405080101A203020100A305A10302010E88020780890760857405080205AA0A8008503677524A323146BE10040E0800065F1F040000501F01F40007")
        #expect(d.errors.isEmpty)
        let a = try #require(d.facts.association)
        #expect(a.result == 0)
        #expect(d.facts.result == "accepted")
        #expect(a.diagnostic == 14)
        #expect(a.diagnosticSource == "acse-service-user")
        #expect(node(d.fields, "result_source_diagnostic", "acse_service_user")?.meaning == "authentication-required")
        #expect(a.mechanism == 5)
        #expect(a.respondingAuthenticationValue == Array("P6wRJ21F".utf8))
        let ini = try #require(a.initiate)
        #expect(!ini.isRequest)
        #expect(ini.maxPDUSize == 500)
        #expect(ini.vaaName == 7)
        #expect(node(d.fields, "user_information", "vaa_name")?.meaning == "LN")
    }

    @Test func aareRejectedCarriesConfirmedServiceErrorByName() throws {
        // dlms-cosem tests/test_asce/test_aare.py test_no_cipher_no_security_incorrect_dlms_version
        let d = decode("611FA109060760857405080101A203020101A305A103020101BE0604040E010601")
        #expect(d.errors.isEmpty)
        #expect(d.facts.result == "rejected-permanent")
        #expect(node(d.fields, "result_source_diagnostic", "acse_service_user")?.meaning == "no-reason-given")
        let err = try #require(node(d.fields, "user_information", "service_error", "initiate"))
        #expect(err.meaning == "dlms-version-too-low")
        #expect(node(d.fields, "user_information", "service")?.meaning == "initiateError")
    }

    @Test func aareWithWrongApplicationContextIsRejectedPermanent() {
        // dlms-cosem tests/test_asce/test_aare.py test_no_ciphering_no_security_app_context_name_wrong
        let d = decode("6129A109060760857405080101A203020101A305A103020102BE10040E0800065F1F040000501F01F40007")
        #expect(d.errors.isEmpty)
        #expect(d.facts.association?.diagnostic == 2)
        #expect(node(d.fields, "result_source_diagnostic", "acse_service_user")?.meaning
            == "application-context-name-not-supported")
    }

    @Test func rlrqAndRlreNameTheirReason() {
        // Gurux captures (hdlc-none): RLRQ 62 03 80 01 00; dlms-cosem tests/test_asce/test_rlrq.py layout.
        let q = decode("6203800100")
        #expect(q.type == "rlrq")
        #expect(q.errors.isEmpty)
        #expect(node(q.fields, "reason")?.meaning == "normal")
        #expect(q.facts.association?.releaseReason == 0)
        let e = decode("6315800100BE10040E0800065F1F0400001E1D04000007")
        #expect(e.type == "rlre")
        #expect(e.errors.isEmpty, "\(e.errors)")
    }

    // MARK: - xDLMS (dlms-cosem tests/test_xdlms)

    @Test func actionRequestNormalNamesTheMethodAndParameters() {
        // dlms-cosem tests/test_xdlms/test_action.py TestActionRequestNormal
        let d = decode("C301C0000F0000280000FF010109111000001A90E6D2221FA2FD85EED61ACC22")
        #expect(d.errors.isEmpty, "\(d.errors)")
        #expect(d.facts.variant == "normal")
        #expect(d.facts.invokeID == 0)
        #expect(d.facts.objects.first?.classID == 15)
        #expect(d.facts.objects.first?.methodID == 1)
        #expect(d.facts.values.count == 1)
        #expect(stringValue(node(d.fields, "invoke_id_and_priority", "priority")) == "high")
    }

    @Test func actionResponseNormalWithErrorInsteadOfData() {
        // dlms-cosem tests/test_xdlms/test_action.py TestActionResponseWithError: c7 01 c0 00 01 01 fa
        let d = decode("C701C000010 1FA".replacingOccurrences(of: " ", with: ""))
        #expect(d.errors.isEmpty)
        #expect(d.facts.result == "success")
        #expect(node(d.fields, "single_response", "return_parameters", "data_access_result")?.meaning
            == "other-reason")
    }

    @Test func getRequestWithRangeDescriptorNamesTheRestrictingObject() throws {
        // dlms-cosem tests/test_xdlms/test_selective_access.py test_parse_range_descriptor
        let d = decode("C001C1000701006301 00FF0201010204020412000809060000010000FF0F02120000090C07E10A0107000000 00FFC480090C07E10A010701000000FFC4800100".replacingOccurrences(of: " ", with: ""))
        #expect(d.errors.isEmpty, "\(d.errors)")
        #expect(d.facts.objects.first?.selector == 1)
        let ro = try #require(node(d.fields, "access_selection", "range_descriptor", "restricting_object"))
        #expect(uintValue(ro[child: "class_id"]) == 8)
        #expect(uintValue(ro[child: "attribute_index"]) == 2)
        #expect(node(d.fields, "access_selection", "access_selector")?.meaning == "range_descriptor")
        #expect(node(d.fields, "access_selection", "range_descriptor", "from_value") != nil)
    }

    @Test func dataNotificationWithoutDateTime() {
        // dlms-cosem tests/test_xdlms/test_data_notification.py
        let d = decode("0F000001DB00092212 5A8591360000000049000000110000000A5A8513D0148000000 00D0000000A0100".replacingOccurrences(of: " ", with: ""))
        #expect(d.type == "data-notification")
        #expect(d.errors.isEmpty, "\(d.errors)")
        #expect(d.facts.invokeID == 0x1DB)
        #expect(node(d.fields, "date_time")?.meaning == "absent")
        #expect(d.facts.values.first?.tag == 9)
    }

    // MARK: - SN services (built from the ASN.1, checked with Gurux's translator)

    @Test func snReadRequestWithVariableNameAndParameterizedAccess() throws {
        let d = decode("050202FA0004FA08020204060000000106 0000000A120001120000".replacingOccurrences(of: " ", with: ""))
        #expect(d.errors.isEmpty, "\(d.errors)")
        #expect(d.facts.objects.map(\.shortName) == [0xFA00, 0xFA08])
        #expect(d.facts.objects.last?.selector == 2)
        let entry = try #require(node(d.fields, "variable_access_specification", "parameterized_access",
                                      "entry_descriptor"))
        #expect(uintValue(entry[child: "to_entry"]) == 10)
    }

    @Test func snReadResponseWithDataAndError() {
        let d = decode("0C0200 09060000010000FF0104".replacingOccurrences(of: " ", with: ""))
        #expect(d.errors.isEmpty)
        #expect(d.facts.result == "object-undefined")
        #expect(d.facts.values.count == 1)
    }

    @Test func snWriteFamilyDecodes() {
        for (h, type) in [("060102FA0801120005", "write-request"), ("0D02000103", "write-response"),
                          ("160102FA08011105", "unconfirmed-write-request"),
                          ("18000102FA08011105", "information-report-request")] {
            let d = decode(h)
            #expect(d.type == type)
            #expect(d.errors.isEmpty, "\(type): \(d.errors)")
        }
        #expect(decode("0D02000103").facts.result == "read-write-denied")
    }

    // MARK: - Errors and notifications

    @Test func exceptionResponseNamesStateAndServiceError() {
        let d = decode("D80102")
        #expect(d.errors.isEmpty)
        #expect(node(d.fields, "state_error")?.meaning == "service-not-allowed")
        #expect(node(d.fields, "service_error")?.meaning == "service-not-supported")
        #expect(d.facts.result == "service-not-supported")
        // invocation-counter-error carries the expected counter (IEC 62056-5-3 §8, DLMS UA 1000-2 Ed. 9).
        let ic = decode("D8020600000123")
        #expect(ic.errors.isEmpty)
        #expect(uintValue(node(ic.fields, "invocation_counter")) == 0x123)
    }

    @Test func confirmedServiceErrorNamesServiceAndError() {
        let d = decode("0E050502")
        #expect(d.errors.isEmpty)
        #expect(node(d.fields, "service")?.meaning == "read")
        #expect(node(d.fields, "service_error", "access")?.meaning == "object-access-violated")
        #expect(d.facts.result == "object-access-violated")
    }

    @Test func eventNotificationRequestWithoutTime() {
        let d = decode("C2000008 0000010000FF02090C07E80301FF0C000000000000".replacingOccurrences(of: " ", with: ""))
        #expect(d.errors.isEmpty)
        #expect(d.facts.objects.first?.attributeID == 2)
        #expect(d.facts.values.count == 1)
    }

    @Test func accessRequestAndResponseListTheirSpecifications() {
        let q = decode("D940000001000201000800000100 00FF020300460000600300FF01020000".replacingOccurrences(of: " ", with: ""))
        #expect(q.errors.isEmpty, "\(q.errors)")
        #expect(q.facts.objects.count == 2)
        #expect(q.facts.objects.last?.methodID == 1)
        #expect(q.facts.confirmed == true)
        #expect(q.facts.invokeID == 1)
        let r = decode("DA400000010000 02090C07E80301FF0C000000000000000201000300".replacingOccurrences(of: " ", with: ""))
        #expect(r.errors.isEmpty, "\(r.errors)")
        #expect(r.facts.result == "success")
        #expect(r.facts.values.count == 2)
    }

    // MARK: - Other LN variants

    @Test func lnVariantsAreNamed() {
        let cases: [(String, String, String)] = [
            ("C002C100000002", "get-request", "next"),
            ("C104C10200010000600101FF020000010000600102FF02000212000512 0006", "set-request", "with-list"),
            ("C505C1020003", "set-response", "with-list"),
            ("C303C102 00460000600300FF01 00460000600300FF02 02 0F00 0F00", "action-request", "with-list"),
            ("C703C102 0000 000101 0B", "action-response", "with-list"),
            ("C304C100460000600300FF01 00 00000001 03 0F0000", "action-request", "with-first-pblock"),
            ("C702C10100000001030F0000", "action-response", "with-pblock"),
            ("C704C100000001", "action-response", "next-pblock"),
            ("C302C100000001", "action-request", "next-pblock"),
            ("C306C10100000002020F00", "action-request", "with-pblock"),
            ("C403C102010400120 0FF", "get-response", "with-list"),
            ("C401C10104", "get-response", "normal"),
            ("C504C1020000 00000003", "set-response", "last-datablock-with-list"),
            ("C105C101 00010000608000FF0200 01 00000001 03 0A0141", "set-request", "with-list-and-first-datablock"),
        ]
        for (h, type, variant) in cases {
            let d = decode(h.replacingOccurrences(of: " ", with: ""))
            #expect(d.type == type, "\(h)")
            #expect(d.facts.variant == variant, "\(h)")
            #expect(d.errors.isEmpty, "\(h): \(d.errors)")
            #expect(stringValue(node(d.fields, "variant")) == variant)
        }
        #expect(decode("C403C10201040012 00FF".replacingOccurrences(of: " ", with: "")).facts.result == "object-undefined")
        #expect(decode("C401C10104").facts.result == "object-undefined")
        #expect(decode("C703C10200000001010B".replacingOccurrences(of: " ", with: "")).facts.result == "success")
    }

    @Test func generalBlockTransferSplitsBlockControl() throws {
        let d = decode("E0C10002000103C401C1")
        #expect(d.errors.isEmpty)
        let b = try #require(d.facts.block)
        #expect(b.lastBlock)
        #expect(b.blockNumber == 2)
        #expect(b.gbt == GBTFacts(streaming: true, window: 1, blockNumberAck: 1))
        #expect(b.rawData == [0xC4, 0x01, 0xC1])
        #expect(node(d.fields, "block_control", "window").flatMap(uintValue) == 1)
    }

    // MARK: - Protected APDUs

    @Test func generalCipheringWithAgreedKey() throws {
        // dlms-cosem tests/test_xdlms/test_general_ciphering.py (Green Book Table 41: ACCESS with
        // general-ciphering, One-Pass Diffie-Hellman C(1e, 1s, ECC CDH))
        let h = """
            DD080102030405060708084D4D4D0000BC614E084D4D4D000000000100000102\
            01018180C323C2BD45711DE4688637D919F92E9DB8FB2DFC213A88D21C9DC8DC\
            BA917D8170511DE1BADB360D50058F794B0960AE11FA28D392CFF907A62D13E3\
            357B1DC0B51BE089D0B682863B2217201E73A1A9031968A9B4121DCBC3281A69\
            739AF87429F5B3AC5471E7B6A04A2C0F2F8A25FD772A317DF97FC5463FEAC248\
            EB8AB8BE81EB3100000000F435069679270C5BF4425EE5777402A6C8D51C620E\
            ED52DBB188378B836E2857D5C053E6DDF27FA87409AEF502CD9618AE47017C01\
            0224FD109CC0BEB21E742D44AB40CD11908743EC90EC8C40E221D517F72228E1\
            A26E827F43DC18ED27B5F458D66508B05A2A4CC6FED178C881AFC3BC67064689\
            BE8BB41C80ABB3C114A31F4CB03B8B64C7E0B4CE77B2399C93347858888F9223\
            9713B38DF01C4858245827A92EF334172EA636B31CBBDF2A96AD5D035F66AA38\
            F1A2D97D4BBA99622E6B5F18789CECB2DFB3937D9F3E17F8B472098E6563238F\
            37528374809836002AEA6E7012D2ADFAA7
            """
        let bytes = hex(h)
        #expect(bytes.count == 401)
        let d = APDUDecoder.decode(bytes[...])
        #expect(d.type == "general-ciphering")
        #expect(d.errors.isEmpty, "\(d.errors)")
        let p = try #require(d.facts.protection)
        #expect(p.transactionID == hex("0102030405060708"))
        #expect(p.originatorSystemTitle == hex("4D4D4D0000BC614E"))
        #expect(p.recipientSystemTitle == hex("4D4D4D0000000001"))
        #expect(p.dateTime == [])
        #expect(p.keyInfoChoice == 2)
        #expect(p.keyID == 1)
        #expect(p.keyCipheredData?.count == 128)
        #expect(p.securityControl == 0x31)
        #expect(p.suite == 1)
        #expect(p.invocationCounter == 0)
        #expect(p.payload.first == 0xF4)
    }

    @Test func generalCipheringKeyInfoChoices() throws {
        // Built from IEC 62056-5-3 §8 General-Ciphering / Key-Info (the layout of the dlms-cosem vector above).
        let header = "DD080102030405060708084D4D4D0000BC614E084D4D4D00000000010000"
        let content = "1131000000070102030405060708090A0B0C"
        let identified = decode(header + "010001" + content)
        #expect(identified.errors.isEmpty, "\(identified.errors)")
        #expect(identified.facts.protection?.keyInfoChoice == 0)
        #expect(identified.facts.protection?.keyID == 1)
        #expect(node(identified.fields, "key_info", "key_id")?.meaning == "global-broadcast-encryption-key")
        let wrapped = decode(header + "01010018" + String(repeating: "5A", count: 24) + content)
        #expect(wrapped.errors.isEmpty, "\(wrapped.errors)")
        #expect(wrapped.facts.protection?.keyInfoChoice == 1)
        #expect(wrapped.facts.protection?.keyCipheredData?.count == 24)
        let absent = decode(header + "00" + content)
        #expect(absent.errors.isEmpty)
        #expect(absent.facts.protection?.keyInfoChoice == nil)
        #expect(absent.facts.protection?.invocationCounter == 7)
        #expect(decode(header + "0103" + content).errors.first?.code == "apdu.bad-choice")
    }

    @Test func generalSigningKeepsContentAndSignature() throws {
        // Built from IEC 62056-5-3 §8 General-Signing (no public vector found): a get-request signed with a
        // 64-byte (P-256) signature.
        let sig = String(repeating: "AB", count: 64)
        let d = decode("DF080102030405060708084D4D4D0000BC614E084D4D4D000000000100000DC001C1000800000100 00FF0200".replacingOccurrences(of: " ", with: "") + "40" + sig)
        #expect(d.errors.isEmpty, "\(d.errors)")
        let p = try #require(d.facts.protection)
        #expect(p.kind == "general-signing")
        #expect(p.signedContent == hex("C001C100080000010000FF0200"))
        #expect(p.signature?.count == 64)
        #expect(node(d.fields, "content")?.meaning == "get-request")
        // The signed APDU is decoded in place, with offsets in the outer APDU.
        #expect(node(d.fields, "content", "cosem_attribute_descriptor", "class_id")?.offset == 34)
    }

    @Test func serviceSpecificCipheringIsNamedByTag() throws {
        // Gurux capture hdlc-auth-only, glo-get-request (authentication only, SC 0x10).
        let d = decode("c81e10000012a8c001c100080000010000ff0200b76b63d8c4d11c7b481a1370")
        #expect(d.type == "glo-get-request")
        #expect(d.errors.isEmpty)
        let p = try #require(d.facts.protection)
        #expect(p.kind == "glo-ciphering")
        #expect(p.protectedService == "get-request")
        #expect(p.authenticated && !p.encrypted)
        #expect(p.invocationCounter == 0x12A8)
        #expect(node(d.fields, "plain_text")?.meaning == "get-request")
        #expect(node(d.fields, "authentication_tag") != nil)
        // Authentication only: the plaintext APDU is shown decoded (offset 7, after tag, length, SC and IC).
        #expect(node(d.fields, "plain_text")?.offset == 7)
        #expect(node(d.fields, "plain_text", "cosem_attribute_descriptor", "class_id")?.offset == 10)
        #expect(node(d.fields, "plain_text", "cosem_attribute_descriptor", "class_id").flatMap(uintValue) == 8)
        for (tag, name) in [(0xD0, "ded-get-request"), (0xD7, "ded-action-response"), (0x2E, "glo-confirmed-service-error"),
                            (0x4E, "ded-confirmed-service-error"), (0xCA, "glo-event-notification-request")] {
            let x = APDUDecoder.decode(([UInt8(tag), 0x05, 0x20, 0, 0, 0, 1])[...])
            #expect(x.type == name)
            #expect(x.errors.isEmpty)
            #expect(x.facts.protection?.invocationCounter == 1)
        }
    }

    @Test func unknownTagIsKeptRawWithAnError() {
        let d = decode("FE0102")
        #expect(d.type == "unknown")
        #expect(d.errors.first?.code == "apdu.unknown-tag")
        #expect(node(d.fields, "raw") != nil)
    }
}
