import DLMSRender
import DLMSSession
import DLMSWire
import DLMSXML
import DLMSAnomaly

/// `--format xml`: the IEC 62056-5-3 standard XML document of docs/xml.md, streamed record by record.
public final class XMLRenderer: Renderer {
    let sink: any OutputSink
    let writer: XMLDocumentWriter
    let flushEachRecord: Bool
    /// The XML is written from the APDU bytes, not from the annotated tree.
    public var needsAPDUTrees: Bool { false }
    let source: String?
    var closed = false

    public init(sink: any OutputSink, showSecrets: Bool, naming: XMLNaming = .gurux, source: String? = nil,
                flushEachRecord: Bool = false) {
        self.sink = sink
        self.writer = XMLDocumentWriter(showSecrets: showSecrets, naming: naming)
        self.source = source
        self.flushEachRecord = flushEachRecord
    }

    public func begin() { sink.write(writer.begin(source: source)) }

    public func render(_ record: Record) {
        guard !closed else { return }
        switch record {
        case .apdu(let r):
            let p = r.provenance
            var verdicts: [XMLSecurityVerdict] = []
            if let s = r.security {
                verdicts.append(Self.verdict(s))
                verdicts += s.inner.map(Self.verdict)
            }
            sink.write(writer.apdu(
                frames: p.frames, time: p.time?.rfc3339, conversation: p.conversation,
                direction: p.direction?.rawValue, wire: r.bytes[...], plain: r.security?.plain?[...],
                verdict: verdicts.first, innerVerdicts: Array(verdicts.dropFirst()), findings: r.errors,
                wireSecrets: r.redactions, plainSecrets: r.security?.plainRedactions ?? []))
        case .error(let e):
            let p = e.provenance
            sink.write(writer.error(frames: p.frames, time: p.time?.rfc3339, conversation: p.conversation,
                                    code: e.code, message: e.message, offset: e.offset))
        case .frame(let f):
            let p = f.provenance
            sink.write(writer.link(frames: p.frames, time: p.time?.rfc3339, conversation: p.conversation,
                                   direction: p.direction?.rawValue, type: "\(f.hdlc.type.rawValue)", control: f.hdlc.control))
        case .conversation, .summary:
            break
        }
        if flushEachRecord { sink.flush() }
    }

    public func end() {
        if !closed { sink.write(writer.end()) }
        closed = true
        sink.flush()
    }

    /// A finding of the anomaly rules, as an element of its own after the APDU it concerns.
    public func appendFinding(_ f: Finding) {
        guard !closed else { return }
        func esc(_ s: String) -> String { XMLEscape.escaped(s, attribute: true) }
        var line = "  <finding code=\"\(esc(f.code))\" severity=\"\(f.severity)\""
        line += " frames=\"\(f.frames.map(String.init).joined(separator: " "))\""
        if let t = f.time { line += " time=\"\(t.rfc3339)\"" }
        line += " conversation=\"\(esc(f.conversation))\""
        if let st = f.systemTitle { line += " system-title=\"\(Hex.encode(st, uppercase: true))\"" }
        line += ">" + XMLEscape.escaped(f.message) + "</finding>\n"
        sink.write(line)
        if flushEachRecord { sink.flush() }
    }

    /// Closes the document after the last complete record (from a SIGINT/SIGTERM path).
    public func interrupt(reason: String) {
        if !closed { sink.write(writer.endInterrupted(reason: reason)) }
        closed = true
        sink.flush()
    }

    static func verdict(_ s: SecurityResult) -> XMLSecurityVerdict {
        XMLSecurityVerdict(protection: s.protection, securityControl: s.securityControl, systemTitle: s.systemTitle,
                           invocationCounter: s.invocationCounter, key: s.key, verdict: s.verdict, detail: s.detail)
    }
}
