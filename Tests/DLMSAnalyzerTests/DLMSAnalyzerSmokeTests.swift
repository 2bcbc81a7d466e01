import Testing
@testable import DLMSAnalyzer

@Suite struct DLMSAnalyzerSmokeTests {
    @Test func moduleLoads() { #expect(Bool(true)) }
}
