"""The otp-generator operation contract: JSON params in, typed requests out.

Only the *shape* is checked here (keys, JSON types, hex decoding, algorithm names): every
otp-generator adapter, reference or peer, parses its params with these functions so they
all read a case the same way.  Ranges and semantics (digits 6-10, counter < 2^64, time
before T0, suite syntax) are each implementation's business, so that a peer's own
behaviour on them is what the lab observes.

Defaults are the RFCs' own: digits 6 and HMAC-SHA-1 (RFC 4226 §5.3, §5.2), X = 30 and
T0 = 0 (RFC 6238 §4.1).  Error messages never repeat a secret's value.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from typing import Any, Mapping

from harness.errors import InputError

ALGORITHMS = ("sha1", "sha256", "sha512")
_MISSING = object()


@dataclass(frozen=True)
class HotpRequest:
    secret: bytes
    counter: int
    digits: int = 6
    algorithm: str = "sha1"


@dataclass(frozen=True)
class TotpRequest:
    secret: bytes
    time: int
    step: int = 30
    t0: int = 0
    digits: int = 6
    algorithm: str = "sha1"


@dataclass(frozen=True)
class OcraRequest:
    suite: str
    secret: bytes
    question: str
    counter: int | None = None
    pin: str | None = None
    pin_hash: bytes | None = None
    session: bytes | None = None
    timestamp: int | None = None


def _check_keys(params: Any, op: str, required: set[str], optional: set[str]) -> Mapping[str, Any]:
    if not isinstance(params, Mapping):
        raise InputError(f"params of {op} must be an object", where=op)
    missing = sorted(required - params.keys())
    if missing:
        raise InputError(f"missing param(s) {', '.join(missing)}", where=op)
    unknown = sorted(set(params) - required - optional)
    if unknown:
        raise InputError(f"unknown param(s) {', '.join(map(str, unknown))}", where=op)
    return params


def _int(params: Mapping[str, Any], key: str, op: str, default: Any = _MISSING) -> Any:
    value = params.get(key, default)
    if value is None and default is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise InputError(f"{key} must be an integer, not {type(value).__name__}", where=f"{op}.{key}")
    return value


def _str(params: Mapping[str, Any], key: str, op: str, default: Any = _MISSING) -> Any:
    value = params.get(key, default)
    if value is None and default is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{key} must be a string, not {type(value).__name__}", where=f"{op}.{key}")
    return value


def _hex(params: Mapping[str, Any], key: str, op: str, *, required: bool = True) -> bytes | None:
    value = params.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InputError(f"{key} must be a hex string, not {type(value).__name__}", where=f"{op}.{key}")
    try:
        return binascii.unhexlify(value)
    except (binascii.Error, ValueError):
        # The value may be (part of) a secret: say what is wrong, never what it is.
        raise InputError(
            f"{key} is not valid hex: need an even number of hex digits ({len(value)} characters given)",
            where=f"{op}.{key}",
        ) from None


def _algorithm(params: Mapping[str, Any], op: str) -> str:
    value = _str(params, "algorithm", op, "sha1")
    if value not in ALGORITHMS:
        raise InputError(f"algorithm must be one of {', '.join(ALGORITHMS)}, not {value!r:.20}", where=f"{op}.algorithm")
    return value


def hotp_request(params: Any, op: str = "otp-generator.hotp") -> HotpRequest:
    p = _check_keys(params, op, {"secret_hex", "counter"}, {"digits", "algorithm"})
    return HotpRequest(
        secret=_hex(p, "secret_hex", op),  # type: ignore[arg-type]
        counter=_int(p, "counter", op),
        digits=_int(p, "digits", op, 6),
        algorithm=_algorithm(p, op),
    )


def totp_request(params: Any, op: str = "otp-generator.totp") -> TotpRequest:
    p = _check_keys(params, op, {"secret_hex", "time"}, {"step", "t0", "digits", "algorithm"})
    return TotpRequest(
        secret=_hex(p, "secret_hex", op),  # type: ignore[arg-type]
        time=_int(p, "time", op),
        step=_int(p, "step", op, 30),
        t0=_int(p, "t0", op, 0),
        digits=_int(p, "digits", op, 6),
        algorithm=_algorithm(p, op),
    )


def ocra_request(params: Any, op: str = "otp-generator.ocra") -> OcraRequest:
    p = _check_keys(
        params,
        op,
        {"suite", "secret_hex", "question"},
        {"counter", "pin", "pin_hash_hex", "session_hex", "timestamp"},
    )
    pin = _str(p, "pin", op, None)
    pin_hash = _hex(p, "pin_hash_hex", op, required=False)
    if pin is not None and pin_hash is not None:
        raise InputError("give pin or pin_hash_hex, not both", where=f"{op}.pin")
    return OcraRequest(
        suite=_str(p, "suite", op),
        secret=_hex(p, "secret_hex", op),  # type: ignore[arg-type]
        question=_str(p, "question", op),
        counter=_int(p, "counter", op, None),
        pin=pin,
        pin_hash=pin_hash,
        session=_hex(p, "session_hex", op, required=False),
        timestamp=_int(p, "timestamp", op, None),
    )
