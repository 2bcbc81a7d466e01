import DLMSWire

/// Remembers which capture frame carried which bytes of a stream, so every unit cut out of the stream can name the
/// frames it came from. Positions are absolute stream offsets (bytes since the decoder started).
struct ChunkMarks: Sendable {
    struct Mark: Sendable {
        var start: Int
        var end: Int
        var frame: Int
        var time: Timestamp?
    }

    private(set) var marks: [Mark] = []
    private var head = 0

    /// Records that `[start, start + count)` came from `frame` at `time`.
    mutating func append(start: Int, count: Int, frame: Int, time: Timestamp?) {
        guard count > 0 else { return }
        marks.append(Mark(start: start, end: start + count, frame: frame, time: time))
    }

    /// Capture frames overlapping `[a, b)`, in order, without repeats.
    func frames(_ a: Int, _ b: Int) -> [Int] {
        var i = head
        // The common case, a unit inside one chunk: its frame as a one-element array, without growing one.
        while i < marks.count, marks[i].end <= a { i += 1 }
        if a <= b, i < marks.count, marks[i].start < b, i + 1 == marks.count || marks[i + 1].start >= b {
            return [marks[i].frame]
        }
        var out: [Int] = []
        i = head
        while i < marks.count {
            let m = marks[i]
            if m.start >= b { break }
            if m.end > a, out.last != m.frame { out.append(m.frame) }
            i += 1
        }
        return out
    }

    /// `frames(_:_:)` as `FrameNumbers`: one or two frames without an array.
    func frameNumbers(_ a: Int, _ b: Int) -> FrameNumbers {
        var out = FrameNumbers()
        var i = head
        while i < marks.count {
            let m = marks[i]
            if m.start >= b { break }
            if m.end > a, out.last != m.frame { out.append(m.frame) }
            i += 1
        }
        return out
    }

    /// The mark holding byte `position` (or the last one before it).
    @inline(__always)
    private func mark(at position: Int) -> Mark? {
        var found: Mark? = nil
        var i = head
        while i < marks.count {
            let m = marks[i]
            if m.start > position { break }
            found = m
            if m.end > position { break }
            i += 1
        }
        return found
    }

    /// Time of the frame that carried byte `position`.
    func time(at position: Int) -> Timestamp? { mark(at: position)?.time }

    /// Offset of `position` within the capture frame that carried it.
    func offset(at position: Int) -> Int {
        guard let m = mark(at: position) else { return position }
        return position - m.start
    }

    /// The frame that carried byte `position`, if known.
    func frame(at position: Int) -> Int? { mark(at: position)?.frame }

    /// Forgets marks wholly before `position` (consumed bytes).
    mutating func discard(before position: Int) {
        while head < marks.count, marks[head].end <= position { head += 1 }
        if head == marks.count {
            marks.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 32 {
            marks.removeFirst(head)
            head = 0
        }
    }

    mutating func removeAll() {
        marks.removeAll(keepingCapacity: true)
        head = 0
    }
}
