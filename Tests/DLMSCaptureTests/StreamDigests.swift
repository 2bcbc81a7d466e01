import DLMSWire
import Testing
@testable import DLMSCapture

/// The TCP streams of the shared captures, per direction, as `tshark -z follow,tcp,raw,N` (Wireshark 4.0.17)
/// shows them: a byte count and an FNV-1a 64 hash of the concatenated bytes.
///
/// Generated from the package root with (tshark is not needed to run the tests):
/// ```
/// # python3 stream_digests.py Captures/gurux/*.pcap Captures/peers/*.pcap
/// import subprocess, sys
/// def fnv(b):
///     h = 0xcbf29ce484222325
///     for x in b: h = ((h ^ x) * 0x100000001b3) & 0xffffffffffffffff
///     return h
/// for path in sys.argv[1:]:
///     ids = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "tcp.stream"],
///                          capture_output=True, text=True).stdout
///     for s in sorted({int(x) for x in ids.split() if x.strip()}):
///         out = subprocess.run(["tshark", "-r", path, "-q", "-z", f"follow,tcp,raw,{s}"],
///                              capture_output=True, text=True).stdout
///         nodes, data = {}, {0: bytearray(), 1: bytearray()}
///         for line in out.splitlines():
///             if line.startswith("Node 0: "): nodes[0] = line[8:]
///             elif line.startswith("Node 1: "): nodes[1] = line[8:]
///             elif line.startswith("\t"): data[1] += bytes.fromhex(line.strip())
///             elif line and all(c in "0123456789abcdef" for c in line): data[0] += bytes.fromhex(line)
///         print(path, s, nodes, len(data[0]), hex(fnv(data[0])), len(data[1]), hex(fnv(data[1])))
/// ```
/// (Output-Ciphered.pcap's tcp.stream 0 is empty in tshark and left out.) For neg-truncated-segment.pcap tshark
/// shows only the captured bytes, so its server direction is 40 bytes short of wrapper-none.pcap's.
struct StreamDigest: Sendable, CustomTestStringConvertible {
    var file: String
    var stream: Int
    var a: String
    var b: String
    var aBytes: Int
    var aHash: UInt64
    var bBytes: Int
    var bHash: UInt64
    init(_ file: String, stream: Int, a: String, b: String, aBytes: Int, aHash: UInt64, bBytes: Int, bHash: UInt64) {
        self.file = file
        self.stream = stream
        self.a = a
        self.b = b
        self.aBytes = aBytes
        self.aHash = aHash
        self.bBytes = bBytes
        self.bHash = bHash
    }
    var testDescription: String { "\(file) tcp.stream \(stream)" }

