"""HMAC and hash primitives of the OTP algorithms (stdlib ``hmac``/``hashlib``).

RFC 4226 §5.2 defines HOTP over HMAC-SHA-1; RFC 6238 §1.2 and Appendix A allow HMAC-SHA-256
and HMAC-SHA-512 for TOTP; RFC 6287 §5.2 (Table 1) allows the same three for OCRA, and
§6.3 the same three hashes for the PIN/password input P.  Nothing else is accepted.
"""

from __future__ import annotations

import hashlib
import hmac

from harness.errors import InputError

# Names as the otp-generator operation contract spells them, mapped to hashlib names.
ALGORITHMS: dict[str, str] = {"sha1": "sha1", "sha256": "sha256", "sha512": "sha512"}


def check_algorithm(algorithm: object, *, where: str = "algorithm") -> str:
    """``algorithm`` if it is one of sha1/sha256/sha512, else InputError."""
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
        raise InputError(
            f"hash algorithm must be one of {', '.join(ALGORITHMS)}, not {algorithm!r:.40}",
            where=where,
        )
    return algorithm


def hmac_digest(algorithm: str, key: bytes, message: bytes) -> bytes:
    """HMAC (RFC 2104) of ``message`` under ``key`` with the named hash."""
    return hmac.digest(key, message, ALGORITHMS[check_algorithm(algorithm)])


def hash_digest(algorithm: str, data: bytes) -> bytes:
    return hashlib.new(ALGORITHMS[check_algorithm(algorithm)], data).digest()


def digest_size(algorithm: str) -> int:
    return hashlib.new(ALGORITHMS[check_algorithm(algorithm)]).digest_size
