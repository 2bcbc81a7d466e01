import DLMSWire
import Testing
@testable import DLMSCapture

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct LiveStopFlagTests {
    @Test func deadlineSetsTheFlagAndBoundsTheWaitBudget() {
        let stop = StopFlag(after: 0.05)
        #expect(!stop.isSet)
        #expect(stop.waitBudget() <= 50)
        #expect(StopFlag().waitBudget() == LiveClock.pollInterval)
        _ = LiveClock.sleep(0.08, stop: StopFlag())
        #expect(stop.reason == .deadline)
        #expect(stop.waitBudget() == 0)
        #expect(StopFlag(after: 0).isSet)
    }

    @Test func requestFromAnotherThreadIsSeen() throws {
        let stop = StopFlag()
        let t = try TestThread { stop.request() }
        t.join()
        #expect(stop.reason == .requested)
        // A sleep cut short by the flag says so.
        #expect(LiveClock.sleep(5, stop: stop) == false)
    }

    /// A real SIGTERM through the installed handler: the flags that watch signals see it, the others do not.
    /// (Only one signal: a second one would take the default action and end the test process.)
    @Test func sigtermSetsTheFlagsThatWatchSignals() throws {
        try StopFlag.installSignalHandlers()
        defer {
            StopFlag.resetReceivedSignal()
            StopFlag.restoreDefaultSignalHandlers()
        }
        let watching = StopFlag(watchingSignals: true)
        let deaf = StopFlag()
        #expect(!watching.isSet)
        // To the process: the kernel picks a thread that does not block SIGTERM (test threads may block it), so
        // the handler can run a moment later on another thread.
        #expect(kill(getpid(), SIGTERM) == 0)
        let signalled = StopFlag(after: 5)
        while StopFlag.receivedSignal == nil, !signalled.isSet { _ = poll(nil, 0, 5) }
        #expect(StopFlag.receivedSignal == SIGTERM)
        #expect(watching.reason == .signal(SIGTERM))
        #expect(watching.reason?.description == "SIGTERM")
        #expect(!deaf.isSet)
    }

    @Test func clockIsTheWallClockInMicroseconds() {
        let a = LiveClock.now()
        #expect(a.seconds > 1_700_000_000)
        #expect((0..<1_000_000).contains(a.micros))
        let m1 = LiveClock.monotonicNanos()
        let m2 = LiveClock.monotonicNanos()
        #expect(m2 >= m1)
    }
}
