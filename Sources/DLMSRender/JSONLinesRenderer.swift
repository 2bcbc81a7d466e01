import DLMSAPDU
import DLMSSession
import DLMSTransport
import DLMSWire

/// `--format jsonl`: one JSON object per line, the contract of docs/json.md.
public final class JSONLinesRenderer: Renderer {
    let sink: any OutputSink
    let flushEachRecord: Bool
    var buffer = JSONBuffer(capacity: 4096)
    /// Records are batched into one write of about this size (unless flushing per record).
    var pending: [UInt8] = []

    public init(sink: any OutputSink, flushEachRecord: Bool = false) {
        self.sink = sink
        self.flushEachRecord = flushEachRecord
        pending.reserveCapacity(1 << 16)
    }

    public func begin() {}

    public func render(_ record: Record) {
        buffer.reset()
        JSONLinesRenderer.write(record, into: &buffer)
        buffer.withBytes { pending.append(contentsOf: $0) }
        pending.append(0x0A)
        if flushEachRecord || pending.count >= 1 << 16 {
            sink.write(pending)
            pending.removeAll(keepingCapacity: true)
            if flushEachRecord { sink.flush() }
        }
    }

    public func end() {
        if !pending.isEmpty { sink.write(pending) }
        pending.removeAll()
        sink.flush()
    }

    // MARK: - Records

    public static func write(_ record: Record, into j: inout JSONBuffer) {
        switch record {
        case .apdu(let r): writeAPDU(r, into: &j)
        case .frame(let f): writeFrame(f, into: &j)
        case .error(let e):
            j.beginObject()
            j.field("kind", "error")
            writeProvenance(e.provenance, into: &j)
            j.field("code", e.code)
            j.field("message", e.message)
            if let o = e.offset { j.field("offset", o) }
            j.endObject()
        case .conversation(let c):
            j.beginObject()
            j.field("kind", "conversation")
            j.field("conversation", c.id)
            j.field("carrier", c.carrier)
            if let v = c.client { j.field("client", v) }
            if let v = c.server { j.field("server", v) }
            if let f = c.frame { j.field("frame", f) }
            if let t = c.time { j.field("time", t.rfc3339) }
            if let s = c.source { j.field("source", s) }
            j.endObject()
        case .summary(let s): writeSummary(s, into: &j)
        }
    }

    static func writeProvenance(_ p: Provenance, into j: inout JSONBuffer) {
        j.key("frames")
        j.beginArray()
        for f in p.frames { j.int(f) }
        j.endArray()
        if let t = p.time { j.field("time", t.rfc3339) }
        j.field("conversation", p.conversation)
        if let d = p.direction { j.field("direction", d.rawValue) }
    }

    static func writeAPDU(_ r: APDURecord, into j: inout JSONBuffer) {
        j.beginObject()
        j.field("kind", "apdu")
        writeProvenance(r.provenance, into: &j)
        j.key("transport")
        writeTransport(r.transport, gbt: r.gbt, into: &j)
        j.key("apdu")
        writeDecoded(r.decoded, bytes: r.bytes[...], redactions: r.redactions, into: &j)
        if let s = r.security {
            writeSecurity(s, into: &j)
        }
        j.key("service")
        writeService(r.service, into: &j)
        if let b = r.block {
            j.key("block")
            j.beginObject()
            j.field("transfer", b.transfer)
            j.field("block_number", b.blockNumber)
            j.field("last_block", b.lastBlock)
            j.endObject()
        }
        if let re = r.reassembled {
            j.key("reassembled")
            j.beginObject()
            j.field("blocks", re.blocks)
            j.key("frames")
            j.beginArray()
            for f in re.frames { j.int(f) }
            j.endArray()
            j.key("hex")
            j.hex(re.bytes)
            j.key("data")
            if let v = re.value { v.writeJSON(into: &j) } else { j.null() }
            if let e = re.error { j.key("error"); writeError(e, into: &j) }
            j.endObject()
        }
        if !r.scalerUnits.isEmpty {
            j.key("scaler_units")
            j.beginArray()
            for (o, su) in r.scalerUnits.sorted(by: { $0.key.obis.lexicographicallyPrecedes($1.key.obis) }) {
                j.beginObject()
                j.field("class_id", o.classID)
                j.field("obis", COSEM.dottedOBIS(o.obis))
                j.field("scaler", su.scaler)
                j.field("unit", su.unit)
                if let u = COSEM.unit(su.unit) { j.field("unit_symbol", u.symbol) }
                j.endObject()
            }
            j.endArray()
        }
        j.key("errors")
        j.beginArray()
        for e in r.errors { writeError(e, into: &j) }
        j.endArray()
        if !r.notes.isEmpty {
            j.key("notes")
            j.beginArray()
            for n in r.notes { j.string(n) }
            j.endArray()
        }
        j.endObject()
    }

