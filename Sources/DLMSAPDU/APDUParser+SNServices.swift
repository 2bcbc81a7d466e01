import DLMSWire

// xDLMS SN services (IEC 62056-5-3 §8 "ReadRequest" ... ; Gurux GXDLMSSNCommandHandler, Wireshark packet-dlms.c
// dlms_dissect_variable_access_specification).
extension APDUParser {
    /// ReadRequest ::= SEQUENCE OF Variable-Access-Specification
    mutating func readRequest() throws(DecodeError) {
        try variableAccessSpecifications()
    }

    /// WriteRequest / UnconfirmedWriteRequest ::= SEQUENCE { variable-access-specification SEQUENCE OF
    /// Variable-Access-Specification, list-of-data SEQUENCE OF Data }
    mutating func writeRequest() throws(DecodeError) {
        try variableAccessSpecifications()
        try sequence("list_of_data") { (p: inout APDUParser, _) throws(DecodeError) in try p.dataField("data") }
    }

    /// InformationReportRequest ::= SEQUENCE { current-time GeneralizedTime OPTIONAL,
    /// variable-access-specification SEQUENCE OF ..., list-of-data SEQUENCE OF Data }. The time is carried as a
    /// length-prefixed octet string after the OPTIONAL flag (Gurux `GXDLMSClient.handleInformationReport`).
    mutating func informationReportRequest() throws(DecodeError) {
        let at = r.offset
        let present = try r.u8("current-time flag")
        if present != 0 {
            try octets("current_time")
        } else {
            add("current_time", .null, meaning: "absent", at: at)
        }
        try writeRequest()
    }

    /// Variable-Access-Specification ::= CHOICE { variable-name [2] ObjectName, detailed-access [3],
    /// parameterized-access [4], block-number-access [5], read-data-block-access [6], write-data-block-access [7] }
    private mutating func variableAccessSpecifications() throws(DecodeError) {
        try sequence("variable_access_specification", minimumSize: 2) { (p: inout APDUParser, _) throws(DecodeError) in
            let at = p.r.offset
            let choice = try p.r.u8("variable-access-specification choice")
            switch choice {
            case 2:
                let sn = try p.r.u16("variable-name")
                p.facts.objects.append(ObjectRef(classID: 0, obis: [], shortName: sn))
                p.add("variable_name", .uint(UInt64(sn)), meaning: Self.shortNameText(sn), at: at)
            case 4:
                try p.group("parameterized_access", at: at) { (q: inout APDUParser) throws(DecodeError) in
                    let nAt = q.r.offset
                    let sn = try q.r.u16("variable-name")
                    q.add("variable_name", .uint(UInt64(sn)), meaning: Self.shortNameText(sn), at: nAt)
                    let sAt = q.r.offset
                    let sel = try q.r.u8("selector")
                    q.facts.objects.append(ObjectRef(classID: 0, obis: [], selector: sel, shortName: sn))
                    q.add("selector", .uint(UInt64(sel)), meaning: Self.selectorName(sel), at: sAt)
                    let pAt = q.r.offset
                    let paramReader = q.r
                    let v = try q.r.data()
                    q.add("parameter", .data(v), at: pAt)
                    if let d = Self.describeSelection(sel, v, at: paramReader) { q.add(d) }
                }
            case 5:
                try p.group("block_number_access", at: at) { (q: inout APDUParser) throws(DecodeError) in
                    let nAt = q.r.offset
                    let n = try q.r.u16("block-number")
                    q.add("block_number", .uint(UInt64(n)), at: nAt)
                }
            case 6:
                try p.group("read_data_block_access", at: at) { (q: inout APDUParser) throws(DecodeError) in
                    let last = try q.boolean("last_block")
                    let nAt = q.r.offset
                    let n = try q.r.u16("block-number")
                    q.add("block_number", .uint(UInt64(n)), at: nAt)
                    let raw = try q.octets("raw_data")
                    _ = (last, raw)
                }
            case 7:
                try p.group("write_data_block_access", at: at) { (q: inout APDUParser) throws(DecodeError) in
                    _ = try q.boolean("last_block")
                    let nAt = q.r.offset
                    let n = try q.r.u16("block-number")
                    q.add("block_number", .uint(UInt64(n)), at: nAt)
                }
            default:
                throw DecodeError("apdu.bad-choice", "variable-access-specification choice \(choice)", offset: at)
            }
        }
    }

    /// ReadResponse ::= SEQUENCE OF CHOICE { data [0] Data, data-access-error [1] Data-Access-Result,
    /// data-block-result [2] { last-block BOOLEAN, block-number Unsigned16, raw-data OCTET STRING },
    /// block-number [3] Unsigned16 }
    mutating func readResponse() throws(DecodeError) {
        var overall = "success"
        try sequence("read_response", minimumSize: 2) { (p: inout APDUParser, _) throws(DecodeError) in
            let at = p.r.offset
            let choice = try p.r.u8("read-response choice")
            switch choice {
            case 0: try p.dataField("data")
            case 1:
                let res = try p.dataAccessResult("data_access_error")
                if overall == "success" { overall = res }
            case 2:
                try p.group("data_block_result", at: at) { (q: inout APDUParser) throws(DecodeError) in
                    let last = try q.boolean("last_block")
                    let nAt = q.r.offset
                    let n = try q.r.u16("block-number")
                    q.add("block_number", .uint(UInt64(n)), at: nAt)
                    let raw = try q.octets("raw_data")
                    q.facts.block = BlockFacts(kind: .getResponseDatablock, blockNumber: UInt32(n), lastBlock: last,
                                               rawData: Array(raw))
                }
            case 3:
                let n = try p.r.u16("block-number")
                p.add("block_number", .uint(UInt64(n)), at: at)
            default:
                throw DecodeError("apdu.bad-choice", "read-response choice \(choice)", offset: at)
            }
        }
        facts.result = overall
    }

    /// WriteResponse ::= SEQUENCE OF CHOICE { success [0] NULL, data-access-error [1] Data-Access-Result,
    /// block-number [2] Unsigned16 }
    mutating func writeResponse() throws(DecodeError) {
        var overall = "success"
        try sequence("write_response") { (p: inout APDUParser, _) throws(DecodeError) in
            let at = p.r.offset
            let choice = try p.r.u8("write-response choice")
            switch choice {
            case 0: p.add("success", .null, meaning: "success", at: at)
            case 1:
                let res = try p.dataAccessResult("data_access_error")
                if overall == "success" { overall = res }
            case 2:
                let n = try p.r.u16("block-number")
                p.add("block_number", .uint(UInt64(n)), at: at)
            default:
                throw DecodeError("apdu.bad-choice", "write-response choice \(choice)", offset: at)
            }
        }
        facts.result = overall
    }

    /// Short names are shown in hex, as Gurux and the Green Book examples write them (0xFA00).
    static func shortNameText(_ sn: UInt16) -> String {
        "0x" + Hex.encode([UInt8(sn >> 8), UInt8(sn & 0xFF)], uppercase: true)
    }
}
