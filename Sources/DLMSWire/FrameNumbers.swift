/// The capture frame numbers (or link-frame ordinals) that carried one unit, in order.
///
/// Nearly every unit comes from one frame, some from two: up to two numbers are held inline, without allocating
/// storage, and only a longer list takes an array. Reads like an `[Int]` (a random-access collection, built from an
/// array literal, equal when the numbers are); `array` gives the numbers as an array.
public struct FrameNumbers: Sendable, Hashable, RandomAccessCollection, ExpressibleByArrayLiteral {
    /// 0, 1 or 2: that many numbers in `first0`/`second`; -1: all of them in `many` (three or more).
    @usableFromInline var inlineCount: Int
    @usableFromInline var first0: Int
    @usableFromInline var second: Int
    @usableFromInline var many: [Int]

    @inlinable public init() {
        inlineCount = 0
        first0 = 0
        second = 0
        many = []
    }

    /// One frame.
    @inlinable public init(_ frame: Int) {
        inlineCount = 1
        first0 = frame
        second = 0
        many = []
    }

    @inlinable public init(_ frames: [Int]) {
        switch frames.count {
        case 0: self.init()
        case 1: self.init(frames[0])
        case 2:
            self.init(frames[0])
            inlineCount = 2
            second = frames[1]
        default:
            self.init()
            inlineCount = -1
            many = frames
        }
    }

    @inlinable public init(arrayLiteral elements: Int...) { self.init(elements) }

    /// Appends a number (the third moves the list into an array).
    @inlinable public mutating func append(_ frame: Int) {
        switch inlineCount {
        case 0:
            first0 = frame
            inlineCount = 1
        case 1:
            second = frame
            inlineCount = 2
        case 2:
            many = [first0, second, frame]
            inlineCount = -1
            first0 = 0
            second = 0
        default:
            many.append(frame)
        }
    }

    /// The numbers as an array.
    @inlinable public var array: [Int] {
        switch inlineCount {
        case 0: return []
        case 1: return [first0]
        case 2: return [first0, second]
        default: return many
        }
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { inlineCount >= 0 ? inlineCount : many.count }

    @inlinable public subscript(position: Int) -> Int {
        if inlineCount < 0 { return many[position] }
        precondition(position >= 0 && position < inlineCount, "FrameNumbers index out of range")
        return position == 0 ? first0 : second
    }

    @inlinable public static func == (lhs: FrameNumbers, rhs: FrameNumbers) -> Bool {
        lhs.elementsEqual(rhs)
    }

    @inlinable public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for f in self { hasher.combine(f) }
    }
}

extension FrameNumbers: CustomStringConvertible {
    public var description: String { array.description }
}
