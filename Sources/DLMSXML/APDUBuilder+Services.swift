import DLMSWire

/// The LN services, element → bytes; the inverse of `APDUWalker+Services.swift`.
extension APDUBuilder {
    // MARK: - Common parts

    mutating func descriptor(_ e: XElement, method: Bool = false) throws(XMLEncodeError) {
        var c = ChildCursor(e)
        u16(try XMLValue.integer(try c.next("class-id"), UInt16.self))
        out += try XMLValue.hex(try c.next("instance-id"), count: 6)
        u8(UInt8(bitPattern: try XMLValue.integer(try c.next(method ? "method-id" : "attribute-id"), Int8.self)))
        try c.finish()
    }

    mutating func accessSelection(_ c: inout ChildCursor) throws(XMLEncodeError) {
        guard let sel = c.optional("access-selection") else {
            u8(0)
            return
        }
        u8(1)
        try selection(sel)
    }

    mutating func selection(_ sel: XElement) throws(XMLEncodeError) {
        var s = ChildCursor(sel)
        try leafU8(&s, "access-selector")
        let params = try s.next("access-parameters")
        let (_, value) = try choice(params)
        try data(value, depth: 0)
        try s.finish()
    }

    mutating func descriptorList(_ e: XElement) throws(XMLEncodeError) {
        XMLValue.appendLength(e.children.count, to: &out)
        for item in e.children {
            guard XMLAliases.canonical(item.name) == "Cosem-Attribute-Descriptor-With-Selection" else {
                throw XMLEncodeError(.unexpectedElement, "expected <Cosem-Attribute-Descriptor-With-Selection>",
                                     at: item)
            }
            var c = ChildCursor(item)
            try descriptor(try c.next("cosem-attribute-descriptor"))
            try accessSelection(&c)
            try c.finish()
        }
    }

    mutating func dataBlock(_ e: XElement) throws(XMLEncodeError) {
        var c = ChildCursor(e)
        try leafU8(&c, "last-block")
        try leafU32(&c, "block-number")
        try octets(try c.next("raw-data"))
        try c.finish()
    }

    mutating func getDataResult(_ e: XElement) throws(XMLEncodeError) {
        switch XMLAliases.canonical(e.name) {
        case "data":
            u8(0)
            let (_, v) = try choice(e)
            try data(v, depth: 0)
        case "data-access-result":
            u8(1)
            try named(e, XMLNames.dataAccessResult)
        default:
            throw XMLEncodeError(.unexpectedElement, "expected <data> or <data-access-result>", at: e)
        }
    }

    // MARK: - GET

    mutating func getRequest(_ e: XElement) throws(XMLEncodeError) {
        let (name, body) = try choice(e)
        var c = ChildCursor(body)
        switch name {
        case "get-request-normal":
            u8(1)
            try leafU8(&c, "invoke-id-and-priority")
            try descriptor(try c.next("cosem-attribute-descriptor"))
            try accessSelection(&c)
        case "get-request-next":
            u8(2)
            try leafU8(&c, "invoke-id-and-priority")
            try leafU32(&c, "block-number")
        case "get-request-with-list":
            u8(3)
            try leafU8(&c, "invoke-id-and-priority")
            try descriptorList(try c.next("attribute-descriptor-list"))
        default:
            throw XMLEncodeError(.unexpectedElement, "not a get-request choice", at: body)
        }
        try c.finish()
    }

    mutating func getResponse(_ e: XElement) throws(XMLEncodeError) {
        let (name, body) = try choice(e)
        var c = ChildCursor(body)
        switch name {
        case "get-response-normal":
            u8(1)
            try leafU8(&c, "invoke-id-and-priority")
            let (_, r) = try choice(try c.next("result"))
            try getDataResult(r)
        case "get-response-with-data-block":
            u8(2)
            try leafU8(&c, "invoke-id-and-priority")
            var r = ChildCursor(try c.next("result"))
            try leafU8(&r, "last-block")
            try leafU32(&r, "block-number")
            let (inner, v) = try choice(try r.next("result"))
            switch inner {
            case "raw-data":
                u8(0)
                try octets(v)
            case "data-access-result":
                u8(1)
                try named(v, XMLNames.dataAccessResult)
            default:
                throw XMLEncodeError(.unexpectedElement, "expected <raw-data> or <data-access-result>", at: v)
            }
            try r.finish()
        case "get-response-with-list":
            u8(3)
            try leafU8(&c, "invoke-id-and-priority")
            let r = try c.next("result")
            XMLValue.appendLength(r.children.count, to: &out)
            for item in r.children { try getDataResult(item) }
        default:
            throw XMLEncodeError(.unexpectedElement, "not a get-response choice", at: body)
        }
        try c.finish()
    }

