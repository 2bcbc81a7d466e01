import DLMSWire

/// One field of an ACSE APDU: its BER tag, element name and how its content is written, in both directions.
///
/// ```
/// AARQ ::= [APPLICATION 0] IMPLICIT SEQUENCE {            AARE ::= [APPLICATION 1] IMPLICIT SEQUENCE {
///   protocol-version            [0]  BIT STRING            protocol-version             [0]  BIT STRING
///   application-context-name    [1]  OBJECT IDENTIFIER     application-context-name     [1]  OBJECT IDENTIFIER
///   called-AP-title             [2]  AP-title              result                       [2]  INTEGER
///   called-AE-qualifier         [3]                        result-source-diagnostic     [3]  CHOICE
///   called-AP-invocation-id     [4]                        responding-AP-title          [4]
///   called-AE-invocation-id     [5]                        responding-AE-qualifier      [5]
///   calling-AP-title            [6]                        responding-AP-invocation-id  [6]
///   calling-AE-qualifier        [7]                        responding-AE-invocation-id  [7]
///   calling-AP-invocation-id    [8]                        responder-acse-requirements  [8]  IMPLICIT BIT STRING
///   calling-AE-invocation-id    [9]                        mechanism-name               [9]  IMPLICIT OID
///   sender-acse-requirements    [10] IMPLICIT BIT STRING   responding-authentication-value [10] CHOICE
///   mechanism-name              [11] IMPLICIT OID          implementation-information   [29]
///   calling-authentication-value [12] CHOICE               user-information             [30]
///   implementation-information  [29]                     }
///   user-information            [30] (OCTET STRING: the xDLMS InitiateRequest, possibly ciphered) }
/// RLRQ/RLRE ::= { reason [0] IMPLICIT INTEGER, user-information [30] }
/// ```
/// Sources: IEC 62056-5-3 §7.2; Gurux `GXAPDU.py` (parsePDU, generateAARQ) for the encodings Gurux reads.
struct ACSEField {
    enum Form {
        /// OBJECT IDENTIFIER `06 07 60 85 74 05 08 <arc> <n>`, written as `n` (Gurux).
        case contextOID(arc: UInt8)
        /// The same OID without the universal tag (IMPLICIT): `60 85 74 05 08 02 n`.
        case mechanismOID
        /// BIT STRING content (unused-bits byte + bytes), written as binary digits.
        case bits
        /// An explicitly tagged OCTET STRING (`04 len bytes`), written as hex of the bytes.
        case octetString
        /// An explicitly tagged INTEGER `02 01 n`, written in decimal.
        case integer
        /// An implicit INTEGER of one byte, written as a name from `names` or decimal.
        case reason(request: Bool)
        /// result-source-diagnostic: `A1|A2 03 02 01 n` → `<acse-service-user>n</…>` or `acse-service-provider`.
        case diagnostic
        /// Authentication-value CHOICE: `80 len bytes` → `<charstring>hex</charstring>` (Gurux), other choices
        /// as `<bitstring>`, `<external>`, `<other>` with the hex of their content.
        case authenticationValue
        /// Anything else: the hex of the content.
        case raw
    }

    let tag: UInt8
    let name: String
    let form: Form

    static let aarq: [ACSEField] = [
        .init(tag: 0x80, name: "protocol-version", form: .bits),
        .init(tag: 0xA1, name: "application-context-name", form: .contextOID(arc: 1)),
        .init(tag: 0xA2, name: "called-ap-title", form: .octetString),
        .init(tag: 0xA3, name: "called-ae-qualifier", form: .octetString),
        .init(tag: 0xA4, name: "called-ap-invocation-id", form: .raw),
        .init(tag: 0xA5, name: "called-ae-invocation-id", form: .raw),
        .init(tag: 0xA6, name: "CallingAPTitle", form: .octetString),
        .init(tag: 0xA7, name: "calling-Ae-qualifier", form: .octetString),
        .init(tag: 0xA8, name: "calling-ap-invocation-id", form: .raw),
        .init(tag: 0xA9, name: "calling-AE-invocation-id", form: .raw),
        .init(tag: 0x8A, name: "sender-acse-requirements", form: .bits),
        .init(tag: 0x8B, name: "mechanism-name", form: .mechanismOID),
        .init(tag: 0xAC, name: "calling-authentication-value", form: .authenticationValue),
        .init(tag: 0xBD, name: "implementation-information", form: .raw),
        .init(tag: 0xBE, name: "user-information", form: .octetString),
    ]

