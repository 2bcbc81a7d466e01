import DLMSWire

/// The SN services, element → bytes.
extension APDUBuilder {
    mutating func variableAccessSpecification(_ e: XElement) throws(XMLEncodeError) {
        guard XMLAliases.canonical(e.name) == "Variable-Access-Specification" else {
            throw XMLEncodeError(.unexpectedElement, "expected <Variable-Access-Specification>", at: e)
        }
        let (name, body) = try choice(e)
        var c = ChildCursor(body)
        switch name {
        case "variable-name":
            u8(2)
            u16(try Self.objectName(body))
        case "parameterized-access":
            u8(4)
            u16(try Self.objectName(try c.next("variable-name")))
            try leafU8(&c, "selector")
            let (_, v) = try choice(try c.next("parameter"))
            try data(v, depth: 0)
        case "block-number-access":
            u8(5)
            u16(try XMLValue.integer(try c.next("block-number"), UInt16.self))
        case "read-data-block-access":
            u8(6)
            try leafU8(&c, "last-block")
            u16(try XMLValue.integer(try c.next("block-number"), UInt16.self))
            try octets(try c.next("raw-data"))
        case "write-data-block-access":
            u8(7)
            try leafU8(&c, "last-block")
            u16(try XMLValue.integer(try c.next("block-number"), UInt16.self))
        default:
            throw XMLEncodeError(.unexpectedElement, "not a Variable-Access-Specification choice", at: body)
        }
        try c.finish()
    }

    /// ObjectName, unsigned; Gurux's signed spelling (-1528 for 0xFA08) is accepted too.
    static func objectName(_ e: XElement) throws(XMLEncodeError) -> UInt16 {
        if let v = Int16(XMLValue.text(e)), v < 0 { return UInt16(bitPattern: v) }
        return try XMLValue.integer(e, UInt16.self)
    }

    mutating func variableAccessList(_ items: [XElement]) throws(XMLEncodeError) {
        XMLValue.appendLength(items.count, to: &out)
        for i in items { try variableAccessSpecification(i) }
    }

    mutating func listOfDataItems(_ e: XElement) throws(XMLEncodeError) {
        XMLValue.appendLength(e.children.count, to: &out)
        for d in e.children {
            guard d.name == "Data" else { throw XMLEncodeError(.unexpectedElement, "expected <Data>", at: d) }
            let (_, v) = try choice(d)
            try data(v, depth: 0)
        }
    }

    mutating func readRequest(_ e: XElement) throws(XMLEncodeError) { try variableAccessList(e.children) }

    mutating func readResponse(_ e: XElement) throws(XMLEncodeError) {
        XMLValue.appendLength(e.children.count, to: &out)
        for item in e.children {
            guard item.name == "CHOICE" else { throw XMLEncodeError(.unexpectedElement, "expected <CHOICE>", at: item) }
            let (name, body) = try choice(item)
            var c = ChildCursor(body)
            switch name {
            case "data":
                u8(0)
                let (_, v) = try choice(body)
                try data(v, depth: 0)
            case "data-access-error":
                u8(1)
                try named(body, XMLNames.dataAccessResult)
            case "data-block-result":
                u8(2)
                try leafU8(&c, "last-block")
                u16(try XMLValue.integer(try c.next("block-number"), UInt16.self))
                try octets(try c.next("raw-data"))
                try c.finish()
            case "block-number":
                u8(3)
                u16(try XMLValue.integer(body, UInt16.self))
            default:
                throw XMLEncodeError(.unexpectedElement, "not a Read-Response choice", at: body)
            }
        }
    }

    mutating func writeRequest(_ e: XElement) throws(XMLEncodeError) {
        var c = ChildCursor(e)
        try variableAccessList(try c.next("variable-access-specification").children)
        try listOfDataItems(try c.next("list-of-data"))
        try c.finish()
    }

    mutating func writeResponse(_ e: XElement) throws(XMLEncodeError) {
        XMLValue.appendLength(e.children.count, to: &out)
        for r in e.children {
            switch r.name {
            case "success": u8(0)
            case "data-access-result", "data-access-error":
                u8(1)
                try named(r, XMLNames.dataAccessResult)
            default: throw XMLEncodeError(.unexpectedElement, "expected <success> or <data-access-result>", at: r)
            }
        }
    }

    mutating func informationReport(_ e: XElement) throws(XMLEncodeError) {
        var c = ChildCursor(e)
        if let t = c.optional("current-time") {
            u8(1)
            try octets(t)
        } else {
            u8(0)
        }
        try variableAccessList(try c.next("variable-access-specification").children)
        try listOfDataItems(try c.next("list-of-data"))
        try c.finish()
    }
}
