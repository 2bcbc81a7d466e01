import DLMSWire
import Testing
@testable import DLMSXML

/// APDU kinds the captures do not contain, built from their A-XDR layout (IEC 62056-5-3 §8): each decodes to a
/// tree (not `undecoded-apdu`) and encodes back to the same bytes.
@Suite struct XMLCoverageTests {
    static func decoded(_ h: String) throws -> XElement {
        let b = hex(h)
        let e = XMLTranslator.apduToElement(b[...])
        #expect(e.children.first?.name != "undecoded-apdu", "\(h) \(e.children.first?.attributes ?? [])")
        #expect(try XMLEncoder.encode(xml: e.xmlString()) == b, "\(h)")
        return e
    }

    @Test func everyDataTypeHasATextFormAndRoundTrips() throws {
        // get-response-normal with a structure of every A-XDR type (tags 0…27 and 255).
        let e = try Self.decoded(
            "c401c100" + "021a" + "00" + "0300" + "040c0a40" + "05fffffffb" + "0600000001" + "09020102" + "0a0141"
                + "0c02c3a9" + "0d12" + "0ffe" + "10fed4" + "11c8" + "12ea60" + "14ffffffffffffffff"
                + "150000000000000001" + "1603" + "173fc00000" + "184002000000000000" + "1907e80301ff0c000000800000"
                + "1a07e80301ff" + "1b0c000000" + "ff" + "1302021211" + "0401020304" + "0101" + "0300" + "0201"
                + "0301" + "0a020a41")
        let values = try #require(e.child("get-response")?.child("get-response-normal")?.child("result")?
            .child("data")?.child("structure")).children
        #expect(values.map(\.name) == [
            "null-data", "boolean", "bit-string", "double-long", "double-long-unsigned", "octet-string",
            "visible-string", "utf8-string", "bcd", "integer", "long", "unsigned", "long-unsigned", "long64",
            "long64-unsigned", "enum", "float32", "float64", "date-time", "date", "time", "dont-care",
            "compact-array", "array", "structure", "visible-string",
        ])
        #expect(values[1].text == "false")
        #expect(values[2].text == "000010100100")
        #expect(values[3].text == "-5")
        #expect(values[7].text == "é")
        #expect(values[13].text == "-1")
        #expect(values[16].text == "3FC00000")
        #expect(values[25].attribute("encoding") == "hex")  // "\nA": a control character
    }

    @Test func generalCipheringWithEachKeyInfoChoiceRoundTrips() throws {
        let header = "dd" + "08 0102030405060708" + "084d4d4d0000bc614e" + "084142434445464748" + "00" + "00"
        for keyInfo in ["00", "010002", "01010110" + String(repeating: "ab", count: 16),
                        "0102" + "0101" + "40" + String(repeating: "cd", count: 64)] {
            let h = header.replacingOccurrences(of: " ", with: "") + keyInfo + "0a3000000001c0ffee0011"
            let e = try Self.decoded(h)
            #expect(e.child("general-ciphering")?.child("ciphered-content")?.text == "3000000001C0FFEE0011")
        }
    }

    @Test func notificationsExceptionsAndBlockTransfersRoundTrip() throws {
        // event-notification-request with time, exception-response (with invocation-counter-error),
        // confirmed-service-error, GBT last block with streaming, action-request-with-list, set-request-with-list,
        // action-response-with-list, set-response-with-list, get-request-next, action-request-next-pblock.
        for h in ["c2010c07e80301ff0c000000800000 0003 0100010800ff 02 060000002a",
                  "c200 0003 0100010800ff 02 110a", "d80102", "d80106000004d2", "0e06000b",
                  "e0c1000300020401020304", "c303c102000f0000280000ff01000f0000280000ff02020f0111000200",
                  "c104c102000100006001 00ff020000030100010800ff02000211051200aa",
                  "c703c1020000010009020102", "c505c102000b", "c002c100000005", "c302c100000002",
                  "c306c1010000000104aabbccdd", "c704c100000009", "c702c1000000000103010203"] {
            _ = try Self.decoded(h.replacingOccurrences(of: " ", with: ""))
        }
    }

    @Test func initiateResponseAndConformanceNamesRoundTrip() throws {
        // wrapper-ded #1's InitiateResponse (the AARE user-information, Captures/gurux/wrapper-ded.truth.jsonl).
        let e = try Self.decoded("0800065f1f0400001e1d03000007")
        #expect(e.child("initiateResponse")?.child("negotiated-conformance")?.text.split(separator: " ").count == 8)
    }
}
