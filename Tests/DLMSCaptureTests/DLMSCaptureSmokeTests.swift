import Testing
@testable import DLMSCapture

@Suite struct DLMSCaptureSmokeTests {
    @Test func moduleLoads() { #expect(Bool(true)) }
}
