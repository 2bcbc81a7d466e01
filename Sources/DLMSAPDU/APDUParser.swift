import DLMSWire

/// The state of one APDU decode: a reader over the APDU, the fields decoded so far (the current group's children
/// while a group is open), the facts and the errors. Decoders throw `DecodeError` for the first malformation; the
/// top level records it and keeps every field decoded before it (Wireshark's "malformed packet" behaviour).
struct APDUParser {
    var r: ByteReader
    var fields: [Node] = []
    var facts: ServiceFacts
    var errors: [DecodeError] = []
    let options: DecodeOptions
    /// False when the caller wants facts and errors only (`DecodeOptions.buildTree`): `add` and `group` then build
    /// no nodes (their arguments are autoclosures, never evaluated), and the tree is made later, on demand.
    let tree: Bool
    /// Nesting of APDUs inside APDUs (general-signing content, authentication-only plaintext).
    var depth = 0

    init(_ bytes: ArraySlice<UInt8>, type: String, options: DecodeOptions) {
        self.r = ByteReader(bytes)
        self.facts = ServiceFacts(type: type)
        self.options = options
        self.tree = options.buildTree
        if tree { fields.reserveCapacity(6) }
    }

    /// The deepest APDU-in-APDU nesting decoded (a signed APDU holding an authenticated one is depth 2).
    static let maximumNesting = 2

    /// Decodes `content`, an APDU embedded in the current one, into child nodes; its errors join this APDU's
    /// errors, with offsets in the outer APDU. Returns nil when nesting is too deep or `content` is empty.
    mutating func nested(_ content: ArraySlice<UInt8>) -> [Node]? {
        guard depth < Self.maximumNesting, let tag = content.first else { return nil }
        var inner = self
        inner.r.bytes = content
        inner.fields = []
        inner.errors = []
        inner.facts = ServiceFacts(type: APDUNames.apduType(tag) ?? "unknown")
        inner.depth = depth + 1
        do {
            try inner.body(tag: tag)
            if !inner.r.isAtEnd {
                inner.errors.append(DecodeError("apdu.trailing-bytes", "\(inner.r.remaining) bytes after the embedded APDU",
                                                offset: inner.r.offset))
            }
        } catch {
            inner.errors.append(error)
        }
        errors.append(contentsOf: inner.errors)
        return inner.fields
    }

    // MARK: - Tree building

    // The node arguments are autoclosures: without a tree they are never evaluated (no names looked up, no strings
    // formatted, no nodes allocated). Anything with a side effect (reading bytes, setting facts, `nested`) must
    // therefore be done before the call, never inside its arguments.
    mutating func add(_ node: @autoclosure () -> Node) {
        if tree { fields.append(node()) }
    }

    mutating func add(_ name: String, _ value: @autoclosure () -> Node.Value, meaning: @autoclosure () -> String? = nil,
                      at offset: Int) {
        if tree { fields.append(Node(name, value(), meaning: meaning(), offset: offset)) }
    }

    /// Decodes a group's children with `body`. The group is kept, with what was decoded, when `body` throws.
    mutating func group(_ name: String, _ value: @autoclosure () -> Node.Value = .none,
                        meaning: @autoclosure () -> String? = nil, at offset: Int,
                        isList: Bool = false, _ body: (inout APDUParser) throws(DecodeError) -> Void)
        throws(DecodeError)
    {
        guard tree else {
            try body(&self)
            return
        }
        let outer = fields
        fields = []
        var failure: DecodeError?
        do { try body(&self) } catch { failure = error }
        let children = fields
        fields = outer
        fields.append(Node(name, value(), meaning: meaning(), offset: offset, children: children, isList: isList))
        if let failure { throw failure }
    }

    /// A SEQUENCE OF with an A-XDR quantity: reads the count, checks it against the bytes left (each element takes
    /// at least `minimumSize` bytes), and decodes each element as a list item.
    mutating func sequence(_ name: String, minimumSize: Int = 1,
                           _ element: (inout APDUParser, Int) throws(DecodeError) -> Void) throws(DecodeError)
    {
        let start = r.offset
        let count = try r.length(name)
        guard count <= r.remaining / max(minimumSize, 1) else {
            throw DecodeError("apdu.bad-count", "\(name): \(count) elements announced, \(r.remaining) bytes left",
                              offset: start)
        }
        try group(name, .uint(UInt64(count)), at: start, isList: true) { (p: inout APDUParser) throws(DecodeError) in
            for i in 0..<count { try element(&p, i) }
        }
    }

    // MARK: - Common xDLMS fields

