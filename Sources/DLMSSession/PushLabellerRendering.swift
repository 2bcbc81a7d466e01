import DLMSAPDU
import DLMSWire

/// How labelled push values are shown, for the renderers (a `"labels"` array beside a data-notification's
/// `"service"`, and indented lines under its text tree).
///
/// ```json
/// "labels": [{"obis": "1.0.32.7.0.255", "obis_name": "…", "class_id": 3, "attribute_id": 2,
///             "value": {"type": "long-unsigned", "value": 2308},
///             "scaled": {"value": 230.8, "text": "230.8", "unit": "V", "scaler": -1, "unit_code": 35}}]
/// ```
extension LabelledValue {
    /// Writes `values` as a JSON array (the caller writes the `"labels"` key).
    public static func writeJSON(_ values: [LabelledValue], into j: inout JSONBuffer) {
        j.beginArray()
        for v in values {
            j.beginObject()
            j.field("obis", COSEM.dottedOBIS(v.obis))
            if let n = v.name { j.field("obis_name", n) }
            if let c = v.classID { j.field("class_id", c) }
            if let a = v.attributeID { j.field("attribute_id", a) }
            j.key("value")
            if let c = v.classID, let a = v.attributeID {
                v.value.renderable(classID: c, attribute: Int(a)).writeJSON(into: &j)
            } else {
                v.value.writeJSON(into: &j)
            }
            if let s = v.scaled {
                j.key("scaled")
                j.beginObject()
                j.key("value")
                j.double(s.value)
                j.field("text", s.text)
                if let u = s.unit { j.field("unit", u) }
                j.field("scaler", s.scalerUnit.scaler)
                j.field("unit_code", s.scalerUnit.unit)
                j.endObject()
            }
            j.endObject()
        }
        j.endArray()
    }

    /// One text line: `1-0:32.7.0.255 Voltage L1 = 230.8 V (long-unsigned 2308)`.
    public var textLine: String {
        var s = COSEM.formatOBIS(obis)
        if let n = name { s += " " + n }
        s += " = "
        if let sc = scaled {
            s += sc.text
            if let u = sc.unit { s += " " + u }
            s += " (" + value.textSummary + ")"
        } else {
            s += value.textSummary
        }
        return s
    }
}
