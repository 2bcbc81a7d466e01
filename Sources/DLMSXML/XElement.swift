/// One element of an XML tree: the in-memory form of IEC 62056-5-3 standard XML that `XMLTranslator` produces and
/// `XMLEncoder` consumes.
///
/// Names are local names (the `x:` prefix of the COSEMpdu namespace is added when the tree is written and dropped
/// when a document is parsed). `text` is the element's own character data, unescaped; `line` is the 1-based line
/// of the start tag in the parsed document (0 for a tree built in memory), so encoder errors can point at it.
public struct XElement: Sendable, Hashable {
    public var name: String
    public var attributes: [XAttribute]
    public var text: String
    public var children: [XElement]
    public var line: Int

    public init(_ name: String, text: String = "", attributes: [XAttribute] = [], children: [XElement] = [],
                line: Int = 0) {
        self.name = name
        self.text = text
        self.attributes = attributes
        self.children = children
        self.line = line
    }

    /// The value of the attribute `name`, if present.
    public func attribute(_ name: String) -> String? {
        attributes.first { $0.name == name }?.value
    }

    /// The first child named `name`.
    public func child(_ name: String) -> XElement? {
        children.first { $0.name == name }
    }
}

/// An attribute of an `XElement` (name without prefix, value unescaped).
public struct XAttribute: Sendable, Hashable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

// MARK: - Writing

extension XElement {
    /// The element as indented XML text. The outermost element declares `xmlns:x` when `declareNamespace` is set,
    /// as Gurux's translator does (`<x:xDLMS-APDU xmlns:x="http://www.dlms.com/COSEMpdu">`).
    public func xmlString(indent: Int = 0, prefix: String = "x", declareNamespace: Bool = true) -> String {
        var out = ""
        write(into: &out, indent: indent, prefix: prefix, declareNamespace: declareNamespace)
        return out
    }

    /// Appends the element, one start tag per line, two spaces per level, each line ending in "\n".
    public func write(into out: inout String, indent: Int, prefix: String = "x", declareNamespace: Bool = false) {
        let qname = prefix.isEmpty ? name : prefix + ":" + name
        for _ in 0..<indent { out += "  " }
        out += "<"
        out += qname
        if declareNamespace {
            out += prefix.isEmpty ? " xmlns=\"" : " xmlns:\(prefix)=\""
            out += DLMSXML.namespace
            out += "\""
        }
        for a in attributes {
            out += " "
            out += a.name
            out += "=\""
            XMLEscape.append(a.value, to: &out, attribute: true)
            out += "\""
        }
        if children.isEmpty {
            if text.isEmpty {
                out += " />\n"
                return
            }
            out += ">"
            XMLEscape.append(text, to: &out, attribute: false)
            out += "</"
            out += qname
            out += ">\n"
            return
        }
        out += ">"
        if !text.isEmpty { XMLEscape.append(text, to: &out, attribute: false) }
        out += "\n"
        for c in children { c.write(into: &out, indent: indent + 1, prefix: prefix) }
        for _ in 0..<indent { out += "  " }
        out += "</"
        out += qname
        out += ">\n"
    }
}

/// Character escaping for XML 1.0 text and attribute values.
public enum XMLEscape {
    public static func append(_ s: String, to out: inout String, attribute: Bool) {
        // Fast path: most values (numbers, hex) need no escaping.
        // ('>' is legal in attribute values and stays readable there: direction="client->server".)
        if !s.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || ($0 == 0x3E && !attribute) || $0 == 0x22 || $0 < 0x20 }) {
            out += s
            return
        }
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += attribute ? ">" : "&gt;"
            case "\"": out += attribute ? "&quot;" : "\""
            case "\n", "\t", "\r":
                out += attribute || ch == "\r" ? "&#\(ch.value);" : String(ch)
            default: out.unicodeScalars.append(ch)
            }
        }
    }

    public static func escaped(_ s: String, attribute: Bool = false) -> String {
        var out = ""
        append(s, to: &out, attribute: attribute)
        return out
    }
}
