#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file (or standard input, path `-`) in chunks, for `--input raw` (the bytes are one stream of HDLC or
/// wrapper frames) and as the text source of `--input hex`. The class owns the `FILE*`; `deinit` closes it.
public final class RawStreamReader {
    private var file: UnsafeMutablePointer<FILE>?
    private let ownsFile: Bool
    private var buffer: [UInt8]
    /// Bytes returned so far: the stream offset of the next chunk.
    public private(set) var offset = 0
    public let path: String

    /// Opens `path` (`-` = standard input). `chunkSize` is the largest chunk `next()` returns.
    public init(path: String, chunkSize: Int = 64 * 1024) throws(CaptureError) {
        self.path = path
        buffer = [UInt8](repeating: 0, count: max(1, chunkSize))
        if path == "-" {
            // A duplicate of fd 0 (the C `stdin` global is not concurrency-safe to touch from Swift 6).
            let fd = dup(0)
            guard fd >= 0, let f = fdopen(fd, "rb") else {
                if fd >= 0 { close(fd) }
                throw CaptureError("cannot read standard input")
            }
            file = f
            ownsFile = true
        } else {
            guard let f = fopen(path, "rb") else {
                let reason = String(cString: strerror(errno))
                throw CaptureError("\(path): \(reason)")
            }
            file = f
            ownsFile = true
        }
    }

    deinit {
        if ownsFile, let file { fclose(file) }
    }

    /// The next chunk (at most `chunkSize` bytes, never empty), or nil at the end of the input.
    public func next() throws(CaptureError) -> [UInt8]? {
        guard let file else { return nil }
        let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if count == 0 {
            let failed = ferror(file) != 0
            if ownsFile { fclose(file) }
            self.file = nil
            if failed { throw CaptureError("\(path == "-" ? "standard input" : path): read error") }
            return nil
        }
        offset += count
        return Array(buffer.prefix(count))
    }

    /// Reads the rest of the input into one array, refusing more than `limit` bytes (hex dumps are parsed whole).
    public func readAll(limit: Int = 256 << 20) throws(CaptureError) -> [UInt8] {
        var all: [UInt8] = []
        while let chunk = try next() {
            guard all.count + chunk.count <= limit else {
                throw CaptureError("\(path == "-" ? "standard input" : path): larger than \(limit) bytes")
            }
            all.append(contentsOf: chunk)
        }
        return all
    }
}

@available(*, unavailable) extension RawStreamReader: Sendable {}
