/// The first bytes an xDLMS or ACSE APDU can start with (IEC 62056-5-3 "Green Book" COSEMpdu CHOICE tags, and the
/// ACSE application tags of IEC 8650 as used by DLMS). Used only as a plausibility check when resynchronising a
/// wrapper stream and when deciding whether a frame start is genuine; the APDU decoder owns the real table.
///
/// Kept here (and not taken from DLMSAPDU) because DLMSTransport sits below DLMSAPDU in the layering.
enum APDUTagHeuristic {
    /// 256-entry membership table, built once.
    static let known: [Bool] = {
        var t = [Bool](repeating: false, count: 256)
        let tags: [UInt8] = [
            // SN services and initiate (Green Book, xDLMS-APDU)
            0x01, 0x05, 0x06, 0x08, 0x0C, 0x0D, 0x0E, 0x0F, 0x16, 0x18,
            // glo-ciphered SN / initiate
            0x21, 0x25, 0x26, 0x28, 0x2C, 0x2D, 0x2E, 0x36, 0x38,
            // ded-ciphered SN / initiate
            0x41, 0x45, 0x46, 0x48, 0x4C, 0x4D, 0x4E, 0x56, 0x58,
            // ACSE: AARQ, AARE, RLRQ, RLRE
            0x60, 0x61, 0x62, 0x63,
            // LN services: get/set/event-notification/action request and response
            0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC7,
            // glo- and ded-ciphered LN services
            0xC8, 0xC9, 0xCA, 0xCB, 0xCC, 0xCD, 0xCF,
            0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD7,
            // exception-response, access, general-glo/ded-ciphering, general-ciphering, general-signing, GBT
            0xD8, 0xD9, 0xDA, 0xDB, 0xDC, 0xDD, 0xDF, 0xE0,
        ]
        for tag in tags { t[Int(tag)] = true }
        return t
    }()

    @inline(__always) static func isKnown(_ tag: UInt8) -> Bool { known[Int(tag)] }
}
