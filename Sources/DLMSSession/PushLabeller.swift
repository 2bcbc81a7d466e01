import DLMSAPDU
import DLMSWire

/// One entry of a Push setup's push_object_list (IC 40 attribute 2, IEC 62056-6-2 §4.4.8):
///
///     capture_object_definition ::= structure { class_id: long-unsigned, logical_name: octet-string(6),
///                                               attribute_index: integer, data_index: long-unsigned }
public struct CaptureObject: Sendable, Hashable {
    public var classID: UInt16
    public var obis: [UInt8]
    public var attributeID: Int8
    public var dataIndex: UInt16

    public init(classID: UInt16, obis: [UInt8], attributeID: Int8, dataIndex: UInt16 = 0) {
        self.classID = classID
        self.obis = obis
        self.attributeID = attributeID
        self.dataIndex = dataIndex
    }
}

/// A value scaled by its register's scaler_unit: `raw × 10^scaler`, with the unit.
public struct ScaledValue: Sendable, Hashable {
    public var value: Double
    /// The exact decimal text (`230.8`, `9108`, `0.05`), without floating-point noise.
    public var text: String
    /// Unit symbol (`V`, `Wh`, ...) when the unit code is known.
    public var unit: String?
    public var scalerUnit: ScalerUnitInfo
}

/// A push value with the COSEM object it came from.
public struct LabelledValue: Sendable, Hashable {
    /// Logical name (6 bytes).
    public var obis: [UInt8]
    public var classID: UInt16?
    public var attributeID: Int8?
    /// The OBIS code's name (`Active energy import (+A)`, ...), when known.
    public var name: String?
    public var value: DataValue
    /// The value scaled by the register's scaler_unit (from the body or learned from the capture).
    public var scaled: ScaledValue?

    public init(obis: [UInt8], classID: UInt16? = nil, attributeID: Int8? = nil, name: String? = nil,
                value: DataValue, scaled: ScaledValue? = nil) {
        self.obis = obis
        self.classID = classID
        self.attributeID = attributeID
        self.name = name
        self.value = value
        self.scaled = scaled
    }

    /// `1-0:32.7.0.255`.
    public var obisText: String { COSEM.formatOBIS(obis) }
}

/// Labels the values of a push (DataNotification body) with the COSEM objects they come from.
///
/// Sources of labels, most authoritative first:
/// 1. A push_object_list learned from the capture: a GET of Push setup (IC 40) attribute 2 (`learn(object:value:)`),
///    or a body that carries the list itself (Landis+Gyr E450/E570: the first value of the body is the
///    push_object_list, whose first entry names the Push setup's attribute 2).
/// 2. Fixed lists known by their version string: Kaifa `KFM_001` (Norwegian HAN), by list length.
/// 3. Bodies that name their values: `{octet-string(6) OBIS, value [, scaler_unit]}` structures (Kaifa MA309 on
///    Austrian customer ports, Aidon HAN), or OBIS codes alternating with values in one structure (Kamstrup HAN).
///    A 6-byte octet-string is taken for a logical name only where a value follows it and the bytes pass
///    `COSEM.looksLikeOBIS`.
///
/// Scaler/units come from the body's own `{scaler, unit}` structures or from GETs of register attribute 3
/// learned with `learn(object:value:)`. Bounded: at most `maxLists` lists, `maxScalerUnits` scaler/units and
/// `maxValues` labelled values per body.
public struct PushLabeller: Sendable {
    public static let maxLists = 64
    public static let maxScalerUnits = 4096
    public static let maxValues = 1024

    /// push_object_list by Push setup logical name.
    public private(set) var pushObjectLists: [[UInt8]: [CaptureObject]] = [:]
    /// scaler_unit by register logical name.
    public private(set) var scalerUnits: [[UInt8]: ScalerUnitInfo] = [:]

    public init() {}

    // MARK: - Learning

