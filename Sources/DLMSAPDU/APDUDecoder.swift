import DLMSWire

/// Decodes any DLMS APDU (ACSE in BER, xDLMS in A-XDR) into an annotated tree and flat facts. Never throws: a
/// malformed APDU yields the fields decoded before the fault plus a located `DecodeError` (codes `apdu.*`,
/// `ber.*`, `axdr.*`).
///
///     XDLMS-APDU ::= CHOICE { initiateRequest [1], readRequest [5], writeRequest [6], initiateResponse [8],
///       readResponse [12], writeResponse [13], confirmedServiceError [14], data-notification [15],
///       unconfirmedWriteRequest [22], informationReportRequest [24], glo-*/ded-* [33..88], aarq [96] ... rlre [99],
///       get-request [192] ... action-response [199], glo-* [200..207], ded-* [208..215], exception-response [216],
///       access-request [217], access-response [218], general-glo-ciphering [219], general-ded-ciphering [220],
///       general-ciphering [221], general-signing [223], general-block-transfer [224] }
public enum APDUDecoder {
    public static func decode(_ bytes: ArraySlice<UInt8>, options: DecodeOptions = .init()) -> DecodedAPDU {
        guard let tag = bytes.first else {
            return DecodedAPDU(tag: 0, type: "unknown", facts: ServiceFacts(type: "unknown"),
                               errors: [DecodeError("apdu.truncated", "empty APDU", offset: 0)])
        }
        let type = APDUNames.apduType(tag) ?? "unknown"
        var p = APDUParser(bytes, type: type, options: options)
        do {
            try p.body(tag: tag)
            if !p.r.isAtEnd {
                p.errors.append(DecodeError("apdu.trailing-bytes", "\(p.r.remaining) bytes after the \(type)",
                                            offset: p.r.offset))
            }
        } catch {
            p.errors.append(error)
        }
        // Moved out of the parser (copying them retained every field, and destroying the parser released them).
        var facts = ServiceFacts(type: type)
        swap(&facts, &p.facts)
        var errors: [DecodeError] = []
        swap(&errors, &p.errors)
        let tree: DecodedAPDU.Tree
        if options.buildTree {
            var fields: [Node] = []
            swap(&fields, &p.fields)
            tree = .built(fields)
        } else {
            tree = .deferred(bytes, options)
        }
        return DecodedAPDU(tag: tag, type: type, tree: tree, facts: facts, errors: errors)
    }
}

extension APDUParser {
    /// Dispatches on the tag. ACSE APDUs are read as one BER TLV from the first byte; xDLMS APDUs after the tag.
    mutating func body(tag: UInt8) throws(DecodeError) {
        if (0x60...0x63).contains(tag) {
            try acse()
            return
        }
        _ = r.readUInt8()
        switch tag {
        case 0xC0: try getRequest()
        case 0xC4: try getResponse()
        case 0xC1: try setRequest()
        case 0xC5: try setResponse()
        case 0xC3: try actionRequest()
        case 0xC7: try actionResponse()
        case 0xC2: try eventNotificationRequest()
        case 0xD9: try accessRequest()
        case 0xDA: try accessResponse()
        case 0x0F: try dataNotification()
        case 0xD8: try exceptionResponse()
        case 0x0E: try confirmedServiceError()
        case 0xE0: try generalBlockTransfer()
        case 0x01:
            let f = try initiateRequest()
            var a = AssociationFacts()
            a.initiate = f
            facts.association = a
        case 0x08:
            let f = try initiateResponse()
            var a = AssociationFacts()
            a.initiate = f
            facts.association = a
        case 0x05: try readRequest()
        case 0x0C: try readResponse()
        case 0x06, 0x16: try writeRequest()
        case 0x0D: try writeResponse()
        case 0x18: try informationReportRequest()
        case 0xDB: try generalGloDedCiphering(dedicated: false)
        case 0xDC: try generalGloDedCiphering(dedicated: true)
        case 0xDD: try generalCiphering()
        case 0xDF: try generalSigning()
        default:
            if APDUNames.protectedService(tag) != nil {
                try serviceCiphered(tag: tag)
            } else {
                let rest = r.readRest()
                add("raw", .bytes(rest), meaning: "unknown APDU tag, not decoded", at: 1)
                throw DecodeError("apdu.unknown-tag", "unknown APDU tag 0x\(Hex.encode([tag]))", offset: 0)
            }
        }
    }
}
