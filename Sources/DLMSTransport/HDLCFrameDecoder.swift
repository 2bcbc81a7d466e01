import DLMSWire

/// Delimits and decodes one IEC 62056-46 HDLC frame (frame format type 3, no byte stuffing):
///
/// ```
/// 7E | format (2) | destination (1,2,4) | source (1,2,4) | control (1) | [HCS (2) | information (n)] | FCS (2) | 7E
///      format = 1010 S LLLLLLLLLLL   (type 3 = 0xA, S = segmentation, L = length from format to FCS inclusive)
/// ```
///
/// HCS covers format..control and FCS covers format..information; both are CRC-16/X.25 sent least significant byte
/// first (IEC 62056-46 §8.4.1.4). The frame is found by its length, then its closing flag is checked: a frame whose
/// length does not land on a 0x7E is not a frame (the caller resynchronises).
enum HDLCFrameDecoder {
    /// Shortest legal frame content: format (2) + destination (1) + source (1) + control (1) + FCS (2).
    static let minimumLength = 7

    enum Scan {
        /// The bytes are a strict prefix of a frame.
        case needMore
        /// No frame starts here; `reason` says why.
        case broken(reason: String)
        /// A frame delimited by its format field: `format` (length = `format & 0x7FF`, the frame takes that many
        /// bytes plus its two flags); its content is decoded by `decodeContent`.
        case frame(format: UInt16)
    }

    /// What the decoder reads from a frame's bytes; `HDLCFrame` adds the bytes and where they came from.
    struct Fields {
        var format: UInt16
        var destination: HDLCAddress
        var source: HDLCAddress
        /// The control field and what it says (frame type, N(S), N(R), P/F).
        var controlField: HDLCControl
        var control: UInt8 { controlField.raw }
        var type: HDLCFrameType { controlField.type }
        var hcsOK: Bool?
        var fcsOK: Bool
        /// Indices of the information field in the scanned bytes.
        var infoRange: Range<Int>
        var parameters: HDLCParameters?
        var errors: [DecodeError]

        /// The frame, `raw` being the scanned bytes of its `byteCount`.
        @inline(__always)
        func frame(raw: ArraySlice<UInt8>, frames: FrameNumbers, time: Timestamp?) -> HDLCFrame {
            HDLCFrame(format: format, destination: destination, source: source, control: controlField, hcsOK: hcsOK,
                      fcsOK: fcsOK, parameters: parameters, raw: raw, infoRange: infoRange, frames: frames,
                      time: time, errors: errors)
        }
    }

    /// `bytes` starts at an opening flag: finds the frame's extent from its format field and checks its closing
    /// flag. Read by index with checked subscripts (each read below is preceded by the length check that makes it
    /// valid). The fields are decoded apart (`decodeContent`): a result enum carrying them (some 200
    /// bytes) was copied out of the call and again out of the enum for every frame.
    @inline(__always)
    static func scan(_ bytes: ArraySlice<UInt8>) -> Scan {
        let start = bytes.startIndex
        let available = bytes.count
        guard available >= 1 else { return .needMore }
        guard bytes[start] == 0x7E else { return .broken(reason: "no opening flag") }
        guard available >= 2 else { return .needMore }
        let f0 = bytes[start + 1]
        guard f0 >> 4 == 0xA else {
            return .broken(reason: "frame format type \(f0 >> 4) is not 3 (0xA)")
        }
        guard available >= 3 else { return .needMore }
        let format = UInt16(f0) << 8 | UInt16(bytes[start + 2])
        let length = Int(format & 0x07FF)
        guard length >= minimumLength else {
            return .broken(reason: "frame length \(length) is shorter than the minimum of \(minimumLength)")
        }
        // Opening flag + content + closing flag.
        guard available >= length + 2 else { return .needMore }
        guard bytes[start + length + 1] == 0x7E else {
            return .broken(reason: "no closing flag after the \(length)-byte frame the format field announces")
        }
        return .frame(format: format)
    }

    static let unparsableHeader = "frame header does not parse (addresses or control)"

    /// A whole frame at the start of `bytes` with its byte count (flags included), or nil (tests and tools; the
    /// scanner delimits and decodes in two steps).
    static func frame(at bytes: ArraySlice<UInt8>) -> (frame: HDLCFrame, byteCount: Int)? {
        guard case .frame(let format) = scan(bytes) else { return nil }
        let s = bytes.startIndex
        let n = Int(format & 0x07FF) + 2
        guard let fields = decodeContent(bytes[(s + 1)..<(s + n - 1)], format: format) else { return nil }
        return (fields.frame(raw: bytes[s..<(s + n)], frames: FrameNumbers(), time: nil), n)
    }

