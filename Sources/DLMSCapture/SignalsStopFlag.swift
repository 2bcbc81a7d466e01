internal import CPcap
import DLMSWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// When a live source must stop: SIGINT/SIGTERM, a deadline (`--duration`), or an explicit `request()` (`-c COUNT`
/// reached, a test that has seen enough). Every live source takes one and checks it at least every
/// `LiveClock.pollInterval` while it waits, so a stop is honoured within about 100 ms even on a silent line.
///
/// ```swift
/// try StopFlag.installSignalHandlers()          // once, at start-up
/// let stop = StopFlag(after: duration, watchingSignals: true)
/// while let frame = try source.next() { ... }   // nil once `stop.isSet`
/// ```
///
/// The signal part is one process-wide `volatile sig_atomic_t` set by a C handler (`Sources/CPcap/shim.h`); this
/// file is the only Swift file that calls those shim functions (they are `static`, so each object file calling
/// them would get its own copy of the flag). The manual part is a mutex-protected Bool, so `request()` may be
/// called from any thread.
public final class StopFlag: @unchecked Sendable {
    /// Why the flag is set.
    public enum Reason: Sendable, Hashable, CustomStringConvertible {
        /// SIGINT (2) or SIGTERM (15).
        case signal(Int32)
        case deadline
        case requested

        public var description: String {
            switch self {
            case .signal(let s): s == SIGINT ? "SIGINT" : s == SIGTERM ? "SIGTERM" : "signal \(s)"
            case .deadline: "duration elapsed"
            case .requested: "stop requested"
            }
        }
    }

    private let deadline: UInt64?
    private let watchesSignals: Bool
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private var requested = false

    /// `seconds`: stop that long after now (monotonic clock); nil for no deadline. `watchingSignals`: also stop
    /// once SIGINT/SIGTERM arrived (after `installSignalHandlers()`).
    public init(after seconds: Double? = nil, watchingSignals: Bool = false) {
        if let seconds, seconds.isFinite {
            let nanos = seconds <= 0 ? 0 : min(seconds, 1e9) * 1e9
            deadline = LiveClock.monotonicNanos() &+ UInt64(nanos)  // ≤ 1e18 + uptime: no overflow
        } else {
            deadline = nil
        }
        watchesSignals = watchingSignals
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_mutex_t())
        pthread_mutex_init(lock, nil)
    }

    deinit {
        pthread_mutex_destroy(lock)
        lock.deinitialize(count: 1)
        lock.deallocate()
    }

    /// Sets the flag (thread-safe).
    public func request() {
        pthread_mutex_lock(lock)
        requested = true
        pthread_mutex_unlock(lock)
    }

    /// Whether the source should stop now.
    public var isSet: Bool { reason != nil }

    /// Why it should stop, or nil. A signal wins over a request, a request over the deadline.
    public var reason: Reason? {
        if watchesSignals, let s = StopFlag.receivedSignal { return .signal(s) }
        pthread_mutex_lock(lock)
        let r = requested
        pthread_mutex_unlock(lock)
        if r { return .requested }
        if let deadline, LiveClock.monotonicNanos() >= deadline { return .deadline }
        return nil
    }

    /// Milliseconds a source may block before it must look at the flag again: `cap`, or less when the deadline is
    /// nearer (never negative).
    public func waitBudget(cap milliseconds: Int32 = LiveClock.pollInterval) -> Int32 {
        guard let deadline else { return milliseconds }
        let now = LiveClock.monotonicNanos()
        guard now < deadline else { return 0 }
        let left = (deadline - now + 999_999) / 1_000_000
        return left < UInt64(milliseconds) ? Int32(left) : milliseconds
    }

    // MARK: - Signals

    /// Installs the SIGINT/SIGTERM handler (sigaction, without SA_RESTART). The first signal sets the flag of every
    /// `StopFlag(watchingSignals: true)`; a second one kills the process with the default action.
    public static func installSignalHandlers() throws(CaptureError) {
        guard dlmsdump_install_stop_handlers() == 0 else {
            throw CaptureError("cannot install the SIGINT/SIGTERM handlers: \(String(cString: strerror(errno)))")
        }
    }

    /// The signal received since start-up (or the last reset), if any.
    public static var receivedSignal: Int32? {
        let s = dlmsdump_stop_signal()
        return s == 0 ? nil : s
    }

    /// Forgets a received signal. For tests; a CLI stops after the first one.
    static func resetReceivedSignal() { dlmsdump_reset_stop_signal() }

    /// Puts back the default action of SIGINT and SIGTERM (for tests).
    static func restoreDefaultSignalHandlers() { _ = dlmsdump_restore_default_stop_handlers() }
}
