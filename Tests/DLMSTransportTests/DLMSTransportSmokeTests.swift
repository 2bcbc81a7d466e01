import Testing
@testable import DLMSTransport

@Suite struct DLMSTransportSmokeTests {
    @Test func moduleLoads() { #expect(Bool(true)) }
}
