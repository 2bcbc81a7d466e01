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
