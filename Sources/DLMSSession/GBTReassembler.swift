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

/// General-block-transfer reassembly for one direction of one conversation. Blocks carrying data are joined in
/// block-number order; blocks that carry no data are acknowledgements (or requests for lost blocks) of the other
/// side and do not touch this direction's transfer. Duplicates (a re-sent block after lost-block recovery) are
/// joined once; blocks that arrive ahead are held until the gap is filled. Bounded by `maxBytes` and `maxBlocks`.
public struct GBTReassembler: Sendable {
    static let maxBytes = 16 << 20
    static let maxBlocks = 65535

    var blocks: [UInt32: [UInt8]] = [:]
    var frames: [UInt32: [Int]] = [:]
    var lastBlockNumber: UInt32?
    var size = 0
    var lastTime: Timestamp?
    var notes: [String] = []

    public init() {}

    public var inProgress: Bool { !blocks.isEmpty }

    /// Takes one GBT block; returns the joined APDU when the transfer is complete, plus remarks for this block's
    /// record.
    public mutating func add(_ b: BlockFacts, frames f: [Int], time: Timestamp?) -> (GBTAssembly?, [String]) {
        let data = b.rawData ?? []
        var remarks: [String] = []
        if data.isEmpty && !(b.lastBlock && inProgress) {
            if let g = b.gbt { remarks.append("acknowledges block \(g.blockNumberAck)") }
            return (nil, remarks)
        }
        if b.blockNumber == 1 && inProgress {
            remarks.append("a new transfer starts at block 1: the previous one (\(blocks.count) blocks) is abandoned")
            reset()
        }
        if blocks[b.blockNumber] != nil {
            remarks.append("block \(b.blockNumber) received again: not joined twice")
            return (nil, remarks)
        }
        guard size + data.count <= Self.maxBytes, blocks.count < Self.maxBlocks else {
            remarks.append("general-block-transfer larger than \(Self.maxBytes) bytes: abandoned")
            reset()
            return (nil, remarks)
        }
        if let highest = blocks.keys.max(), b.blockNumber > highest + 1 {
            remarks.append("blocks \(highest + 1)..\(b.blockNumber - 1) missing so far")
        }
        blocks[b.blockNumber] = data
        frames[b.blockNumber] = f
        size += data.count
        lastTime = time
        if b.lastBlock { lastBlockNumber = b.blockNumber }
        guard let last = lastBlockNumber else { return (nil, remarks) }
        // Complete when every block 1...last is there.
        let first = blocks.keys.min() ?? 1
        for n in first...last where blocks[n] == nil { return (nil, remarks + ["waiting for block \(n)"]) }
        var joined: [UInt8] = []
        joined.reserveCapacity(size)
        var allFrames: [Int] = []
        for n in first...last {
            joined += blocks[n] ?? []
            allFrames += frames[n] ?? []
        }
        var asmNotes = notes
        if first != 1 { asmNotes.append("blocks 1..\(first - 1) were not captured: the APDU is incomplete") }
        let count = Int(last - first + 1)
        reset()
        return (GBTAssembly(bytes: joined, blocks: count, frames: allFrames, time: time, notes: asmNotes), remarks)
    }

    mutating func reset() {
        blocks.removeAll()
        frames.removeAll()
        lastBlockNumber = nil
        size = 0
        notes.removeAll()
    }

    /// Describes an unfinished transfer (end of capture, release).
    public func unfinished() -> String? {
        guard inProgress else { return nil }
        return "general-block-transfer incomplete: \(blocks.count) block(s) received, last block never came"
    }
}
