import DLMSAPDU
import DLMSWire

/// Service-specific block transfers in progress (GET datablocks, SET datablocks, ACTION pblocks), keyed by kind
/// family and invoke id (IEC 62056-5-3 §9.4.6.4-9.4.6.6; Gurux `GXDLMSClient.getData`/`GXDLMS.handleGetResponse`).
///
/// Each block's raw data is joined in block-number order; the last block completes the transfer once every block
/// from the first one seen up to it is there, and the joined data is decoded as one A-XDR value (or, for the
/// with-list variants, as the list the data encodes).
///
/// Irregular transfers are reported in notes whose phrases `BlockTransferRule` matches:
/// - a gap: "blocks A..B missing" (held blocks wait for it: a late block fills it, "arrived out of order");
/// - a first block other than 1: "transfer starts at block N: blocks 1..N-1 not seen";
/// - a block received twice: "block N repeated (expected M): not joined twice";
/// - a data-access-result instead of raw data: "block transfer X aborted by the peer: R" (or "block N carries R"
///   when no transfer was open, e.g. `no-long-get-in-progress`); a set-response-last-datablock while the SET
///   transfer is still open: "block transfer X aborted by the peer: ...";
/// - block 1 with other bytes while a transfer is open: "block transfer X restarted at block 1 after N blocks";
/// - bounds (`maxBytes` per transfer, `maxTransfers` open): notes starting `reassembly.limit:`;
/// - idle expiry: a transfer not continued within `idleSeconds` of capture time is dropped with a note starting
///   `reassembly.expired:` (checked whenever a block arrives; no capture time, no expiry).
struct BlockTransfers: Sendable {
    struct Transfer: Sendable {
        var id: String
        /// The next block expected in sequence (every block below it is joined into `data`).
        var nextBlock: UInt32
        /// Lowest block number of the transfer (1 unless the capture started in the middle).
        var firstBlock: UInt32
        var blocks: Int
        var frames: [Int]
        var data: [UInt8]
        /// Length of the first block's data, to tell a repeated first block from a restart.
        var firstLength: Int
        /// Blocks received ahead of a gap, waiting for it to be filled.
        var ahead: [UInt32: (data: [UInt8], frames: [Int])]
        var aheadBytes: Int
        /// Block number of the last block, once it came.
        var lastBlockNumber: UInt32?
        var lastTime: Timestamp?
        var overflow: Bool
    }

    static let maxBytes = 16 << 20
    static let maxTransfers = 32
    /// Blocks held ahead of a gap per transfer.
    static let maxAhead = 1024
    /// Blocks per transfer (blocks without raw data would otherwise grow a transfer without bytes).
    static let maxBlocks = 1 << 20
    /// Which service and direction a transfer's blocks belong to (its id starts with the raw value).
    enum Family: String {
        case get
        case set
        case actionRequest = "action-request"
        case actionResponse = "action-response"
    }
    struct Key: Hashable {
        var family: Family
        var invokeID: UInt32?

        /// One word: looked up for every block.
        func hash(into h: inout Hasher) {
            let f: UInt64 = switch family {
            case .get: 0
            case .set: 1
            case .actionRequest: 2
            case .actionResponse: 3
            }
            h.combine(UInt64(invokeID ?? 0) << 8 | (invokeID == nil ? 0x80 : 0) | f)
        }
    }
    var open: [Key: Transfer] = [:]
    var counter = 0
    /// Seconds of capture time a transfer may wait for its next block; nil = never.
    var idleSeconds: Double? = 120
    /// Completed transfers keep their joined data checked but not decoded (`Reassembly.value` decodes it when
    /// read): for runs that render no values.
    var deferValues = false

    mutating func reset() { open.removeAll() }

    /// The family a block belongs to: requests and responses of one service share nothing, so GET response blocks
    /// and SET request blocks of the same invoke id are different transfers.
    static func family(_ kind: BlockFacts.Kind) -> Family? {
        switch kind {
        case .getResponseDatablock: .get
        case .setRequestDatablock: .set
        case .actionRequestPblock: .actionRequest
        case .actionResponsePblock: .actionResponse
        case .getRequestNext, .setResponseDatablock, .actionRequestNextPblock, .actionResponseNextPblock,
             .generalBlockTransfer: nil
        }
    }

