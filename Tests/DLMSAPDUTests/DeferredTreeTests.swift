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
        #expect(String(describing: deferred.facts) == String(describing: built.facts), "\(label)")
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