    /// The CHOICE byte of a service, shown as `variant`. Returns the choice.
    mutating func variant(_ names: (UInt8) -> String?) throws(DecodeError) -> UInt8 {
        let at = r.offset
        let choice = try r.u8("service choice")
        guard let name = names(choice) else {
            add("variant", .uint(UInt64(choice)), at: at)
            throw DecodeError("apdu.bad-choice", "unknown \(facts.type) choice \(choice)", offset: at)
        }
        facts.variant = name
        add("variant", .string(name), at: at)
        return choice
    }

    /// Invoke-Id-And-Priority ::= Unsigned8: bits 0-3 invoke id, bit 6 service class (1 confirmed), bit 7
    /// priority (1 high) (IEC 62056-5-3 §8).
    mutating func invokeIDAndPriority() throws(DecodeError) {
        let at = r.offset
        let b = try r.u8("invoke-id-and-priority")
        facts.invokeID = UInt32(b & 0x0F)
        facts.confirmed = b & 0x40 != 0
        facts.priorityHigh = b & 0x80 != 0
        add(Node("invoke_id_and_priority", .uint(UInt64(b)), offset: at, children: [
            Node("invoke_id", .uint(UInt64(b & 0x0F)), offset: at),
            Node("service_class", .string(b & 0x40 != 0 ? "confirmed" : "unconfirmed"), offset: at),
            Node("priority", .string(b & 0x80 != 0 ? "high" : "normal"), offset: at),
        ]))
    }

    /// Long-Invoke-Id-And-Priority ::= Unsigned32: bits 0-23 invoke id, 28 break-on-error, 29 self-descriptive,
    /// 30 service class, 31 priority (IEC 62056-5-3 §8).
    mutating func longInvokeIDAndPriority() throws(DecodeError) {
        let at = r.offset
        let v = try r.u32("long-invoke-id-and-priority")
        facts.invokeID = v & 0xFF_FFFF
        facts.confirmed = v & 0x4000_0000 != 0
        facts.priorityHigh = v & 0x8000_0000 != 0
        add(Node("long_invoke_id_and_priority", .uint(UInt64(v)), offset: at, children: [
            Node("invoke_id", .uint(UInt64(v & 0xFF_FFFF)), offset: at),
            Node("self_descriptive", .bool(v & 0x2000_0000 != 0), offset: at),
            Node("processing_option", .string(v & 0x1000_0000 != 0 ? "break-on-error" : "continue-on-error"),
                 offset: at),
            Node("service_class", .string(v & 0x4000_0000 != 0 ? "confirmed" : "unconfirmed"), offset: at),
            Node("priority", .string(v & 0x8000_0000 != 0 ? "high" : "normal"), offset: at),
        ]))
    }

    /// Cosem-Attribute-Descriptor ::= SEQUENCE { class-id Unsigned16, instance-id OCTET STRING (SIZE(6)),
    /// attribute-id Integer8 } — or Cosem-Method-Descriptor with method-id. Appends the object to the facts.
    @discardableResult
    mutating func descriptor(method: Bool, name: String? = nil) throws(DecodeError) -> Int {
        let at = r.offset
        var ref = ObjectRef(classID: 0, obis: [])
        try group(name ?? (method ? "cosem_method_descriptor" : "cosem_attribute_descriptor"), at: at) {
            (p: inout APDUParser) throws(DecodeError) in
            let classAt = p.r.offset
            let classID = try p.r.u16("class-id")
            ref.classID = classID
            p.add("class_id", .uint(UInt64(classID)), meaning: COSEM.className(classID), at: classAt)
            let obisAt = p.r.offset
            guard let obis = p.r.readSlice(6) else { throw APDUError.truncated("instance-id", obisAt) }
            ref.obis = OBIS(obis)
            p.add("instance_id", .string(COSEM.formatOBIS(obis)), meaning: COSEM.obisName(obis), at: obisAt)
            let idAt = p.r.offset
            let id = Int8(bitPattern: try p.r.u8(method ? "method-id" : "attribute-id"))
            if method {
                ref.methodID = id
                p.add("method_id", .int(Int64(id)), meaning: COSEM.methodName(classID: classID, method: Int(id)),
                      at: idAt)
            } else {
                ref.attributeID = id
                p.add("attribute_id", .int(Int64(id)),
                      meaning: COSEM.attributeName(classID: classID, attribute: Int(id)), at: idAt)
            }
        }
        facts.objects.append(ref)
        return facts.objects.count - 1
    }

