import DLMSWire

// MARK: - Hints

/// What the caller knows about a value that its bytes alone do not say (from the attribute it was read from, or
/// from its position in a structure). Only changes how the value is shown, never how it was decoded.
public struct DataRenderHint: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// A 6-byte octet-string is a logical name (OBIS code).
    public static let logicalName = DataRenderHint(rawValue: 1)
    /// A 12/5/4-byte octet-string is a date-time / date / time, even when it does not look plausible.
    public static let dateTime = DataRenderHint(rawValue: 2)
    /// A `structure { integer, enum }` is a scaler_unit (Register, Extended/Demand register, Register table).
    public static let scalerUnit = DataRenderHint(rawValue: 4)
}

/// A value with a rendering hint: what `textChildren` hands out, and what callers can put in a `Node` when they
/// know more than the bytes (`Node("value", .data(HintedDataValue(v, hint: .logicalName)))`).
public struct HintedDataValue: DataRenderable {
    public var value: DataValue
    public var hint: DataRenderHint
    public init(_ value: DataValue, hint: DataRenderHint) {
        self.value = value
        self.hint = hint
    }
    public func writeJSON(into out: inout JSONBuffer) { value.writeJSON(into: &out, hint: hint) }
    public var textSummary: String { value.textSummary(hint: hint) }
    public var textChildren: [any DataRenderable] { value.textChildren }
}

// MARK: - DataRenderable

extension JSONBuffer {
    /// `{<members>value}` for an integer-valued data type; `members` ends with `"value":`.
    @inline(__always) mutating func scalar<T: BinaryInteger>(_ members: StaticString, _ v: T) {
        beginObject(members: members, endsWithKey: true)
        int(v)
        endObject()
    }
}

extension DataValue: DataRenderable {
    /// The JSON contract: `{"type": "<A-XDR type name>", "value": ...}` for simple values, `{"type": "array" |
    /// "structure", "items": [...]}` for containers, `{"type": "compact-array", "description": ..., "items": [...]}`.
    /// Octet-strings give `value` as lower-case hex and add `date_time` (a plausible 12-byte date-time), `obis` and
    /// `obis_name` (6 bytes with a logical-name hint, or after a class id in a structure) or `text` (printable).
    public func writeJSON(into out: inout JSONBuffer) { writeJSON(into: &out, hint: []) }

    public var textSummary: String { textSummary(hint: []) }

    public var textChildren: [any DataRenderable] {
        switch self {
        case .array(let items):
            return items.map { $0 as any DataRenderable }
        case .structure(let items):
            let hints = DataValue.structureHints(items)
            var out: [any DataRenderable] = []
            out.reserveCapacity(items.count)
            for (i, v) in items.enumerated() {
                out.append(hints[i].isEmpty ? v as any DataRenderable : HintedDataValue(v, hint: hints[i]))
            }
            return out
        case .compactArray(_, let elements):
            return elements.map { $0 as any DataRenderable }
        default:
            return []
        }
    }

