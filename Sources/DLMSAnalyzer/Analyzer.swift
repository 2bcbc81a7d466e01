import DLMSAPDU
import DLMSCapture
import DLMSRender
import DLMSSecurity
import DLMSSession
import DLMSTransport
import DLMSWire

/// The pipeline: source → link/IP/TCP → stream framing → APDU decoding → session → renderer. Synchronous and
/// streaming: memory is bounded by the reassembly limits, not by the capture size.
public final class Analyzer {
    public let options: AnalyzerOptions
    /// When set (SIGINT/SIGTERM), file inputs stop at the next frame and the run finishes cleanly: partial
    /// reassemblies reported, output flushed, documents closed.
    public var stop: StopFlag?
    let renderer: any Renderer
    public internal(set) var summary = Summary()

    var conversations: [ConversationKey: Conversation] = [:]
    var conversationOrder = 0
    /// Stream decoders by direction, boxed: the table hands out a reference and the decoder is fed in place (a
    /// decoder stored by value was moved out of the table and back for every segment).
    var streams: [StreamKey: StreamBox] = [:]
    var reassembler = TCPReassembler()
    var defragmenter = IPDefragmenter()
    var currentSource = ""
    /// Event arrays reused from packet to packet (taken out while in use, put back emptied with their capacity):
    /// a fresh array per packet and per stream chunk cost an allocation each.
    var streamEventScratch: [StreamEvent] = []
    var transportEventScratch: [TransportEvent] = []
    /// The connection of the last `.data` event with its conversation and stream decoders, as in the tables:
    /// consecutive segments nearly always belong to one connection. Forgotten whenever a conversation or stream
    /// leaves its table.
    var recent: RecentConnection?

    let engine: SecurityEngine
    /// How APDUs are decoded: the tree only when the renderer reads it.
    let decodeOptions: DecodeOptions
    /// Warnings about the inputs (keyring permissions, ...) for the caller to show on stderr.
    public private(set) var warnings: [String] = []
    /// Status lines of live inputs (tap connected, dropped, retrying), shown on stderr as they happen.
    public var noticeHandler: (String) -> Void = { _ in }

    /// Loads the keyrings named in the options; a malformed keyring is an error naming the file, entry and field.
    public init(options: AnalyzerOptions, renderer: any Renderer) throws(AnalyzerError) {
        self.options = options
        self.renderer = renderer
        var keyring = Keyring()
        for path in options.keyringPaths {
            do {
                let k = try Keyring.load(path: path)
                keyring.merge(k)
            } catch {
                throw AnalyzerError(error.description)
            }
        }
        if !options.keyOptions.isEmpty {
            do {
                keyring.merge(try Keyring.fromKeyOptions(options.keyOptions))
            } catch {
                throw AnalyzerError(error.description)
            }
        }
        warnings = keyring.warnings.map(\.description)
        decodeOptions = DecodeOptions(showSecrets: options.showSecrets, buildTree: renderer.needsAPDUTrees)
        engine = SecurityEngine(keyring: keyring, decodeOptions: decodeOptions)
    }

    // MARK: - Entry points

    /// Analyses the inputs in order and renders everything; returns the summary.
    public func run(paths: [String]) throws(AnalyzerError) -> Summary {
        renderer.begin()
        for path in paths where stop?.isSet != true {
            try analyse(path: path)
        }
        finish()
        return summary
    }

    /// Runs a live input (`analyseInterface`, `analyseByteStream`, `analyseListener`) between the renderer's begin
    /// and the end-of-input report (unfinished reassemblies, summary).
    public func runLive(_ body: (Analyzer) -> Void) -> Summary {
        renderer.begin()
        body(self)
        finish()
        return summary
    }