    mutating func add(_ b: BlockFacts, invokeID: UInt32?, service: String, frames: [Int], time: Timestamp?)
        -> (position: BlockPosition?, reassembled: Reassembly?, notes: [String])
    {
        var notes: [String] = []
        if let now = time, idleSeconds != nil, !open.isEmpty { expire(now: now, notes: &notes) }
        guard let family = Self.family(b.kind) else {
            // Acknowledgements and next-block requests name the block they acknowledge. A SET answered with its
            // last response while the client's transfer is still open was ended by the server.
            if b.kind == .setResponseDatablock, b.lastBlock,
               let t = open.removeValue(forKey: Key(family: .set, invokeID: invokeID))
            {
                notes.append("block transfer \(t.id) aborted by the peer: the server answered block "
                    + "\(b.blockNumber) with its last response before the last block")
                return (BlockPosition(transfer: t.id, blockNumber: b.blockNumber, lastBlock: true), nil, notes)
            }
            return (nil, nil, notes)
        }
        let key = Key(family: family, invokeID: invokeID)
        if let r = b.dataAccessResult {
            // The server gave up: a data-access-result instead of raw data ends the transfer.
            if let t = open.removeValue(forKey: key) {
                notes.append("block transfer \(t.id) aborted by the peer: \(r)")
                return (BlockPosition(transfer: t.id, blockNumber: b.blockNumber, lastBlock: true), nil, notes)
            }
            notes.append("block \(b.blockNumber) carries \(r)")
            return (nil, nil, notes)
        }
        let raw = b.rawData ?? []
        // The common case, changed in place in the table: the block expected next of an open transfer, not its
        // last, nothing held ahead and no last block seen. The steps below would join it the same way, but take
        // the transfer out of the table and put it back (two hash operations and a copy of the whole transfer).
        if !b.lastBlock, let idx = open.index(forKey: key),
           let position = open.values[idx].joinIfNext(b.blockNumber, raw, frames: frames, time: time)
        {
            return (position, nil, notes)
        }
        var t: Transfer
        // Taken out of the table while it grows: appending to a copy the table still shares would copy the data.
        let existing = open.removeValue(forKey: key)
        if let e = existing, b.blockNumber != 1 || e.nextBlock == 1
            || e.firstBlock == 1 && e.data.count >= e.firstLength && e.data.prefix(e.firstLength).elementsEqual(raw)
        {
            t = e
        } else {
            if let old = existing {
                notes.append("block transfer \(old.id) restarted at block 1 after \(old.blocks) blocks")
            }
            // The restarted transfer (taken out above) still counts as open here, as it did in the table.
            if open.count + (existing == nil ? 0 : 1) >= Self.maxTransfers {
                let oldestOther = open.min(by: { Self.order($0.value.id, $1.value.id) })
                if let o = oldestOther, existing.map({ Self.order(o.value.id, $0.id) }) ?? true {
                    open[o.key] = nil
                    notes.append("reassembly.limit: too many block transfers open (\(Self.maxTransfers)): the "
                        + "oldest, \(o.value.id), was dropped")
                } else if let old = existing {
                    notes.append("reassembly.limit: too many block transfers open (\(Self.maxTransfers)): the "
                        + "oldest, \(old.id), was dropped")
                }
            }
            counter += 1
            t = Transfer(id: "\(family.rawValue)#\(counter)", nextBlock: b.blockNumber, firstBlock: b.blockNumber,
                         blocks: 0, frames: [], data: [], firstLength: raw.count, ahead: [:], aheadBytes: 0,
                         lastBlockNumber: nil, lastTime: time, overflow: false)
            if b.blockNumber > 1 {
                notes.append("transfer starts at block \(b.blockNumber): blocks 1..\(b.blockNumber - 1) not seen")
            } else if b.blockNumber == 0 {
                notes.append("transfer starts at block 0, where block numbers start at 1")
            }
        }
        let position = BlockPosition(transfer: t.id, blockNumber: b.blockNumber, lastBlock: b.lastBlock)
        t.lastTime = time
        if b.blockNumber < t.nextBlock || t.ahead[b.blockNumber] != nil {
            notes.append("block \(b.blockNumber) repeated (expected \(t.nextBlock)): not joined twice")
            open[key] = t
            return (position, nil, notes)
        }
        if b.lastBlock { t.lastBlockNumber = b.blockNumber }
        t.blocks += 1
        if t.blocks > Self.maxBlocks, !t.overflow {
            t.overflow = true
            t.data = []
            t.frames = []
            t.ahead = [:]
            t.aheadBytes = 0
        }
        if b.blockNumber > t.nextBlock {
            // Ahead of a gap: held until the gap is filled (a late block) or the transfer ends.
            let highestHeld = t.ahead.keys.max()
            if let h = highestHeld, b.blockNumber < h {
                notes.append("block \(b.blockNumber) arrived out of order (after block \(h))")
            } else {
                let from = highestHeld.map { $0 &+ 1 } ?? t.nextBlock
                if b.blockNumber > from { notes.append("blocks \(from)..\(b.blockNumber - 1) missing") }
            }
            if t.ahead.count >= Self.maxAhead || t.size + t.aheadBytes + raw.count > Self.maxBytes {
                t.overflow = true
            } else {
                t.ahead[b.blockNumber] = (raw, frames)
                t.aheadBytes += raw.count
            }
        } else {
            // The block expected: joined, then whatever was held behind it.
            if !t.ahead.isEmpty {
                notes.append("block \(b.blockNumber) arrived out of order (after block \(t.ahead.keys.max() ?? 0))")
            }
            t.append(raw, frames: frames)
            t.nextBlock = b.blockNumber &+ 1
            while let held = t.ahead.removeValue(forKey: t.nextBlock) {
                t.aheadBytes -= held.data.count
                t.append(held.data, frames: held.frames)
                t.nextBlock &+= 1
            }
        }
        guard let last = t.lastBlockNumber, t.nextBlock > last || t.nextBlock == 0 else {
            open[key] = t
            return (position, nil, notes)
        }
        if t.overflow {
            notes.append("reassembly.limit: transfer \(t.id) larger than \(Self.maxBytes) bytes or \(Self.maxBlocks) "
                + "blocks: not reassembled")
            return (position, nil, notes)
        }
        if t.firstBlock > 1 {
            notes.append("transfer \(t.id) joined from block \(t.firstBlock): the data lacks blocks "
                + "1..\(t.firstBlock - 1)")
        }
        if deferValues {
            // Checked now (the error is part of the record), decoded into values only when read.
            let error = Self.validate(t.data)
            return (position, Reassembly(blocks: t.blocks, frames: t.frames, deferredBytes: t.data, error: error),
                    notes)
        }
        let (value, error) = Self.decode(t.data)
        return (position, Reassembly(blocks: t.blocks, frames: t.frames, bytes: t.data, value: value, error: error),
                notes)
    }

