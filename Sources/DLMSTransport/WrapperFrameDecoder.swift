import DLMSWire

/// The IEC 62056-47 (DLMS/COSEM transport over TCP/UDP, "wrapper") header:
///
/// ```
/// version (2) = 0x0001 | source wPort (2) | destination wPort (2) | length (2) | APDU (length bytes)
/// ```
///
/// The header carries no checksum, so a stream decoder has to judge plausibility itself: the version must be 1,
/// the length must be non-zero and within limits, and, when resynchronising, the APDU must start with a known tag.
enum WrapperFrameDecoder {
    static let headerLength = 8

    /// Reads a header at the start of `bytes` (nil when fewer than 8 bytes).
    static func header(_ bytes: ArraySlice<UInt8>) -> WrapperHeader? {
        // One length check, then checked subscripts (a reader per header cost more than the fields).
        guard bytes.count >= headerLength else { return nil }
        let s = bytes.startIndex
        func field(_ k: Int) -> UInt16 { UInt16(bytes[s + k]) << 8 | UInt16(bytes[s + k + 1]) }
        return WrapperHeader(version: field(0), sourcePort: field(2), destinationPort: field(4), length: field(6))
    }

    /// Could a wrapper frame start at `bytes.startIndex`? `nil` = not enough bytes to tell. Used for resynchronisation
    /// and per-frame detection: version 1, a length in 1...`maxLength`, and, with `requireTag`, an APDU that starts
    /// with a known tag. When `ports` is given the wPorts must be those.
    ///
    /// The tag is not required at a clean frame boundary: real stacks send APDUs with tags we do not know (the
    /// Gurux sessions in Captures/peers send ciphered APDUs with tag 0x00), and the APDU decoder reports those.
    static func plausibleStart(_ bytes: ArraySlice<UInt8>, maxLength: Int, ports: (UInt16, UInt16)? = nil,
                               requireTag: Bool = true) -> Bool? {
        let s = bytes.startIndex
        guard bytes.count >= 2 else {
            if let b = bytes.first { return b == 0x00 ? nil : false }
            return nil
        }
        guard bytes[s] == 0x00, bytes[s + 1] == 0x01 else { return false }
        guard let h = header(bytes) else { return nil }
        guard h.length >= 1, Int(h.length) <= maxLength else { return false }
        if let (src, dst) = ports, h.sourcePort != src || h.destinationPort != dst { return false }
        guard requireTag else { return true }
        guard bytes.count > headerLength else { return nil }
        return APDUTagHeuristic.isKnown(bytes[s + headerLength])
    }
}
