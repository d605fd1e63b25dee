"""RFC 4226 HOTP: HOTP(K, C) = Truncate(HMAC-H(K, C)).

* The counter C is an 8-byte unsigned big-endian value (RFC 4226 §5.1, §5.2).
* Dynamic truncation (§5.3, example §5.4): the offset is the low 4 bits of the *last*
  byte of the HMAC; the 4 bytes at that offset, with the top bit masked, are a 31-bit
  big-endian number.  "Last byte" is String[19] for SHA-1; for SHA-256/512 we follow the
  reference code of RFC 6238 Appendix A and RFC 6287 Appendix A, ``hash[hash.length-1]``.
* The HOTP value is that number mod 10^Digit, written with leading zeros to Digit digits.
  §5.3 requires at least 6 digits ("MUST extract a 6-digit code at a minimum"), Appendix
  E.1 allows more; we accept 6..10 (10^10 > 2^31, so more digits add nothing).
* RFC 4226 R6 (§4: secret of at least 128 bits) is a provisioning requirement; the
  generator computes for any non-empty secret so that short-secret cases can be driven
  through the lab, and leaves enforcing R6 to the provisioning engines.
"""

from __future__ import annotations

from harness.errors import InputError
from reference.otp.crypto import check_algorithm, hmac_digest

HOTP_MIN_DIGITS = 6
MAX_DIGITS = 10  # RFC 6287 §5.2 Table 1 upper bound; 10^10 already exceeds 2^31
COUNTER_MAX = 2**64 - 1  # 8-byte counter, RFC 4226 §5.1


def check_int(value: object, name: str, low: int, high: int, spec: str) -> int:
    """``value`` if it is an int (not a bool) in [low, high], else an InputError."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise InputError(f"{name} must be an integer, not {type(value).__name__}", where=name)
    if not low <= value <= high:
        raise InputError(f"{name} must be in {low}..{high} ({spec}), got {value}", where=name)
    return value


def check_secret(secret: object, where: str = "secret") -> bytes:
    if not isinstance(secret, (bytes, bytearray)):
        raise InputError(f"secret must be bytes, not {type(secret).__name__}", where=where)
    if not secret:
        raise InputError("secret is empty (RFC 4226 §5.1: K is the shared secret)", where=where)
    return bytes(secret)


def counter_bytes(counter: int, name: str = "counter") -> bytes:
    """C as the 8-byte big-endian moving factor (RFC 4226 §5.1, §5.2)."""
    return check_int(counter, name, 0, COUNTER_MAX, "RFC 4226 §5.1: 8-byte counter").to_bytes(8, "big")


def dynamic_truncate(mac: bytes) -> int:
    """DT of RFC 4226 §5.3: the 31-bit number at offset (last byte & 0x0f)."""
    if len(mac) < 20:
        raise InputError(f"HMAC value too short for dynamic truncation: {len(mac)} bytes", where="mac")
    offset = mac[-1] & 0x0F
    return int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF


def format_digits(snum: int, digits: int) -> str:
    """Snum mod 10^Digit, with leading zeros (RFC 4226 §5.3 step 3; Appendix C code)."""
    return str(snum % 10**digits).zfill(digits)


def hotp_hmac(secret: bytes, counter: int, algorithm: str = "sha1") -> bytes:
    """HS = HMAC-H(K, C): step 1 of RFC 4226 §5.3 (Appendix D Table 1 lists it)."""
    return hmac_digest(check_algorithm(algorithm), check_secret(secret), counter_bytes(counter))


def hotp(secret: bytes, counter: int, *, digits: int = 6, algorithm: str = "sha1") -> str:
    """The HOTP value of RFC 4226 §5.3 as a string of ``digits`` decimal digits."""
    check_int(digits, "digits", HOTP_MIN_DIGITS, MAX_DIGITS, "RFC 4226 §5.3 and Appendix E.1")
    return format_digits(dynamic_truncate(hotp_hmac(secret, counter, algorithm)), digits)
