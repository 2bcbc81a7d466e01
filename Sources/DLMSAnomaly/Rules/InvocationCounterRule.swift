import DLMSSession
import DLMSWire

/// `security.ic-replay`, `security.ic-regression`, `security.ic-jump`.
///
/// The invocation counter is the second half of the AES-GCM IV (system title ‖ IC, IEC 62056-5-3 §5.3.4.2 /
/// Green Book 9.2.3.4.4); a receiver must reject a counter it has already accepted for the same key, so a counter
/// used twice is a replay (or a broken sender) and a counter that goes down is a regression. Counters are followed
/// per sender system title and key role across the whole capture (global keys live across associations), the
/// dedicated key's per association (it is new in every association). Keys used once per message (`wrapped`,
/// `agreed`) and APDUs whose tag failed are not followed: their counter proves nothing.
final class InvocationCounterRule: AnomalyRule {
    struct Key: Hashable {
        var sender: [UInt8]
        var role: String
        /// Empty for the global keys; the association (`conversation#n`) for the dedicated key.
        var scope: String
        /// Client and meter are different senders even when they (wrongly) share a system title.
        var direction: Direction?
    }
    /// System titles (with key role) seen sending in each direction, for `security.shared-system-title`.
    var directions: [SharedKey: (Direction, [Int])] = [:]
    var sharedReported: Set<SharedKey> = []
    struct SharedKey: Hashable {
        var sender: [UInt8]
        var role: String
        var scope: String
    }

    /// A class, so the tables are updated in place (a struct copied out of the dictionary would copy its
    /// `recent` table on every APDU).
    final class Track {
        var last: UInt32
        var lastFrames: [Int]
        /// Recent counters and the frames that first used them (a ring of `invocationCounterHistory`).
        var recent: [UInt32: [Int]] = [:]
        var order: [UInt32] = []
        /// The oldest entry of `order` once it is full.
        var head = 0
        var lastUse = 0
        /// Consecutive replays/regressions; past `maxBurstFindings` they are counted, not listed.
        var burst = 0
        var suppressed = 0
        var suppressedFrames: [Int] = []
        var suppressedTime: Timestamp?
        var suppressedConversation = ""
        var suppressedTitle: [UInt8]?

        init(last: UInt32, lastFrames: [Int]) {
            self.last = last
            self.lastFrames = lastFrames
        }
    }

    /// A capture holding the same traffic twice (overlapping files, a mirrored port) replays every APDU: the
    /// first findings of a burst are listed, the rest summed up in one finding when the burst ends.
    static let maxBurstFindings = 10

    var tracks: [Key: Track] = [:]
    var clock = 0

    func observe(_ event: RuleEvent, options: AnomalyOptions, into out: inout [Finding]) {
        guard case .apdu(let e) = event else { return }  // errors carry no counter
        let r = e.record
        // The response of a key_transfer still travels under the old key: the reset follows it.
        defer { if e.request != nil { resetAfterKeyTransfer(e) } }
        guard let s = r.security, let ic = s.invocationCounter else { return }
        guard s.verdict != "authentication-failed" else { return }
        let role = RecordFacts.keyRole(s)
        guard role != "wrapped" && role != "agreed" && role != "signing" && role != "unknown" else { return }
        // The IV's system title; without one (direction unknown, no general-* header) the conversation and
        // direction stand for the sender.
        let senderTitle = s.systemTitle
        let sender = senderTitle ?? Array((e.conversation.id + (r.provenance.direction?.rawValue ?? "?")).utf8)
        let scope = role == "dedicated" ? e.conversation.associationKey : ""
        let dir = r.provenance.direction
        let key = Key(sender: sender, role: role, scope: scope, direction: dir)
        if let st = senderTitle, let d = dir { checkShared(st, role, scope, d, r, ic, options, into: &out) }
        clock += 1
        let frames = r.provenance.frames
        guard let t = tracks[key] else {
            if tracks.count >= options.maxTrackedSenders,
               let victim = tracks.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
            {
                tracks[victim] = nil
            }
            let t = Track(last: ic, lastFrames: frames)
            remember(t, ic, frames, options)
            t.lastUse = clock
            tracks[key] = t
            return
        }
        t.lastUse = clock
        let isReplay = t.recent[ic] != nil
        if isReplay || ic <= t.last {
            t.burst += 1
            if t.burst > Self.maxBurstFindings {
                t.suppressed += 1
                if t.suppressedFrames.count < 2 { t.suppressedFrames.append(frames.first ?? 0) }
                else { t.suppressedFrames[1] = frames.first ?? 0 }
                t.suppressedTime = r.provenance.time
                t.suppressedConversation = r.provenance.conversation
                t.suppressedTitle = senderTitle
                remember(t, ic, frames, options)
                return
            }
        } else {
            flush(t, role: role, into: &out)
            t.burst = 0
        }
        guard isReplay || ic <= t.last || ic - t.last > options.invocationCounterJump else {
            t.last = ic
            t.lastFrames = frames
            remember(t, ic, frames, options)
            return
        }
        var evidence: [EvidenceItem] = [
            EvidenceItem("invocation_counter", .int(Int64(ic))),
            EvidenceItem("key", .string(role)),
        ]
        if let first = t.recent[ic] {
            evidence.append(EvidenceItem("first_frame", .int(Int64(first.first ?? 0))))
            evidence.append(EvidenceItem("first_frames", .frames(first)))
            evidence.append(EvidenceItem("last_invocation_counter", .int(Int64(t.last))))
            evidence.append(EvidenceItem("verdict", .string(s.verdict)))
            out.append(Finding("security.ic-replay", .critical, about: r, systemTitle: senderTitle,
                               message: "invocation counter \(ic) of the \(role) key reused by the same sender "
                                   + "(first used in frame \(first.first ?? 0)): a replayed or re-sent APDU",
                               evidence: evidence))
        } else if ic <= t.last {
            evidence.append(EvidenceItem("last_invocation_counter", .int(Int64(t.last))))
            evidence.append(EvidenceItem("last_frames", .frames(t.lastFrames)))
            out.append(Finding("security.ic-regression", .error, about: r, systemTitle: senderTitle,
                               message: "invocation counter \(ic) of the \(role) key is lower than the last one "
                                   + "seen from this sender (\(t.last), frame \(t.lastFrames.first ?? 0))",
                               evidence: evidence))
        } else if ic - t.last > options.invocationCounterJump {
            evidence.append(EvidenceItem("last_invocation_counter", .int(Int64(t.last))))
            evidence.append(EvidenceItem("last_frames", .frames(t.lastFrames)))
            evidence.append(EvidenceItem("jump", .int(Int64(ic - t.last))))
            evidence.append(EvidenceItem("threshold", .int(Int64(options.invocationCounterJump))))
            out.append(Finding("security.ic-jump", .warning, about: r, systemTitle: senderTitle,
                               message: "invocation counter of the \(role) key jumped by \(ic - t.last) "
                                   + "(from \(t.last) in frame \(t.lastFrames.first ?? 0) to \(ic))",
                               evidence: evidence))
        }
        if ic > t.last {
            t.last = ic
            t.lastFrames = frames
        }
        remember(t, ic, frames, options)
    }

