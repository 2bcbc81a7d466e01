import DLMSAPDU
import DLMSSecurity
import DLMSWire
import Foundation
import Testing
@testable import DLMSSession

/// The peer captures (Captures/peers, SOURCE.md: Gurux client/server sessions from htanwar922/wireshark-dlms) with
/// the keys of Keyring/peers-*.json, through the session engine. This test target does not link the capture
/// module, so `WrapperPcap` below is a small reader for exactly these files (libpcap, link type NULL or Ethernet,
/// IPv4/TCP, DLMS wrapper frames in the TCP stream).
@Suite struct PeerCaptureSecurityTests {
    struct Unit {
        /// 1-based pcap record number of the segment that completed the APDU.
        var frame: Int
        var direction: Direction
        var apdu: [UInt8]
    }

    /// The APDUs of a wrapper-over-TCP capture, in order. Client = the sender of the first payload.
    static func wrapperAPDUs(_ path: String) throws -> [Unit] {
        let d = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var r = ByteReader(d)
        guard r.readSlice(20) != nil, let lt = r.readSlice(4) else { return [] }
        let linkType = Int(lt[lt.startIndex]) | Int(lt[lt.startIndex + 1]) << 8
        var clientPort: UInt16?
        var buffers: [Direction: [UInt8]] = [:]
        var out: [Unit] = []
        var frame = 0
        while let h = r.readSlice(16).map(Array.init), out.count < 10_000 {
            frame += 1
            let caplen = Int(h[8]) | Int(h[9]) << 8 | Int(h[10]) << 16 | Int(h[11]) << 24
            guard let pkt = r.readSlice(caplen) else { break }
            var p = ByteReader(Array(pkt))
            if linkType == 0 {
                _ = p.readSlice(4)
            } else {
                guard p.readSlice(12) != nil, p.readUInt16() == 0x0800 else { continue }
            }
            guard let v = p.readUInt8(), v >> 4 == 4 else { continue }
            guard p.readSlice(8) != nil, p.readUInt8() == 6 else { continue }
            guard p.readSlice(Int(v & 0x0F) * 4 - 10) != nil else { continue }
            guard let src = p.readUInt16(), p.readSlice(10) != nil, let off = p.readUInt8() else { continue }
            guard p.readSlice(Int(off >> 4) * 4 - 13) != nil else { continue }
            let payload = p.readRest()
            guard !payload.isEmpty else { continue }
            if clientPort == nil { clientPort = src }
            let dir: Direction = src == clientPort ? .clientToServer : .serverToClient
            buffers[dir, default: []] += payload
            // Whole wrapper frames: version 0001, source, destination, length, APDU.
            while var b = buffers[dir], b.count >= 8 {
                let len = Int(b[6]) << 8 | Int(b[7])
                guard b.count >= 8 + len else { break }
                out.append(Unit(frame: frame, direction: dir, apdu: Array(b[8..<(8 + len)])))
                b.removeFirst(8 + len)
                buffers[dir] = b
            }
        }
        return out
    }

    static func keyring(_ name: String) throws -> Keyring {
        try Keyring.parse(try Data(contentsOf: URL(fileURLWithPath: SessionFixtures.path("Keyring/\(name)"))))
    }

    /// SOURCE.md: the general-glo APDUs of frames 11..14 carry ICs 3, 162, 4, 163, all tags valid; every protected
    /// APDU of the capture verifies with EK = AK = 62…62.
    @Test func simpleKeyCaptureVerifiesWithTheDocumentedCounters() throws {
        let units = try Self.wrapperAPDUs(SessionFixtures.path("Captures/peers/Output-Ciphered-Simple-Key.pcap"))
        var d = SessionDriver(keyring: try Self.keyring("peers-simple-key.json"))
        var counters: [Int: UInt32] = [:]
        var verdicts: [String: Int] = [:]
        for u in units {
            let step = d.feed(u.apdu, u.direction)
            guard let s = step.security else { continue }
            verdicts[s.verdict, default: 0] += 1
            if (11...14).contains(u.frame) {
                #expect(s.protection == "general-glo-ciphering")
                counters[u.frame] = s.invocationCounter
            }
        }
        #expect(counters == [11: 3, 12: 162, 13: 4, 14: 163])
        #expect(verdicts.keys.sorted() == ["verified"])
        #expect(verdicts["verified", default: 0] > 100)
    }

