import DLMSWire
internal import CLibcrypto

/// The NIST curves of DLMS security suites 1 (P-256, SHA-256) and 2 (P-384, SHA-384).
public enum ECCurve: String, Sendable, Hashable, CaseIterable {
    case p256 = "P-256"
    case p384 = "P-384"

    /// Bytes of one coordinate, of the private scalar, and of r and s.
    public var coordinateLength: Int {
        switch self {
        case .p256: return 32
        case .p384: return 48
        }
    }

    /// Raw r ‖ s signature length as DLMS carries it (64 or 96 bytes).
    public var signatureLength: Int { 2 * coordinateLength }

    /// The hash paired with the curve in DLMS (IEC 62056-5-3 §9.2.3.4, suites 1 and 2).
    public var hash: SHA.Algorithm {
        switch self {
        case .p256: return .sha256
        case .p384: return .sha384
        }
    }

    /// The suite that uses this curve.
    public var suite: UInt8 {
        switch self {
        case .p256: return 1
        case .p384: return 2
        }
    }

    public init?(suite: UInt8) {
        switch suite {
        case 1: self = .p256
        case 2: self = .p384
        default: return nil
        }
    }

    /// The group order n (FIPS 186-4 Appendix D.1.2.3 / D.1.2.4); a private scalar lies in 1..<n.
    var order: [UInt8] {
        switch self {
        case .p256:
            return Hex.decode("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551") ?? []
        case .p384:
            return Hex.decode(
                "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973") ?? []
        }
    }

    /// libcrypto's group name.
    var groupName: String {
        switch self {
        case .p256: return "prime256v1"
        case .p384: return "secp384r1"
        }
    }

    init?(groupName: String) {
        switch groupName {
        case "prime256v1", "P-256", "secp256r1": self = .p256
        case "secp384r1", "P-384": self = .p384
        default: return nil
        }
    }

    /// DER of `id-ecPublicKey` + the curve OID, the SubjectPublicKeyInfo prefix up to the BIT STRING's contents
    /// (RFC 5480 §2; 1.2.840.10045.3.1.7 prime256v1, 1.3.132.0.34 secp384r1).
    var spkiPrefix: [UInt8] {
        switch self {
        case .p256:
            return [0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A,
                    0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00]
        case .p384:
            return [0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x05, 0x2B,
                    0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00]
        }
    }

    /// The curve OID as a DER `[0] EXPLICIT` parameters field of SEC1 ECPrivateKey (RFC 5915 §3).
    var sec1Parameters: [UInt8] {
        switch self {
        case .p256: return [0xA0, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]
        case .p384: return [0xA0, 0x07, 0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22]
        }
    }
}

/// An EC public key on P-256 or P-384, held as its uncompressed point `04 ‖ X ‖ Y` (SEC 1 §2.3.3) after
/// libcrypto checked that the point lies on the curve.
public struct ECPublicKey: Sendable, Hashable, CustomStringConvertible {
    public let curve: ECCurve
    /// `04 ‖ X ‖ Y`.
    public let uncompressedPoint: [UInt8]

    /// `X ‖ Y` (the form DLMS puts in key-ciphered-data and certificates-free key agreement).
    public var rawXY: ArraySlice<UInt8> { uncompressedPoint.dropFirst() }

    /// From `04 ‖ X ‖ Y` (65 or 97 bytes) or raw `X ‖ Y` (64 or 96 bytes). `nil` if the length fits no curve or
    /// the point is not on the curve.
    public init?(point bytes: some Collection<UInt8>) {
        let b = Array(bytes)
        let full: [UInt8]
        switch b.count {
        case 65, 97: full = b
        case 64, 96: full = [0x04] + b
        default: return nil
        }
        guard full.first == 0x04 else { return nil }
        self.curve = full.count == 65 ? .p256 : .p384
        self.uncompressedPoint = full
        // Validation: libcrypto decodes the point and rejects one off the curve.
        guard makePKey() != nil else { return nil }
    }

    /// From PEM (`-----BEGIN PUBLIC KEY-----`, SubjectPublicKeyInfo) on P-256 or P-384.
    public init?(pem: String) {
        guard let bio = MemoryBIO(Array(pem.utf8)),
            let raw = PEM_read_bio_PUBKEY(bio.bio, nil, nil, nil)
        else {
            clearOpenSSLErrors()
            return nil
        }
        let key = PKey(owning: raw)
        guard let curve = groupOf(key), let point = encodedPublicKey(key, curve: curve) else { return nil }
        self.curve = curve
        self.uncompressedPoint = point
    }

    /// From text as a keyring holds it: PEM, or hex of `04‖X‖Y` or `X‖Y` (spaces and colons allowed).
    public init?(text: String) {
        if text.contains("-----BEGIN") {
            self.init(pem: text)
        } else if let b = Hex.decode(text.trimmingASCIIWhitespace()) {
            self.init(point: b)
        } else {
            return nil
        }
    }

    public var description: String { "ECPublicKey(\(curve.rawValue), \(Hex.encode(uncompressedPoint.prefix(9)))…)" }

    /// A libcrypto key for this point, through a DER SubjectPublicKeyInfo.
    func makePKey() -> PKey? {
        let der = curve.spkiPrefix + uncompressedPoint
        return der.withUnsafeBufferPointer { buf -> PKey? in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            guard let raw = d2i_PUBKEY(nil, &p, buf.count) else {
                clearOpenSSLErrors()
                return nil
            }
            return PKey(owning: raw)
        }
    }
}

