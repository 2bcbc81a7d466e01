import DLMSWire

/// How bad a finding is. Ordered: `info < warning < error < critical`.
public enum Severity: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    case info, warning, error, critical
    public static func < (a: Severity, b: Severity) -> Bool { a.rawValue < b.rawValue }
    public var description: String {
        switch self {
        case .info: "info"
        case .warning: "warning"
        case .error: "error"
        case .critical: "critical"
        }
    }
    public init?(name: String) {
        guard let s = Severity.allCases.first(where: { $0.description == name }) else { return nil }
        self = s
    }
}

/// One value of a finding's evidence. Never a key or a password: rules put only what the capture shows openly
/// (counters, frames, system titles, result names), and say that a secret was present without showing it.
public enum EvidenceValue: Sendable, Hashable {
    case string(String)
    case int(Int64)
    case bool(Bool)
    /// Bytes shown as lower-case hex (system titles, security control bytes).
    case hex([UInt8])
    /// Capture frame numbers.
    case frames([Int])
    case strings([String])

    /// The value as text (the text renderer and the HTML report).
    public var text: String {
        switch self {
        case .string(let s): s
        case .int(let v): String(v)
        case .bool(let b): b ? "true" : "false"
        case .hex(let b): Hex.encode(b, uppercase: true)
        case .frames(let f): f.map(String.init).joined(separator: ",")
        case .strings(let s): s.joined(separator: ", ")
        }
    }

    public func writeJSON(into j: inout JSONBuffer) {
        switch self {
        case .string(let s): j.string(s)
        case .int(let v): j.int(v)
        case .bool(let b): j.bool(b)
        case .hex(let b): j.hex(b)
        case .frames(let f):
            j.beginArray()
            for n in f { j.int(n) }
            j.endArray()
        case .strings(let s):
            j.beginArray()
            for v in s { j.string(v) }
            j.endArray()
        }
    }
}

/// One key/value of a finding's evidence (kept in the order the rule gave them).
public struct EvidenceItem: Sendable, Hashable {
    public var key: String
    public var value: EvidenceValue
    public init(_ key: String, _ value: EvidenceValue) {
        self.key = key
        self.value = value
    }
}

/// A security-log entry: what a rule concluded about one APDU, frame or error of the capture, with the evidence.
///
/// JSON Lines form (docs/anomalies.md):
///
///     {"kind": "anomaly", "code": "security.ic-replay", "severity": "critical", "frames": [92],
///      "time": "2026-11-25T15:31:05.9Z", "conversation": "tcp-1", "system_title": "434c49...",
///      "message": "...", "evidence": {"invocation_counter": 16232, "first_frame": 10, ...}}
public struct Finding: Sendable, Hashable {
    /// Stable dotted name (`security.ic-replay`, `hdlc.bad-fcs`, ...), documented in docs/anomalies.md.
    public var code: String
    public var severity: Severity
    /// Capture frames of the unit the finding concerns.
    public var frames: [Int]
    public var time: Timestamp?
    public var conversation: String
    /// The system title concerned (the sender's, or the meter's), when known.
    public var systemTitle: [UInt8]?
    public var message: String
    public var evidence: [EvidenceItem]

    public init(code: String, severity: Severity, frames: [Int], time: Timestamp?, conversation: String,
                systemTitle: [UInt8]? = nil, message: String, evidence: [EvidenceItem] = []) {
        self.code = code
        self.severity = severity
        self.frames = frames
        self.time = time
        self.conversation = conversation
        self.systemTitle = systemTitle
        self.message = message
        self.evidence = evidence
    }

    /// The value of one evidence key.
    public func evidence(_ key: String) -> EvidenceValue? { evidence.first { $0.key == key }?.value }

    // MARK: - Rendering

    /// The `anomaly` JSON Lines record (the schema fragment is in docs/anomalies.md).
    public func writeJSON(into j: inout JSONBuffer) {
        j.beginObject()
        j.field("kind", "anomaly")
        j.field("code", code)
        j.field("severity", severity.description)
        j.key("frames")
        j.beginArray()
        for f in frames { j.int(f) }
        j.endArray()
        if let t = time { j.field("time", t.rfc3339) } else { j.key("time"); j.null() }
        j.field("conversation", conversation)
        j.key("system_title")
        if let st = systemTitle { j.hex(st) } else { j.null() }
        j.field("message", message)
        j.key("evidence")
        j.beginObject()
        for e in evidence {
            j.key(e.key)
            e.value.writeJSON(into: &j)
        }
        j.endObject()
        j.endObject()
    }

    /// One JSON line (without the newline).
    public var jsonLine: String {
        var j = JSONBuffer(capacity: 512)
        writeJSON(into: &j)
        return j.string
    }

    /// The text-format line shown right after the APDU the finding concerns: `!! ERROR security.auth-failed: ...
    /// [key=value, ...]`, coloured by severity when `color` is set (ANSI: critical reverse red, error bold red,
    /// warning yellow, info cyan).
    public func textLine(color: Bool) -> String {
        let label = "!! " + severity.description.uppercased() + " " + code
        var evidenceText = ""
        if !evidence.isEmpty {
            evidenceText = " [" + evidence.map { "\($0.key)=\($0.value.text)" }.joined(separator: ", ") + "]"
        }
        var head = label
        if color {
            let sgr: String
            switch severity {
            case .critical: sgr = "1;7;31"
            case .error: sgr = "1;31"
            case .warning: sgr = "1;33"
            case .info: sgr = "36"
            }
            head = "\u{1B}[\(sgr)m\(label)\u{1B}[0m"
            if !evidenceText.isEmpty { evidenceText = "\u{1B}[2m\(evidenceText)\u{1B}[0m" }
        }
        var where_ = ""
        if !frames.isEmpty { where_ = " (frame " + frames.map(String.init).joined(separator: ",") + ")" }
        return "  " + head + ": " + message + where_ + evidenceText
    }

    /// The line for a findings-only listing (`--only-anomalies`): frames, time and conversation first, as the
    /// header of an APDU, then the finding.
    public func standaloneTextLine(color: Bool) -> String {
        var head = "#" + frames.map(String.init).joined(separator: ",")
        if let t = time { head += "  " + t.rfc3339 }
        head += "  " + conversation
        if let st = systemTitle { head += "  " + Hex.encode(st, uppercase: true) }
        if color { head = "\u{1B}[1m" + head + "\u{1B}[0m" }
        return head + "\n" + textLine(color: color)
    }
}