    /// Both parties sending with the same system title and key: the GCM IVs (system title ‖ IC) of the two
    /// directions come from one space, so the same IV is used twice as soon as their counters meet (NIST SP
    /// 800-38D §8: an IV must never repeat under a key). Reported once per system title and key.
    func checkShared(_ st: [UInt8], _ role: String, _ scope: String, _ d: Direction, _ r: APDURecord, _ ic: UInt32,
                     _ options: AnomalyOptions, into out: inout [Finding]) {
        let k = SharedKey(sender: st, role: role, scope: scope)
        guard let (seen, frames) = directions[k] else {
            if directions.count >= options.maxTrackedSenders { directions.removeAll() }
            directions[k] = (d, r.provenance.frames)
            return
        }
        guard seen != d, !sharedReported.contains(k) else { return }
        if sharedReported.count >= options.maxTrackedSenders { sharedReported.removeAll() }
        sharedReported.insert(k)
        out.append(Finding("security.shared-system-title", .error, about: r, systemTitle: st,
                           message: "client and meter both send with system title \(Hex.encode(st, uppercase: true)) "
                               + "and the \(role) key: their GCM IVs (system title ‖ invocation counter) can repeat",
                           evidence: [EvidenceItem("key", .string(role)),
                                      EvidenceItem("invocation_counter", .int(Int64(ic))),
                                      EvidenceItem("other_direction", .string(seen.rawValue)),
                                      EvidenceItem("other_frames", .frames(frames))]))
    }

    /// The end of a burst: one finding for the replays and regressions not listed.
    func flush(_ t: Track, role: String, into out: inout [Finding]) {
        guard t.suppressed > 0 else { return }
        out.append(Finding(code: "security.ic-replay", severity: .critical, frames: t.suppressedFrames,
                           time: t.suppressedTime, conversation: t.suppressedConversation,
                           systemTitle: t.suppressedTitle,
                           message: "\(t.suppressed) more reused or lower invocation counters of the \(role) key from "
                               + "this sender (frames \(t.suppressedFrames.map(String.init).joined(separator: "..")))"
                               + " were not listed one by one: the same traffic seen twice?",
                           evidence: [EvidenceItem("not_listed", .int(Int64(t.suppressed))),
                                      EvidenceItem("frames_from_to", .frames(t.suppressedFrames)),
                                      EvidenceItem("key", .string(role))]))
        t.suppressed = 0
        t.suppressedFrames = []
    }

    func finish(options: AnomalyOptions, into out: inout [Finding]) {
        for k in tracks.keys.sorted(by: { ($0.role, $0.scope, $0.direction?.rawValue ?? "")
            < ($1.role, $1.scope, $1.direction?.rawValue ?? "") }) {
            guard let t = tracks[k], t.suppressed > 0 else { continue }
            flush(t, role: k.role, into: &out)
        }
    }

    func remember(_ t: Track, _ ic: UInt32, _ frames: [Int], _ options: AnomalyOptions) {
        guard t.recent[ic] == nil else { return }
        t.recent[ic] = frames
        // A ring of the last `invocationCounterHistory` counters: the oldest is forgotten.
        let cap = max(1, options.invocationCounterHistory)
        if t.order.count < cap {
            t.order.append(ic)
        } else {
            t.recent[t.order[t.head]] = nil
            t.order[t.head] = ic
            t.head = (t.head + 1) % cap
        }
    }

    /// A successful key_transfer (Security setup method 2) replaced keys of the association's parties: counters
    /// under those keys start again (Blue Book 4.4.7: the invocation counter is reset when its key changes).
    func resetAfterKeyTransfer(_ e: APDUEvent) {
        guard e.record.service.type == "action-response", e.record.service.result == nil
            || e.record.service.result == "success", let req = e.request,
            req.objects.first.map({ $0.classID == 64 && $0.methodID == 2 }) == true else { return }
        let roles = SecuritySetupRule.transferredRoles(req.values.first)
        let titles = [e.conversation.clientSystemTitle, e.conversation.serverSystemTitle].compactMap { $0 }
        for k in tracks.keys where titles.contains(k.sender) && roles.contains(k.role) {
            tracks[k] = nil
        }
    }
}
