import Testing
@testable import DLMSAnomaly

@Suite struct SeverityTests {
    @Test func severitiesAreOrdered() {
        #expect(Severity.info < .warning && Severity.warning < .error && Severity.error < .critical)
        #expect(Severity(name: "error") == .error)
        #expect(Severity(name: "loud") == nil)
    }
}