    static func writeError(_ e: DecodeError, into j: inout JSONBuffer) {
        j.beginObject()
        j.field("code", e.code)
        j.field("message", e.message)
        if let o = e.offset { j.field("offset", o) } else { j.key("offset"); j.null() }
        j.endObject()
    }

    static func writeSecurity(_ s: SecurityResult, into j: inout JSONBuffer) {
        j.key("security")
        j.beginObject()
        j.field("protection", s.protection)
        j.field("security_control", s.securityControl)
        j.field("suite", s.suite)
        j.field("authenticated", s.authenticated)
        j.field("encrypted", s.encrypted)
        j.field("broadcast", s.broadcast)
        j.field("compressed", s.compressed)
        if let st = s.systemTitle { j.key("system_title"); j.hex(st) }
        if let ic = s.invocationCounter { j.field("invocation_counter", ic) }
        if let k = s.key { j.field("key", k) }
        j.field("verdict", s.verdict)
        if let d = s.detail { j.field("detail", d) }
        j.endObject()
        if let p = s.plain, let d = s.plainDecoded {
            j.key("plain")
            writeDecoded(d, bytes: p[...], redactions: s.plainRedactions, into: &j, inner: s.inner)
        }
    }

    static func writeDecoded(_ d: DecodedAPDU, bytes: ArraySlice<UInt8>, redactions: [Range<Int>] = [],
                             into j: inout JSONBuffer, inner: [SecurityResult] = []) {
        j.beginObject()
        j.field("type", d.type)
        if redactions.isEmpty {
            j.key("hex")
            j.hex(bytes)
        } else {
            // A secret (LLS password, dedicated key) travels in these bytes: they are shown with it masked.
            j.field("redacted_hex", Secrets.maskedHex(Array(bytes), redactions))
        }
        for n in d.fields { writeNodeMember(n, into: &j) }
        if !d.errors.isEmpty && !inner.isEmpty {
            // errors of a plaintext are reported with the record's errors; nothing here.
        }
        if let s = inner.first { writeSecurity(s, into: &j) }
        j.endObject()
    }

    static func writeTransport(_ t: TransportKind, gbt: GBTOrigin? = nil, into j: inout JSONBuffer) {
        j.beginObject()
        if let g = gbt {
            // Joined from general-block-transfer blocks; the link details below are those of the last block.
            j.key("gbt")
            j.beginObject()
            j.field("blocks", g.blocks)
            j.endObject()
        }
        switch t {
        case .wrapper(let h):
            j.field("type", "wrapper")
            j.field("version", h.version)
            j.field("src_wport", h.sourcePort)
            j.field("dst_wport", h.destinationPort)
            j.field("length", h.length)
        case .hdlc(let segments, let llc):
            j.field("type", "hdlc")
            if let f = segments.first {
                j.key("dst_address"); writeHDLCAddress(f.destination, into: &j)
                j.key("src_address"); writeHDLCAddress(f.source, into: &j)
                j.field("frame_type", f.type.rawValue)
            }
            if let l = llc { j.key("llc"); j.hex(l) } else { j.key("llc"); j.null() }
            j.field("segment_count", segments.count)
            j.key("segments")
            j.beginArray()
            for s in segments {
                j.beginObject()
                j.key("frames")
                j.beginArray()
                for f in s.frames { j.int(f) }
                j.endArray()
                j.field("control", s.control)
                j.field("type", s.type.rawValue)
                if let ns = s.sendSequence { j.field("ns", ns) }
                if let nr = s.receiveSequence { j.field("nr", nr) }
                j.field("pf", s.pollFinal)
                j.field("segmented", s.segmented)
                j.field("length", s.length)
                j.endObject()
            }
            j.endArray()
        case .raw:
            j.field("type", "raw")
        case .iec432(let llc):
            j.field("type", "iec-61334-4-32")
            j.key("llc")
            j.hex(llc)
        }
        j.endObject()
    }

    static func writeHDLCAddress(_ a: HDLCAddress, into j: inout JSONBuffer) {
        j.beginObject()
        j.field("value", a.value)
        j.field("size", a.size)
        j.field("upper", a.upper)
        if let l = a.lower { j.field("lower", l) }
        j.endObject()
    }