    /// A GET/SET/ACTION APDU that carries no block, with the invoke id of an open transfer: the transfer ended
    /// before its last block. The side that was sending blocks, or its peer answering with a normal response (an
    /// action-response-normal with `long-action-aborted`, a set-response-normal, a get-response-normal), aborted it;
    /// a new request of the same service and invoke id from the client abandoned it (IEC 62056-5-3 §9.4.6.4-6:
    /// a block transfer is ended by its last block or by an error response). Returns the ended transfer's position
    /// and the note ("aborted by the peer" or "abandoned", matched by `BlockTransferRule`).
    mutating func observeUnblocked(type: String, invokeID: UInt32?, result: String?)
        -> (position: BlockPosition?, notes: [String])
    {
        guard !open.isEmpty else { return (nil, []) }
        let families: ArraySlice<Family>
        let isResponse: Bool
        switch type {
        case "get-request": (families, isResponse) = (Self.getFamilies, false)
        case "get-response": (families, isResponse) = (Self.getFamilies, true)
        case "set-request": (families, isResponse) = (Self.setFamilies, false)
        case "set-response": (families, isResponse) = (Self.setFamilies, true)
        case "action-request": (families, isResponse) = (Self.actionFamilies, false)
        case "action-response": (families, isResponse) = (Self.actionFamilies, true)
        default: return (nil, [])
        }
        for family in families {
            guard let t = open.removeValue(forKey: Key(family: family, invokeID: invokeID)) else { continue }
            let position = BlockPosition(transfer: t.id, blockNumber: t.nextBlock, lastBlock: true)
            let why = result.map { " (result \($0))" } ?? ""
            let article = type.hasPrefix("a") ? "an" : "a"
            if isResponse {
                return (position, ["block transfer \(t.id) aborted by the peer: \(article) \(type) without a "
                    + "block\(why) ended it after \(t.blocks) blocks"])
            }
            return (position, ["block transfer \(t.id) abandoned after \(t.blocks) blocks: a new \(type) with its "
                + "invoke id"])
        }
        return (nil, [])
    }

