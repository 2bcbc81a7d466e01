import Testing
@testable import DLMSSecurity

@Suite struct DLMSSecuritySmokeTests {
    @Test func moduleLoads() { #expect(Bool(true)) }
}