    public func analyse(path: String) throws(AnalyzerError) {
        currentSource = path
        let kind = try InputDetection.kind(path: path, requested: options.input)
        switch kind {
        case .pcap: try analysePcap(path: path)
        case .raw: try analyseRaw(path: path)
        case .hex: try analyseHex(path: path)
        case .timedRaw:
            do {
                let reader = try TimedRawReader(path: path)
                analyseByteStream(reader, save: nil, stop: StopFlag(), count: nil)
            } catch {
                throw AnalyzerError(error.description)
            }
        case .auto: throw AnalyzerError("\(path): cannot tell the input type; use --input")
        }
        flushStreams()
    }

    /// End of all input: flush partial state, report what is unfinished, render the summary.
    public func finish() {
        flushStreams()
        for key in conversations.keys.sorted(by: { $0.order < $1.order }) {
            closeConversation(key, frame: summary.frames, time: nil)
        }
        summary.conversations = conversationOrder
        if options.summaryRecord { renderer.render(.summary(summary)) }
        renderer.end()
    }

    // MARK: - pcap

    func analysePcap(path: String) throws(AnalyzerError) {
        var source: PcapSource
        do {
            source = try PcapSource(path: path, filter: options.filter)
        } catch {
            throw AnalyzerError(error.description)
        }
        let stopFlag = stop  // read once: each read of the property per frame paid an exclusivity check
        readFrames(from: &source, before: { _ in stopFlag?.isSet != true })
    }

    /// The packet-level state (TCP reassembly, IP defragmentation, the reused event array), moved into a local of
    /// `readFrames` for the duration of its loop: reached through `self` (a class), each use per frame paid a
    /// dynamic exclusivity check.
    struct PacketState {
        var reassembler: TCPReassembler
        var defragmenter: IPDefragmenter
        var events: [StreamEvent]
        /// Frames and bytes read, added to the summary after the loop (not through `self` per frame).
        var frames = 0
        var bytes = 0
    }

    /// Feeds every frame of `source` through `process` until the source ends, a read fails (reported, as the end of
    /// the capture) or `before` returns false; `after` runs after each frame. Then flushes the TCP reassembler.
    /// Files and interfaces share it.
    func readFrames<S: FrameSource>(from source: inout S, before: (CapturedFrame) -> Bool,
                                    after: () -> Void = {}) {
        var state = PacketState(reassembler: reassembler, defragmenter: defragmenter, events: streamEventScratch)
        // The analyzer's copies are replaced while the loop owns the state (no copy-on-write of its tables).
        reassembler = TCPReassembler(limits: state.reassembler.limits)
        defragmenter = IPDefragmenter(maxDatagrams: 0)
        streamEventScratch = []
        while true {
            // Bound straight from the call (no optional kept beside it): the frame's bytes are not retained
            // once more for the binding.
            let f: CapturedFrame
            do {
                guard let next = try source.next() else { break }
                f = next
            } catch {
                emitError(code: "capture.read", message: error.description, frames: [], time: nil,
                          conversation: "-", direction: nil, offset: nil)
                break
            }
            guard before(f) else { break }
            process(f, &state)
            after()
            // Handed back: the source copies the next frame into its buffer when nothing else holds it.
            source.recycle(f)
        }
        summary.frames += state.frames
        summary.bytes += state.bytes
        for ev in state.reassembler.finish() { handle(ev) }
        reassembler = state.reassembler
        defragmenter = state.defragmenter
        streamEventScratch = state.events
    }

    /// One captured frame (file or interface): link, IP and TCP/UDP, then the streams.
    func process(_ f: CapturedFrame, _ state: inout PacketState) {
        state.frames += 1
        state.bytes += f.data.count
        let decoded = PacketDecoder.decode(f, defragmenter: &state.defragmenter)
        switch consume decoded {
        case .ignored:
            break
        case .malformed(let e):
            emitError(code: e.code, message: e.message, frames: [f.number], time: f.time, conversation: "-",
                      direction: nil, offset: e.offset)
        case .packet(let p):
            state.reassembler.process(p, into: &state.events)
            // Each event is moved out of the array (reversed, then taken from the end) and handed over without a
            // copy; the array is left empty with its capacity for the next packet.
            if state.events.count == 2, let second = state.events.popLast(), let first = state.events.popLast() {
                handle(first)
                handle(second)
            }
            if state.events.count > 1 { state.events.reverse() }
            while let e = state.events.popLast() { handle(e) }
            if state.events.capacity > 256 { state.events = [] }
        }
    }

