import DLMSWire

// xDLMS LN services in A-XDR (IEC 62056-5-3 §8 ASN.1; field order cross-checked against Gurux
// GXDLMSTranslator/GXDLMSLNCommandHandler and dlms-cosem `dlms_cosem/protocol/xdlms/*.py`).
extension APDUParser {
    // MARK: - GET

    /// Get-Request ::= CHOICE { get-request-normal [1], get-request-next [2], get-request-with-list [3] }
    mutating func getRequest() throws(DecodeError) {
        let choice = try variant { c in c == 1 ? "normal" : c == 2 ? "next" : c == 3 ? "with-list" : nil }
        try invokeIDAndPriority()
        switch choice {
        case 1:
            let i = try descriptor(method: false)
            try accessSelection(optional: true, objectIndex: i)
        case 2:
            let n = try blockNumber32()
            facts.block = BlockFacts(kind: .getRequestNext, blockNumber: n, lastBlock: false)
        default:
            try descriptorWithSelectionList("attribute_descriptor_list", method: false)
        }
    }

    /// Get-Response ::= CHOICE { get-response-normal [1], get-response-with-datablock [2],
    /// get-response-with-list [3] }
    mutating func getResponse() throws(DecodeError) {
        let choice = try variant { c in c == 1 ? "normal" : c == 2 ? "with-datablock" : c == 3 ? "with-list" : nil }
        try invokeIDAndPriority()
        switch choice {
        case 1:
            facts.result = try getDataResult()
        case 2:
            try dataBlock("datablock", kind: .getResponseDatablock, withChoice: true)
        default:
            var overall = "success"
            try sequence("result", minimumSize: 2) { (p: inout APDUParser, _) throws(DecodeError) in
                let res = try p.getDataResult("item")
                if overall == "success" { overall = res }
            }
            facts.result = overall
        }
    }

    /// SEQUENCE OF Cosem-Attribute-Descriptor-With-Selection (attribute) or Cosem-Method-Descriptor (method).
    mutating func descriptorWithSelectionList(_ name: String, method: Bool) throws(DecodeError) {
        try sequence(name, minimumSize: method ? 9 : 10) { (p: inout APDUParser, _) throws(DecodeError) in
            let at = p.r.offset
            try p.group("item", at: at) { (q: inout APDUParser) throws(DecodeError) in
                let i = try q.descriptor(method: method)
                if !method { try q.accessSelection(optional: true, objectIndex: i) }
            }
        }
    }

    // MARK: - SET

    /// Set-Request ::= CHOICE { normal [1], with-first-datablock [2], with-datablock [3], with-list [4],
    /// with-list-and-first-datablock [5] }
    mutating func setRequest() throws(DecodeError) {
        let choice = try variant { c in
            switch c {
            case 1: "normal"
            case 2: "with-first-datablock"
            case 3: "with-datablock"
            case 4: "with-list"
            case 5: "with-list-and-first-datablock"
            default: nil
            }
        }
        try invokeIDAndPriority()
        switch choice {
        case 1:
            let i = try descriptor(method: false)
            try accessSelection(optional: true, objectIndex: i)
            try dataField("value")
        case 2:
            let i = try descriptor(method: false)
            try accessSelection(optional: true, objectIndex: i)
            try dataBlock("datablock", kind: .setRequestDatablock, withChoice: false)
        case 3:
            try dataBlock("datablock", kind: .setRequestDatablock, withChoice: false)
        case 4:
            try descriptorWithSelectionList("attribute_descriptor_list", method: false)
            try sequence("value_list") { (p: inout APDUParser, _) throws(DecodeError) in try p.dataField("value") }
        default:
            try descriptorWithSelectionList("attribute_descriptor_list", method: false)
            try dataBlock("datablock", kind: .setRequestDatablock, withChoice: false)
        }
    }

    /// Set-Response ::= CHOICE { normal [1], datablock [2], last-datablock [3], last-datablock-with-list [4],
    /// with-list [5] }
    mutating func setResponse() throws(DecodeError) {
        let choice = try variant { c in
            switch c {
            case 1: "normal"
            case 2: "datablock"
            case 3: "last-datablock"
            case 4: "last-datablock-with-list"
            case 5: "with-list"
            default: nil
            }
        }
        try invokeIDAndPriority()
        switch choice {
        case 1:
            facts.result = try dataAccessResult("result")
        case 2:
            let n = try blockNumber32()
            facts.block = BlockFacts(kind: .setResponseDatablock, blockNumber: n, lastBlock: false)
        case 3:
            facts.result = try dataAccessResult("result")
            let n = try blockNumber32()
            facts.block = BlockFacts(kind: .setResponseDatablock, blockNumber: n, lastBlock: true)
        case 4:
            try resultList()
            let n = try blockNumber32()
            facts.block = BlockFacts(kind: .setResponseDatablock, blockNumber: n, lastBlock: true)
        default:
            try resultList()
        }
    }