    // MARK: - SET

    mutating func valueList(_ e: XElement) throws(XMLEncodeError) {
        XMLValue.appendLength(e.children.count, to: &out)
        for v in e.children { try data(v, depth: 0) }
    }

    mutating func setRequest(_ e: XElement) throws(XMLEncodeError) {
        let (name, body) = try choice(e)
        var c = ChildCursor(body)
        switch name {
        case "set-request-normal":
            u8(1)
            try leafU8(&c, "invoke-id-and-priority")
            try descriptor(try c.next("cosem-attribute-descriptor"))
            try accessSelection(&c)
            let (_, v) = try choice(try c.next("value"))
            try data(v, depth: 0)
        case "set-request-first-data-block":
            u8(2)
            try leafU8(&c, "invoke-id-and-priority")
            try descriptor(try c.next("cosem-attribute-descriptor"))
            try accessSelection(&c)
            try dataBlock(try c.next("datablock"))
        case "set-request-with-datablock":
            u8(3)
            try leafU8(&c, "invoke-id-and-priority")
            try dataBlock(try c.next("datablock"))
        case "set-request-with-list":
            u8(4)
            try leafU8(&c, "invoke-id-and-priority")
            try descriptorList(try c.next("attribute-descriptor-list"))
            try valueList(try c.next("value-list"))
        case "set-request-with-list-and-first-datablock":
            u8(5)
            try leafU8(&c, "invoke-id-and-priority")
            try descriptorList(try c.next("attribute-descriptor-list"))
            try dataBlock(try c.next("datablock"))
        default:
            throw XMLEncodeError(.unexpectedElement, "not a set-request choice", at: body)
        }
        try c.finish()
    }

    mutating func resultList(_ e: XElement) throws(XMLEncodeError) {
        XMLValue.appendLength(e.children.count, to: &out)
        for r in e.children { try named(r, XMLNames.dataAccessResult) }
    }

    mutating func setResponse(_ e: XElement) throws(XMLEncodeError) {
        let (name, body) = try choice(e)
        var c = ChildCursor(body)
        switch name {
        case "set-response-normal":
            u8(1)
            try leafU8(&c, "invoke-id-and-priority")
            try named(try c.next("result"), XMLNames.dataAccessResult)
        case "set-response-data-block":
            u8(2)
            try leafU8(&c, "invoke-id-and-priority")
            try leafU32(&c, "block-number")
        case "set-response-with-last-data-block":
            u8(3)
            try leafU8(&c, "invoke-id-and-priority")
            try named(try c.next("result"), XMLNames.dataAccessResult)
            try leafU32(&c, "block-number")
        case "set-response-last-datablock-with-list":
            u8(4)
            try leafU8(&c, "invoke-id-and-priority")
            try resultList(try c.next("result"))
            try leafU32(&c, "block-number")
        case "set-response-with-list":
            u8(5)
            try leafU8(&c, "invoke-id-and-priority")
            try resultList(try c.next("result"))
        default:
            throw XMLEncodeError(.unexpectedElement, "not a set-response choice", at: body)
        }
        try c.finish()
    }

    // MARK: - ACTION

    mutating func methodList(_ e: XElement) throws(XMLEncodeError) {
        XMLValue.appendLength(e.children.count, to: &out)
        for m in e.children { try descriptor(m, method: true) }
    }

