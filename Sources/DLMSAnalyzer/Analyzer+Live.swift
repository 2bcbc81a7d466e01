import DLMSCapture
import DLMSTransport
import DLMSWire

/// Live inputs (issue 5): a network interface, a serial or TCP tap (or the replay of its `--save` file), a push
/// listener. Each loop ends when its source returns nil: the stop flag (SIGINT/SIGTERM, `--duration`, `-c`), a
/// hang-up, or the end of a replayed file. Output is rendered as each APDU completes.
extension Analyzer {
    /// `-c COUNT`: asks the source to stop once COUNT APDUs have been shown.
    func checkCount(_ count: Int?, _ stop: StopFlag) {
        if let count, summary.apdus >= count { stop.request() }
    }

    /// `-i IFACE [-w FILE]`: frames take exactly the path of a pcap file's frames.
    public func analyseInterface(_ source: LiveInterfaceSource, dump: PcapDumpWriter?, stop: StopFlag,
                                 count: Int?) {
        currentSource = source.interface
        var live = source
        readFrames(from: &live, before: { f in
            dump?.write(f)
            return true
        }, after: {
            checkCount(count, stop)
        })
        flushStreams()
    }

    /// `--serial DEV`, `--tcp-tap HOST:PORT`, `--input timed-raw FILE`: one line, both directions interleaved, as
    /// `--input raw`, with arrival times. When a tap loses its connection after bytes flowed, the break is reported
    /// (`tap.disconnected`), the unfinished frame is dropped (`stream.gap`) and `--save` records the break, so a
    /// replay of the file resynchronises at the same place and gives the same output.
    public func analyseByteStream(_ source: any ByteStreamSource, save: TimedRawWriter?, stop: StopFlag,
                                  count: Int?) {
        currentSource = source.streamName
        let line = ConversationKey.serialLine(source.streamName)
        let replay = source is TimedRawReader
        var dec = StreamDecoder(framing: .auto, limits: options.limits, numberFramesInternally: true)
        var fedSinceBreak = false
        var saver = save
        func record(_ body: (TimedRawWriter) throws(CaptureError) -> Void) {
            guard let writer = saver else { return }
            do {
                try body(writer)
            } catch {
                warn("--save stopped: \(error.description)")
                writer.close()
                saver = nil
            }
        }
        while true {
            let event: TapEvent?
            do {
                event = try source.nextEvent()
            } catch {
                emitError(code: "capture.read", message: error.description, frames: [], time: nil,
                          conversation: "-", direction: nil, offset: nil)
                break
            }
            guard let event else { break }
            switch event {
            case .data(let chunk):
                record { w throws(CaptureError) in try w.write(chunk) }
                summary.bytes += chunk.bytes.count
                fedSinceBreak = true
                for e in dec.feed(chunk.bytes[...], frame: 0, time: chunk.time) { handleSerial(e, line: line) }
            case .connected(let peer, _):
                warn("connected to \(peer)")
            case .disconnected(let reason, let time, let retryIn):
                if fedSinceBreak {
                    emitError(code: "tap.disconnected", message: reason, frames: [], time: time, conversation: "-",
                              direction: nil, offset: nil)
                    // The next connection resumes mid-frame: drop the unfinished frame and resynchronise.
                    for e in dec.gap(missing: 0, frame: 0, time: time) { handleSerial(e, line: line) }
                    record { w throws(CaptureError) in try w.writeBreak(reason: reason, time: time) }
                    fedSinceBreak = false
                }
                if !replay { warn("\(reason); retrying in \(retryIn) s") }
            }
            checkCount(count, stop)
        }
        for e in dec.finish() { handleSerial(e, line: line) }
    }

    /// `--listen [HOST:]PORT [--udp]`: the listener speaks the reassembler's vocabulary, so its events take the
    /// path of a capture's TCP streams (one conversation per connection or UDP peer).
    public func analyseListener(_ listener: PushListener, stop: StopFlag, count: Int?) {
        currentSource = "listen \(listener.local)"
        while true {
            let event: StreamEvent?
            do {
                event = try listener.next()
            } catch {
                emitError(code: "capture.read", message: error.description, frames: [], time: nil,
                          conversation: "-", direction: nil, offset: nil)
                break
            }
            guard let event else { break }
            handle(event)
            checkCount(count, stop)
        }
        for ev in listener.shutdown() { handle(ev) }
        flushStreams()
    }

    /// Live status lines for stderr (connected, dropped, retrying), collected for the CLI.
    func warn(_ line: String) { noticeHandler(line) }
}