    static let aare: [ACSEField] = [
        .init(tag: 0x80, name: "protocol-version", form: .bits),
        .init(tag: 0xA1, name: "application-context-name", form: .contextOID(arc: 1)),
        .init(tag: 0xA2, name: "result", form: .integer),
        .init(tag: 0xA3, name: "result-source-diagnostic", form: .diagnostic),
        .init(tag: 0xA4, name: "RespondingAPTitle", form: .octetString),
        .init(tag: 0xA5, name: "responding-AE-qualifier", form: .octetString),
        .init(tag: 0xA6, name: "responding-AP-invocation-id", form: .raw),
        .init(tag: 0xA7, name: "responding-AE-invocation-id", form: .raw),
        .init(tag: 0x88, name: "responder-acse-requirements", form: .bits),
        .init(tag: 0x89, name: "mechanism-name", form: .mechanismOID),
        .init(tag: 0xAA, name: "responding-authentication-value", form: .authenticationValue),
        .init(tag: 0xBD, name: "implementation-information", form: .raw),
        .init(tag: 0xBE, name: "user-information", form: .octetString),
    ]

    static let rlrq: [ACSEField] = [
        .init(tag: 0x80, name: "reason", form: .reason(request: true)),
        .init(tag: 0xBE, name: "user-information", form: .octetString),
    ]

    static let rlre: [ACSEField] = [
        .init(tag: 0x80, name: "reason", form: .reason(request: false)),
        .init(tag: 0xBE, name: "user-information", form: .octetString),
    ]

    static func table(apdu: UInt8) -> [ACSEField] {
        switch apdu {
        case 0x60: aarq
        case 0x61: aare
        case 0x62: rlrq
        default: rlre
        }
    }

    static func field(apdu: UInt8, tag: UInt8) -> ACSEField? {
        table(apdu: apdu).first { $0.tag == tag }
    }

    /// The field for an element name, accepting our names, Gurux's and the ASN.1 spellings (case-insensitive).
    static func field(apdu: UInt8, name: String) -> ACSEField? {
        let n = XMLAliases.canonical(name).lowercased()
        return table(apdu: apdu).first { $0.name.lowercased() == n }
    }

    static let dlmsOIDPrefix: [UInt8] = [0x60, 0x85, 0x74, 0x05, 0x08]

    // MARK: - Bytes → element