    /// Consumes the event: its payload (the delivered bytes) is moved to the stream decoder, not copied.
    func handle(_ ev: consuming StreamEvent) {
        switch consume ev {
        case .opened(let id, let proto, let a, let b, let initiator, _, _):
            let key = ConversationKey.connection(id)
            var c = conversation(key, carrier: proto == .tcp ? "tcp" : "udp")
            c.endpoints = (a, b)
            // IANA assigned 4059 to DLMS/COSEM over TCP and UDP (IEC 62056-47).
            if a.port == 4059 || b.port == 4059 { c.bareAPDUsAllowed = true }
            if let i = initiator {
                c.clientEndpoint = i
                c.clientFromHandshake = true
            }
            conversations[key] = c
        case .data(let id, let from, let to, let bytes, let frame, let time):
            let key = ConversationKey.connection(id)
            let c: Conversation
            let box: StreamBox
            if let r = recent, r.id == id, let b = r.stream(from: from) {
                // The connection of the previous segment (a request and its response): no table lookups.
                c = r.conversation
                box = b
            } else {
                c = conversation(key, carrier: "tcp")
                let skey = StreamKey(conversation: key, from: from)
                // Mutated in place in the table: copying a decoder out and back would copy its buffers. A decoder
                // is made only for a new stream (building one per segment cost an allocation each time).
                if let b = streams[skey] {
                    box = b
                } else {
                    box = StreamBox(StreamDecoder(framing: .auto, limits: options.limits),
                                    datagrams: c.carrier == "udp")
                    streams[skey] = box
                }
                if let r = recent, r.id == id, r.conversation === c {
                    recent = r.remembering(from: from, box)
                } else {
                    recent = RecentConnection(id: id, conversation: c, from0: from, box0: box)
                }
            }
            if c.endpoints == nil { c.endpoints = (from, to) }
            var events = transportEventScratch
            transportEventScratch = []
            if box.datagrams {
                box.decoder.feedRecord(bytes, frame: frame, time: time, into: &events)
            } else {
                box.decoder.feed(bytes, frame: frame, time: time, into: &events)
            }
            // The conversation was looked up above: handing it over saves a table lookup per event.
            // Moved out one by one (see `process`): no copy of an event, each freed once it is handled.
            if events.count == 2, let second = events.popLast(), let first = events.popLast() {
                // Two (a frame and the APDU it completes): taken from the end without reversing the array.
                handleTransport(first, key: key, from: .endpoint(from), to: .endpoint(to), conversation: c)
                handleTransport(second, key: key, from: .endpoint(from), to: .endpoint(to), conversation: c)
            }
            if events.count > 1 { events.reverse() }
            while let e = events.popLast() {
                handleTransport(e, key: key, from: .endpoint(from), to: .endpoint(to), conversation: c)
            }
            if events.capacity > 256 { events = [] }
            transportEventScratch = events
        case .gap(let id, let from, let to, let missing, let frame, let time):
            let key = ConversationKey.connection(id)
            let c = conversation(key, carrier: "tcp")
            conversations[key] = c
            let dir = c.clientEndpoint.map { $0 == from ? Direction.clientToServer : .serverToClient }
            conversationError(key, code: "tcp.gap",
                              message: "\(missing) bytes missing from \(from) to \(to); resynchronising",
                              frames: [frame], time: time, direction: dir, offset: nil)
            let skey = StreamKey(conversation: key, from: from)
            if let box = streams[skey] {
                let events = box.decoder.gap(missing: missing, frame: frame, time: time)
                for e in events { handleTransport(e, key: key, from: .endpoint(from), to: .endpoint(to)) }
            }
        case .closed(let id, _, let frame, let time):
            recent = nil
            let key = ConversationKey.connection(id)
            defer { closeConversation(key, frame: frame, time: time) }
            for (skey, box) in streams where skey.conversation == key {
                let events = box.decoder.finish()
                streams[skey] = nil
                let from = skey.from
                for e in events {
                    let c = conversations[key]
                    let fromEP = c?.endpoints.flatMap { $0.0 == from ? $0.0 : $0.1 }
                    let toEP = c?.endpoints.flatMap { $0.0 == from ? $0.1 : $0.0 }
                    if let f = fromEP, let t = toEP {
                        handleTransport(e, key: key, from: .endpoint(f), to: .endpoint(t))
                    }
                }
            }
        case .notice(let id, let code, let message, let frame, let time):
            if let id {
                conversationError(.connection(id), code: code, message: message, frames: [frame], time: time,
                                  direction: nil, offset: nil)
            } else {
                emitError(code: code, message: message, frames: [frame], time: time, conversation: "-",
                          direction: nil, offset: nil)
            }
        }
    }

