"""Block ciphers and CBC with XML-Enc framing (IV prepended, block padding).

Triple-DES and Camellia live in ``cryptography``'s "decrepit" module since 43.0; we
import them from there when it exists so no deprecation warnings fire.
"""

from __future__ import annotations

from typing import Any

import warnings

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from harness.errors import CryptoFailure

try:  # cryptography >= 43
    from cryptography.hazmat.decrepit.ciphers.algorithms import Camellia, TripleDES
except ImportError:  # pragma: no cover - older cryptography
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Camellia = algorithms.Camellia  # type: ignore[misc,assignment]
        TripleDES = algorithms.TripleDES  # type: ignore[misc,assignment]

BLOCK_SIZE = {"aes": 16, "camellia": 16, "tripledes": 8}


def block_algorithm(block: str, key: bytes):
    try:
        if block == "aes":
            return algorithms.AES(key)
        if block == "camellia":
            return Camellia(key)
        if block == "tripledes":
            # RFC 6030 §4.2.2: two-key bundle = Key1 Key2 with Key3 = Key1.  Expand it
            # here; cryptography deprecates 16-octet TripleDES keys.
            return TripleDES(key + key[:8] if len(key) == 16 else key)
    except ValueError:
        raise CryptoFailure(f"key of {len(key)} octets does not fit {block}",
                            status="pskc.wrong-key-length", spec="RFC 6030 §6.1") from None
    raise ValueError(f"unknown block cipher {block!r}")


def cbc_encrypt(block: str, key: bytes, plaintext: bytes, iv: bytes) -> bytes:
    """IV || CBC(PKCS #5/#7 padded plaintext) — RFC 6030 §6.1 and §6.4."""
    size = BLOCK_SIZE[block]
    if len(iv) != size:
        raise ValueError(f"IV must be {size} octets")
    pad = size - len(plaintext) % size
    enc = Cipher(block_algorithm(block, key), modes.CBC(iv)).encryptor()
    return iv + enc.update(plaintext + bytes([pad]) * pad) + enc.finalize()


def cbc_decrypt(block: str, key: bytes, cipher_value: bytes, iv: bytes | None = None,
                keyed: Any = None) -> tuple[bytes, bool]:
    """(plaintext, strict_padding) from IV || ciphertext (or ciphertext with ``iv`` given).

    ``keyed`` is an already built ``block_algorithm(block, key)``: a container decrypts
    every value under one key, and building the keyed algorithm object per value cost
    more than the decryption itself (kplab bench pskc profile).

    XML-Enc §5.2 lets padding octets other than the last be arbitrary; RFC 6030 §6.4
    recommends PKCS #5.  We accept XML-Enc padding and report whether it was PKCS #5.
    """
    size = BLOCK_SIZE[block]
    if iv is None:
        iv, body = cipher_value[:size], cipher_value[size:]
    else:
        body = cipher_value
    if len(iv) != size or not body or len(body) % size:
        raise CryptoFailure(
            f"CBC value of {len(cipher_value)} octets is not IV plus whole {size}-octet blocks",
            status="pskc.bad-ciphertext", spec="RFC 6030 §6.1; XML-Enc §5.2",
        )
    dec = Cipher(keyed if keyed is not None else block_algorithm(block, key), modes.CBC(iv)).decryptor()
    padded = dec.update(body) + dec.finalize()
    pad = padded[-1]
    if not 1 <= pad <= size:
        raise CryptoFailure("invalid block padding (wrong key or corrupted value)",
                            status="pskc.bad-padding", spec="RFC 6030 §6.4; XML-Enc §5.2")
    strict = padded[-pad:] == bytes([pad]) * pad
    return padded[:-pad], strict