    /// Learns from one attribute value read from the capture (a GET response paired with its request):
    /// Push setup attribute 2 (push_object_list), Register/Extended register attribute 3 and Demand register
    /// attribute 4 (scaler_unit).
    public mutating func learn(object: ObjectRef, value: DataValue) {
        switch (object.classID, object.attributeID) {
        case (40, 2):
            if let list = Self.captureObjects(from: value) { remember(list: list, for: Array(object.obis)) }
        case (3, 3), (4, 3), (5, 4):
            if let su = ConversationState.scalerUnit(from: value) { remember(scalerUnit: su, for: Array(object.obis)) }
        default:
            break
        }
    }

    /// Whether `learn(object:value:)` can learn anything from a value of `object` (so a value built on demand is
    /// built only then).
    public static func learns(from object: ObjectRef) -> Bool {
        switch (object.classID, object.attributeID) {
        case (40, 2), (3, 3), (4, 3), (5, 4): true
        default: false
        }
    }

    /// Pairs a GET response with the request it answers (normal: one object, with-list: one value per object).
    public mutating func observe(request: [ObjectRef], response: ServiceFacts) {
        guard response.type == "get-response", !request.isEmpty, request.count == response.valueCount else {
            return
        }
        // Values are decoded only for the objects learnt from (they may be kept as bytes until read).
        guard request.contains(where: Self.learns(from:)) else { return }
        for (o, v) in zip(request, response.values) { learn(object: o, value: v) }
    }

    /// Learns what a self-describing body tells (its own push_object_list, scaler/units next to values).
    public mutating func learn(notificationBody body: DataValue) {
        guard case .structure(let items) = body else { return }
        if let (list, _) = Self.embeddedList(items), let setup = list.first(where: { $0.classID == 40 }) {
            remember(list: list, for: setup.obis)
        }
        for v in label(body: body, pushSetup: nil) {
            if let su = v.scaled?.scalerUnit { remember(scalerUnit: su, for: v.obis) }
        }
    }

    private mutating func remember(list: [CaptureObject], for setup: [UInt8]) {
        guard pushObjectLists[setup] != nil || pushObjectLists.count < Self.maxLists else { return }
        pushObjectLists[setup] = list
    }

    private mutating func remember(scalerUnit: ScalerUnitInfo, for obis: [UInt8]) {
        guard scalerUnits[obis] != nil || scalerUnits.count < Self.maxScalerUnits else { return }
        scalerUnits[obis] = scalerUnit
    }

    // MARK: - Labelling

    /// Labels a DataNotification body. `pushSetup` names the Push setup whose list applies (nil: the only list
    /// learned, if exactly one was). Values that no source names are left out.
    public func label(body: DataValue, pushSetup: [UInt8]?) -> [LabelledValue] {
        let items: [DataValue]
        switch body {
        case .structure(let s), .array(let s): items = s
        default: items = [body]
        }
        // 1. The list the body carries itself.
        if let (list, _) = Self.embeddedList(items) {
            return zipList(list, items)
        }
        // 2. A list learned from the capture, when it fits the body.
        let learned: [CaptureObject]? = pushSetup.flatMap { pushObjectLists[$0] }
            ?? (pushObjectLists.count == 1 ? pushObjectLists.first?.value : nil)
        if let list = learned, list.count == items.count {
            return zipList(list, items)
        }
        // 3. Fixed lists named by their version string (Kaifa KFM_001, Norwegian HAN).
        if let layout = Self.kaifaKFM001(items) {
            var out: [LabelledValue] = []
            for ((obis, classID, su), v) in zip(layout, items) {
                out.append(make(obis: obis, classID: classID, attributeID: 2, value: v,
                                scalerUnit: su ?? scalerUnits[obis]))
            }
            return out
        }
        // 4. Bodies that name their values.
        return selfNamed(items)
    }

