"""Key wrap constructions not offered by ``cryptography``.

* RFC 3394 §2.2 wrap/unwrap over any 128-bit block cipher.  RFC 3657 (Camellia key
  wrap) is exactly RFC 3394 with Camellia as the cipher.  AES key wrap itself is taken
  from ``cryptography.hazmat.primitives.keywrap``; this generic version is checked
  against the RFC 3394 §4 AES vectors in the tests, then used for Camellia.
* RFC 5649 key wrap with padding over the same ciphers (XML-Enc 1.1 kw-aes-*-pad, and
  what python-pskc writes under plain kw-* URIs for values that are not 8-octet multiples).
* RFC 3217 Triple-DES key wrap (CMS key checksum, two CBC passes, fixed second IV).

Failures raise ``CryptoFailure`` without echoing any key material.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Callable

from cryptography.hazmat.primitives.ciphers import Cipher, modes

from harness.errors import CryptoFailure

from .ciphers import block_algorithm

RFC3394_IV = bytes.fromhex("a6a6a6a6a6a6a6a6")  # RFC 3394 §2.2.3.1 default initial value
RFC3217_IV = bytes.fromhex("4adda22c79e82105")  # RFC 3217 §3.1 step 6 (fixed IV)
RFC5649_AIV = bytes.fromhex("a65959a6")  # RFC 5649 §3 alternative initial value (first half)


def _ecb(block: str, key: bytes, decrypt: bool):
    ctx = Cipher(block_algorithm(block, key), modes.ECB())
    return ctx.decryptor() if decrypt else ctx.encryptor()


def rfc3394_wrap(block: str, kek: bytes, plaintext: bytes) -> bytes:
    """RFC 3394 §2.2.1 (index-based form).  ``plaintext``: n >= 2 64-bit blocks."""
    if len(plaintext) % 8 or len(plaintext) < 16:
        raise CryptoFailure(
            "key wrap input must be a multiple of 8 octets and at least 16 (RFC 3394 §2)",
            status="pskc.keywrap-length", spec="RFC 3394 §2.2.1; RFC 6030 §6.1",
        )
    enc = _ecb(block, kek, decrypt=False)
    n = len(plaintext) // 8
    a = RFC3394_IV
    r = [plaintext[i * 8:(i + 1) * 8] for i in range(n)]
    for j in range(6):
        for i in range(n):
            b = enc.update(a + r[i])
            t = n * j + i + 1
            a = (int.from_bytes(b[:8], "big") ^ t).to_bytes(8, "big")
            r[i] = b[8:]
    return a + b"".join(r)


def _unwrap_core(block: str, kek: bytes, wrapped: bytes) -> tuple[bytes, bytes]:
    """RFC 3394 §2.2.2 steps 1-2: (A, P) before any integrity check."""
    dec = _ecb(block, kek, decrypt=True)
    n = len(wrapped) // 8 - 1
    a = wrapped[:8]
    r = [wrapped[(i + 1) * 8:(i + 2) * 8] for i in range(n)]
    for j in reversed(range(6)):
        for i in reversed(range(n)):
            t = n * j + i + 1
            b = dec.update((int.from_bytes(a, "big") ^ t).to_bytes(8, "big") + r[i])
            a, r[i] = b[:8], b[8:]
    return a, b"".join(r)


def rfc3394_unwrap(block: str, kek: bytes, wrapped: bytes) -> bytes:
    """RFC 3394 §2.2.2 with the §2.2.3 integrity check."""
    if len(wrapped) % 8 or len(wrapped) < 24:
        raise CryptoFailure(
            "wrapped key must be a multiple of 8 octets and at least 24",
            status="pskc.keywrap-length", spec="RFC 3394 §2.2.2",
        )
    a, plaintext = _unwrap_core(block, kek, wrapped)
    if not hmac.compare_digest(a, RFC3394_IV):
        raise CryptoFailure("key unwrap integrity check failed (wrong key or corrupted value)",
                            status="pskc.keywrap-integrity", spec="RFC 3394 §2.2.3")
    return plaintext


def rfc5649_wrap(block: str, kek: bytes, plaintext: bytes) -> bytes:
    """RFC 5649 §4.1: key wrap with padding (alternative IV A65959A6 || MLI)."""
    if not plaintext:
        raise CryptoFailure("nothing to wrap", status="pskc.keywrap-length", spec="RFC 5649 §4.1")
    aiv = RFC5649_AIV + len(plaintext).to_bytes(4, "big")
    padded = plaintext + b"\0" * (-len(plaintext) % 8)
    if len(padded) == 8:
        return _ecb(block, kek, decrypt=False).update(aiv + padded)
    enc = _ecb(block, kek, decrypt=False)
    n = len(padded) // 8
    a, r = aiv, [padded[i * 8:(i + 1) * 8] for i in range(n)]
    for j in range(6):
        for i in range(n):
            b = enc.update(a + r[i])
            a = (int.from_bytes(b[:8], "big") ^ (n * j + i + 1)).to_bytes(8, "big")
            r[i] = b[8:]
    return a + b"".join(r)


def rfc5649_unwrap(block: str, kek: bytes, wrapped: bytes) -> bytes:
    """RFC 5649 §4.2 with the §3 AIV and padding checks."""
    if len(wrapped) % 8 or len(wrapped) < 16:
        raise CryptoFailure("padded wrapped key must be a multiple of 8 octets and at least 16",
                            status="pskc.keywrap-length", spec="RFC 5649 §4.2")
    if len(wrapped) == 16:
        out = _ecb(block, kek, decrypt=True).update(wrapped)
        a, padded = out[:8], out[8:]
    else:
        a, padded = _unwrap_core(block, kek, wrapped)
    length = int.from_bytes(a[4:], "big")
    if (not hmac.compare_digest(a[:4], RFC5649_AIV) or not len(padded) - 8 < length <= len(padded)
            or any(padded[length:])):
        raise CryptoFailure("key unwrap (with padding) integrity check failed",
                            status="pskc.keywrap-integrity", spec="RFC 5649 §3")
    return padded[:length]


def _cms_key_checksum(key: bytes) -> bytes:
    """RFC 3217 §2: first 8 octets of SHA-1."""
    return hashlib.sha1(key).digest()[:8]


def _cbc(key: bytes, iv: bytes, data: bytes, decrypt: bool) -> bytes:
    ctx = Cipher(block_algorithm("tripledes", key), modes.CBC(iv))
    op = ctx.decryptor() if decrypt else ctx.encryptor()
    return op.update(data) + op.finalize()


def rfc3217_wrap(kek: bytes, plaintext: bytes, rng: Callable[[int], bytes]) -> bytes:
    """RFC 3217 §3.1.  RFC 3217 wraps a 24-octet 3DES key; any multiple of 8 works."""
    if len(plaintext) % 8 or not plaintext:
        raise CryptoFailure("Triple-DES key wrap input must be a multiple of 8 octets",
                            status="pskc.keywrap-length", spec="RFC 3217 §3.1")
    iv = rng(8)  # step 3: random IV
    temp1 = _cbc(kek, iv, plaintext + _cms_key_checksum(plaintext), decrypt=False)  # 2-4
    temp2 = iv + temp1  # step 5
    return _cbc(kek, RFC3217_IV, temp2[::-1], decrypt=False)  # steps 6-7


def rfc3217_unwrap(kek: bytes, wrapped: bytes) -> bytes:
    """RFC 3217 §3.2."""
    if len(wrapped) % 8 or len(wrapped) < 24:
        raise CryptoFailure("Triple-DES wrapped key must be a multiple of 8 octets, at least 24",
                            status="pskc.keywrap-length", spec="RFC 3217 §3.2")
    temp3 = _cbc(kek, RFC3217_IV, wrapped, decrypt=True)[::-1]  # steps 2-4
    iv, temp1 = temp3[:8], temp3[8:]
    padded = _cbc(kek, iv, temp1, decrypt=True)  # step 5
    key, checksum = padded[:-8], padded[-8:]
    if not hmac.compare_digest(checksum, _cms_key_checksum(key)):
        raise CryptoFailure("CMS key checksum mismatch (wrong key or corrupted value)",
                            status="pskc.keywrap-integrity", spec="RFC 3217 §3.2 step 7")
    return key
