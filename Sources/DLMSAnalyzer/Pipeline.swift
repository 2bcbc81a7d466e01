import DLMSAPDU
import DLMSCapture
import DLMSSession
import DLMSTransport
import DLMSWire

extension Analyzer {
    /// One transport event of a conversation: an APDU, a link frame or a framing issue.
    func handleTransport(_ e: consuming TransportEvent, key: ConversationKey, from fromParty: Party,
                         to toParty: Party, conversation known: Conversation? = nil) {
        var c = known ?? conversation(key, carrier: carrierName(key))
        // One switch; an APDU is moved out of the event (`takeAPDU`: `case .apdu(let a)` copied it) and its parts
        // move into its record. HDLC names its stations: the addresses tell the direction even where the network
        // does not (both directions in one UDP flow, a serial line).
        switch e {
        case .apdu:
            guard let a = (consume e).takeAPDU() else { return }
            var from = fromParty
            var to = toParty
            if case .hdlc(let segs, _) = a.kind, let f = segs.first {
                from = .hdlc(f.source.value)
                to = .hdlc(f.destination.value)
            }
            if !c.confirmed {
                if case .raw = a.kind, !c.bareAPDUsAllowed { return }
                confirm(&c)
            }
            let decoded = APDUDecoder.decode(a.bytes[...], options: decodeOptions)
            var hint = InherentDirection.of(tag: decoded.tag)
            if hint == nil, decoded.facts.hasProtection, let p = decoded.facts.protection, p.systemTitle != nil {
                // general-* carry the sender's system title, so they can be opened before the direction is
                // known; the plaintext's type then tells it (a push is a data-notification from the server).
                var scratch = c.security
                let s = engine.unprotect(p, direction: nil, association: &scratch)
                if s.verdict == "verified" || s.verdict == "decrypted-unverified", let inner = s.plainDecoded {
                    hint = InherentDirection.of(apduType: innermostFacts(inner, security: s).type)
                }
            }
            if hint == nil, case .hdlc(let segs, let llc) = a.kind {
                if let l = llc, l.count >= 2 { hint = l[1] == 0xE6 ? .clientToServer : .serverToClient }
                else if let f = segs.first { hint = InherentDirection.of(frame: f) }
            }
            let dir = direction(&c, from: from, to: to, hint: hint)
            announce(&c, frame: a.frames.first, time: a.time)
            var (record, gbtBlock) = buildRecord(consume a, decoded: consume decoded, conversation: &c,
                                                 direction: dir)
            var assembled: GBTAssembly?
            // The transport's parts now live in the record: a joined GBT APDU needs its kind after `emit`.
            var kind: TransportKind = .raw
            if let b = gbtBlock {
                // An empty block acknowledges the other direction's blocks; one below the highest block sent asks
                // for the rest again (lost-block recovery).
                if let g = b.gbt, b.rawData?.isEmpty ?? true,
                   let note = (dir == .clientToServer ? c.gbtServer : c.gbtClient).acknowledgement(g.blockNumberAck)
                {
                    record.notes.append(note)
                }
                c.gbtClient.idleSeconds = options.limits.idleSeconds
                c.gbtServer.idleSeconds = options.limits.idleSeconds
                let (asm, remarks) = dir == .clientToServer
                    ? c.gbtClient.add(b, frames: record.provenance.frames, time: record.provenance.time)
                    : c.gbtServer.add(b, frames: record.provenance.frames, time: record.provenance.time)
                if !remarks.isEmpty { record.notes.append(contentsOf: remarks) }
                assembled = asm
                if asm != nil { kind = record.transport }
            }
            emit(consume record)
            if let asm = assembled {
                // The joined APDU is an APDU of its own: decoded, decrypted and tracked like any other.
                let inner = TransportAPDU(kind: kind, bytes: asm.bytes, frames: asm.frames, time: asm.time)
                let innerDecoded = APDUDecoder.decode(asm.bytes[...], options: decodeOptions)
                var (r, _) = buildRecord(inner, decoded: consume innerDecoded, conversation: &c, direction: dir)
                r.gbt = GBTOrigin(blocks: asm.blocks)
                r.notes.insert(contentsOf: asm.notes, at: 0)
                emit(consume r)
            }
        case .hdlcFrame(let f):
            handleLinkFrame(f, conversation: &c)
        case .issue(let i):
            guard c.confirmed else { return }
            // An issue carries no addresses of its own: a direction only where the network endpoint tells it.
            var dir: Direction?
            if case .endpoint(let ep) = fromParty, let client = c.clientEndpoint, c.clientParty == nil {
                dir = ep == client ? .clientToServer : .serverToClient
            }
            emitError(code: i.code, message: i.message, frames: i.frames, time: i.time, conversation: c.id,
                      direction: dir, offset: i.offset)
        }
    }

