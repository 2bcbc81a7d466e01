import DLMSWire
import Testing
@testable import DLMSCapture

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A pseudo-terminal pair stands in for the serial line: the test writes the meter's and client's bytes into the
/// master, and `SerialTapSource` reads the slave (`/dev/pts/N`) exactly as it reads `/dev/ttyUSB0`.
@Suite struct LiveSerialTapSourceTests {
    /// A master fd and the slave's path. posix_openpt, grantpt, unlockpt and ptsname_r are X/Open functions the
    /// Swift Glibc module does not declare (it does not define _XOPEN_SOURCE), so they are looked up by name.
    static func openPTY() throws -> (master: Int32, slave: String) {
        typealias IntFn = @convention(c) (Int32) -> Int32
        typealias NameFn = @convention(c) (Int32, UnsafeMutablePointer<CChar>?, Int) -> Int32
        let openpt = try #require(dlsym(nil, "posix_openpt"))
        let grant = try #require(dlsym(nil, "grantpt"))
        let unlock = try #require(dlsym(nil, "unlockpt"))
        let name = try #require(dlsym(nil, "ptsname_r"))
        let master = unsafeBitCast(openpt, to: IntFn.self)(O_RDWR | O_NOCTTY)
        try #require(master >= 0, "posix_openpt: \(String(cString: strerror(errno)))")
        try #require(unsafeBitCast(grant, to: IntFn.self)(master) == 0)
        try #require(unsafeBitCast(unlock, to: IntFn.self)(master) == 0)
        var buffer = [CChar](repeating: 0, count: 128)
        try #require(unsafeBitCast(name, to: NameFn.self)(master, &buffer, buffer.count) == 0)
        let path = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (master, path)
    }

