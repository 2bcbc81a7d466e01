import DLMSAPDU
import DLMSSession
import DLMSWire

/// `operation.clock-set`: a SET of the Clock's time (class 8, attribute 2), with the size of the step.
///
/// The step is the new time minus the meter's time just before: the last clock value read in the conversation
/// (GET of class 8 attribute 2), moved forward by the capture time elapsed since it was read; without a read, the
/// capture time itself. Info; warning when the step exceeds `clockStepWarning` (clock manipulation shifts tariffs
/// and hides events in the logs). The Clock's methods (`adjust_to_quarter`, `shift_time`, ...) move the clock by
/// bounded amounts and are not reported.
final class ClockSetRule: AnomalyRule {
    struct Reading {
        var time: COSEMTime
        var captured: Timestamp?
        var frames: [Int]
    }
    var lastRead: [String: Reading] = [:]

    func observe(_ event: RuleEvent, options: AnomalyOptions, into out: inout [Finding]) {
        guard case .apdu(let e) = event else { return }  // errors set no clock
        let r = e.record
        let s = r.service
        let c = e.conversation
        if s.type == "get-response", let req = e.request, s.values.count == req.objects.count {
            for (o, v) in zip(req.objects, s.values) where Self.isClockTime(o) {
                if let t = COSEMTime(v) {
                    if lastRead[c.id] == nil, lastRead.count >= options.maxTrackedConversations { lastRead.removeAll() }
                    lastRead[c.id] = Reading(time: t, captured: r.provenance.time, frames: r.provenance.frames)
                }
            }
            return
        }
        guard s.type == "set-request", s.objects.count == 1, let o = s.objects.first, Self.isClockTime(o) else {
            return
        }
        var ev: [EvidenceItem] = [EvidenceItem("object", .string(RecordFacts.obis(o.obis)))]
        var step: Int64?
        var message = "clock set"
        if let v = s.values.first, let new = COSEMTime(v) {
            ev.append(EvidenceItem("new_time", .string(new.text)))
            if let read = lastRead[c.id] {
                // The meter's clock moved on by the capture time elapsed since it was read.
                var elapsed: Int64 = 0
                if let a = read.captured, let b = r.provenance.time { elapsed = Int64(b.seconds(since: a).rounded()) }
                let comparable = (new.deviation == nil) == (read.time.deviation == nil)
                let newSeconds = comparable && new.deviation != nil ? new.utcSeconds : new.localSeconds
                let oldSeconds = comparable && read.time.deviation != nil ? read.time.utcSeconds
                    : read.time.localSeconds
                step = newSeconds - (oldSeconds + elapsed)
                ev.append(EvidenceItem("previous_time", .string(read.time.text)))
                ev.append(EvidenceItem("previous_frames", .frames(read.frames)))
                ev.append(EvidenceItem("reference", .string("last clock value read in the conversation")))
            } else if let now = r.provenance.time {
                step = new.utcSeconds - now.seconds
                ev.append(EvidenceItem("reference", .string(new.deviation == nil
                    ? "capture time (the new time has no deviation: read as UTC)" : "capture time")))
                ev.append(EvidenceItem("capture_time", .string(now.rfc3339)))
            } else {
                ev.append(EvidenceItem("reference", .string("none (no clock read, no capture time)")))
            }
            if let st = step {
                ev.append(EvidenceItem("step_seconds", .int(st)))
                message = "clock set to \(new.text), a step of " + Self.describe(st)
            } else {
                message = "clock set to \(new.text)"
            }
        } else {
            ev.append(EvidenceItem("new_time", .string("not a fully specified date-time")))
        }
        var severity = Severity.info
        if let st = step, let limit = options.clockStepWarning, Double(st < 0 ? -st : st) > limit {
            severity = .warning
            ev.append(EvidenceItem("warning_threshold_seconds", .int(Int64(limit))))
        }
        out.append(Finding("operation.clock-set", severity, about: r, systemTitle: c.serverSystemTitle,
                           message: message, evidence: ev))
    }

    static func isClockTime(_ o: ObjectRef) -> Bool { o.classID == 8 && o.attributeID == 2 }

    /// `+1 h 30 min 5 s`, `-2 d 3 h`.
    static func describe(_ seconds: Int64) -> String {
        let sign = seconds < 0 ? "-" : "+"
        var rest = seconds < 0 ? -seconds : seconds
        if rest == 0 { return "0 s" }
        var parts: [String] = []
        let d = rest / 86400
        rest %= 86400
        if d > 0 { parts.append("\(d) d") }
        let h = rest / 3600
        rest %= 3600
        if h > 0 { parts.append("\(h) h") }
        let m = rest / 60
        rest %= 60
        if m > 0 { parts.append("\(m) min") }
        if rest > 0 { parts.append("\(rest) s") }
        return sign + parts.joined(separator: " ")
    }
}

/// A fully specified COSEM date-time (Blue Book 4.1.6.1), as seconds.
struct COSEMTime {
    var localSeconds: Int64
    /// Minutes to add to local time to get UTC (the Blue Book sign; nil = 0x8000 not specified).
    var deviation: Int16?
    var text: String

    var utcSeconds: Int64 { localSeconds + Int64(deviation ?? 0) * 60 }

    init?(_ v: DataValue) {
        let bytes: [UInt8]
        switch v {
        case .octetString(let b), .dateTime(let b): bytes = b
        default: return nil
        }
        guard bytes.count == 12 else { return nil }
        var r = ByteReader(bytes)
        guard let year = r.readUInt16(), let month = r.readUInt8(), let day = r.readUInt8(), r.readUInt8() != nil,
              let hour = r.readUInt8(), let minute = r.readUInt8(), let second = r.readUInt8(), r.readUInt8() != nil,
              let dev = r.readUInt16() else { return nil }
        guard year != 0xFFFF, (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60,
              second < 60 else { return nil }
        let days = Self.daysFromCivil(Int64(year), Int64(month), Int64(day))
        localSeconds = days * 86400 + Int64(hour) * 3600 + Int64(minute) * 60 + Int64(second)
        deviation = dev == 0x8000 ? nil : Int16(bitPattern: dev)
        func pad(_ v: UInt8) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var t = "\(year)-\(pad(month))-\(pad(day)) \(pad(hour)):\(pad(minute)):\(pad(second))"
        if let d = deviation { t += " deviation \(d)" }
        text = t
    }

    /// Howard Hinnant's days_from_civil.
    static func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }
}
