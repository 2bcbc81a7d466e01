import DLMSWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Clocks of the live sources. Arrival times of live bytes are the wall clock (`CLOCK_REALTIME`), which is the
/// capture clock of a live capture; waits and deadlines use `CLOCK_MONOTONIC`, which does not jump.
public enum LiveClock {
    /// How long (milliseconds) a live source blocks at most before it checks its `StopFlag` again.
    public static let pollInterval: Int32 = 100

    /// Now, as a capture timestamp.
    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(seconds: Int64(ts.tv_sec), micros: Int32(truncatingIfNeeded: ts.tv_nsec / 1000))
    }

    /// Nanoseconds of the monotonic clock.
    public static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(max(0, ts.tv_sec)) &* 1_000_000_000 &+ UInt64(max(0, ts.tv_nsec))  // < 2^63 for 290 years
    }

    /// Sleeps `seconds` in slices of at most `pollInterval`, returning early (false) once `stop` is set.
    public static func sleep(_ seconds: Double, stop: StopFlag) -> Bool {
        let end = monotonicNanos() &+ UInt64(max(0, min(seconds, 1e6)) * 1e9)
        while true {
            if stop.isSet { return false }
            let now = monotonicNanos()
            if now >= end { return true }
            let left = Int32(min(UInt64(stop.waitBudget()), (end - now + 999_999) / 1_000_000))
            _ = poll(nil, 0, left)
        }
    }
}