    private mutating func resultList() throws(DecodeError) {
        var overall = "success"
        try sequence("result") { (p: inout APDUParser, _) throws(DecodeError) in
            let res = try p.dataAccessResult("item")
            if overall == "success" { overall = res }
        }
        facts.result = overall
    }

    // MARK: - ACTION

    /// Action-Request ::= CHOICE { normal [1], next-pblock [2], with-list [3], with-first-pblock [4],
    /// with-list-and-first-pblock [5], with-pblock [6] }
    mutating func actionRequest() throws(DecodeError) {
        let choice = try variant { c in
            switch c {
            case 1: "normal"
            case 2: "next-pblock"
            case 3: "with-list"
            case 4: "with-first-pblock"
            case 5: "with-list-and-first-pblock"
            case 6: "with-pblock"
            default: nil
            }
        }
        try invokeIDAndPriority()
        switch choice {
        case 1:
            try descriptor(method: true)
            // method-invocation-parameters Data OPTIONAL
            let at = r.offset
            let present = try r.u8("method-invocation-parameters flag")
            if present != 0 {
                try dataField("method_invocation_parameters")
            } else {
                add("method_invocation_parameters", .null, meaning: "absent", at: at)
            }
        case 2:
            let n = try blockNumber32()
            facts.block = BlockFacts(kind: .actionRequestNextPblock, blockNumber: n, lastBlock: false)
        case 3:
            try descriptorWithSelectionList("cosem_method_descriptor_list", method: true)
            try sequence("method_invocation_parameters") { (p: inout APDUParser, _) throws(DecodeError) in
                try p.dataField("value")
            }
        case 4:
            try descriptor(method: true)
            try dataBlock("pblock", kind: .actionRequestPblock, withChoice: false)
        case 5:
            try descriptorWithSelectionList("cosem_method_descriptor_list", method: true)
            try dataBlock("pblock", kind: .actionRequestPblock, withChoice: false)
        default:
            try dataBlock("pblock", kind: .actionRequestPblock, withChoice: false)
        }
    }

    /// Action-Response ::= CHOICE { normal [1], with-pblock [2], with-list [3], next-pblock [4] }
    mutating func actionResponse() throws(DecodeError) {
        let choice = try variant { c in
            switch c {
            case 1: "normal"
            case 2: "with-pblock"
            case 3: "with-list"
            case 4: "next-pblock"
            default: nil
            }
        }
        try invokeIDAndPriority()
        switch choice {
        case 1:
            let at = r.offset
            var res = "success"
            try group("single_response", at: at) { (p: inout APDUParser) throws(DecodeError) in
                res = try p.actionResponseWithOptionalData()
            }
            facts.result = res
        case 2:
            try dataBlock("pblock", kind: .actionResponsePblock, withChoice: false)
        case 3:
            var overall = "success"
            try sequence("list_of_responses", minimumSize: 2) { (p: inout APDUParser, _) throws(DecodeError) in
                let at = p.r.offset
                try p.group("item", at: at) { (q: inout APDUParser) throws(DecodeError) in
                    let res = try q.actionResponseWithOptionalData()
                    if overall == "success" { overall = res }
                }
            }
            facts.result = overall
        default:
            let n = try blockNumber32()
            facts.block = BlockFacts(kind: .actionResponseNextPblock, blockNumber: n, lastBlock: false)
        }
    }

    /// Action-Response-With-Optional-Data ::= SEQUENCE { result Action-Result, return-parameters Get-Data-Result
    /// OPTIONAL }
    private mutating func actionResponseWithOptionalData() throws(DecodeError) -> String {
        let res = try actionResult("result")
        let present = try r.u8("return-parameters flag")
        if present != 0 { try getDataResult("return_parameters") }
        return res
    }

    // MARK: - ACCESS

