import Testing
@testable import DLMSAPDU

@Suite struct DLMSAPDUSmokeTests {
    @Test func moduleLoads() { #expect(Bool(true)) }
}
