import DLMSWire

/// Framing helpers for `dlmsdump encode --frame`: the DLMS/COSEM wrapper (IEC 62056-47, TCP/UDP) and an HDLC
/// I-frame (IEC 62056-46) around an APDU, as a meter accepts them.
///
/// ```
/// wrapper:  version 0x0001 ‖ source wPort (2) ‖ destination wPort (2) ‖ length (2) ‖ APDU
/// HDLC:     7E ‖ A0|S|len (2, frame format type 3, 11-bit length without the flags) ‖ destination address ‖
///           source address ‖ control ‖ HCS (2) ‖ LLC E6 E6 00 (E6 E7 00 from the server) ‖ APDU ‖ FCS (2) ‖ 7E
/// ```
/// HCS and FCS are CRC-16/X-25, sent least significant byte first.
public enum Framing {
    public enum FramingError: Error, Sendable, Hashable, CustomStringConvertible {
        case tooLong(Int, maximum: Int)
        case badAddress(String)

        public var description: String {
            switch self {
            case .tooLong(let n, let m): "the APDU of \(n) bytes does not fit (at most \(m))"
            case .badAddress(let s): s
            }
        }
    }

    /// The wrapper header and the APDU. Client wPort 16 (public client 0x10) and server wPort 1 are usual.
    public static func wrap(apdu: [UInt8], source: UInt16, destination: UInt16) throws(FramingError) -> [UInt8] {
        guard apdu.count <= 0xFFFF else { throw .tooLong(apdu.count, maximum: 0xFFFF) }
        var out: [UInt8] = [0x00, 0x01]
        XMLValue.append(source, to: &out)
        XMLValue.append(destination, to: &out)
        XMLValue.append(UInt16(apdu.count), to: &out)
        return out + apdu
    }

    /// An HDLC server address: upper (logical device) and optional lower (physical device) HDLC address, in the
    /// 1-, 2- or 4-byte form (IEC 62056-46 §6.4.2.3). Each byte carries 7 bits, the last byte has bit 0 set.
    public struct ServerAddress: Sendable, Hashable {
        public var upper: UInt16
        public var lower: UInt16?
        /// 1, 2 or 4 bytes; nil picks the shortest form that holds the values.
        public var size: Int?

        public init(upper: UInt16, lower: UInt16? = nil, size: Int? = nil) {
            self.upper = upper
            self.lower = lower
            self.size = size
        }

        func bytes() throws(FramingError) -> [UInt8] {
            let n = size ?? (lower == nil && upper < 0x80 ? 1 : (upper < 0x80 && (lower ?? 0) < 0x80 ? 2 : 4))
            switch n {
            case 1:
                guard lower == nil, upper < 0x80 else { throw .badAddress("server address \(upper) needs 2 or 4 bytes") }
                return [UInt8(upper << 1) | 1]
            case 2:
                let lo = lower ?? 0
                guard upper < 0x80, lo < 0x80 else { throw .badAddress("server address needs 4 bytes") }
                return [UInt8(upper << 1), UInt8(lo << 1) | 1]
            case 4:
                let lo = lower ?? 0
                guard upper < 0x4000, lo < 0x4000 else { throw .badAddress("HDLC addresses have 14 bits at most") }
                return [UInt8((upper >> 7) << 1), UInt8((upper & 0x7F) << 1), UInt8((lo >> 7) << 1),
                        UInt8((lo & 0x7F) << 1) | 1]
            default:
                throw .badAddress("an HDLC server address has 1, 2 or 4 bytes")
            }
        }
    }

    /// The control byte of an I-frame: N(R) ‖ P/F ‖ N(S) ‖ 0.
    public static func informationControl(sendSequence ns: UInt8, receiveSequence nr: UInt8, final: Bool = true)
        -> UInt8
    {
        ((nr & 7) << 5) | (final ? 0x10 : 0) | ((ns & 7) << 1)
    }

    /// One HDLC frame carrying `apdu`. From the client (the default) the destination is the server address and the
    /// LLC header is E6 E6 00; from the server the addresses swap and the LLC is E6 E7 00. `segmented` sets the
    /// segmentation bit of the frame format (more segments follow); `llc` false omits the LLC header (for the
    /// 2nd and later segments of a segmented APDU).
    public static func hdlcFrame(apdu: [UInt8], client: UInt8, server: ServerAddress, control: UInt8,
                                 fromClient: Bool = true, segmented: Bool = false, llc: Bool = true)
        throws(FramingError) -> [UInt8]
    {
        guard client < 0x80 else { throw .badAddress("client address \(client) has more than 7 bits") }
        let clientBytes: [UInt8] = [(client << 1) | 1]
        let serverBytes = try server.bytes()
        let (dst, src) = fromClient ? (serverBytes, clientBytes) : (clientBytes, serverBytes)
        var info: [UInt8] = []
        if llc { info = fromClient ? [0xE6, 0xE6, 0x00] : [0xE6, 0xE7, 0x00] }
        info += apdu
        // format(2) + addresses + control + HCS(2) [+ info + FCS(2)]
        let header = 2 + dst.count + src.count + 1
        let length = header + 2 + (info.isEmpty ? 0 : info.count + 2)
        guard length <= 0x7FF else { throw .tooLong(apdu.count, maximum: 0x7FF - header - 4 - (llc ? 3 : 0)) }
        var f: [UInt8] = [0xA0 | (segmented ? 0x08 : 0) | UInt8(length >> 8), UInt8(length & 0xFF)]
        f += dst
        f += src
        f.append(control)
        let hcs = CRC16.x25(f)
        f.append(UInt8(hcs & 0xFF))
        f.append(UInt8(hcs >> 8))
        if !info.isEmpty {
            f += info
            let fcs = CRC16.x25(f)
            f.append(UInt8(fcs & 0xFF))
            f.append(UInt8(fcs >> 8))
        }
        return [0x7E] + f + [0x7E]
    }

    /// An APDU split into I-frames whose information field holds at most `maxInfo` bytes (LLC included in the
    /// first), numbered from `sendSequence` with N(R) = `receiveSequence`. The receiver acknowledges each
    /// segment with RR before the next is sent; the frames are returned in order for a script or a test bench.
    public static func hdlcFrames(apdu: [UInt8], client: UInt8, server: ServerAddress, maxInfo: Int = 128,
                                  sendSequence: UInt8 = 0, receiveSequence: UInt8 = 0, fromClient: Bool = true)
        throws(FramingError) -> [[UInt8]]
    {
        guard maxInfo >= 4 else { throw .badAddress("max info field of \(maxInfo) bytes is too small") }
        var rest = ArraySlice(apdu)
        var frames: [[UInt8]] = []
        var ns = sendSequence
        var first = true
        repeat {
            let room = maxInfo - (first ? 3 : 0)
            let chunk = rest.prefix(room)
            rest = rest.dropFirst(chunk.count)
            let control = informationControl(sendSequence: ns, receiveSequence: receiveSequence)
            frames.append(try hdlcFrame(apdu: Array(chunk), client: client, server: server, control: control,
                                        fromClient: fromClient, segmented: !rest.isEmpty, llc: first))
            ns = (ns + 1) & 7
            first = false
        } while !rest.isEmpty
        return frames
    }
}
