import DLMSAPDU
import DLMSWire
@testable import DLMSSession

/// Hand-built xDLMS block-transfer APDUs (IEC 62056-5-3 §8 ASN.1, A-XDR; tags and choices as in Gurux
/// `GXDLMSLNCommandHandler`/`GXDLMS.getLNPdu` and dlms-cosem `xdlms/get.py`, `set.py`, `action.py`,
/// `general_block_transfer.py`). The invoke-id-and-priority byte is 0xC0 | invoke id (confirmed, high priority).
enum BlockAPDU {
    static func u16(_ n: UInt16) -> [UInt8] { [UInt8(n >> 8), UInt8(n & 0xFF)] }
    static func u32(_ n: UInt32) -> [UInt8] {
        [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
    }

    /// A-XDR length (one byte below 128, else 0x81/0x82 + big-endian) and the bytes.
    static func octets(_ b: [UInt8]) -> [UInt8] {
        let n = b.count
        let len: [UInt8] = n < 0x80 ? [UInt8(n)] : n < 0x100 ? [0x81, UInt8(n)] : [0x82] + u16(UInt16(n))
        return len + b
    }

    static func iip(_ invoke: UInt8) -> UInt8 { 0xC0 | (invoke & 0x0F) }

    /// Profile generic (class 7) 1.0.99.1.0.255 attribute 2 (buffer), no access selection.
    static let attribute: [UInt8] = [0x00, 0x07, 0x01, 0x00, 0x63, 0x01, 0x00, 0xFF, 0x02]
    /// Image transfer (class 18) 0.0.44.0.0.255 method 2 (image_block_transfer).
    static let method: [UInt8] = [0x00, 0x12, 0x00, 0x00, 0x2C, 0x00, 0x00, 0xFF, 0x02]

    static func dataBlockSA(last: Bool, block: UInt32, raw: [UInt8]) -> [UInt8] {
        [last ? 0x01 : 0x00] + u32(block) + octets(raw)
    }

    // GET
    static func getRequestNext(_ invoke: UInt8, block: UInt32) -> [UInt8] { [0xC0, 0x02, iip(invoke)] + u32(block) }
    static func getResponseBlock(_ invoke: UInt8, last: Bool, block: UInt32, raw: [UInt8]) -> [UInt8] {
        [0xC4, 0x02, iip(invoke), last ? 0x01 : 0x00] + u32(block) + [0x00] + octets(raw)
    }
    /// DataBlock-G with a data-access-result instead of raw data.
    static func getResponseResult(_ invoke: UInt8, block: UInt32, result: UInt8) -> [UInt8] {
        [0xC4, 0x02, iip(invoke), 0x01] + u32(block) + [0x01, result]
    }

    // SET
    static func setFirst(_ invoke: UInt8, last: Bool, raw: [UInt8]) -> [UInt8] {
        [0xC1, 0x02, iip(invoke)] + attribute + [0x00] + dataBlockSA(last: last, block: 1, raw: raw)
    }
    static func setBlock(_ invoke: UInt8, last: Bool, block: UInt32, raw: [UInt8]) -> [UInt8] {
        [0xC1, 0x03, iip(invoke)] + dataBlockSA(last: last, block: block, raw: raw)
    }
    static func setListFirst(_ invoke: UInt8, last: Bool, raw: [UInt8]) -> [UInt8] {
        [0xC1, 0x05, iip(invoke), 0x02] + attribute + [0x00] + attribute + [0x00]
            + dataBlockSA(last: last, block: 1, raw: raw)
    }
    static func setResponseBlock(_ invoke: UInt8, block: UInt32) -> [UInt8] { [0xC5, 0x02, iip(invoke)] + u32(block) }
    static func setResponseLast(_ invoke: UInt8, result: UInt8, block: UInt32) -> [UInt8] {
        [0xC5, 0x03, iip(invoke), result] + u32(block)
    }

    // ACTION
    static func actionFirst(_ invoke: UInt8, last: Bool, raw: [UInt8]) -> [UInt8] {
        [0xC3, 0x04, iip(invoke)] + method + dataBlockSA(last: last, block: 1, raw: raw)
    }
    static func actionListFirst(_ invoke: UInt8, last: Bool, raw: [UInt8]) -> [UInt8] {
        [0xC3, 0x05, iip(invoke), 0x02] + method + method + dataBlockSA(last: last, block: 1, raw: raw)
    }
    static func actionWithPblock(_ invoke: UInt8, last: Bool, block: UInt32, raw: [UInt8]) -> [UInt8] {
        [0xC3, 0x06, iip(invoke)] + dataBlockSA(last: last, block: block, raw: raw)
    }
    static func actionRequestNext(_ invoke: UInt8, block: UInt32) -> [UInt8] { [0xC3, 0x02, iip(invoke)] + u32(block) }
    static func actionResponsePblock(_ invoke: UInt8, last: Bool, block: UInt32, raw: [UInt8]) -> [UInt8] {
        [0xC7, 0x02, iip(invoke)] + dataBlockSA(last: last, block: block, raw: raw)
    }
    static func actionResponseNext(_ invoke: UInt8, block: UInt32) -> [UInt8] { [0xC7, 0x04, iip(invoke)] + u32(block) }
    /// action-response-normal with a result and no return parameters.
    static func actionResponseNormal(_ invoke: UInt8, result: UInt8) -> [UInt8] {
        [0xC7, 0x01, iip(invoke), result, 0x00]
    }

    // GBT
    static func gbt(last: Bool, streaming: Bool = false, window: UInt8 = 1, block: UInt16, ack: UInt16,
                    data: [UInt8]) -> [UInt8] {
        [0xE0, (last ? 0x80 : 0) | (streaming ? 0x40 : 0) | (window & 0x3F)] + u16(block) + u16(ack) + octets(data)
    }

    /// A profile-buffer-like value: array of `rows` structures { long-unsigned row, double-long-unsigned 1000 + row }.
    static func profile(rows: Int) -> (bytes: [UInt8], value: DataValue) {
        var b: [UInt8] = [0x01] + (rows < 0x80 ? [UInt8(rows)] : [0x81, UInt8(rows)])
        var items: [DataValue] = []
        for i in 0..<rows {
            b += [0x02, 0x02, 0x12] + u16(UInt16(i)) + [0x06] + u32(UInt32(1000 + i))
            items.append(.structure([.longUnsigned(UInt16(i)), .doubleLongUnsigned(UInt32(1000 + i))]))
        }
        return (b, .array(items))
    }

    /// `bytes` cut into `n` pieces of nearly equal size.
    static func split(_ bytes: [UInt8], into n: Int) -> [[UInt8]] {
        let size = (bytes.count + n - 1) / n
        return stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min($0 + size, bytes.count)]) }
    }
}

/// Feeds decoded APDUs to a conversation's session state as the analyzer's pipeline does (plaintext facts).
struct BlockSession {
    var state = ConversationState(id: "c1")
    var frame = 0

    typealias Observation = (block: BlockPosition?, reassembled: Reassembly?, notes: [String],
                             scalerUnits: [ObjectRef: ScalerUnitInfo])

    /// Decodes `apdu` (which must decode without errors) and observes it; frames are numbered 1, 2, 3...
    mutating func feed(_ apdu: [UInt8], _ direction: Direction, time: Timestamp? = nil) -> Observation {
        frame += 1
        let d = APDUDecoder.decode(apdu[...])
        precondition(d.errors.isEmpty, "test APDU did not decode: \(d.errors.map(\.description))")
        return state.observe(service: d.facts, direction: direction, frames: [frame], time: time)
    }
}

func at(_ seconds: Int64) -> Timestamp { Timestamp(seconds: 1_700_000_000 + seconds, micros: 0) }
