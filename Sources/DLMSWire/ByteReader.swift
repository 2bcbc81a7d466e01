/// A cursor over an `ArraySlice<UInt8>` whose reads are total: every read returns `nil` on short input and never
/// traps (the swift-nio `ByteBuffer.readInteger` contract). Indices are the slice's own indices, so
/// `offset` is the position in the buffer the slice came from: errors can name it without bookkeeping.
public struct ByteReader: Sendable {
    public var bytes: ArraySlice<UInt8>
    public let base: Int

    @inlinable public init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.base = bytes.startIndex
    }

    @inlinable public init(_ bytes: [UInt8]) { self.init(bytes[...]) }

    /// Bytes not read yet.
    @inlinable public var remaining: Int { bytes.count }
    @inlinable public var isAtEnd: Bool { bytes.isEmpty }
    /// Offset of the next byte from the start of the slice the reader was made of.
    @inlinable public var offset: Int { bytes.startIndex - base }
    /// Index of the next byte in the underlying buffer.
    @inlinable public var index: Int { bytes.startIndex }

    @inlinable public func peekUInt8(at distance: Int = 0) -> UInt8? {
        guard distance >= 0, distance < bytes.count else { return nil }
        return bytes[bytes.startIndex + distance]
    }

    @inlinable public mutating func readUInt8() -> UInt8? {
        let i = bytes.startIndex
        guard i < bytes.endIndex else { return nil }
        let b = bytes[i]
        advance(1)
        return b
    }

    /// Moves past `n` bytes known to be there. Slicing by index range (not `dropFirst`, whose generic
    /// implementation was not inlined and ran for every byte read).
    @inlinable @inline(__always) mutating func advance(_ n: Int) {
        bytes = bytes[(bytes.startIndex + n)..<bytes.endIndex]
    }

    @inlinable public mutating func readUInt16() -> UInt16? {
        guard bytes.count >= 2 else { return nil }
        let i = bytes.startIndex
        let v = UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])
        advance(2)
        return v
    }

    @inlinable public mutating func readUInt32() -> UInt32? {
        guard bytes.count >= 4 else { return nil }
        let i = bytes.startIndex
        var v: UInt32 = 0
        for k in 0..<4 { v = v << 8 | UInt32(bytes[i + k]) }
        advance(4)
        return v
    }

    @inlinable public mutating func readUInt64() -> UInt64? {
        guard bytes.count >= 8 else { return nil }
        let i = bytes.startIndex
        var v: UInt64 = 0
        for k in 0..<8 { v = v << 8 | UInt64(bytes[i + k]) }
        advance(8)
        return v
    }

    /// Reads an unsigned big-endian integer of `count` (0...8) bytes.
    @inlinable public mutating func readUInt(bytes count: Int) -> UInt64? {
        guard count >= 0, count <= 8, bytes.count >= count else { return nil }
        var v: UInt64 = 0
        let i = bytes.startIndex
        for k in 0..<count { v = v << 8 | UInt64(bytes[i + k]) }
        advance(count)
        return v
    }

    /// A view of the next `count` bytes (no copy), or nil when fewer remain.
    @inlinable public mutating func readSlice(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, bytes.count >= count else { return nil }
        let start = bytes.startIndex
        let s = bytes[start..<(start + count)]
        advance(count)
        return s
    }

    @inlinable public mutating func readRest() -> ArraySlice<UInt8> {
        let s = bytes
        bytes = bytes[bytes.endIndex..<bytes.endIndex]
        return s
    }

    @inlinable public mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, bytes.count >= count else { return false }
        advance(count)
        return true
    }

    /// A-XDR length: one byte below 0x80, otherwise 0x8N followed by N big-endian bytes (IEC 62056-6-2 / BER
    /// definite form). Returns nil on short input or on a length that does not fit in `Int`.
    @inlinable public mutating func readAXDRLength() -> Int? {
        let save = self
        guard let first = readUInt8() else { return nil }
        if first < 0x80 { return Int(first) }
        let n = Int(first & 0x7F)
        guard n >= 1, n <= 4, let v = readUInt(bytes: n), let len = Int(exactly: v) else {
            self = save
            return nil
        }
        return len
    }

    /// Runs `body`; if it returns nil or throws, the reader is left where it was (parse-or-rewind).
    @inlinable public mutating func rewindingOnFailure<T>(_ body: (inout ByteReader) throws -> T?) rethrows -> T? {
        let save = self
        do {
            guard let v = try body(&self) else { self = save; return nil }
            return v
        } catch {
            self = save
            throw error
        }
    }
}
