import ArgumentParser
import DLMSAnalyzer
import DLMSRender

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The command line: a thin layer over DLMSAnalyzer. Only this file decides exit codes.
struct DLMSDump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlmsdump",
        abstract: "Analyse DLMS/COSEM (IEC 62056) traffic: every APDU of a capture, decoded.",
        discussion: """
            Reads pcap/pcapng captures (TCP and UDP, wrapper and HDLC framing), raw serial byte streams \
            (HDLC/wrapper frames of both directions) and hex dumps, reassembles TCP streams, HDLC segments and \
            block transfers, and shows every APDU as an annotated tree (text) or as JSON Lines.

            Examples:
              dlmsdump Captures/gurux/wrapper-none.pcap
              dlmsdump --format jsonl capture.pcap | jq 'select(.kind=="apdu") | .service'
              tcpdump -i eth0 -w - port 4059 | dlmsdump -
              dlmsdump --input raw serial-tap.bin
              echo 'C0 01 C1 00 08 00 00 01 00 00 FF 02 00' | dlmsdump --input hex -
            """,
        version: "0.1.0")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, jsonl
    }

    enum ColorMode: String, ExpressibleByArgument, CaseIterable {
        case auto, always, never
    }

    @Argument(help: "Capture files (pcap, pcapng, raw, hex); - reads standard input.")
    var files: [String] = []

    @Option(name: .long, help: "Output format: text or jsonl.")
    var format: Format = .text

    @Option(name: .long, help: "Input type: auto (by magic and extension), pcap, raw or hex.")
    var input: AnalyzerOptions.InputKind = .auto

    @Option(name: [.customShort("f"), .long], help: "BPF filter for pcap input (frames keep their numbers).")
    var filter: String?

    @Option(name: .long, help: "Colour in text output: auto (when stdout is a terminal), always, never.")
    var color: ColorMode = .auto

    @Option(name: .long, help: ArgumentHelp("Keyring file (JSON, see Keyring/README.md); repeatable.",
                                            valueName: "file"))
    var keyring: [String] = []

    @Option(name: .long, help: ArgumentHelp("A key for all traffic: ROLE=HEX with ROLE guek, gbek, ak, kek or dedicated; repeatable.", valueName: "role=hex"))
    var key: [String] = []

    @Flag(name: .long, help: "Show LLS passwords in clear (masked by default).")
    var showSecrets = false

    @Flag(name: .long, help: "Do not show HDLC link frames that carry no APDU (SNRM, UA, RR, DISC, ...).")
    var noLinkFrames = false

    @Flag(name: .long, help: "Do not show the hex of each APDU in text output.")
    var noHex = false

    @Flag(name: .long, help: "Write each record as soon as it is complete (default when stdout is a terminal).")
    var lineBuffered = false

    mutating func validate() throws {
        if files.isEmpty { throw ValidationError("no input: give a capture file, or - for standard input") }
        if files.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input (-) can be read only once") }
    }

    func run() throws {
        // A missing input is a one-line error (exit 1), checked before anything is written.
        for f in files where f != "-" {
            if access(f, F_OK) != 0 {
                printError("dlmsdump: \(f): no such file")
                throw ExitCode(1)
            }
            if access(f, R_OK) != 0 {
                printError("dlmsdump: \(f): not readable (permission denied)")
                throw ExitCode(1)
            }
        }
        var options = AnalyzerOptions()
        options.input = input
        options.filter = filter
        options.showSecrets = showSecrets
        options.linkFrames = !noLinkFrames
        options.keyringPaths = keyring
        options.keyOptions = key
        let sink = FDSink(fd: 1)
        let tty = isatty(1) != 0
        let renderer: any Renderer
        switch format {
        case .jsonl:
            renderer = JSONLinesRenderer(sink: sink, flushEachRecord: lineBuffered || tty)
        case .text:
            let useColor = color == .always || (color == .auto && tty)
            renderer = TextRenderer(sink: sink, style: .init(color: useColor, hex: !noHex),
                                    flushEachRecord: lineBuffered || tty)
        }
        do {
            let analyzer = try Analyzer(options: options, renderer: renderer)
            for w in analyzer.warnings { printError("dlmsdump: \(w)") }
            _ = try analyzer.run(paths: files)
        } catch {
            sink.flush()
            printError("dlmsdump: \(error.description)")
            throw ExitCode(1)
        }
    }
}

extension AnalyzerOptions.InputKind: ExpressibleByArgument {}

func printError(_ s: String) {
    var line = s + "\n"
    line.withUTF8 { p in
        if let base = p.baseAddress { _ = write(2, base, p.count) }
    }
}

DLMSDump.main()