    /// A connection ended: what it left unfinished is reported and its state is dropped (memory stays bounded by
    /// the connections open at once, not by the capture's length).
    func closeConversation(_ key: ConversationKey, frame: Int, time: Timestamp?) {
        recent = nil
        guard let c = conversations.removeValue(forKey: key) else { return }
        guard c.confirmed else { return }
        var notes = c.state.finish()
        if let n = c.gbtClient.unfinished() { notes.append(n) }
        if let n = c.gbtServer.unfinished() { notes.append(n) }
        for note in notes {
            emitError(code: "block.incomplete", message: note, frames: [frame], time: time, conversation: c.id,
                      direction: nil, offset: nil)
        }
    }

    func flushStreams() {
        recent = nil
        for (skey, box) in streams {
            let events = box.decoder.finish()
            for e in events {
                handleTransport(e, key: skey.conversation, from: .unknown, to: .unknown)
            }
        }
        streams.removeAll()
    }

    // MARK: - raw and hex

    func analyseRaw(path: String) throws(AnalyzerError) {
        var reader: RawStreamReader
        do {
            reader = try RawStreamReader(path: path)
        } catch {
            throw AnalyzerError(error.description)
        }
        let key = ConversationKey.serialLine(path)
        var dec = StreamDecoder(framing: .auto, limits: options.limits, numberFramesInternally: true)
        while true {
            let chunk: [UInt8]?
            do {
                chunk = try reader.next()
            } catch {
                throw AnalyzerError(error.description)
            }
            guard let bytes = chunk, stop?.isSet != true else { break }
            summary.bytes += bytes.count
            for e in dec.feed(bytes[...], frame: 0, time: nil) { handleSerial(e, line: key) }
        }
        for e in dec.finish() { handleSerial(e, line: key) }
    }

    func analyseHex(path: String) throws(AnalyzerError) {
        var reader: RawStreamReader
        do {
            reader = try RawStreamReader(path: path)
        } catch {
            throw AnalyzerError(error.description)
        }
        let key = ConversationKey.serialLine(path)
        var dec = StreamDecoder(framing: .auto, limits: options.limits, numberFramesInternally: true)
        var parser = HexDumpParser()
        func take(_ items: [HexDumpParser.Item]) {
            for item in items {
                switch item {
                case .record(let r):
                    summary.bytes += r.bytes.count
                    for e in dec.feedRecord(r.bytes[...], frame: 0, time: nil) { handleSerial(e, line: key) }
                case .error(let e):
                    emitError(code: e.code, message: "\(path): \(e.description)", frames: [], time: nil,
                              conversation: "-", direction: nil, offset: nil)
                }
            }
        }
        while true {
            let chunk: [UInt8]?
            do {
                chunk = try reader.next()
            } catch {
                throw AnalyzerError(error.description)
            }
            guard let bytes = chunk, stop?.isSet != true else { break }
            take(parser.feed(bytes[...]))
        }
        take(parser.finish())
        for e in dec.finish() { handleSerial(e, line: key) }
    }

