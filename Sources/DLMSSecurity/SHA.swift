internal import CLibcrypto

/// SHA-2 digests (FIPS 180-4) over libcrypto: SHA-256 for suite 1 and HLS mechanism 6, SHA-384 for suite 2.
public enum SHA {
    public enum Algorithm: Sendable, Hashable {
        case sha256, sha384

        public var digestLength: Int {
            switch self {
            case .sha256: return 32
            case .sha384: return 48
            }
        }

        var md: OpaquePointer? {
            switch self {
            case .sha256: return EVP_sha256()
            case .sha384: return EVP_sha384()
            }
        }
    }

    /// The digest of `data`; `nil` only when libcrypto fails.
    public static func hash(_ algorithm: Algorithm, _ data: some Collection<UInt8>) -> [UInt8]? {
        hash(algorithm, parts: [Array(data)[...]])
    }

    /// The digest of the concatenation of `parts`, without building it.
    public static func hash(_ algorithm: Algorithm, parts: [ArraySlice<UInt8>]) -> [UInt8]? {
        hash(algorithm, parts: parts, secretAfterFirst: nil)
    }

    /// The digest of `parts[0] ‖ secret ‖ parts[1...]` (the KDF's `counter ‖ Z ‖ OtherInfo`), reading the secret
    /// in place.
    static func hash(_ algorithm: Algorithm, parts: [ArraySlice<UInt8>],
                     secretAfterFirst secret: UnsafeBufferPointer<UInt8>?) -> [UInt8]? {
        guard let md = algorithm.md else { return nil }
        return digest(md: md, length: algorithm.digestLength, parts: parts, secretAfterFirst: secret)
    }

    /// Any libcrypto digest over `parts[0] ‖ secret ‖ parts[1...]`.
    static func digest(md: OpaquePointer, length: Int, parts: [ArraySlice<UInt8>],
                       secretAfterFirst secret: UnsafeBufferPointer<UInt8>?) -> [UInt8]? {
        guard let context = DigestContext(), EVP_DigestInit_ex(context.ctx, md, nil) == 1 else { return nil }
        for (i, part) in parts.enumerated() {
            if !part.isEmpty {
                let rc = part.withUnsafeBytes { EVP_DigestUpdate(context.ctx, $0.baseAddress, $0.count) }
                guard rc == 1 else { return nil }
            }
            if i == 0, let secret, secret.count > 0 {
                guard EVP_DigestUpdate(context.ctx, secret.baseAddress, secret.count) == 1 else { return nil }
            }
        }
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var n: UInt32 = 0
        guard EVP_DigestFinal_ex(context.ctx, &out, &n) == 1, Int(n) == length else { return nil }
        return Array(out.prefix(Int(n)))
    }

    public static func sha256(_ data: some Collection<UInt8>) -> [UInt8]? { hash(.sha256, data) }
    public static func sha384(_ data: some Collection<UInt8>) -> [UInt8]? { hash(.sha384, data) }
}
