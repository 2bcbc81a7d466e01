import DLMSAnalyzer
import DLMSSecurity
import DLMSWire
import Foundation
import Testing

/// Both nestings of block transfer with ciphering at once (issue 4, item 3): general-block-transfer blocks carry a
/// glo-get-response whose plaintext is a get-response-with-datablock. The analyzer joins the GBT blocks (join, then
/// decrypt), decrypts the joined glo-get-response, and follows the datablocks across two such GBT transfers until
/// the transfer completes with `reassembled`.
///
/// The association is the one of `Captures/gurux/hdlc-gbt-authenc` (AARQ, AARE and the first glo-get-request are
/// its bytes, from the truth file; keys from `Keyring/hdlc-gbt-authenc.json`); the ciphered responses are made here
/// with `DLMSCipher.protect` (suite 0, authenticated and encrypted, SC 0x30) under the server's system title, and
/// carried in wrapper frames (client wPort 0x10, server 0x01) of a hex input.
@Suite struct GBTCipheredDatablockTests {
    static let serverTitle: [UInt8] = [0x47, 0x52, 0x58, 0xAF, 0x56, 0x79, 0x23, 0x21]
    static let clientTitle: [UInt8] = [0x43, 0x4C, 0x49, 0x4C, 0x63, 0xDE, 0xB3, 0x58]
    static let guek = SecretKey(bytes("E25515F483DA88E834D7BCA1CCC1F378"))
    static let ak = SecretKey(bytes("E67DBFC2D6359C8F4D7DBA8202DD856A"))

    static func bytes(_ s: String) -> [UInt8] { Hex.decode(s) ?? [] }

