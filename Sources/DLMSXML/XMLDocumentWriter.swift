import DLMSWire

/// The security verdict of one protection layer as `--format xml` shows it: names and numbers only, never a key.
public struct XMLSecurityVerdict: Sendable, Hashable {
    /// `glo`, `ded`, `general-glo`, `general-ded`, `general-ciphering`, `general-signing`.
    public var protection: String
    public var securityControl: UInt8?
    public var systemTitle: [UInt8]?
    public var invocationCounter: UInt32?
    /// The key's role (`guek`, `dedicated`, …), never its value.
    public var key: String?
    /// `verified`, `decrypted-unverified`, `authentication-failed`, `no-key`, `unsupported`.
    public var verdict: String
    public var detail: String?

    public init(protection: String, securityControl: UInt8? = nil, systemTitle: [UInt8]? = nil,
                invocationCounter: UInt32? = nil, key: String? = nil, verdict: String, detail: String? = nil) {
        self.protection = protection
        self.securityControl = securityControl
        self.systemTitle = systemTitle
        self.invocationCounter = invocationCounter
        self.key = key
        self.verdict = verdict
        self.detail = detail
    }
}

/// `--format xml`: one well-formed document, written as a stream of independent pieces.
///
/// ```xml
/// <?xml version="1.0" encoding="utf-8"?>
/// <dlmsdump xmlns:x="http://www.dlms.com/COSEMpdu" format="1">
///   <apdu frames="8 9" time="2024-03-01T12:00:00.000000Z" conversation="c1" direction="client->server">
///     <x:xDLMS-APDU> …the wire APDU… </x:xDLMS-APDU>
///     <plain>
///       <x:xDLMS-APDU> …the decrypted APDU… </x:xDLMS-APDU>
///     </plain>
///     <security protection="glo" security-control="48" system-title="4D4D4D0000BC614E" invocation-counter="5"
///               key="guek" verdict="verified" />
///     <finding code="apdu.truncated" offset="12">…</finding>
///   </apdu>
///   …
/// </dlmsdump>
/// ```
///
/// Each call returns a complete piece; the writer keeps no state between APDUs, so memory stays constant. A run
/// that stops early stays one valid document as long as the caller writes `end()` (or `endInterrupted`) after
/// the last complete `apdu` piece, e.g. from its SIGINT handler. Secrets (`secrets` byte ranges: an LLS
/// password, a dedicated key) are replaced by `*` in the element text unless `showSecrets` is set.
public struct XMLDocumentWriter: Sendable {
    public var showSecrets: Bool
    public var naming: XMLNaming

    public init(showSecrets: Bool = false, naming: XMLNaming = .gurux) {
        self.showSecrets = showSecrets
        self.naming = naming
    }

    public static let rootName = "dlmsdump"

    public func begin(source: String? = nil) -> String {
        var s = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<\(Self.rootName) xmlns:x=\"\(DLMSXML.namespace)\" format=\"1\""
        if let source {
            s += " source=\""
            XMLEscape.append(source, to: &s, attribute: true)
            s += "\""
        }
        return s + ">\n"
    }

    public func end() -> String { "</\(Self.rootName)>\n" }

    /// The end of a document cut short (SIGINT, a broken input): a comment saying so, then the root's end tag.
    public func endInterrupted(reason: String) -> String {
        "  <!-- interrupted: \(reason.replacingDoubleDashes()) -->\n" + end()
    }

    /// One `apdu` element. `time` is the capture time as text (RFC 3339); `findings` are the decoding problems
    /// of this APDU; `verdict` the outer protection layer and `innerVerdicts` any nested ones.
    public func apdu(frames: [Int], time: String?, conversation: String, direction: String?,
                     wire: ArraySlice<UInt8>, plain: ArraySlice<UInt8>? = nil, verdict: XMLSecurityVerdict? = nil,
                     innerVerdicts: [XMLSecurityVerdict] = [], findings: [DecodeError] = [],
                     wireSecrets: [Range<Int>] = [], plainSecrets: [Range<Int>] = []) -> String {
        var s = "  <apdu frames=\""
        for (i, f) in frames.enumerated() {
            if i > 0 { s += " " }
            s += String(f)
        }
        s += "\""
        if let time { s += " time=\"\(XMLEscape.escaped(time, attribute: true))\"" }
        s += " conversation=\"\(XMLEscape.escaped(conversation, attribute: true))\""
        if let direction { s += " direction=\"\(XMLEscape.escaped(direction, attribute: true))\"" }
        s += ">\n"
        masked(XMLTranslator.apduToElement(wire, naming: naming), wire, wireSecrets).write(into: &s, indent: 2)
        if let plain {
            s += "    <plain>\n"
            masked(XMLTranslator.apduToElement(plain, naming: naming), plain, plainSecrets).write(into: &s, indent: 3)
            s += "    </plain>\n"
        }
        for v in [verdict].compactMap({ $0 }) + innerVerdicts { security(v).write(into: &s, indent: 2, prefix: "") }
        for f in findings {
            var e = XElement("finding", text: f.message, attributes: [XAttribute("code", f.code)])
            if let o = f.offset { e.attributes.append(XAttribute("offset", String(o))) }
            e.write(into: &s, indent: 2, prefix: "")
        }
        s += "  </apdu>\n"
        return s
    }

