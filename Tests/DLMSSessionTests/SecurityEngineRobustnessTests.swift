import DLMSAPDU
import DLMSSecurity
import DLMSWire
import Testing
@testable import DLMSSession

/// Bad input is normal input: mutated and truncated protected APDUs (from Vectors/vectors.json) and HLS/key_transfer
/// services with values of the wrong shape go through the engine without crashing, and nothing mutated is called
/// verified unless it still is the original.
@Suite struct SecurityEngineRobustnessTests {
    /// SplitMix64: a seeded generator so failures reproduce.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func mutatedVectorsNeverCrashAndNeverVerifyWrongly() throws {
        let keyring = try ProtectionVector.keyring()
        let engine = SecurityEngine(keyring: keyring)
        var rng = SplitMix64(state: 0x5EC2)
        for v in ProtectionVector.all {
            for _ in 0..<60 {
                var b = v.apdu
                switch Int.random(in: 0..<3, using: &rng) {
                case 0:
                    let i = Int.random(in: 1..<b.count, using: &rng)
                    b[i] ^= UInt8.random(in: 1...255, using: &rng)
                case 1:
                    b = Array(b.prefix(Int.random(in: 1..<b.count, using: &rng)))
                default:
                    b.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 1..<b.count, using: &rng))
                }
                let decoded = APDUDecoder.decode(b[...])
                guard let p = decoded.facts.protection else { continue }
                var association = AssociationSecurity()
                let r = engine.unprotect(p, direction: .clientToServer, association: &association)
                if r.verdict == "verified" {
                    // Only a change outside what is authenticated (a general header field under the Gurux AAD, the
                    // date-time, ...) may still verify, and then the plaintext is the original one.
                    #expect(r.plain == v.plain, "\(v.name): \(Hex.encode(b))")
                }
            }
        }
    }

    @Test func servicesOfTheWrongShapeAreReportedNotTrusted() {
        let engine = SecurityEngine(keyring: Keyring())
        var a = AssociationSecurity()
        a.clientSystemTitle = [1, 2, 3, 4, 5, 6, 7, 8]
        a.serverSystemTitle = [8, 7, 6, 5, 4, 3, 2, 1]
        a.mechanism = 5
        a.clientChallenge = [1, 2, 3]
        a.serverChallenge = []
        let shapes: [[DataValue]] = [[], [.nullData], [.unsigned(1)], [.octetString([])], [.array([.unsigned(1)])],
                                     [.array([.structure([.enumValue(9), .octetString([1])])])],
                                     [.array([.structure([.enumValue(0), .octetString(Array(repeating: 0, count: 24))])])]]
        for classID: UInt16 in [15, 64] {
            for method: Int8 in [1, 2, 3] {
                for values in shapes {
                    var s = ServiceFacts(type: "action-request")
                    s.objects = [ObjectRef(classID: classID, obis: [0, 0, 40, 0, 0, 255], methodID: method)]
                    s.values = values
                    s.invokeID = 1
                    let o = engine.observe(apduType: "action-request", service: s, direction: .clientToServer,
                                           association: &a)
                    #expect(o.hls?.result != "verified")
                    var resp = ServiceFacts(type: "action-response")
                    resp.values = values
                    resp.invokeID = 1
                    let o2 = engine.observe(apduType: "action-response", service: resp, direction: .serverToClient,
                                            association: &a)
                    #expect(o2.hls?.result != "verified")
                }
            }
        }
        #expect(a.transferredKeys.isEmpty)
    }
}