    static let all: [StreamDigest] = [
        .init("gurux/hdlc-auth-only.pcap", stream: 0, a: "127.0.0.1:45442", b: "127.0.0.1:24074", aBytes: 5604, aHash: 0xc644e9afe7e5fd37, bBytes: 17834, bHash: 0x663e788f369aab93),
        .init("gurux/hdlc-gbt-authenc.pcap", stream: 0, a: "127.0.0.1:59718", b: "127.0.0.1:24064", aBytes: 2164, aHash: 0xeadc999f6620ca41, bBytes: 9285, bHash: 0x94d1739047fb3f29),
        .init("gurux/hdlc-none.pcap", stream: 0, a: "127.0.0.1:33310", b: "127.0.0.1:24054", aBytes: 5177, aHash: 0xfda55a90ada5ad54, bBytes: 14992, bHash: 0xa2aaeb554d111418),
        .init("gurux/neg-bad-fcs.pcap", stream: 0, a: "127.0.0.1:33310", b: "127.0.0.1:24054", aBytes: 5177, aHash: 0xfda55a90ada5ad54, bBytes: 14992, bHash: 0x7a62eb84450b2899),
        .init("gurux/neg-missing-key.pcap", stream: 0, a: "127.0.0.1:42462", b: "127.0.0.1:24058", aBytes: 3206, aHash: 0x83022355396f3d8c, bBytes: 12334, bHash: 0x740cb212acd94757),
        .init("gurux/neg-replay.pcap", stream: 0, a: "127.0.0.1:52414", b: "127.0.0.1:24056", aBytes: 3405, aHash: 0xf3e002bf847140cc, bBytes: 10499, bHash: 0x5046a43c7c56871f),
        .init("gurux/neg-tamper.pcap", stream: 0, a: "127.0.0.1:52414", b: "127.0.0.1:24056", aBytes: 3365, aHash: 0x489a807b18a11fc5, bBytes: 10499, bHash: 0x6ba708eacebac85d),
        .init("gurux/neg-truncated-segment.pcap", stream: 0, a: "127.0.0.1:34036", b: "127.0.0.1:24050", aBytes: 2398, aHash: 0xbdde425ad1d55b14, bBytes: 9505, bHash: 0xc8611476f76a3e5b),
        .init("gurux/neg-wrapper-length.pcap", stream: 0, a: "127.0.0.1:34036", b: "127.0.0.1:24050", aBytes: 2398, aHash: 0xd61f3b24b95659cb, bBytes: 9545, bHash: 0x8ee486c83089645e),
        .init("gurux/wrapper-ded.pcap", stream: 0, a: "127.0.0.1:42462", b: "127.0.0.1:24058", aBytes: 3206, aHash: 0x83022355396f3d8c, bBytes: 12334, bHash: 0x740cb212acd94757),
        .init("gurux/wrapper-general-ded.pcap", stream: 0, a: "127.0.0.1:42354", b: "127.0.0.1:24062", aBytes: 3840, aHash: 0x4f684d1f96d30f5f, bBytes: 12426, bHash: 0x382f6d4f64ef515c),
        .init("gurux/wrapper-general-glo.pcap", stream: 0, a: "127.0.0.1:39762", b: "127.0.0.1:24060", aBytes: 4339, aHash: 0x8be0bbaa1b9fe758, bBytes: 16907, bHash: 0x060a6a682557c764),
        .init("gurux/wrapper-hls-gmac-authenc.pcap", stream: 0, a: "127.0.0.1:52414", b: "127.0.0.1:24056", aBytes: 3365, aHash: 0x489a807b18a11fc5, bBytes: 10499, bHash: 0x5046a43c7c56871f),
        .init("gurux/wrapper-hls-sha256-authenc.pcap", stream: 0, a: "127.0.0.1:52162", b: "127.0.0.1:24070", aBytes: 4340, aHash: 0x67f8876ea1fc2050, bBytes: 15088, bHash: 0x74f3c586a692c36b),
        .init("gurux/wrapper-lls.pcap", stream: 0, a: "127.0.0.1:39484", b: "127.0.0.1:24052", aBytes: 2651, aHash: 0xcc63d6aacf8f24e2, bBytes: 11930, bHash: 0xac537d5c1e3721af),
        .init("gurux/wrapper-none.pcap", stream: 0, a: "127.0.0.1:34036", b: "127.0.0.1:24050", aBytes: 2398, aHash: 0xbdde425ad1d55b14, bBytes: 9545, bHash: 0x8ee486c83089645e),
        .init("gurux/wrapper-push-glo.pcap", stream: 0, a: "127.0.0.1:38256", b: "127.0.0.1:24072", aBytes: 276, aHash: 0x0b481d0eaf12d2cc, bBytes: 0, bHash: 0xcbf29ce484222325),
        .init("gurux/wrapper-suite1-ecdsa.pcap", stream: 0, a: "127.0.0.1:59264", b: "127.0.0.1:24066", aBytes: 5018, aHash: 0xb6f9e984588742b9, bBytes: 17786, bHash: 0x3a0557bf61a15c0e),
        .init("gurux/wrapper-suite2-ecdsa.pcap", stream: 0, a: "127.0.0.1:48218", b: "127.0.0.1:24068", aBytes: 3201, aHash: 0x7496a26427c40d8c, bBytes: 10926, bHash: 0x72b790b77e1d8974),
        .init("peers/Output-Ciphered-Director.pcap", stream: 0, a: "127.0.0.1:59269", b: "127.0.0.1:4059", aBytes: 197, aHash: 0xb59ee6d21a5ae194, bBytes: 82, bHash: 0x1d33b0217803e177),
        .init("peers/Output-Ciphered-HLS-AuthEnc.pcap", stream: 0, a: "127.0.0.1:53001", b: "127.0.0.1:4063", aBytes: 5449, aHash: 0x712db55840523c59, bBytes: 9119, bHash: 0x5057650e6605a1e9),
        .init("peers/Output-Ciphered-HLS.pcap", stream: 0, a: "10.0.0.2:34590", b: "10.0.0.1:4063", aBytes: 5450, aHash: 0xd78335b30865f42d, bBytes: 8841, bHash: 0xdfe42e75a1e8a116),
        .init("peers/Output-Ciphered-Simple-Key.pcap", stream: 0, a: "172.23.144.1:23106", b: "172.23.149.202:4063", aBytes: 6948, aHash: 0xbaea3a3b16239295, bBytes: 10786, bHash: 0x6f6980448273a98e),
        .init("peers/Output-Ciphered.pcap", stream: 1, a: "127.0.0.1:36012", b: "127.0.0.1:4064", aBytes: 3799, aHash: 0x1ba10316609d9e8f, bBytes: 7469, bHash: 0x1dbafdf7e46b8df2),
        .init("peers/Output-EPRI.pcap", stream: 0, a: "127.0.0.1:49932", b: "127.0.0.1:4059", aBytes: 562, aHash: 0x6ff1d60a11327907, bBytes: 1177, bHash: 0xb685addbc1226e0c),
        .init("peers/Output.pcap", stream: 0, a: "127.0.0.1:38966", b: "127.0.0.1:4063", aBytes: 2857, aHash: 0x8a49584672d540fb, bBytes: 6649, bHash: 0x6d42f25c594dad4b),
    ]
}
