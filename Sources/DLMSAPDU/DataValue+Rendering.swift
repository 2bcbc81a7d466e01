import DLMSWire

// Temporary minimal rendering (the integrator's placeholder); replaced by the COSEM helper's full version.
extension DataValue: DataRenderable {
    public func writeJSON(into j: inout JSONBuffer) {
        j.beginObject()
        j.field("type", typeName)
        switch self {
        case .array(let items), .structure(let items):
            j.key("items")
            j.beginArray()
            for i in items { i.writeJSON(into: &j) }
            j.endArray()
        case .octetString(let b), .dateTime(let b), .date(let b), .time(let b):
            j.key("value"); j.hex(b)
        case .visibleString(let b), .utf8String(let b):
            j.field("value", String(decoding: b, as: UTF8.self))
        case .boolean(let v): j.field("value", v)
        case .float32(let f): j.key("value"); j.double(Double(f))
        case .float64(let f): j.key("value"); j.double(f)
        case .long64Unsigned(let v): j.field("value", v)
        case .bitString(let b, _): j.key("value"); j.hex(b)
        case .compactArray(_, let items):
            j.key("items")
            j.beginArray()
            for i in items { i.writeJSON(into: &j) }
            j.endArray()
        case .nullData, .dontCare: break
        default:
            if let v = integerValue { j.field("value", v) }
        }
        j.endObject()
    }
    public var textSummary: String { typeName }
    public var textChildren: [any DataRenderable] {
        switch self {
        case .array(let items), .structure(let items): items
        default: []
        }
    }
}
