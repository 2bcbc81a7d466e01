/// Name tables shared by `XMLTranslator` and `XMLEncoder`: element names of the A-XDR data types, enumerated
/// values written as names, and the conformance bits. Names follow Gurux's `TranslatorStandardTags` (which takes
/// most of them from the IEC 62056-5-3 ASN.1); the aliases the encoder also accepts are listed in `XMLAliases`.
enum XMLNames {
    // MARK: - Data types (IEC 62056-6-2 §4.1.5, Data ::= CHOICE)

    static func dataType(_ tag: UInt8) -> String? {
        switch tag {
        case 0: "null-data"
        case 1: "array"
        case 2: "structure"
        case 3: "boolean"
        case 4: "bit-string"
        case 5: "double-long"
        case 6: "double-long-unsigned"
        case 9: "octet-string"
        case 10: "visible-string"
        case 12: "utf8-string"
        case 13: "bcd"
        case 15: "integer"
        case 16: "long"
        case 17: "unsigned"
        case 18: "long-unsigned"
        case 19: "compact-array"
        case 20: "long64"
        case 21: "long64-unsigned"
        case 22: "enum"
        case 23: "float32"
        case 24: "float64"
        case 25: "date-time"
        case 26: "date"
        case 27: "time"
        case 255: "dont-care"
        default: nil
        }
    }

    static let dataTypeTags: [String: UInt8] = {
        var d: [String: UInt8] = [:]
        for t in 0...255 { if let n = dataType(UInt8(t)) { d[n] = UInt8(t) } }
        return d
    }()

    // MARK: - Enumerations written as names

    /// Data-Access-Result (IEC 62056-5-3 §8); the names Gurux writes.
    static func dataAccessResult(_ v: UInt8) -> String? {
        switch v {
        case 0: "success"
        case 1: "hardware-fault"
        case 2: "temporary-failure"
        case 3: "read-write-denied"
        case 4: "object-undefined"
        case 9: "object-class-inconsistent"
        case 11: "object-unavailable"
        case 12: "type-unmatched"
        case 13: "scope-of-access-violated"
        case 14: "data-block-unavailable"
        case 15: "long-get-aborted"
        case 16: "no-long-get-in-progress"
        case 17: "long-set-aborted"
        case 18: "no-long-set-in-progress"
        case 19: "data-block-number-invalid"
        case 250: "other-reason"
        default: nil
        }
    }

    /// Action-Result; 15 and 16 are long-action-aborted and no-long-action-in-progress.
    static func actionResult(_ v: UInt8) -> String? {
        switch v {
        case 15: "long-action-aborted"
        case 16: "no-long-action-in-progress"
        default: dataAccessResult(v)
        }
    }

    static func releaseRequestReason(_ v: UInt8) -> String? {
        switch v {
        case 0: "normal"
        case 1: "urgent"
        case 30: "user-defined"
        default: nil
        }
    }

    static func releaseResponseReason(_ v: UInt8) -> String? {
        switch v {
        case 0: "normal"
        case 1: "not-finished"
        case 30: "user-defined"
        default: nil
        }
    }

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
    static let conformanceBits: [String] = [
        "reserved-zero", "general-protection", "general-block-transfer", "read", "write", "unconfirmed-write",
        "delta-value-encoding", "reserved-seven", "attribute0-supported-with-set", "priority-mgmt-supported",
        "attribute0-supported-with-get", "block-transfer-with-get-or-read", "block-transfer-with-set-or-write",
        "block-transfer-with-action", "multiple-references", "information-report", "data-notification", "access",
        "parameterized-access", "get", "set", "selective-access", "event-notification", "action",
    ]
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
    /// EXCEPTION-Response state-error (IEC 62056-5-3 §8).
    static func stateError(_ v: UInt8) -> String? {
        switch v {
        case 1: "service-not-allowed"
        case 2: "service-unknown"
        default: nil
        }
    }

    /// EXCEPTION-Response service-error choice.
    static func serviceError(_ v: UInt8) -> String? {
        switch v {
        case 1: "operation-not-possible"
        case 2: "service-not-supported"
        case 3: "other-reason"
        case 4: "pdu-too-long"
        case 5: "deciphering-error"
        case 6: "invocation-counter-error"
        default: nil
        }
    }
}
