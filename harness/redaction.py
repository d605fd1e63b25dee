"""Keeping key material out of logs, reports and evidence.

Secrets are replaced by a fingerprint: the first 16 hex digits of SHA-256 over the raw
bytes, prefixed ``fp:``.  Two mechanisms, both applied unless the user reveals secrets:

* structural: JSON members whose *name* says they hold a secret are fingerprinted;
* textual: every secret registered during a case (raw bytes) is searched in text evidence
  in its hex (both cases) and base64 spellings and replaced.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any, Iterable

# Member names that carry key material or credentials in operation params and results.
SECRET_MEMBERS = frozenset(
    {
        "secret",
        "secret_hex",
        "secret_b64",
        "key_hex",
        "key_b64",
        "mac_key_hex",
        "shared_key",
        "shared_key_hex",
        "password",
        "passphrase",
        "private_key_pem",
        "authentication_code",
        "ac",
        "pin",
        "pin_hash_hex",
        "session_hex",
    }
)

# Shorter than this, a byte string could match by accident inside unrelated text.
_MIN_SECRET_LEN = 4


def fingerprint(secret: bytes | str) -> str:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    return "fp:" + hashlib.sha256(secret).hexdigest()[:16]


def secret_bytes(name: str, value: Any) -> bytes | None:
    """The raw bytes behind a secret member's value (hex decoded where the name says hex)."""
    if not isinstance(value, str) or not value:
        return None
    if name.endswith("_hex") or name == "secret_hex":
        try:
            return binascii.unhexlify(value)
        except (binascii.Error, ValueError):
            return value.encode()
    if name.endswith("_b64"):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return value.encode()
    return value.encode("utf-8")


def redact_structure(data: Any, found: set[bytes] | None = None) -> Any:
    """Copy of ``data`` with secret members fingerprinted; their bytes go into ``found``."""
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            raw = secret_bytes(key, value) if key in SECRET_MEMBERS else None
            if raw is not None:
                if found is not None:
                    found.add(raw)
                out[key] = fingerprint(raw)
            else:
                out[key] = redact_structure(value, found)
        return out
    if isinstance(data, list):
        return [redact_structure(v, found) for v in data]
    return data


def spellings(secret: bytes) -> Iterable[str]:
    yield secret.hex()
    yield secret.hex().upper()
    yield base64.b64encode(secret).decode()
    try:
        text = secret.decode("utf-8")
    except UnicodeDecodeError:
        return
    if text.isprintable():
        yield text


def redact_text(text: str, secrets: Iterable[bytes]) -> str:
    # Longest first, so a secret containing another is replaced whole.
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) < _MIN_SECRET_LEN:
            continue
        mark = fingerprint(secret)
        for form in sorted(set(spellings(secret)), key=len, reverse=True):
            if len(form) >= _MIN_SECRET_LEN:
                text = text.replace(form, mark)
    return text
