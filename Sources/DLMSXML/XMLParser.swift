/// A small, non-validating XML 1.0 parser for standard-XML APDU documents (no Foundation: FoundationXML's
/// `XMLParser` exists on Linux but drags libxml2 in and reports lines only through a delegate).
///
/// It reads elements, attributes, character data, entity and character references, CDATA sections, comments,
/// processing instructions and a DOCTYPE without internal subset. Namespace prefixes are dropped (`x:get-request`
/// becomes `get-request`); `xmlns` attributes are dropped too. Depth and size are bounded.
public struct XMLParser {
    public static let maximumDepth = 256
    public static let maximumSize = 64 << 20

    private let bytes: [UInt8]
    private var i = 0
    private var line = 1

    private init(_ text: String) { bytes = Array(text.utf8) }

    /// Parses a document and returns its root element.
    public static func parse(_ text: String) throws(XMLEncodeError) -> XElement {
        guard text.utf8.count <= maximumSize else {
            throw XMLEncodeError(.limit, "document larger than \(maximumSize) bytes", line: 0, element: "")
        }
        var p = XMLParser(text)
        p.skipMisc()
        guard p.i < p.bytes.count, p.bytes[p.i] == UInt8(ascii: "<") else {
            throw p.error("no root element")
        }
        let root = try p.element(depth: 0)
        p.skipMisc()
        guard p.i >= p.bytes.count else { throw p.error("content after the root element") }
        return root
    }

    private func error(_ message: String, element: String = "") -> XMLEncodeError {
        XMLEncodeError(.syntax, message, line: line, element: element)
    }

    // MARK: - Scanning

    private func peek(_ d: Int = 0) -> UInt8? {
        let k = i + d
        return k < bytes.count ? bytes[k] : nil
    }

    private mutating func advance() {
        if i < bytes.count, bytes[i] == 0x0A { line += 1 }
        i += 1
    }

    private func starts(with s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        guard i + n <= bytes.count else { return false }
        return s.withUTF8Buffer { b in
            for k in 0..<n where bytes[i + k] != b[k] { return false }
            return true
        }
    }

    private mutating func skip(until end: StaticString, what: String) throws(XMLEncodeError) {
        while i < bytes.count {
            if starts(with: end) {
                for _ in 0..<end.utf8CodeUnitCount { advance() }
                return
            }
            advance()
        }
        throw error("unterminated \(what)")
    }

