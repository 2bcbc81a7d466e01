import DLMSWire
import Testing
@testable import DLMSXML

/// Bad input is normal input: truncated, random and mutated APDUs and XML never crash, and every byte string
/// still round-trips exactly (as a decoded tree or as `undecoded-apdu`).
@Suite struct XMLRobustnessTests {
    /// SplitMix64, seeded, so that a failure reproduces.
    struct SplitMix64 {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
    }

    /// One APDU of each kind from the Gurux captures (hdlc-auth-only and wrapper-push-glo truth files).
    static let samples: [String] = [
        "605da109060760857405080103a60a0408434c498438fea81f8a0207808b0760857405080205ac1280103cdd4a848fc8e60ec593c80d8d082ab5be230421211f10000012a501000000065f1f0400001e5d0200df8be5162152a67a1066f044",
        "6169a109060760857405080103a203020100a305a10302010ea40a04084752588a017edc8d88020780890760857405080205aa1280109292431bf27b9b82f660e76e55c4f6dfbe230421281f10000009bf0800065f1f0400001e1d020000077d28f81e4fa9af875b340939",
        "c003c10500080000010000ff020000030100020800ff030000030100020800ff020000030100200700ff030000030100200700ff0200",
        "c403c10500090c07e80301ff0c0000000000000002020f01161e0006000010e10002020fff1623001208fd",
        "c001c100070100630100ff020102020406000000170600000020120001120000",
        "c701c1000100091110000009c025d39ed241650fdf1d079060",
        "0fc000000100020409060007190900ff0a0b4752583337323131373434090c07e80301ff0c000000000000060001e240",
        "c503c10000000003", "c102c100010000608000ff020000000000018201d50a8204b7", "6321800100be220421281f10000009f20800065f1f0400001e1d02000007963144d3466a12cccb48ce1f",
        "dc08434c4947aea7afe01e3000000d0a134146a5c73b86e5d0c601c770d7b1d25f5c0e70b4a25463c7",
        "e001000100000401020304", "0101105e1ed83662cf2e47f7aad7544490a4030000065f1f0400001e5d0300",
        "d9c000000100010100030100000700ff030100", "dac000000100000102020f001600010100",
    ]

    @Test func everyStrictPrefixOfAnAPDURoundTripsWithoutCrashing() throws {
        for s in Self.samples {
            let b = hex(s)
            #expect(!b.isEmpty)
            for n in 0...b.count {
                let xml = XMLTranslator.apduToXML(b.prefix(n))
                #expect(try XMLEncoder.encode(xml: xml) == Array(b.prefix(n)), "\(s.prefix(16)) prefix \(n)")
            }
        }
    }

    @Test func randomBytesAfterARealTagRoundTripExactly() throws {
        var rng = SplitMix64(state: 0x5EED)
        let tags: [UInt8] = [0x60, 0x61, 0x62, 0x63, 0xC0, 0xC1, 0xC3, 0xC4, 0xC5, 0xC7, 0x0F, 0xD8, 0xD9, 0xDA, 0xDB,
                             0xDD, 0xDF, 0xE0, 0x01, 0x08, 0x0E, 0xC8]
        for i in 0..<3000 {
            var b = [tags[i % tags.count]]
            for _ in 0..<(Int(rng.next() % 40)) { b.append(rng.byte() % (i % 3 == 0 ? 4 : 255)) }
            let xml = XMLTranslator.apduToXML(b[...])
            #expect(try XMLEncoder.encode(xml: xml) == b, "\(Hex.encode(b))")
        }
    }

    @Test func mutatedXMLIsRejectedOrEncodedButNeverCrashes() {
        var rng = SplitMix64(state: 42)
        let base = Array(XMLTranslator.apduToXML(hex(Self.samples[2])[...]).utf8)
        let alphabet = Array("<>/=\"&;x:-0123456789ABCDEF abc\n".utf8)
        for _ in 0..<2000 {
            var m = base
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let at = Int(rng.next() % UInt64(m.count))
                switch rng.next() % 3 {
                case 0: m[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: m.remove(at: at)
                default: m.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: at)
                }
            }
            _ = try? XMLEncoder.encode(xml: String(decoding: m, as: UTF8.self))
        }
    }

    @Test func deeplyNestedDataIsBoundedNotRecursedForever() throws {
        // 200 nested one-element arrays: deeper than the 64-level data limit → undecoded-apdu, still exact.
        let b = hex("c401c100") + [UInt8](repeating: 0, count: 0) + Array([[UInt8]](repeating: [0x01, 0x01], count: 200).joined()) + [0x00]
        let xml = XMLTranslator.apduToXML(b[...])
        #expect(xml.contains("undecoded-apdu"))
        #expect(try XMLEncoder.encode(xml: xml) == b)
    }
}
