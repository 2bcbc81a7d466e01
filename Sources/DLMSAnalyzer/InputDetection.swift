import DLMSCapture

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum InputDetection {
    /// The requested kind, or for `auto` the kind told by the file's magic, extension and content. Standard input
    /// is taken as a pcap stream unless `--input` says otherwise.
    static func kind(path: String, requested: AnalyzerOptions.InputKind) throws(AnalyzerError)
        -> AnalyzerOptions.InputKind
    {
        if requested != .auto { return requested }
        if path == "-" { return .pcap }
        guard let fp = fopen(path, "rb") else {
            throw AnalyzerError("\(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(fp) }
        var head = [UInt8](repeating: 0, count: 4096)
        let n = head.withUnsafeMutableBytes { fread($0.baseAddress, 1, 4096, fp) }
        if TimedRawFormat.matches(head[0..<n]) { return .timedRaw }
        switch InputKind.detect(path: path, firstBytes: head[0..<n]) {
        case .pcap, .pcapng: return .pcap
        case .raw: return .raw
        case .hex: return .hex
        }
    }
}
