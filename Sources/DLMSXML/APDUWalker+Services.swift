import DLMSWire

/// The LN services (IEC 62056-5-3 §8, "xDLMS APDUs"): GET, SET, ACTION, EVENT-NOTIFICATION, DATA-NOTIFICATION,
/// ACCESS, the exception response and general-block-transfer. Element names as Gurux's STANDARD_XML writes them.
extension APDUWalker {
    // MARK: - Common parts

    mutating func invokeID() throws(Malformed) -> XElement {
        Self.leaf("invoke-id-and-priority", String(try u8("invoke-id-and-priority")))
    }

    mutating func longInvokeID() throws(Malformed) -> XElement {
        Self.leaf("long-invoke-id-and-priority", String(try u32("long-invoke-id-and-priority")))
    }

    /// Cosem-Attribute-Descriptor ::= SEQUENCE { class-id Unsigned16, instance-id OCTET STRING (SIZE(6)),
    /// attribute-id Integer8 }; the method descriptor has `method-id` instead.
    mutating func descriptor(method: Bool = false) throws(Malformed) -> XElement {
        let classID = try u16("class-id")
        let instance = try take(6, "instance-id")
        let member = Int8(bitPattern: try u8(method ? "method-id" : "attribute-id"))
        return XElement(method ? "cosem-method-descriptor" : "cosem-attribute-descriptor", children: [
            Self.leaf("class-id", String(classID)),
            Self.leaf("instance-id", Hex.encode(instance, uppercase: true)),
            Self.leaf(method ? "method-id" : "attribute-id", String(member)),
        ])
    }

    /// Selective-Access-Descriptor OPTIONAL ::= SEQUENCE { access-selector Unsigned8, access-parameters Data }.
    mutating func accessSelection(into e: inout XElement) throws(Malformed) {
        let present = try u8("access-selection flag")
        guard present != 0 else { return }
        guard present == 1 else { throw fail("access-selection flag \(present) is not 0 or 1") }
        let selector = try u8("access-selector")
        let params = try data(depth: 0)
        e.children.append(XElement("access-selection", children: [
            Self.leaf("access-selector", String(selector)),
            XElement("access-parameters", children: [params]),
        ]))
    }

    /// Cosem-Attribute-Descriptor-With-Selection list (SEQUENCE OF).
    mutating func descriptorList() throws(Malformed) -> XElement {
        let n = try length("attribute-descriptor-list", bounded: false)
        guard n <= r.remaining / 9 else { throw fail("\(n) descriptors cannot fit in \(r.remaining) bytes") }
        var list = XElement("attribute-descriptor-list")
        for _ in 0..<n {
            var item = XElement("Cosem-Attribute-Descriptor-With-Selection", children: [try descriptor()])
            try accessSelection(into: &item)
            list.children.append(item)
        }
        return list
    }

    /// DataBlock-G / DataBlock-SA / DataBlock-SA: last-block BOOLEAN, block-number Unsigned32, raw-data.
    mutating func dataBlock(name: String = "datablock") throws(Malformed) -> XElement {
        let last = try u8("last-block")
        let number = try u32("block-number")
        return XElement(name, children: [
            Self.leaf("last-block", String(last)),
            Self.leaf("block-number", String(number)),
            Self.leaf("raw-data", try octets("raw-data")),
        ])
    }

    /// Get-Data-Result ::= CHOICE { data [0] Data, data-access-result [1] IMPLICIT Data-Access-Result }.
    mutating func getDataResult() throws(Malformed) -> XElement {
        switch try u8("Get-Data-Result choice") {
        case 0: return XElement("data", children: [try data(depth: 0)])
        case 1: return try enumLeaf("data-access-result", XMLNames.dataAccessResult)
        case let c: throw fail("Get-Data-Result choice \(c)")
        }
    }

    mutating func enumLeaf(_ name: String, _ table: (UInt8) -> String?) throws(Malformed) -> XElement {
        let v = try u8(name)
        return Self.leaf(name, table(v) ?? String(v))
    }

    mutating func count(_ what: String, minimumItemSize: Int = 1) throws(Malformed) -> Int {
        let n = try length(what, bounded: false)
        guard n <= r.remaining / max(1, minimumItemSize) else {
            throw fail("\(what): \(n) items cannot fit in \(r.remaining) bytes")
        }
        return n
    }

    // MARK: - GET

    mutating func getRequest() throws(Malformed) -> XElement {
        switch try u8("get-request choice") {
        case 1:
            var e = XElement("get-request-normal", children: [try invokeID(), try descriptor()])
            try accessSelection(into: &e)
            return e
        case 2:
            return XElement("get-request-next", children: [
                try invokeID(), Self.leaf("block-number", String(try u32("block-number"))),
            ])
        case 3:
            return XElement("get-request-with-list", children: [try invokeID(), try descriptorList()])
        case let c: throw fail("get-request choice \(c)")
        }
    }

