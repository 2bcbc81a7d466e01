import DLMSWire

/// Decodes any DLMS APDU (ACSE in BER, xDLMS in A-XDR). Never throws.
public enum APDUDecoder {
    public static func decode(_ bytes: ArraySlice<UInt8>, options: DecodeOptions = .init()) -> DecodedAPDU {
        // Placeholder until the APDU decoders land: names the tag only.
        let tag = bytes.first ?? 0
        return DecodedAPDU(tag: tag, type: "unknown", facts: ServiceFacts(type: "unknown"),
                           errors: [DecodeError("apdu.unknown", "APDU decoding not implemented", offset: 0)])
    }
}
