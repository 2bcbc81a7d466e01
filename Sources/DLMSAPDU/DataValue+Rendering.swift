import DLMSWire

// Minimal `DataRenderable` conformance so the APDU decoders can put values into the tree. The COSEM/rendering
// helper owns the real rendering and replaces this file at merge.
extension DataValue: DataRenderable {
    public func writeJSON(into out: inout JSONBuffer) {
        out.beginObject()
        out.field("type", typeName)
        switch self {
        case .array(let items), .structure(let items):
            out.key("items")
            out.beginArray()
            for item in items { item.writeJSON(into: &out) }
            out.endArray()
        case .compactArray(_, let items):
            out.key("items")
            out.beginArray()
            for item in items { item.writeJSON(into: &out) }
            out.endArray()
        case .boolean(let b): out.field("value", b)
        case .octetString(let b), .dateTime(let b), .date(let b), .time(let b):
            out.key("value"); out.hex(b)
        case .bitString(let b, _): out.key("value"); out.hex(b)
        case .visibleString(let b), .utf8String(let b):
            out.field("value", String(decoding: b, as: UTF8.self))
        case .float32(let f): out.key("value"); out.double(Double(f))
        case .float64(let d): out.key("value"); out.double(d)
        case .long64Unsigned(let v): out.field("value", v)
        default:
            if let v = integerValue { out.field("value", v) }
        }
        out.endObject()
    }

    public var textSummary: String {
        switch self {
        case .array(let items), .structure(let items): return "\(typeName) [\(items.count)]"
        case .compactArray(_, let items): return "\(typeName) [\(items.count)]"
        case .boolean(let b): return "\(typeName) \(b)"
        case .octetString(let b), .dateTime(let b), .date(let b), .time(let b), .bitString(let b, _):
            return "\(typeName) \(Hex.encode(b))"
        case .visibleString(let b), .utf8String(let b): return "\(typeName) \"\(String(decoding: b, as: UTF8.self))\""
        case .float32(let f): return "\(typeName) \(f)"
        case .float64(let d): return "\(typeName) \(d)"
        case .long64Unsigned(let v): return "\(typeName) \(v)"
        default:
            if let v = integerValue { return "\(typeName) \(v)" }
            return typeName
        }
    }

    public var textChildren: [any DataRenderable] {
        switch self {
        case .array(let items), .structure(let items), .compactArray(_, let items): return items
        default: return []
        }
    }
}