    /// Access-Request ::= SEQUENCE { long-invoke-id-and-priority, date-time OCTET STRING,
    /// access-request-body { access-request-specification SEQUENCE OF Access-Request-Specification,
    /// access-request-list-of-data SEQUENCE OF Data } } (IEC 62056-5-3 §8; dlms-cosem `xdlms/access.py`)
    mutating func accessRequest() throws(DecodeError) {
        try longInvokeIDAndPriority()
        try octets("date_time")
        try accessRequestSpecification()
        try sequence("access_request_list_of_data") { (p: inout APDUParser, _) throws(DecodeError) in
            try p.dataField("data")
        }
    }

    /// Access-Request-Specification ::= CHOICE { access-request-get [1] Cosem-Attribute-Descriptor,
    /// access-request-set [2], access-request-action [3] Cosem-Method-Descriptor,
    /// access-request-get-with-selection [4], access-request-set-with-selection [5] }
    private mutating func accessRequestSpecification() throws(DecodeError) {
        try sequence("access_request_specification", minimumSize: 10) { (p: inout APDUParser, _) throws(DecodeError) in
            let at = p.r.offset
            let choice = try p.r.u8("access-request-specification choice")
            let name: String
            switch choice {
            case 1: name = "access_request_get"
            case 2: name = "access_request_set"
            case 3: name = "access_request_action"
            case 4: name = "access_request_get_with_selection"
            case 5: name = "access_request_set_with_selection"
            default:
                throw DecodeError("apdu.bad-choice", "access-request-specification choice \(choice)", offset: at)
            }
            try p.group(name, .uint(UInt64(choice)), at: at) { (q: inout APDUParser) throws(DecodeError) in
                let i = try q.descriptor(method: choice == 3)
                if choice >= 4 { try q.accessSelection(optional: false, objectIndex: i) }
            }
        }
    }

    /// Access-Response ::= SEQUENCE { long-invoke-id-and-priority, date-time OCTET STRING, access-response-body
    /// { access-request-specification [0] SEQUENCE OF ... OPTIONAL, access-response-list-of-data SEQUENCE OF Data,
    /// access-response-specification SEQUENCE OF Access-Response-Specification } }
    mutating func accessResponse() throws(DecodeError) {
        try longInvokeIDAndPriority()
        try octets("date_time")
        let present = try r.u8("access-request-specification flag")
        if present != 0 { try accessRequestSpecification() }
        try sequence("access_response_list_of_data") { (p: inout APDUParser, _) throws(DecodeError) in
            try p.dataField("data")
        }
        var overall = "success"
        try sequence("access_response_specification", minimumSize: 2) { (p: inout APDUParser, _) throws(DecodeError) in
            let at = p.r.offset
            let choice = try p.r.u8("access-response-specification choice")
            let res: String
            switch choice {
            case 1: res = try p.dataAccessResult("access_response_get")
            case 2: res = try p.dataAccessResult("access_response_set")
            case 3: res = try p.actionResult("access_response_action")
            default:
                throw DecodeError("apdu.bad-choice", "access-response-specification choice \(choice)", offset: at)
            }
            if overall == "success" { overall = res }
        }
        facts.result = overall
    }

    // MARK: - Notifications, errors, block transfer

    /// Data-Notification ::= SEQUENCE { long-invoke-id-and-priority, date-time OCTET STRING,
    /// notification-body Data }
    mutating func dataNotification() throws(DecodeError) {
        try longInvokeIDAndPriority()
        try dateTimeOctetString()
        try dataField("notification_body")
    }

    /// The date-time OCTET STRING of data-notification (length 0 when absent, 12 for a COSEM date-time).
    private mutating func dateTimeOctetString() throws(DecodeError) {
        let at = r.offset
        // Norwegian HAN meters (Kamstrup 2017 firmware, Kaifa KFM_001) write the date-time as a tagged A-XDR
        // octet-string: 09 0C and 12 bytes, where the standard has the untagged 0C and 12 bytes. A length of 9 is
        // no date-time, so `09 0C` followed by a plausible date-time is read as that variant.
        if r.peekUInt8() == 0x09, r.peekUInt8(at: 1) == 0x0C, r.remaining >= 14 {
            var probe = r
            _ = try probe.u8("date-time tag")
            let s = try probe.octetString("date-time")
            if COSEM.isPlausibleDateTime(s) {
                r = probe
                let text = COSEM.decodeDateTime(s)?.iso8601 ?? "date-time"
                add("date_time", .bytes(s), meaning: text + " (tagged octet-string, a HAN meter variant)", at: at)
                return
            }
        }
        let s = try r.octetString("date-time")
        let meaning = s.isEmpty ? "absent" : COSEM.decodeDateTime(s)?.iso8601
        add("date_time", .bytes(s), meaning: meaning, at: at)
    }

