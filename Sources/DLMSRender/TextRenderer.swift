import DLMSAPDU
import DLMSSession
import DLMSTransport
import DLMSWire

/// `--format text` (default): per APDU a header line (frames, time, conversation, direction, transport) and an
/// indented tree in which each field shows its name, raw value and meaning.
public final class TextRenderer: Renderer {
    public struct Style: Sendable {
        public var color: Bool
        /// Show the hex of each APDU under its tree.
        public var hex: Bool
        /// Longest array shown item by item before the rest is summarised.
        public var maxItems: Int
        public init(color: Bool = false, hex: Bool = true, maxItems: Int = 1000) {
            self.color = color
            self.hex = hex
            self.maxItems = maxItems
        }
    }

    let sink: any OutputSink
    let style: Style
    let flushEachRecord: Bool
    var out = TextOut(reserving: 1 << 17)

    /// Runs `body` on the output moved into a local: appends to a class property are checked for exclusive
    /// access at run time, one check per append.
    @inline(__always) func withOut(_ body: (inout TextOut) -> Void) {
        var o = TextOut()
        swap(&o, &out)
        body(&o)
        swap(&o, &out)
    }

    public init(sink: any OutputSink, style: Style = .init(), flushEachRecord: Bool = false) {
        self.sink = sink
        self.style = style
        self.flushEachRecord = flushEachRecord
    }

    public func begin() {}

    /// Adds text in order with the records (finding lines under the APDU they concern).
    public func appendText(_ s: String) {
        // Under the record it concerns: before the blank line that closes that record, when it is still here.
        let n = out.bytes.count
        if n >= 2, out.bytes[n - 1] == 0x0A, out.bytes[n - 2] == 0x0A {
            out.bytes.removeLast()
            out += s
            out.bytes.append(0x0A)
        } else {
            out += s
        }
        if flushEachRecord || out.bytes.count > 1 << 16 { emit() }
    }

    /// Extra summary lines (findings by severity and code).
    public var extraSummaryLines: [String] = []

    public func end() {
        emit()
        sink.flush()
    }

    func emit() {
        if !out.bytes.isEmpty {
            sink.write(out.bytes)
            out.bytes.removeAll(keepingCapacity: true)
        }
        if flushEachRecord { sink.flush() }
    }

    // MARK: - Colour

