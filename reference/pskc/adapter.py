"""The reference PSKC codec as an adapter: producer, consumer and validator.

It runs in-process (it is ours, and the suites call it a great deal).  The lab's flat KEY
fields (harness.roles.pskc) name DeviceInfo's dates ``start_date``/``expiry_date`` as
python-pskc does; the codec's ``decoded_fields`` names the Policy's dates that way, so
``to_role``/``from_role`` translate at this one border.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from harness.adapters.base import AdapterSpec, InProcessTransportSpec
from harness.adapters.inprocess import operation
from harness.errors import InputError, ProtocolError, SchemaViolation
from reference import pskc
from reference.pskc import schema, semantics

# reference.pskc field name -> lab KEY field name (only the names that differ).
_RENAMES = {
    "device_start_date": "start_date",
    "device_expiry_date": "expiry_date",
    "start_date": "policy_start_date",
    "expiry_date": "policy_expiry_date",
    "challenge_check_digits": "challenge_check",
    "response_check_digits": "response_check",
    "crypto_module_id": "crypto_module",
}
_PIN = {"pin_key_id": "pin_key_id", "pin_usage_mode": "pin_usage_mode", "max_failed_attempts": "pin_max_failed_attempts",
        "min_length": "pin_min_length", "max_length": "pin_max_length", "pin_encoding": "pin_encoding"}

SYMMETRIC = ("aes128-cbc", "aes192-cbc", "aes256-cbc", "tripledes-cbc", "camellia128-cbc", "camellia192-cbc",
             "camellia256-cbc", "kw-aes128", "kw-aes192", "kw-aes256", "kw-tripledes", "kw-camellia128",
             "kw-camellia192", "kw-camellia256", "kw-aes-128-pad", "kw-aes-192-pad", "kw-aes-256-pad")
ASYMMETRIC = ("rsa-1_5", "rsa-oaep-mgf1p")
MACS = ("hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512")


def to_role(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "pin_policy":
            out.update({_PIN[k]: v for k, v in value.items() if k in _PIN})
        else:
            out[_RENAMES.get(name, name)] = value
    return out


def from_role(fields: dict[str, Any]) -> dict[str, Any]:
    back = {v: k for k, v in _RENAMES.items()}
    pin_back = {v: k for k, v in _PIN.items()}
    out: dict[str, Any] = {}
    pin: dict[str, Any] = {}
    for name, value in fields.items():
        if name in pin_back:
            pin[pin_back[name]] = value
        else:
            out[back.get(name, name)] = value
    if pin:
        out["pin_policy"] = pin
    return out


def _bytes(params: dict[str, Any], name: str, encoding: str) -> bytes:
    try:
        value = params[name]
        return base64.b64decode(value, validate=True) if encoding == "b64" else binascii.unhexlify(value)
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise InputError(f"params.{name} must be {'base64' if encoding == 'b64' else 'hex'}") from None


def protection_of(spec: dict[str, Any]) -> tuple[Any, Any]:
    """(Protection, MAC choice) for reference.pskc.encode from the role's protection dict."""
    method = spec.get("method", "none")
    mac = pskc.MACSpec(algorithm=spec["mac"]) if spec.get("mac") else "auto"
    if method == "none":
        return None, None
    if method == "psk":
        return pskc.PreSharedKey(key=_bytes(spec, "key_hex", "hex"), algorithm=spec["algorithm"],
                                 key_name=spec.get("key_name") or "Pre-shared-key"), mac
    if method == "pbe":
        salt = _bytes(spec, "salt_hex", "hex") if spec.get("salt_hex") else None
        return pskc.Passphrase(password=spec["password"], algorithm=spec["algorithm"],
                               iterations=int(spec.get("iterations") or 100_000), salt=salt,
                               master_key_name=spec.get("key_name")), mac
    if method == "rsa":
        return pskc.RecipientCertificate(certificate=spec["certificate_pem"], algorithm=spec["algorithm"]), mac
    raise InputError(f"protection.method must be none, psk, pbe or rsa, not {method!r}")


class ReferencePskc:
    @operation("kplab.version")
    def version(self, params: dict[str, Any]) -> dict[str, Any]:
        from harness import __version__

        return {"version": __version__}

    @operation("pskc-consumer.decode")
    def decode(self, params: dict[str, Any]) -> dict[str, Any]:
        document = _bytes(params, "document_b64", "b64")
        key = _bytes(params, "key_hex", "hex") if params.get("key_hex") else None
        container = pskc.decode(document, password=params.get("password"), key=key,
                                private_key=params.get("private_key_pem"), strict=False)
        # As a consumer the oracle refuses what RFC 6030 forbids (deviations); documents in
        # the pre-RFC draft dialects ("legacy" findings) are still read, as peers do.
        for finding in container.all_findings():
            if finding.severity == "deviation":
                raise SchemaViolation(finding.message, status=finding.code, spec=finding.spec, where=finding.where)
        for leveled in semantics.check_document(container):
            if leveled.finding.code == "pskc.duplicate-id":  # two keys one Id: which is imported?
                f = leveled.finding
                raise SchemaViolation(f.message, status=f.code, spec=f.spec, where=f.where)
        keys = [to_role(pskc.decoded_fields(package)) for package in container.key_packages]
        encrypted = [k["id"] if "id" in k else "?" for k in keys if k.get("encrypted_fields")]
        if encrypted:
            # A consumer that hands back keys it could not open has not imported them.
            raise InputError(f"no credentials to decrypt key(s) {', '.join(encrypted)}")
        return {"keys": keys, "findings": [f.message for f in container.all_findings()]}

    @operation("pskc-producer.encode")
    def encode(self, params: dict[str, Any]) -> dict[str, Any]:
        keys = params.get("keys")
        if not isinstance(keys, list):
            raise InputError("params.keys must be a list of key field objects")
        container = pskc.container_from_fields([from_role(k) for k in keys])
        protection, mac = protection_of(params.get("protection") or {})
        document = pskc.encode(container, protection=protection, mac=mac) if protection else pskc.encode(container)
        return {"document_b64": base64.b64encode(document).decode()}

    @operation("pskc-validator.validate")
    def validate(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            libxml2, xsd = schema.validate(_bytes(params, "document_b64", "b64"))
        except ProtocolError as exc:  # not XML, or hostile XML: invalid, not a refusal
            return {"valid": False, "messages": [str(exc)]}
        messages = [f"{v.validator}: {m}" for v in (libxml2, xsd) for m in v.messages]
        # Valid when both validators accept; where they split, libxml2's lax reading of the
        # unpublished PKCS #5 schema decides (see reference/pskc/schema.py).
        return {"valid": libxml2.valid, "messages": messages}


def adapter_spec() -> AdapterSpec:
    caps = {"pskc.decode", "pskc.encode", "pskc.validate", "pskc.profile.*"}
    caps |= {f"pskc.protect.psk.{a}" for a in SYMMETRIC} | {f"pskc.protect.pbe.{a}" for a in SYMMETRIC}
    caps |= {f"pskc.protect.rsa.{a}" for a in ASYMMETRIC} | {f"pskc.mac.{m}" for m in MACS}
    return AdapterSpec(
        name="reference-pskc",
        roles=frozenset({"pskc-producer", "pskc-consumer", "pskc-validator"}),
        capabilities=frozenset(caps),
        transport=InProcessTransportSpec(factory=ReferencePskc),
        description="keyprov-lab reference PSKC codec (RFC 6030)",
        third_party=False,
    )
