import DLMSTransport

/// How the analyzer reads its inputs and what it shows.
public struct AnalyzerOptions: Sendable {
    public enum InputKind: String, Sendable, CaseIterable {
        case auto, pcap, raw, hex
        /// A `--save` file of a serial or TCP tap (`TimedRawFormat`): bytes with their arrival times.
        case timedRaw = "timed-raw"
    }
    public var input: InputKind = .auto
    /// BPF filter applied to pcap input.
    public var filter: String?
    /// Show LLS passwords in clear.
    public var showSecrets = false
    /// Emit a record for every HDLC link frame that carries no APDU (SNRM, UA, RR, DISC, ...).
    public var linkFrames = true
    /// Emit `conversation` records when a conversation is first seen.
    public var conversationRecords = true
    /// Emit the `summary` record at the end.
    public var summaryRecord = true
    public var limits = StreamLimits()
    /// Keyring files (`--keyring`).
    public var keyringPaths: [String] = []
    /// Keys given on the command line as `role=HEX` (`--key`).
    public var keyOptions: [String] = []
    public init() {}
}

/// An error that stops the run: a missing file, an unsupported input. One line for the user.
public struct AnalyzerError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
