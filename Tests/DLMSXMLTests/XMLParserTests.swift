import Testing
@testable import DLMSXML

@Suite struct XMLParserTests {
    @Test func prefixesAndNamespaceDeclarationsAreDropped() throws {
        let e = try XMLParser.parse("<x:a xmlns:x=\"urn:x\" y:b=\"1\"><x:c>t</x:c></x:a>")
        #expect(e.name == "a")
        #expect(e.attributes == [XAttribute("b", "1")])
        #expect(e.children.first?.name == "c")
        #expect(e.children.first?.text == "t")
    }

    @Test func entitiesCharacterReferencesAndCDATAAreResolved() throws {
        let e = try XMLParser.parse("<a q='&quot;&amp;'>&lt;&gt;&amp;&apos;&#65;&#x42;<![CDATA[<&>]]></a>")
        #expect(e.text == "<>&'AB<&>")
        #expect(e.attribute("q") == "\"&")
    }

    @Test func declarationCommentsAndProcessingInstructionsAreSkipped() throws {
        let e = try XMLParser.parse("<?xml version=\"1.0\"?>\r\n<!-- c -->\n<a><!-- inner --><b/><?pi x?></a>\n<!-- end -->")
        #expect(e.name == "a")
        #expect(e.children.map(\.name) == ["b"])
    }

    @Test func lineNumbersAreRecordedPerElement() throws {
        let e = try XMLParser.parse("<a>\n  <b>\n    <c/>\n  </b>\n</a>")
        #expect(e.line == 1)
        #expect(e.children.first?.line == 2)
        #expect(e.children.first?.children.first?.line == 3)
    }

    @Test(arguments: ["", "<a>", "<a></b>", "<a><b></a>", "<a x=1/>", "<a>&bogus;</a>", "<a/><b/>", "text",
                      "<a><!-- never closed", "<a><![CDATA[x</a>", "<a x=\"1\" x2=\"<\"/>", "<a>&#xFFFFFFFF;</a>", "<a>\u{0}</a>"])
    func malformedDocumentsAreSyntaxErrors(text: String) {
        let e = #expect(throws: XMLEncodeError.self) { try XMLParser.parse(text) }
        #expect(e?.code == .syntax)
    }

    @Test func nestingIsBounded() {
        let deep = String(repeating: "<a>", count: 1000) + String(repeating: "</a>", count: 1000)
        let e = #expect(throws: XMLEncodeError.self) { try XMLParser.parse(deep) }
        #expect(e?.code == .limit)
    }

    @Test func writtenTextParsesBackUnchanged() throws {
        let original = XElement("r", attributes: [XAttribute("v", "x\"<&\n")],
                                children: [XElement("s", text: "a<b>&\"c' é ü")])
        let back = try XMLParser.parse(original.xmlString(prefix: "x"))
        #expect(back.attribute("v") == "x\"<&\n")
        #expect(back.children.first?.text == "a<b>&\"c' é ü")
    }
}
