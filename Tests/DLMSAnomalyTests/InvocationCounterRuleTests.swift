import DLMSAPDU
import DLMSAnomaly
import DLMSSession
import Testing

@Suite struct InvocationCounterRuleTests {
    @Test func increasingCountersAreQuiet() {
        let f = run([Build.aarq(1), Build.aare(2)] + (3...20).map {
            Build.service($0, $0 % 2 == 1 ? "get-request" : "get-response", ic: UInt32(100 + $0))
        })
        #expect(f.isEmpty, "\(f.summary)")
    }

    @Test func reusedCounterIsAReplayNamingTheFirstFrame() throws {
        let f = run([Build.service(1, "get-request", ic: 10), Build.service(2, "get-request", ic: 11),
                     Build.service(3, "get-request", ic: 12), Build.service(4, "get-request", ic: 11)])
        let replay = try #require(f.with(code: "security.ic-replay").first)
        #expect(replay.frames == [4])
        #expect(replay.evidence("first_frame") == .int(2))
        #expect(replay.evidence("last_invocation_counter") == .int(12))
        #expect(replay.systemTitle == Build.client)
        #expect(f.count == 1)
    }

    @Test func counterBelowTheRememberedOnesIsARegression() throws {
        var options = AnomalyOptions()
        options.invocationCounterHistory = 2
        let f = run([Build.service(1, "get-request", ic: 10), Build.service(2, "get-request", ic: 11),
                     Build.service(3, "get-request", ic: 12), Build.service(4, "get-request", ic: 5)],
                    options: options)
        let reg = try #require(f.with(code: "security.ic-regression").first)
        #expect(reg.frames == [4])
        #expect(reg.severity == .error)
        #expect(reg.evidence("last_invocation_counter") == .int(12))
        #expect(reg.evidence("last_frames") == .frames([3]))
    }

    @Test func largeJumpIsReportedAboveTheThresholdOnly() throws {
        let f = run([Build.service(1, "get-request", ic: 10), Build.service(2, "get-request", ic: 100_010),
                     Build.service(3, "get-request", ic: 200_011)])
        let jumps = f.with(code: "security.ic-jump")
        #expect(jumps.map(\.frames) == [[3]])
        #expect(jumps.first?.evidence("jump") == .int(100_001))
        #expect(jumps.first?.severity == .warning)
    }

    @Test func sendersAreTrackedSeparately() {
        // The client's and the meter's counters are independent; the same value from both is no replay.
        let f = run([Build.service(1, "get-request", ic: 10), Build.service(2, "get-response", ic: 10),
                     Build.service(3, "get-request", ic: 11), Build.service(4, "get-response", ic: 11)])
        #expect(f.isEmpty, "\(f.summary)")
    }

    @Test func globalKeyCountersSpanAssociationsAndDedicatedOnesDoNot() {
        let f = run([
            Build.aarq(1), Build.aare(2),
            Build.service(3, "get-request", ic: 50), Build.service(4, "get-request", ic: 7, dedicated: true),
            Build.aarq(5), Build.aare(6),
            // A new association: its dedicated key is new, so counter 7 again is fine ...
            Build.service(7, "get-request", ic: 7, dedicated: true),
            // ... but the global key's counter 50 was already used in the first association.
            Build.service(8, "get-request", ic: 50),
        ])
        #expect(f.map { "\($0.code)@\($0.frames)" } == ["security.ic-replay@[8]"])
    }

    @Test func failedTagsAreNotTrackedAndAreReportedAsSuch() {
        let f = run([Build.service(1, "get-request", ic: 10),
                     Build.service(2, "get-request", ic: 10, verdict: "authentication-failed")])
        #expect(f.map(\.code) == ["security.auth-failed"])
    }

