import DLMSWire

/// Where the events of one direction go: the connection, the endpoints and the packet that makes bytes
/// deliverable (its frame number and time are stamped on every event).
struct DirectionContext {
    var id: ConnectionID
    var from: Endpoint
    var to: Endpoint
    var frame: Int
    var time: Timestamp?
    var limits: ReassemblyLimits
}

/// A piece of one direction's byte stream: `bytes` from `start` (absolute stream position), then `missing` bytes
/// that the capture did not keep (snap length).
struct StreamSegment {
    var start: Int64
    var bytes: ArraySlice<UInt8>
    var missing: Int
    var end: Int64 { start + Int64(bytes.count) + Int64(missing) }
}

/// One direction of a TCP connection: in-order delivery, a bounded out-of-order queue, retransmission trimming
/// and overlap comparison.
///
/// Sequence numbers are unwrapped into 64-bit absolute positions relative to the first one seen (`base`), using
/// serial-number arithmetic (RFC 1982) around the next expected position, so a stream may cross 2^32 freely.
struct StreamDirection {
    var started = false
    /// Sequence number of the SYN, when the capture shows it.
    var isn: UInt32?
    /// Sequence number of absolute position 0.
    var base: UInt32 = 0
    /// Next absolute position expected (everything before it was delivered or declared lost).
    var next: Int64 = 0
    /// Out-of-order segments, sorted by start.
    var pending: [StreamSegment] = []
    var pendingBytes = 0
    /// Absolute position of the FIN, once seen.
    var finAt: Int64?
    var finished = false
    /// The last delivered bytes (contiguous, ending at `retainedEnd`), to compare retransmissions against.
    var retained: [UInt8] = []
    var retainedEnd: Int64 = 0

    /// Segments further ahead than this are not buffered (`tcp.out-of-window`): no real window is that large.
    static let maximumAhead: Int64 = 1 << 30

    /// Starts the direction at `sequence` (the SYN's, which occupies one position, or the first segment's).
    mutating func start(sequence: UInt32, syn: Bool) {
        started = true
        isn = syn ? sequence : nil
        base = syn ? sequence &+ 1 : sequence
        next = 0
        retainedEnd = 0
    }

    /// The absolute position of `sequence`: the nearest one to `next` in serial-number arithmetic.
    func position(_ sequence: UInt32) -> Int64 {
        let expected = base &+ UInt32(truncatingIfNeeded: next)
        return next + Int64(Int32(bitPattern: sequence &- expected))
    }

    // MARK: - Accepting segments

