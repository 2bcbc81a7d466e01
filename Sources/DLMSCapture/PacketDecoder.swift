import DLMSWire

/// Takes the TCP segment or UDP datagram out of one captured frame: link layer → IPv4/IPv6 → TCP/UDP.
///
/// Link types (libpcap DLT_* values, https://www.tcpdump.org/linktypes.html):
/// ```
/// EN10MB (1)       dst(6) src(6) [0x8100/0x88A8/0x9100 TCI(2)]* ethertype(2)     802.1Q and QinQ tags skipped
/// LINUX_SLL (113)  packet-type(2) arphrd(2) addr-len(2) addr(8) protocol(2)
/// LINUX_SLL2 (276) protocol(2) reserved(2) ifindex(4) arphrd(2) packet-type(1) addr-len(1) addr(8)
/// NULL (0), LOOP (108)  family(4), host or network byte order: 2 = IPv4; 24, 28, 30 = IPv6 (BSD, FreeBSD, Darwin)
/// RAW (101, 12, 14), IPV4 (228), IPV6 (229)   the IP header comes first
/// ```
/// IPv4: the total length trims Ethernet padding. Fragments: with an `IPDefragmenter` they are reassembled;
/// without one, a non-first fragment cannot be decoded alone (reported as `.malformed` with code `ip.fragment`)
/// and the first fragment of a fragmented datagram gives a packet marked `fragmented`. IPv6: hop-by-hop,
/// routing, fragment, destination-options and AH extension headers are skipped. TCP: data offset and options.
/// Checksums are not verified (capture-side offloading makes them unreliable, as Wireshark's default assumes).
///
/// Errors carry the byte offset within the frame. Codes: `link.truncated`, `ip.truncated`, `ip.bad-version`,
/// `ip.bad-header-length`, `ip.bad-total-length`, `ip.fragment`, `ipv6.too-many-extension-headers`,
/// `tcp.truncated`, `tcp.bad-data-offset`, `udp.truncated`, `udp.bad-length`.
public enum PacketDecoder {
    /// Ethertypes.
    static let ethertypeIPv4: UInt16 = 0x0800
    static let ethertypeIPv6: UInt16 = 0x86DD
    /// 802.1Q, 802.1ad (QinQ) and the older pre-standard QinQ tag.
    static let vlanTypes: Set<UInt16> = [0x8100, 0x88A8, 0x9100]
    /// Bounds the tag loop on hostile frames (real networks stack two, rarely three).
    static let maximumVLANTags = 8
    static let maximumIPv6ExtensionHeaders = 16

    /// Decodes one frame on its own: fragments are not reassembled (see `decode(_:defragmenter:)`).
    public static func decode(_ frame: CapturedFrame) -> PacketDecodeResult {
        var none = IPDefragmenter(maxDatagrams: 0)
        return decode(frame, &none, reassembling: false)
    }

    /// Decodes one frame, reassembling fragmented IP datagrams in `defragmenter`: a fragment that does not
    /// complete its datagram gives `.ignored`; the one that completes it gives the whole TCP segment or UDP
    /// datagram, in its own frame. Fragments of a frame cut by the snap length are decoded as without a
    /// defragmenter.
    public static func decode(_ frame: CapturedFrame, defragmenter: inout IPDefragmenter) -> PacketDecodeResult {
        decode(frame, &defragmenter, reassembling: true)
    }