    mutating func getResponse() throws(Malformed) -> XElement {
        switch try u8("get-response choice") {
        case 1:
            return XElement("get-response-normal", children: [
                try invokeID(), XElement("result", children: [try getDataResult()]),
            ])
        case 2:
            // Gurux: <get-response-with-data-block><result><last-block/><block-number/><result><raw-data/>…
            let id = try invokeID()
            let last = try u8("last-block")
            let number = try u32("block-number")
            let inner: XElement
            switch try u8("DataBlock-G result choice") {
            case 0: inner = Self.leaf("raw-data", try octets("raw-data"))
            case 1: inner = try enumLeaf("data-access-result", XMLNames.dataAccessResult)
            case let c: throw fail("DataBlock-G result choice \(c)")
            }
            return XElement("get-response-with-data-block", children: [
                id,
                XElement("result", children: [
                    Self.leaf("last-block", String(last)), Self.leaf("block-number", String(number)),
                    XElement("result", children: [inner]),
                ]),
            ])
        case 3:
            let id = try invokeID()
            let n = try count("get-response-with-list result")
            var result = XElement("result")
            for _ in 0..<n { result.children.append(try getDataResult()) }
            return XElement("get-response-with-list", children: [id, result])
        case let c: throw fail("get-response choice \(c)")
        }
    }

    // MARK: - SET

    mutating func valueList() throws(Malformed) -> XElement {
        let n = try count("value-list")
        var list = XElement("value-list")
        for _ in 0..<n { list.children.append(try data(depth: 0)) }
        return list
    }

    mutating func setRequest() throws(Malformed) -> XElement {
        switch try u8("set-request choice") {
        case 1:
            var e = XElement("set-request-normal", children: [try invokeID(), try descriptor()])
            try accessSelection(into: &e)
            e.children.append(XElement("value", children: [try data(depth: 0)]))
            return e
        case 2:
            var e = XElement("set-request-first-data-block", children: [try invokeID(), try descriptor()])
            try accessSelection(into: &e)
            e.children.append(try dataBlock())
            return e
        case 3:
            return XElement("set-request-with-datablock", children: [try invokeID(), try dataBlock()])
        case 4:
            return XElement("set-request-with-list", children: [try invokeID(), try descriptorList(),
                                                                 try valueList()])
        case 5:
            return XElement("set-request-with-list-and-first-datablock", children: [
                try invokeID(), try descriptorList(), try dataBlock(),
            ])
        case let c: throw fail("set-request choice \(c)")
        }
    }

    mutating func resultList(_ table: @escaping (UInt8) -> String?) throws(Malformed) -> XElement {
        let n = try count("result list")
        var list = XElement("result")
        for _ in 0..<n { list.children.append(try enumLeaf("data-access-result", table)) }
        return list
    }

    mutating func setResponse() throws(Malformed) -> XElement {
        switch try u8("set-response choice") {
        case 1:
            return XElement("set-response-normal", children: [
                try invokeID(), try enumLeaf("result", XMLNames.dataAccessResult),
            ])
        case 2:
            return XElement("set-response-data-block", children: [
                try invokeID(), Self.leaf("block-number", String(try u32("block-number"))),
            ])
        case 3:
            return XElement("set-response-with-last-data-block", children: [
                try invokeID(), try enumLeaf("result", XMLNames.dataAccessResult),
                Self.leaf("block-number", String(try u32("block-number"))),
            ])
        case 4:
            return XElement("set-response-last-datablock-with-list", children: [
                try invokeID(), try resultList(XMLNames.dataAccessResult),
                Self.leaf("block-number", String(try u32("block-number"))),
            ])
        case 5:
            return XElement("set-response-with-list", children: [
                try invokeID(), try resultList(XMLNames.dataAccessResult),
            ])
        case let c: throw fail("set-response choice \(c)")
        }
    }

    // MARK: - ACTION

    mutating func methodList() throws(Malformed) -> XElement {
        let n = try count("cosem-method-descriptor list", minimumItemSize: 9)
        var list = XElement("cosem-method-descriptor-list")
        for _ in 0..<n { list.children.append(try descriptor(method: true)) }
        return list
    }

    mutating func actionRequest() throws(Malformed) -> XElement {
        switch try u8("action-request choice") {
        case 1:
            var e = XElement("action-request-normal", children: [try invokeID(), try descriptor(method: true)])
            switch try u8("method-invocation-parameters flag") {
            case 0: break
            case 1: e.children.append(XElement("method-invocation-parameters", children: [try data(depth: 0)]))
            case let f: throw fail("method-invocation-parameters flag \(f)")
            }
            return e
        case 2:
            return XElement("action-request-next-pblock", children: [
                try invokeID(), Self.leaf("block-number", String(try u32("block-number"))),
            ])
        case 3:
            let id = try invokeID()
            let methods = try methodList()
            let n = try count("method-invocation-parameters")
            var params = XElement("method-invocation-parameters")
            for _ in 0..<n { params.children.append(try data(depth: 0)) }
            return XElement("action-request-with-list", children: [id, methods, params])
        case 4:
            return XElement("action-request-with-first-pblock", children: [
                try invokeID(), try descriptor(method: true), try dataBlock(name: "pblock"),
            ])
        case 5:
            return XElement("action-request-with-list-and-first-pblock", children: [
                try invokeID(), try methodList(), try dataBlock(name: "pblock"),
            ])
        case 6:
            return XElement("action-request-with-pblock", children: [try invokeID(), try dataBlock(name: "pblock")])
        case let c: throw fail("action-request choice \(c)")
        }
    }