    /// An HDLC frame: it confirms the conversation and tells the direction; all but I and UI frames (shown through
    /// the APDUs they carry) are rendered as link frames.
    func handleLinkFrame(_ f: borrowing HDLCFrame, conversation c: inout Conversation) {
        if !c.confirmed {
            guard f.fcsOK else { return }
            confirm(&c)
        }
        let dir = direction(&c, from: .hdlc(f.source.value), to: .hdlc(f.destination.value),
                            hint: InherentDirection.of(frame: f))
        guard f.type != .i && f.type != .ui else { return }
        summary.linkFrames += 1
        guard options.linkFrames else { return }
        announce(&c, frame: f.frames.first, time: f.time)
        renderer.render(.frame(FrameRecord(
            provenance: Provenance(frames: f.frames.array, time: f.time, conversation: c.id, direction: dir),
            hdlc: copy f)))
    }

    func emit(_ record: consuming APDURecord) {
        summary.apdus += 1
        // By tag: the pipeline's decoded APDUs are named by `APDUDecoder`, from the tag.
        summary.countAPDU(tag: record.decoded.tag)
        if let v = record.securityVerdict { summary.verdicts[v, default: 0] += 1 }
        for err in record.errors { summary.errorCodes[err.code, default: 0] += 1 }
        renderer.render(.apdu(consume record))
    }

    func carrierName(_ key: ConversationKey) -> String {
        switch key {
        case .connection: "tcp"
        case .serialLine, .link: options.input == .hex ? "hex" : "serial"
        }
    }

    /// An error event on a conversation: reported only once the conversation is known to be DLMS.
    func conversationError(_ key: ConversationKey, code: String, message: String, frames: [Int], time: Timestamp?,
                           direction: Direction?, offset: Int?) {
        guard let c = conversations[key], c.confirmed else { return }
        emitError(code: code, message: message, frames: frames, time: time, conversation: c.id,
                  direction: direction, offset: offset)
    }

    func announce(_ c: inout Conversation, frame: Int?, time: Timestamp?) {
        guard !c.announced else { return }
        c.announced = true
        guard options.conversationRecords else { return }
        let (client, server) = describeParties(c)
        renderer.render(.conversation(ConversationRecord(id: c.id, carrier: c.carrier, client: client,
                                                         server: server, frame: frame, time: time,
                                                         source: currentSource)))
    }

    /// The APDU's record, and its general-block-transfer block if it carries one.
    func buildRecord(_ a: consuming TransportAPDU, decoded: consuming DecodedAPDU, conversation c: inout Conversation,
                     direction: Direction?) -> (APDURecord, BlockFacts?) {
        var errors: [DecodeError] = []
        swap(&errors, &a.errors)
        if !decoded.errors.isEmpty { errors.append(contentsOf: decoded.errors) }
        // System titles are identities: learn them before unprotecting (the AARQ's own initiate uses the calling
        // AP title as IV).
        // ACSE APDUs by tag (aarq 0x60, aare 0x61, rlrq 0x62, rlre 0x63): their types are these names exactly.
        let tag = decoded.tag
        if decoded.facts.hasAssociation, let assoc = decoded.facts.association {
            if tag == 0x60 {
                c.security.release()
                if let st = assoc.callingAPTitle, st.count == 8 { c.security.clientSystemTitle = st }
            }
            if tag == 0x61, let st = assoc.respondingAPTitle, st.count == 8 {
                c.security.serverSystemTitle = st
            }
        }
        // The transport's parts move into the record (copies retained them, and the APDU's end released them).
        var frames: [Int] = []
        swap(&frames, &a.frames)
        var bytes: [UInt8] = []
        swap(&bytes, &a.bytes)
        var transport = TransportKind.raw
        swap(&transport, &a.kind)
        let time = a.time
        // Built in one go (setting `redactions` afterwards cost a copy of the whole record). Only ACSE facts carry
        // secrets (`Secrets.ranges` finds none without them).
        let redactions = options.showSecrets || !decoded.facts.hasAssociation
            ? [] : Secrets.ranges(in: bytes, facts: decoded.facts)
        guard decoded.facts.hasProtection, let p = decoded.facts.protection else {
            // Unprotected (most APDUs): the APDU's own facts are the service, read in place (not copied) here and
            // in the record, which has no security parts (none made, moved or tested for nil).
            // A general-block-transfer block goes on to the GBT reassembler (returned, so the caller need not read
            // the record's service back).
            let gbtBlock = decoded.facts.block?.kind == .generalBlockTransfer ? decoded.facts.block : nil
            // The session's parts are moved out of its tuple (a struct's would be copied, or swapped out).
            let (block, reassembled, scalerUnits, hls, labels, notes) = observeService(
                decoded.facts, apduType: decoded.type, tag: tag, frames: frames, time: time, conversation: &c,
                direction: direction)
            let record = APDURecord(
                provenance: Provenance(frames: frames, time: time, conversation: c.id, direction: direction),
                transport: transport, bytes: bytes, decoded: decoded, block: block, reassembled: reassembled,
                errors: errors, notes: notes, scalerUnits: scalerUnits, redactions: redactions, hls: hls,
                labels: labels)
            return (record, gbtBlock)
        }
        var notes: [String] = []
        let security = engine.unprotect(p, direction: direction, association: &c.security)
        notes.append(contentsOf: security.learned)
        // The innermost service's facts where a protection layer was removed; otherwise the APDU's own facts are
        // the service, read in place (not copied) below and in the record.
        var decrypted: ServiceFacts?
        // ACSE APDUs keep their own facts (the protected part is the user-information).
        if !(0x60...0x63).contains(tag), security.verdict != "authentication-failed",
           let inner = security.plainDecoded
        {
            decrypted = innermostFacts(inner, security: security)
            errors.append(contentsOf: inner.errors)
        }
        let block: BlockFacts? = if let d = decrypted { d.block } else { decoded.facts.block }
        let gbtBlock = block?.kind == .generalBlockTransfer ? block : nil
        let (position, reassembled, scalerUnits, hls, labels, sessionNotes) = if let d = decrypted {
            observeService(d, apduType: decoded.type, tag: tag, frames: frames, time: time,
                           conversation: &c, direction: direction)
        } else {
            observeService(decoded.facts, apduType: decoded.type, tag: tag, frames: frames, time: time,
                           conversation: &c, direction: direction)
        }
        if !sessionNotes.isEmpty { notes.append(contentsOf: sessionNotes) }
        let record = APDURecord(
            provenance: Provenance(frames: frames, time: time, conversation: c.id, direction: direction),
            transport: transport, bytes: bytes, decoded: decoded, security: security, decryptedService: decrypted,
            block: position, reassembled: reassembled, errors: errors, notes: notes,
            scalerUnits: scalerUnits, redactions: redactions, hls: hls, labels: labels)
        return (record, gbtBlock)
    }

