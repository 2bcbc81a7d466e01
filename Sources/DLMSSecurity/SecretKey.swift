/// A key from a keyring. Its bytes never reach a description, a mirror, an encoder or a log.
public struct SecretKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var count: Int { bytes.count }
    public var description: String { "SecretKey(<redacted>, \(bytes.count) bytes)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

extension SecretKey: Equatable {
    /// Compares in time independent of where the keys differ. (No `Hashable`: a hash of key bytes is a leak.)
    public static func == (a: SecretKey, b: SecretKey) -> Bool {
        guard a.bytes.count == b.bytes.count else { return false }
        var diff: UInt8 = 0
        for i in a.bytes.indices { diff |= a.bytes[i] ^ b.bytes[i] }
        return diff == 0
    }
}