    static func u16(_ n: Int) -> [UInt8] { [UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] }
    static func u32(_ n: UInt32) -> [UInt8] {
        [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
    }
    static func length(_ n: Int) -> [UInt8] { n < 0x80 ? [UInt8(n)] : n < 0x100 ? [0x81, UInt8(n)] : [0x82] + u16(n) }

    /// A wrapper frame (IEC 62056-47: version 1, source wPort, destination wPort, length).
    static func wrapper(_ apdu: [UInt8], fromClient: Bool) -> [UInt8] {
        [0x00, 0x01] + (fromClient ? [0x00, 0x10, 0x00, 0x01] : [0x00, 0x01, 0x00, 0x10]) + u16(apdu.count) + apdu
    }

    /// glo-ciphered APDU (tag, length, SC, IC, ciphertext ‖ tag) of `plain`.
    static func glo(_ tag: UInt8, _ plain: [UInt8], title: [UInt8], ic: UInt32) throws -> [UInt8] {
        let payload = try #require(DLMSCipher.protect(
            securityControl: SecurityControl(rawValue: 0x30), systemTitle: title, invocationCounter: ic,
            plaintext: plain, encryptionKey: guek, authenticationKey: ak))
        let content = [0x30] + u32(ic) + payload
        return [tag] + length(content.count) + content
    }

    /// `apdu` in two general-block-transfer blocks (block-control: last-block bit 7, window 1).
    static func gbt(_ apdu: [UInt8], ack: Int) -> [[UInt8]] {
        let half = apdu.count / 2
        return [(1, Array(apdu[..<half])), (2, Array(apdu[half...]))].map { (n, data) in
            [0xE0, n == 2 ? 0x81 : 0x01] + u16(n) + u16(ack) + length(data.count) + data
        }
    }

    /// The association of hdlc-gbt-authenc (truth index 3 AARQ, 5 AARE) and its first glo-get-request (index 8),
    /// in wrapper frames.
    static func association() -> [[UInt8]] {
        let aarq = bytes("605da109060760857405080103a60a0408434c494c63deb3588a0207808b0760857405080205ac1280103126"
            + "357926ea08ec97160959f6f31564be230421211f3000000b9d25ff69597fc99193e58419809b219e43777fe750b2eed7837328")
        let aare = bytes("6169a109060760857405080103a203020100a305a10302010ea40a0408475258af5679232188020780890760"
            + "857405080205aa1280105afadaf32ba4cd756acc264cb4513439be230421281f300000639b51faba8c812996de80978c57"
            + "63a543d09d50a0d37dfdf51c1033")
        let request = bytes("c81e3000000ba05b0f4113b3137a89f7d3981d6b9527e6dd3a6cbad0ea46ffa8")
        return [wrapper(aarq, fromClient: true), wrapper(aare, fromClient: false), wrapper(request, fromClient: true)]
    }

    /// Writes `records` as a hex input (one record per paragraph) and analyses it with the capture's keyring.
    static func analyse(_ records: [[UInt8]], name: String) throws -> [JSONValue] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dlmsdump-\(name)-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("\(name).hex").path
        try records.map { Hex.encode($0) }.joined(separator: "\n\n").write(toFile: path, atomically: true,
                                                                             encoding: .utf8)
        let (_, out) = try analyseToJSON([path]) { o in
            o.input = .hex
            o.keyringPaths = [Fixtures.keyring("hdlc-gbt-authenc.json")]
        }
        return out
    }

    @Test func gbtCarryingGloGetResponsesWithDatablocksIsJoinedDecryptedAndReassembled() throws {
        // The value read: 20 rows of { long-unsigned, double-long-unsigned }.
        var value: [UInt8] = [0x01, 20]
        for i in 0..<20 { value += [0x02, 0x02, 0x12] + Self.u16(i) + [0x06] + Self.u32(UInt32(1000 + i)) }
        let half = value.count / 2
        // get-response-with-datablock, invoke id 1: DataBlock-G { last-block, block-number, raw-data [0] }.
        let block1 = [0xC4, 0x02, 0xC1, 0x00] + Self.u32(1) + [0x00] + Self.length(half) + Array(value[..<half])
        let block2 = [0xC4, 0x02, 0xC1, 0x01] + Self.u32(2) + [0x00] + Self.length(value.count - half)
            + Array(value[half...])
        // get-request-next for block 1.
        let next = [0xC0, 0x02, 0xC1] + Self.u32(1)

        var records = Self.association()
        for b in Self.gbt(try Self.glo(0xCC, block1, title: Self.serverTitle, ic: 30000), ack: 0) {
            records.append(Self.wrapper(b, fromClient: false))
        }
        records.append(Self.wrapper(try Self.glo(0xC8, next, title: Self.clientTitle, ic: 4000), fromClient: true))
        for b in Self.gbt(try Self.glo(0xCC, block2, title: Self.serverTitle, ic: 30001), ack: 0) {
            records.append(Self.wrapper(b, fromClient: false))
        }

        let out = try Self.analyse(records, name: "gbt-glo-datablock")
        let apdus = out.filter { $0["kind"]?.string == "apdu" }
        // Two joined APDUs, each decrypted and each a block of the datablock transfer.
        let joined = apdus.filter { $0["transport"]?["gbt"] != nil }
        #expect(joined.count == 2)
        for j in joined {
            #expect(j["transport"]?["gbt"]?["blocks"]?.int == 2)
            #expect(j["apdu"]?["type"]?.string == "glo-get-response")
            #expect(j["security"]?["verdict"]?.string == "verified")
            #expect(j["block"]?["transfer"]?.string == "get#1")
        }
        let done = try #require(joined.last?["reassembled"])
        #expect(done["blocks"]?.int == 2)
        #expect(done["hex"]?.string == Hex.encode(value))
        #expect(done["data"] != nil && done["data"] != .null)
        let errors = out.filter { $0["kind"]?.string == "error" }
        #expect(errors.isEmpty)
    }

    /// Lost-block recovery through the analyzer: the server streams blocks 1-2 of a window of 3, the client
    /// acknowledges only block 1 (it lost 2), the server re-sends 2 and sends 3, the last. The acknowledgement's
    /// record says what it asks for, the re-sent block is not joined twice, and the APDU is joined once.
    @Test func gbtLostBlockRecoveryIsShownAndTheAPDUJoinedOnce() throws {
        let plain = [0xC4, 0x01, 0xC1, 0x00, 0x09, 0x0C] + Array("GRX-0000-001".utf8)
        let piece = (plain.count + 2) / 3
        let parts = stride(from: 0, to: plain.count, by: piece).map { Array(plain[$0..<min($0 + piece, plain.count)]) }
        func block(_ n: Int, last: Bool) -> [UInt8] {
            let data = parts[n - 1]
            return [0xE0, (last ? 0x80 : 0x40) | 3] + Self.u16(n) + Self.u16(0) + Self.length(data.count) + data
        }
        var records = Self.association()
        records.append(Self.wrapper(block(1, last: false), fromClient: false))
        records.append(Self.wrapper(block(2, last: false), fromClient: false))
        // The client's acknowledgement: block-number 1 of its own, block-number-ack 1, no data.
        records.append(Self.wrapper([0xE0, 0x03] + Self.u16(1) + Self.u16(1) + [0x00], fromClient: true))
        records.append(Self.wrapper(block(2, last: false), fromClient: false))
        records.append(Self.wrapper(block(3, last: true), fromClient: false))
        let out = try Self.analyse(records, name: "gbt-recovery")
        let apdus = out.filter { $0["kind"]?.string == "apdu" }
        let notes = apdus.map { ($0["notes"]?.array ?? []).compactMap(\.string) }
        #expect(notes.contains(["acknowledges block 1", "asks again for block(s) 2 (lost-block recovery)"])
            || notes.contains(["asks again for block(s) 2 (lost-block recovery)", "acknowledges block 1"]))
        #expect(notes.contains(["block 2 received again: not joined twice"]))
        let joined = apdus.filter { $0["transport"]?["gbt"] != nil }
        #expect(joined.count == 1)
        #expect(joined.first?["transport"]?["gbt"]?["blocks"]?.int == 3)
        #expect(joined.first?["apdu"]?["hex"]?.string == Hex.encode(plain))
        #expect(joined.first?["service"]?["type"]?.string == "get-response")
    }
}