/// An EC private key on P-256 or P-384: the curve and the scalar, the latter a redacted `SecretKey`.
public struct ECPrivateKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public let curve: ECCurve
    /// The private scalar d, left-padded to the coordinate length.
    public let scalar: SecretKey
    /// The matching public key, computed by libcrypto.
    public let publicKey: ECPublicKey

    /// From the raw scalar (32 or 48 bytes; shorter scalars are left-padded when `curve` is given).
    public init?(scalar bytes: some Collection<UInt8>, curve: ECCurve? = nil) {
        let c: ECCurve
        if let curve { c = curve } else if bytes.count == 32 { c = .p256 } else if bytes.count == 48 { c = .p384 }
        else { return nil }
        guard bytes.count <= c.coordinateLength, bytes.count > 0 else { return nil }
        var d = [UInt8](repeating: 0, count: c.coordinateLength - bytes.count) + Array(bytes)
        defer { wipe(&d) }
        // 1 <= d < n (SEC 1 §3.2.1); libcrypto would accept a larger d and reduce it.
        guard d.contains(where: { $0 != 0 }), d.lexicographicallyPrecedes(c.order) else { return nil }
        guard let key = Self.pkey(scalar: d, curve: c), let point = encodedPublicKey(key, curve: c),
            let pub = ECPublicKey(point: point)
        else { return nil }
        self.curve = c
        self.scalar = SecretKey(d)
        self.publicKey = pub
    }

    /// From PEM: PKCS#8 (`BEGIN PRIVATE KEY`) or SEC1 (`BEGIN EC PRIVATE KEY`), unencrypted.
    public init?(pem: String) {
        guard let bio = MemoryBIO(Array(pem.utf8)) else { return nil }
        // A password callback that refuses: an encrypted key fails instead of prompting on the terminal.
        guard let raw = PEM_read_bio_PrivateKey(bio.bio, nil, { _, _, _, _ in 0 }, nil) else {
            clearOpenSSLErrors()
            return nil
        }
        let key = PKey(owning: raw)
        guard let curve = groupOf(key) else { return nil }
        var bn: OpaquePointer? = nil
        guard EVP_PKEY_get_bn_param(key.pkey, "priv", &bn) == 1, let bn else {
            clearOpenSSLErrors()
            return nil
        }
        defer { BN_clear_free(bn) }
        var d = [UInt8](repeating: 0, count: curve.coordinateLength)
        defer { wipe(&d) }
        guard BN_bn2binpad(bn, &d, Int32(d.count)) == Int32(d.count) else { return nil }
        self.init(scalar: d, curve: curve)
    }

    /// From text as a keyring holds it: PEM, or hex of the scalar.
    public init?(text: String) {
        if text.contains("-----BEGIN") {
            self.init(pem: text)
        } else if var b = Hex.decode(text.trimmingASCIIWhitespace()) {
            defer { wipe(&b) }
            self.init(scalar: b)
        } else {
            return nil
        }
    }

    public var description: String { "ECPrivateKey(\(curve.rawValue), <redacted>)" }
    public var debugDescription: String { description }

    func makePKey() -> PKey? {
        var d = scalar.withUnsafeBytes { Array($0) }
        defer { wipe(&d) }
        return Self.pkey(scalar: d, curve: curve)
    }

    /// A libcrypto key from a DER SEC1 ECPrivateKey without the public key, which libcrypto then computes:
    /// `SEQUENCE { INTEGER 1, OCTET STRING d, [0] curve OID }` (RFC 5915 §3).
    private static func pkey(scalar d: [UInt8], curve: ECCurve) -> PKey? {
        let params = curve.sec1Parameters
        let bodyLength = 3 + 2 + d.count + params.count
        var der: [UInt8] = [0x30, UInt8(bodyLength), 0x02, 0x01, 0x01, 0x04, UInt8(d.count)]
        der += d
        der += params
        defer { wipe(&der) }
        return der.withUnsafeBufferPointer { buf -> PKey? in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            guard let raw = d2i_PrivateKey(EVP_PKEY_EC, nil, &p, buf.count) else {
                clearOpenSSLErrors()
                return nil
            }
            return PKey(owning: raw)
        }
    }
}

// MARK: - Helpers

/// The curve of an EC key, or nil for another curve or key type.
func groupOf(_ key: PKey) -> ECCurve? {
    var name = [CChar](repeating: 0, count: 80)
    var n = 0
    guard EVP_PKEY_get_utf8_string_param(key.pkey, "group", &name, name.count, &n) == 1 else {
        clearOpenSSLErrors()
        return nil
    }
    let text = String(decoding: name.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return ECCurve(groupName: text)
}

/// The uncompressed public point of an EC key.
func encodedPublicKey(_ key: PKey, curve: ECCurve) -> [UInt8]? {
    // A key read from a compressed point would be exported compressed: ask for the uncompressed form.
    guard EVP_PKEY_set_utf8_string_param(key.pkey, "point-format", "uncompressed") == 1 else {
        clearOpenSSLErrors()
        return nil
    }
    var out = [UInt8](repeating: 0, count: 1 + 2 * curve.coordinateLength)
    var n = 0
    guard EVP_PKEY_get_octet_string_param(key.pkey, "encoded-pub-key", &out, out.count, &n) == 1,
        n == out.count, out.first == 0x04
    else {
        clearOpenSSLErrors()
        return nil
    }
    return out
}

extension String {
    /// The string without leading and trailing ASCII whitespace (no Foundation).
    func trimmingASCIIWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[start...end])
    }
}
