import ArgumentParser
import DLMSAnalyzer
import DLMSAnomaly
import DLMSCapture
import DLMSSession
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
              dlmsdump --format xml capture.pcap > capture.xml
              dlmsdump encode --frame wrapper request.xml      (XML or hex to APDU bytes; see encode --help)
            """,
        version: "0.1.0")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, jsonl, xml
    }

    enum ColorMode: String, ExpressibleByArgument, CaseIterable {
        case auto, always, never
    }

    @Argument(help: "Capture files (pcap, pcapng, raw, hex); - reads standard input.")
    var files: [String] = []

    @Option(name: .long, help: "Output format: text, jsonl or xml (IEC 62056-5-3 standard XML, see docs/xml.md).")
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

    enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
        case json, html
    }

    @Option(name: .long, help: ArgumentHelp("Write an audit report (per meter and client: associations, security, counters, findings) to this file.", valueName: "file"))
    var report: String?

    @Option(name: .long, help: "Audit report format: json or html (self-contained page).")
    var reportFormat: ReportFormat = .json

    @Option(name: .long, help: ArgumentHelp("Exit with status 3 when findings of this severity or worse exist: info, warning, error, critical.", valueName: "severity"))
    var failOn: String?

    @Flag(name: .long, help: "Show only the findings of the anomaly rules (and the summary).")
    var onlyAnomalies = false

    @Flag(name: .long, help: "Show LLS passwords in clear (masked by default).")
    var showSecrets = false

    @Flag(name: .long, help: "Do not show HDLC link frames that carry no APDU (SNRM, UA, RR, DISC, ...).")
    var noLinkFrames = false

    @Flag(name: .long, help: "Do not show the hex of each APDU in text output.")
    var noHex = false

    @Flag(name: .long, help: "Write each record as soon as it is complete (default when stdout is a terminal).")
    var lineBuffered = false

    // MARK: Live inputs (issue 5)

    @Option(name: .customShort("i"), help: ArgumentHelp("Capture live on a network interface (libpcap, immediate mode).", valueName: "iface"))
    var interface: String?

    @Flag(name: [.customShort("D"), .customLong("list-interfaces")], help: "List the interfaces -i can capture on.")
    var listInterfaces = false

    @Option(name: .customShort("w"), help: ArgumentHelp("With -i: also write the raw frames to a pcap file.", valueName: "file"))
    var writeFile: String?

    @Option(name: .customShort("s"), help: "With -i: bytes kept per frame.")
    var snaplen: Int32 = 262_144

    @Flag(name: .customShort("p"), help: "With -i: do not put the interface in promiscuous mode.")
    var noPromiscuous = false

    @Option(name: .long, help: ArgumentHelp("Read a serial line (raw mode) as a passive tap.", valueName: "device"))
    var serial: String?

    @Option(name: .long, help: "With --serial: baud rate.")
    var baud: Int = 9600

    @Option(name: .long, help: "With --serial: parity (none, even, odd).")
    var parity: SerialSettings.Parity = .none

    @Option(name: .customLong("data-bits"), help: "With --serial: 7 or 8.")
    var dataBits: Int = 8

    @Option(name: .customLong("stop-bits"), help: "With --serial: 1 or 2.")
    var stopBits: Int = 1

    @Option(name: .long, help: ArgumentHelp("With --serial or --tcp-tap: record the bytes with their arrival times (replay with --input timed-raw).", valueName: "file"))
    var save: String?

    @Option(name: .customLong("tcp-tap"), help: ArgumentHelp("Read raw serial bytes from a TCP server (ser2net); reconnects with backoff.", valueName: "host:port"))
    var tcpTap: String?

    @Option(name: .long, help: ArgumentHelp("Listen for meters that push (DataNotification over the wrapper); never answers.", valueName: "[host:]port"))
    var listen: String?

    @Flag(name: .long, help: "With --listen: UDP instead of TCP.")
    var udp = false

    @Option(name: .customShort("c"), help: "Live input: stop after this many APDUs.")
    var count: Int?

    @Option(name: .long, help: "Live input: stop after this many seconds.")
    var duration: Double?

    var liveSources: Int { [interface != nil, serial != nil, tcpTap != nil, listen != nil].filter { $0 }.count }

    mutating func validate() throws {
        if let f = failOn, Severity(name: f) == nil {
            throw ValidationError("--fail-on: one of info, warning, error, critical")
        }
        if listInterfaces { return }
        if liveSources > 1 { throw ValidationError("give one live input: -i, --serial, --tcp-tap or --listen") }
        if liveSources == 1 {
            if !files.isEmpty { throw ValidationError("a live input takes no capture files") }
            if writeFile != nil, interface == nil { throw ValidationError("-w needs -i") }
            if save != nil, serial == nil, tcpTap == nil { throw ValidationError("--save needs --serial or --tcp-tap") }
            if udp, listen == nil { throw ValidationError("--udp needs --listen") }
            if let count, count < 1 { throw ValidationError("-c needs a positive count") }
            if let duration, !(duration > 0) { throw ValidationError("--duration needs a positive number of seconds") }
            return
        }
        if files.isEmpty { throw ValidationError("no input: give a capture file, or - for standard input") }
        if files.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input (-) can be read only once") }
    }

    func run() throws {
        if listInterfaces {
            do {
                for (i, iface) in try LiveInterfaceSource.listInterfaces().enumerated() {
                    print(iface.listing(index: i + 1))
                }
            } catch {
                printError("dlmsdump: \(error.description)")
                throw ExitCode(1)
            }
            return
        }
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
        let flush = lineBuffered || tty || liveSources > 0
        let output: AnomalyRenderer.Output
        switch format {
        case .jsonl:
            output = .jsonl(JSONLinesRenderer(sink: sink, flushEachRecord: flush))
        case .xml:
            output = .xml(XMLRenderer(sink: sink, showSecrets: showSecrets, source: files.joined(separator: " "),
                                      flushEachRecord: flush))
        case .text:
            let useColor = color == .always || (color == .auto && tty)
            output = .text(TextRenderer(sink: sink, style: .init(color: useColor, hex: !noHex), flushEachRecord: flush),
                           color: useColor)
        }
        // The anomaly rules always run: findings are shown at the APDU they concern and counted in the summary.
        let anomalies = AnomalyRenderer(output: output, report: report != nil, onlyAnomalies: onlyAnomalies)
        let renderer: any Renderer = anomalies
        defer { finishReports(anomalies) }
        do {
            let analyzer = try Analyzer(options: options, renderer: renderer)
            for w in analyzer.warnings { printError("dlmsdump: \(w)") }
            if liveSources > 0 {
                try runLive(analyzer)
                try checkFailOn(anomalies)
                return
            }
            // SIGINT/SIGTERM end a file run cleanly too: what is complete is shown, XML documents are closed.
            try StopFlag.installSignalHandlers()
            let stop = StopFlag(watchingSignals: true)
            analyzer.stop = stop
            _ = try analyzer.run(paths: files)
            if let reason = stop.reason {
                printError("dlmsdump: interrupted (\(reason)); the output ends at the last complete record")
                throw ExitCode(130)
            }
            try checkFailOn(anomalies)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            sink.flush()
            printError("dlmsdump: \(error)")
            throw ExitCode(1)
        }
    }
}

extension DLMSDump {
    /// Writes the audit report. Runs when `run` ends, also after an interruption.
    func finishReports(_ anomalies: AnomalyRenderer) {
        guard let path = report, let r = anomalies.report else { return }
        let text = reportFormat == .html ? r.writeHTML() : r.writeJSON()
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            printError("dlmsdump: \(path): cannot write the report")
            return
        }
        defer { close(fd) }
        var t = text
        t.withUTF8 { p in if let b = p.baseAddress { _ = write(fd, b, p.count) } }
    }

    /// `--fail-on SEVERITY`: exit status 3 when findings that bad exist (1 stays "could not analyse").
    func checkFailOn(_ anomalies: AnomalyRenderer) throws {
        guard let name = failOn, let level = Severity(name: name) else { return }
        if anomalies.engine.hasFindings(atLeast: level) {
            printError("dlmsdump: findings of severity \(name) or worse (--fail-on \(name))")
            throw ExitCode(3)
        }
    }
}

extension AnalyzerOptions.InputKind: ExpressibleByArgument {}
extension SerialSettings.Parity: ExpressibleByArgument {}

extension DLMSDump {
    /// Opens the live source (errors are one line, before any output), runs until SIGINT/SIGTERM, -c or
    /// --duration, and reports the summary on stderr. A clean stop exits 0.
    func runLive(_ analyzer: Analyzer) throws {
        try StopFlag.installSignalHandlers()
        let stop = StopFlag(after: duration, watchingSignals: true)
        analyzer.noticeHandler = { printError("dlmsdump: \($0)") }
        var dropped: CaptureStatistics?
        let summary: Summary
        if let interface {
            let source = try LiveInterfaceSource(interface: interface, filter: filter, snaplen: snaplen,
                                                 promiscuous: !noPromiscuous, stop: stop)
            if let w = source.warning { printError("dlmsdump: warning: \(w)") }
            let dump = try writeFile.map { path throws(CaptureError) in
                try PcapDumpWriter(path: path, linkType: source.linkType, snaplen: source.snapshotLength)
            }
            printError("dlmsdump: listening on \(interface), link type \(source.linkType), snapshot length "
                + "\(source.snapshotLength) bytes")
            summary = analyzer.runLive { $0.analyseInterface(source, dump: dump, stop: stop, count: count) }
            dropped = source.statistics
            try dump?.flush()
            dump?.close()
        } else if serial != nil || tcpTap != nil {
            let source: any ByteStreamSource
            if let serial {
                let settings = SerialSettings(baud: baud, parity: parity, dataBits: dataBits, stopBits: stopBits)
                source = try SerialTapSource(device: serial, settings: settings, stop: stop)
                printError("dlmsdump: reading \(serial) at \(settings.summary)")
            } else {
                source = try TCPTapSource(address: tcpTap ?? "", stop: stop)
            }
            let writer = try save.map { path throws(CaptureError) in try TimedRawWriter(path: path) }
            summary = analyzer.runLive { $0.analyseByteStream(source, save: writer, stop: stop, count: count) }
            writer?.close()
            if let s = source as? SerialTapSource, let end = s.endReason { printError("dlmsdump: \(end)") }
        } else {
            let listener = try PushListener(address: listen ?? "", transport: udp ? .udp : .tcp, stop: stop)
            printError("dlmsdump: listening for pushes on \(udp ? "udp" : "tcp") \(listener.local)")
            summary = analyzer.runLive { $0.analyseListener(listener, stop: stop, count: count) }
        }
        var line = "dlmsdump: \(summary.apdus) APDUs, \(summary.errors) errors"
        if !summary.verdicts.isEmpty {
            let parts: [String] = summary.verdicts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            line += ", verdicts: " + parts.joined(separator: ", ")
        }
        if let d = dropped {
            line += "; \(d.received) packets received, \(d.dropped) dropped by the kernel"
            if d.droppedByInterface > 0 { line += ", \(d.droppedByInterface) by the interface" }
        }
        if let reason = stop.reason { line += " (stopped: \(reason))" }
        printError(line)
    }
}

func printError(_ s: String) {
    var line = s + "\n"
    line.withUTF8 { p in
        if let base = p.baseAddress { _ = write(2, base, p.count) }
    }
}

// `dlmsdump encode ...` turns standard XML (or hex) into APDU bytes; everything else analyses captures.
if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == "encode" {
    Encode.main(Array(CommandLine.arguments.dropFirst(2)))
} else {
    DLMSDump.main()
}