    /// The Kaifa KFM_001 HAN lists (Norway): no OBIS codes in the body, the list version string first and a fixed
    /// order known by the list's length (1-phase: 9 or 14 values, 3-phase: 13 or 18). Order and units from the
    /// Kaifa "HAN OBIS codes KFM_001" sheet as broken down in UtilitechAS/amsreader-firmware
    /// `Samples/Kaifa/Kaifa OBIS breakdown.md` (currents in mA, voltages in 0.1 V, energies in Wh, powers in W/var).
    static func kaifaKFM001(_ items: [DataValue]) -> [([UInt8], UInt16, ScalerUnitInfo?)]? {
        guard let first = items.first else { return nil }
        switch first {
        case .visibleString(let b), .octetString(let b):
            guard b == Array("KFM_001".utf8) else { return nil }
        default:
            return nil
        }
        let w = ScalerUnitInfo(scaler: 0, unit: 27), v = ScalerUnitInfo(scaler: 0, unit: 29)
        let ma = ScalerUnitInfo(scaler: -3, unit: 33), dv = ScalerUnitInfo(scaler: -1, unit: 35)
        let wh = ScalerUnitInfo(scaler: 0, unit: 30), varh = ScalerUnitInfo(scaler: 0, unit: 32)
        let head: [([UInt8], UInt16, ScalerUnitInfo?)] = [
            ([1, 1, 0, 2, 129, 255], 1, nil), ([0, 0, 96, 1, 0, 255], 1, nil), ([0, 0, 96, 1, 7, 255], 1, nil),
            ([1, 0, 1, 7, 0, 255], 3, w), ([1, 0, 2, 7, 0, 255], 3, w), ([1, 0, 3, 7, 0, 255], 3, v),
            ([1, 0, 4, 7, 0, 255], 3, v),
        ]
        let onePhase: [([UInt8], UInt16, ScalerUnitInfo?)] = [([1, 0, 31, 7, 0, 255], 3, ma),
                                                              ([1, 0, 32, 7, 0, 255], 3, dv)]
        let threePhase: [([UInt8], UInt16, ScalerUnitInfo?)] = [
            ([1, 0, 31, 7, 0, 255], 3, ma), ([1, 0, 51, 7, 0, 255], 3, ma), ([1, 0, 71, 7, 0, 255], 3, ma),
            ([1, 0, 32, 7, 0, 255], 3, dv), ([1, 0, 52, 7, 0, 255], 3, dv), ([1, 0, 72, 7, 0, 255], 3, dv),
        ]
        let hourly: [([UInt8], UInt16, ScalerUnitInfo?)] = [
            ([0, 0, 1, 0, 0, 255], 8, nil), ([1, 0, 1, 8, 0, 255], 3, wh), ([1, 0, 2, 8, 0, 255], 3, wh),
            ([1, 0, 3, 8, 0, 255], 3, varh), ([1, 0, 4, 8, 0, 255], 3, varh),
        ]
        switch items.count {
        case 9: return head + onePhase
        case 14: return head + onePhase + hourly
        case 13: return head + threePhase
        case 18: return head + threePhase + hourly
        default: return nil
        }
    }

    /// Labels an EventNotificationRequest: its COSEM-Attribute-Descriptor names the value it carries.
    public func label(event: ServiceFacts) -> [LabelledValue] {
        guard event.type == "event-notification-request", let o = event.objects.first,
              let v = event.values.first else { return [] }
        let obis = Array(o.obis)
        return [make(obis: obis, classID: o.classID, attributeID: o.attributeID, value: v,
                     scalerUnit: scalerUnits[obis])]
    }

    private func zipList(_ list: [CaptureObject], _ items: [DataValue]) -> [LabelledValue] {
        var out: [LabelledValue] = []
        for (o, v) in zip(list, items).prefix(Self.maxValues) {
            out.append(make(obis: o.obis, classID: o.classID, attributeID: o.attributeID, value: v,
                            scalerUnit: scalerUnits[o.obis]))
        }
        return out
    }