    /// A raw stream interleaves both directions: the conversation is the link (HDLC address pair, wrapper wPort
    /// pair), and the direction comes from the addresses once the client is known.
    func handleSerial(_ e: TransportEvent, line: ConversationKey) {
        // Link frames of a raw/hex input are its frames (what `frames` numbers).
        switch e {
        case .hdlcFrame: summary.frames += 1
        case .apdu(let a):
            if case .hdlc = a.kind {} else { summary.frames += 1 }
        case .issue: break
        }
        switch e {
        case .apdu(let a):
            switch a.kind {
            case .hdlc(let segs, _):
                if let f = segs.first {
                    let key = ConversationKey.link(line.description, Self.pair(f.source.value, f.destination.value))
                    handleTransport(e, key: key, from: .hdlc(f.source.value), to: .hdlc(f.destination.value))
                    return
                }
            case .wrapper(let h):
                let key = ConversationKey.link(line.description,
                                               Self.pair(UInt32(h.sourcePort), UInt32(h.destinationPort)))
                handleTransport(e, key: key, from: .wport(h.sourcePort), to: .wport(h.destinationPort))
                return
            case .mbus(let segs):
                // One conversation per M-Bus address; the APDU types tell the direction.
                let address = segs.first?.address ?? 0
                handleTransport(e, key: ConversationKey.link(line.description, "mbus-\(address)"), from: .unknown,
                                to: .unknown)
                return
            case .raw, .iec432:
                break
            }
            handleTransport(e, key: ConversationKey.link(line.description, "raw"), from: .unknown, to: .unknown)
        case .hdlcFrame(let f):
            let key = ConversationKey.link(line.description, Self.pair(f.source.value, f.destination.value))
            handleTransport(e, key: key, from: .hdlc(f.source.value), to: .hdlc(f.destination.value))
        case .issue(let i):
            // A raw/hex/serial input is DLMS by the user's word: its framing problems are always reported.
            emitError(code: i.code, message: i.message, frames: i.frames, time: i.time, conversation: "-",
                      direction: nil, offset: i.offset)
        }
    }

    static func pair(_ a: UInt32, _ b: UInt32) -> String { a < b ? "\(a)-\(b)" : "\(b)-\(a)" }
}

/// What the analyzer's tables hold for one connection (`Analyzer.recent`). Immutable, and a reference: reading it
/// for every segment retains one object instead of copying three references.
final class RecentConnection {
    let id: ConnectionID
    let conversation: Conversation
    let from0: Endpoint
    let box0: StreamBox
    let from1: Endpoint?
    let box1: StreamBox?

    init(id: ConnectionID, conversation: Conversation, from0: Endpoint, box0: StreamBox, from1: Endpoint? = nil,
         box1: StreamBox? = nil) {
        self.id = id
        self.conversation = conversation
        self.from0 = from0
        self.box0 = box0
        self.from1 = from1
        self.box1 = box1
    }

    @inline(__always)
    func stream(from: Endpoint) -> StreamBox? {
        if from == from0 { return box0 }
        if let f = from1, f == from { return box1 }
        return nil
    }

    /// The same connection with the stream from `from` added (the second direction), or only that stream.
    func remembering(from: Endpoint, _ box: StreamBox) -> RecentConnection {
        if from1 == nil {
            return RecentConnection(id: id, conversation: conversation, from0: from0, box0: box0, from1: from,
                                    box1: box)
        }
        return RecentConnection(id: id, conversation: conversation, from0: from, box0: box)
    }
}

/// A stream decoder held by reference in the analyzer's table.
final class StreamBox {
    var decoder: StreamDecoder
    /// The stream's conversation is a UDP flow (each chunk is a datagram, fed as a record): decided once from its
    /// carrier when the stream is made, instead of comparing the carrier string for every chunk.
    let datagrams: Bool
    init(_ decoder: StreamDecoder, datagrams: Bool = false) {
        self.decoder = decoder
        self.datagrams = datagrams
    }
}
