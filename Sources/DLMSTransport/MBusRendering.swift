import DLMSWire

/// How an APDU carried by wired M-Bus is shown, for the renderers' `TransportKind.mbus(segments:)` case, so the
/// JSON and text forms are defined next to the frame type they describe.
///
/// JSON (members of the `"transport"` object):
///
/// ```json
/// {"type": "mbus", "c_field": 83, "function": "SND_UD", "a_field": 255, "stsap": 1, "dtsap": 103,
///  "segment_count": 2,
///  "segments": [{"frames": [1], "ci": 0, "segment": 0, "last": false, "length": 256, "checksum": 15},
///               {"frames": [2], "ci": 17, "segment": 1, "last": true, "length": 44, "checksum": 17}]}
/// ```
extension MBusFrameInfo {
    /// Writes the members of the `"transport"` object for an APDU carried by `segments` (first to last).
    public static func writeTransportJSON(_ segments: [MBusFrameInfo], into j: inout JSONBuffer) {
        j.field("type", "mbus")
        if let f = segments.first {
            if let c = f.control { j.field("c_field", c) }
            if let name = f.functionName { j.field("function", name) }
            if let a = f.address { j.field("a_field", a) }
            if let s = f.stsap { j.field("stsap", s) }
            if let d = f.dtsap { j.field("dtsap", d) }
        }
        j.field("segment_count", segments.count)
        j.key("segments")
        j.beginArray()
        for s in segments {
            j.beginObject()
            j.key("frames")
            j.beginArray()
            for f in s.frames { j.int(f) }
            j.endArray()
            if let ci = s.ci { j.field("ci", ci) }
            if let n = s.segmentNumber { j.field("segment", n) }
            if let l = s.lastSegment { j.field("last", l) }
            j.field("length", s.length)
            if let cs = s.checksum { j.field("checksum", cs) }
            j.endObject()
        }
        j.endArray()
    }

    /// One line for the text renderer: `mbus A=FF SND_UD STSAP 01→DTSAP 67, 2 segments`.
    public static func transportSummary(_ segments: [MBusFrameInfo]) -> String {
        guard let f = segments.first else { return "mbus" }
        var s = "mbus"
        if let a = f.address { s += " A=" + Hex.encode([a], uppercase: true) }
        if let name = f.functionName { s += " " + name } else if let c = f.control {
            s += " C=" + Hex.encode([c], uppercase: true)
        }
        if let st = f.stsap, let dt = f.dtsap {
            s += " STSAP " + Hex.encode([st], uppercase: true) + "→DTSAP " + Hex.encode([dt], uppercase: true)
        }
        if segments.count > 1 { s += ", \(segments.count) segments" }
        return s
    }
}
