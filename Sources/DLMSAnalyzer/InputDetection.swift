import DLMSCapture

enum InputDetection {
    /// The requested kind, or for `auto` the kind told by the file's magic, extension and content.
    static func kind(path: String, requested: AnalyzerOptions.InputKind) throws(AnalyzerError)
        -> AnalyzerOptions.InputKind
    {
        if requested != .auto { return requested }
        if path == "-" { return .pcap }
        switch InputKind.detect(path: path) {
        case .pcap, .pcapng: return .pcap
        case .raw: return .raw
        case .hex: return .hex
        case .unreadable(let why): throw AnalyzerError("\(path): \(why)")
        }
    }
}