    private static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }

    private mutating func skipSpace() {
        while let c = peek(), Self.isSpace(c) { advance() }
    }

    /// Skips whitespace, comments, processing instructions and a DOCTYPE between top-level items.
    private mutating func skipMisc() {
        while true {
            skipSpace()
            if starts(with: "<?") {
                if (try? skip(until: "?>", what: "processing instruction")) == nil { i = bytes.count }
            } else if starts(with: "<!--") {
                if (try? skip(until: "-->", what: "comment")) == nil { i = bytes.count }
            } else if starts(with: "<!DOCTYPE") {
                if (try? skip(until: ">", what: "DOCTYPE")) == nil { i = bytes.count }
            } else {
                return
            }
        }
    }

    private static func isNameByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
            UInt8(ascii: ":"):
            return true
        default: return c >= 0x80
        }
    }

    private mutating func name() throws(XMLEncodeError) -> String {
        let start = i
        while let c = peek(), Self.isNameByte(c) { advance() }
        guard i > start else { throw error("expected a name") }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    private static func localName(_ q: String) -> String {
        guard let colon = q.utf8.lastIndex(of: UInt8(ascii: ":")) else { return q }
        return String(q[q.index(after: colon)...])
    }

    // MARK: - Elements

    private mutating func element(depth: Int) throws(XMLEncodeError) -> XElement {
        guard depth < Self.maximumDepth else {
            throw XMLEncodeError(.limit, "elements nested deeper than \(Self.maximumDepth)", line: line, element: "")
        }
        let startLine = line
        advance()  // "<"
        let qname = try name()
        var e = XElement(Self.localName(qname), line: startLine)
        // Attributes.
        while true {
            skipSpace()
            guard let c = peek() else { throw error("unterminated start tag", element: e.name) }
            if c == UInt8(ascii: "/") {
                advance()
                guard peek() == UInt8(ascii: ">") else { throw error("expected '>'", element: e.name) }
                advance()
                return e
            }
            if c == UInt8(ascii: ">") {
                advance()
                break
            }
            let an = try name()
            skipSpace()
            guard peek() == UInt8(ascii: "=") else { throw error("expected '=' after \(an)", element: e.name) }
            advance()
            skipSpace()
            guard let q = peek(), q == 0x22 || q == 0x27 else {
                throw error("expected a quoted value for \(an)", element: e.name)
            }
            advance()
            var raw: [UInt8] = []
            while let d = peek(), d != q {
                guard d != UInt8(ascii: "<") else { throw error("'<' in attribute value", element: e.name) }
                raw.append(d)
                advance()
            }
            guard peek() == q else { throw error("unterminated attribute value", element: e.name) }
            advance()
            if an == "xmlns" || an.hasPrefix("xmlns:") { continue }
            e.attributes.append(XAttribute(Self.localName(an), try unescape(raw, element: e.name)))
        }
        // Content.
        var text: [UInt8] = []
        while true {
            guard let c = peek() else { throw error("element is not closed", element: e.name) }
            // NUL is not an XML character (and marks CDATA ampersands internally).
            guard c != 0 else { throw error("NUL character in content", element: e.name) }
            if c != UInt8(ascii: "<") {
                text.append(c)
                advance()
                continue
            }
            if starts(with: "</") {
                advance()
                advance()
                let end = try name()
                skipSpace()
                guard peek() == UInt8(ascii: ">") else { throw error("expected '>'", element: end) }
                advance()
                guard end == qname else {
                    throw error("end tag </\(end)> does not match <\(qname)> of line \(startLine)", element: e.name)
                }
                e.text = try unescape(text, element: e.name)
                return e
            }
            if starts(with: "<!--") {
                try skip(until: "-->", what: "comment")
            } else if starts(with: "<![CDATA[") {
                for _ in 0..<9 { advance() }
                let s = i
                try skip(until: "]]>", what: "CDATA section")
                // CDATA text is literal: mark it so unescape leaves '&' alone.
                for b in bytes[s..<(i - 3)] { text.append(b == UInt8(ascii: "&") ? 0x00 : b) }
            } else if starts(with: "<?") {
                try skip(until: "?>", what: "processing instruction")
            } else {
                e.children.append(try element(depth: depth + 1))
            }
        }
    }

    /// Resolves the five predefined entities and character references; 0x00 stands for a literal '&' from CDATA.
    private func unescape(_ raw: [UInt8], element: String) throws(XMLEncodeError) -> String {
        guard raw.contains(UInt8(ascii: "&")) || raw.contains(0) else {
            return String(decoding: raw, as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var k = 0
        while k < raw.count {
            let c = raw[k]
            if c == 0 {
                out.append(UInt8(ascii: "&"))
                k += 1
                continue
            }
            guard c == UInt8(ascii: "&") else {
                out.append(c)
                k += 1
                continue
            }
            guard let semi = raw[k...].firstIndex(of: UInt8(ascii: ";")), semi - k <= 12 else {
                throw error("unterminated entity reference", element: element)
            }
            let ref = String(decoding: raw[(k + 1)..<semi], as: UTF8.self)
            switch ref {
            case "lt": out.append(UInt8(ascii: "<"))
            case "gt": out.append(UInt8(ascii: ">"))
            case "amp": out.append(UInt8(ascii: "&"))
            case "quot": out.append(0x22)
            case "apos": out.append(0x27)
            default:
                var v: UInt32?
                if ref.hasPrefix("#x") || ref.hasPrefix("#X") {
                    v = UInt32(ref.dropFirst(2), radix: 16)
                } else if ref.hasPrefix("#") {
                    v = UInt32(ref.dropFirst(), radix: 10)
                }
                guard let cp = v, let scalar = Unicode.Scalar(cp) else {
                    throw error("unknown entity &\(ref);", element: element)
                }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            }
            k = semi + 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