    static let allFamilies: [Family] = [.get, .set, .actionRequest, .actionResponse]
    static let getFamilies = allFamilies[0..<1]
    static let setFamilies = allFamilies[1..<2]
    static let actionFamilies = allFamilies[2..<4]

    /// The joined raw data: one A-XDR Data (GET/SET/ACTION of one object), or, for the with-list variants, the
    /// SEQUENCE OF Data (SET/ACTION requests) or SEQUENCE OF Get-Data-Result (GET responses, choice 0 data / 1
    /// data-access-result) it encodes (IEC 62056-5-3 §9.4.6.4: "the raw-data ... is the encoded list"). A single
    /// Data that takes every byte wins; a list is tried only when it does not.
    static func decode(_ data: [UInt8]) -> (DataValue?, DecodeError?) {
        var r = ByteReader(data)
        var single: DataValue?
        var error: DecodeError?
        do {
            single = try AXDR.decodeData(&r)
            if r.isAtEnd { return (single, nil) }
            error = DecodeError("block.trailing-bytes", "\(r.remaining) bytes after the reassembled value",
                                offset: r.offset)
        } catch let e {
            error = e
        }
        if let list = decodeList(data) { return (list, nil) }
        return (single, error)
    }

    /// The error `decode` reports for `data`, found without building any value (`AXDR.skipData`).
    static func validate(_ data: [UInt8]) -> DecodeError? {
        // Well-formed data (the usual case) is recognised by the quick walk; anything else takes the full check.
        if AXDR.quickEnd(of: data) == data.count { return nil }
        var r = ByteReader(data)
        var error: DecodeError?
        do {
            try AXDR.skipData(&r)
            if r.isAtEnd { return nil }
            error = DecodeError("block.trailing-bytes", "\(r.remaining) bytes after the reassembled value",
                                offset: r.offset)
        } catch let e {
            error = e
        }
        if isList(data) { return nil }
        return error
    }

    /// Whether `decodeList` finds a list in `data` (the same walk, without values).
    static func isList(_ data: [UInt8]) -> Bool {
        struct Check: ReassembledListVisitor {
            mutating func begin() {}
            mutating func data(_ r: inout ByteReader) throws(DecodeError) { try AXDR.skipData(&r) }
            mutating func dataAccessResult(_ code: UInt8) {}
            mutating func end(complete: Bool) {}
        }
        var check = Check()
        return ReassembledList.walk(data, &check)
    }

    /// SEQUENCE OF Data, or SEQUENCE OF Get-Data-Result (each item 00 Data / 01 data-access-result), taking every
    /// byte; nil otherwise. Items that are data-access-results are shown as their enum value.
    static func decodeList(_ data: [UInt8]) -> DataValue? {
        struct Values: ReassembledListVisitor {
            var items: [DataValue] = []
            mutating func begin() { items.removeAll(keepingCapacity: true) }
            mutating func data(_ r: inout ByteReader) throws(DecodeError) { items.append(try AXDR.decodeData(&r)) }
            mutating func dataAccessResult(_ code: UInt8) { items.append(.enumValue(code)) }
            mutating func end(complete: Bool) {}
        }
        var values = Values()
        return ReassembledList.walk(data, &values) ? .array(values.items) : nil
    }

    /// Drops the transfers not continued within `idleSeconds` before `now`.
    mutating func expire(now: Timestamp, notes: inout [String]) {
        guard let limit = idleSeconds else { return }
        func isStale(_ t: Transfer) -> Bool { t.lastTime.map { now.seconds(since: $0) > limit } ?? false }
        // Checked for every block: nothing is allocated unless a transfer did go stale.
        guard open.values.contains(where: isStale) else { return }
        let stale = open.filter { isStale($0.value) }
        for (key, t) in stale.sorted(by: { Self.order($0.value.id, $1.value.id) }) {
            open[key] = nil
            notes.append("reassembly.expired: block transfer \(t.id) not continued within "
                + "\(Self.seconds(limit)) s of capture time: dropped after \(t.blocks) blocks, "
                + "\(t.missingDescription)")
        }
    }

