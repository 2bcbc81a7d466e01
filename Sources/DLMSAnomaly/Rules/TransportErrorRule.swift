import DLMSSession
import DLMSWire

/// `hdlc.bad-fcs`, `hdlc.bad-hcs`, `wrapper.bad-length`, `wrapper.bad-header`, `tcp.gap`, `capture.truncated`,
/// and the other framing and capture errors of the pipeline, under their own codes.
///
/// A corrupted frame on a serial line, a wrapper whose length lies, or a capture that lost bytes: each hides APDUs
/// from the audit (and a forged length is a classic parser attack), so each is a warning at the frame it concerns.
/// `stream.gap` is not repeated: it is the stream decoder's echo of the `tcp.gap` at the same frame. Block-transfer
/// errors go to the block rule.
final class TransportErrorRule: AnomalyRule {
    static let severities: [String: Severity] = [
        "hdlc.bad-fcs": .warning, "hdlc.bad-hcs": .warning, "wrapper.bad-length": .warning,
        "wrapper.bad-header": .warning, "tcp.gap": .warning, "capture.truncated": .warning,
        "hdlc.retransmission": .info,
    ]
    static let explanations: [String: String] = [
        "hdlc.bad-fcs": "an HDLC frame with a bad frame check sequence (corrupted on the line or altered): not used",
        "hdlc.bad-hcs": "an HDLC frame with a bad header check sequence: not used",
        "wrapper.bad-length": "a wrapper header whose length disagrees with the bytes that follow",
        "wrapper.bad-header": "a wrapper header with a wrong version or impossible length",
        "tcp.gap": "bytes missing from the TCP stream: APDUs in the gap are not seen",
        "capture.truncated": "a frame cut short by the capture (snap length): its end was not captured",
    ]
    static let echoes: Set<String> = ["stream.gap", "block.incomplete"]

    func observe(_ event: RuleEvent, options: AnomalyOptions, into out: inout [Finding]) {
        guard case .error(let e) = event else { return }  // APDUs: their own errors go to the malformed rule
        guard !Self.echoes.contains(e.code) else { return }
        let severity = Self.severities[e.code] ?? .warning
        var evidence = [EvidenceItem("error", .string(e.code)), EvidenceItem("detail", .string(e.message))]
        if let o = e.offset { evidence.append(EvidenceItem("offset", .int(Int64(o)))) }
        if let d = e.provenance.direction { evidence.append(EvidenceItem("direction", .string(d.rawValue))) }
        let message = Self.explanations[e.code].map { $0 + ": " + e.message } ?? e.message
        out.append(Finding(code: e.code, severity: severity, frames: e.provenance.frames, time: e.provenance.time,
                           conversation: e.provenance.conversation, message: message, evidence: evidence))
    }
}
