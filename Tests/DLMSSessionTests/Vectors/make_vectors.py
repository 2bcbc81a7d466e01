#!/usr/bin/env python3
"""Builds the protected-APDU test vectors of DLMSSessionTests for the kinds no available peer produces:
general-ciphering (0xDD) with identified, wrapped and agreed keys (one-pass Diffie-Hellman C(1e,1s) and static
unified model C(0e,2s), suites 1 and 2), general-signing (0xDF), and Security setup key_transfer.

Independent implementation: Python `cryptography` (AES-GCM, RFC 3394 key wrap, ECDH, ECDSA, SHA-2), following
IEC 62056-5-3 as mapped in /work/shared/notes/security-layouts.md (§3 general-ciphering framing, §4 agreed key KDF
and key-ciphered-data, §5 the two AAD layouts, §6 general-signing signed bytes, §7 key_transfer).

Usage: python3 make_vectors.py   (ECDSA signatures are randomized: each run gives new bytes, all
valid.) Writes vectors.json (the APDUs and what they must decrypt to) and keyring.json (the keys, in dlmsdump's
keyring format) beside this script.
"""
import json, os, struct
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives import hashes, serialization

here = os.path.dirname(os.path.abspath(__file__))
H = bytes.fromhex

def os_(b):  # A-XDR octet string (lengths < 128 here)
    assert len(b) < 128
    return bytes([len(b)]) + b

def os_long(b):
    if len(b) < 0x80: return bytes([len(b)]) + b
    if len(b) <= 0xFF: return bytes([0x81, len(b)]) + b
    return bytes([0x82, len(b) >> 8, len(b) & 0xFF]) + b

def gcm(sc, key, st, ic, plain, ak, extra=b""):
    """DLMS AES-GCM (security-layouts.md §1): IV = ST ‖ IC, tag = first 12 bytes, AAD by SC."""
    iv = st + struct.pack(">I", ic)
    a = AESGCM(key)
    mode = sc & 0x30
    if mode == 0x30:
        out = a.encrypt(iv, plain, bytes([sc]) + ak + extra)
        return out[:-16] + out[-16:-4]
    if mode == 0x20:
        return a.encrypt(iv, plain, None)[:-16]
    if mode == 0x10:
        return plain + a.encrypt(iv, b"", bytes([sc]) + ak + extra + plain)[-16:-4]
    raise ValueError(sc)

def raw_sig(priv, msg, h):
    r, s = decode_dss_signature(priv.sign(msg, ec.ECDSA(h)))
    w = (priv.curve.key_size + 7) // 8
    return r.to_bytes(w, "big") + s.to_bytes(w, "big")

def xy(pub):
    return pub.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)[1:]

def kdf(z, suite, st_u, st_v, tid_os=None):
    """NIST SP 800-56A concatenation KDF, one round (security-layouts.md §4)."""
    h, alg, n = (hashes.SHA256(), H("60857405080300"), 16) if suite == 1 else (hashes.SHA384(), H("60857405080301"), 32)
    d = hashes.Hash(h)
    d.update(b"\x00\x00\x00\x01" + z + alg + st_u + (tid_os or b"") + st_v)
    return d.finalize()[:n]

def pem_pub(k):
    return k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

def scalar_hex(k, w):
    return k.private_numbers().private_value.to_bytes(w, "big").hex().upper()

# --- keys (fixed scalars so the keyring stays the same between runs) ---
EK = H("000102030405060708090A0B0C0D0E0F")   # Green Book example GUEK
AK = H("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")   # Green Book example AK
BK = H("101112131415161718191A1B1C1D1E1F")   # GBEK
KEK = H("202122232425262728292A2B2C2D2E2F")
EK256 = bytes(range(0x40, 0x60))
AK256 = bytes(range(0x60, 0x80))
ST_C1, ST_S1 = H("4D4D4D0000000001"), H("4D4D4D0000BC614E")     # suite 1 client (originator), server
ST_C2, ST_S2 = H("4D4D4D0000000002"), H("4D4D4D00000F4240")     # suite 2
p256, p384 = ec.SECP256R1(), ec.SECP384R1()
c1_sign = ec.derive_private_key(0x1111111111111111111111111111111111111111111111111111111111111111, p256)
c1_agree = ec.derive_private_key(0x2222222222222222222222222222222222222222222222222222222222222222, p256)
s1_agree = ec.derive_private_key(0x3333333333333333333333333333333333333333333333333333333333333333, p256)
eph1 = ec.derive_private_key(0x4444444444444444444444444444444444444444444444444444444444444444, p256)
c2_sign = ec.derive_private_key(int("55" * 48, 16), p384)
c2_agree = ec.derive_private_key(int("66" * 48, 16), p384)
s2_agree = ec.derive_private_key(int("77" * 48, 16), p384)
eph2 = ec.derive_private_key(int("88" * 48, 16), p384)

