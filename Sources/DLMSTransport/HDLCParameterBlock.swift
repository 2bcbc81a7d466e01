import DLMSWire

/// The SNRM/UA information field (IEC 62056-46 §6.4.4.4.3.2, ISO/IEC 13239 §5.5.3.2):
///
/// ```
/// 81 (format identifier) | 80 (group identifier) | group length | { parameter id | length | value (1..4 bytes) }*
///   05 maximum information field length, transmit    06 … receive
///   07 window size, transmit                          08 … receive
/// ```
///
/// Unknown parameters are skipped; a value longer than 4 bytes, a block that overruns its group length or a wrong
/// identifier is an error (`hdlc.bad-parameters`) and no parameters are reported.
enum HDLCParameterBlock {
    static func parse(_ info: ArraySlice<UInt8>) -> Result<HDLCParameters, DecodeError> {
        var r = ByteReader(info)
        guard let formatID = r.readUInt8(), formatID == 0x81 else {
            return .failure(DecodeError("hdlc.bad-parameters", "format identifier is not 0x81", offset: 0))
        }
        guard let groupID = r.readUInt8(), groupID == 0x80 else {
            return .failure(DecodeError("hdlc.bad-parameters", "group identifier is not 0x80", offset: 1))
        }
        guard let groupLength = r.readUInt8(), var group = r.readSlice(Int(groupLength)).map(ByteReader.init) else {
            return .failure(DecodeError("hdlc.bad-parameters", "group length overruns the information field",
                                        offset: 2))
        }
        var p = HDLCParameters()
        while !group.isAtEnd {
            let at = group.index - info.startIndex
            guard let id = group.readUInt8(), let len = group.readUInt8() else {
                return .failure(DecodeError("hdlc.bad-parameters", "parameter header truncated", offset: at))
            }
            guard len >= 1, len <= 4, let v = group.readUInt(bytes: Int(len)) else {
                return .failure(DecodeError("hdlc.bad-parameters",
                                            "parameter 0x\(Hex.encode([id])) has an invalid length \(len)",
                                            offset: at))
            }
            // len <= 4, so v < 2^32 fits in Int on every 64-bit platform we build for.
            let value = Int(truncatingIfNeeded: v)
            switch id {
            case 0x05: p.maxInfoTransmit = value
            case 0x06: p.maxInfoReceive = value
            case 0x07: p.windowTransmit = value
            case 0x08: p.windowReceive = value
            default: break  // other ISO 13239 parameters: not used by DLMS, skipped
            }
        }
        if !r.isAtEnd {
            return .failure(DecodeError("hdlc.bad-parameters", "bytes after the parameter group",
                                        offset: r.index - info.startIndex))
        }
        return .success(p)
    }
}
