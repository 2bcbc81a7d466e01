/// An annotated, ordered decode tree: what every decoder hands to the renderers. One tree serves the text tree
/// (name, meaning, raw value, indentation) and JSON (snake_case keys), so decoders describe a field once.
///
/// JSON mapping (DLMSRender/JSONLines): a node with no children and no meaning renders as its scalar value; any
/// other node renders as an object `{"value": v?, "meaning": m?, <children by name>...}`; a node with
/// `isList == true` renders as a JSON array of its children (their names are ignored there). A `.data` value
/// renders with the A-XDR data contract (`{"type", "value"}` / `{"type", "items"}`).
public struct Node: Sendable {
    public enum Value: Sendable {
        case none
        case null
        case bool(Bool)
        case int(Int64)
        case uint(UInt64)
        case double(Double)
        case string(String)
        /// Raw bytes, shown as hex.
        case bytes(ArraySlice<UInt8>)
        /// An A-XDR data value (DLMSAPDU's `DataValue`, type-erased here to keep DLMSWire below DLMSAPDU).
        case data(any DataRenderable)
    }

    /// snake_case key, e.g. `invoke_id_and_priority`.
    public var name: String
    public var value: Value
    /// Human reading of the value: `"Clock"`, `"LN referencing, with ciphering"`, `"success"`.
    public var meaning: String?
    public var children: [Node]
    /// Children are list items (JSON array).
    public var isList: Bool
    /// Byte offset of the field within the unit (APDU or frame) it was decoded from.
    public var offset: Int?

    @inlinable public init(_ name: String, _ value: Value = .none, meaning: String? = nil, offset: Int? = nil,
                           children: [Node] = [], isList: Bool = false) {
        self.name = name
        self.value = value
        self.meaning = meaning
        self.children = children
        self.isList = isList
        self.offset = offset
    }

    @inlinable public static func list(_ name: String, _ items: [Node], offset: Int? = nil) -> Node {
        Node(name, offset: offset, children: items, isList: true)
    }

    @inlinable public static func group(_ name: String, _ children: [Node], meaning: String? = nil,
                                        offset: Int? = nil) -> Node {
        Node(name, meaning: meaning, offset: offset, children: children)
    }

    /// The first child with that name.
    public subscript(child name: String) -> Node? {
        children.first { $0.name == name }
    }
}

/// What a renderer needs of an A-XDR value: the contract's JSON and a one-line text form. Implemented by
/// DLMSAPDU's `DataValue`.
public protocol DataRenderable: Sendable {
    /// Writes the value as JSON (`{"type": ..., "value": ...}`) to `out`.
    func writeJSON(into out: inout JSONBuffer)
    /// A compact one-line human form (`double-long-unsigned 123456`, `date-time 2024-03-01T12:00:00+01:00`).
    var textSummary: String { get }
    /// Children for a text tree (array/structure items), empty for scalars.
    var textChildren: [any DataRenderable] { get }
}