    /// Decodes format..FCS (`content`, exactly `format & 0x7FF` bytes).
    @inline(__always)
    static func decodeContent(_ content: ArraySlice<UInt8>, format: UInt16) -> Fields? {
        var i = content.startIndex + 2
        guard i <= content.endIndex, let destination = readAddress(content, &i),
              let source = readAddress(content, &i), i < content.endIndex else {
            return nil
        }
        let control = content[i]
        i += 1
        let headerEnd = i
        let fcsStart = content.endIndex - 2
        let afterControl = fcsStart - headerEnd
        // Either nothing between control and FCS, or an HCS followed by the information field (IEC 62056-46
        // §8.4.1: "the HCS is present only if the frame contains an information field"). One byte, or HCS alone
        // with a single stray byte, cannot be laid out.
        guard afterControl == 0 || afterControl >= 2 else { return nil }

        var errors: [DecodeError] = []
        var hcsOK: Bool? = nil
        var infoRange = fcsStart..<fcsStart
        // The FCS register runs on from the header's: the header bytes are folded in once for both checks.
        let headerRegister = CRC16.x25Register(0xFFFF, content[content.startIndex..<headerEnd])
        if afterControl >= 2 {
            let hcs = UInt16(content[headerEnd]) | UInt16(content[headerEnd + 1]) << 8
            let ok = headerRegister ^ 0xFFFF == hcs
            hcsOK = ok
            if !ok {
                errors.append(DecodeError("hdlc.bad-hcs", "header check sequence does not match",
                                          offset: headerEnd - content.startIndex + 1))
            }
            infoRange = (headerEnd + 2)..<fcsStart
        }
        let fcs = UInt16(content[fcsStart]) | UInt16(content[fcsStart + 1]) << 8
        let fcsOK = CRC16.x25Register(headerRegister, content[headerEnd..<fcsStart]) ^ 0xFFFF == fcs
        if !fcsOK {
            errors.append(DecodeError("hdlc.bad-fcs", "frame check sequence does not match",
                                      offset: fcsStart - content.startIndex + 1))
        }
        let c = HDLCControl(control)
        var parameters: HDLCParameters? = nil
        if (c.type == .snrm || c.type == .ua), !infoRange.isEmpty {
            let info = content[infoRange]
            switch HDLCParameterBlock.parse(info) {
            case .success(let p): parameters = p
            case .failure(let e):
                errors.append(DecodeError(e.code, e.message,
                                          offset: (e.offset ?? 0) + info.startIndex - content.startIndex + 1))
            }
        }
        return Fields(format: format, destination: destination, source: source, controlField: c, hcsOK: hcsOK,
                      fcsOK: fcsOK, infoRange: infoRange, parameters: parameters, errors: errors)
    }

    // MARK: - Addresses

    /// IEC 62056-46 §8.4.2.2: each address byte carries 7 bits, its LSB is the extension bit (1 = last byte).
    /// Legal sizes are 1, 2 and 4 bytes. The split of a server address into upper (logical device) and lower
    /// (physical device) halves follows Gurux `GXDLMS.getHdlcAddress` / `getServerAddress`: 2 bytes → 7 + 7 bits,
    /// 4 bytes → 14 + 14 bits.
    static func readAddress(_ bytes: ArraySlice<UInt8>, _ i: inout Int) -> HDLCAddress? {
        var groups: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
        var size = 0
        while true {
            guard size < 4, i < bytes.endIndex else { return nil }
            let b = bytes[i]
            i += 1
            let v = UInt32(b >> 1)
            switch size {
            case 0: groups.0 = v
            case 1: groups.1 = v
            case 2: groups.2 = v
            default: groups.3 = v
            }
            size += 1
            if b & 1 == 1 { break }
        }
        switch size {
        case 1:
            return HDLCAddress(size: 1, value: groups.0, upper: UInt16(groups.0), lower: nil)
        case 2:
            return HDLCAddress(size: 2, value: groups.0 << 7 | groups.1, upper: UInt16(groups.0),
                               lower: UInt16(groups.1))
        case 4:
            let upper = groups.0 << 7 | groups.1
            let lower = groups.2 << 7 | groups.3
            return HDLCAddress(size: 4, value: upper << 14 | lower, upper: UInt16(upper), lower: UInt16(lower))
        default:
            return nil  // 3-byte addresses are not defined
        }
    }
}
