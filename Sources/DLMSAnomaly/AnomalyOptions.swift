/// Thresholds and limits of the anomaly rules. Every clock is the capture's: windows are measured between capture
/// timestamps, never against the wall clock.
public struct AnomalyOptions: Sendable {
    /// `association.brute-force`: this many rejected or failed associations from one client ...
    public var bruteForceCount = 3
    /// ... within this many seconds of capture time. Without timestamps (hex input) every failure counts.
    public var bruteForceWindow: Double = 300
    /// `security.ic-jump`: a counter more than this far above the last one of the same sender and key.
    public var invocationCounterJump: UInt32 = 100_000
    /// How many recent invocation counters are remembered per sender and key to name the frame a replayed counter
    /// was first used in (older replays are reported as regressions).
    public var invocationCounterHistory = 256
    /// `operation.clock-set` is raised from info to warning when the clock is stepped by more than this many
    /// seconds (either way); nil keeps every clock set at info.
    public var clockStepWarning: Double? = 3600
    /// `security.no-key` and `security.unverified` are reported once per conversation, sender and key role; the
    /// rest are counted (the audit report has the counts).
    public var reportEveryUndecryptable = false
    /// Site policy: a different severity for a code (e.g. `security.cleartext-password` → info where LLS on the
    /// optical port is accepted).
    public var severityOverrides: [String: Severity] = [:]
    /// Caps on every table the rules keep (senders, conversations, clients); the least recently used entry goes.
    public var maxTrackedSenders = 4096
    public var maxTrackedConversations = 1024
    /// Findings kept by `AuditReport` for its tables and timeline (counts stay exact beyond it).
    public var maxReportFindings = 10_000

    public init() {}
}
