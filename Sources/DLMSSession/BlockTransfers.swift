import DLMSAPDU
import DLMSWire

/// Service-specific block transfers in progress (GET datablocks, SET datablocks, ACTION pblocks), keyed by kind
/// family and invoke id. Each block's raw data is appended; the last block completes the transfer and its joined
/// data is decoded as one A-XDR value. Bounded by `maxBytes` per transfer and `maxTransfers`.
struct BlockTransfers: Sendable {
    struct Transfer: Sendable {
        var id: String
        var nextBlock: UInt32
        var blocks: Int
        var frames: [Int]
        var data: [UInt8]
        var lastTime: Timestamp?
        var overflow: Bool
    }

    static let maxBytes = 16 << 20
    static let maxTransfers = 32
    struct Key: Hashable {
        var family: String
        var invokeID: UInt32?
    }
    var open: [Key: Transfer] = [:]
    var counter = 0

    mutating func reset() { open.removeAll() }

    /// The family a block belongs to: requests and responses of one service share nothing, so GET response blocks
    /// and SET request blocks of the same invoke id are different transfers.
    static func family(_ kind: BlockFacts.Kind) -> String? {
        switch kind {
        case .getResponseDatablock: "get"
        case .setRequestDatablock: "set"
        case .actionRequestPblock: "action-request"
        case .actionResponsePblock: "action-response"
        case .getRequestNext, .setResponseDatablock, .actionRequestNextPblock, .actionResponseNextPblock,
             .generalBlockTransfer: nil
        }
    }

    mutating func add(_ b: BlockFacts, invokeID: UInt32?, service: String, frames: [Int], time: Timestamp?)
        -> (position: BlockPosition?, reassembled: Reassembly?, notes: [String])
    {
        guard let family = Self.family(b.kind) else {
            // Acknowledgements and next-block requests name the block they acknowledge.
            return (nil, nil, [])
        }
        let key = Key(family: family, invokeID: invokeID)
        var notes: [String] = []
        if let r = b.dataAccessResult {
            // The server gave up: a data-access-result instead of raw data ends the transfer.
            if let t = open.removeValue(forKey: key) {
                notes.append("block transfer \(t.id) aborted by the peer: \(r)")
                return (BlockPosition(transfer: t.id, blockNumber: b.blockNumber, lastBlock: true), nil, notes)
            }
            return (nil, nil, ["block \(b.blockNumber) carries \(r)"])
        }
        var t: Transfer
        // Taken out of the table while it grows: appending to a copy the table still shares would copy the data.
        let existing = open.removeValue(forKey: key)
        if let existing, b.blockNumber != 1 || existing.nextBlock == 1 {
            t = existing
        } else {
            if let old = existing {
                notes.append("block transfer \(old.id) restarted at block 1 after \(old.blocks) blocks")
            }
            // The restarted transfer (taken out above) still counts as open here, as it did in the table.
            if open.count + (existing == nil ? 0 : 1) >= Self.maxTransfers {
                let oldestOther = open.min(by: { $0.value.id < $1.value.id })
                if let o = oldestOther, existing.map({ o.value.id < $0.id }) ?? true {
                    open[o.key] = nil
                    notes.append("too many block transfers open: the oldest was dropped")
                } else if existing != nil {
                    notes.append("too many block transfers open: the oldest was dropped")
                }
            }
            counter += 1
            t = Transfer(id: "\(family)#\(counter)", nextBlock: b.blockNumber, blocks: 0, frames: [], data: [],
                         lastTime: time, overflow: false)
            if b.blockNumber != 1 {
                notes.append("transfer starts at block \(b.blockNumber): blocks 1..\(b.blockNumber - 1) not seen")
            }
        }
        if b.blockNumber < t.nextBlock {
            notes.append("block \(b.blockNumber) repeated (expected \(t.nextBlock)): not joined twice")
            open[key] = t
            return (BlockPosition(transfer: t.id, blockNumber: b.blockNumber, lastBlock: b.lastBlock), nil, notes)
        }
        if b.blockNumber > t.nextBlock {
            notes.append("blocks \(t.nextBlock)..\(b.blockNumber - 1) missing")
        }
        t.nextBlock = b.blockNumber &+ 1
        t.blocks += 1
        t.frames.append(contentsOf: frames)
        t.lastTime = time
        if let raw = b.rawData {
            if t.data.count + raw.count > Self.maxBytes {
                t.overflow = true
            } else {
                t.data.append(contentsOf: raw)
            }
        }
        let position = BlockPosition(transfer: t.id, blockNumber: b.blockNumber, lastBlock: b.lastBlock)
        guard b.lastBlock else {
            open[key] = t
            return (position, nil, notes)
        }
        open[key] = nil
        if t.overflow {
            notes.append("transfer \(t.id) larger than \(Self.maxBytes) bytes: not reassembled")
            return (position, nil, notes)
        }
        var value: DataValue?
        var error: DecodeError?
        // SET datablocks and ACTION pblocks carry the Data of the request; GET datablocks the Data of the
        // response. Either way the joined raw data is one A-XDR value (or a list for with-list variants).
        var r = ByteReader(t.data)
        do {
            value = try AXDR.decodeData(&r)
            if !r.isAtEnd {
                error = DecodeError("block.trailing-bytes", "\(r.remaining) bytes after the reassembled value",
                                    offset: r.offset)
            }
        } catch let e {
            error = e
        }
        return (position, Reassembly(blocks: t.blocks, frames: t.frames, bytes: t.data, value: value, error: error),
                notes)
    }

    func openTransfersDescription() -> [String] {
        open.values.sorted { $0.id < $1.id }.map {
            "block transfer \($0.id) incomplete: \($0.blocks) blocks received, block \($0.nextBlock) never came"
        }
    }
}
