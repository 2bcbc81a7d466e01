import Testing
@testable import DLMSXML

@Suite struct DLMSXMLSmokeTests {
    @Test func namespaceIsTheStandardOne() { #expect(DLMSXML.namespace == "http://www.dlms.com/COSEMpdu") }
}