    /// Inlined into the two entry points: the result (a packet of some 150 bytes) is then built where it is
    /// returned instead of being copied out of one more call.
    @inline(__always)
    static func decode(_ frame: CapturedFrame, _ defrag: inout IPDefragmenter, reassembling: Bool)
        -> PacketDecodeResult
    {
        let bytes = frame.data[...]
        var r = ByteReader(bytes)
        let network: UInt16?  // ethertype of the network layer, nil = find it from the IP version nibble
        switch frame.linkType {
        case 1:
            guard r.skip(12), var type = r.readUInt16() else { return truncatedLink(r, "Ethernet header") }
            var tags = 0
            // A switch, not `vlanTypes.contains`: hashing into the set cost more than the rest of the header.
            while type == 0x8100 || type == 0x88A8 || type == 0x9100 {
                tags += 1
                guard tags <= maximumVLANTags else {
                    return .malformed(DecodeError("link.too-many-vlan-tags", "more than \(maximumVLANTags) VLAN tags",
                                                  offset: r.offset))
                }
                guard r.skip(2), let inner = r.readUInt16() else { return truncatedLink(r, "802.1Q tag") }
                type = inner
            }
            network = type
        case 113:
            guard r.skip(14), let type = r.readUInt16() else { return truncatedLink(r, "Linux cooked header") }
            network = type
        case 276:
            guard let type = r.readUInt16(), r.skip(18) else { return truncatedLink(r, "Linux cooked v2 header") }
            network = type
        case 0, 108:
            guard let raw = r.readUInt32() else { return truncatedLink(r, "loopback header") }
            // The family is in the byte order of the capturing host (NULL) or big-endian (LOOP, and NULL written
            // by big-endian hosts): a value with its high half set was written in the other order.
            let family = raw & 0xFFFF_0000 != 0 ? raw.byteSwapped : raw
            switch family {
            case 2: network = ethertypeIPv4
            case 24, 28, 30: network = ethertypeIPv6
            default: return .ignored
            }
        case 12, 14, 101:
            network = nil
        case 228:
            network = ethertypeIPv4
        case 229:
            network = ethertypeIPv6
        default:
            return .ignored
        }
        let type: UInt16
        if let network {
            type = network
        } else {
            guard let first = r.peekUInt8() else { return truncatedLink(r, "raw IP packet") }
            switch first >> 4 {
            case 4: type = ethertypeIPv4
            case 6: type = ethertypeIPv6
            default: return .ignored
            }
        }
        switch type {
        case ethertypeIPv4: return decodeIPv4(frame, r.bytes, &defrag, reassembling)
        case ethertypeIPv6: return decodeIPv6(frame, r.bytes, &defrag, reassembling)
        default: return .ignored
        }
    }

    /// Big-endian fields at `i` of bytes whose length was checked (the subscripts stay checked).
    @inline(__always) private static func be16(_ b: ArraySlice<UInt8>, _ i: Int) -> UInt16 {
        UInt16(b[i]) << 8 | UInt16(b[i + 1])
    }

