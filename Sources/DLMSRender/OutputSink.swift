import DLMSSession
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where rendered bytes go. Buffered; `flush()` pushes them out (per record in live mode).
public protocol OutputSink: AnyObject {
    func write(_ bytes: [UInt8])
    func write(_ text: String)
    func flush()
    /// Writes bytes the caller keeps (no array built for them when the sink copies them anyway).
    func write(buffer bytes: UnsafeBufferPointer<UInt8>)
}

extension OutputSink {
    public func write(buffer bytes: UnsafeBufferPointer<UInt8>) { write(Array(bytes)) }
}

/// A sink on a file descriptor (standard output by default), with its own buffer so that no C stdio state is
/// shared. Partial writes and EINTR are retried; a closed pipe (e.g. `| head`) ends the writes quietly.
public final class FDSink: OutputSink {
    let fd: Int32
    var buffer: [UInt8] = []
    public private(set) var broken = false
    public init(fd: Int32 = 1) {
        self.fd = fd
        buffer.reserveCapacity(1 << 16)
    }
    deinit { flush() }
    public func write(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }
    public func write(buffer bytes: UnsafeBufferPointer<UInt8>) {
        // A large block with nothing buffered before it goes out as it is (no copy).
        if buffer.isEmpty, bytes.count >= 1 << 16 {
            if !broken { writeAll(UnsafeRawBufferPointer(bytes)) }
            return
        }
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }
    public func write(_ text: String) { write(Array(text.utf8)) }
    public func flush() {
        guard !buffer.isEmpty, !broken else { buffer.removeAll(keepingCapacity: true); return }
        buffer.withUnsafeBytes { writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes every byte to the descriptor (partial writes and EINTR retried; any other error marks it broken).
    func writeAll(_ raw: UnsafeRawBufferPointer) {
        guard let base = raw.baseAddress else { return }
        var done = 0
        while done < raw.count {
            #if canImport(Glibc)
            let n = Glibc.write(fd, base + done, raw.count - done)
            #else
            let n = Darwin.write(fd, base + done, raw.count - done)
            #endif
            if n < 0 {
                if errno == EINTR { continue }
                broken = true
                return
            }
            done += n
        }
    }
}

/// A sink collecting everything in memory (tests, benchmarks).
public final class MemorySink: OutputSink {
    public private(set) var bytes: [UInt8] = []
    /// When false, bytes are counted but not kept (benchmarks).
    public let keep: Bool
    public private(set) var count = 0
    public init(keep: Bool = true) { self.keep = keep }
    public func write(_ b: [UInt8]) {
        count += b.count
        if keep { bytes.append(contentsOf: b) }
    }
    public func write(buffer b: UnsafeBufferPointer<UInt8>) {
        count += b.count
        if keep { bytes.append(contentsOf: b) }
    }
    public func write(_ text: String) { write(Array(text.utf8)) }
    public func flush() {}
    public var string: String { String(decoding: bytes, as: UTF8.self) }
}

/// What every output format implements. Records arrive in capture order.
public protocol Renderer: AnyObject {
    func begin()
    func render(_ record: Record)
    func end()
    /// Whether this renderer reads `DecodedAPDU.fields` (the annotated tree). When false the pipeline decodes
    /// facts only and a tree is built only if something reads it after all.
    var needsAPDUTrees: Bool { get }
    /// Whether this renderer reads decoded values of reassembled block transfers (`Reassembly.value`). When false
    /// the session keeps the joined data as checked bytes and the renderer writes it from them.
    var needsDecodedValues: Bool { get }
}

extension Renderer {
    public var needsAPDUTrees: Bool { true }
    public var needsDecodedValues: Bool { true }
}
