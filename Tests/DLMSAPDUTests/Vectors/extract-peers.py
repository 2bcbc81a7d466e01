#!/usr/bin/env python3
"""Extracts the wrapper-framed APDUs of the peer captures (Captures/peers/*.pcap, other implementations: Gurux
Director, Gurux client/server, EPRI) into peer-apdus.txt, one `file direction hex` line per APDU.
Standard library only: pcap → Ethernet/IPv4 → TCP, per-direction reassembly by sequence number (duplicates dropped),
then DLMS wrapper frames (version 0x0001, wPorts, length). HDLC/UDP captures are skipped.
Run: python3 extract-peers.py ../../../Captures/peers > peer-apdus.txt"""
import os, struct, sys


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        yield linktype, data[off + 16:off + 16 + incl]
        off += 16 + incl


def tcp_payloads(path):
    for linktype, pkt in packets(path):
        if linktype == 1:
            if len(pkt) < 14 or pkt[12:14] != b"\x08\x00":
                continue
            ip = pkt[14:]
        elif linktype in (101, 228):
            ip = pkt
        elif linktype == 113:
            ip = pkt[16:]
        else:
            continue
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        tcp = ip[ihl:total]
        if len(tcp) < 20:
            continue
        sport, dport, seq = struct.unpack(">HHI", tcp[:8])
        doff = (tcp[12] >> 4) * 4
        payload = tcp[doff:]
        if payload:
            yield (ip[12:16], sport, ip[16:20], dport), seq, payload


def main():
    root = sys.argv[1]
    for name in sorted(os.listdir(root)):
        if not name.endswith(".pcap") or name.startswith("hdlc"):
            continue
        streams, seen = {}, {}
        for key, seq, payload in tcp_payloads(os.path.join(root, name)):
            if (key, seq) in seen:
                continue
            seen[(key, seq)] = True
            streams.setdefault(key, bytearray()).extend(payload)
        for key, buf in streams.items():
            direction = f"{key[1]}->{key[3]}"
            i = 0
            while i + 8 <= len(buf):
                version, src, dst, length = struct.unpack(">HHHH", buf[i:i + 8])
                if version != 1 or i + 8 + length > len(buf):
                    break
                print(name, direction, buf[i + 8:i + 8 + length].hex())
                i += 8 + length


main()
