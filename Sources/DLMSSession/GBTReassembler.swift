import DLMSAPDU
import DLMSWire

/// An APDU joined from general-block-transfer blocks (IEC 62056-5-3 §9.4.6.13).
public struct GBTAssembly: Sendable {
    public var bytes: [UInt8]
    public var blocks: Int
    /// Frames of every block, in order.
    public var frames: [Int]
    public var time: Timestamp?
    public var notes: [String]
}

/// Where a GBT-reassembled APDU came from (rendered inside its `transport`).
public struct GBTOrigin: Sendable {
    public var blocks: Int
    public init(blocks: Int) { self.blocks = blocks }
}

/// General-block-transfer reassembly for one direction of one conversation (IEC 62056-5-3 §9.4.6.13; Gurux
/// `GXDLMS.handleGbt`, dlms-cosem `general_block_transfer.py`).
///
/// Blocks carrying data are joined in block-number order; blocks that carry no data are acknowledgements (or, with
/// a `block-number-ack` below the highest block sent, requests for lost blocks) of the other side and do not touch
/// this direction's transfer: `acknowledgement(_:)` describes them against what this direction sent. With a window
/// above 1 (streaming) several blocks come before an acknowledgement; blocks that arrive ahead of a gap are held
/// until it is filled. A re-sent block (lost-block recovery) that repeats one already held is joined once. The
/// joined APDU is returned exactly once, when the last block and every block from the first one seen up to it are
/// there; its notes say which blocks came late (recovered) or twice.
///
/// Notes (matched by `BlockTransferRule`): "block N received again: not joined twice", "blocks A..B missing so
/// far" (a gap that recovery may still fill), "block N arrived late, after block H: the gap is filled", "blocks
/// 1..N-1 were not captured", "... abandoned" (block 1 with new bytes while a transfer is open), and the bounds:
/// `reassembly.limit:` (`maxBytes`, `maxBlocks`) and `reassembly.expired:` (no block within `idleSeconds` of
/// capture time; no capture time, no expiry).
public struct GBTReassembler: Sendable {
    static let maxBytes = 16 << 20
    static let maxBlocks = 65535

    var blocks: [UInt32: [UInt8]] = [:]
    var frames: [UInt32: [Int]] = [:]
    var lastBlockNumber: UInt32?
    var highest: UInt32 = 0
    var size = 0
    var lastTime: Timestamp?
    /// Remarks carried into the joined APDU's notes (recovered, repeated blocks).
    var notes: [String] = []
    var late: [UInt32] = []
    var repeated = 0
    /// Hashes of the blocks of the APDU joined last, by number: a late duplicate of one of them (after the APDU
    /// was complete) is not the start of a new transfer. Block 1 always starts one.
    var recent: [UInt32: Int] = [:]
    /// Seconds of capture time a transfer may wait for its next block; nil = never.
    public var idleSeconds: Double?

    public init(idleSeconds: Double? = 120) { self.idleSeconds = idleSeconds }

    public var inProgress: Bool { !blocks.isEmpty }