    /// Output-Ciphered-HLS: HLS-GMAC with the Green Book keys; both replies verify and every APDU's tag too.
    @Test func greenBookKeyedHLSCaptureVerifiesItsHLSExchange() throws {
        let units = try Self.wrapperAPDUs(SessionFixtures.path("Captures/peers/Output-Ciphered-HLS.pcap"))
        var d = SessionDriver(keyring: try Self.keyring("peers-green-book.json"))
        var checks: [HLSCheck] = []
        var verdicts: Set<String> = []
        for u in units {
            let step = d.feed(u.apdu, u.direction)
            if let h = step.observation.hls { checks.append(h) }
            if let v = step.security?.verdict { verdicts.insert(v) }
        }
        #expect(checks.map(\.party) == ["client", "server"])
        #expect(checks.allSatisfy { $0.mechanism == "hls-gmac" && $0.result == "verified" })
        #expect(verdicts == ["verified"])
    }

    /// Output-Ciphered-HLS-AuthEnc: HLS mechanism 2 (manufacturer-specific) in Gurux's form, AES-128-ECB of the
    /// challenge under Gurux's default secret "Gurux"; without the secret it is `no-key`, with a wrong one
    /// `unsupported` (another manufacturer's form cannot be excluded), an altered reply never verifies.
    @Test func guruxMechanism2VerifiesWithGuruxsDefaultSecret() throws {
        let units = try Self.wrapperAPDUs(SessionFixtures.path("Captures/peers/Output-Ciphered-HLS-AuthEnc.pcap"))
        func checks(_ password: String?) throws -> [HLSCheck] {
            var keyring = try Self.keyring("peers-green-book.json")
            if let password { keyring.entries[0].password = SecretKey(Array(password.utf8)) }
            var d = SessionDriver(keyring: keyring)
            return units.compactMap { d.feed($0.apdu, $0.direction).observation.hls }
        }
        #expect(try checks("Gurux").map(\.result) == ["verified", "verified"])
        #expect(try checks("Gurux").allSatisfy { $0.mechanism == "hls" })
        #expect(try checks(nil).map(\.result) == ["no-key", "no-key"])
        #expect(try checks("Gurus").map(\.result) == ["unsupported", "unsupported"])
    }

    /// Output-Ciphered-Director: an LLS association with a glo-initiate and a general-glo ACCESS request.
    @Test func directorCaptureOpensTheGeneralGloAccessRequest() throws {
        let units = try Self.wrapperAPDUs(SessionFixtures.path("Captures/peers/Output-Ciphered-Director.pcap"))
        var d = SessionDriver(keyring: try Self.keyring("peers-green-book.json"))
        let steps = units.map { d.feed($0.apdu, $0.direction) }
        let access = try #require(steps.first { $0.decoded.type == "general-glo-ciphering" })
        #expect(access.security?.verdict == "verified")
        #expect(access.service.type == "access-request")
        #expect(steps.compactMap(\.security).allSatisfy { $0.verdict == "verified" })
    }

    /// Output-Ciphered: encryption-only traffic (SC 0x20) decrypts but nothing authenticates it.
    @Test func encryptionOnlyCaptureIsDecryptedUnverified() throws {
        let units = try Self.wrapperAPDUs(SessionFixtures.path("Captures/peers/Output-Ciphered.pcap"))
        var d = SessionDriver(keyring: try Self.keyring("peers-green-book.json"))
        let results = units.compactMap { d.feed($0.apdu, $0.direction).security }
        #expect(results.count > 200)
        #expect(results.allSatisfy { $0.verdict == "decrypted-unverified" && !$0.authenticated })
    }
}
