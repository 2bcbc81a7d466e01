/// Why standard XML could not be turned into APDU bytes: a stable dotted `code`, a human `message`, the 1-based
/// `line` of the offending element (0 when unknown) and its name. Equal by code, line and element.
public struct XMLEncodeError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The text is not well-formed XML.
        case syntax = "xml.syntax"
        /// An element that is not allowed at this place, or a root that is neither xDLMS-APDU nor aCSE-APDU.
        case unexpectedElement = "xml.unexpected-element"
        /// A required child element is missing.
        case missingElement = "xml.missing-element"
        /// The element's text is not a valid value for it (a number out of range, bad hex, an unknown name).
        case badValue = "xml.bad-value"
        /// Nesting deeper than `XMLParser.maximumDepth`, or a document over `XMLParser.maximumSize`.
        case limit = "xml.limit"
    }

    public var code: Code
    public var message: String
    public var line: Int
    public var element: String

    public init(_ code: Code, _ message: String, line: Int, element: String) {
        self.code = code
        self.message = message
        self.line = line
        self.element = element
    }

    init(_ code: Code, _ message: String, at e: XElement) {
        self.init(code, message, line: e.line, element: e.name)
    }

    public var description: String {
        let place = element.isEmpty ? "line \(line)" : "line \(line), <\(element)>"
        return "\(place): \(message) [\(code.rawValue)]"
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.code == b.code && a.line == b.line && a.element == b.element
    }

    public func hash(into h: inout Hasher) {
        h.combine(code)
        h.combine(line)
        h.combine(element)
    }
}
