import DLMSAPDU
import DLMSSession
import DLMSTransport
import DLMSWire

/// `--format jsonl`: one JSON object per line, the contract of docs/json.md.
public final class JSONLinesRenderer: Renderer {
    let sink: any OutputSink
    let flushEachRecord: Bool
    /// Complete lines, handed to the sink in one write of about 64 kB (or per record when flushing per record):
    /// records are written straight into it, with no copy per record.
    var buffer = JSONBuffer(capacity: 1 << 17)
    static let batchSize = 1 << 16

    /// Reassembled data is written from its bytes (`writeReassembledData`): no values decoded for it.
    public var needsDecodedValues: Bool { false }

    public init(sink: any OutputSink, flushEachRecord: Bool = false) {
        self.sink = sink
        self.flushEachRecord = flushEachRecord
    }

    public func begin() {}

    public func render(_ record: Record) {
        JSONLinesRenderer.write(record, into: &buffer)
        buffer.endLine()
        if flushEachRecord || buffer.count >= Self.batchSize { flushLines() }
    }

    /// Writes one extra, already serialised JSON line in order with the records (findings).
    public func appendLine(_ json: [UInt8]) {
        json.withUnsafeBufferPointer { buffer.appendRaw($0) }
        buffer.endLine()
        if flushEachRecord || buffer.count >= Self.batchSize { flushLines() }
    }

    func flushLines() {
        if buffer.count > 0 {
            buffer.withBytes { sink.write(buffer: $0) }
            buffer.removeAllBytes()
        }
        if flushEachRecord { sink.flush() }
    }

    public func end() {
        if buffer.count > 0 {
            buffer.withBytes { sink.write(buffer: $0) }
            buffer.reset()
        }
        sink.flush()
    }

    // MARK: - Records

