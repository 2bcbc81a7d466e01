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
