import Testing
@testable import DLMSWire

@Suite struct FrameNumbersTests {
    @Test func oneAndTwoNumbersReadLikeAnArray() {
        var f = FrameNumbers()
        #expect(f.isEmpty && f.array == [])
        f.append(7)
        #expect(f.count == 1 && f.first == 7 && f.array == [7])
        f.append(9)
        #expect(Array(f) == [7, 9] && f.last == 9 && f == [7, 9])
    }

    @Test func aThirdNumberMovesTheListIntoAnArrayAndKeepsItsOrder() {
        var f: FrameNumbers = [1, 2]
        f.append(3)
        f.append(4)
        #expect(f.array == [1, 2, 3, 4] && f.count == 4 && f[2] == 3)
        #expect(f == FrameNumbers([1, 2, 3, 4]))
    }

    @Test func equalNumbersAreEqualAndHashAlikeWhicheverWayTheyWereBuilt() {
        var built = FrameNumbers()
        for n in [5, 6, 7] { built.append(n) }
        let literal: FrameNumbers = [5, 6, 7]
        #expect(built == literal && built.hashValue == literal.hashValue)
        #expect(FrameNumbers(3) == [3] && FrameNumbers([3]) != [3, 4])
        #expect(Set([FrameNumbers([1, 2]), [1, 2], FrameNumbers(1)]).count == 2)
    }
}