    /// Selective-Access-Descriptor ::= SEQUENCE { access-selector Unsigned8, access-parameters Data }, preceded
    /// by an A-XDR OPTIONAL flag when `optional`. Records the selector on object `objectIndex`.
    mutating func accessSelection(optional: Bool, objectIndex: Int) throws(DecodeError) {
        let at = r.offset
        if optional {
            let present = try r.u8("access-selection flag")
            if present == 0 { return }
        }
        try group("access_selection", at: at) { (p: inout APDUParser) throws(DecodeError) in
            let selAt = p.r.offset
            let selector = try p.r.u8("access-selector")
            if objectIndex < p.facts.objects.count { p.facts.objects[objectIndex].selector = selector }
            p.add("access_selector", .uint(UInt64(selector)), meaning: Self.selectorName(selector), at: selAt)
            let paramAt = p.r.offset
            guard p.tree else {
                // Facts only: the parameters are checked (same errors, same bytes consumed) without building them.
                try AXDR.skipData(&p.r)
                return
            }
            let paramReader = p.r
            let params = try p.r.data()
            p.add("access_parameters", .data(params), at: paramAt)
            if p.tree, let described = Self.describeSelection(selector, params, at: paramReader) { p.add(described) }
        }
    }

    static func selectorName(_ s: UInt8) -> String? {
        switch s {
        case 1: "range_descriptor"
        case 2: "entry_descriptor"
        default: nil
        }
    }

    /// Profile generic selective access (Blue Book class 7): selector 1 range_descriptor ::= structure
    /// { restricting_object capture_object_definition, from_value, to_value, selected_values array }, selector 2
    /// entry_descriptor ::= structure { from_entry, to_entry double-long-unsigned, from_selected_value,
    /// to_selected_value long-unsigned }. `at` is a reader positioned on the encoded parameters, used only to
    /// give every named field its offset.
    static func describeSelection(_ selector: UInt8, _ v: DataValue, at reader: ByteReader) -> Node? {
        guard case .structure(let items) = v, items.count == 4,
              let offsets = elementOffsets(reader, count: 4) else { return nil }
        switch selector {
        case 1:
            var children: [Node] = []
            if case .structure(let ro) = items[0], ro.count == 4 {
                var q = reader
                _ = q.skip(offsets[0] - reader.offset)
                let roOffsets = elementOffsets(q, count: 4) ?? [offsets[0], offsets[0], offsets[0], offsets[0]]
                var roChildren: [Node] = []
                if let c = ro[0].integerValue, let cid = UInt16(exactly: c) {
                    roChildren.append(Node("class_id", .uint(UInt64(cid)), meaning: COSEM.className(cid),
                                           offset: roOffsets[0]))
                }
                if case .octetString(let ln) = ro[1] {
                    roChildren.append(Node("logical_name", .string(COSEM.formatOBIS(ln)), meaning: COSEM.obisName(ln),
                                           offset: roOffsets[1]))
                }
                if let a = ro[2].integerValue { roChildren.append(Node("attribute_index", .int(a), offset: roOffsets[2])) }
                if let d = ro[3].integerValue { roChildren.append(Node("data_index", .int(d), offset: roOffsets[3])) }
                children.append(Node("restricting_object", offset: offsets[0], children: roChildren))
            }
            children.append(Node("from_value", .data(items[1]), offset: offsets[1]))
            children.append(Node("to_value", .data(items[2]), offset: offsets[2]))
            children.append(Node("selected_values", .data(items[3]), offset: offsets[3]))
            return Node("range_descriptor", offset: reader.offset, children: children)
        case 2:
            let names = ["from_entry", "to_entry", "from_selected_value", "to_selected_value"]
            var children: [Node] = []
            for (i, item) in items.enumerated() {
                if let n = item.integerValue { children.append(Node(names[i], .int(n), offset: offsets[i])) }
            }
            return Node("entry_descriptor", offset: reader.offset, children: children)
        default:
            return nil
        }
    }

    /// Offsets of the elements of the structure at the reader's position (nil when it is not a structure of
    /// `count` well-formed elements).
    static func elementOffsets(_ reader: ByteReader, count: Int) -> [Int]? {
        var q = reader
        guard q.readUInt8() == 2, q.readAXDRLength() == count else { return nil }
        var offsets: [Int] = []
        offsets.reserveCapacity(count)
        for _ in 0..<count {
            offsets.append(q.offset)
            guard (try? AXDR.decodeData(&q)) != nil else { return nil }
        }
        return offsets
    }

    /// A Data value, in the tree and in the facts.
    mutating func dataField(_ name: String) throws(DecodeError) {
        let at = r.offset
        guard tree else {
            // Facts only: the value is checked (same errors) and kept as its bytes, decoded if it is read.
            let whole = r.bytes
            try AXDR.skipData(&r)
            facts.appendValueBytes(whole[whole.startIndex..<r.bytes.startIndex])
            return
        }
        let v = try r.data()
        facts.appendValue(v)
        add(name, .data(v), at: at)
    }

    /// Get-Data-Result ::= CHOICE { data [0] Data, data-access-result [1] IMPLICIT Data-Access-Result }.
    /// Returns the result name (`success` for data).
    @discardableResult
    mutating func getDataResult(_ name: String = "result") throws(DecodeError) -> String {
        let at = r.offset
        var result = "success"
        try group(name, at: at) { (p: inout APDUParser) throws(DecodeError) in
            let choice = try p.r.u8("get-data-result choice")
            switch choice {
            case 0: try p.dataField("data")
            case 1: result = try p.dataAccessResult("data_access_result")
            default:
                throw DecodeError("apdu.bad-choice", "get-data-result choice \(choice)", offset: at)
            }
        }
        return result
    }

