/// Name tables of the xDLMS and ACSE enumerations (IEC 62056-5-3 ASN.1, Blue Book, ISO 8650-1). Every name is a
/// static literal, so looking one up never allocates.
public enum APDUNames {
    // MARK: - APDU tags

    /// ASN.1 name of an APDU tag (IEC 62056-5-3 §8 "XDLMS-APDU" and ACSE-APDU), or nil for an unknown tag.
    public static func apduType(_ tag: UInt8) -> String? {
        switch tag {
        case 0x01: "initiate-request"
        case 0x05: "read-request"
        case 0x06: "write-request"
        case 0x08: "initiate-response"
        case 0x0C: "read-response"
        case 0x0D: "write-response"
        case 0x0E: "confirmed-service-error"
        case 0x0F: "data-notification"
        case 0x16: "unconfirmed-write-request"
        case 0x18: "information-report-request"
        // Service-specific global ciphering (Green Book: glo-xxx = tag of xxx + 32 for the SN/initiate family).
        case 0x21: "glo-initiate-request"
        case 0x25: "glo-read-request"
        case 0x26: "glo-write-request"
        case 0x28: "glo-initiate-response"
        case 0x2C: "glo-read-response"
        case 0x2D: "glo-write-response"
        case 0x2E: "glo-confirmed-service-error"
        case 0x36: "glo-unconfirmed-write-request"
        case 0x38: "glo-information-report-request"
        // Dedicated ciphering of the same family (tag + 64).
        case 0x41: "ded-initiate-request"
        case 0x45: "ded-read-request"
        case 0x46: "ded-write-request"
        case 0x48: "ded-initiate-response"
        case 0x4C: "ded-read-response"
        case 0x4D: "ded-write-response"
        case 0x4E: "ded-confirmed-service-error"
        case 0x56: "ded-unconfirmed-write-request"
        case 0x58: "ded-information-report-request"
        case 0x60: "aarq"
        case 0x61: "aare"
        case 0x62: "rlrq"
        case 0x63: "rlre"
        case 0xC0: "get-request"
        case 0xC1: "set-request"
        case 0xC2: "event-notification-request"
        case 0xC3: "action-request"
        case 0xC4: "get-response"
        case 0xC5: "set-response"
        case 0xC7: "action-response"
        case 0xC8: "glo-get-request"
        case 0xC9: "glo-set-request"
        case 0xCA: "glo-event-notification-request"
        case 0xCB: "glo-action-request"
        case 0xCC: "glo-get-response"
        case 0xCD: "glo-set-response"
        case 0xCF: "glo-action-response"
        case 0xD0: "ded-get-request"
        case 0xD1: "ded-set-request"
        case 0xD2: "ded-event-notification-request"
        case 0xD3: "ded-action-request"
        case 0xD4: "ded-get-response"
        case 0xD5: "ded-set-response"
        case 0xD7: "ded-action-response"
        case 0xD8: "exception-response"
        case 0xD9: "access-request"
        case 0xDA: "access-response"
        case 0xDB: "general-glo-ciphering"
        case 0xDC: "general-ded-ciphering"
        case 0xDD: "general-ciphering"
        case 0xDF: "general-signing"
        case 0xE0: "general-block-transfer"
        default: nil
        }
    }

    /// The service protected by a service-specific glo-/ded- tag (`get-request` for 0xC8 and 0xD0).
    public static func protectedService(_ tag: UInt8) -> String? {
        switch tag {
        case 0x21, 0x41: "initiate-request"
        case 0x28, 0x48: "initiate-response"
        case 0x2E, 0x4E: "confirmed-service-error"
        case 0x25, 0x45: "read-request"
        case 0x26, 0x46: "write-request"
        case 0x2C, 0x4C: "read-response"
        case 0x2D, 0x4D: "write-response"
        case 0x36, 0x56: "unconfirmed-write-request"
        case 0x38, 0x58: "information-report-request"
        case 0xC8, 0xD0: "get-request"
        case 0xC9, 0xD1: "set-request"
        case 0xCA, 0xD2: "event-notification-request"
        case 0xCB, 0xD3: "action-request"
        case 0xCC, 0xD4: "get-response"
        case 0xCD, 0xD5: "set-response"
        case 0xCF, 0xD7: "action-response"
        default: nil
        }
    }