    /// A segment of `bytes` from `start`, then `missing` bytes the capture did not keep. Its parts are borrowed
    /// from the caller: a `StreamSegment` is built (its bytes retained) only when it is queued out of order.
    mutating func accept(start: Int64, bytes: ArraySlice<UInt8>, missing: Int, _ c: DirectionContext,
                         _ out: inout [StreamEvent]) {
        let end = start + Int64(bytes.count) + Int64(missing)
        guard end > start else { return }
        if end <= next {
            compareOld(start: start, bytes: bytes, c, &out)
            return
        }
        if start <= next {
            deliver(start: start, bytes: bytes, end: end, c, &out)
            drain(c, &out)
            return
        }
        guard start - next <= StreamDirection.maximumAhead else {
            out.append(.notice(c.id, code: "tcp.out-of-window",
                               message: "segment \(start - next) bytes ahead of the stream ignored",
                               frame: c.frame, time: c.time))
            return
        }
        let seg = StreamSegment(start: start, bytes: bytes, missing: missing)
        // Out of order: queue it, sorted by start (after equal starts, so arrival order breaks ties).
        var lo = 0
        var hi = pending.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if pending[mid].start <= seg.start { lo = mid + 1 } else { hi = mid }
        }
        if lo > 0, pending[lo - 1].start == seg.start, pending[lo - 1].bytes.count == seg.bytes.count {
            // The same segment again (retransmitted before the hole filled): keep the first copy.
            if pending[lo - 1].bytes != bytes { mismatch(at: start, c, &out) }
            return
        }
        pending.insert(seg, at: lo)
        pendingBytes += seg.bytes.count
        while pendingBytes > c.limits.maxBufferedBytesPerDirection
            || pending.count > c.limits.maxBufferedSegmentsPerDirection
        {
            guard let first = pending.first else { break }
            if first.start > next {
                gap(Int(first.start - next), c, &out)
                next = first.start
            }
            drain(c, &out)
        }
    }

    /// Delivers the new part of `seg` (which starts at or before `next` and ends after it).
    @inline(__always)
    private mutating func deliver(start: Int64, bytes: ArraySlice<UInt8>, end: Int64, _ c: DirectionContext,
                                  _ out: inout [StreamEvent]) {
        let overlap = Int(next - start)
        if overlap > 0 { compareOld(start: start, bytes: bytes, c, &out) }
        if overlap < bytes.count {
            // `overlap` lies in 0..<count here (the segment starts at or before `next` and ends after it).
            let fresh = bytes[(bytes.startIndex + max(0, overlap))...]
            next += Int64(fresh.count)
            retain(fresh, c.limits.retainedBytesPerDirection)
            // Last use of `fresh`: moved into the event, not copied.
            out.append(.data(c.id, from: c.from, to: c.to, bytes: consume fresh, frame: c.frame, time: c.time))
        }
        if next < end {
            gap(Int(end - next), c, &out)
            next = end
        }
    }

    /// Delivers queued segments that became contiguous, then the FIN if it is next.
    mutating func drain(_ c: DirectionContext, _ out: inout [StreamEvent]) {
        while let first = pending.first, first.start <= next {
            pending.removeFirst()
            pendingBytes -= first.bytes.count
            if first.end > next {
                deliver(start: first.start, bytes: first.bytes, end: first.end, c, &out)
            } else {
                compareOld(start: first.start, bytes: first.bytes, c, &out)
            }
        }
        if let fin = finAt, !finished, next >= fin {
            finished = true
            next = fin + 1  // the FIN occupies one sequence number
        }
    }

    /// Moves the stream to `target` (acknowledged by the peer, so whatever lies before it is lost to the capture),
    /// delivering what is queued on the way and reporting the holes.
    mutating func skip(to requested: Int64, _ c: DirectionContext, _ out: inout [StreamEvent]) {
        guard !finished else { return }
        var target = requested
        if let fin = finAt, target > fin { target = fin }
        while next < target {
            if let first = pending.first, first.start < target {
                if first.start > next {
                    gap(Int(first.start - next), c, &out)
                    next = first.start
                }
                drain(c, &out)
            } else {
                gap(Int(target - next), c, &out)
                next = target
                drain(c, &out)
            }
        }
        drain(c, &out)
    }

    /// End of this direction (FIN/RST close, eviction, end of capture): everything queued is delivered, with the
    /// holes before it reported, and a FIN beyond the delivered bytes reports the bytes missing before it.
    mutating func flush(_ c: DirectionContext, _ out: inout [StreamEvent]) {
        while let first = pending.first {
            if first.start > next {
                gap(Int(first.start - next), c, &out)
                next = first.start
            }
            drain(c, &out)
        }
        if let fin = finAt, !finished {
            if next < fin { gap(Int(fin - next), c, &out) }
            next = fin + 1
            finished = true
        }
    }

    // MARK: - Gaps and overlaps

    private mutating func gap(_ missing: Int, _ c: DirectionContext, _ out: inout [StreamEvent]) {
        guard missing > 0 else { return }
        out.append(.gap(c.id, from: c.from, to: c.to, missing: missing, frame: c.frame, time: c.time))
        // The retained bytes must stay contiguous with `next`.
        retained.removeAll(keepingCapacity: true)
        retainedEnd = next + Int64(missing)
    }

    private mutating func retain(_ fresh: ArraySlice<UInt8>, _ limit: Int) {
        retainedEnd = next
        guard limit > 0 else { return }
        if fresh.count >= limit {
            retained.removeAll(keepingCapacity: true)
            retained.append(contentsOf: fresh.suffix(limit))
        } else {
            // Through a buffer pointer: the generic append of a slice cost more than the copy itself.
            fresh.withUnsafeBufferPointer { retained.append(contentsOf: $0) }
            // Compact in bulk so the cost per byte stays constant.
            if retained.count > 2 * limit { retained.removeFirst(retained.count - limit) }
        }
    }

    /// Compares the already-delivered part of `seg` with the bytes delivered first.
    private func compareOld(start: Int64, bytes: ArraySlice<UInt8>, _ c: DirectionContext,
                            _ out: inout [StreamEvent]) {
        guard !bytes.isEmpty, !retained.isEmpty else { return }
        // A keep-alive carries at most one garbage byte at next - 1 (RFC 9293 §3.8.4): not a retransmission.
        if bytes.count <= 1, start + Int64(bytes.count) == retainedEnd { return }
        let retainedStart = retainedEnd - Int64(retained.count)
        let lo = max(start, retainedStart)
        let hi = min(start + Int64(bytes.count), retainedEnd)
        guard lo < hi else { return }
        let a = bytes.startIndex + Int(lo - start)
        let b = Int(lo - retainedStart)
        let n = Int(hi - lo)
        if bytes[a..<(a + n)] != retained[b..<(b + n)] { mismatch(at: lo, c, &out) }
    }

    private func mismatch(at position: Int64, _ c: DirectionContext, _ out: inout [StreamEvent]) {
        out.append(.notice(c.id, code: "tcp.overlap-mismatch",
                           message: "retransmitted bytes at stream offset \(position) \(c.from) → \(c.to) differ "
                               + "from the bytes delivered first; the first copy is kept",
                           frame: c.frame, time: c.time))
    }
}
