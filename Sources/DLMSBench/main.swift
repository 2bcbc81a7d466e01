import DLMSAnalyzer
import DLMSCapture
import DLMSRender
import DLMSSession

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// dlmsbench: throughput and memory of the pipeline, measured outside the tests (numbers go to the README).
//
//   dlmsbench make --copies N OUT.pcap PCAP...   replicate sessions on new TCP connections into one large pcap
//   dlmsbench run --mode decode|jsonl|text FILE  analyse FILE once, print APDUs/s, MB/s and peak memory
//
// Each `run` is one process so that its peak resident set size is its own.

struct BenchError: Error, CustomStringConvertible {
    var description: String
}

/// A renderer that drops every record: "decoding alone" (framing, APDU decoding, session) with no output cost.
final class NullRenderer: Renderer {
    var count = 0
    func begin() {}
    func render(_ record: Record) { count += 1 }
    func end() {}
    var needsAPDUTrees: Bool { false }
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// CPU time (user + system) of this process so far, seconds: less disturbed than wall-clock time when other
/// processes share the core.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    return user + system
}

func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024  // Linux reports KiB
}

func writeLE32(_ v: UInt32, _ out: inout [UInt8]) {
    out.append(UInt8(v & 0xFF)); out.append(UInt8(v >> 8 & 0xFF))
    out.append(UInt8(v >> 16 & 0xFF)); out.append(UInt8(v >> 24))
}

/// Writes a pcap (link type Ethernet) with `copies` replicas of the input captures: each replica's TCP ports are
/// shifted so that it is a new connection, and its timestamps follow the previous replica's.
func make(copies: Int, output: String, inputs: [String]) throws {
    var frames: [CapturedFrame] = []
    for path in inputs {
        var src = try PcapSource(path: path, filter: nil)
        while let f = try src.next() {
            guard f.linkType == 1 else { throw BenchError(description: "\(path): Ethernet captures only") }
            frames.append(f)
        }
    }
    guard let fp = fopen(output, "wb") else { throw BenchError(description: "cannot write \(output)") }
    defer { fclose(fp) }
    var header: [UInt8] = []
    writeLE32(0xA1B2_C3D4, &header)
    header += [2, 0, 4, 0]  // version 2.4
    writeLE32(0, &header); writeLE32(0, &header)
    writeLE32(262_144, &header); writeLE32(1, &header)
    fwrite(header, 1, header.count, fp)
    var seconds: UInt32 = 1_700_000_000
    var buffer: [UInt8] = []
    buffer.reserveCapacity(1 << 20)
    for copy in 0..<copies {
        for f in frames {
            var data = f.data
            // Ethernet (14) + IPv4 (IHL) + TCP: shift both ports so each replica is a distinct 4-tuple.
            if data.count > 34, data[12] == 0x08, data[13] == 0x00 {
                let ihl = Int(data[14] & 0x0F) * 4
                let tcp = 14 + ihl
                if data.count >= tcp + 4, data[23] == 6 {
                    for o in [tcp, tcp + 2] {
                        let port = (UInt16(data[o]) << 8 | UInt16(data[o + 1]))
                        // Client ports are ephemeral (> 32768); the server keeps its port.
                        if port > 32768 {
                            let shifted = UInt16(truncatingIfNeeded: 32768 + (Int(port) + copy * 7) % 28000)
                            data[o] = UInt8(shifted >> 8)
                            data[o + 1] = UInt8(shifted & 0xFF)
                        }
                    }
                }
            }
            seconds &+= 0
            writeLE32(seconds &+ UInt32(copy), &buffer)
            writeLE32(UInt32(f.time?.micros ?? 0), &buffer)
            writeLE32(UInt32(data.count), &buffer)
            writeLE32(UInt32(f.originalLength), &buffer)
            buffer += data
            if buffer.count > 1 << 20 {
                fwrite(buffer, 1, buffer.count, fp)
                buffer.removeAll(keepingCapacity: true)
            }
        }
    }
    fwrite(buffer, 1, buffer.count, fp)
    print("wrote \(output): \(copies) × \(frames.count) frames")
}

func run(mode: String, path: String) throws {
    let sink = MemorySink(keep: false)
    let renderer: any Renderer
    switch mode {
    case "decode": renderer = NullRenderer()
    case "jsonl": renderer = JSONLinesRenderer(sink: sink)
    case "text": renderer = TextRenderer(sink: sink)
    default: throw BenchError(description: "unknown mode \(mode)")
    }
    var options = AnalyzerOptions()
    options.conversationRecords = true
    let analyzer = try Analyzer(options: options, renderer: renderer)
    let t0 = now()
    let c0 = cpuSeconds()
    let summary = try analyzer.run(paths: [path])
    let dt = now() - t0
    let cpu = cpuSeconds() - c0
    let mb = Double(summary.bytes) / 1e6
    let line = "mode=\(mode) apdus=\(summary.apdus) frames=\(summary.frames) seconds=\(fmt3(dt)) "
        + "apdus_per_s=\(Int(Double(summary.apdus) / dt)) mb_per_s=\(fmt(mb / dt)) "
        + "cpu_seconds=\(fmt3(cpu)) apdus_per_cpu_s=\(Int(Double(summary.apdus) / cpu)) "
        + "output_mb=\(fmt(Double(sink.count) / 1e6)) peak_rss_mib=\(fmt(peakRSSMiB()))"
    print(line)
}

func fmt3(_ v: Double) -> String {
    let r = (v * 1000).rounded() / 1000
    return String(r)
}

func fmt(_ v: Double) -> String {
    let r = (v * 100).rounded() / 100
    return String(r)
}

let args = Array(CommandLine.arguments.dropFirst())
do {
    if args.first == "make", args.count >= 5, args[1] == "--copies", let n = Int(args[2]) {
        try make(copies: n, output: args[3], inputs: Array(args[4...]))
    } else if args.first == "run", args.count == 4, args[1] == "--mode" {
        try run(mode: args[2], path: args[3])
    } else {
        print("usage: dlmsbench make --copies N OUT.pcap PCAP... | dlmsbench run --mode decode|jsonl|text FILE")
        exit(2)
    }
} catch {
    print("dlmsbench: \(error)")
    exit(1)
}