    /// True for a ded- service-specific tag (dedicated key), false for glo-; nil for any other tag.
    public static func isDedicated(_ tag: UInt8) -> Bool? {
        guard protectedService(tag) != nil else { return nil }
        return (0x41...0x58).contains(tag) || (0xD0...0xD7).contains(tag)
    }

    // MARK: - xDLMS enumerations

    /// Data-Access-Result (Blue Book / IEC 62056-5-3 §8; Gurux `ErrorCode`, Wireshark `dlms_data_access_result_names`).
    public static func dataAccessResult(_ v: UInt8) -> String? {
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

    /// Action-Result (IEC 62056-5-3 §8; Wireshark `dlms_action_result_names`).
    public static func actionResult(_ v: UInt8) -> String? {
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
        case 15: "long-action-aborted"
        case 16: "no-long-action-in-progress"
        case 250: "other-reason"
        default: nil
        }
    }

    /// xDLMS Conformance bit names, bit 0 being the first (most significant) bit of the 24-bit string
    /// (IEC 62056-5-3 §8 "Conformance ::= [APPLICATION 31] IMPLICIT BIT STRING"; Gurux `Conformance`).
    public static let conformanceBits: [String] = [
        "reserved-zero", "general-protection", "general-block-transfer", "read", "write", "unconfirmed-write",
        "delta-value-encoding", "reserved-seven", "attribute0-supported-with-set", "priority-mgmt-supported",
        "attribute0-supported-with-get", "block-transfer-with-get-or-read", "block-transfer-with-set-or-write",
        "block-transfer-with-action", "multiple-references", "information-report", "data-notification", "access",
        "parameterized-access", "get", "set", "selective-access", "event-notification", "action",
    ]

    /// ExceptionResponse state-error (IEC 62056-5-3 §8; Wireshark `dlms_state_error_names`).
    public static func stateError(_ v: UInt8) -> String? {
        switch v {
        case 1: "service-not-allowed"
        case 2: "service-unknown"
        default: nil
        }
    }

