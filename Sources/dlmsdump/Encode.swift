import ArgumentParser
import DLMSSecurity
import Foundation
import DLMSWire
import DLMSXML

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `dlmsdump encode`: standard XML (or hex) → APDU bytes, optionally protected and framed (docs/xml.md).
struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlmsdump encode",
        abstract: "Turn IEC 62056-5-3 standard XML (or hex) into APDU bytes, optionally protected and framed.")

    enum FrameKind: String, ExpressibleByArgument, CaseIterable { case none, wrapper, hdlc }
    enum ProtectKind: String, ExpressibleByArgument, CaseIterable {
        case glo, ded
        case generalGlo = "general-glo", generalDed = "general-ded", generalSigning = "general-signing"
    }

    @Argument(help: "XML or hex file; - (or nothing) reads standard input.") var file: String = "-"
    @Option(name: .shortAndLong, help: "Write the raw bytes to this file instead of hex lines on stdout.") var output: String?
    @Option(help: "Framing: none, wrapper or hdlc.") var frame: FrameKind = .none
    @Option(help: "Wrapper source wPort.") var src: UInt16 = 16
    @Option(help: "Wrapper destination wPort.") var dst: UInt16 = 1
    @Option(help: "HDLC client address.") var client: UInt8 = 16
    @Option(help: "HDLC server upper address.") var server: UInt16 = 1
    @Option(help: "HDLC server lower (physical) address.") var serverLower: UInt16?
    @Option(help: "HDLC control byte (default: I-frames numbered from 0).") var control: UInt8?
    @Option(help: "HDLC maximum information field length.") var maxInfo: Int = 128
    @Flag(help: "HDLC frames from the server (addresses swapped, LLC E6 E7 00).") var fromServer = false
    @Option(help: "Protection: glo, ded, general-glo, general-ded or general-signing.") var protect: ProtectKind?
    @Option(help: "Keyring file (JSON); repeatable.") var keyring: [String] = []
    @Option(help: "A key ROLE=HEX; repeatable.") var key: [String] = []
    @Option(help: "Security control byte, e.g. 0x30.") var sc: String = "0x30"
    @Option(help: "Invocation counter of the first APDU.") var ic: UInt32 = 0
    @Option(help: "Sender system title (hex, 8 bytes); default: the keyring entry's.") var systemTitle: String?
    @Option(help: "general-signing recipient system title (hex).") var recipient: String?
    @Flag(help: "From a --format xml document, encode the decrypted (plain) APDUs.") var plain = false

    func run() throws {
        let text: String
        if file == "-" {
            var data: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(0, &buf, buf.count)
                if n <= 0 { break }
                data += buf[0..<n]
            }
            text = String(decoding: data, as: UTF8.self)
        } else {
            guard let s = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ValidationError("\(file): cannot read")
            }
            text = s
        }
        var job = EncodeJob(plain: plain)
        switch frame {
        case .none: job.frame = .none
        case .wrapper: job.frame = .wrapper(source: src, destination: dst)
        case .hdlc:
            job.frame = .hdlc(client: client, server: .init(upper: server, lower: serverLower), control: control,
                              maxInfo: maxInfo, fromClient: !fromServer)
        }
        var ring = Keyring()
        if let p = protect {
            let scText = sc.hasPrefix("0x") ? String(sc.dropFirst(2)) : sc
            guard let scByte = UInt8(scText, radix: sc.hasPrefix("0x") ? 16 : 10) else {
                throw ValidationError("--sc: not a byte")
            }
            guard let kind = Protection.Kind(rawValue: p.rawValue) else { throw ValidationError("--protect") }
            let st = try systemTitle.map { s throws -> [UInt8] in
                guard let b = Hex.decode(s), b.count == 8 else { throw ValidationError("--system-title: 8 bytes of hex") }
                return b
            }
            job.protect = .init(kind: kind, securityControl: scByte, invocationCounter: ic, systemTitle: st,
                                recipientSystemTitle: recipient.flatMap { Hex.decode($0) } ?? [])
            do {
                for path in keyring { ring.merge(try Keyring.load(path: path)) }
                ring.merge(try Keyring.fromKeyOptions(key))
            } catch {
                throw ValidationError("\(error)")
            }
        }
        let units: [[UInt8]]
        do {
            units = try job.run(input: text, keyring: ring)
        } catch {
            throw ValidationError("\(file == "-" ? "stdin" : file): \(error.description)")
        }
        if let output {
            let fd = open(output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else { throw ValidationError("\(output): cannot create") }
            defer { close(fd) }
            for u in units { _ = u.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        } else {
            for u in units { print(Hex.encode(u)) }
        }
    }
}
