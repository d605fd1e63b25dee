"""The lab's flat, JSON-able view of a key package, and its inverse.

``decoded_fields(package)`` gives one dict per <KeyPackage>; absent fields are omitted;
dates are ISO 8601 UTC "YYYY-MM-DDTHH:MM:SSZ" (a date without zone is taken as UTC;
sub-second digits are dropped: RFC 6030 §4.3.1 says not to rely on them).  Key-level
and device-level values that share a name are kept apart: "start_date"/"expiry_date"/
"user_id" are the key's (<Policy>, <Key><UserId>), "device_*" the device's.

``container_from_fields(keys)`` builds a KeyContainer from such dicts, so that a
producer adapter can go from the flat form to a document.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Iterable

from harness.errors import InputError

from .model import (
    AlgorithmParameters, ChallengeFormat, CryptoModuleInfo, DeviceInfo, EncryptedValue, Key,
    KeyContainer, KeyData, KeyPackage, PINPolicy, PlainValue, Policy, ResponseFormat,
)

# flat name -> (model attribute, python type) for the simple string/int fields
_KEY_STRINGS = {"id": "id", "algorithm": "algorithm", "issuer": "issuer", "key_profile_id": "key_profile_id",
                "key_reference": "key_reference", "friendly_name": "friendly_name", "user_id": "user_id"}
_DEVICE_STRINGS = {"manufacturer": "manufacturer", "serial": "serial_no", "model": "model",
                   "issue_no": "issue_no", "device_binding": "device_binding", "device_user_id": "user_id"}
_DATA_INTS = {"counter": "counter", "time": "time", "time_interval": "time_interval", "time_drift": "time_drift"}
_PIN_FIELDS = {"pin_key_id": str, "pin_usage_mode": str, "max_failed_attempts": int, "min_length": int,
               "max_length": int, "pin_encoding": str}
FIELD_NAMES = frozenset(
    set(_KEY_STRINGS) | set(_DEVICE_STRINGS) | set(_DATA_INTS) | {
        "secret_hex", "encrypted_fields", "suite", "challenge_encoding", "challenge_min", "challenge_max",
        "challenge_check_digits", "response_encoding", "response_length", "response_check_digits",
        "start_date", "expiry_date", "device_start_date", "device_expiry_date", "key_usage",
        "number_of_transactions", "pin_policy", "policy_unknown_elements", "crypto_module_id",
    }
)


def format_date(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    v = value.astimezone(timezone.utc)
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}Z"


def parse_date(value: Any, name: str) -> datetime:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", value):
        raise InputError(f"{name}: {value!r} is not 'YYYY-MM-DDTHH:MM:SSZ'")
    return datetime.fromisoformat(value[:-1]).replace(tzinfo=timezone.utc)


def decoded_fields(package: KeyPackage) -> dict[str, Any]:
    out: dict[str, Any] = {}
    key, device = package.key, package.device_info
    if key is not None:
        for flat, attribute in _KEY_STRINGS.items():
            if (value := getattr(key, attribute)) is not None:
                out[flat] = value
        encrypted = []
        if key.data is not None:
            for name, value in key.data.values().items():
                if isinstance(value, EncryptedValue):
                    encrypted.append(name)
                elif name == "secret":
                    out["secret_hex"] = value.value.hex()
                else:
                    out[name] = value.value
        if encrypted:
            out["encrypted_fields"] = encrypted
        params = key.algorithm_parameters
        if params is not None:
            if params.suite is not None:
                out["suite"] = params.suite
            c, r = params.challenge_format, params.response_format
            for flat, value in (
                ("challenge_encoding", c and c.encoding), ("challenge_min", c and c.min),
                ("challenge_max", c and c.max), ("challenge_check_digits", c and c.check_digits),
                ("response_encoding", r and r.encoding), ("response_length", r and r.length),
                ("response_check_digits", r and r.check_digits),
            ):
                if value is not None:
                    out[flat] = value
        policy = key.policy
        if policy is not None:
            if policy.start_date is not None:
                out["start_date"] = format_date(policy.start_date)
            if policy.expiry_date is not None:
                out["expiry_date"] = format_date(policy.expiry_date)
            if policy.key_usage:
                out["key_usage"] = list(policy.key_usage)
            if policy.number_of_transactions is not None:
                out["number_of_transactions"] = policy.number_of_transactions
            if policy.pin_policy is not None:
                pin = {f: getattr(policy.pin_policy, f) for f in _PIN_FIELDS}
                out["pin_policy"] = {k: v for k, v in pin.items() if v is not None}
            if not policy.usage_permitted:
                out["policy_unknown_elements"] = True
    if device is not None:
        for flat, attribute in _DEVICE_STRINGS.items():
            if (value := getattr(device, attribute)) is not None:
                out[flat] = value
        if device.start_date is not None:
            out["device_start_date"] = format_date(device.start_date)
        if device.expiry_date is not None:
            out["device_expiry_date"] = format_date(device.expiry_date)
    if package.crypto_module_info is not None and package.crypto_module_info.id is not None:
        out["crypto_module_id"] = package.crypto_module_info.id
    return out


def _typed(fields: dict[str, Any], name: str, kind: type, where: str) -> Any:
    value = fields.get(name)
    if value is None:
        return None
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise InputError(f"{where}: {name} must be an integer, not {type(value).__name__}")
    if kind is str and not isinstance(value, str):
        raise InputError(f"{where}: {name} must be a string, not {type(value).__name__}")
    if kind is bool and not isinstance(value, bool):
        raise InputError(f"{where}: {name} must be true or false")
    return value


def package_from_fields(fields: dict[str, Any], where: str = "key") -> KeyPackage:
    if not isinstance(fields, dict):
        raise InputError(f"{where}: expected an object, got {type(fields).__name__}")
    unknown = set(fields) - FIELD_NAMES
    if unknown:
        raise InputError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    if fields.get("encrypted_fields"):
        raise InputError(f"{where}: encrypted_fields cannot be rebuilt from the flat form")
    get = lambda name, kind=str: _typed(fields, name, kind, where)  # noqa: E731
    data_values: dict[str, PlainValue] = {}
    if (secret := get("secret_hex")) is not None:
        try:
            data_values["secret"] = PlainValue(bytes.fromhex(secret))
        except ValueError:
            raise InputError(f"{where}: secret_hex is not hexadecimal") from None
    for flat, attribute in _DATA_INTS.items():
        if (value := get(flat, int)) is not None:
            data_values[attribute] = PlainValue(value)
    challenge = response = None
    if any(fields.get(n) is not None for n in ("challenge_encoding", "challenge_min", "challenge_max",
                                              "challenge_check_digits")):
        challenge = ChallengeFormat(get("challenge_encoding"), get("challenge_min", int), get("challenge_max", int),
                                    get("challenge_check_digits", bool))
    if any(fields.get(n) is not None for n in ("response_encoding", "response_length", "response_check_digits")):
        response = ResponseFormat(get("response_encoding"), get("response_length", int),
                                  get("response_check_digits", bool))
    params = None
    if challenge or response or get("suite") is not None:
        params = AlgorithmParameters(get("suite"), challenge, response)
    pin = None
    if (pin_fields := fields.get("pin_policy")) is not None:
        if not isinstance(pin_fields, dict) or set(pin_fields) - set(_PIN_FIELDS):
            raise InputError(f"{where}: pin_policy must be an object with {', '.join(_PIN_FIELDS)}")
        pin = PINPolicy(**{k: _typed(pin_fields, k, t, where + ".pin_policy") for k, t in _PIN_FIELDS.items()})
    usage = fields.get("key_usage") or []
    if not isinstance(usage, list) or not all(isinstance(u, str) for u in usage):
        raise InputError(f"{where}: key_usage must be a list of strings")
    policy_values = dict(
        start_date=parse_date(fields["start_date"], f"{where}: start_date") if "start_date" in fields else None,
        expiry_date=parse_date(fields["expiry_date"], f"{where}: expiry_date") if "expiry_date" in fields else None,
        pin_policy=pin, key_usage=tuple(usage), number_of_transactions=get("number_of_transactions", int))
    policy = Policy(**policy_values) if any(v not in (None, ()) for v in policy_values.values()) else None
    key_attrs = {a: get(f) for f, a in _KEY_STRINGS.items()}
    key = None
    if data_values or params or policy or any(v is not None for v in key_attrs.values()):
        key = Key(**key_attrs, algorithm_parameters=params, policy=policy,
                  data=KeyData(**data_values) if data_values else None)
    device_attrs = {a: get(f) for f, a in _DEVICE_STRINGS.items()}
    for flat, attribute in (("device_start_date", "start_date"), ("device_expiry_date", "expiry_date")):
        device_attrs[attribute] = parse_date(fields[flat], f"{where}: {flat}") if flat in fields else None
    device = DeviceInfo(**device_attrs) if any(v is not None for v in device_attrs.values()) else None
    module = get("crypto_module_id")
    module_info = CryptoModuleInfo(module) if module is not None else None
    return KeyPackage(device_info=device, crypto_module_info=module_info, key=key)


def container_from_fields(keys: Iterable[dict[str, Any]], *, version: str = "1.0",
                          id: str | None = None) -> KeyContainer:
    """KeyContainer with one KeyPackage per flat dict (values in plaintext)."""
    if isinstance(keys, dict):
        raise InputError("container_from_fields expects a list of key dicts")
    packages = tuple(package_from_fields(k, f"keys[{i}]") for i, k in enumerate(keys))
    return KeyContainer(key_packages=packages, version=version, id=id)

