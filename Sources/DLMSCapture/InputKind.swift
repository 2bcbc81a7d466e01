/// What kind of input a file is, for `--input auto`.
public enum InputKind: String, Sendable, Hashable, CaseIterable {
    case pcap
    case pcapng
    /// A bare byte stream (HDLC or wrapper frames back to back).
    case raw
    /// Hex text (see `HexDumpParser`).
    case hex

    /// Decides by, in this order: the magic number of `firstBytes` (pcap `a1b2c3d4`, `a1b23c4d` (nanosecond) in
    /// either byte order; pcapng section header `0a0d0d0a`), the extension of `path` (`.pcap`, `.cap` → pcap,
    /// `.pcapng` → pcapng, `.raw`, `.bin` → raw, `.hex`, `.txt` → hex), then the content: printable text that is
    /// mostly hex digits, spaces and punctuation → hex, anything else → raw. Give at least the first 4 KiB.
    public static func detect(path: String, firstBytes: ArraySlice<UInt8>) -> InputKind {
        if firstBytes.count >= 4 {
            let i = firstBytes.startIndex
            let magic = UInt32(firstBytes[i]) << 24 | UInt32(firstBytes[i + 1]) << 16
                | UInt32(firstBytes[i + 2]) << 8 | UInt32(firstBytes[i + 3])
            switch magic {
            case 0xA1B2_C3D4, 0xD4C3_B2A1, 0xA1B2_3C4D, 0x4D3C_B2A1: return .pcap
            case 0x0A0D_0D0A: return .pcapng
            default: break
            }
        }
        switch fileExtension(path) {
        case "pcap", "cap": return .pcap
        case "pcapng": return .pcapng
        case "raw", "bin": return .raw
        case "hex", "txt": return .hex
        default: break
        }
        return looksLikeHexText(firstBytes) ? .hex : .raw
    }

    public static func detect(path: String, firstBytes: [UInt8]) -> InputKind {
        detect(path: path, firstBytes: firstBytes[...])
    }

    /// The lower-cased extension of the last path component, or "".
    static func fileExtension(_ path: String) -> String {
        let name = path.split(separator: "/").last ?? ""
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        return name[name.index(after: dot)...].lowercased()
    }

    /// Printable ASCII only (plus tab, CR, LF), with hex digits making up most of the non-space characters —
    /// letters such as the `TX`/`RX` markers or an `xxd` ASCII column are allowed in moderation.
    static func looksLikeHexText(_ bytes: ArraySlice<UInt8>) -> Bool {
        var hex = 0
        var other = 0
        for b in bytes.prefix(64 * 1024) {
            switch b {
            case 0x09, 0x0A, 0x0D, 0x20: continue
            case 0x21...0x7E:
                if (0x30...0x39).contains(b) || (0x41...0x46).contains(b) || (0x61...0x66).contains(b) {
                    hex += 1
                } else {
                    other += 1
                }
            default:
                return false
            }
        }
        return hex >= 2 && hex >= other
    }
}