    /// Transfer ids in the order they were opened ("get#2" before "set#10").
    static func order(_ a: String, _ b: String) -> Bool {
        func n(_ s: String) -> Int { s.split(separator: "#").last.flatMap { Int($0) } ?? 0 }
        return n(a) < n(b)
    }

    static func seconds(_ s: Double) -> String {
        s == s.rounded() && abs(s) < 1e15 ? String(Int64(s)) : String(s)
    }

    func openTransfersDescription() -> [String] {
        open.values.sorted { Self.order($0.id, $1.id) }.map {
            "block transfer \($0.id) incomplete: \($0.blocks) blocks received, \($0.missingDescription)"
        }
    }
}

extension BlockTransfers.Transfer {
    var size: Int { data.count }

    /// Joins block `n` when it is the one expected next, with nothing held ahead, no last block seen and room
    /// for one more block (what `add` does for it), and returns its position; nil (and nothing changed) otherwise.
    /// One in-place access to the table's transfer: no copy of it.
    mutating func joinIfNext(_ n: UInt32, _ raw: [UInt8], frames f: [Int], time: Timestamp?) -> BlockPosition? {
        guard n == nextBlock && ahead.isEmpty && lastBlockNumber == nil && blocks < BlockTransfers.maxBlocks else {
            return nil
        }
        lastTime = time
        blocks += 1
        append(raw, frames: f)
        nextBlock = n &+ 1
        return BlockPosition(transfer: id, blockNumber: n, lastBlock: false)
    }

    mutating func append(_ raw: [UInt8], frames f: [Int]) {
        if overflow { return }
        frames.append(contentsOf: f)
        if data.count + aheadBytes + raw.count > BlockTransfers.maxBytes {
            overflow = true
            data = []
            ahead = [:]
            aheadBytes = 0
        } else {
            data.append(contentsOf: raw)
        }
    }

    /// What never came: "block 4 never came", or the gaps before held blocks and whether the last block came.
    var missingDescription: String {
        guard let highest = ahead.keys.max() else { return "block \(nextBlock) never came" }
        var gaps: [String] = []
        var n = nextBlock
        for k in ahead.keys.sorted() {
            if k > n { gaps.append(k - 1 == n ? "\(n)" : "\(n)..\(k - 1)") }
            n = k &+ 1
        }
        let tail = lastBlockNumber == nil ? "; the last block never came (highest seen \(highest))" : ""
        return "block(s) \(gaps.joined(separator: ", ")) missing\(tail)"
    }
}

/// What a `ReassembledList.walk` reports: an attempt begins, its items one by one, and its end.
public protocol ReassembledListVisitor: ~Copyable {
    /// An attempt at one of the two list forms begins.
    mutating func begin()
    /// One `Data` item: read it from `r` (throw when it does not decode; the attempt then fails).
    mutating func data(_ r: inout ByteReader) throws(DecodeError)
    /// One Get-Data-Result item that is a data-access-result.
    mutating func dataAccessResult(_ code: UInt8)
    /// The attempt ended; `complete` when its items took every byte (the walk then stops).
    mutating func end(complete: Bool)
}

/// The list forms of a reassembled block transfer's data that is not one `Data`: SEQUENCE OF Data, then SEQUENCE
/// OF Get-Data-Result (each item 00 Data / 01 data-access-result), each taking every byte. One walk for the value
/// (`BlockTransfers.decodeList`), the check without values (`isList`) and the JSON written from the bytes.
public enum ReassembledList {
    /// Tries both forms in order; true at the first whose items take every byte.
    @inlinable
    public static func walk<V: ReassembledListVisitor & ~Copyable>(_ data: [UInt8], _ visitor: inout V) -> Bool {
        for results in [false, true] {
            var r = ByteReader(data)
            guard let count = r.readAXDRLength(), count >= 1, count <= r.remaining else { continue }
            visitor.begin()
            var ok = true
            for _ in 0..<count {
                if results {
                    guard let choice = r.readUInt8() else { ok = false; break }
                    if choice == 1 {
                        guard let dar = r.readUInt8() else { ok = false; break }
                        visitor.dataAccessResult(dar)
                        continue
                    }
                    guard choice == 0 else { ok = false; break }
                }
                do {
                    try visitor.data(&r)
                } catch {
                    ok = false
                    break
                }
            }
            let complete = ok && r.isAtEnd
            visitor.end(complete: complete)
            if complete { return true }
        }
        return false
    }
}