    /// EVENT-NOTIFICATION-Request ::= SEQUENCE { time OCTET STRING OPTIONAL, cosem-attribute-descriptor,
    /// attribute-value Data }
    mutating func eventNotificationRequest() throws(DecodeError) {
        let at = r.offset
        let present = try r.u8("time flag")
        if present != 0 {
            try dateTimeOctetString()
        } else {
            add("time", .null, meaning: "absent", at: at)
        }
        try descriptor(method: false)
        try dataField("attribute_value")
    }

    /// ExceptionResponse ::= SEQUENCE { state-error [0] ENUMERATED, service-error [1] CHOICE { ...,
    /// invocation-counter-error [6] Unsigned32 } } (IEC 62056-5-3 §8; Wireshark packet-dlms.c)
    mutating func exceptionResponse() throws(DecodeError) {
        let at = r.offset
        let state = try r.u8("state-error")
        let stateName = APDUNames.stateError(state)
        add("state_error", .uint(UInt64(state)), meaning: stateName ?? "unknown", at: at)
        let sAt = r.offset
        let service = try r.u8("service-error")
        let serviceName = APDUNames.exceptionServiceError(service)
        add("service_error", .uint(UInt64(service)), meaning: serviceName ?? "unknown", at: sAt)
        facts.result = serviceName ?? stateName ?? "unknown"
        if service == 6, r.remaining >= 4 {
            let icAt = r.offset
            let ic = try r.u32("invocation-counter")
            add("invocation_counter", .uint(UInt64(ic)), at: icAt)
        }
    }

    /// ConfirmedServiceError ::= CHOICE { initiateError [1] ServiceError, ..., read [5], write [6], ... };
    /// ServiceError ::= CHOICE { application-reference [0] ENUMERATED, hardware-resource [1], ..., other [10] }
    mutating func confirmedServiceError() throws(DecodeError) {
        let at = r.offset
        let svc = try r.u8("confirmed-service-error choice")
        add("service", .uint(UInt64(svc)), meaning: APDUNames.confirmedService(svc) ?? "unknown", at: at)
        facts.variant = APDUNames.confirmedService(svc)
        let kAt = r.offset
        let kind = try r.u8("service-error choice")
        guard let kindName = APDUNames.serviceErrorKind(kind) else {
            add("service_error", .uint(UInt64(kind)), at: kAt)
            throw DecodeError("apdu.bad-choice", "service-error choice \(kind)", offset: kAt)
        }
        let vAt = r.offset
        let v = try r.u8("service-error value")
        let valueName = APDUNames.serviceErrorValue(kind: kind, v)
        add(Node("service_error", .string(kindName), offset: kAt, children: [
            Node(Self.snake(kindName), .uint(UInt64(v)), meaning: valueName ?? "unknown", offset: vAt),
        ]))
        facts.result = valueName ?? kindName
    }

    static func snake(_ s: String) -> String {
        switch s {
        case "application-reference": "application_reference"
        case "hardware-resource": "hardware_resource"
        case "vde-state-error": "vde_state_error"
        case "load-data-set": "load_data_set"
        case "change-scope": "change_scope"
        default: s
        }
    }

    /// General-Block-Transfer ::= SEQUENCE { block-control Unsigned8 (bit 7 last-block, bit 6 streaming,
    /// bits 0-5 window), block-number Unsigned16, block-number-ack Unsigned16, block-data OCTET STRING }
    mutating func generalBlockTransfer() throws(DecodeError) {
        let at = r.offset
        let bc = try r.u8("block-control")
        let last = bc & 0x80 != 0
        let streaming = bc & 0x40 != 0
        let window = bc & 0x3F
        add(Node("block_control", .uint(UInt64(bc)), offset: at, children: [
            Node("last_block", .bool(last), offset: at),
            Node("streaming", .bool(streaming), offset: at),
            Node("window", .uint(UInt64(window)), offset: at),
        ]))
        let nAt = r.offset
        let number = try r.u16("block-number")
        add("block_number", .uint(UInt64(number)), at: nAt)
        let aAt = r.offset
        let ack = try r.u16("block-number-ack")
        add("block_number_ack", .uint(UInt64(ack)), at: aAt)
        var block = BlockFacts(kind: .generalBlockTransfer, blockNumber: UInt32(number), lastBlock: last,
                               gbt: GBTFacts(streaming: streaming, window: window, blockNumberAck: ack))
        facts.block = block
        let data = try octets("block_data")
        block.rawData = Array(data)
        facts.block = block
    }
}
