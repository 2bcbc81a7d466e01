import DLMSWire
import Foundation
import Testing
@testable import DLMSAPDU

/// Every APDU of the Gurux captures (`Captures/gurux/*.truth.jsonl`, produced by gurux-dlms 1.0.203 and checked
/// by an independent decryption): decoded without errors, and its facts equal to the truth's normalised facts.
@Suite struct GuruxTruthTests {
    @Test func everyWireAPDUDecodesWithItsTypeAndNoErrors() throws {
        var checked = 0
        for (file, rec) in try truthRecords() {
            let kind = rec["kind"] as? String
            guard kind == "apdu" || (kind == "reassembled" && rec["via"] as? String == "general-block-transfer"),
                  let h = rec["apdu_hex"] as? String else { continue }
            let d = APDUDecoder.decode(hex(h)[...])
            let where_ = "\(file) #\(rec["index"] ?? "?")"
            #expect(d.type == rec["apdu"] as? String, "\(where_)")
            // neg-truncated-segment and neg-wrapper-length cut or pad APDUs: errors are expected there only.
            if !file.hasPrefix("neg-truncated") && !file.hasPrefix("neg-wrapper") {
                #expect(unexpectedErrors(d).isEmpty, "\(where_): \(d.errors)")
            }
            if let c = rec["ciphered"] as? [String: Any], let p = d.facts.protection {
                #expect(Int(p.invocationCounter) == c["invocation_counter"] as? Int, "\(where_)")
                #expect("0x" + Hex.encode([p.securityControl]) == c["security_control"] as? String, "\(where_)")
            }
            checked += 1
        }
        #expect(checked > 1500)
    }

    @Test func everyDecryptedAPDUMatchesTheTruthFacts() throws {
        var checked = 0
        for (file, rec) in try truthRecords() {
            guard let facts = rec["facts"] as? [String: Any] else { continue }
            let ciphered = rec["ciphered"] as? [String: Any]
            if let c = ciphered, c["decrypt"] as? String != "ok" { continue }
            let h = (rec["plain_hex"] as? String) ?? (rec["apdu_hex"] as? String) ?? ""
            let d = APDUDecoder.decode(hex(h)[...])
            let w = "\(file) #\(rec["index"] ?? "?")"
            if file.hasPrefix("neg-truncated") || file.hasPrefix("neg-wrapper") { continue }
            #expect(unexpectedErrors(d).isEmpty, "\(w): \(d.errors)")
            compare(d.facts, facts, w)
            checked += 1
        }
        #expect(checked > 1500)
    }

    /// Errors other than the one known Gurux fault: its RLRE carries wrong BER lengths (outer APDU and
    /// user-information), which the decoder reports as `ber.length-mismatch` while decoding every field.
    private func unexpectedErrors(_ d: DecodedAPDU) -> [DecodeError] {
        d.errors.filter { !(d.type == "rlre" && $0.code == "ber.length-mismatch") }
    }

    private func compare(_ f: ServiceFacts, _ t: [String: Any], _ w: String) {
        #expect(f.type == t["apdu"] as? String, "\(w)")
        if let v = t["type"] as? String { #expect(f.variant == v, "\(w)") }
        if let v = t["invoke_id"] as? Int { #expect(f.invokeID.map(Int.init) == v, "\(w)") }
        if let v = t["long_invoke_id"] as? Int { #expect(f.invokeID.map(Int.init) == v & 0xFF_FFFF, "\(w)") }
        if let v = t["priority_high"] as? Bool { #expect(f.priorityHigh == v, "\(w)") }
        if let v = t["confirmed"] as? Bool { #expect(f.confirmed == v, "\(w)") }
        if let cid = t["class_id"] as? Int {
            let o = f.objects.first
            #expect(o.map { Int($0.classID) } == cid, "\(w)")
            #expect(o.map { COSEM.dottedOBIS($0.obis) } == t["obis"] as? String, "\(w)")
            if let a = t["attribute_id"] as? Int { #expect(o?.attributeID.map(Int.init) == a, "\(w)") }
            if let m = t["method_id"] as? Int { #expect(o?.methodID.map(Int.init) == m, "\(w)") }
            if let s = t["selector"] as? Int { #expect(o?.selector.map(Int.init) == s, "\(w)") }
        }
        if let items = t["items"] as? [[String: Any]] {
            #expect(f.objects.count == items.count, "\(w)")
            for (o, item) in zip(f.objects, items) {
                #expect(Int(o.classID) == item["class_id"] as? Int, "\(w)")
                #expect(COSEM.dottedOBIS(o.obis) == item["obis"] as? String, "\(w)")
            }
        }
        if let r = t["result"] as? String {
            if r == "data" {
                #expect(f.result == "success", "\(w)")
                if let dt = t["data_type"] as? Int { #expect(f.values.first.map { Int($0.tag) } == dt, "\(w)") }
            } else if r == "raw-data" {
                #expect(f.block?.rawData?.count == t["raw_data_len"] as? Int, "\(w)")
            } else {
                #expect(f.result == r, "\(w)")
            }
        }
        if let n = t["block_number"] as? Int { #expect(f.block.map { Int($0.blockNumber) } == n, "\(w)") }
        if let l = t["last_block"] as? Bool { #expect(f.block?.lastBlock == l, "\(w)") }
        if let a = t["block_number_ack"] as? Int { #expect(f.block?.gbt.map { Int($0.blockNumberAck) } == a, "\(w)") }
        if let win = t["window"] as? Int { #expect(f.block?.gbt.map { Int($0.window) } == win, "\(w)") }
        if let s = t["streaming"] as? Bool { #expect(f.block?.gbt?.streaming == s, "\(w)") }
        if let n = t["block_data_len"] as? Int { #expect(f.block?.rawData?.count == n, "\(w)") }
        // ACSE
        let a = f.association
        if let m = t["mechanism_name"] as? String { #expect(a?.mechanism == Int(m.suffix(2), radix: 16), "\(w)") }
        if let m = t["mechanism"] as? Int { #expect(a?.mechanism == m, "\(w)") }
        if let s = t["calling_ap_title"] as? String { #expect(a?.callingAPTitle.map { Hex.encode($0) } == s, "\(w)") }
        if let s = t["responding_ap_title"] as? String {
            #expect(a?.respondingAPTitle.map { Hex.encode($0) } == s, "\(w)")
        }
        if let s = t["calling_authentication_value"] as? String {
            #expect(a?.callingAuthenticationValue.map { Hex.encode($0) } == s, "\(w)")
        }
        if let s = t["responding_authentication_value"] as? String {
            #expect(a?.respondingAuthenticationValue.map { Hex.encode($0) } == s, "\(w)")
        }
        if let v = t["diagnostic"] as? Int { #expect(a?.diagnostic == v, "\(w)") }
        if let v = t["diagnostic_source"] as? String { #expect(a?.diagnosticSource == v, "\(w)") }
        if let ui = t["user_information"] as? String, let bytes = a?.userInformation, let first = bytes.first {
            #expect(APDUNames.apduType(first) == ui, "\(w)")
        }
        if let plain = t["initiate_plain_hex"] as? String {
            // The decrypted InitiateRequest/Response decodes on its own, as an xDLMS APDU.
            let d = APDUDecoder.decode(hex(plain)[...])
            #expect(d.errors.isEmpty, "\(w): \(d.errors)")
            #expect(d.facts.association?.initiate != nil, "\(w)")
            if let key = t["dedicated_key_in_initiate"] as? String {
                #expect(d.facts.association?.initiate?.dedicatedKey.map { Hex.encode($0) } == key, "\(w)")
            }
        }
    }
}
