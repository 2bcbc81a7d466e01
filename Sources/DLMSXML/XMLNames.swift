import DLMSAPDU

/// Name tables shared by `XMLTranslator` and `XMLEncoder`: element names of the A-XDR data types, enumerated
/// values written as names, and the conformance bits. Names follow Gurux's `TranslatorStandardTags` (which takes
/// most of them from the IEC 62056-5-3 ASN.1); the aliases the encoder also accepts are listed in `XMLAliases`.
enum XMLNames {
    // MARK: - Data types (IEC 62056-6-2 §4.1.5, Data ::= CHOICE)

    static func dataType(_ tag: UInt8) -> String? { DataValue.typeName(tag: tag) }

    static let dataTypeTags: [String: UInt8] = {
        var d: [String: UInt8] = [:]
        for t in 0...255 { if let n = dataType(UInt8(t)) { d[n] = UInt8(t) } }
        return d
    }()

    // MARK: - Enumerations written as names

    // The names are DLMSAPDU's (the same ones Gurux writes); kept under these names for the XML code.
    static func dataAccessResult(_ v: UInt8) -> String? { APDUNames.dataAccessResult(v) }
    static func actionResult(_ v: UInt8) -> String? { APDUNames.actionResult(v) }
    static func releaseRequestReason(_ v: UInt8) -> String? { APDUNames.releaseRequestReason(Int(v)) }
    static func releaseResponseReason(_ v: UInt8) -> String? { APDUNames.releaseResponseReason(Int(v)) }

    /// Looks `text` up in a name table over 0...255, or reads it as a decimal number.
    static func value(_ text: String, in table: (UInt8) -> String?) -> UInt8? {
        let t = text.trimmingXMLSpace()
        if let n = UInt8(t) { return n }
        let lower = t.lowercased()
        for v in 0...255 where table(UInt8(v)) == lower { return UInt8(v) }
        return nil
    }

    // MARK: - Conformance (IEC 62056-5-3 §7.3.1, Conformance ::= [APPLICATION 31] IMPLICIT BIT STRING (SIZE(24)))

    /// Bit 0 is the most significant bit of the first of the three bytes.
    static let conformanceBits: [String] = APDUNames.conformanceBits
}

extension StringProtocol {
    /// The text without leading and trailing XML whitespace (space, tab, CR, LF).
    func trimmingXMLSpace() -> String {
        let u = Array(utf8)
        var a = 0
        var b = u.count
        while a < b, u[a] == 0x20 || u[a] == 0x09 || u[a] == 0x0A || u[a] == 0x0D { a += 1 }
        while b > a, u[b - 1] == 0x20 || u[b - 1] == 0x09 || u[b - 1] == 0x0A || u[b - 1] == 0x0D { b -= 1 }
        return String(decoding: u[a..<b], as: UTF8.self)
    }
}

extension XMLNames {
    /// EXCEPTION-Response state-error and service-error (IEC 62056-5-3 §8), as DLMSAPDU names them.
    static func stateError(_ v: UInt8) -> String? { APDUNames.stateError(v) }
    static func serviceError(_ v: UInt8) -> String? { APDUNames.exceptionServiceError(v) }
}
