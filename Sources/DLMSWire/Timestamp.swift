/// A capture timestamp (seconds and microseconds since the Unix epoch, UTC). The clock of every decoder and rule
/// is the capture's, never the wall clock.
public struct Timestamp: Sendable, Hashable, Comparable {
    public var seconds: Int64
    public var micros: Int32

    public init(seconds: Int64, micros: Int32) {
        self.seconds = seconds
        self.micros = micros
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool {
        a.seconds != b.seconds ? a.seconds < b.seconds : a.micros < b.micros
    }

    /// Seconds from `other` to `self` (negative when `self` is earlier).
    public func seconds(since other: Timestamp) -> Double {
        Double(seconds - other.seconds) + Double(micros - other.micros) / 1_000_000
    }

    /// RFC 3339 UTC with microseconds: `2024-03-01T12:00:00.123456Z`.
    public var rfc3339: String {
        var fits = false
        let s = String(unsafeUninitializedCapacity: Self.rfc3339Length) { buf in
            guard let p = buf.baseAddress, writeRFC3339(p) else { return 0 }
            fits = true
            return Self.rfc3339Length
        }
        return fits ? s : rfc3339Padded
    }

    /// Length of `rfc3339` for years 0...9999.
    public static let rfc3339Length = 27

    /// Writes `rfc3339` (27 bytes) at `p` when it fits the fixed layout (year 0...9999, micros 0...999999), which
    /// is every real capture's; returns false otherwise, having written nothing. Used for every record's time, so
    /// no String is built.
    @discardableResult
    public func writeRFC3339(_ p: UnsafeMutablePointer<UInt8>) -> Bool {
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secs = seconds - days * 86400
        let (y, m, d) = Timestamp.civil(fromDays: days)
        guard (0...9999).contains(y), (0...999_999).contains(micros) else { return false }
        @inline(__always) func put(_ v: Int64, _ width: Int, at: Int) {
            var v = v
            var i = at + width
            while i > at {
                i -= 1
                p[i] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: v % 10)
                v /= 10
            }
        }
        put(y, 4, at: 0)
        p[4] = UInt8(ascii: "-")
        put(m, 2, at: 5)
        p[7] = UInt8(ascii: "-")
        put(d, 2, at: 8)
        p[10] = UInt8(ascii: "T")
        put(secs / 3600, 2, at: 11)
        p[13] = UInt8(ascii: ":")
        put(secs / 60 % 60, 2, at: 14)
        p[16] = UInt8(ascii: ":")
        put(secs % 60, 2, at: 17)
        p[19] = UInt8(ascii: ".")
        put(Int64(micros), 6, at: 20)
        p[26] = UInt8(ascii: "Z")
        return true
    }

    /// The general form (any year, any micros): zero-padded decimal fields.
    var rfc3339Padded: String {
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secs = seconds - days * 86400
        let (y, m, d) = Timestamp.civil(fromDays: days)
        func pad(_ v: Int64, _ w: Int) -> String {
            let s = String(v)
            return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secs / 3600, 2)):\(pad(secs / 60 % 60, 2)):"
            + "\(pad(secs % 60, 2)).\(pad(Int64(micros), 6))Z"
    }

    /// Days since 1970-01-01 → (year, month, day), Howard Hinnant's civil_from_days.
    public static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