    public static func write(_ record: Record, into j: inout JSONBuffer) {
        switch record {
        case .apdu(let r): writeAPDU(r, into: &j)
        case .frame(let f): writeFrame(f, into: &j)
        case .error(let e):
            j.beginObject()
            j.members(#""kind":"error""#)
            writeProvenance(e.provenance, into: &j)
            j.field(literal: "code", e.code)
            j.field(literal: "message", e.message)
            if let o = e.offset { j.field(literal: "offset", o) }
            j.endObject()
        case .conversation(let c):
            j.beginObject()
            j.members(#""kind":"conversation""#)
            j.field(literal: "conversation", c.id)
            j.field(literal: "carrier", c.carrier)
            if let v = c.client { j.field(literal: "client", v) }
            if let v = c.server { j.field(literal: "server", v) }
            if let f = c.frame { j.field(literal: "frame", f) }
            if let t = c.time { j.key(literal: "time"); j.timestamp(t) }
            if let s = c.source { j.field(literal: "source", s) }
            j.endObject()
        case .summary(let s): writeSummary(s, into: &j)
        }
    }

    static func writeProvenance(_ p: Provenance, into j: inout JSONBuffer) {
        j.key(literal: "frames")
        j.beginArray()
        for f in p.frames { j.int(f) }
        j.endArray()
        if let t = p.time { j.key(literal: "time"); j.timestamp(t) }
        j.field(literal: "conversation", p.conversation)
        switch p.direction {
        case .clientToServer: j.members(#""direction":"client->server""#)
        case .serverToClient: j.members(#""direction":"server->client""#)
        case nil: break
        }
    }

    static func writeAPDU(_ r: APDURecord, into j: inout JSONBuffer) {
        j.beginObject(members: #""kind":"apdu""#, endsWithKey: false)
        writeProvenance(r.provenance, into: &j)
        j.key(literal: "transport")
        writeTransport(r.transport, gbt: r.gbt, into: &j)
        j.key(literal: "apdu")
        writeDecoded(r.decoded, bytes: r.bytes[...], redactions: r.redactions, into: &j)
        if let s = r.security {
            writeSecurity(s, into: &j)
        }
        j.key(literal: "service")
        writeService(r.service, into: &j)
        if let h = r.hls {
            j.key("hls")
            j.beginObject()
            j.field("mechanism", h.mechanism)
            j.field("party", h.party)
            j.field("result", h.result)
            if let d = h.detail { j.field("detail", d) }
            j.endObject()
        }
        if let b = r.block {
            j.key(literal: "block")
            j.beginObject()
            j.field(literal: "transfer", b.transfer)
            j.field(literal: "block_number", b.blockNumber)
            j.field(literal: "last_block", b.lastBlock)
            j.endObject()
        }
        if let re = r.reassembled {
            j.key(literal: "reassembled")
            j.beginObject()
            j.field(literal: "blocks", re.blocks)
            j.key(literal: "frames")
            j.beginArray()
            for f in re.frames { j.int(f) }
            j.endArray()
            j.key(literal: "hex")
            j.hex(re.bytes)
            j.key(literal: "data")
            if re.isValueDeferred {
                writeReassembledData(re.bytes, into: &j)
            } else if let v = re.value {
                v.writeJSON(into: &j)
            } else {
                j.null()
            }
            if let e = re.error { j.key(literal: "error"); writeError(e, into: &j) }
            j.endObject()
        }
        if !r.labels.isEmpty {
            j.key("labels")
            LabelledValue.writeJSON(r.labels, into: &j)
        }
        if !r.scalerUnits.isEmpty {
            j.key(literal: "scaler_units")
            j.beginArray()
            for (o, su) in r.scalerUnits.sorted(by: { $0.key.obis.lexicographicallyPrecedes($1.key.obis) }) {
                j.beginObject()
                j.field(literal: "class_id", o.classID)
                j.field(literal: "obis", COSEM.dottedOBIS(o.obis))
                j.field(literal: "scaler", su.scaler)
                j.field(literal: "unit", su.unit)
                if let u = COSEM.unit(su.unit) { j.field(literal: "unit_symbol", u.symbol) }
                j.endObject()
            }
            j.endArray()
        }
        j.key(literal: "errors")
        j.beginArray()
        for e in r.errors { writeError(e, into: &j) }
        j.endArray()
        if !r.notes.isEmpty {
            j.key(literal: "notes")
            j.beginArray()
            for n in r.notes { j.string(n) }
            j.endArray()
        }
        j.endObject()
    }

    /// The value `BlockTransfers.decode` finds in the joined data of a transfer, written from the bytes
    /// (`AXDR.writeDataJSON`): one `Data` taking every byte; else a SEQUENCE OF Data, or of Get-Data-Result (a
    /// data-access-result shown as its enum value), taking every byte; else the one `Data` the bytes start with
    /// (trailing bytes are the record's error); else null.
    static func writeReassembledData(_ data: [UInt8], into j: inout JSONBuffer) {
        let m = j.mark
        var r = ByteReader(data)
        var single = true
        do {
            try AXDR.writeDataJSON(&r, into: &j)
            if r.isAtEnd { return }
        } catch {
            single = false
        }
        j.rollBack(to: m)
        if writeDataList(data, into: &j) { return }
        if single {
            r = ByteReader(data)
            do {
                try AXDR.writeDataJSON(&r, into: &j)
                return
            } catch {
                j.rollBack(to: m)
            }
        }
        j.null()
    }

    /// `BlockTransfers.decodeList` written from the bytes (the same `ReassembledList.walk`): false, having written
    /// nothing, when `data` is neither list.
    static func writeDataList(_ data: [UInt8], into j: inout JSONBuffer) -> Bool {
        struct Writer: ReassembledListVisitor, ~Copyable {
            var j: JSONBuffer
            let mark: JSONBuffer.Mark
            mutating func begin() {
                j.beginObject(members: #""type":"array","items":"#, endsWithKey: true)
                j.beginArray()
            }
            mutating func data(_ r: inout ByteReader) throws(DecodeError) { try AXDR.writeDataJSON(&r, into: &j) }
            mutating func dataAccessResult(_ code: UInt8) { DataValue.enumValue(code).writeJSON(into: &j) }
            mutating func end(complete: Bool) {
                j.endArray()
                j.endObject()
                if !complete { j.rollBack(to: mark) }
            }
        }
        let mark = j.mark
        var writer = Writer(j: consume j, mark: mark)
        let found = ReassembledList.walk(data, &writer)
        j = writer.j
        return found
    }

    static func writeError(_ e: DecodeError, into j: inout JSONBuffer) {
        j.beginObject()
        j.field(literal: "code", e.code)
        j.field(literal: "message", e.message)
        if let o = e.offset { j.field(literal: "offset", o) } else { j.key(literal: "offset"); j.null() }
        j.endObject()
    }

    static func writeSecurity(_ s: SecurityResult, into j: inout JSONBuffer) {
        j.key(literal: "security")
        j.beginObject()
        j.field(literal: "protection", s.protection)
        j.field(literal: "security_control", s.securityControl)
        j.field(literal: "suite", s.suite)
        j.field(literal: "authenticated", s.authenticated)
        j.field(literal: "encrypted", s.encrypted)
        j.field(literal: "broadcast", s.broadcast)
        j.field(literal: "compressed", s.compressed)
        if let st = s.systemTitle { j.key(literal: "system_title"); j.hex(st) }
        if let ic = s.invocationCounter { j.field(literal: "invocation_counter", ic) }
        if let k = s.key { j.field(literal: "key", k) }
        j.field(literal: "verdict", s.verdict)
        if let d = s.detail { j.field(literal: "detail", d) }
        j.endObject()
        if let p = s.plain, let d = s.plainDecoded {
            j.key(literal: "plain")
            writeDecoded(d, bytes: p[...], redactions: s.plainRedactions, into: &j, inner: s.inner)
        }
    }

    static func writeDecoded(_ d: DecodedAPDU, bytes: ArraySlice<UInt8>, redactions: [Range<Int>] = [],
                             into j: inout JSONBuffer, inner: [SecurityResult] = []) {
        j.beginObject()
        j.field(literal: "type", d.type)
        if redactions.isEmpty {
            j.key(literal: "hex")
            j.hex(bytes)
        } else {
            // A secret (LLS password, dedicated key) travels in these bytes: they are shown with it masked.
            j.field(literal: "redacted_hex", Secrets.maskedHex(Array(bytes), redactions))
        }
        j.nodeMembers(d.fields)
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
            j.key(literal: "gbt")
            j.beginObject()
            j.field(literal: "blocks", g.blocks)
            j.endObject()
        }
        switch t {
        case .wrapper(let h):
            // Fixed members: one bounded run (4 × 5 digits at most).
            j.fragment(maxLength: 96) { w in
                w.literal(#""type":"wrapper","version":"#)
                w.decimal(Int(h.version))
                w.literal(#","src_wport":"#)
                w.decimal(Int(h.sourcePort))
                w.literal(#","dst_wport":"#)
                w.decimal(Int(h.destinationPort))
                w.literal(#","length":"#)
                w.decimal(Int(h.length))
            }
        case .hdlc(let segments, let llc):
            j.members(#""type":"hdlc""#)
            if let f = segments.first {
                j.key(literal: "dst_address"); writeHDLCAddress(f.destination, into: &j)
                j.key(literal: "src_address"); writeHDLCAddress(f.source, into: &j)
                j.key(literal: "frame_type")
                j.rawValue(frameTypeJSON(f.type))
            }
            if let l = llc { j.key(literal: "llc"); j.hex(l) } else { j.key(literal: "llc"); j.null() }
            j.field(literal: "segment_count", segments.count)
            j.key(literal: "segments")
            j.beginArray()
            for s in segments {
                j.beginObject()
                j.key(literal: "frames")
                j.beginArray()
                for f in s.frames { j.int(f) }
                j.endArray()
                j.field(literal: "control", s.control)
                j.key(literal: "type")
                j.rawValue(frameTypeJSON(s.type))
                if let ns = s.sendSequence { j.field(literal: "ns", ns) }
                if let nr = s.receiveSequence { j.field(literal: "nr", nr) }
                j.field(literal: "pf", s.pollFinal)
                j.field(literal: "segmented", s.segmented)
                j.field(literal: "length", s.length)
                j.endObject()
            }
            j.endArray()
        case .raw:
            j.members(#""type":"raw""#)
        case .mbus(let segments):
            MBusFrameInfo.writeTransportJSON(segments, into: &j)
        case .iec432(let llc):
            j.members(#""type":"iec-61334-4-32""#)
            j.key(literal: "llc")
            j.hex(llc)
        }
        j.endObject()
    }

    static func writeHDLCAddress(_ a: HDLCAddress, into j: inout JSONBuffer) {
        // One bounded run: {"value":u32,"size":int,"upper":u16,"lower":u16} is under 100 bytes.
        j.fragment(maxLength: 112) { w in
            w.literal(#"{"value":"#)
            w.decimal(Int(a.value))
            w.literal(#","size":"#)
            w.decimal(a.size)
            w.literal(#","upper":"#)
            w.decimal(Int(a.upper))
            if let l = a.lower {
                w.literal(#","lower":"#)
                w.decimal(Int(l))
            }
            w.byte(UInt8(ascii: "}"))
        }
    }

    /// The frame type's name as a JSON string (`HDLCFrameType.rawValue`, quoted).
    static func frameTypeJSON(_ t: HDLCFrameType) -> StaticString {
        switch t {
        case .i: #""I""#
        case .rr: #""RR""#
        case .rnr: #""RNR""#
        case .snrm: #""SNRM""#
        case .disc: #""DISC""#
        case .ua: #""UA""#
        case .dm: #""DM""#
        case .frmr: #""FRMR""#
        case .ui: #""UI""#
        case .unknown: #""unknown""#
        }
    }

    static func writeService(_ s: ServiceFacts, into j: inout JSONBuffer) {
        j.beginObject()
        j.field(literal: "type", s.type)
        if let v = s.variant { j.field(literal: "variant", v) }
        if let id = s.invokeID { j.field(literal: "invoke_id", id) }
        if let p = s.priorityHigh {
            if p { j.members(#""priority":"high""#) } else { j.members(#""priority":"normal""#) }
        }
        if let c = s.confirmed { j.field(literal: "confirmed", c) }
        if !s.objects.isEmpty {
            j.key(literal: "objects")
            j.beginArray()
            for o in s.objects {
                j.beginObject()
                j.field(literal: "class_id", o.classID)
                if let n = COSEM.className(o.classID) { j.field(literal: "class", n) }
                j.field(literal: "obis", COSEM.dottedOBIS(o.obis))
                if let n = COSEM.obisName(o.obis) { j.field(literal: "obis_name", n) }
                if let a = o.attributeID {
                    j.field(literal: "attribute_id", a)
                    if let n = COSEM.attributeName(classID: o.classID, attribute: Int(a)) { j.field(literal: "attribute", n) }
                }
                if let m = o.methodID {
                    j.field(literal: "method_id", m)
                    if let n = COSEM.methodName(classID: o.classID, method: Int(m)) { j.field(literal: "method", n) }
                }
                if let sel = o.selector { j.field(literal: "selector", sel) }
                if let sn = o.shortName { j.field(literal: "short_name", sn) }
                j.endObject()
            }
            j.endArray()
        }
        if let r = s.result { j.field(literal: "result", r) }
        if let b = s.block {
            j.field(literal: "block_number", b.blockNumber)
            j.field(literal: "last_block", b.lastBlock)
        }
        j.endObject()
    }

    static func writeFrame(_ f: FrameRecord, into j: inout JSONBuffer) {
        let h = f.hdlc
        j.beginObject(members: #""kind":"frame""#, endsWithKey: false)
        writeProvenance(f.provenance, into: &j)
        j.key(literal: "transport")
        j.beginObject()
        j.members(#""type":"hdlc""#)
        j.key(literal: "frame_type")
        j.rawValue(frameTypeJSON(h.type))
        j.field(literal: "control", h.control)
        if let ns = h.sendSequence { j.field(literal: "ns", ns) }
        if let nr = h.receiveSequence { j.field(literal: "nr", nr) }
        j.field(literal: "pf", h.pollFinal)
        j.field(literal: "segmented", h.segmented)
        j.field(literal: "length", h.length)
        j.key(literal: "dst_address"); writeHDLCAddress(h.destination, into: &j)
        j.key(literal: "src_address"); writeHDLCAddress(h.source, into: &j)
        if let ok = h.hcsOK { j.field(literal: "hcs_ok", ok) }
        j.field(literal: "fcs_ok", h.fcsOK)
        j.key(literal: "info"); j.hex(h.info)
        if let p = h.parameters {
            j.key(literal: "parameters")
            j.beginObject()
            if let v = p.maxInfoTransmit { j.field(literal: "max_info_field_length_transmit", v) }
            if let v = p.maxInfoReceive { j.field(literal: "max_info_field_length_receive", v) }
            if let v = p.windowTransmit { j.field(literal: "window_size_transmit", v) }
            if let v = p.windowReceive { j.field(literal: "window_size_receive", v) }
            j.endObject()
        }
        j.key(literal: "hex"); j.hex(h.raw)
        j.endObject()
        j.endObject()
    }

    static func writeSummary(_ s: Summary, into j: inout JSONBuffer) {
        j.beginObject()
        j.members(#""kind":"summary""#)
        j.field(literal: "frames", s.frames)
        j.field(literal: "apdus", s.apdus)
        j.field(literal: "link_frames", s.linkFrames)
        j.field(literal: "errors", s.errors)
        j.field(literal: "conversations", s.conversations)
        for (name, dict) in [("apdu_types", s.apduTypes), ("verdicts", s.verdicts), ("error_codes", s.errorCodes)] {
            j.key(name)
            j.beginObject()
            for (k, v) in dict.sorted(by: { $0.key < $1.key }) { j.field(k, v) }
            j.endObject()
        }
        if !s.anomalyCodes.isEmpty || !s.anomalySeverities.isEmpty {
            j.key("anomalies")
            j.beginObject()
            j.field("total", s.anomalyCodes.values.reduce(0, +))
            for (name, dict) in [("by_severity", s.anomalySeverities), ("by_code", s.anomalyCodes)] {
                j.key(name)
                j.beginObject()
                for (k, v) in dict.sorted(by: { $0.key < $1.key }) { j.field(k, v) }
                j.endObject()
            }
            j.endObject()
        }
        j.endObject()
    }
}