    /// Input that did not give an APDU (a framing error, a truncated segment): `<error code offset frames …>`.
    public func error(frames: [Int], time: String?, conversation: String, code: String, message: String,
                      offset: Int?) -> String {
        var e = XElement("error", text: message, attributes: Self.provenance(frames, time, conversation, nil))
        e.attributes.append(XAttribute("code", code))
        if let offset { e.attributes.append(XAttribute("offset", String(offset))) }
        var s = ""
        e.write(into: &s, indent: 1, prefix: "")
        return s
    }

    /// A link frame that carries no APDU (SNRM, UA, RR, DISC …): `<link type="UA" control="115" …/>`.
    public func link(frames: [Int], time: String?, conversation: String, direction: String?, type: String,
                     control: UInt8?) -> String {
        var e = XElement("link", attributes: Self.provenance(frames, time, conversation, direction))
        e.attributes.append(XAttribute("type", type))
        if let control { e.attributes.append(XAttribute("control", String(control))) }
        var s = ""
        e.write(into: &s, indent: 1, prefix: "")
        return s
    }

    static func provenance(_ frames: [Int], _ time: String?, _ conversation: String, _ direction: String?)
        -> [XAttribute]
    {
        var a = [XAttribute("frames", frames.map(String.init).joined(separator: " "))]
        if let time { a.append(XAttribute("time", time)) }
        a.append(XAttribute("conversation", conversation))
        if let direction { a.append(XAttribute("direction", direction)) }
        return a
    }

    func security(_ v: XMLSecurityVerdict) -> XElement {
        var a = [XAttribute("protection", v.protection)]
        if let sc = v.securityControl { a.append(XAttribute("security-control", String(sc))) }
        if let st = v.systemTitle { a.append(XAttribute("system-title", Hex.encode(st, uppercase: true))) }
        if let ic = v.invocationCounter { a.append(XAttribute("invocation-counter", String(ic))) }
        if let k = v.key { a.append(XAttribute("key", k)) }
        a.append(XAttribute("verdict", v.verdict))
        return XElement("security", text: v.detail ?? "", attributes: a)
    }

    /// The tree with the hex of every secret replaced by `*` in element text.
    func masked(_ e: XElement, _ bytes: ArraySlice<UInt8>, _ secrets: [Range<Int>]) -> XElement {
        guard !showSecrets, !secrets.isEmpty else { return e }
        let needles: [String] = secrets.compactMap { r in
            let lo = bytes.startIndex + r.lowerBound
            let hi = bytes.startIndex + r.upperBound
            guard r.lowerBound >= 0, lo <= hi, hi <= bytes.endIndex, hi > lo else { return nil }
            return Hex.encode(bytes[lo..<hi], uppercase: true)
        }
        return Self.mask(e, needles)
    }

    static func mask(_ e: XElement, _ needles: [String]) -> XElement {
        var out = e
        for n in needles where out.text.contains(n) {
            out.text = out.text.replacingAll(n, with: String(repeating: "*", count: n.utf8.count))
        }
        out.children = e.children.map { mask($0, needles) }
        return out
    }
}

extension String {
    /// `self` with every occurrence of `needle` replaced (no Foundation).
    func replacingAll(_ needle: String, with replacement: String) -> String {
        guard !needle.isEmpty else { return self }
        var out = ""
        var rest = self[...]
        while let r = rest.range(of: needle) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }

    func replacingDoubleDashes() -> String { replacingAll("--", with: "- -") }
}

extension Substring {
    /// The first range of `needle` (stdlib only).
    func range(of needle: String) -> Range<Index>? {
        let n = Array(needle.utf8)
        guard let first = n.first else { return nil }
        var i = startIndex
        while i < endIndex {
            if utf8[i] == first, self[i...].utf8.starts(with: n) {
                let end = utf8.index(i, offsetBy: n.count)
                return i..<end
            }
            i = utf8.index(after: i)
        }
        return nil
    }
}