    /// Writes `bytes` to `fd` in chunks of 1...64 bytes (seeded), sleeping 1 ms after every 64 bytes or so: about
    /// 50 kB/s, the pace of a fast serial line (460800 Bd), so the reader sees many small, arbitrary reads.
    static func pacedWrite(_ fd: Int32, _ bytes: [UInt8], seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var at = 0
        var sinceSleep = 0
        while at < bytes.count {
            let n = min(bytes.count - at, Int.random(in: 1...64, using: &rng))
            let w = bytes[at..<at + n].withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
            if w <= 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return
            }
            at += w
            sinceSleep += w
            if sinceSleep >= 64 {
                usleep(1000)
                sinceSleep = 0
            }
        }
    }

    /// Captures/gurux/hdlc-none.raw (the HDLC frames of both parties of a Gurux session, interleaved as on a
    /// half-duplex line) fed through a pseudo-terminal: the bytes read equal the file, in order, with
    /// non-decreasing arrival times; `--save` records them and the timed-raw replay gives the same chunks and
    /// times; closing the far end ends the source with "hung up".
    @Test(.timeLimit(.minutes(1)))
    func ptyFedWithTheGuruxHDLCStreamYieldsTheFileBytesAndReplaysFromTheSaveFile() throws {
        let file = try GuruxStreams.raw("hdlc-none.raw")
        try #require(file.count > 10_000)
        let (master, slave) = try LiveSerialTapSourceTests.openPTY()
        var masterOpen = true
        defer { if masterOpen { close(master) } }
        let stop = StopFlag(after: 20)
        let source = try SerialTapSource(device: slave, settings: SerialSettings(baud: 115_200), stop: stop)
        let savePath = TempFile.write([], name: "serial.dlmsraw")
        let save = try TimedRawWriter(path: savePath)

        let writer = try TestThread { LiveSerialTapSourceTests.pacedWrite(master, file, seed: 62056) }
        var chunks: [ByteChunk] = []
        var got = 0
        while got < file.count, let chunk = try source.next() {
            #expect(!chunk.bytes.isEmpty)
            chunks.append(chunk)
            try save.write(chunk)
            got += chunk.bytes.count
        }
        writer.join()
        save.close()
        #expect(stop.reason == nil, "the tap ran into its deadline: \(got) of \(file.count) bytes")
        let read = chunks.flatMap(\.bytes)
        let sameBytes = read == file
        #expect(sameBytes, "read \(read.count) of \(file.count) bytes")
        #expect(chunks.count > 10, "arrived in \(chunks.count) reads")
        #expect(zip(chunks, chunks.dropFirst()).allSatisfy { $0.time <= $1.time })
        #expect(source.bytesRead == file.count)

        close(master)
        masterOpen = false
        #expect(try source.next() == nil)
        #expect(source.endReason?.contains("hung up") == true, "\(source.endReason ?? "no reason")")
        #expect(stop.reason == nil)

        let replay = try TimedRawReader(path: savePath)
        var replayed: [ByteChunk] = []
        while let c = try replay.next() { replayed.append(c) }
        let sameChunks = replayed == chunks
        #expect(sameChunks, "replayed \(replayed.count) of \(chunks.count) chunks")
    }

    @Test func lineSettingsAreAppliedInRawModeAndRestoredOnClose() throws {
        let (master, slave) = try LiveSerialTapSourceTests.openPTY()
        defer { close(master) }
        let probe = open(slave, O_RDWR | O_NOCTTY)
        try #require(probe >= 0)
        defer { close(probe) }
        var before = termios()
        try #require(tcgetattr(probe, &before) == 0)

        let settings = SerialSettings(baud: 300, parity: .even, dataBits: 7, stopBits: 2)
        // What is asked of the driver: a real UART takes all of it.
        var want = settings.rawTermios(from: before)
        #expect(want.c_cflag & tcflag_t(CSIZE) == tcflag_t(CS7))
        #expect(want.c_cflag & tcflag_t(PARENB | PARODD) == tcflag_t(PARENB))
        #expect(want.c_cflag & tcflag_t(CSTOPB) != 0)
        #expect(want.c_cflag & tcflag_t(CRTSCTS) == 0)
        #expect(want.c_iflag & tcflag_t(INPCK | IXON | IXOFF) == 0)
        #expect(cfgetispeed(&want) == speed_t(B300) && cfgetospeed(&want) == speed_t(B300))
        var odd = SerialSettings(baud: 9600, parity: .odd).rawTermios(from: before)
        #expect(odd.c_cflag & tcflag_t(PARENB | PARODD) == tcflag_t(PARENB | PARODD))
        #expect(odd.c_cflag & tcflag_t(CSIZE) == tcflag_t(CS8) && odd.c_cflag & tcflag_t(CSTOPB) == 0)
        #expect(cfgetispeed(&odd) == speed_t(B9600))

        // What the device took: Linux ptys force CS8 without parity, and keep the rest.
        let source = try SerialTapSource(device: slave, settings: settings)
        var t = termios()
        try #require(tcgetattr(probe, &t) == 0)
        #expect(t.c_cflag & tcflag_t(CSTOPB) != 0)
        #expect(t.c_cflag & tcflag_t(CREAD) != 0)
        #expect(t.c_lflag & tcflag_t(ICANON | ECHO | ISIG) == 0)
        #expect(t.c_iflag & tcflag_t(ICRNL | IXON | ISTRIP) == 0)
        #expect(cfgetispeed(&t) == speed_t(B300))
        let (vmin, vtime) = withUnsafeBytes(of: t.c_cc) { ($0[Int(VMIN)], $0[Int(VTIME)]) }
        #expect(vmin == 1 && vtime == 0)

        source.close()
        var after = termios()
        try #require(tcgetattr(probe, &after) == 0)
        #expect(after.c_lflag == before.c_lflag && after.c_cflag == before.c_cflag && after.c_iflag == before.c_iflag)

    }

    @Test func aSilentLineStopsShortlyAfterTheDeadline() throws {
        let (master, slave) = try LiveSerialTapSourceTests.openPTY()
        defer { close(master) }
        let stop = StopFlag(after: 0.2)
        let source = try SerialTapSource(device: slave, stop: stop)
        let start = LiveClock.monotonicNanos()
        #expect(try source.next() == nil)
        let elapsed = Double(LiveClock.monotonicNanos() - start) / 1e9
        #expect(elapsed >= 0.15 && elapsed < 1.5, "stopped after \(elapsed) s")
        #expect(stop.reason == .deadline)
        #expect(source.endReason == nil)
    }

    @Test func badSettingsAndNonTerminalsAreOneLineErrors() {
        func message(_ body: () throws(CaptureError) -> Void) -> String? {
            do throws(CaptureError) {
                try body()
                return nil
            } catch {
                return error.message
            }
        }
        let baud = message { () throws(CaptureError) in try SerialSettings(baud: 12345).validate() }
        #expect(baud?.hasPrefix("unsupported baud rate 12345; one of 50, 75,") == true)
        let dataBits = message { () throws(CaptureError) in try SerialSettings(dataBits: 6).validate() }
        #expect(dataBits == "data bits must be 7 or 8, not 6")
        let stopBits = message { () throws(CaptureError) in try SerialSettings(stopBits: 3).validate() }
        #expect(stopBits == "stop bits must be 1 or 2, not 3")
        let notTTY = message { () throws(CaptureError) in _ = try SerialTapSource(device: "/dev/null") }
        #expect(notTTY == "/dev/null: not a serial device (tty)")
        let missing = message { () throws(CaptureError) in _ = try SerialTapSource(device: "/dev/ttyNOSUCH9") }
        #expect(missing == "/dev/ttyNOSUCH9: No such file or directory")
        #expect(SerialSettings(baud: 9600, parity: .even, dataBits: 7, stopBits: 1).summary == "9600 7E1")
        #expect(SerialSettings.supportedBauds.allSatisfy { SerialSettings.speed($0) != nil })
    }
}