    /// Action-Response-With-Optional-Data ::= SEQUENCE { result Action-Result,
    /// return-parameters Get-Data-Result OPTIONAL }.
    mutating func singleResponse() throws(Malformed) -> XElement {
        var e = XElement("single-response", children: [try enumLeaf("result", XMLNames.actionResult)])
        switch try u8("return-parameters flag") {
        case 0: break
        case 1: e.children.append(XElement("return-parameters", children: [try getDataResult()]))
        case let f: throw fail("return-parameters flag \(f)")
        }
        return e
    }

    mutating func actionResponse() throws(Malformed) -> XElement {
        switch try u8("action-response choice") {
        case 1:
            return XElement("action-response-normal", children: [try invokeID(), try singleResponse()])
        case 2:
            return XElement("action-response-with-pblock", children: [try invokeID(), try dataBlock(name: "pblock")])
        case 3:
            let id = try invokeID()
            let n = try count("action-response list", minimumItemSize: 2)
            var list = XElement("list-of-responses")
            for _ in 0..<n { list.children.append(try singleResponse()) }
            return XElement("action-response-with-list", children: [id, list])
        case 4:
            return XElement("action-response-next-pblock", children: [
                try invokeID(), Self.leaf("block-number", String(try u32("block-number"))),
            ])
        case let c: throw fail("action-response choice \(c)")
        }
    }

    // MARK: - Notifications

    /// Data-Notification ::= SEQUENCE { long-invoke-id-and-priority, date-time OCTET STRING (length 0 when
    /// absent; Gurux writes an empty `<date-time>`), notification-body }.
    mutating func optionalDateTime(into e: inout XElement) throws(Malformed) {
        e.children.append(Self.leaf("date-time", try octets("date-time")))
    }

    mutating func dataNotification() throws(Malformed) -> XElement {
        var e = XElement("data-notification", children: [try longInvokeID()])
        try optionalDateTime(into: &e)
        e.children.append(XElement("notification-body", children: [
            XElement("data-value", children: [try data(depth: 0)]),
        ]))
        return e
    }

    mutating func eventNotification() throws(Malformed) -> XElement {
        var e = XElement("event-notification-request")
        switch try u8("time flag") {
        case 0: break
        case 1: e.children.append(Self.leaf("time", try octets("time")))
        case let f: throw fail("time flag \(f)")
        }
        let classID = try u16("class-id")
        let instance = try take(6, "instance-id")
        let attribute = Int8(bitPattern: try u8("attribute-id"))
        e.children.append(XElement("cosem-attribute-descriptor", children: [
            Self.leaf("class-id", String(classID)),
            Self.leaf("instance-id", Hex.encode(instance, uppercase: true)),
            Self.leaf("attribute-id", String(attribute)),
        ]))
        e.children.append(XElement("attribute-value", children: [try data(depth: 0)]))
        return e
    }

    // MARK: - Exception, confirmed-service-error

    mutating func exceptionResponse() throws(Malformed) -> XElement {
        let state = try u8("state-error")
        let service = try u8("service-error")
        var e = XElement("exception-response", children: [
            Self.leaf("state-error", XMLNames.stateError(state) ?? String(state)),
            Self.leaf("service-error", XMLNames.serviceError(service) ?? String(service)),
        ])
        if service == 6 {  // invocation-counter-error [6] IMPLICIT Unsigned32 carries the expected IC
            e.children.append(Self.leaf("invocation-counter", String(try u32("invocation-counter"))))
        }
        return e
    }

    mutating func confirmedServiceError() throws(Malformed) -> XElement {
        let service = try u8("confirmed service")
        let errorChoice = try u8("service-error choice")
        let value = try u8("service-error value")
        return XElement("confirmedServiceError", children: [
            Self.leaf("service", String(service)),
            Self.leaf("service-error", String(errorChoice)),
            Self.leaf("value", String(value)),
        ])
    }

    // MARK: - General block transfer

    /// General-Block-Transfer ::= SEQUENCE { block-control Unsigned8, block-number Unsigned16,
    /// block-number-ack Unsigned16, block-data OCTET STRING }.
    mutating func generalBlockTransfer() throws(Malformed) -> XElement {
        let control = try u8("block-control")
        let number = try u16("block-number")
        let ack = try u16("block-number-ack")
        return XElement("general-block-transfer", children: [
            Self.leaf("block-control", String(control)),
            Self.leaf("block-number", String(number)),
            Self.leaf("block-number-ack", String(ack)),
            Self.leaf("block-data", try octets("block-data")),
        ])
    }
}