    @inline(__always) private static func be32(_ b: ArraySlice<UInt8>, _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    private static func truncatedLink(_ r: ByteReader, _ what: String) -> PacketDecodeResult {
        .malformed(DecodeError("link.truncated", "frame too short for the \(what)", offset: r.index))
    }

    // MARK: - IP

    /// RFC 791 §3.1: version/IHL, TOS, total length, identification, flags/fragment offset, TTL, protocol,
    /// checksum, source, destination, options.
    /// Inlined (one caller), like `decodeTransport`: the packet is built where it is returned, not copied out of
    /// each call level.
    @inline(__always)
    private static func decodeIPv4(_ frame: CapturedFrame, _ bytes: ArraySlice<UInt8>,
                                   _ defrag: inout IPDefragmenter, _ reassembling: Bool) -> PacketDecodeResult {
        let start = bytes.startIndex
        // The fixed header is read field by field after one length check (checked subscripts, no reader calls).
        guard bytes.count >= 20 else {
            return .malformed(DecodeError("ip.truncated", "frame too short for the IPv4 header", offset: start))
        }
        let vihl = bytes[start]
        let totalLength = be16(bytes, start + 2)
        let identification = be16(bytes, start + 4)
        let fragField = be16(bytes, start + 6)
        let proto = bytes[start + 9]
        let srcAddress = be32(bytes, start + 12)
        let dstAddress = be32(bytes, start + 16)
        // Addresses kept as words (the endpoints are made from them without a view of the bytes).
        let src = Endpoint(ipv4: srcAddress, port: 0)
        let dst = Endpoint(ipv4: dstAddress, port: 0)
        guard vihl >> 4 == 4 else {
            return .malformed(DecodeError("ip.bad-version", "IP version \(vihl >> 4) in an IPv4 header",
                                          offset: start))
        }
        let headerLength = Int(vihl & 0x0F) * 4
        guard headerLength >= 20 else {
            return .malformed(DecodeError("ip.bad-header-length", "IPv4 header length \(headerLength) < 20",
                                          offset: start))
        }
        // Total length 0 happens with TCP segmentation offload captured on the sender: use what is there.
        let declared = totalLength == 0 ? max(bytes.count, headerLength) : Int(totalLength)
        guard declared >= headerLength else {
            return .malformed(DecodeError("ip.bad-total-length",
                                          "IPv4 total length \(declared) < header length \(headerLength)",
                                          offset: start + 2))
        }
        guard bytes.count >= headerLength else {
            return truncatedOrMalformed(frame, "ip.truncated", "IPv4 options cut short", offset: start)
        }
        let moreFragments = fragField & 0x2000 != 0
        let fragmentOffset = Int(fragField & 0x1FFF) * 8
        guard proto == IPProtocol.tcp.rawValue || proto == IPProtocol.udp.rawValue else { return .ignored }
        if reassembling, moreFragments || fragmentOffset != 0, declared <= bytes.count {
            let key = IPDefragmenter.Key(source: Array(bytes[(start + 12)..<(start + 16)]),
                                         destination: Array(bytes[(start + 16)..<(start + 20)]), proto: proto,
                                         identification: UInt32(identification))
            guard let whole = defrag.add(key, offset: fragmentOffset, more: moreFragments,
                                         bytes: bytes[(start + headerLength)..<(start + declared)], time: frame.time)
            else { return .ignored }
            return decodeTransport(frame, proto: proto, src: src, dst: dst, whole[...], missing: 0,
                                   fragmented: false)
        }
        if fragmentOffset != 0 {
            return .malformed(DecodeError("ip.fragment",
                                          "IPv4 fragment at offset \(fragmentOffset) not reassembled",
                                          offset: start + 6))
        }
        guard let (payload, missing) = ipPayload(frame, bytes, from: start + headerLength, end: start + declared)
        else {
            return .malformed(DecodeError("ip.bad-total-length",
                                          "IPv4 total length \(declared) exceeds the \(bytes.count) bytes present",
                                          offset: start + 2))
        }
        return decodeTransport(frame, proto: proto, src: src, dst: dst, payload, missing: missing,
                               fragmented: moreFragments)
    }

    /// RFC 8200 §3-4: fixed 40-byte header, then a chain of extension headers.
    private static func decodeIPv6(_ frame: CapturedFrame, _ bytes: ArraySlice<UInt8>,
                                   _ defrag: inout IPDefragmenter, _ reassembling: Bool) -> PacketDecodeResult {
        let start = bytes.startIndex
        var r = ByteReader(bytes)
        guard let v = r.readUInt8(), r.skip(3), let payloadLength = r.readUInt16(), var next = r.readUInt8(),
              r.skip(1), let srcHigh = r.readUInt64(), let srcLow = r.readUInt64(), let dstHigh = r.readUInt64(),
              let dstLow = r.readUInt64()
        else {
            return .malformed(DecodeError("ip.truncated", "frame too short for the IPv6 header", offset: start))
        }
        let src = Endpoint(ipv6High: srcHigh, low: srcLow, port: 0)
        let dst = Endpoint(ipv6High: dstHigh, low: dstLow, port: 0)
        guard v >> 4 == 6 else {
            return .malformed(DecodeError("ip.bad-version", "IP version \(v >> 4) in an IPv6 header",
                                          offset: start))
        }
        // Payload length 0 is a jumbogram (RFC 2675) or offload: use what is there.
        let end = payloadLength == 0 ? bytes.endIndex : start + 40 + Int(payloadLength)
        var fragmented = false
        var count = 0
        while true {
            switch next {
            case 6, 17:
                guard let (payload, missing) = ipPayload(frame, bytes, from: r.index, end: end) else {
                    return .malformed(DecodeError("ip.bad-total-length",
                                                  "IPv6 payload length \(payloadLength) exceeds the bytes present",
                                                  offset: start + 4))
                }
                return decodeTransport(frame, proto: next, src: src, dst: dst, payload,
                                       missing: missing, fragmented: fragmented)
            case 0, 43, 60, 44, 51:
                count += 1
                guard count <= maximumIPv6ExtensionHeaders else {
                    return .malformed(DecodeError("ipv6.too-many-extension-headers",
                                                  "more than \(maximumIPv6ExtensionHeaders) extension headers",
                                                  offset: r.index))
                }
                let at = r.index
                guard let nh = r.peekUInt8(), let lenUnits = r.peekUInt8(at: 1) else {
                    return truncatedOrMalformed(frame, "ip.truncated", "IPv6 extension header cut short", offset: at)
                }
                let length: Int
                if next == 44 {
                    // Fragment header (RFC 8200 §4.5): next(1) reserved(1) offset/flags(2) identification(4).
                    var f = r
                    guard f.skip(2), let offsetField = f.readUInt16(), let identification = f.readUInt32() else {
                        return truncatedOrMalformed(frame, "ip.truncated", "IPv6 fragment header cut short",
                                                    offset: at)
                    }
                    let more = offsetField & 1 != 0
                    let fragmentStart = at + 8
                    if reassembling, more || offsetField >> 3 != 0, end <= bytes.endIndex, fragmentStart <= end {
                        // Only fragments whose fragmentable part starts with TCP or UDP are rebuilt.
                        guard nh == 6 || nh == 17 else { return .ignored }
                        let key = IPDefragmenter.Key(source: Array(bytes[(start + 8)..<(start + 24)]),
                                                     destination: Array(bytes[(start + 24)..<(start + 40)]),
                                                     proto: nh, identification: identification)
                        guard let whole = defrag.add(key, offset: Int(offsetField >> 3) * 8, more: more,
                                                     bytes: bytes[fragmentStart..<end], time: frame.time)
                        else { return .ignored }
                        return decodeTransport(frame, proto: nh, src: src, dst: dst, whole[...],
                                               missing: 0, fragmented: false)
                    }
                    let fragmentOffset = Int(offsetField >> 3) * 8
                    if fragmentOffset != 0 {
                        guard nh == 6 || nh == 17 else { return .ignored }
                        return .malformed(DecodeError("ip.fragment",
                                                      "IPv6 fragment at offset \(fragmentOffset) not reassembled",
                                                      offset: at + 2))
                    }
                    fragmented = more
                    length = 8
                } else if next == 51 {
                    length = (Int(lenUnits) + 2) * 4  // AH counts 4-byte units (RFC 4302 §2.2)
                } else {
                    length = (Int(lenUnits) + 1) * 8
                }
                guard r.skip(length) else {
                    return truncatedOrMalformed(frame, "ip.truncated", "IPv6 extension header cut short", offset: at)
                }
                next = nh
            default:
                return .ignored  // 59 (no next header), ICMPv6, ESP, ...
            }
        }
    }

    /// The IP payload `[from, end)` of `bytes`, trimmed to `end` (Ethernet padding) and, when the snap length
    /// cut the frame, to the bytes present with the count of those missing. nil when `end` lies beyond the bytes
    /// present and the frame was not cut.
    private static func ipPayload(_ frame: CapturedFrame, _ bytes: ArraySlice<UInt8>, from: Int, end: Int)
        -> (ArraySlice<UInt8>, Int)?
    {
        guard from <= end else { return nil }
        if end <= bytes.endIndex { return (bytes[from..<end], 0) }
        guard frame.data.count < frame.originalLength else { return nil }
        // The cut may fall inside the transport header: then the slice is empty or short and the TCP/UDP
        // decoder reports the header as cut short.
        let lo = min(from, bytes.endIndex)
        // Missing bytes: those the IP length announces beyond the capture, bounded by what the wire carried
        // (frame offsets and IP offsets coincide up to the link header, which `originalLength` includes).
        let wireEnd = min(end, frame.originalLength)
        return (bytes[lo..<bytes.endIndex], max(0, wireEnd - max(from, bytes.endIndex)))
    }

    private static func truncatedOrMalformed(_ frame: CapturedFrame, _ code: String, _ message: String,
                                             offset: Int) -> PacketDecodeResult {
        let cut = frame.data.count < frame.originalLength
        return .malformed(DecodeError(code, cut ? message + " (frame cut by the snap length)" : message,
                                      offset: offset))
    }

    // MARK: - TCP and UDP

    /// TCP (RFC 9293 §3.1): ports, sequence, acknowledgement, data offset/flags, window, checksum, urgent,
    /// options. UDP (RFC 768): ports, length, checksum.
    @inline(__always)
    private static func decodeTransport(_ frame: CapturedFrame, proto: UInt8, src: Endpoint, dst: Endpoint,
                                        _ payload: ArraySlice<UInt8>, missing: Int, fragmented: Bool)
        -> PacketDecodeResult
    {
        let start = payload.startIndex
        if proto == IPProtocol.tcp.rawValue {
            // Ports, sequence, acknowledgement, data offset, flags: 14 bytes, checked once.
            guard payload.count >= 14 else {
                return truncatedOrMalformed(frame, "tcp.truncated", "segment too short for the TCP header",
                                            offset: start)
            }
            let sp = be16(payload, start)
            let dp = be16(payload, start + 2)
            let seq = be32(payload, start + 4)
            let ack = be32(payload, start + 8)
            let off = payload[start + 12]
            let flags = payload[start + 13]
            let dataOffset = Int(off >> 4) * 4
            guard dataOffset >= 20 else {
                return .malformed(DecodeError("tcp.bad-data-offset", "TCP data offset \(dataOffset) < 20",
                                              offset: start + 12))
            }
            guard payload.count >= dataOffset else {
                if fragmented || missing > 0 {
                    return truncatedOrMalformed(frame, "tcp.truncated", "TCP options cut short", offset: start)
                }
                return .malformed(DecodeError("tcp.bad-data-offset",
                                              "TCP data offset \(dataOffset) beyond the \(payload.count)-byte segment",
                                              offset: start + 12))
            }
            var source = src
            source.port = sp
            var destination = dst
            destination.port = dp
            return .packet(Packet(frame: frame.number, time: frame.time, proto: .tcp,
                                  source: source, destination: destination,
                                  tcp: TCPHeader(sequence: seq, acknowledgement: ack, flags: flags),
                                  payload: payload[(start + dataOffset)...], truncated: missing > 0,
                                  missingBytes: missing, fragmented: fragmented))
        }
        var r = ByteReader(payload)
        guard let sp = r.readUInt16(), let dp = r.readUInt16(), let length = r.readUInt16() else {
            return truncatedOrMalformed(frame, "udp.truncated", "datagram too short for the UDP header",
                                        offset: start)
        }
        // Length 0 is RFC 2675's jumbogram convention; otherwise it must cover the header.
        let udpLength = length == 0 ? payload.count + missing : Int(length)
        guard udpLength >= 8 else {
            return .malformed(DecodeError("udp.bad-length", "UDP length \(udpLength) < 8", offset: start + 4))
        }
        let present = payload.count
        let announced = present + missing  // bytes of the IP payload on the wire
        var body = payload[min(start + 8, payload.endIndex)...]
        var lost = 0
        if fragmented {
            // First fragment: the UDP length says how much of the datagram the other fragments carry.
            lost = max(0, udpLength - present)
        } else if udpLength <= present {
            body = payload[(start + 8)..<(start + udpLength)]
        } else if udpLength <= announced {
            lost = udpLength - present
        } else {
            return .malformed(DecodeError("udp.bad-length",
                                          "UDP length \(udpLength) exceeds the \(announced)-byte IP payload",
                                          offset: start + 4))
        }
        var source = src
        source.port = sp
        var destination = dst
        destination.port = dp
        return .packet(Packet(frame: frame.number, time: frame.time, proto: .udp,
                              source: source, destination: destination,
                              tcp: nil, payload: body, truncated: !fragmented && lost > 0, missingBytes: lost,
                              fragmented: fragmented))
    }
}
