import DLMSAnomaly
import DLMSRender
import DLMSSession
import DLMSWire

/// Runs the anomaly rules over the records on their way to the output format: each finding is written right after
/// the record it concerns (a JSON line of kind `anomaly`, a highlighted text line, an XML element), counted in the
/// summary, and fed to the audit report.
public final class AnomalyRenderer: Renderer {
    public enum Output {
        case jsonl(JSONLinesRenderer)
        case text(TextRenderer, color: Bool)
        case xml(XMLRenderer)
    }

    let output: Output
    let onlyAnomalies: Bool
    public let engine: AnomalyEngine
    public let report: AuditReport?

    public init(output: Output, options: AnomalyOptions = .init(), report: Bool, onlyAnomalies: Bool) {
        self.output = output
        self.onlyAnomalies = onlyAnomalies
        engine = AnomalyEngine(options: options)
        self.report = report ? AuditReport(options: options) : nil
    }

    var inner: any Renderer {
        switch output {
        case .jsonl(let r): r
        case .text(let r, _): r
        case .xml(let r): r
        }
    }

    public var needsAPDUTrees: Bool { onlyAnomalies ? false : inner.needsAPDUTrees }
    public var needsDecodedValues: Bool { onlyAnomalies ? false : inner.needsDecodedValues }

    public func begin() { inner.begin() }

    public func render(_ record: Record) {
        report?.add(record)
        if case .summary(var s) = record {
            emit(engine.finish())
            s.anomalyCodes = engine.countsByCode
            for (k, v) in engine.countsBySeverity { s.anomalySeverities[k.description] = v }
            if case .text(let t, _) = output { t.extraSummaryLines = engine.summaryLines() }
            inner.render(.summary(s))
            return
        }
        if !onlyAnomalies { inner.render(record) }
        emit(engine.observe(record))
    }

    func emit(_ findings: [Finding]) {
        for f in findings {
            report?.add(f)
            switch output {
            case .jsonl(let r):
                var j = JSONBuffer(capacity: 512)
                f.writeJSON(into: &j)
                r.appendLine(j.bytes)
            case .text(let r, let color):
                r.appendText((onlyAnomalies ? f.standaloneTextLine(color: color) : f.textLine(color: color)) + "\n")
            case .xml(let r):
                r.appendFinding(f)
            }
        }
    }

    public func end() { inner.end() }
}
