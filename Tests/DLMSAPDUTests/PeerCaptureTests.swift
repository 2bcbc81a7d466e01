import DLMSWire
import Foundation
import Testing
@testable import DLMSAPDU

/// The APDUs of the peer captures (`Captures/peers`: Gurux Director, Gurux client/server sessions, the EPRI stack),
/// extracted by `Vectors/extract-peers.py` into `Vectors/peer-apdus.txt`.
@Suite struct PeerCaptureTests {
    private func peerAPDUs() throws -> [(file: String, bytes: [UInt8])] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Vectors/peer-apdus.txt")
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 3 else { return nil }
            return (String(parts[0]), hex(String(parts[2])))
        }
    }

    @Test func everyPeerAPDUDecodesExceptTheKnownFaults() throws {
        let apdus = try peerAPDUs()
        #expect(apdus.count > 1000)
        var types: [String: Int] = [:]
        for (file, bytes) in apdus {
            let d = APDUDecoder.decode(bytes[...])
            types[d.type, default: 0] += 1
            for e in d.errors {
                // Known faults in the captured bytes themselves: Gurux's RLRE BER lengths (as in Captures/gurux),
                // and four frames of the Gurux Output-Ciphered*.pcap sessions whose first byte is 0x00 (no APDU tag;
                // the rest looks like a ciphered APDU: length, SC 0x20/0x30, IC).
                let known = (d.type == "rlre" && e.code == "ber.length-mismatch")
                    || (file.hasPrefix("Output-Ciphered") && bytes.first == 0 && e.code == "apdu.unknown-tag")
                #expect(known, "\(file) \(Hex.encode(bytes.prefix(16))): \(e)")
            }
        }
        #expect(types["unknown"] == 4)
        #expect(types["general-glo-ciphering", default: 0] > 200)
        #expect(types["access-request"] == 2 && types["access-response"] == 2)
        #expect(types["aarq"] == types["aare"])
    }

    @Test func eprisUncipheredSessionHasNoErrors() throws {
        // EPRI's DLMS stack is an implementation independent of Gurux.
        let epri = try peerAPDUs().filter { $0.file == "Output-EPRI.pcap" }
        #expect(epri.count > 40)
        for (_, bytes) in epri {
            let d = APDUDecoder.decode(bytes[...])
            #expect(d.errors.isEmpty, "\(Hex.encode(bytes.prefix(16))): \(d.errors)")
            #expect(d.type != "unknown")
        }
    }
}
