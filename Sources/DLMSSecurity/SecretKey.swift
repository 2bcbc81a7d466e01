internal import CLibcrypto

/// A key from a keyring. Its bytes never reach a description, a mirror, an encoder or a log.
///
/// The bytes live in a private heap buffer that is overwritten (`OPENSSL_cleanse`) when the last copy of the key
/// goes away, as swift-crypto's `SecureBytes` does. `bytes` hands out an ordinary array *copy*, which is not
/// wiped: code in this module reads keys through `withUnsafeBytes` instead.
public struct SecretKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let storage: Storage

    public init(_ bytes: [UInt8]) { storage = Storage(bytes) }

    /// A copy of the key bytes (for callers outside this module; it is not zeroised).
    public var bytes: [UInt8] { Array(storage.view) }
    public var count: Int { storage.count }

    /// Runs `body` over the key bytes without copying them.
    public func withUnsafeBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try body(storage.view)
    }

    public var description: String { "SecretKey(<redacted>, \(count) bytes)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    /// Immutable after `init`, so sharing it across threads is safe; `deinit` wipes and frees the buffer.
    private final class Storage: @unchecked Sendable {
        /// At least one byte is allocated, so an empty key still has a base address; `count` is the key's size.
        private let buffer: UnsafeMutableBufferPointer<UInt8>
        let count: Int

        init(_ bytes: [UInt8]) {
            count = bytes.count
            buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
            buffer.initialize(repeating: 0)
            _ = UnsafeMutableBufferPointer(rebasing: buffer[0..<bytes.count]).initialize(from: bytes)
        }

        var view: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: buffer[0..<count]) }

        deinit {
            if let base = buffer.baseAddress { OPENSSL_cleanse(base, buffer.count) }
            buffer.deallocate()
        }
    }
}

extension SecretKey: Equatable {
    /// Compares in time independent of where the keys differ. (No `Hashable`: a hash of key bytes is a leak.)
    public static func == (a: SecretKey, b: SecretKey) -> Bool {
        a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in
                guard x.count == y.count else { return false }
                var diff: UInt8 = 0
                for i in 0..<x.count { diff |= x[i] ^ y[i] }
                return diff == 0
            }
        }
    }
}
