"""Adapter for python-pskc (PyPI python-pskc, Arthur de Jong): PSKC producer and consumer.

Driven out of process through the shim protocol (``python -m harness.adapters.python_pskc``)
so a hang or crash inside the library is contained.  python-pskc's own exception classes
(ParseError, DecryptionError, KeyDerivationError, EncryptionError) are clean refusals;
anything else it raises is reported as a fault of the library.
"""

from __future__ import annotations

import base64
import binascii
import io
import sys
from datetime import datetime, timezone
from importlib.util import find_spec
from typing import Any

from harness.adapters.base import AdapterSpec, ShimTransportSpec, bundled_xfail
from harness.adapters.inprocess import operation
from harness.errors import InputError, ProtocolError, Unsupported

# Flat KEY field (harness.roles.pskc) -> python-pskc Key attribute.
_ATTRS = {
    "id": "id",
    "algorithm": "algorithm",
    "counter": "counter",
    "time": "time_offset",
    "time_interval": "time_interval",
    "time_drift": "time_drift",
    "issuer": "issuer",
    "manufacturer": "manufacturer",
    "serial": "serial",
    "model": "model",
    "issue_no": "issue_no",
    "device_binding": "device_binding",
    "crypto_module": "crypto_module",
    "user_id": "key_userid",
    "device_user_id": "device_userid",
    "suite": "algorithm_suite",
    "challenge_encoding": "challenge_encoding",
    "challenge_min": "challenge_min_length",
    "challenge_max": "challenge_max_length",
    "challenge_check": "challenge_check",
    "response_encoding": "response_encoding",
    "response_length": "response_length",
    "response_check": "response_check",
    "key_profile_id": "key_profile",
    "key_reference": "key_reference",
    "friendly_name": "friendly_name",
    "start_date": "start_date",
    "expiry_date": "expiry_date",
}
_POLICY = {
    "policy_start_date": "start_date",
    "policy_expiry_date": "expiry_date",
    "number_of_transactions": "number_of_transactions",
    "pin_key_id": "pin_key_id",
    "pin_usage_mode": "pin_usage",
    "pin_max_failed_attempts": "pin_max_failed_attempts",
    "pin_min_length": "pin_min_length",
    "pin_max_length": "pin_max_length",
    "pin_encoding": "pin_encoding",
}
_DATES = {"start_date", "expiry_date", "policy_start_date", "policy_expiry_date"}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def _refusal(exc: Exception) -> ProtocolError:
    return ProtocolError(str(exc) or type(exc).__name__, status=f"pskc.exceptions.{type(exc).__name__}")