    mutating func actionRequest(_ e: XElement) throws(XMLEncodeError) {
        let (name, body) = try choice(e)
        var c = ChildCursor(body)
        switch name {
        case "action-request-normal":
            u8(1)
            try leafU8(&c, "invoke-id-and-priority")
            try descriptor(try c.next("cosem-method-descriptor"), method: true)
            if let p = c.optional("method-invocation-parameters") {
                u8(1)
                let (_, v) = try choice(p)
                try data(v, depth: 0)
            } else {
                u8(0)
            }
        case "action-request-next-pblock":
            u8(2)
            try leafU8(&c, "invoke-id-and-priority")
            try leafU32(&c, "block-number")
        case "action-request-with-list":
            u8(3)
            try leafU8(&c, "invoke-id-and-priority")
            try methodList(try c.next("cosem-method-descriptor-list"))
            try valueList(try c.next("method-invocation-parameters"))
        case "action-request-with-first-pblock":
            u8(4)
            try leafU8(&c, "invoke-id-and-priority")
            try descriptor(try c.next("cosem-method-descriptor"), method: true)
            try dataBlock(try c.next("pblock"))
        case "action-request-with-list-and-first-pblock":
            u8(5)
            try leafU8(&c, "invoke-id-and-priority")
            try methodList(try c.next("cosem-method-descriptor-list"))
            try dataBlock(try c.next("pblock"))
        case "action-request-with-pblock":
            u8(6)
            try leafU8(&c, "invoke-id-and-priority")
            try dataBlock(try c.next("pblock"))
        default:
            throw XMLEncodeError(.unexpectedElement, "not an action-request choice", at: body)
        }
        try c.finish()
    }

    mutating func singleResponse(_ e: XElement) throws(XMLEncodeError) {
        var c = ChildCursor(e)
        try named(try c.next("result"), XMLNames.actionResult)
        if let p = c.optional("return-parameters") {
            u8(1)
            let (_, r) = try choice(p)
            try getDataResult(r)
        } else {
            u8(0)
        }
        try c.finish()
    }

    mutating func actionResponse(_ e: XElement) throws(XMLEncodeError) {
        let (name, body) = try choice(e)
        var c = ChildCursor(body)
        switch name {
        case "action-response-normal":
            u8(1)
            try leafU8(&c, "invoke-id-and-priority")
            try singleResponse(try c.next("single-response"))
        case "action-response-with-pblock":
            u8(2)
            try leafU8(&c, "invoke-id-and-priority")
            try dataBlock(try c.next("pblock"))
        case "action-response-with-list":
            u8(3)
            try leafU8(&c, "invoke-id-and-priority")
            let list = try c.next("list-of-responses")
            XMLValue.appendLength(list.children.count, to: &out)
            for r in list.children { try singleResponse(r) }
        case "action-response-next-pblock":
            u8(4)
            try leafU8(&c, "invoke-id-and-priority")
            try leafU32(&c, "block-number")
        default:
            throw XMLEncodeError(.unexpectedElement, "not an action-response choice", at: body)
        }
        try c.finish()
    }

    // MARK: - Notifications, exceptions, GBT

    mutating func dataNotification(_ e: XElement) throws(XMLEncodeError) {
        var c = ChildCursor(e)
        try leafU32(&c, "long-invoke-id-and-priority")
        try octets(try c.next("date-time"))
        let body = try c.next("notification-body")
        let (_, dv) = try choice(body)
        let (_, v) = try choice(dv)
        try data(v, depth: 0)
        try c.finish()
    }

    mutating func eventNotification(_ e: XElement) throws(XMLEncodeError) {
        var c = ChildCursor(e)
        if let t = c.optional("time") {
            u8(1)
            try octets(t)
        } else {
            u8(0)
        }
        try descriptor(try c.next("cosem-attribute-descriptor"))
        let (_, v) = try choice(try c.next("attribute-value"))
        try data(v, depth: 0)
        try c.finish()
    }

    mutating func exceptionResponse(_ e: XElement) throws(XMLEncodeError) {
        var c = ChildCursor(e)
        try named(try c.next("state-error"), XMLNames.stateError)
        let se = try c.next("service-error")
        try named(se, XMLNames.serviceError)
        if out.last == 6 { try leafU32(&c, "invocation-counter") }
        try c.finish()
    }

    mutating func confirmedServiceError(_ e: XElement) throws(XMLEncodeError) {
        var c = ChildCursor(e)
        try leafU8(&c, "service")
        try leafU8(&c, "service-error")
        try leafU8(&c, "value")
        try c.finish()
    }

    mutating func generalBlockTransfer(_ e: XElement) throws(XMLEncodeError) {
        var c = ChildCursor(e)
        try leafU8(&c, "block-control")
        u16(try XMLValue.integer(try c.next("block-number"), UInt16.self))
        u16(try XMLValue.integer(try c.next("block-number-ack"), UInt16.self))
        try octets(try c.next("block-data"))
        try c.finish()
    }
}