# GET-Request-Normal of the clock time (0.0.1.0.0.255 attribute 2), invoke-id 1, high priority.
GET = H("C001C100080000010000FF0200")
TID = H("0102030405060708")

def general_header(tid, orig, recip):
    return os_(tid) + os_(orig) + os_(recip) + os_(b"") + os_(b"")

def general_ciphering(orig, recip, key_info, sc, ic, key, ak, plain, layout="sc-ak", tid=TID):
    hdr = general_header(tid, orig, recip)
    extra = hdr if layout == "sc-ak-header" else b""
    body = gcm(sc, key, orig, ic, plain, ak, extra)
    return b"\xDD" + hdr + key_info + os_long(bytes([sc]) + struct.pack(">I", ic) + body)

vectors = []
def add(name, apdu, plain, key, verdict, note, **more):
    v = {"name": name, "apdu": apdu.hex().upper(), "plain": plain.hex().upper(), "key": key, "verdict": verdict,
         "note": note}
    v.update(more)
    vectors.append(v)

# identified-key GUEK, Gurux AAD SC ‖ AK
add("gc-identified-guek", general_ciphering(ST_C1, ST_S1, H("010000"), 0x31, 0x10, EK, AK, GET),
    GET, "guek", "verified", "identified-key key-id 0, AAD SC ‖ AK", layout="sc-ak")
# identified-key GBEK
add("gc-identified-gbek", general_ciphering(ST_C1, ST_S1, H("010001"), 0x31, 0x11, BK, AK, GET),
    GET, "gbek", "verified", "identified-key key-id 1", layout="sc-ak")
# identified-key GUEK, Connexo AAD SC ‖ AK ‖ header
add("gc-identified-header-aad", general_ciphering(ST_C1, ST_S1, H("010000"), 0x31, 0x12, EK, AK, GET,
    layout="sc-ak-header"), GET, "guek", "verified", "AAD SC ‖ AK ‖ general header", layout="sc-ak-header")
# encryption only: no tag, nothing authenticates it
add("gc-encryption-only", general_ciphering(ST_C1, ST_S1, H("010000"), 0x21, 0x13, EK, AK, GET),
    GET, "guek", "decrypted-unverified", "SC 0x21: GCTR only")
# wrapped key: AES key wrap of a fresh EK under the KEK
EKW = H("A0A1A2A3A4A5A6A7A8A9AAABACADAEAF")
wrapped = aes_key_wrap(KEK, EKW)
add("gc-wrapped", general_ciphering(ST_C1, ST_S1, H("010100") + os_(wrapped), 0x31, 0x14, EKW, AK, GET),
    GET, "wrapped", "verified", "wrapped-key kek-id 0")

# agreed key, one-pass Diffie-Hellman C(1e,1s), suite 1: Q_eU.x ‖ Q_eU.y ‖ sig_U(x ‖ y)
def one_pass(eph, recip_agree, signer, suite, orig, recip, h):
    q = xy(eph.public_key())
    kcd = q + raw_sig(signer, q, h)
    z = eph.exchange(ec.ECDH(), recip_agree.public_key())
    return kcd, kdf(z, suite, orig, recip)

kcd1, K1 = one_pass(eph1, s1_agree, c1_sign, 1, ST_C1, ST_S1, hashes.SHA256())
add("gc-agreed-one-pass-suite1", general_ciphering(ST_C1, ST_S1, H("0102") + os_(H("01")) + os_long(kcd1), 0x31,
    0x15, K1, AK, GET), GET, "agreed", "verified", "C(1e,1s) P-256, SHA-256 KDF, AES-128")
# static unified model C(0e,2s), suite 1
z = c1_agree.exchange(ec.ECDH(), s1_agree.public_key())
K1s = kdf(z, 1, ST_C1, ST_S1, os_(TID))
add("gc-agreed-static-suite1", general_ciphering(ST_C1, ST_S1, H("0102") + os_(H("02")) + os_(b""), 0x31, 0x16,
    K1s, AK, GET), GET, "agreed", "verified", "C(0e,2s) P-256")
# suite 2: P-384, SHA-384 KDF, 32-byte key (Connexo), AES-256
kcd2, K2 = one_pass(eph2, s2_agree, c2_sign, 2, ST_C2, ST_S2, hashes.SHA384())
add("gc-agreed-one-pass-suite2", general_ciphering(ST_C2, ST_S2, H("0102") + os_(H("01")) + os_long(kcd2), 0x32,
    0x17, K2, AK256, GET), GET, "agreed", "verified", "C(1e,1s) P-384, SHA-384 KDF, AES-256")