class PythonPskc:
    """The operations, run inside the shim process."""

    @operation("kplab.version")
    def version(self, params: dict[str, Any]) -> dict[str, Any]:
        import pskc

        return {"version": pskc.__version__}

    @operation("pskc-consumer.decode")
    def decode(self, params: dict[str, Any]) -> dict[str, Any]:
        import pskc
        from pskc.exceptions import PSKCError

        data = _b64(params, "document_b64")
        if params.get("private_key_pem"):
            raise Unsupported("python-pskc has no asymmetric key transport", adapter="python-pskc", operation="decode")
        try:
            container = pskc.PSKC(io.BytesIO(data))
            if params.get("password") is not None:
                container.encryption.derive_key(params["password"])
            elif params.get("key_hex"):
                container.encryption.key = binascii.unhexlify(params["key_hex"])
            keys = [self._key_fields(key) for key in container.keys]
        except PSKCError as exc:
            raise _refusal(exc) from exc
        return {"keys": keys}

    @staticmethod
    def _key_fields(key: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        secret = key.secret  # decrypts and checks the MAC: may raise DecryptionError
        if secret is not None:
            out["secret_hex"] = bytes(secret).hex()
        for field, attr in _ATTRS.items():
            value = getattr(key, attr, None)
            if value is not None:
                out[field] = _json_value(value)
        for field, attr in _POLICY.items():
            value = getattr(key.policy, attr, None)
            if value is not None:
                out[field] = _json_value(value)
        if key.policy.key_usage:
            out["key_usage"] = list(key.policy.key_usage)
        return out

    @operation("pskc-producer.encode")
    def encode(self, params: dict[str, Any]) -> dict[str, Any]:
        import pskc
        from pskc.exceptions import PSKCError

        protection = params.get("protection") or {}
        method = protection.get("method", "none")
        if method == "rsa":
            raise Unsupported("python-pskc cannot write asymmetric key transport", adapter="python-pskc", operation="encode")
        container = pskc.PSKC()
        try:
            for fields in params.get("keys", []):
                container.add_key(**self._key_kwargs(fields))
            if method == "psk":
                container.encryption.setup_preshared_key(
                    key=binascii.unhexlify(protection["key_hex"]),
                    algorithm=protection.get("algorithm"),
                    key_name=protection.get("key_name"),
                )
            elif method == "pbe":
                container.encryption.setup_pbkdf2(
                    protection["password"],
                    algorithm=protection.get("algorithm"),
                    key_name=protection.get("key_name"),
                    iterations=protection.get("iterations"),
                    salt=binascii.unhexlify(protection["salt_hex"]) if protection.get("salt_hex") else None,
                )
            if protection.get("mac"):
                container.mac.setup(algorithm=protection["mac"])
            out = io.BytesIO()
            container.write(out)
        except PSKCError as exc:
            raise _refusal(exc) from exc
        except (KeyError, binascii.Error) as exc:
            raise InputError(f"bad protection parameters: {exc}") from exc
        return {"document_b64": base64.b64encode(out.getvalue()).decode()}

    @staticmethod
    def _key_kwargs(fields: dict[str, Any]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        for name, value in fields.items():
            if name in _DATES:
                value = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if name == "secret_hex":
                kwargs["secret"] = binascii.unhexlify(value)
            elif name in _ATTRS:
                kwargs[_ATTRS[name]] = value
            elif name in _POLICY:
                kwargs["policy__" + _POLICY[name]] = value
            elif name == "key_usage":
                kwargs["policy__key_usage"] = list(value)
        return kwargs


def _b64(params: dict[str, Any], name: str) -> bytes:
    try:
        return base64.b64decode(params[name], validate=True)
    except (KeyError, TypeError, binascii.Error, ValueError):
        raise InputError(f"params.{name} must be base64") from None


def _check() -> str | None:
    if find_spec("pskc") is None:
        return "python-pskc is not installed (pip install 'keyprov-lab[peers]')"
    return None


def adapter_spec() -> AdapterSpec:
    algorithms = ["aes128-cbc", "aes192-cbc", "aes256-cbc", "tripledes-cbc", "kw-aes128", "kw-aes192", "kw-aes256",
                  "kw-tripledes", "camellia128-cbc", "camellia192-cbc", "camellia256-cbc", "kw-camellia128",
                  "kw-camellia192", "kw-camellia256"]
    caps = {"pskc.decode", "pskc.encode", "pskc.profile.*"}
    caps |= {f"pskc.protect.psk.{a}" for a in algorithms} | {f"pskc.protect.pbe.{a}" for a in algorithms}
    caps |= {f"pskc.mac.hmac-{h}" for h in ("sha1", "sha224", "sha256", "sha384", "sha512")}
    return AdapterSpec(
        name="python-pskc",
        roles=frozenset({"pskc-producer", "pskc-consumer"}),
        capabilities=frozenset(caps),
        transport=ShimTransportSpec(command=(sys.executable, "-m", "harness.adapters.python_pskc"), timeout_s=30.0),
        description="python-pskc (PyPI), driven out of process",
        third_party=True,
        check=_check,
        xfail_file=bundled_xfail("python-pskc"),
    )


if __name__ == "__main__":
    from harness.adapters.shim_server import serve

    sys.exit(serve(PythonPskc()))
