internal import CLibcrypto

// MARK: - The thin libcrypto layer
//
// Everything that touches an OpenSSL type lives in this module's internal code; the public API speaks in
// `[UInt8]`, `SecretKey` and Swift value types (STYLE.md §0.8). Each C context has exactly one Swift owner whose
// `deinit` frees it, and every return code is checked: a failed call yields `nil`, never a partial result.

/// Runs `body` over the bytes of `c` without copying when the collection has contiguous storage
/// (`[UInt8]`, `ArraySlice<UInt8>`); other collections are copied once.
@inline(__always)
func withBytes<C: Collection<UInt8>, R>(_ c: C, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    if let r = c.withContiguousStorageIfAvailable(body) { return r }
    return Array(c).withUnsafeBufferPointer(body)
}

/// Owner of one `EVP_CIPHER_CTX`.
final class CipherContext {
    let ctx: OpaquePointer

    init?() {
        guard let c = EVP_CIPHER_CTX_new() else { return nil }
        ctx = c
    }

    deinit { EVP_CIPHER_CTX_free(ctx) }

    /// Resets the context so it can be initialised with another cipher or key.
    func reset() -> Bool { EVP_CIPHER_CTX_reset(ctx) == 1 }
}

/// Owner of one fetched `EVP_CIPHER` (explicit fetching avoids OpenSSL 3's implicit fetch on every init).
final class FetchedCipher {
    let cipher: OpaquePointer

    init?(name: String) {
        guard let c = EVP_CIPHER_fetch(nil, name, nil) else {
            clearOpenSSLErrors()
            return nil
        }
        cipher = c
    }

    deinit { EVP_CIPHER_free(cipher) }
}

/// Owner of one `EVP_MD_CTX`.
final class DigestContext {
    let ctx: OpaquePointer

    init?() {
        guard let c = EVP_MD_CTX_new() else { return nil }
        ctx = c
    }

    deinit { EVP_MD_CTX_free(ctx) }
}

/// Owner of one `EVP_PKEY` (a public or private EC key).
final class PKey {
    let pkey: OpaquePointer

    /// Takes ownership of `pkey`.
    init(owning pkey: OpaquePointer) { self.pkey = pkey }

    deinit { EVP_PKEY_free(pkey) }
}

/// Owner of one `EVP_PKEY_CTX`.
final class PKeyContext {
    let ctx: OpaquePointer

    init?(key: PKey) {
        guard let c = EVP_PKEY_CTX_new(key.pkey, nil) else { return nil }
        ctx = c
    }

    deinit { EVP_PKEY_CTX_free(ctx) }
}

/// Owner of a memory `BIO` reading a copy of `bytes`.
final class MemoryBIO {
    let bio: OpaquePointer
    private let storage: UnsafeMutableRawPointer
    private let count: Int

    init?(_ bytes: [UInt8]) {
        // BIO_new_mem_buf does not copy: keep our own copy alive (and wipe it) for the BIO's lifetime.
        let size = max(bytes.count, 1)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 1)
        bytes.withUnsafeBytes { src in
            if let base = src.baseAddress { buffer.copyMemory(from: base, byteCount: bytes.count) }
        }
        count = size
        storage = buffer
        guard bytes.count <= Int(Int32.max), let b = BIO_new_mem_buf(storage, Int32(bytes.count)) else {
            storage.initializeMemory(as: UInt8.self, repeating: 0, count: count)
            storage.deallocate()
            return nil
        }
        bio = b
    }

    deinit {
        BIO_free(bio)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: count)
        storage.deallocate()
    }
}

/// Clears libcrypto's thread-local error queue after an expected failure (a bad tag, a bad signature), so a
/// stale error never leaks into an unrelated later call.
@inline(__always)
func clearOpenSSLErrors() { ERR_clear_error() }

/// Overwrites a buffer that held secret material.
func wipe(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { raw in
        if let base = raw.baseAddress { memset_s_portable(base, raw.count) }
    }
}

@inline(never)
private func memset_s_portable(_ p: UnsafeMutableRawPointer, _ n: Int) {
    // OPENSSL_cleanse is not optimised away, unlike a plain memset on a buffer that dies right after.
    OPENSSL_cleanse(p, n)
}