z = c2_agree.exchange(ec.ECDH(), s2_agree.public_key())
K2s = kdf(z, 2, ST_C2, ST_S2, os_(TID))
add("gc-agreed-static-suite2", general_ciphering(ST_C2, ST_S2, H("0102") + os_(H("02")) + os_(b""), 0x32, 0x18,
    K2s, AK256, GET), GET, "agreed", "verified", "C(0e,2s) P-384")

# broadcast: glo-get-request with SC 0x70 (key-set bit): GBEK, and the SC byte with its 0x40 bit in the AAD
# (security-layouts.md §2); IV = the client's system title
glo_b = b"\xC8" + os_long(b"\x70" + struct.pack(">I", 0x30) + gcm(0x70, BK, ST_C1, 0x30, GET, AK))
add("glo-broadcast", glo_b, GET, "gbek", "verified", "glo-get-request SC 0x70 with the GBEK")

# general-signing: header ‖ content signed (content length excluded), raw r ‖ s
def general_signing(orig, recip, content, signer, h):
    hdr = general_header(TID, orig, recip)
    sig = raw_sig(signer, hdr + content, h)
    return b"\xDF" + hdr + os_long(content) + os_long(sig)

add("gs-suite1", general_signing(ST_C1, ST_S1, GET, c1_sign, hashes.SHA256()), GET, "signing", "verified",
    "general-signing P-256 over a plain get-request")
# nested: general-signing around a glo-get-request (C8) with the GUEK, IV = client system title
glo = b"\xC8" + os_long(b"\x30" + struct.pack(">I", 0x20) + gcm(0x30, EK, ST_C1, 0x20, GET, AK))
add("gs-nested-glo", general_signing(ST_C1, ST_S1, glo, c1_sign, hashes.SHA256()), glo, "signing", "verified",
    "general-signing P-256 around glo-get-request", inner_plain=GET.hex().upper(), inner_key="guek")
add("gs-suite2", general_signing(ST_C2, ST_S2, GET, c2_sign, hashes.SHA384()), GET, "signing", "verified",
    "general-signing P-384")

# key_transfer (Security setup 0.0.43.0.0.255 method 2): new GUEK wrapped with the KEK, then a glo-get-request
# under the new key.
NEW_GUEK = H("B0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF")
kt_req = H("C30141" "0040" "00002B0000FF" "02" "01") + H("0101") + H("0202") + H("1600") + b"\x09" + os_(aes_key_wrap(KEK, NEW_GUEK))
kt_resp = H("C701410000")
after = b"\xC8" + os_long(b"\x30" + struct.pack(">I", 0x21) + gcm(0x30, NEW_GUEK, ST_C1, 0x21, GET, AK))
key_transfer = {"request": kt_req.hex().upper(), "response": kt_resp.hex().upper(),
                "after": after.hex().upper(), "plain": GET.hex().upper(),
                "client_system_title": ST_C1.hex().upper(), "server_system_title": ST_S1.hex().upper()}

keyring = {"keys": [
    {"label": "vectors suite-1 server", "system_title": ST_S1.hex().upper(), "suite": 1,
     "guek": EK.hex().upper(), "gbek": BK.hex().upper(), "ak": AK.hex().upper(), "kek": KEK.hex().upper(),
     "agreement_private_key": scalar_hex(s1_agree, 32), "agreement_public_key": pem_pub(s1_agree)},
    {"label": "vectors suite-1 client", "system_title": ST_C1.hex().upper(), "suite": 1,
     "guek": EK.hex().upper(), "gbek": BK.hex().upper(), "ak": AK.hex().upper(), "kek": KEK.hex().upper(),
     "signing_public_key": pem_pub(c1_sign), "agreement_public_key": pem_pub(c1_agree)},
    {"label": "vectors suite-2 server", "system_title": ST_S2.hex().upper(), "suite": 2,
     "ak": AK256.hex().upper(), "agreement_private_key": scalar_hex(s2_agree, 48),
     "agreement_public_key": pem_pub(s2_agree)},
    {"label": "vectors suite-2 client", "system_title": ST_C2.hex().upper(), "suite": 2,
     "ak": AK256.hex().upper(), "signing_public_key": pem_pub(c2_sign), "agreement_public_key": pem_pub(c2_agree)},
]}

with open(os.path.join(here, "vectors.json"), "w") as f:
    json.dump({"generator": "make_vectors.py (Python cryptography)", "vectors": vectors,
               "key_transfer": key_transfer}, f, indent=1)
    f.write("\n")
with open(os.path.join(here, "keyring.json"), "w") as f:
    json.dump(keyring, f, indent=1)
    f.write("\n")
print(f"{len(vectors)} vectors")