    func paint(_ s: String, _ code: String) -> String { style.color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
    func bold(_ s: String) -> String { paint(s, "1") }
    func dim(_ s: String) -> String { paint(s, "2") }
    func name(_ s: String) -> String { paint(s, "36") }
    func meaning(_ s: String) -> String { paint(s, "32") }
    func red(_ s: String) -> String { paint(s, "1;31") }
    func yellow(_ s: String) -> String { paint(s, "33") }

    // MARK: - Records

    public func render(_ record: Record) {
        switch record {
        case .apdu(let r): renderAPDU(r)
        case .frame(let f): renderFrame(f)
        case .error(let e):
            out += header(e.provenance) + "  " + red("error \(e.code)") + ": \(e.message)"
            if let o = e.offset { out += " (byte \(o))" }
            out += "\n\n"
        case .conversation(let c):
            var line = bold("conversation \(c.id)") + " \(c.carrier)"
            if let cl = c.client { line += " client \(cl)" }
            if let sv = c.server { line += " server \(sv)" }
            if let f = c.frame { line += dim(" from frame \(f)") }
            out += line + "\n\n"
        case .summary(let s): renderSummary(s)
        }
        if flushEachRecord || out.bytes.count > 1 << 16 { emit() }
    }

    func header(_ p: Provenance) -> String {
        var s = bold("#" + p.frames.map(String.init).joined(separator: ","))
        if let t = p.time { s += "  " + dim(t.rfc3339) }
        s += "  " + p.conversation
        if let d = p.direction { s += "  " + (d == .clientToServer ? "C→S" : "S→C") }
        return s
    }

    func transportSummary(_ t: TransportKind) -> String {
        switch t {
        case .wrapper(let h):
            return "wrapper v\(h.version) wport \(h.sourcePort)→\(h.destinationPort) len \(h.length)"
        case .hdlc(let segs, let llc):
            guard let f = segs.first else { return "hdlc" }
            var s = "hdlc \(address(f.source))→\(address(f.destination)) \(f.type.rawValue)"
            if let ns = f.sendSequence, let nr = f.receiveSequence { s += " N(S)=\(ns) N(R)=\(nr)" }
            if segs.count > 1 { s += " \(segs.count) segments" }
            if let l = llc { s += " LLC " + Hex.encode(l, uppercase: true) } else { s += " no LLC" }
            return s
        case .raw:
            return "raw"
        case .mbus(let segments):
            return MBusFrameInfo.transportSummary(segments)
        case .iec432(let llc):
            return "IEC 61334-4-32 LLC " + Hex.encode(llc, uppercase: true)
        }
    }

    func address(_ a: HDLCAddress) -> String {
        if let l = a.lower { return "\(a.upper)/\(l)" }
        return "\(a.upper)"
    }

    func renderAPDU(_ r: APDURecord) {
        var via = transportSummary(r.transport)
        if let g = r.gbt { via = "general-block-transfer, \(g.blocks) blocks, over " + via }
        out += header(r.provenance) + "  " + dim(via) + "\n"
        renderDecoded(r.decoded, bytes: r.bytes, redactions: r.redactions, indent: 1)
        if let s = r.security { renderSecurity(s, indent: 1) }
        if let h = r.hls {
            let res = h.result == "verified" ? meaning("✔ verified") : h.result == "failed" ? red("✘ FAILED")
                : yellow(h.result)
            out += "  authentication \(h.mechanism) (\(h.party)) → " + res + "\n"
            if let d = h.detail { out += "    " + dim(d) + "\n" }
        }
        if let b = r.block {
            out += "  " + yellow("block \(b.blockNumber)\(b.lastBlock ? " (last)" : "") of transfer \(b.transfer)")
                + "\n"
        }
        if let re = r.reassembled {
            out += "  " + bold("reassembled") + " \(re.blocks) blocks, \(re.bytes.count) bytes, frames "
                + re.frames.map(String.init).joined(separator: ",") + "\n"
            if let v = re.value { renderData(v, label: "data", indent: 2) }
            if let e = re.error { out += "    " + red("error \(e.code)") + ": \(e.message)\n" }
        }
        if !r.labels.isEmpty {
            out += "  " + bold("push values") + "\n"
            for l in r.labels { out += "    " + l.textLine + "\n" }
        }
        for (o, su) in r.scalerUnits.sorted(by: { $0.key.obis.lexicographicallyPrecedes($1.key.obis) }) {
            let unit = COSEM.unit(su.unit)?.symbol ?? "unit \(su.unit)"
            out += "  " + dim("scaler_unit of \(COSEM.formatOBIS(o.obis)): 10^\(su.scaler) \(unit)") + "\n"
        }
        for e in r.errors {
            out += "  " + red("error \(e.code)") + ": \(e.message)"
            if let o = e.offset { out += " (byte \(o))" }
            out += "\n"
        }
        for n in r.notes { out += "  " + yellow("note: \(n)") + "\n" }
        out += "\n"
    }

    func renderDecoded(_ d: DecodedAPDU, bytes: [UInt8], redactions: [Range<Int>] = [], indent: Int) {
        let pad = String(repeating: "  ", count: indent - 1)
        let tag = Hex.encode([d.tag], uppercase: true)
        out += pad + bold(d.type) + dim(" [\(tag)]") + "\n"
        withOut { o in for n in d.fields { renderNode(n, indent: indent, &o) } }
        if style.hex {
            let hex = redactions.isEmpty ? Hex.encode(bytes, uppercase: true)
                : Secrets.maskedHex(bytes, redactions).uppercased() + " (secret masked)"
            out += pad + "  " + dim("hex: " + hex) + "\n"
        }
    }

    func renderSecurity(_ s: SecurityResult, indent: Int) {
        let pad = String(repeating: "  ", count: indent)
        var line = "protection \(s.protection) SC=0x" + Hex.encode([s.securityControl], uppercase: true)
        line += " suite \(s.suite)"
        var modes: [String] = []
        if s.authenticated { modes.append("authenticated") }
        if s.encrypted { modes.append("encrypted") }
        if s.broadcast { modes.append("broadcast key") }
        if s.compressed { modes.append("compressed") }
        if !modes.isEmpty { line += " (" + modes.joined(separator: ", ") + ")" }
        if let st = s.systemTitle { line += " ST " + Hex.encode(st, uppercase: true) }
        if let ic = s.invocationCounter { line += " IC \(ic)" }
        if let k = s.key { line += " key \(k)" }
        let verdict: String
        switch s.verdict {
        case "verified": verdict = meaning("✔ verified")
        case "decrypted-unverified": verdict = yellow("decrypted, NOT authenticated")
        case "authentication-failed": verdict = red("✘ AUTHENTICATION FAILED")
        default: verdict = red(s.verdict)
        }
        out += pad + line + " → " + verdict + "\n"
        if let d = s.detail { out += pad + "  " + dim(d) + "\n" }
        if let p = s.plain, let d = s.plainDecoded {
            out += pad + dim("plaintext:") + "\n"
            renderDecoded(d, bytes: p, redactions: s.plainRedactions, indent: indent + 1)
            for inner in s.inner { renderSecurity(inner, indent: indent + 1) }
        }
    }

    func renderNode(_ n: Node, indent: Int, _ o: inout TextOut) {
        if case .data(let v) = n.value {
            renderDataRenderable(v, label: n.name, indent: indent, extra: n.meaning, &o)
            return
        }
        appendPad(indent, &o)
        appendLabel(n.name, item: nil, &o)
        let v = scalarText(n.value)
        if !v.isEmpty { o += ": "; o += v }
        if let m = n.meaning {
            if v.isEmpty { o += ": "; o += meaning(m) } else { o += " "; o += meaning("(\(m))") }
        }
        o += "\n"
        if n.isList {
            for (i, c) in n.children.enumerated() {
                if i >= style.maxItems {
                    appendPad(indent + 1, &o)
                    o += dim("… \(n.children.count - i) more")
                    o += "\n"
                    break
                }
                var item = c
                if item.name.isEmpty { item.name = "[\(i)]" }
                renderNode(item, indent: indent + 1, &o)
            }
        } else {
            for c in n.children { renderNode(c, indent: indent + 1, &o) }
        }
    }

    func renderData(_ v: DataValue, label: String, indent: Int) {
        withOut { renderDataValue(v, hint: [], label: label, item: nil, indent: indent, extra: nil, &$0) }
    }

    /// Indentation strings, shared (a profile buffer renders thousands of lines).
    static let pads: [String] = (0..<48).map { String(repeating: "  ", count: $0) }

    func appendPad(_ indent: Int, _ o: inout TextOut) {
        if indent < Self.pads.count { o += Self.pads[indent] } else { o += String(repeating: "  ", count: indent) }
    }

    /// `label` or, for an item of a list, `[item]`, coloured as a name.
    func appendLabel(_ label: String, item: Int?, _ o: inout TextOut) {
        let text = item.map { "[\($0)]" } ?? label
        if style.color { o += name(text) } else { o += text }
    }

    func renderDataRenderable(_ v: any DataRenderable, label: String, indent: Int, extra: String?,
                              _ o: inout TextOut) {
        // DataValue trees (the common case) are walked without boxing every item in an existential.
        if let d = v as? DataValue {
            renderDataValue(d, hint: [], label: label, item: nil, indent: indent, extra: extra, &o)
            return
        }
        if let h = v as? HintedDataValue {
            renderDataValue(h.value, hint: h.hint, label: label, item: nil, indent: indent, extra: extra, &o)
            return
        }
        let pad = String(repeating: "  ", count: indent)
        var line = pad + name(label) + ": " + v.textSummary
        if let m = extra { line += " " + meaning("(\(m))") }
        o += line + "\n"
        let children = v.textChildren
        for (i, c) in children.enumerated() {
            if i >= style.maxItems {
                o += pad + "  " + dim("… \(children.count - i) more") + "\n"
                break
            }
            renderDataRenderable(c, label: "[\(i)]", indent: indent + 1, extra: nil, &o)
        }
    }

    /// The same lines as `renderDataRenderable` gives a `DataValue` (`textSummary` / `textChildren` with their
    /// hints), appended straight to the output.
    func renderDataValue(_ v: DataValue, hint: DataRenderHint, label: String, item: Int?, indent: Int,
                         extra: String?, _ o: inout TextOut) {
        appendPad(indent, &o)
        appendLabel(label, item: item, &o)
        o += ": "
        o += v.textSummaryFast(hint: hint)
        if let m = extra { o += " "; o += meaning("(\(m))") }
        o += "\n"
        switch v {
        case .array(let items), .compactArray(_, let items):
            renderItems(items, structure: false, indent: indent, &o)
        case .structure(let items):
            renderItems(items, structure: true, indent: indent, &o)
        default:
            break
        }
    }

    func renderItems(_ items: [DataValue], structure: Bool, indent: Int, _ o: inout TextOut) {
        for i in items.indices {
            if i >= style.maxItems {
                appendPad(indent + 1, &o)
                o += dim("… \(items.count - i) more")
                o += "\n"
                break
            }
            let hint = structure ? DataValue.structureHint(items, i) : []
            renderDataValue(items[i], hint: hint, label: "", item: i, indent: indent + 1, extra: nil, &o)
        }
    }

    func scalarText(_ v: Node.Value) -> String {
        switch v {
        case .none: ""
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .uint(let u): String(u)
        case .double(let d): String(d)
        case .string(let s): s
        case .bytes(let b): Hex.encode(b, uppercase: true)
        case .data(let d): d.textSummary
        }
    }

    func renderFrame(_ f: FrameRecord) {
        let h = f.hdlc
        var line = header(f.provenance) + "  " + bold("HDLC \(h.type.rawValue)")
        line += " \(address(h.source))→\(address(h.destination))"
        line += dim(" control 0x" + Hex.encode([h.control], uppercase: true))
        if let nr = h.receiveSequence { line += " N(R)=\(nr)" }
        if let ns = h.sendSequence { line += " N(S)=\(ns)" }
        if h.pollFinal { line += " P/F" }
        if !h.fcsOK { line += " " + red("bad FCS") }
        if h.hcsOK == false { line += " " + red("bad HCS") }
        out += line + "\n"
        if let p = h.parameters {
            var parts: [String] = []
            if let v = p.maxInfoTransmit { parts.append("max info tx \(v)") }
            if let v = p.maxInfoReceive { parts.append("max info rx \(v)") }
            if let v = p.windowTransmit { parts.append("window tx \(v)") }
            if let v = p.windowReceive { parts.append("window rx \(v)") }
            out += "  " + name("parameters") + ": " + parts.joined(separator: ", ") + "\n"
        }
        if style.hex { out += "  " + dim("hex: " + Hex.encode(h.raw, uppercase: true)) + "\n" }
        out += "\n"
    }

    func renderSummary(_ s: Summary) {
        defer { for l in extraSummaryLines { out += l + "\n" } }
        out += bold("summary") + ": \(s.frames) frames, \(s.apdus) APDUs, \(s.linkFrames) link frames, "
            + "\(s.conversations) conversations, \(s.errors) errors\n"
        if !s.apduTypes.isEmpty {
            out += "  APDUs: " + s.apduTypes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                .joined(separator: ", ") + "\n"
        }
        if !s.verdicts.isEmpty {
            out += "  verdicts: " + s.verdicts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                .joined(separator: ", ") + "\n"
        }
        if !s.errorCodes.isEmpty {
            out += "  errors: " + s.errorCodes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                .joined(separator: ", ") + "\n"
        }
    }
}

/// The text renderer's output: UTF-8 bytes appended in place. `out += string` copies the string's bytes (one
/// memcpy for native strings), where a growing `String` re-examined its storage on every append.
struct TextOut {
    var bytes: [UInt8] = []

    init(reserving n: Int = 0) { if n > 0 { bytes.reserveCapacity(n) } }

    @inline(__always) static func += (lhs: inout TextOut, rhs: String) {
        var s = rhs
        s.withUTF8 { lhs.bytes.append(contentsOf: $0) }
    }
}

extension DataValue {
    /// `textSummary(hint:)`, built in one String without temporaries for the common cases.
    func textSummaryFast(hint: DataRenderHint) -> String {
        var s = ""
        appendTextSummary(to: &s, hint: hint)
        return s
    }
}