    /// ExceptionResponse service-error (IEC 62056-5-3 §8; Wireshark `dlms_service_error_names`).
    public static func exceptionServiceError(_ v: UInt8) -> String? {
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

    /// ConfirmedServiceError CHOICE: the service that failed (IEC 62056-5-3 §8).
    public static func confirmedService(_ v: UInt8) -> String? {
        switch v {
        case 1: "initiateError"
        case 2: "getStatus"
        case 3: "getNameList"
        case 4: "getVariableAttribute"
        case 5: "read"
        case 6: "write"
        case 7: "getDataSetAttribute"
        case 8: "getTIAttribute"
        case 9: "changeScope"
        case 10: "start"
        case 11: "stop"
        case 12: "resume"
        case 13: "makeUsable"
        case 14: "initiateLoad"
        case 15: "loadSegment"
        case 16: "terminateLoad"
        case 17: "initiateUpLoad"
        case 18: "upLoadSegment"
        case 19: "terminateUpLoad"
        default: nil
        }
    }

    /// ServiceError CHOICE alternative (IEC 62056-5-3 §8; Gurux `ServiceError`).
    public static func serviceErrorKind(_ v: UInt8) -> String? {
        switch v {
        case 0: "application-reference"
        case 1: "hardware-resource"
        case 2: "vde-state-error"
        case 3: "service"
        case 4: "definition"
        case 5: "access"
        case 6: "initiate"
        case 7: "load-data-set"
        case 8: "change-scope"
        case 9: "task"
        case 10: "other"
        default: nil
        }
    }

    /// The enumerated value inside a ServiceError alternative (IEC 62056-5-3 §8; Gurux `ApplicationReference`,
    /// `HardwareResource`, `VdeStateError`, `Service`, `Definition`, `Access`, `Initiate`, `LoadDataSet`, `Task`).
    public static func serviceErrorValue(kind: UInt8, _ v: UInt8) -> String? {
        let table: [String]
        switch kind {
        case 0:
            table = ["other", "time-elapsed", "application-unreachable", "application-reference-invalid",
                     "application-context-unsupported", "provider-communication-error", "deciphering-error"]
        case 1:
            table = ["other", "memory-unavailable", "processor-resource-unavailable", "mass-storage-unavailable",
                     "other-resource-unavailable"]
        case 2: table = ["other", "no-dlms-context", "loading-data-set", "status-nochange", "status-inoperable"]
        case 3: table = ["other", "pdu-size", "service-unsupported"]
        case 4: table = ["other", "object-undefined", "object-class-inconsistent", "object-attribute-inconsistent"]
        case 5:
            table = ["other", "scope-of-access-violated", "object-access-violated", "hardware-fault",
                     "object-unavailable"]
        case 6:
            table = ["other", "dlms-version-too-low", "incompatible-conformance", "pdu-size-too-short",
                     "refused-by-the-VDE-Handler"]
        case 7:
            table = ["other", "primitive-out-of-sequence", "not-loadable", "dataset-size-too-large",
                     "not-awaited-segment", "interpretation-failure", "storage-failure", "data-set-not-ready"]
        case 8: table = ["other"]
        case 9: table = ["other", "no-remote-control", "ti-stopped", "ti-running", "ti-unusable"]
        default: return nil
        }
        return Int(v) < table.count ? table[Int(v)] : nil
    }

    // MARK: - ACSE

    /// Application context name, last arc of 2.16.756.5.8.1.x (IEC 62056-5-3 §7.3.7.1).
    public static func applicationContext(_ arc: Int) -> String? {
        switch arc {
        case 1: "LN referencing, no ciphering"
        case 2: "SN referencing, no ciphering"
        case 3: "LN referencing, with ciphering"
        case 4: "SN referencing, with ciphering"
        default: nil
        }
    }

    /// Authentication mechanism name, last arc of 2.16.756.5.8.2.x (IEC 62056-5-3 §7.3.7.2:
    /// COSEM_lowest_level_security_mechanism_name (0) ... COSEM_high_level_security_mechanism_name_using_ECDSA (7)),
    /// in the short form metering engineers use.
    public static func mechanism(_ arc: Int) -> String? {
        switch arc {
        case 0: "lowest"
        case 1: "LLS"
        case 2: "HLS"
        case 3: "HLS-MD5"
        case 4: "HLS-SHA1"
        case 5: "HLS-GMAC"
        case 6: "HLS-SHA256"
        case 7: "HLS-ECDSA"
        default: nil
        }
    }

    /// AARE result (ISO 8650-1 Associate-result).
    public static func associateResult(_ v: Int) -> String? {
        switch v {
        case 0: "accepted"
        case 1: "rejected-permanent"
        case 2: "rejected-transient"
        default: nil
        }
    }

    /// Associate-source-diagnostic, acse-service-user (ISO 8650-1; Gurux `SourceDiagnostic`). DLMS servers answer
    /// an HLS AARQ with 14 authentication-required until pass 3/4.
    public static func acseServiceUserDiagnostic(_ v: Int) -> String? {
        switch v {
        case 0: "null"
        case 1: "no-reason-given"
        case 2: "application-context-name-not-supported"
        case 3: "calling-AP-title-not-recognized"
        case 4: "calling-AP-invocation-identifier-not-recognized"
        case 5: "calling-AE-qualifier-not-recognized"
        case 6: "calling-AE-invocation-identifier-not-recognized"
        case 7: "called-AP-title-not-recognized"
        case 8: "called-AP-invocation-identifier-not-recognized"
        case 9: "called-AE-qualifier-not-recognized"
        case 10: "called-AE-invocation-identifier-not-recognized"
        case 11: "authentication-mechanism-name-not-recognised"
        case 12: "authentication-mechanism-name-required"
        case 13: "authentication-failure"
        case 14: "authentication-required"
        default: nil
        }
    }

    /// Associate-source-diagnostic, acse-service-provider (ISO 8650-1).
    public static func acseServiceProviderDiagnostic(_ v: Int) -> String? {
        switch v {
        case 0: "null"
        case 1: "no-reason-given"
        case 2: "no-common-acse-version"
        default: nil
        }
    }

    /// Release-request-reason (ISO 8650-1 RLRQ).
    public static func releaseRequestReason(_ v: Int) -> String? {
        switch v {
        case 0: "normal"
        case 1: "urgent"
        case 30: "user-defined"
        default: nil
        }
    }

    /// Release-response-reason (ISO 8650-1 RLRE).
    public static func releaseResponseReason(_ v: Int) -> String? {
        switch v {
        case 0: "normal"
        case 1: "not-finished"
        case 30: "user-defined"
        default: nil
        }
    }
}
