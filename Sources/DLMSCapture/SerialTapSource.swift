import DLMSWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytes of a serial line read live from a tty (`dlmsdump --serial /dev/ttyUSB0 --baud 9600`): a passive tap on
/// a half-duplex line, so the HDLC frames of both parties arrive interleaved on one stream, split across reads and
/// with line noise between them; the stream decoder sorts that out, the source only delivers bytes and their
/// arrival times.
///
/// The tty is opened `O_RDONLY | O_NOCTTY | O_NONBLOCK` (a tap never writes, and never waits for carrier detect)
/// and put in raw mode: `cfmakeraw` (no echo, no line editing, no CR/LF translation, no XON/XOFF, no signals from
/// break), then the speed, character size, parity and stop bits of `SerialSettings`, `CLOCAL | CREAD`, no RTS/CTS
/// flow control, and `VMIN = 1, VTIME = 0` on a non-blocking descriptor: `read` returns what has arrived (EAGAIN
/// when nothing has, 0 once the line hung up), and `poll(2)` does the waiting, at most
/// `LiveClock.pollInterval` at a time so the `StopFlag` is honoured. Parity errors are not checked (`INPCK` off):
/// the HDLC FCS catches damaged frames, and dropping bytes would hide the damage. The previous terminal settings
/// are restored by `close()`/`deinit`.
///
/// The class owns the file descriptor.
public final class SerialTapSource {
    private var fd: Int32 = -1
    private var saved = termios()
    private var buffer: [UInt8]
    private let stop: StopFlag
    public let device: String
    public let settings: SerialSettings
    /// Bytes read so far.
    public private(set) var bytesRead = 0
    /// Why `next()` returned nil when the stop flag is not set: the line hung up (USB adapter unplugged, the other
    /// end of a pseudo-terminal closed) or a read error.
    public private(set) var endReason: String?

    /// Opens and configures `device`. `chunkSize`: the largest chunk one `next()` returns.
    public init(device: String, settings: SerialSettings = SerialSettings(), stop: StopFlag = StopFlag(),
                chunkSize: Int = 4096) throws(CaptureError) {
        self.device = device
        self.settings = settings
        self.stop = stop
        buffer = [UInt8](repeating: 0, count: max(1, min(chunkSize, 1 << 20)))
        try settings.validate()
        let fd = open(device, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            let hint = e == EACCES ? " (add the user to the dialout group, or run as root)" : ""
            throw CaptureError("\(device): \(String(cString: strerror(e)))\(hint)")
        }
        guard isatty(fd) != 0, tcgetattr(fd, &saved) == 0 else {
            closeDescriptor(fd)
            throw CaptureError("\(device): not a serial device (tty)")
        }
        var t = settings.rawTermios(from: saved)
        guard tcsetattr(fd, TCSANOW, &t) == 0 else {
            let reason = String(cString: strerror(errno))
            closeDescriptor(fd)
            throw CaptureError("\(device): cannot set \(settings.summary) raw mode: \(reason)")
        }
        self.fd = fd
    }

    deinit { close() }

    /// Restores the terminal settings and closes the device; `next()` then returns nil.
    public func close() {
        guard fd >= 0 else { return }
        _ = tcsetattr(fd, TCSANOW, &saved)
        closeDescriptor(fd)
        fd = -1
    }

    /// The next bytes as they arrive (at most `chunkSize`, never empty), stamped with the time `read` returned
    /// them. nil once the stop flag is set, or when the line has ended (`endReason` says why).
    public func next() throws(CaptureError) -> ByteChunk? {
        while fd >= 0 {
            if stop.isSet { return nil }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                bytesRead += n
                return ByteChunk(bytes: Array(buffer[0..<n]), time: LiveClock.now())
            }
            if n == 0 {
                // With VMIN 1 a non-blocking tty returns -1/EAGAIN when empty; 0 is end of file (hang-up).
                finish("\(device): the line hung up")
                return nil
            }
            switch errno {
            case EAGAIN, EWOULDBLOCK, EINTR:
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let r = poll(&p, 1, stop.waitBudget())
                if r < 0, errno != EINTR {
                    throw CaptureError("\(device): poll failed: \(String(cString: strerror(errno)))")
                }
                if r > 0, p.revents & Int16(POLLNVAL) != 0 {
                    finish("\(device): the descriptor was closed")
                    return nil
                }
            case EIO:
                // Linux reports a hung-up tty (and a pseudo-terminal whose master closed) as EIO.
                finish("\(device): the line hung up")
                return nil
            default:
                let reason = String(cString: strerror(errno))
                finish("\(device): read failed: \(reason)")
                throw CaptureError("\(device): read failed: \(reason)")
            }
        }
        return nil
    }

    private func finish(_ reason: String) {
        endReason = reason
        close()
    }
}

@available(*, unavailable) extension SerialTapSource: Sendable {}

/// `close(2)`, reachable from classes that have a `close()` method of their own.
func closeDescriptor(_ fd: Int32) {
    _ = close(fd)
}