    /// Authentication and key management, the conversation state (requests, block transfers, scaler/units) and
    /// push labelling follow the innermost service of each APDU.
    /// Returns the state's parts for the record (block position, reassembly, scaler/units), the authentication
    /// check, the push labels and the notes (the security engine's, then the state's), as a tuple its caller takes
    /// apart by moving.
    func observeService(_ service: ServiceFacts, apduType: String, tag: UInt8, frames: [Int], time: Timestamp?,
                        conversation c: inout Conversation, direction: Direction?)
        -> (block: BlockPosition?, reassembled: Reassembly?, scalerUnits: [ObjectRef: ScalerUnitInfo], hls: HLSCheck?,
            labels: [LabelledValue], notes: [String])
    {
        var notes: [String] = []
        // Authentication (AARQ/AARE challenges, HLS replies) and keys learned (key_transfer) from the service.
        // Only AARQ/AARE and ACTION services are followed (all start with "a"), and pending key transfers.
        var hls: HLSCheck?
        if service.type.utf8.first == UInt8(ascii: "a") || !c.security.pendingTransfer.isEmpty {
            let o = engine.observe(apduType: apduType, service: service, direction: direction,
                                   association: &c.security)
            hls = o.hls
            notes = o.notes
        }
        if tag == 0x62 || tag == 0x63 { c.security.release() }
        // The session state is reached once per APDU: it returns the objects of the request this APDU answers
        // (as they were before it) along with what it adds to the record.
        let (block, reassembled, stateNotes, scalerUnits, requested) = c.state.observeParts(
            service, direction: direction, frames: frames, time: time)
        // Push labelling learns push_object_lists and scaler_units from the responses of this conversation.
        if !requested.isEmpty, isNamed(service.type, "get-response"),
           requested.contains(where: PushLabeller.learns(from:))
        {
            c.labeller.observe(request: requested, response: service)
        }
        if requested.count == 1, let object = requested.first, PushLabeller.learns(from: object),
           let value = reassembled?.value
        {
            c.labeller.learn(object: object, value: value)
        }
        var labels: [LabelledValue] = []
        if isNamed(service.type, "data-notification"), let body = service.firstValue {
            c.labeller.learn(notificationBody: body)
            labels = c.labeller.label(body: body, pushSetup: nil)
        } else if isNamed(service.type, "event-notification-request") {
            labels = c.labeller.label(event: service)
        }
        if !stateNotes.isEmpty { notes.append(contentsOf: stateNotes) }
        return (block, reassembled, scalerUnits, hls, labels, notes)
    }

    /// `name == literal`, the byte counts compared first: a String comparison of unequal strings is a runtime call
    /// (it allows for other normalizations), and most service types here differ in length from the one sought.
    @inline(__always)
    func isNamed(_ name: String, _ literal: String) -> Bool {
        name.utf8.count == literal.utf8.count && name == literal
    }

    func innermostFacts(_ d: DecodedAPDU, security: SecurityResult?) -> ServiceFacts {
        var s = security
        var facts = d.facts
        while let inner = s?.inner.first {
            if let pd = inner.plainDecoded, inner.verdict != "authentication-failed" { facts = pd.facts }
            s = inner
        }
        return facts
    }

    func emitError(code: String, message: String, frames: [Int], time: Timestamp?, conversation: String,
                   direction: Direction?, offset: Int?) {
        summary.errors += 1
        summary.errorCodes[code, default: 0] += 1
        renderer.render(.error(ErrorRecord(
            provenance: Provenance(frames: frames, time: time, conversation: conversation, direction: direction),
            code: code, message: message, offset: offset)))
    }
}
