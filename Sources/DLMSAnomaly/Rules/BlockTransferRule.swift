import DLMSSession
import DLMSWire

/// `block.missing`, `block.duplicate`, `block.aborted`: irregular block transfers (GET/SET datablocks, ACTION
/// pblocks, general-block-transfer).
///
/// Derived from the session's block notes (`BlockTransfers.swift`, `GBTReassembler.swift`) and its
/// `block.incomplete` errors, matched on their stable phrases:
/// - missing (warning): "blocks A..B missing", "transfer starts at block N", "were not captured", an incomplete
///   transfer at the end of a connection; a general-block-transfer gap "so far" is not reported (lost-block
///   recovery may fill it), only an APDU joined without its first blocks;
/// - duplicate (info): "repeated", "received again" (a re-sent block is normal recovery, and is not joined twice);
/// - aborted (warning): "aborted by the peer", a data-access-result instead of a block ("carries"), a transfer
///   "restarted at block 1" or "abandoned", "too many block transfers open", a size cap (`reassembly.limit:`);
/// - idle expiry (`reassembly.expired:`, a transfer not continued in time) is reported as missing;
/// - not reported: recovery in progress ("asks again", "arrived out of order", "arrived late", "joined after
///   lost-block recovery").
final class BlockTransferRule: AnomalyRule {
    func observe(_ event: RuleEvent, options: AnomalyOptions, into out: inout [Finding]) {
        switch event {
        case .apdu(let e):
            let r = e.record
            for note in r.notes {
                guard let (code, severity) = Self.classify(note) else { continue }
                var ev = [EvidenceItem("note", .string(note))]
                if let b = r.block {
                    ev.append(EvidenceItem("transfer", .string(b.transfer)))
                    ev.append(EvidenceItem("block_number", .int(Int64(b.blockNumber))))
                } else if let b = r.service.block {
                    ev.append(EvidenceItem("block_number", .int(Int64(b.blockNumber))))
                }
                if let g = r.gbt { ev.append(EvidenceItem("gbt_blocks", .int(Int64(g.blocks)))) }
                out.append(Finding(code, severity, about: r, systemTitle: r.security?.systemTitle, message: note,
                                   evidence: ev))
            }
        case .error(let e):
            guard e.code == "block.incomplete" else { return }
            out.append(Finding(code: "block.missing", severity: .warning, frames: e.provenance.frames,
                               time: e.provenance.time, conversation: e.provenance.conversation,
                               message: e.message,
                               evidence: [EvidenceItem("error", .string(e.code)),
                                          EvidenceItem("note", .string(e.message))]))
        }
    }

    static func classify(_ note: String) -> (String, Severity)? {
        if note.contains("so far") || note.hasPrefix("waiting for") || note.hasPrefix("acknowledges")
            || note.hasPrefix("asks again") || note.contains("arrived") || note.hasPrefix("joined after")
        {
            return nil
        }
        // Bounds of the reassembly buffers: a transfer dropped for its size or its idleness.
        if note.hasPrefix("reassembly.limit") { return ("block.aborted", .warning) }
        if note.hasPrefix("reassembly.expired") { return ("block.missing", .warning) }
        if note.contains("repeated") || note.contains("received again") { return ("block.duplicate", .info) }
        if note.contains("aborted") || note.contains("abandoned") || note.contains("restarted at block 1")
            || note.contains("too many block transfers") || note.hasPrefix("block ") && note.contains(" carries ")
        {
            return ("block.aborted", .warning)
        }
        if note.contains("missing") || note.contains("not seen") || note.contains("not captured") {
            return ("block.missing", .warning)
        }
        return nil
    }
}