    /// Walks `{OBIS, value [, scaler_unit]}` structures and flat `OBIS, value` runs.
    private func selfNamed(_ items: [DataValue]) -> [LabelledValue] {
        var out: [LabelledValue] = []
        var i = 0
        while i < items.count, out.count < Self.maxValues {
            if let obis = Self.logicalName(items[i]), i + 1 < items.count, Self.logicalName(items[i + 1]) == nil {
                // Flat: OBIS, value [, scaler_unit]
                var su: ScalerUnitInfo? = nil
                var step = 2
                if i + 2 < items.count, let s = ConversationState.scalerUnit(from: items[i + 2]) {
                    su = s
                    step = 3
                }
                out.append(make(obis: obis, classID: nil, attributeID: nil, value: items[i + 1],
                                scalerUnit: su ?? scalerUnits[obis]))
                i += step
                continue
            }
            if case .structure(let inner) = items[i], inner.count == 2 || inner.count == 3,
               let obis = Self.logicalName(inner[0]) {
                let su = inner.count == 3 ? ConversationState.scalerUnit(from: inner[2]) : nil
                out.append(make(obis: obis, classID: nil, attributeID: nil, value: inner[1],
                                scalerUnit: su ?? scalerUnits[obis]))
            }
            i += 1
        }
        return out
    }

    private func make(obis: [UInt8], classID: UInt16?, attributeID: Int8?, value: DataValue,
                      scalerUnit: ScalerUnitInfo?) -> LabelledValue {
        var scaled: ScaledValue? = nil
        if let su = scalerUnit, let raw = value.integerValue, !Self.isEnumOrDate(value) {
            scaled = Self.scale(raw, su)
        }
        return LabelledValue(obis: obis, classID: classID, attributeID: attributeID, name: COSEM.obisName(obis),
                             value: value, scaled: scaled)
    }

    // MARK: - Helpers

    /// A push_object_list in the body: an array of capture object definitions with one entry per body value.
    static func embeddedList(_ items: [DataValue]) -> ([CaptureObject], Int)? {
        for (i, v) in items.enumerated() {
            guard case .array(let a) = v, a.count == items.count, let list = captureObjects(from: v) else { continue }
            return (list, i)
        }
        return nil
    }

    /// Reads a push_object_list value; nil unless every entry is a capture object definition.
    public static func captureObjects(from value: DataValue) -> [CaptureObject]? {
        guard case .array(let entries) = value, !entries.isEmpty, entries.count <= maxValues else { return nil }
        var out: [CaptureObject] = []
        out.reserveCapacity(entries.count)
        for e in entries {
            guard case .structure(let f) = e, f.count == 4,
                  case .longUnsigned(let classID) = f[0], case .octetString(let ln) = f[1], ln.count == 6,
                  case .integer(let attribute) = f[2], case .longUnsigned(let dataIndex) = f[3] else { return nil }
            out.append(CaptureObject(classID: classID, obis: ln, attributeID: attribute, dataIndex: dataIndex))
        }
        return out
    }

    /// A 6-byte octet-string that reads as a logical name.
    static func logicalName(_ v: DataValue) -> [UInt8]? {
        guard case .octetString(let b) = v, b.count == 6, COSEM.looksLikeOBIS(b) else { return nil }
        return b
    }

    static func isEnumOrDate(_ v: DataValue) -> Bool {
        switch v {
        case .enumValue, .dateTime, .date, .time, .boolean: true
        default: false
        }
    }

    /// `raw × 10^scaler` as a double and as exact decimal text.
    public static func scale(_ raw: Int64, _ su: ScalerUnitInfo) -> ScaledValue {
        let s = Int(su.scaler)
        let digits = String(raw.magnitude)
        var text: String
        if s >= 0 {
            text = digits == "0" ? "0" : digits + String(repeating: "0", count: s)
        } else {
            let k = -s
            let padded = digits.count <= k ? String(repeating: "0", count: k - digits.count + 1) + digits : digits
            let cut = padded.index(padded.endIndex, offsetBy: -k)
            var frac = String(padded[cut...])
            while frac.last == "0" { frac.removeLast() }
            text = String(padded[..<cut]) + (frac.isEmpty ? "" : "." + frac)
        }
        if raw < 0, text != "0" { text = "-" + text }
        // Parsing the exact decimal rounds once (2308 × 10^-1 reads back as 230.8); a scaler is an Int8, so the
        // text has at most 19 digits and 128 zeros.
        let value = Double(text) ?? Double(raw)
        return ScaledValue(value: value, text: text, unit: COSEM.unit(su.unit)?.symbol, scalerUnit: su)
    }
}
