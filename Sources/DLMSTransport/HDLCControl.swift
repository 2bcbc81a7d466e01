/// The HDLC control field (ISO/IEC 13239 as profiled by IEC 62056-46 §6.4.3), bit 0 first on the line:
///
/// ```
/// I frame:  N(R) N(R) N(R) P/F N(S) N(S) N(S) 0      (msb … lsb)
/// S frame:  N(R) N(R) N(R) P/F S    S    0    1      S: 00 RR, 01 RNR (10 REJ, 11 SREJ are not used by DLMS)
/// U frame:  M    M    M    P/F M    M    1    1      SNRM 0x83, DISC 0x43, UA 0x63, DM 0x0F, FRMR 0x87, UI 0x03
/// ```
public struct HDLCControl: Sendable, Hashable {
    public var raw: UInt8
    public var type: HDLCFrameType
    public var sendSequence: UInt8?
    public var receiveSequence: UInt8?
    public var pollFinal: Bool

    public init(_ raw: UInt8) {
        self.raw = raw
        pollFinal = raw & 0x10 != 0
        if raw & 0x01 == 0 {
            type = .i
            sendSequence = (raw >> 1) & 0x07
            receiveSequence = raw >> 5
        } else if raw & 0x03 == 0x01 {
            receiveSequence = raw >> 5
            sendSequence = nil
            switch (raw >> 2) & 0x03 {
            case 0: type = .rr
            case 1: type = .rnr
            default: type = .unknown  // REJ / SREJ: not part of the IEC 62056-46 profile
            }
        } else {
            sendSequence = nil
            receiveSequence = nil
            switch raw & 0xEF {
            case 0x83: type = .snrm
            case 0x43: type = .disc
            case 0x63: type = .ua
            case 0x0F: type = .dm
            case 0x87: type = .frmr
            case 0x03: type = .ui
            default: type = .unknown
            }
        }
    }
}
