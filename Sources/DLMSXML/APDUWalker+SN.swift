import DLMSWire

/// The short-name services (IEC 62056-5-3 §8, "SN APDUs"): ReadRequest/Response, WriteRequest/Response,
/// UnconfirmedWriteRequest, InformationReportRequest. Element names as Gurux writes them where Gurux's output is
/// consistent (`Variable-Access-Specification`, `CHOICE`, `list-of-data`/`Data`), the ASN.1 names otherwise.
///
/// ```
/// Variable-Access-Specification ::= CHOICE { variable-name [2] ObjectName (Unsigned16),
///   parameterized-access [4] { variable-name, selector Unsigned8, parameter Data },
///   block-number-access [5] { block-number Unsigned16 },
///   read-data-block-access [6] { last-block BOOLEAN, block-number Unsigned16, raw-data OCTET STRING },
///   write-data-block-access [7] { last-block BOOLEAN, block-number Unsigned16 } }
/// Read-Response ::= SEQUENCE OF CHOICE { data [0] Data, data-access-error [1] Data-Access-Result,
///   data-block-result [2] { last-block, block-number, raw-data }, block-number [3] Unsigned16 }
/// ```
extension APDUWalker {
    mutating func variableAccessSpecification() throws(Malformed) -> XElement {
        let choice = try u8("Variable-Access-Specification choice")
        let inner: XElement
        switch choice {
        case 2:
            inner = Self.leaf("variable-name", String(try u16("variable-name")))
        case 4:
            let name = try u16("variable-name")
            let selector = try u8("selector")
            inner = XElement("parameterized-access", children: [
                Self.leaf("variable-name", String(name)), Self.leaf("selector", String(selector)),
                XElement("parameter", children: [try data(depth: 0)]),
            ])
        case 5:
            inner = XElement("block-number-access", children: [
                Self.leaf("block-number", String(try u16("block-number"))),
            ])
        case 6:
            let last = try u8("last-block")
            let number = try u16("block-number")
            inner = XElement("read-data-block-access", children: [
                Self.leaf("last-block", String(last)), Self.leaf("block-number", String(number)),
                Self.leaf("raw-data", try octets("raw-data")),
            ])
        case 7:
            let last = try u8("last-block")
            let number = try u16("block-number")
            inner = XElement("write-data-block-access", children: [
                Self.leaf("last-block", String(last)), Self.leaf("block-number", String(number)),
            ])
        default:
            throw fail("Variable-Access-Specification choice \(choice)")
        }
        return XElement("Variable-Access-Specification", children: [inner])
    }

    mutating func variableAccessList(name: String?) throws(Malformed) -> [XElement] {
        let n = try count("variable-access-specification", minimumItemSize: 2)
        var items: [XElement] = []
        for _ in 0..<n { items.append(try variableAccessSpecification()) }
        if let name { return [XElement(name, children: items)] }
        return items
    }

    mutating func listOfDataItems() throws(Malformed) -> XElement {
        let n = try count("list-of-data")
        var list = XElement("list-of-data")
        for _ in 0..<n { list.children.append(XElement("Data", children: [try data(depth: 0)])) }
        return list
    }

    mutating func readRequest() throws(Malformed) -> XElement {
        XElement("readRequest", children: try variableAccessList(name: nil))
    }

    mutating func readResponse() throws(Malformed) -> XElement {
        let n = try count("readResponse", minimumItemSize: 2)
        var e = XElement("readResponse")
        for _ in 0..<n {
            let inner: XElement
            switch try u8("Read-Response choice") {
            case 0: inner = XElement("data", children: [try data(depth: 0)])
            case 1: inner = try enumLeaf("data-access-error", XMLNames.dataAccessResult)
            case 2:
                let last = try u8("last-block")
                let number = try u16("block-number")
                inner = XElement("data-block-result", children: [
                    Self.leaf("last-block", String(last)), Self.leaf("block-number", String(number)),
                    Self.leaf("raw-data", try octets("raw-data")),
                ])
            case 3: inner = Self.leaf("block-number", String(try u16("block-number")))
            case let c: throw fail("Read-Response choice \(c)")
            }
            e.children.append(XElement("CHOICE", children: [inner]))
        }
        return e
    }

    mutating func writeRequest(name: String) throws(Malformed) -> XElement {
        var e = XElement(name, children: try variableAccessList(name: "variable-access-specification"))
        e.children.append(try listOfDataItems())
        return e
    }

    mutating func writeResponse() throws(Malformed) -> XElement {
        let n = try count("writeResponse")
        var e = XElement("writeResponse")
        for _ in 0..<n {
            switch try u8("Write-Response choice") {
            case 0: e.children.append(XElement("success"))
            case 1: e.children.append(try enumLeaf("data-access-result", XMLNames.dataAccessResult))
            case let c: throw fail("Write-Response choice \(c)")
            }
        }
        return e
    }

    /// InformationReportRequest ::= SEQUENCE { current-time GeneralizedTime OPTIONAL (read as an octet string),
    /// variable-access-specification, list-of-data }.
    mutating func informationReport() throws(Malformed) -> XElement {
        var e = XElement("informationReportRequest")
        switch try u8("current-time flag") {
        case 0: break
        case 1: e.children.append(Self.leaf("current-time", try octets("current-time")))
        case let f: throw fail("current-time flag \(f)")
        }
        e.children += try variableAccessList(name: "variable-access-specification")
        e.children.append(try listOfDataItems())
        return e
    }
}
