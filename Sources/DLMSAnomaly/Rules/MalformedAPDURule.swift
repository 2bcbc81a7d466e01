import DLMSAPDU
import DLMSSession
import DLMSWire

/// `apdu.malformed`: an APDU (or its decrypted plaintext, or a reassembled block transfer) with decode errors.
///
/// Warning when the decoder had to give up on part of the APDU; info when the only errors are deviations it
/// decoded through (`ber.length-mismatch`: an ACSE length that disagrees with its content, as Gurux's RLRE). Not
/// reported when the record also carries a transport error (a gap, a cut or mis-framed frame): the transport
/// finding at the same frame is the cause; nor for a block transfer joined without some of its blocks.
final class MalformedAPDURule: AnomalyRule {
    static let lenient: Set<String> = ["ber.length-mismatch"]
    static let transportPrefixes = ["stream.", "wrapper.", "hdlc.segment", "hdlc.truncated", "tcp.", "capture."]

    func observe(_ event: RuleEvent, options: AnomalyOptions, into out: inout [Finding]) {
        guard case .apdu(let e) = event else { return }  // error records go to the transport rule
        let r = e.record
        var errors = r.decoded.errors
        var layer = r.security
        var depth = 0
        while let s = layer, depth < 8 {
            if let d = s.plainDecoded, !d.errors.isEmpty { errors += d.errors }
            layer = s.inner.first
            depth += 1
        }
        // A transfer joined without some of its blocks cannot decode: the block finding is the cause.
        if let re = r.reassembled?.error,
           !r.notes.contains(where: { BlockTransferRule.classify($0)?.0 == "block.missing" })
        {
            errors.append(re)
        }
        guard !errors.isEmpty else { return }
        for err in r.errors where Self.transportPrefixes.contains(where: { err.code.hasPrefix($0) }) { return }
        let severity: Severity = errors.allSatisfy { Self.lenient.contains($0.code) } ? .info : .warning
        var codes: [String] = []
        for err in errors where !codes.contains(err.code) { codes.append(err.code) }
        var evidence = [EvidenceItem("apdu", .string(r.decoded.type)), EvidenceItem("errors", .strings(codes))]
        if let first = errors.first {
            evidence.append(EvidenceItem("first_error", .string(first.message)))
            if let o = first.offset { evidence.append(EvidenceItem("offset", .int(Int64(o)))) }
        }
        let how = severity == .info ? "decoded leniently" : "not fully decodable"
        out.append(Finding("apdu.malformed", severity, about: r, systemTitle: r.security?.systemTitle,
                           message: "\(r.decoded.type) \(how): " + (errors.first?.message ?? ""),
                           evidence: evidence))
    }
}