    public func writeJSON(into out: inout JSONBuffer, hint: DataRenderHint) {
        // Integers, booleans and nulls (most values of a profile buffer): the members up to the value in one copy.
        switch self {
        case .doubleLong(let v): out.scalar(#""type":"double-long","value":"#, v)
        case .doubleLongUnsigned(let v): out.scalar(#""type":"double-long-unsigned","value":"#, v)
        case .bcd(let v): out.scalar(#""type":"bcd","value":"#, v)
        case .integer(let v): out.scalar(#""type":"integer","value":"#, v)
        case .long(let v): out.scalar(#""type":"long","value":"#, v)
        case .unsigned(let v): out.scalar(#""type":"unsigned","value":"#, v)
        case .longUnsigned(let v): out.scalar(#""type":"long-unsigned","value":"#, v)
        case .long64(let v): out.scalar(#""type":"long64","value":"#, v)
        case .long64Unsigned(let v): out.scalar(#""type":"long64-unsigned","value":"#, v)
        case .enumValue(let v): out.scalar(#""type":"enum","value":"#, v)
        case .boolean(let b):
            out.beginObject(members: #""type":"boolean","value":"#, endsWithKey: true)
            out.bool(b)
            out.endObject()
        case .nullData:
            out.beginObject(members: #""type":"null-data","value":"#, endsWithKey: true)
            out.null()
            out.endObject()
        case .dontCare:
            out.beginObject(members: #""type":"dont-care","value":"#, endsWithKey: true)
            out.null()
            out.endObject()
        case .octetString(let b):
            out.beginObject(members: #""type":"octet-string","value":"#, endsWithKey: true)
            out.hex(b)
            DataValue.writeOctetStringForms(b, hint: hint, into: &out)
            out.endObject()
        default:
            writeJSONObject(into: &out, hint: hint)
        }
    }

    /// The `"type"` member of each tag, serialised (`typeName` as JSON).
    static func typeMember(_ tag: UInt8) -> StaticString? {
        switch tag {
        case 1: #""type":"array""#
        case 2: #""type":"structure""#
        case 4: #""type":"bit-string""#
        case 9: #""type":"octet-string""#
        case 10: #""type":"visible-string""#
        case 12: #""type":"utf8-string""#
        case 19: #""type":"compact-array""#
        case 23: #""type":"float32""#
        case 24: #""type":"float64""#
        case 25: #""type":"date-time""#
        case 26: #""type":"date""#
        case 27: #""type":"time""#
        default: nil
        }
    }

    func writeJSONObject(into out: inout JSONBuffer, hint: DataRenderHint) {
        if let member = Self.typeMember(tag) {
            out.beginObject(members: member, endsWithKey: false)
        } else {
            out.beginObject()
            out.field(literal: "type", typeName)
        }
        switch self {
        case .nullData, .dontCare:
            out.key(literal: "value"); out.null()
        case .array(let items):
            out.key(literal: "items")
            out.beginArray()
            items.forEachInPlace { _, v in v.writeJSON(into: &out, hint: []) }
            out.endArray()
        case .structure(let items):
            out.key(literal: "items")
            out.beginArray()
            items.forEachInPlace { i, v in v.writeJSON(into: &out, hint: DataValue.structureHint(items, i)) }
            out.endArray()
            if hint.contains(.scalerUnit), let su = ScalerUnit(from: self) {
                out.key(literal: "scaler_unit")
                out.beginObject()
                out.field(literal: "scaler", su.scaler)
                out.field(literal: "unit", su.unit)
                if let u = COSEM.unit(su.unit) {
                    out.field(literal: "unit_symbol", u.symbol)
                    out.field(literal: "unit_name", u.name)
                }
                out.endObject()
            }
        case .compactArray(let desc, let elements):
            out.key(literal: "description")
            desc.writeJSON(into: &out)
            out.key(literal: "items")
            out.beginArray()
            for v in elements { v.writeJSON(into: &out, hint: []) }
            out.endArray()
        case .boolean(let b): out.key(literal: "value"); out.bool(b)
        case .bitString(let bytes, let count):
            out.field(literal: "value", DataValue.bitText(bytes, count))
            out.key(literal: "hex"); out.hex(bytes)
        case .doubleLong(let v): out.field(literal: "value", v)
        case .doubleLongUnsigned(let v): out.field(literal: "value", v)
        case .bcd(let v): out.field(literal: "value", v)
        case .integer(let v): out.field(literal: "value", v)
        case .long(let v): out.field(literal: "value", v)
        case .unsigned(let v): out.field(literal: "value", v)
        case .longUnsigned(let v): out.field(literal: "value", v)
        case .long64(let v): out.field(literal: "value", v)
        case .long64Unsigned(let v): out.field(literal: "value", v)
        case .enumValue(let v): out.field(literal: "value", v)
        case .float32(let v):
            out.key(literal: "value")
            if v.isFinite { out.raw("\(v)") } else { out.double(Double(v)) }
        case .float64(let v): out.key(literal: "value"); out.double(v)
        case .octetString(let b):
            out.key(literal: "value"); out.hex(b)
            DataValue.writeOctetStringForms(b, hint: hint, into: &out)
        case .visibleString(let b):
            out.field(literal: "value", String(decoding: b, as: UTF8.self))
            if !DataValue.isPrintableASCII(b) { out.key(literal: "hex"); out.hex(b) }
        case .utf8String(let b):
            if let s = String(validating: b, as: UTF8.self) {
                out.field(literal: "value", s)
            } else {
                out.field(literal: "value", String(decoding: b, as: UTF8.self))
                out.key(literal: "hex"); out.hex(b)
            }
        case .dateTime(let b), .date(let b), .time(let b):
            if let d = COSEM.decodeDateTime(b) {
                out.field(literal: "value", d.iso8601)
                out.key(literal: "hex"); out.hex(b)
                out.key(literal: "date_time"); d.writeJSON(into: &out)
            } else {
                out.key(literal: "value"); out.hex(b)
                out.field(literal: "invalid", true)
            }
        }
        out.endObject()
    }

    /// Appends `textSummary(hint:)` to `s`; integers, containers and octet-strings (most lines of a profile
    /// buffer) without building the summary as a String of its own first.
    public func appendTextSummary(to s: inout String, hint: DataRenderHint) {
        switch self {
        case .array(let items):
            s += "array["
            s += String(items.count)
            s += "]"
        case .structure(let items) where !hint.contains(.scalerUnit):
            s += "structure["
            s += String(items.count)
            s += "]"
        case .octetString(let b):
            s += "octet-string "
            s += Hex.encode(b)
            if let form = DataValue.octetStringReading(b, hint: hint) {
                s += " ("
                s += form
                s += ")"
            }
        case .doubleLong, .doubleLongUnsigned, .bcd, .integer, .long, .unsigned, .longUnsigned, .long64,
             .enumValue:
            s += typeName
            s += " "
            s += String(integerValue ?? 0)
        default:
            s += textSummary(hint: hint)
        }
    }

    /// A compact one-line form: `double-long-unsigned 123456`, `octet-string 0000010000ff (0-0:1.0.0*255, Clock)`,
    /// `date-time 2024-03-01T12:00:00.00+01:00`, `structure[4]`, `compact-array[300] of structure{...}`.
    public func textSummary(hint: DataRenderHint) -> String {
        switch self {
        case .nullData: return "null-data"
        case .dontCare: return "dont-care"
        case .array(let items): return "array[\(items.count)]"
        case .structure(let items):
            if hint.contains(.scalerUnit), let su = ScalerUnit(from: self) {
                return "structure[\(items.count)] (scaler_unit \(su))"
            }
            return "structure[\(items.count)]"
        case .compactArray(let desc, let elements):
            return "compact-array[\(elements.count)] of \(desc.text)"
        case .boolean(let b): return "boolean \(b)"
        case .bitString(let bytes, let count): return "bit-string \(DataValue.bitText(bytes, count)) (\(count) bits)"
        case .float32(let v): return "float32 \(v)"
        case .float64(let v): return "float64 \(v)"
        case .long64Unsigned(let v): return "long64-unsigned \(v)"
        case .octetString(let b):
            var s = "octet-string " + Hex.encode(b)
            if let form = DataValue.octetStringReading(b, hint: hint) { s += " (\(form))" }
            return s
        case .visibleString(let b), .utf8String(let b):
            return "\(typeName) \"\(DataValue.escapedText(b))\""
        case .dateTime(let b), .date(let b), .time(let b):
            if let d = COSEM.decodeDateTime(b) { return "\(typeName) \(d.summary)" }
            return "\(typeName) \(Hex.encode(b)) (invalid)"
        default:
            if let v = integerValue { return "\(typeName) \(v)" }
            return typeName
        }
    }

    // MARK: Octet-string readings

    /// Hints for the items of a structure: an octet-string of 6 bytes right after a long-unsigned class id of a
    /// known class (object_list entries {class_id, version, logical_name, ...}; capture_objects {class_id,
    /// logical_name, attribute_index, data_index}; push object lists; script actions) is a logical name.
    static func structureHints(_ items: [DataValue]) -> [DataRenderHint] {
        items.indices.map { structureHint(items, $0) }
    }

    /// The hint of item `i` alone (renderers write items one by one: no array of hints per structure).
    @inline(__always)
    public static func structureHint(_ items: [DataValue], _ i: Int) -> DataRenderHint {
        guard i >= 1, i < items.count, case .octetString(let b) = items[i], b.count == 6 else { return [] }
        var classAt = i - 1
        if classAt >= 1, case .unsigned = items[classAt] { classAt -= 1 }  // a version between them
        if case .longUnsigned(let cid) = items[classAt], COSEM.className(cid) != nil { return .logicalName }
        return []
    }

    @inline(__always)
    static func writeOctetStringForms(_ b: [UInt8], hint: DataRenderHint, into out: inout JSONBuffer) {
        writeOctetStringForms(b[...], hint: hint, into: &out)
    }

    /// The members after an octet-string's `value` (`obis`/`obis_name`, `date_time` or `text`), from its bytes.
    static func writeOctetStringForms(_ b: ArraySlice<UInt8>, hint: DataRenderHint, into out: inout JSONBuffer) {
        if b.count == 6, hint.contains(.logicalName) {
            out.field(literal: "obis", COSEM.dottedOBIS(b))
            if let n = COSEM.obisName(b) { out.field(literal: "obis_name", n) }
            return
        }
        // The common case, a 12-byte date-time with no special values and no clock status bits, straight from
        // its bytes; everything else through `COSEMDateTime`.
        if b.count == 12, writeSimpleDateTime(b, plausibleOnly: !hint.contains(.dateTime), into: &out) { return }
        if let d = dateTimeReading(b, hint: hint, iso: false) {
            out.key(literal: "date_time"); d.writeJSON(into: &out)
            return
        }
        if !b.isEmpty, isPrintableASCII(b) {
            out.field(literal: "text", String(decoding: b, as: UTF8.self))
        }
    }

    /// Writes `"date_time":{...}` for a 12-byte date-time exactly as `COSEMDateTime.writeJSON` does, when the bytes
    /// are a valid date-time (`COSEMDateTime.decode`; with `plausibleOnly`, also `COSEM.isPlausible`) with no
    /// special month/day value and a clock status of 0 or unspecified. Returns false, having written nothing, for
    /// any other bytes (the caller then takes the general path).
    static func writeSimpleDateTime(_ b: [UInt8], plausibleOnly: Bool, into out: inout JSONBuffer) -> Bool {
        writeSimpleDateTime(b[...], plausibleOnly: plausibleOnly, into: &out)
    }

    static func writeSimpleDateTime(_ b: ArraySlice<UInt8>, plausibleOnly: Bool, into out: inout JSONBuffer)
        -> Bool
    {
        guard b.count == 12 else { return false }
        let o = b.startIndex
        let year = UInt16(b[o]) << 8 | UInt16(b[o + 1])
        let month = b[o + 2], day = b[o + 3], weekday = b[o + 4]
        let hour = b[o + 5], minute = b[o + 6], second = b[o + 7], hundredths = b[o + 8]
        let deviation = Int16(bitPattern: UInt16(b[o + 9]) << 8 | UInt16(b[o + 10]))
        let status = b[o + 11]
        guard month >= 1 && month <= 12 || month == 0xFF, day >= 1 && day <= 31 || day == 0xFF,
              weekday >= 1 && weekday <= 7 || weekday == 0xFF, hour < 24 || hour == 0xFF,
              minute < 60 || minute == 0xFF, second < 60 || second == 0xFF, hundredths < 100 || hundredths == 0xFF,
              deviation == Int16.min || deviation >= -720 && deviation <= 720, status == 0 || status == 0xFF
        else { return false }
        if plausibleOnly, year != 0xFFFF, year < 1970 || year > 2199 { return false }
        // The whole member in one bounds-checked run: `"date_time":{...}` is at most about 230 bytes.
        out.fragment(maxLength: 256) { w in
            w.literal(#""date_time":{"iso8601":""#)
            // Two digits, or `**` when unspecified (0xFF).
            @inline(__always) func two(_ v: UInt8) {
                if v == 0xFF { w.literal("**") } else { w.twoDigits(v) }
            }
            if year == 0xFFFF {
                w.literal("****")
            } else {
                if year >= 10000 { w.byte(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: year / 10000)) }
                w.twoDigits(UInt8(truncatingIfNeeded: year / 100 % 100))
                w.twoDigits(UInt8(truncatingIfNeeded: year % 100))
            }
            w.byte(UInt8(ascii: "-")); two(month)
            w.byte(UInt8(ascii: "-")); two(day)
            w.byte(UInt8(ascii: "T")); two(hour)
            w.byte(UInt8(ascii: ":")); two(minute)
            w.byte(UInt8(ascii: ":")); two(second)
            if hundredths != 0xFF { w.byte(UInt8(ascii: ".")); two(hundredths) }
            if deviation != Int16.min {
                // ISO offset = -deviation (see DateTime.swift on the sign); |deviation| <= 720 here.
                let offset = -Int(deviation)
                let a = Swift.abs(offset)
                w.byte(offset < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
                w.twoDigits(UInt8(truncatingIfNeeded: a / 60))
                w.byte(UInt8(ascii: ":"))
                w.twoDigits(UInt8(truncatingIfNeeded: a % 60))
            }
            if deviation == Int16.min {
                w.literal(#"","kind":"date-time","deviation":null,"utc_offset_minutes":null"#)
            } else if deviation == 0 {
                w.literal(#"","kind":"date-time","deviation":0,"utc_offset_minutes":0"#)
            } else {
                w.literal(#"","kind":"date-time","deviation":"#)
                w.decimal(Int(deviation))
                w.literal(#","utc_offset_minutes":"#)
                w.decimal(-Int(deviation))
            }
            if status == 0xFF {
                w.literal(#","clock_status":null,"clock_status_flags":[],"day_of_week":"#)
            } else {
                w.literal(#","clock_status":0,"clock_status_flags":[],"day_of_week":"#)
            }
            switch weekday {
            case 1: w.literal(#""Monday"}"#)
            case 2: w.literal(#""Tuesday"}"#)
            case 3: w.literal(#""Wednesday"}"#)
            case 4: w.literal(#""Thursday"}"#)
            case 5: w.literal(#""Friday"}"#)
            case 6: w.literal(#""Saturday"}"#)
            case 7: w.literal(#""Sunday"}"#)
            default: w.literal("null}")
            }
        }
        return true
    }

    static func octetStringReading(_ b: [UInt8], hint: DataRenderHint) -> String? {
        if b.count == 6, hint.contains(.logicalName) {
            let ln = COSEM.formatOBIS(b)
            if let n = COSEM.obisName(b) { return "\(ln), \(n)" }
            return ln
        }
        if let d = dateTimeReading(b, hint: hint) { return "\(d.kind.rawValue) \(d.summary)" }
        if !b.isEmpty, isPrintableASCII(b) { return "\"\(String(decoding: b, as: UTF8.self))\"" }
        return nil
    }

    /// The date-time an octet-string holds: any valid 12/5/4-byte form with a date-time hint, otherwise only a
    /// plausible 12-byte date-time (`COSEM.isPlausibleDateTime`).
    static func dateTimeReading(_ b: [UInt8], hint: DataRenderHint, iso: Bool = true) -> COSEMDateTime? {
        dateTimeReading(b[...], hint: hint, iso: iso)
    }

    static func dateTimeReading(_ b: ArraySlice<UInt8>, hint: DataRenderHint, iso: Bool = true) -> COSEMDateTime? {
        if hint.contains(.dateTime) { return COSEMDateTime.decode(b, iso: iso) }
        guard b.count == 12, let d = COSEMDateTime.decode(b, iso: iso), COSEM.isPlausible(d) else { return nil }
        return d
    }

    static func isPrintableASCII(_ b: [UInt8]) -> Bool {
        for c in b where c < 0x20 || c > 0x7E { return false }
        return true
    }

    static func isPrintableASCII(_ b: ArraySlice<UInt8>) -> Bool {
        for c in b where c < 0x20 || c > 0x7E { return false }
        return true
    }

    static func escapedText(_ b: [UInt8]) -> String {
        if isPrintableASCII(b) { return String(decoding: b, as: UTF8.self) }
        var out: [UInt8] = []
        for c in b {
            if c >= 0x20, c <= 0x7E, c != UInt8(ascii: "\\") {
                out.append(c)
            } else {
                out.append(contentsOf: "\\x".utf8)
                out.append(contentsOf: Hex.encode(CollectionOfOne(c)).utf8)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func bitText(_ bytes: [UInt8], _ count: Int) -> String {
        let n = min(count, bytes.count * 8)
        var out = [UInt8](repeating: UInt8(ascii: "0"), count: n)
        for i in 0..<n where bytes[i / 8] & (0x80 >> UInt8(i % 8)) != 0 { out[i] = UInt8(ascii: "1") }
        return String(decoding: out, as: UTF8.self)
    }
}

// MARK: - Type descriptions and date-times

extension TypeDescription {
    /// `"long-unsigned"`, `{"type": "array", "count": n, "element": ...}`, `{"type": "structure", "items": [...]}`.
    public func writeJSON(into out: inout JSONBuffer) {
        switch self {
        case .simple(let tag):
            out.string(DataValue.typeName(tag: tag) ?? "unknown-\(tag)")
        case .array(let count, let element):
            out.beginObject()
            out.members(#""type":"array""#)
            out.field(literal: "count", count)
            out.key(literal: "element")
            element.writeJSON(into: &out)
            out.endObject()
        case .structure(let items):
            out.beginObject()
            out.members(#""type":"structure""#)
            out.key(literal: "items")
            out.beginArray()
            for d in items { d.writeJSON(into: &out) }
            out.endArray()
            out.endObject()
        }
    }

    /// `long-unsigned`, `array[96] of unsigned`, `structure{date-time, double-long-unsigned}`.
    public var text: String {
        switch self {
        case .simple(let tag): DataValue.typeName(tag: tag) ?? "unknown-\(tag)"
        case .array(let count, let element): "array[\(count)] of \(element.text)"
        case .structure(let items): "structure{" + items.map(\.text).joined(separator: ", ") + "}"
        }
    }
}

extension COSEMDateTime {
    /// `{"iso8601", "kind", "deviation", "utc_offset_minutes", "clock_status", "clock_status_flags",
    /// "day_of_week", "specials"}`; `null` for what is not specified.
    public func writeJSON(into out: inout JSONBuffer) {
        out.beginObject()
        out.key(literal: "iso8601")
        if iso8601.isEmpty {
            // Decoded without its text (`decode(_:iso:)`): written in place.
            out.unescapedString(maxLength: Self.maximumISOLength) { writeISO($0) }
        } else {
            out.string(iso8601)
        }
        switch kind {
        case .dateTime: out.members(#""kind":"date-time""#, endsWithKey: false)
        case .date: out.members(#""kind":"date""#, endsWithKey: false)
        case .time: out.members(#""kind":"time""#, endsWithKey: false)
        }
        if kind == .dateTime {
            out.key(literal: "deviation")
            if let d = deviation { out.int(d) } else { out.null() }
            out.key(literal: "utc_offset_minutes")
            if let o = utcOffsetMinutes { out.int(o) } else { out.null() }
            out.key(literal: "clock_status")
            if let s = clockStatus { out.int(s) } else { out.null() }
            out.key(literal: "clock_status_flags")
            out.beginArray()
            for n in clockStatusNames { out.string(n) }
            out.endArray()
        }
        if kind != .time {
            out.key(literal: "day_of_week")
            if let d = dayOfWeekName { out.string(d) } else { out.null() }
        }
        if !specials.isEmpty {
            out.key(literal: "specials")
            out.beginArray()
            for s in specials { out.string(s) }
            out.endArray()
        }
        out.endObject()
    }

    /// The ISO form plus what it cannot say: `2024-03-01T12:00:00.00+01:00 [daylight-saving-active]`,
    /// `****-**-**T02:00:00 (last-day-of-month, Sunday)`.
    public var summary: String {
        var extra: [String] = specials
        if let d = dayOfWeekName, !isFullySpecified || !specials.isEmpty { extra.append(d) }
        var s = iso8601
        if !extra.isEmpty { s += " (" + extra.joined(separator: ", ") + ")" }
        if !clockStatusNames.isEmpty { s += " [" + clockStatusNames.joined(separator: ", ") + "]" }
        return s
    }
}

// MARK: - Scaler and unit

/// A Register's `scaler_unit` (Blue Book 4.3.2): `structure { scaler integer, unit enum }`; the physical value is
/// value × 10^scaler in `unit`.
public struct ScalerUnit: Sendable, Hashable, CustomStringConvertible {
    public var scaler: Int8
    public var unit: UInt8

    public init(scaler: Int8, unit: UInt8) {
        self.scaler = scaler
        self.unit = unit
    }

    /// Reads `structure { integer, enum }`; lenient on the integer types used (any integer in −128...127 and an
    /// enum or unsigned unit), nil for anything else.
    public init?(from value: DataValue) {
        guard case .structure(let items) = value, items.count == 2,
              let s = items[0].integerValue, let sc = Int8(exactly: s) else { return nil }
        switch items[1] {
        case .enumValue(let u), .unsigned(let u): self.init(scaler: sc, unit: u)
        default: return nil
        }
    }

    /// The unit symbol, nil for "count"/"no unit" (255), "other" (254) and codes the table does not define.
    public var unitSymbol: String? {
        guard unit != 255, unit != 254 else { return nil }
        return COSEM.unit(unit)?.symbol
    }

    /// `10^-1 V`, `10^0 Wh`, `10^3 count`.
    public var description: String {
        let u = COSEM.unit(unit)?.symbol ?? "unit \(unit)"
        return "10^\(scaler) \(u)"
    }
}

extension DataValue {
    /// The physical value as exact decimal text with its unit symbol: 1234 × 10^-1 Wh → "123.4 Wh", 5 × 10^3 W →
    /// "5000 W"; count/no unit gives the number alone. nil when the value is not a number.
    public func scaled(by su: ScalerUnit) -> String? {
        let number: String
        switch self {
        case .float32(let f): number = DataValue.scaledFloat(Double(f), su.scaler)
        case .float64(let f): number = DataValue.scaledFloat(f, su.scaler)
        case .long64Unsigned(let v): number = DataValue.shiftDecimal(String(v), negative: false, by: Int(su.scaler))
        default:
            guard let v = integerValue else { return nil }
            number = DataValue.shiftDecimal(String(v.magnitude), negative: v < 0, by: Int(su.scaler))
        }
        if let sym = su.unitSymbol { return "\(number) \(sym)" }
        return number
    }

    static func scaledFloat(_ v: Double, _ scaler: Int8) -> String {
        var p = 1.0
        for _ in 0..<Int(scaler.magnitude) { p *= 10 }
        return "\(scaler < 0 ? v / p : v * p)"
    }

    /// Moves the decimal point of the digit string `digits` by `by` places (exact, no floating point).
    static func shiftDecimal(_ digits: String, negative: Bool, by shift: Int) -> String {
        var d = Array(digits.utf8)
        if shift >= 0 {
            if d != [UInt8(ascii: "0")] { d.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: shift)) }
        } else {
            let frac = -shift
            if d.count <= frac { d.insert(contentsOf: repeatElement(UInt8(ascii: "0"), count: frac - d.count + 1), at: 0) }
            d.insert(UInt8(ascii: "."), at: d.count - frac)
            // Trailing zeros stay: they show the resolution the meter reports (2300 × 10^-1 V → "230.0 V").
        }
        let s = String(decoding: d, as: UTF8.self)
        return negative ? "-" + s : s
    }
}

// MARK: - Hints by attribute

extension COSEM {
    /// What the Blue Book says an attribute's top-level value is, for rendering: attribute 1 (logical_name) of
    /// every class is a logical name; scaler_unit attributes are `{scaler, unit}`; the date-time attributes below
    /// are octet-strings holding a date-time (the Clock's time, daylight-saving begin/end, capture times, activation
    /// times).
    public static func renderHint(classID: UInt16, attribute: Int) -> DataRenderHint {
        if attribute == 1 { return .logicalName }
        switch (classID, attribute) {
        case (3, 3), (4, 3), (5, 4), (61, 4), (67, 8):  // scaler_unit
            return .scalerUnit
        case (8, 2), (8, 5), (8, 6),  // Clock: time, daylight_savings_begin, daylight_savings_end
             (4, 5),  // Extended register: capture_time
             (5, 6), (5, 7),  // Demand register: capture_time, start_time_current
             (20, 10),  // Activity calendar: activate_passive_calendar_time
             (47, 8),  // GSM diagnostic: capture_time
             (65, 3),  // Parameter monitor: capture_time
             (67, 10),  // Sensor manager: capture_time
             (77, 9),  // M-Bus diagnostic: capture_time
             (111, 13), (111, 14),  // Account: account_activation_time, account_closure_time
             (113, 7), (113, 10),  // Charge: unit_charge_activation_time, last_collection_time
             (115, 3),  // Token gateway: token_time
             (40, 13):  // Push setup: last_confirmation_date_time
            return .dateTime
        default:
            return []
        }
    }
}

extension DataValue {
    /// The value ready for a `Node`, with the hint its attribute implies (`COSEM.renderHint`): e.g.
    /// `Node("data", .data(value.renderable(classID: 8, attribute: 2)))`.
    public func renderable(classID: UInt16, attribute: Int) -> any DataRenderable {
        let hint = COSEM.renderHint(classID: classID, attribute: attribute)
        return hint.isEmpty ? self : HintedDataValue(self, hint: hint)
    }
}