    /// Takes one GBT block; returns the joined APDU when the transfer is complete, plus remarks for this block's
    /// record.
    public mutating func add(_ b: BlockFacts, frames f: [Int], time: Timestamp?) -> (GBTAssembly?, [String]) {
        let data = b.rawData ?? []
        var remarks: [String] = []
        if inProgress, let now = time, let limit = idleSeconds, let then = lastTime, now.seconds(since: then) > limit {
            remarks.append("reassembly.expired: general-block-transfer not continued within "
                + "\(BlockTransfers.seconds(limit)) s of capture time: dropped after \(blocks.count) block(s), "
                + missingDescription)
            reset()
        }
        if data.isEmpty && !(b.lastBlock && inProgress) {
            if let g = b.gbt { remarks.append("acknowledges block \(g.blockNumberAck)") }
            return (nil, remarks)
        }
        if !inProgress {
            if b.blockNumber != 1, let h = recent[b.blockNumber], h == data.hashValue {
                remarks.append("block \(b.blockNumber) received again after its APDU was joined: not joined twice")
                return (nil, remarks)
            }
            recent.removeAll()
        }
        if let held = blocks[b.blockNumber] {
            guard held != data else {
                repeated += 1
                lastTime = time
                remarks.append("block \(b.blockNumber) received again: not joined twice")
                return (nil, remarks)
            }
            // The same number with other bytes is no re-sent block: a new transfer (the old one was never
            // finished).
            remarks.append("a new transfer starts at block \(b.blockNumber): the previous one (\(blocks.count) "
                + "blocks) is abandoned")
            reset()
        }
        guard size + data.count <= Self.maxBytes, blocks.count < Self.maxBlocks else {
            remarks.append("reassembly.limit: general-block-transfer larger than \(Self.maxBytes) bytes or "
                + "\(Self.maxBlocks) blocks: abandoned")
            reset()
            return (nil, remarks)
        }
        if inProgress {
            if b.blockNumber > highest &+ 1 {
                remarks.append("blocks \(highest &+ 1)..\(b.blockNumber - 1) missing so far")
            } else if b.blockNumber < highest {
                late.append(b.blockNumber)
                remarks.append("block \(b.blockNumber) arrived late, after block \(highest): the gap is filled")
            }
        }
        blocks[b.blockNumber] = data
        frames[b.blockNumber] = f
        size += data.count
        highest = max(highest, b.blockNumber)
        lastTime = time
        if b.lastBlock { lastBlockNumber = b.blockNumber }
        guard let last = lastBlockNumber else { return (nil, remarks) }
        // Complete when every block from the first one seen up to the last is there.
        let first = blocks.keys.min() ?? last
        guard first <= last else { return (nil, remarks) }
        var n = first
        while n < last {
            if blocks[n] == nil { return (nil, remarks + ["waiting for block \(n)"]) }
            n += 1
        }
        var joined: [UInt8] = []
        joined.reserveCapacity(size)
        var allFrames: [Int] = []
        n = first
        while true {
            if let d = blocks[n] { recent[n] = d.hashValue }
            joined += blocks[n] ?? []
            allFrames += frames[n] ?? []
            if n == last { break }
            n += 1
        }
        var asmNotes = notes
        if first > 1 { asmNotes.append("blocks 1..\(first - 1) were not captured: the APDU is incomplete") }
        if !late.isEmpty {
            asmNotes.append("joined after lost-block recovery: block(s) "
                + late.sorted().map { String($0) }.joined(separator: ", ") + " came late")
        }
        if repeated > 0 { asmNotes.append("\(repeated) block(s) were received twice and joined once") }
        if highest > last { asmNotes.append("blocks after the last block \(last) were ignored") }
        let count = Int(last - first + 1)
        reset()
        return (GBTAssembly(bytes: joined, blocks: count, frames: allFrames, time: time, notes: asmNotes), remarks)
    }

    /// Describes an acknowledgement the other side sent about this direction's blocks: a `block-number-ack` below
    /// the highest block this side sent asks for the blocks after it again (lost-block recovery).
    public func acknowledgement(_ ack: UInt16) -> String? {
        guard inProgress, UInt32(ack) < highest else { return nil }
        let from = UInt32(ack) + 1
        return "asks again for block(s) \(from == highest ? "\(from)" : "\(from)..\(highest)") "
            + "(lost-block recovery)"
    }

    mutating func reset() {
        blocks.removeAll()
        frames.removeAll()
        lastBlockNumber = nil
        highest = 0
        size = 0
        notes.removeAll()
        late.removeAll()
        repeated = 0
    }

    /// The gaps below the highest block, and whether the last block came.
    var missingDescription: String {
        var gaps: [String] = []
        var n = blocks.keys.min() ?? 1
        for k in blocks.keys.sorted() {
            if k > n { gaps.append(k - 1 == n ? "\(n)" : "\(n)..\(k - 1)") }
            n = k &+ 1
        }
        var parts: [String] = []
        if !gaps.isEmpty { parts.append("block(s) \(gaps.joined(separator: ", ")) missing") }
        if lastBlockNumber == nil { parts.append("last block never came (highest seen \(highest))") }
        return parts.joined(separator: ", ")
    }

    /// Describes an unfinished transfer (end of capture, release).
    public func unfinished() -> String? {
        guard inProgress else { return nil }
        return "general-block-transfer incomplete: \(blocks.count) block(s) received, \(missingDescription)"
    }
}
