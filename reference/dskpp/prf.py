"""DSKPP-PRF (RFC 6063 §3.4.2) and its two realizations (Appendix D, normative).

    DS = B1 || B2 || ... || Bn<0..j-1>,  Bi = F(k, s, i) = MAC(k, INT(i) || s)

with INT(i) the four-octet big-endian block index, n = CEILING(dsLen / bLen) and
F = AES-CMAC with bLen 16 (D.2.2, URN ...:prf-aes-128) or HMAC-SHA256 with bLen 32
(D.3.2, URN ...:prf-sha256; the RFC's "(normally, bLen = 16)" under bLen = 32 is a copy
slip from D.2.2, and D.3.2 itself says "no truncation is done on the HMAC output").

Because every block depends only on (k, s, i), the output for a shorter dsLen is a prefix
of the output for a longer one; MAC verification relies on that to check received MACs of
any permitted length.
"""

from __future__ import annotations

from enum import Enum

from cryptography.hazmat.primitives import cmac, hashes, hmac
from cryptography.hazmat.primitives.ciphers import algorithms

from harness.errors import CryptoFailure, InputError, UnsupportedFeature
from reference.dskpp.interpretation import DEFAULT_INTERPRETATION, AesPrfKey, Interpretation, Sha256Block

# Sec. 3.4.2: "the secret key k MUST be at least 16 octets long".
MIN_KEY_LENGTH = 16
_MAX_BLOCKS = 2**32 - 1  # D.2.2 / D.3.2 step 2


class Prf(Enum):
    """The two registered DSKPP-PRF realizations (Sec. 12.6.1, 12.6.2)."""

    AES_128 = "urn:ietf:params:xml:ns:keyprov:dskpp:prf-aes-128"
    SHA256 = "urn:ietf:params:xml:ns:keyprov:dskpp:prf-sha256"

    @property
    def block_length(self) -> int:
        """bLen: 16 for AES (D.2.2 step 1), 32 for SHA-256 (D.3.2 step 1)."""
        return 16 if self is Prf.AES_128 else 32

    @property
    def mac_key_length(self) -> int:
        """Length of K_MAC "for the underlying MAC algorithm" (Sec. 5.2.2).

        AES-128 keys are 16 octets; for HMAC-SHA256 the RFC's own example (HOTP key of
        20 octets with DSKPP-PRF-SHA256 gives a 64-octet K_PROV) fixes it at 32.
        """
        return 16 if self is Prf.AES_128 else 32


def prf_from_uri(uri: str, *, status: str = "NoSupportedMacAlgorithms", where: str | None = None) -> Prf:
    """The realization a MacAlgorithm URI names; unknown URIs are unsupported."""
    for prf in Prf:
        if uri == prf.value:
            return prf
    raise UnsupportedFeature(
        "MAC algorithm is not a DSKPP-PRF realization this engine implements",
        status=status,
        spec="RFC 6063 §12.6",
        where=where,
    )


def _aes_key(k: bytes, handling: AesPrfKey) -> bytes:
    if handling is AesPrfKey.TRUNCATE_TO_16:
        return k[:16]
    if handling is AesPrfKey.AES_BY_KEY_LENGTH and len(k) in (16, 24, 32):
        return k
    if len(k) == 16:
        return k
    raise CryptoFailure(
        f"DSKPP-PRF-AES key of {len(k)} octets is not usable under reading {handling.value}",
        status="InitializationFailed",
        spec="RFC 6063 App. D.2.2",
    )


def _block_function(prf: Prf, key: bytes):
    if prf is Prf.AES_128:

        def f(data: bytes) -> bytes:
            c = cmac.CMAC(algorithms.AES(key))
            c.update(data)
            return c.finalize()

    else:

        def f(data: bytes) -> bytes:
            h = hmac.HMAC(key, hashes.SHA256())
            h.update(data)
            return h.finalize()

    return f


def dskpp_prf(
    prf: Prf,
    k: bytes,
    s: bytes,
    ds_len: int,
    *,
    interp: Interpretation = DEFAULT_INTERPRETATION,
) -> bytes:
    """DSKPP-PRF(k, s, dsLen) with the given realization; dsLen octets."""
    if ds_len < 1:
        raise InputError(f"dsLen must be positive, got {ds_len}", where="dskpp_prf")
    b_len = prf.block_length
    if prf is Prf.SHA256 and interp.prf_sha256_block is Sha256Block.TRUNCATED_16:
        b_len = 16  # reading I-2: each HMAC block cut to 16 octets
    if ds_len > _MAX_BLOCKS * b_len:
        raise CryptoFailure("derived data too long", status="InitializationFailed", spec="RFC 6063 App. D")
    if len(k) < MIN_KEY_LENGTH:
        raise CryptoFailure(
            f"DSKPP-PRF key of {len(k)} octets is shorter than 16",
            status="InitializationFailed",
            spec="RFC 6063 §3.4.2",
        )
    key = _aes_key(k, interp.aes_prf_key) if prf is Prf.AES_128 else k
    f = _block_function(prf, key)
    n = -(-ds_len // b_len)  # CEILING(dsLen / bLen)
    out = b"".join(f(i.to_bytes(4, "big") + s)[:b_len] for i in range(1, n + 1))
    return out[:ds_len]
