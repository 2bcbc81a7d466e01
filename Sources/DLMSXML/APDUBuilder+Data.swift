import DLMSWire

/// A-XDR `Data`, element → bytes; the inverse of `APDUWalker+Data.swift`.
extension APDUBuilder {
    static let maximumDataDepth = 64

    mutating func data(_ e: XElement, depth: Int) throws(XMLEncodeError) {
        guard depth < Self.maximumDataDepth else {
            throw XMLEncodeError(.limit, "data nested deeper than \(Self.maximumDataDepth)", at: e)
        }
        let name = XMLAliases.canonical(e.name)
        guard let tag = XMLNames.dataTypeTags[name] else {
            throw XMLEncodeError(.unexpectedElement, "<\(e.name)> is not a data type", at: e)
        }
        if tag != 1, tag != 2, tag != 19, let c = e.children.first {
            throw XMLEncodeError(.unexpectedElement, "<\(e.name)> cannot hold elements", at: c)
        }
        u8(tag)
        switch tag {
        case 0, 255: break
        case 1, 2:
            XMLValue.appendLength(e.children.count, to: &out)
            for c in e.children { try data(c, depth: depth + 1) }
        case 3: try boolean(e)
        case 4:
            let (n, b) = try XMLValue.bits(e)
            XMLValue.appendLength(n, to: &out)
            out += b
        case 5: XMLValue.append(try XMLValue.integer(e, Int32.self), to: &out)
        case 6: XMLValue.append(try XMLValue.integer(e, UInt32.self), to: &out)
        case 9: try octets(e)
        case 10, 12:
            let b: [UInt8] = e.attribute("encoding") == "hex" ? try XMLValue.hex(e) : Array(e.text.utf8)
            XMLValue.appendLength(b.count, to: &out)
            out += b
        case 13, 17, 22: u8(try XMLValue.uint8(e))
        case 15: XMLValue.append(try XMLValue.integer(e, Int8.self), to: &out)
        case 16: XMLValue.append(try XMLValue.integer(e, Int16.self), to: &out)
        case 18: XMLValue.append(try XMLValue.integer(e, UInt16.self), to: &out)
        case 20: XMLValue.append(try XMLValue.integer(e, Int64.self), to: &out)
        case 21: XMLValue.append(try XMLValue.integer(e, UInt64.self), to: &out)
        case 23: out += try XMLValue.hex(e, count: 4)
        case 24: out += try XMLValue.hex(e, count: 8)
        case 25: out += try XMLValue.hex(e, count: 12)
        case 26: out += try XMLValue.hex(e, count: 5)
        case 27: out += try XMLValue.hex(e, count: 4)
        case 19:
            var c = ChildCursor(e)
            let (_, description) = try choice(try c.next("contents-description"))
            try typeDescription(description, depth: depth + 1)
            try octets(try c.next("array-contents"))
            try c.finish()
        default:
            throw XMLEncodeError(.unexpectedElement, "<\(e.name)> is not a data type", at: e)
        }
    }

    mutating func typeDescription(_ e: XElement, depth: Int) throws(XMLEncodeError) {
        guard depth < Self.maximumDataDepth else {
            throw XMLEncodeError(.limit, "type description nested too deep", at: e)
        }
        guard let tag = XMLNames.dataTypeTags[XMLAliases.canonical(e.name)] else {
            throw XMLEncodeError(.unexpectedElement, "<\(e.name)> is not a data type", at: e)
        }
        u8(tag)
        switch tag {
        case 1:
            guard let q = e.attribute("quantity"), let n = UInt16(q.trimmingXMLSpace()) else {
                throw XMLEncodeError(.badValue, "an array description needs quantity=\"N\"", at: e)
            }
            u16(n)
            let (_, inner) = try choice(e)
            try typeDescription(inner, depth: depth + 1)
        case 2:
            XMLValue.appendLength(e.children.count, to: &out)
            for c in e.children { try typeDescription(c, depth: depth + 1) }
        default:
            break
        }
    }
}