    @Test func successfulKeyTransferRestartsTheCounters() {
        let wrapped = DataValue.array([.structure([.enumValue(0), .octetString([UInt8](repeating: 0xAB, count: 24))])])
        let f = run([
            Build.aarq(1), Build.aare(2),
            Build.service(3, "get-response", ic: 5000),
            Build.service(4, "action-request", ic: 100, objects: [Build.keyTransfer], values: [wrapped],
                          invokeID: 3),
            Build.service(5, "action-response", ic: 5001, invokeID: 3, result: "success"),
            // The new key starts its counters again.
            Build.service(6, "get-request", ic: 1), Build.service(7, "get-response", ic: 1),
        ])
        #expect(f.map { "\($0.code)@\($0.frames)" } == ["security.key-change@[4]"], "\(f.summary)")
    }
}

@Suite struct InvocationCounterBurstTests {
    /// The same traffic twice (two copies of one capture): the first replays are listed, the rest summed up.
    @Test func aLongBurstOfReplaysIsSummedUp() throws {
        let once = (1...30).map { Build.service($0, "get-request", ic: UInt32(100 + $0)) }
        let again = (31...60).map { Build.service($0, "get-request", ic: UInt32(70 + $0)) }
        let f = run(once + again + [Build.service(61, "get-request", ic: 500)])
        let replays = f.with(code: "security.ic-replay")
        #expect(replays.count == 11, "\(replays.summary)")
        let sum = try #require(replays.last)
        #expect(sum.evidence("not_listed") == .int(20))
        #expect(sum.evidence("frames_from_to") == .frames([41, 60]))
    }

    @Test func aBurstStillOpenAtTheEndIsSummedUpByFinish() {
        let once = (1...20).map { Build.service($0, "get-request", ic: UInt32(100 + $0)) }
        let again = (21...40).map { Build.service($0, "get-request", ic: UInt32(80 + $0)) }
        let f = run(once + again)
        #expect(f.with(code: "security.ic-replay").count == 11)
        #expect(f.last?.evidence("not_listed") == .int(10))
    }
}

@Suite struct SharedSystemTitleTests {
    @Test func bothPartiesSendingWithOneSystemTitleIsReportedOnceAndTrackedApart() throws {
        let st = Build.meter
        let f = run([Build.service(1, "get-request", ic: 3, sender: st),
                     Build.service(2, "get-response", ic: 160, sender: st),
                     Build.service(3, "get-request", ic: 4, sender: st),
                     Build.service(4, "get-response", ic: 161, sender: st)])
        #expect(f.map { "\($0.code)@\($0.frames)" } == ["security.shared-system-title@[2]"], "\(f.summary)")
        let shared = try #require(f.first)
        #expect(shared.evidence("other_frames") == .frames([1]))
        #expect(shared.evidence("other_direction") == .string("client->server"))
    }
}

/// Public captures of other implementations (Captures/peers, see SOURCE.md).
@Suite struct PeerCaptureAnomalyTests {
    /// Gurux client and server configured with the same system title 4142434445464748 and one key for both: their
    /// counters (3, 162, 4, 163, ...) are two series, not one regressing series, and the shared IV space is reported.
    @Test func simpleKeyCaptureSharesOneSystemTitle() throws {
        let tap = try analyse([Fixtures.capture("peers/Output-Ciphered-Simple-Key.pcap")],
                              keyring: [Fixtures.keyring("peers-simple-key.json")])
        #expect(tap.findings.with(code: "security.ic-regression").isEmpty, "\(tap.findings.summary)")
        let shared = tap.findings.with(code: "security.shared-system-title")
        #expect(shared.count == 1)
        #expect(shared.first?.systemTitle == Array("ABCDEFGH".utf8))
    }

    @Test func hdlcOverUDPSampleSendsItsLLSPasswordInClear() throws {
        let tap = try analyse([Fixtures.capture("peers/hdlc-over-udp-sample.pcap")])
        #expect(!tap.findings.with(code: "security.cleartext-password").isEmpty)
        let text = tap.findings.map { $0.jsonLine }.joined()
        #expect(!text.contains("01234567"))
    }
}
