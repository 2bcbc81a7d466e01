import DLMSWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Line settings of a serial tap (`--baud N --parity none|even|odd --data-bits 7|8 --stop-bits 1|2`).
/// DLMS HDLC over an optical head or RS-485 (IEC 62056-46 on IEC 62056-21 mode E) runs at 8N1; 9600 Bd is the
/// usual rate after the mode E switch, 300 Bd the opening rate of IEC 62056-21.
public struct SerialSettings: Sendable, Hashable {
    public enum Parity: String, Sendable, CaseIterable { case none, even, odd }

    public var baud: Int
    public var parity: Parity
    /// 7 or 8.
    public var dataBits: Int
    /// 1 or 2.
    public var stopBits: Int

    public init(baud: Int = 9600, parity: Parity = .none, dataBits: Int = 8, stopBits: Int = 1) {
        self.baud = baud
        self.parity = parity
        self.dataBits = dataBits
        self.stopBits = stopBits
    }

    /// The rates termios knows (`Bnnn` constants); other rates are refused rather than rounded.
    public static let supportedBauds: [Int] = [
        50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600, 115200,
        230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000,
        3500000, 4000000,
    ]

    /// `9600 8N1` style.
    public var summary: String {
        let p = parity == .none ? "N" : parity == .even ? "E" : "O"
        return "\(baud) \(dataBits)\(p)\(stopBits)"
    }

    static func speed(_ baud: Int) -> speed_t? {
        switch baud {
        case 50: speed_t(B50)
        case 75: speed_t(B75)
        case 110: speed_t(B110)
        case 134: speed_t(B134)
        case 150: speed_t(B150)
        case 200: speed_t(B200)
        case 300: speed_t(B300)
        case 600: speed_t(B600)
        case 1200: speed_t(B1200)
        case 1800: speed_t(B1800)
        case 2400: speed_t(B2400)
        case 4800: speed_t(B4800)
        case 9600: speed_t(B9600)
        case 19200: speed_t(B19200)
        case 38400: speed_t(B38400)
        case 57600: speed_t(B57600)
        case 115200: speed_t(B115200)
        case 230400: speed_t(B230400)
        #if os(Linux)
        case 460800: speed_t(B460800)
        case 500000: speed_t(B500000)
        case 576000: speed_t(B576000)
        case 921600: speed_t(B921600)
        case 1000000: speed_t(B1000000)
        case 1152000: speed_t(B1152000)
        case 1500000: speed_t(B1500000)
        case 2000000: speed_t(B2000000)
        case 2500000: speed_t(B2500000)
        case 3000000: speed_t(B3000000)
        case 3500000: speed_t(B3500000)
        case 4000000: speed_t(B4000000)
        #endif
        default: nil
        }
    }

    /// `base` in raw mode with these settings: `cfmakeraw`, no parity check or software flow control, the
    /// character size, parity and stop bits, `CLOCAL | CREAD` without RTS/CTS, the speed, and VMIN 1, VTIME 0.
    /// (A pseudo-terminal keeps only some of these: Linux forces CS8 and no parity on ptys.)
    public func rawTermios(from base: termios) -> termios {
        var t = base
        cfmakeraw(&t)
        t.c_iflag &= ~tcflag_t(INPCK | IXON | IXOFF | IXANY)
        t.c_cflag &= ~(tcflag_t(CSIZE | PARENB | PARODD | CSTOPB) | tcflag_t(CRTSCTS))
        t.c_cflag |= tcflag_t(CLOCAL | CREAD)
        t.c_cflag |= tcflag_t(dataBits == 7 ? CS7 : CS8)
        switch parity {
        case .none: break
        case .even: t.c_cflag |= tcflag_t(PARENB)
        case .odd: t.c_cflag |= tcflag_t(PARENB | PARODD)
        }
        if stopBits == 2 { t.c_cflag |= tcflag_t(CSTOPB) }
        // VMIN 1, VTIME 0: a read wants at least one byte, so on the O_NONBLOCK descriptor an empty line is
        // EAGAIN and 0 means hang-up. (VMIN 0 would make "no data" read as 0, indistinguishable from hang-up.)
        withUnsafeMutableBytes(of: &t.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        let speed = SerialSettings.speed(baud) ?? speed_t(B9600)
        _ = cfsetispeed(&t, speed)
        _ = cfsetospeed(&t, speed)
        return t
    }

    /// Checks the values a user typed; the error is one line.
    public func validate() throws(CaptureError) {
        guard SerialSettings.speed(baud) != nil else {
            throw CaptureError("unsupported baud rate \(baud); one of "
                + SerialSettings.supportedBauds.map(String.init).joined(separator: ", "))
        }
        guard dataBits == 7 || dataBits == 8 else { throw CaptureError("data bits must be 7 or 8, not \(dataBits)") }
        guard stopBits == 1 || stopBits == 2 else { throw CaptureError("stop bits must be 1 or 2, not \(stopBits)") }
    }
}

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
