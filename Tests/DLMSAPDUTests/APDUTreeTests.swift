import DLMSWire
import Testing
@testable import DLMSAPDU

/// The tree contract: snake_case names from the ASN.1, the variant kept as a field, byte offsets within the APDU,
/// meanings where a name exists, and no `type`/`hex` (the renderer adds those).
@Suite struct APDUTreeTests {
    /// Flattens a tree into "path=offset" lines.
    private func layout(_ fields: [Node], _ prefix: String = "") -> [String] {
        fields.flatMap { n -> [String] in
            let path = prefix.isEmpty ? n.name : prefix + "." + n.name
            return ["\(path)@\(n.offset.map(String.init) ?? "-")"] + layout(n.children, path)
        }
    }

    @Test func getRequestNormalTreeHasNamedFieldsAtTheirOffsets() {
        // Gurux capture hdlc-auth-only, plaintext of the first glo-get-request: clock time.
        let d = decode("c001c100080000010000ff0200")
        #expect(layout(d.fields) == [
            "variant@1",
            "invoke_id_and_priority@2", "invoke_id_and_priority.invoke_id@2",
            "invoke_id_and_priority.service_class@2", "invoke_id_and_priority.priority@2",
            "cosem_attribute_descriptor@3", "cosem_attribute_descriptor.class_id@3",
            "cosem_attribute_descriptor.instance_id@5", "cosem_attribute_descriptor.attribute_id@11",
        ])
        #expect(stringValue(node(d.fields, "variant")) == "normal")
        #expect(stringValue(node(d.fields, "invoke_id_and_priority", "service_class")) == "confirmed")
    }

    @Test func getResponseWithDatablockTreeShowsTheBlock() {
        let d = decode("c402c10000000001000a0203090c07e80219ff00")
        #expect(layout(d.fields) == [
            "variant@1",
            "invoke_id_and_priority@2", "invoke_id_and_priority.invoke_id@2",
            "invoke_id_and_priority.service_class@2", "invoke_id_and_priority.priority@2",
            "datablock@3", "datablock.last_block@3", "datablock.block_number@4", "datablock.raw_data@9",
        ])
        #expect(d.facts.block?.kind == .getResponseDatablock)
        #expect(d.facts.block?.rawData?.count == 10)
    }

    @Test func noNodeIsNamedTypeOrHexAndAllNamesAreSnakeCase() throws {
        for (_, rec) in try truthRecords().prefix(300) {
            for key in ["apdu_hex", "plain_hex"] {
                guard let h = rec[key] as? String else { continue }
                var stack = decode(h).fields
                while let n = stack.popLast() {
                    #expect(n.name != "type" && n.name != "hex")
                    #expect(n.name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" },
                            "\(n.name)")
                    stack.append(contentsOf: n.children)
                }
            }
        }
    }

    @Test func dataValuesLandInTreeAndFacts() throws {
        // Gurux capture: get-response-normal carrying the clock's date-time octet-string.
        let d = decode("c401c100090c07e80301ff0c000000000000")
        let data = try #require(node(d.fields, "result", "data"))
        guard case .data(let v) = data.value else {
            Issue.record("data node holds \(data.value)")
            return
        }
        #expect((v as? DataValue) == d.facts.values.first)
        #expect(d.facts.values.first?.tag == 9)
    }
}