    static func writeService(_ s: ServiceFacts, into j: inout JSONBuffer) {
        j.beginObject()
        j.field("type", s.type)
        if let v = s.variant { j.field("variant", v) }
        if let id = s.invokeID { j.field("invoke_id", id) }
        if let p = s.priorityHigh { j.field("priority", p ? "high" : "normal") }
        if let c = s.confirmed { j.field("confirmed", c) }
        if !s.objects.isEmpty {
            j.key("objects")
            j.beginArray()
            for o in s.objects {
                j.beginObject()
                j.field("class_id", o.classID)
                if let n = COSEM.className(o.classID) { j.field("class", n) }
                j.field("obis", COSEM.dottedOBIS(o.obis))
                if let n = COSEM.obisName(o.obis) { j.field("obis_name", n) }
                if let a = o.attributeID {
                    j.field("attribute_id", a)
                    if let n = COSEM.attributeName(classID: o.classID, attribute: Int(a)) { j.field("attribute", n) }
                }
                if let m = o.methodID {
                    j.field("method_id", m)
                    if let n = COSEM.methodName(classID: o.classID, method: Int(m)) { j.field("method", n) }
                }
                if let sel = o.selector { j.field("selector", sel) }
                if let sn = o.shortName { j.field("short_name", sn) }
                j.endObject()
            }
            j.endArray()
        }
        if let r = s.result { j.field("result", r) }
        if let b = s.block {
            j.field("block_number", b.blockNumber)
            j.field("last_block", b.lastBlock)
        }
        j.endObject()
    }

    static func writeFrame(_ f: FrameRecord, into j: inout JSONBuffer) {
        let h = f.hdlc
        j.beginObject()
        j.field("kind", "frame")
        writeProvenance(f.provenance, into: &j)
        j.key("transport")
        j.beginObject()
        j.field("type", "hdlc")
        j.field("frame_type", h.type.rawValue)
        j.field("control", h.control)
        if let ns = h.sendSequence { j.field("ns", ns) }
        if let nr = h.receiveSequence { j.field("nr", nr) }
        j.field("pf", h.pollFinal)
        j.field("segmented", h.segmented)
        j.field("length", h.length)
        j.key("dst_address"); writeHDLCAddress(h.destination, into: &j)
        j.key("src_address"); writeHDLCAddress(h.source, into: &j)
        if let ok = h.hcsOK { j.field("hcs_ok", ok) }
        j.field("fcs_ok", h.fcsOK)
        j.key("info"); j.hex(h.info)
        if let p = h.parameters {
            j.key("parameters")
            j.beginObject()
            if let v = p.maxInfoTransmit { j.field("max_info_field_length_transmit", v) }
            if let v = p.maxInfoReceive { j.field("max_info_field_length_receive", v) }
            if let v = p.windowTransmit { j.field("window_size_transmit", v) }
            if let v = p.windowReceive { j.field("window_size_receive", v) }
            j.endObject()
        }
        j.key("hex"); j.hex(h.raw)
        j.endObject()
        j.endObject()
    }

    static func writeSummary(_ s: Summary, into j: inout JSONBuffer) {
        j.beginObject()
        j.field("kind", "summary")
        j.field("frames", s.frames)
        j.field("apdus", s.apdus)
        j.field("link_frames", s.linkFrames)
        j.field("errors", s.errors)
        j.field("conversations", s.conversations)
        for (name, dict) in [("apdu_types", s.apduTypes), ("verdicts", s.verdicts), ("error_codes", s.errorCodes)] {
            j.key(name)
            j.beginObject()
            for (k, v) in dict.sorted(by: { $0.key < $1.key }) { j.field(k, v) }
            j.endObject()
        }
        j.endObject()
    }

    // MARK: - Node trees

    /// A node as a member of an object (`"name": ...`).
    static func writeNodeMember(_ n: Node, into j: inout JSONBuffer) {
        j.key(n.name)
        writeNodeValue(n, into: &j)
    }

    /// A node as a value: scalar when it is a plain leaf, otherwise an object or array.
    static func writeNodeValue(_ n: Node, into j: inout JSONBuffer) {
        if n.isList {
            j.beginArray()
            for c in n.children { writeNodeValue(c, into: &j) }
            j.endArray()
            return
        }
        if n.children.isEmpty && n.meaning == nil {
            writeScalar(n.value, into: &j)
            return
        }
        j.beginObject()
        if case .none = n.value {} else {
            j.key("value")
            writeScalar(n.value, into: &j)
        }
        if let m = n.meaning { j.field("meaning", m) }
        for c in n.children { writeNodeMember(c, into: &j) }
        j.endObject()
    }

    static func writeScalar(_ v: Node.Value, into j: inout JSONBuffer) {
        switch v {
        case .none, .null: j.null()
        case .bool(let b): j.bool(b)
        case .int(let i): j.int(i)
        case .uint(let u): j.int(u)
        case .double(let d): j.double(d)
        case .string(let s): j.string(s)
        case .bytes(let b): j.hex(b)
        case .data(let d): d.writeJSON(into: &j)
        }
    }
}
