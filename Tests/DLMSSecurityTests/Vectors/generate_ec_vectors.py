#!/usr/bin/env python3
"""Generates ec-vectors.json: ECDSA, ECDH and concatenation-KDF vectors for DLMSSecurity's tests, made with the
Python `cryptography` package (pyca/cryptography, OpenSSL backend), independent of our Swift wrapper.

Run: python3 generate_ec_vectors.py > ec-vectors.json   (cryptography 48.0.0 produced the committed file)

Private keys are fixed scalars (reproducible); ECDSA signatures use a random nonce, so a rerun gives other
signatures that verify just the same."""
import json
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash

CURVES = {"P-256": (ec.SECP256R1(), hashes.SHA256(), 32), "P-384": (ec.SECP384R1(), hashes.SHA384(), 48)}
ALG_GCM128 = bytes.fromhex("60857405080300")
ALG_GCM256 = bytes.fromhex("60857405080301")
ST_U = bytes.fromhex("4D4D4D0000000001")
ST_V = bytes.fromhex("4D4D4D0000BC614E")


def key_info(priv, width):
    pub = priv.public_key()
    return {
        "scalar": format(priv.private_numbers().private_value, "0%dx" % (2 * width)),
        "pkcs8_pem": priv.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode(),
        "sec1_pem": priv.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()).decode(),
        "public_pem": pub.public_bytes(serialization.Encoding.PEM,
                                       serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
        "public_point": pub.public_bytes(serialization.Encoding.X962,
                                         serialization.PublicFormat.UncompressedPoint).hex(),
    }


out = {"generator": "generate_ec_vectors.py", "curves": []}
for name, (curve, h, width) in CURVES.items():
    # a: a full-width scalar; b: one with two leading zero bytes (tests left-padding of short scalars).
    a = ec.derive_private_key(int.from_bytes(bytes.fromhex("1F2E3D4C5B6A7988") * (width // 8), "big"), curve)
    b = ec.derive_private_key(int.from_bytes(b"\x00\x00" + bytes(range(1, width - 1)), "big"), curve)
    message = b"DLMS/COSEM " + name.encode() + bytes(range(40))
    der = a.sign(message, ec.ECDSA(h))
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(width, "big") + s.to_bytes(width, "big")
    z = a.exchange(ec.ECDH(), b.public_key())
    assert z == b.exchange(ec.ECDH(), a.public_key())
    length, alg = (16, ALG_GCM128) if name == "P-256" else (32, ALG_GCM256)
    other = alg + ST_U + ST_V
    kdf = ConcatKDFHash(algorithm=h, length=length, otherinfo=other).derive(z)
    tid = bytes.fromhex("08") + bytes.fromhex("0102030405060708")
    other_um = alg + ST_U + tid + ST_V
    kdf_um = ConcatKDFHash(algorithm=h, length=length, otherinfo=other_um).derive(z)
    out["curves"].append({
        "curve": name,
        "a": key_info(a, width),
        "b": key_info(b, width),
        "message": message.hex(),
        "signature_a": raw.hex(),
        "shared_secret": z.hex(),
        "kdf_one_pass": {"originator": ST_U.hex(), "recipient": ST_V.hex(), "key": kdf.hex()},
        "kdf_static_unified": {"originator": ST_U.hex(), "recipient": ST_V.hex(), "transaction_id_os": tid.hex(),
                               "key": kdf_um.hex()},
    })
print(json.dumps(out, indent=1))