    func element(_ c: ArraySlice<UInt8>, at offset: Int) throws(Malformed) -> XElement {
        let bad = Malformed("\(name) has an unexpected encoding", offset: offset)
        let a = Array(c)
        switch form {
        case .contextOID(let arc):
            guard a.count == 9, a[0] == 0x06, a[1] == 7, Array(a[2..<7]) == Self.dlmsOIDPrefix, a[7] == arc
            else { throw bad }
            return XElement(name, text: String(a[8]))
        case .mechanismOID:
            guard a.count == 7, Array(a[0..<5]) == Self.dlmsOIDPrefix, a[5] == 2 else { throw bad }
            return XElement(name, text: String(a[6]))
        case .bits:
            guard let first = a.first, first < 8, a.count > 1 || first == 0 else { throw bad }
            let nbits = (a.count - 1) * 8 - Int(first)
            var s = ""
            for k in 0..<nbits { s += a[1 + k / 8] & (0x80 >> UInt8(k % 8)) != 0 ? "1" : "0" }
            return XElement(name, text: s)
        case .octetString:
            guard a.count >= 2, a[0] == 0x04 else { throw bad }
            var r = ByteReader(c.dropFirst())
            guard let n = r.readAXDRLength(), n == r.remaining else { throw bad }
            return XElement(name, text: Hex.encode(r.readRest(), uppercase: true))
        case .integer:
            guard a.count == 3, a[0] == 0x02, a[1] == 1 else { throw bad }
            return XElement(name, text: String(a[2]))
        case .reason(let request):
            guard a.count == 1 else { throw bad }
            let v = a[0]
            let label = request ? XMLNames.releaseRequestReason(v) : XMLNames.releaseResponseReason(v)
            return XElement(name, text: label ?? String(v))
        case .diagnostic:
            guard a.count == 5, a[0] == 0xA1 || a[0] == 0xA2, a[1] == 3, a[2] == 0x02, a[3] == 1 else { throw bad }
            let choice = a[0] == 0xA1 ? "acse-service-user" : "acse-service-provider"
            return XElement(name, children: [XElement(choice, text: String(a[4]))])
        case .authenticationValue:
            guard a.count >= 2, let label = Self.authenticationChoice(a[0]) else { throw bad }
            var r = ByteReader(c.dropFirst())
            guard let n = r.readAXDRLength(), n == r.remaining else { throw bad }
            return XElement(name, children: [XElement(label, text: Hex.encode(r.readRest(), uppercase: true))])
        case .raw:
            return XElement(name, text: Hex.encode(c, uppercase: true))
        }
    }

    static func authenticationChoice(_ tag: UInt8) -> String? {
        switch tag {
        case 0x80: "charstring"
        case 0x81: "bitstring"
        case 0xA2: "external"
        case 0xA3: "other"
        default: nil
        }
    }

    // MARK: - Element → bytes

    /// The content bytes of the field (without its tag and length).
    func content(_ e: XElement) throws(XMLEncodeError) -> [UInt8] {
        let text = e.text.trimmingXMLSpace()
        switch form {
        case .contextOID(let arc):
            return [0x06, 7] + Self.dlmsOIDPrefix + [arc, try XMLValue.uint8(e)]
        case .mechanismOID:
            return Self.dlmsOIDPrefix + [2, try XMLValue.uint8(e)]
        case .bits:
            return try XMLValue.bitString(e, withUnusedByte: true)
        case .octetString:
            let b = try XMLValue.hex(e)
            var out: [UInt8] = [0x04]
            XMLValue.appendLength(b.count, to: &out)
            return out + b
        case .integer:
            return [0x02, 1, try XMLValue.uint8(e)]
        case .reason(let request):
            let table = request ? XMLNames.releaseRequestReason : XMLNames.releaseResponseReason
            guard let v = XMLNames.value(text, in: table) else {
                throw XMLEncodeError(.badValue, "'\(text)' is not a release reason", at: e)
            }
            return [v]
        case .diagnostic:
            guard e.children.count == 1, let c = e.children.first else {
                throw XMLEncodeError(.missingElement, "expects acse-service-user or acse-service-provider", at: e)
            }
            let choice: UInt8
            switch c.name {
            case "acse-service-user": choice = 0xA1
            case "acse-service-provider": choice = 0xA2
            default: throw XMLEncodeError(.unexpectedElement, "not a result-source-diagnostic choice", at: c)
            }
            return [choice, 3, 0x02, 1, try XMLValue.uint8(c)]
        case .authenticationValue:
            guard e.children.count == 1, let c = e.children.first else {
                throw XMLEncodeError(.missingElement, "expects charstring, bitstring, external or other", at: e)
            }
            let tag: UInt8
            switch c.name {
            case "charstring": tag = 0x80
            case "bitstring": tag = 0x81
            case "external": tag = 0xA2
            case "other": tag = 0xA3
            default: throw XMLEncodeError(.unexpectedElement, "not an authentication-value choice", at: c)
            }
            let b = try XMLValue.hex(c)
            var out: [UInt8] = [tag]
            XMLValue.appendLength(b.count, to: &out)
            return out + b
        case .raw:
            return try XMLValue.hex(e)
        }
    }
}
