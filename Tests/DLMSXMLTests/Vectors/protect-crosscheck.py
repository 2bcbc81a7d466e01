#!/usr/bin/env python3
"""Independent check of dlmsdump's DLMS protection (DLMSXML `Protection.protect`): decrypts and verifies every
vector in protect-vectors.txt with Python `cryptography` (AES-GCM, 12-byte tag; ECDSA P-256/P-384), never with
dlmsdump code.

usage: protect-crosscheck.py [protect-vectors.txt] > protect-crosscheck.out

Layouts (IEC 62056-5-3 §5.3.3; Green Book):
  glo/ded:          TAG LEN SC IC(4) PAYLOAD
  general-glo/ded:  DB|DC 08 SYSTEM-TITLE LEN SC IC(4) PAYLOAD
  IV = system-title || IC;  A+E: AAD = SC || AK, payload = ct || tag12;  A: AAD = SC || AK || plaintext,
  payload = plaintext || tag12;  E: payload = AES-CTR(EK, IV || 00000002)(plaintext)
  general-signing:  DF then length-prefixed transaction-id, originator, recipient, date-time, other-information,
  content, signature; the signature (raw r||s) covers those fields without the DF tag and without the content's
  length prefix (Gurux.NET GXDLMS.cs).
"""
import sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.exceptions import InvalidTag, InvalidSignature

GLO = {0xC0: 0xC8, 0xC1: 0xC9, 0xC3: 0xCB, 0xC4: 0xCC, 0xC5: 0xCD, 0xC7: 0xCF, 0x01: 0x21, 0x08: 0x28}


def length(b, i):
    n = b[i]
    if n < 0x80:
        return n, i + 1
    k = n & 0x7F
    return int.from_bytes(b[i + 1:i + 1 + k], "big"), i + 1 + k


def octets(b, i):
    n, i = length(b, i)
    return b[i:i + n], i + n


def unprotect(kind, out, st, ek, ak):
    i = 0
    tag = out[0]
    if kind in ("general-glo", "general-ded"):
        assert tag == (0xDB if kind == "general-glo" else 0xDC), "tag"
        title, i = octets(out, 1)
        assert title == st, "system title"
    else:
        i = 1
    content, end = octets(out, i)
    assert end == len(out), "length"
    sc, ic, payload = content[0], content[1:5], content[5:]
    iv = st + ic
    if sc & 0x30 == 0x30:
        d = Cipher(algorithms.AES(ek), modes.GCM(iv, payload[-12:], min_tag_length=12)).decryptor()
        d.authenticate_additional_data(bytes([sc]) + ak)
        return tag, d.update(payload[:-12]) + d.finalize()
    if sc & 0x30 == 0x10:
        plain = payload[:-12]
        d = Cipher(algorithms.AES(ek), modes.GCM(iv, payload[-12:], min_tag_length=12)).decryptor()
        d.authenticate_additional_data(bytes([sc]) + ak + plain)
        d.finalize()
        return tag, plain
    if sc & 0x30 == 0x20:
        d = Cipher(algorithms.AES(ek), modes.CTR(iv + b"\x00\x00\x00\x02")).decryptor()
        return tag, d.update(payload) + d.finalize()
    raise ValueError("no protection")


def verify_signing(curve, pub, orig, recip, tx, content, out):
    assert out[0] == 0xDF
    fields, i = [], 1
    for _ in range(6):
        f, i = octets(out, i)
        fields.append(f)
    sig, i = octets(out, i)
    assert i == len(out)
    assert fields[0] == tx and fields[1] == orig and fields[2] == recip and fields[5] == content
    signed = b""
    for f in fields[:5]:
        signed += bytes([len(f)]) + f
    signed += fields[5]
    c, h = (ec.SECP256R1(), hashes.SHA256()) if curve == "P-256" else (ec.SECP384R1(), hashes.SHA384())
    key = ec.EllipticCurvePublicKey.from_encoded_point(c, pub)
    w = len(sig) // 2
    key.verify(encode_dss_signature(int.from_bytes(sig[:w], "big"), int.from_bytes(sig[w:], "big")), signed,
               ec.ECDSA(h))


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else __file__.rsplit("/", 1)[0] + "/protect-vectors.txt"
    ok = bad = 0
    for n, line in enumerate(open(path), 1):
        if not line.strip() or line.startswith("#"):
            continue
        f = line.split()
        try:
            if f[0] == "cipher":
                kind, sc, ic, st, ek, ak, plain, out = f[1], f[2], f[3], *map(bytes.fromhex, f[4:])
                tag, got = unprotect(kind, out, st, ek, ak)
                assert got == plain, "plaintext differs"
                if kind in ("glo", "ded"):
                    assert tag == GLO[plain[0]] + (0x08 if kind == "ded" and plain[0] >= 0xC0 else 0) + \
                        (0x20 if kind == "ded" and plain[0] < 0xC0 else 0), "service tag"
                print(f"line {n}: ok {kind} sc={sc} ic={ic} {len(plain)}-byte plaintext")
            else:
                curve = f[1]
                pub, orig, recip, tx, content, out = map(bytes.fromhex, f[2:])
                verify_signing(curve, pub, orig, recip, tx, content, out)
                print(f"line {n}: ok general-signing {curve} signature verified")
            ok += 1
        except (AssertionError, InvalidTag, InvalidSignature, ValueError, KeyError) as e:
            print(f"line {n}: FAILED {type(e).__name__} {e}")
            bad += 1
    print(f"{ok} vectors verified, {bad} failed")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
