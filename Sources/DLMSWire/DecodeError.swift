/// A malformation found while decoding one unit (frame, APDU, data value). Equal by code, as `ASN1Error` is, so
/// tests can match on the code while the message stays free text.
public struct DecodeError: Error, Sendable, CustomStringConvertible, Equatable {
    /// Stable, dotted, filterable codes (`apdu.truncated`, `hdlc.bad-fcs`, ...).
    public var code: String
    public var message: String
    /// Byte offset within the unit being decoded (the APDU, the frame), when known.
    public var offset: Int?

    public init(_ code: String, _ message: String, offset: Int? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
    }

    public var description: String {
        if let o = offset { return "\(code) at byte \(o): \(message)" }
        return "\(code): \(message)"
    }

    public static func == (a: DecodeError, b: DecodeError) -> Bool { a.code == b.code }
}
