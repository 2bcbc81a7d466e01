import DLMSWire
import Testing
@testable import DLMSAPDU

/// `DecodeOptions.buildTree == false` decodes facts and errors only and builds `fields` when it is read. Both ways
/// must agree exactly, on the Gurux APDUs (`Captures/gurux/*.truth.jsonl`, produced by gurux-dlms 1.0.203) and on
/// every strict prefix of the short ones (where decoding stops inside a group).
@Suite struct DeferredTreeTests {
    private func expectSame(_ bytes: ArraySlice<UInt8>, _ label: String) {
        let built = APDUDecoder.decode(bytes, options: DecodeOptions(buildTree: true))
        let deferred = APDUDecoder.decode(bytes, options: DecodeOptions(buildTree: false))
        #expect(!built.isTreeDeferred, "\(label)")
        #expect(deferred.isTreeDeferred || bytes.isEmpty, "\(label)")
        #expect(deferred.tag == built.tag && deferred.type == built.type, "\(label)")
        #expect(String(describing: deferred.errors) == String(describing: built.errors), "\(label)")
        // Without a tree the values are kept as their bytes and decoded when read: the same values.
        var d = deferred.facts
        var b = built.facts
        #expect(String(describing: d.values) == String(describing: b.values), "\(label)")
        #expect(d.valueCount == b.valueCount, "\(label)")
        #expect(String(describing: d.firstValue) == String(describing: b.firstValue), "\(label)")
        d.values = []
        b.values = []
        #expect(String(describing: d) == String(describing: b), "\(label)")
        #expect(String(describing: deferred.fields) == String(describing: built.fields), "\(label)")
    }

    @Test func aDeferredTreeEqualsTheTreeBuiltWhileDecodingOnEveryGuruxAPDU() throws {
        var checked = 0
        for (file, rec) in try truthRecords() {
            for key in ["apdu_hex", "plain_hex"] {
                guard let h = rec[key] as? String else { continue }
                expectSame(hex(h)[...], "\(file) #\(rec["index"] ?? "?") \(key)")
                checked += 1
            }
        }
        #expect(checked > 1500)
    }

    @Test func everyStrictPrefixDecodesTheSameWithAndWithoutATree() throws {
        var checked = 0
        for (file, rec) in try truthRecords().prefix(400) {
            guard let h = rec["plain_hex"] as? String ?? rec["apdu_hex"] as? String else { continue }
            let bytes = hex(h)
            guard bytes.count <= 160 else { continue }
            for n in 0..<bytes.count {
                expectSame(bytes[..<n], "\(file) #\(rec["index"] ?? "?") prefix \(n)")
                checked += 1
            }
        }
        #expect(checked > 1000)
    }

    @Test func valuesKeptAsBytesDecodeWhenRead() {
        // get-response-with-list (two results: a structure, a data-access-result), then get-response-normal.
        let withList = APDUDecoder.decode(hex("C4 03 C1 02 00 02 02 11 07 09 02 41 42 01 03")[...],
                                          options: DecodeOptions(buildTree: false))
        #expect(withList.errors.isEmpty)
        #expect(withList.facts.valueCount == 1)
        #expect(withList.facts.values == [.structure([.unsigned(7), .octetString([0x41, 0x42])])])
        let two = APDUDecoder.decode(hex("C4 03 C1 02 00 11 07 00 12 00 08")[...], options: DecodeOptions(buildTree: false))
        #expect(two.facts.valueCount == 2 && two.facts.values == [.unsigned(7), .longUnsigned(8)])
        #expect(two.facts.firstValue == .unsigned(7))
        let normal = APDUDecoder.decode(hex("C4 01 C1 00 06 00 00 01 2C")[...], options: DecodeOptions(buildTree: false))
        #expect(normal.facts.firstValue == .doubleLongUnsigned(300))
        var f = normal.facts
        f.values = [.nullData]
        #expect(f.values == [.nullData] && f.valueCount == 1)
        // A malformed value gives the error decoding gives, and no value.
        let bad = APDUDecoder.decode(hex("C4 01 C1 00 09 05 41")[...], options: DecodeOptions(buildTree: false))
        let eager = APDUDecoder.decode(hex("C4 01 C1 00 09 05 41")[...], options: DecodeOptions(buildTree: true))
        #expect(bad.errors.map(\.code) == eager.errors.map(\.code))
        #expect(bad.errors.map(\.offset) == eager.errors.map(\.offset))
        #expect(bad.facts.valueCount == 0)
    }

    @Test func settingFieldsReplacesADeferredTree() {
        var d = APDUDecoder.decode(hex("C0 01 C1 00 08 00 00 01 00 00 FF 02 00")[...],
                                   options: DecodeOptions(buildTree: false))
        #expect(d.isTreeDeferred)
        #expect(d.fields.count > 0)
        d.fields = []
        #expect(!d.isTreeDeferred)
        #expect(d.fields.isEmpty)
    }
}
