"""Typed interfaces of the PSKC roles: producer, consumer, validator.

Operations (docs/adapters.md lists params and results):

* ``pskc-consumer.decode``   {document_b64, password?, key_hex?, private_key_pem?}
                              -> {"keys": [KEY], "warnings"?: [str]}
* ``pskc-producer.encode``   {"keys": [KEY], "protection": PROTECTION} -> {"document_b64"}
* ``pskc-validator.validate`` {document_b64} -> {"valid": bool, "messages": [str]}

KEY is the flat field dict below (absent fields omitted), the same shape
``kplab pskc decode --json`` prints.  Everything an adapter returns is checked here, so a
wrong type is AdapterGarbage (a harness error), not a silent mismatch.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from harness.adapters.base import Adapter
from harness.errors import AdapterGarbage

# Field -> JSON type.  Dates are ISO 8601; they are compared in UTC.
KEY_FIELDS: dict[str, type] = {
    "id": str,
    "algorithm": str,
    "secret_hex": str,
    "counter": int,
    "time": int,
    "time_interval": int,
    "time_drift": int,
    "issuer": str,
    "manufacturer": str,
    "serial": str,
    "model": str,
    "issue_no": str,
    "device_binding": str,
    "crypto_module": str,
    "user_id": str,
    "device_user_id": str,
    "suite": str,
    "challenge_encoding": str,
    "challenge_min": int,
    "challenge_max": int,
    "challenge_check": bool,
    "response_encoding": str,
    "response_length": int,
    "response_check": bool,
    "key_profile_id": str,
    "key_reference": str,
    "friendly_name": str,
    "start_date": str,
    "expiry_date": str,
    "policy_start_date": str,
    "policy_expiry_date": str,
    "key_usage": list,
    "number_of_transactions": int,
    "pin_key_id": str,
    "pin_usage_mode": str,
    "pin_max_failed_attempts": int,
    "pin_min_length": int,
    "pin_max_length": int,
    "pin_encoding": str,
}
DATE_FIELDS = frozenset({"start_date", "expiry_date", "policy_start_date", "policy_expiry_date"})


def normalize_date(value: str) -> str:
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def normalize_key(raw: Any, adapter: str) -> dict[str, Any]:
    """Check and normalise one KEY dict an adapter returned; unknown members are kept."""
    if not isinstance(raw, dict):
        raise AdapterGarbage(f"a decoded key is not an object: {raw!r:.100}", adapter=adapter)
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None:
            continue
        kind = KEY_FIELDS.get(name)
        if kind is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
            raise AdapterGarbage(f"key field {name} must be {kind.__name__}, got {type(value).__name__}", adapter=adapter)
        if name in DATE_FIELDS:
            try:
                value = normalize_date(value)
            except ValueError:
                raise AdapterGarbage(f"key field {name} is not an ISO 8601 date: {value!r:.60}", adapter=adapter) from None
        if name == "secret_hex":
            try:
                value = binascii.unhexlify(value).hex()
            except (binascii.Error, ValueError):
                raise AdapterGarbage("key field secret_hex is not hex", adapter=adapter) from None
        out[name] = value
    return out


@dataclass(frozen=True)
class Protection:
    """How a container's secrets are protected, as producer params and consumer secrets.

    method: none | psk (pre-shared key) | pbe (PBKDF2 passphrase) | rsa (key transport).
    ``algorithm`` is the short name (aes128-cbc, kw-aes256, rsa-oaep-mgf1p ...),
    ``mac`` the MAC algorithm short name (hmac-sha256 ...) or None.
    """

    method: str = "none"
    algorithm: str | None = None
    mac: str | None = None
    key_hex: str | None = None
    key_name: str | None = None
    password: str | None = None
    iterations: int | None = None
    salt_hex: str | None = None
    certificate_pem: str | None = None
    private_key_pem: str | None = None

    @property
    def case_id(self) -> str:
        parts = [self.method] + [p for p in (self.algorithm, self.mac) if p]
        return "+".join(parts)

    def __repr__(self) -> str:
        # Reports (Allure prints parameters with repr) must never see the key material.
        return f"Protection({self.case_id})"

    def producer_params(self) -> dict[str, Any]:
        keep = ("method", "algorithm", "mac", "key_hex", "key_name", "password", "iterations", "salt_hex", "certificate_pem")
        return {k: getattr(self, k) for k in keep if getattr(self, k) is not None}

    def consumer_params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.method == "psk" and self.key_hex:
            out["key_hex"] = self.key_hex
        if self.method == "pbe" and self.password is not None:
            out["password"] = self.password
        if self.method == "rsa" and self.private_key_pem:
            out["private_key_pem"] = self.private_key_pem
        return out

    def capabilities(self) -> list[str]:
        caps = []
        if self.method != "none":
            caps.append(f"pskc.protect.{self.method}.{self.algorithm}")
        if self.mac:
            caps.append(f"pskc.mac.{self.mac}")
        return caps


def _b64(document: bytes) -> str:
    return base64.b64encode(document).decode("ascii")


def _document(result: dict[str, Any], adapter: str) -> bytes:
    value = result.get("document_b64")
    if not isinstance(value, str):
        raise AdapterGarbage("result has no document_b64 string", adapter=adapter)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise AdapterGarbage("document_b64 is not base64", adapter=adapter) from None


class PskcConsumer:
    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter

    def decode(self, document: bytes, secrets: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        result = self.adapter.call("pskc-consumer.decode", {"document_b64": _b64(document), **(secrets or {})})
        keys = result.get("keys")
        if not isinstance(keys, list):
            raise AdapterGarbage("decode result has no keys list", adapter=self.adapter.name)
        return [normalize_key(k, self.adapter.name) for k in keys]


class PskcProducer:
    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter

    def encode(self, keys: list[dict[str, Any]], protection: Protection) -> bytes:
        result = self.adapter.call("pskc-producer.encode", {"keys": keys, "protection": protection.producer_params()})
        return _document(result, self.adapter.name)


class PskcValidator:
    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter

    def validate(self, document: bytes) -> tuple[bool, list[str]]:
        result = self.adapter.call("pskc-validator.validate", {"document_b64": _b64(document)})
        valid, messages = result.get("valid"), result.get("messages", [])
        if not isinstance(valid, bool) or not isinstance(messages, list):
            raise AdapterGarbage("validate result needs valid (bool) and messages (list)", adapter=self.adapter.name)
        return valid, [str(m) for m in messages]