    mutating func dataAccessResult(_ name: String) throws(DecodeError) -> String {
        let at = r.offset
        let v = try r.u8("data-access-result")
        let meaning = APDUNames.dataAccessResult(v)
        add(name, .uint(UInt64(v)), meaning: meaning ?? "unknown", at: at)
        return meaning ?? "unknown"
    }

    mutating func actionResult(_ name: String) throws(DecodeError) -> String {
        let at = r.offset
        let v = try r.u8("action-result")
        let meaning = APDUNames.actionResult(v)
        add(name, .uint(UInt64(v)), meaning: meaning ?? "unknown", at: at)
        return meaning ?? "unknown"
    }

    mutating func blockNumber32(_ name: String = "block_number") throws(DecodeError) -> UInt32 {
        let at = r.offset
        let v = try r.u32("block-number")
        add(name, .uint(UInt64(v)), at: at)
        return v
    }

    mutating func boolean(_ name: String) throws(DecodeError) -> Bool {
        let at = r.offset
        let v = try r.u8(name)
        add(name, .bool(v != 0), at: at)
        return v != 0
    }

    /// An A-XDR OCTET STRING (length + bytes), shown as bytes.
    @discardableResult
    mutating func octets(_ name: String, meaning: String? = nil) throws(DecodeError) -> ArraySlice<UInt8> {
        let at = r.offset
        let s = try r.octetString(name)
        add(name, .bytes(s), meaning: meaning, at: at)
        return s
    }

    /// DataBlock-SA ::= SEQUENCE { last-block BOOLEAN, block-number Unsigned32, raw-data OCTET STRING } and
    /// DataBlock-G (with a CHOICE of raw-data [0] or data-access-result [1]).
    mutating func dataBlock(_ name: String, kind: BlockFacts.Kind, withChoice: Bool) throws(DecodeError) {
        let at = r.offset
        var block = BlockFacts(kind: kind, blockNumber: 0, lastBlock: false)
        try group(name, at: at) { (p: inout APDUParser) throws(DecodeError) in
            block.lastBlock = try p.boolean("last_block")
            block.blockNumber = try p.blockNumber32()
            var choice: UInt8 = 0
            if withChoice {
                let cAt = p.r.offset
                choice = try p.r.u8("datablock result choice")
                guard choice <= 1 else {
                    throw DecodeError("apdu.bad-choice", "DataBlock-G result choice \(choice)", offset: cAt)
                }
            }
            if choice == 0 {
                let raw = try p.octets("raw_data")
                block.rawData = Array(raw)
            } else {
                let res = try p.dataAccessResult("data_access_result")
                block.dataAccessResult = res
                p.facts.result = res
            }
        }
        facts.block = block
    }
}

// MARK: - Reading helpers

enum APDUError {
    static func truncated(_ what: String, _ offset: Int) -> DecodeError {
        DecodeError("apdu.truncated", "\(what) cut short", offset: offset)
    }
}

extension ByteReader {
    mutating func u8(_ what: String) throws(DecodeError) -> UInt8 {
        guard let v = readUInt8() else { throw APDUError.truncated(what, offset) }
        return v
    }

    mutating func u16(_ what: String) throws(DecodeError) -> UInt16 {
        guard let v = readUInt16() else { throw APDUError.truncated(what, offset) }
        return v
    }

    mutating func u32(_ what: String) throws(DecodeError) -> UInt32 {
        guard let v = readUInt32() else { throw APDUError.truncated(what, offset) }
        return v
    }

    /// An A-XDR length/quantity.
    mutating func length(_ what: String) throws(DecodeError) -> Int {
        let at = offset
        guard let first = peekUInt8() else { throw APDUError.truncated(what, at) }
        guard let n = readAXDRLength() else {
            if first > 0x84 || first == 0x80 {
                throw DecodeError("apdu.bad-length", "\(what): unsupported length form 0x\(Hex.encode([first]))",
                                  offset: at)
            }
            throw APDUError.truncated(what, at)
        }
        return n
    }

    /// An A-XDR OCTET STRING: length then bytes (a view, no copy).
    mutating func octetString(_ what: String) throws(DecodeError) -> ArraySlice<UInt8> {
        let at = offset
        let n = try length(what)
        guard let s = readSlice(n) else {
            throw DecodeError("apdu.truncated", "\(what): \(n) bytes announced, \(remaining) left", offset: at)
        }
        return s
    }

    mutating func data() throws(DecodeError) -> DataValue {
        try AXDR.decodeData(&self)
    }
}
