"""PyKMIP 0.11's ProxyKmipClient as a ``kmip-client`` adapter, run out of process (shim).

Operation ``kmip-client.lifecycle`` {host, port, ca, cert, key, version?, steps?}: opens
one ProxyKmipClient connection and runs the steps in order (default: the full symmetric
key lifecycle, harness.roles.kmip.LIFECYCLE).  A step is a name or a dict
``{"op": name, ...params}``; the Unique Identifier of the last Create / Register is used
by later steps unless a step gives ``uid``.  Every step reports
``{"step", "ok", "uid"?, "data"?, "error"?}``; a server refusal is
``error.type = "operation-failed"`` with PyKMIP's status / reason / message, a client-side
exception ``error.type = "client-error"`` (PyKMIP itself failed, e.g. while encoding).
Key material comes back as ``secret_hex`` (fingerprinted in evidence).  A ``decrypt``
step without ``data_hex`` decrypts what the last ``encrypt`` step returned.
"""

from __future__ import annotations

import sys
import warnings
from importlib.util import find_spec
from typing import Any

from harness.adapters.base import AdapterSpec, ShimTransportSpec, bundled_xfail
from harness.adapters.inprocess import operation
from harness.errors import InputError

VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4", "2.0")
DEFAULT_LIFECYCLE = ("discover_versions", "create", "get", "get_attributes", "activate", "locate", "revoke",
                     "destroy", "register", "get")


def _jsonable(value: Any) -> Any:
    """PyKMIP attribute values (primitives, enums, structures) as JSON."""
    import enum

    inner = getattr(value, "value", value)
    if isinstance(inner, enum.Enum):
        return inner.name
    if isinstance(inner, (bool, int, str)) or inner is None:
        return inner
    if isinstance(inner, bytes):
        return inner.hex()
    name_value = getattr(value, "name_value", None)
    if name_value is not None:  # Name structure
        return {"name": _jsonable(name_value), "type": _jsonable(getattr(value, "name_type", None))}
    return str(value)


class PykmipClient:
    def __init__(self) -> None:
        self._sealed: tuple[str, str | None] | None = None
        warnings.simplefilter("ignore")  # cryptography deprecation noise from PyKMIP's imports

    @operation("kplab.version")
    def version(self, params: dict[str, Any]) -> dict[str, Any]:
        import kmip

        return {"version": kmip.__version__}

    @operation("kmip-client.lifecycle")
    def lifecycle(self, params: dict[str, Any]) -> dict[str, Any]:
        from kmip.core import enums
        from kmip.pie.client import ProxyKmipClient

        try:
            host, port = str(params["host"]), int(params["port"])
            ca, cert, key = str(params["ca"]), str(params["cert"]), str(params["key"])
        except (KeyError, TypeError, ValueError):
            raise InputError("lifecycle needs host, port, ca, cert, key") from None
        version = params.get("version")
        kwargs: dict[str, Any] = {}
        if version is not None:
            if version not in VERSIONS:
                raise InputError(f"PyKMIP speaks KMIP {', '.join(VERSIONS)}, not {version}")
            kwargs["kmip_version"] = getattr(enums.KMIPVersion, "KMIP_" + version.replace(".", "_"))
        steps = params.get("steps") or list(DEFAULT_LIFECYCLE)
        client = ProxyKmipClient(hostname=host, port=port, cert=cert, key=key, ca=ca, config_file="/dev/null", **kwargs)
        out: list[dict[str, Any]] = []
        try:
            client.open()
        except Exception as exc:  # noqa: BLE001 - reported as the first step's outcome
            return {"steps": [{"step": "connect", "ok": False, "error": {"type": "connection", "message": f"{type(exc).__name__}: {exc}"}}]}
        state: dict[str, Any] = {"uid": None, "sealed": None}
        try:
            for raw in steps:
                step = {"op": raw} if isinstance(raw, str) else dict(raw)
                out.append(self._step(client, step, state))
        finally:
            try:
                client.close()
            except Exception:  # noqa: BLE001
                pass
        return {"steps": out}

    def _step(self, client: Any, step: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        from kmip.pie.exceptions import KmipOperationFailure

        name = str(step.get("op"))
        runner = getattr(self, "_do_" + name, None)
        if runner is None:
            return {"step": name, "ok": False, "error": {"type": "unsupported", "message": f"no step {name!r}"}}
        uid = step.get("uid", state["uid"])
        self._sealed = state["sealed"]
        try:
            data = runner(client, step, uid) or {}
        except KmipOperationFailure as exc:
            return {"step": name, "ok": False, "uid": uid, "error": {
                "type": "operation-failed", "status": getattr(exc.status, "name", str(exc.status)),
                "reason": getattr(exc.reason, "name", str(exc.reason)), "message": str(exc.message)}}
        except Exception as exc:  # noqa: BLE001 - PyKMIP blew up on the client side
            return {"step": name, "ok": False, "uid": uid, "error": {"type": "client-error", "message": f"{type(exc).__name__}: {exc}"}}
        if name in ("create", "register") and data.get("uid"):
            state["uid"] = data["uid"]
        if name == "encrypt":
            state["sealed"] = (data["data_hex"], data.get("iv_hex"))
        return {"step": name, "ok": True, "uid": data.pop("uid", uid), "data": data}

    # -- steps --------------------------------------------------------------------------
    def _do_discover_versions(self, client: Any, step: dict[str, Any], uid: Any) -> dict[str, Any]:
        result = client.proxy.discover_versions()
        if result.result_status.value.name != "SUCCESS":
            from kmip.pie.exceptions import KmipOperationFailure

            raise KmipOperationFailure(result.result_status.value, result.result_reason.value, result.result_message.value)
        return {"versions": [f"{v.major}.{v.minor}" for v in result.protocol_versions or []]}

    def _do_create(self, client: Any, step: dict[str, Any], uid: Any) -> dict[str, Any]:
        from kmip.core import enums

        algorithm = getattr(enums.CryptographicAlgorithm, step.get("algorithm", "AES"))
        masks = [getattr(enums.CryptographicUsageMask, m) for m in step.get("usage", ["ENCRYPT", "DECRYPT"])]
        new = client.create(algorithm, int(step.get("length", 256)), name=step.get("name"), cryptographic_usage_mask=masks)
        return {"uid": str(new)}

    def _do_register(self, client: Any, step: dict[str, Any], uid: Any) -> dict[str, Any]:
        from kmip.core import enums
        from kmip.pie import objects

        material = bytes.fromhex(step["key_hex"])
        masks = [getattr(enums.CryptographicUsageMask, m) for m in step.get("usage", ["ENCRYPT", "DECRYPT"])]
        key = objects.SymmetricKey(getattr(enums.CryptographicAlgorithm, step.get("algorithm", "AES")),
                                   len(material) * 8, material, masks, name=step.get("name", "Symmetric Key"))
        return {"uid": str(client.register(key))}

    def _do_get(self, client: Any, step: dict[str, Any], uid: Any) -> dict[str, Any]:
        obj = client.get(uid)
        data: dict[str, Any] = {"uid": str(obj.unique_identifier or uid), "object_type": obj.object_type.name}
        if hasattr(obj, "value"):
            data["secret_hex"] = bytes(obj.value).hex()
        if hasattr(obj, "cryptographic_algorithm"):
            data["algorithm"] = obj.cryptographic_algorithm.name
            data["length"] = obj.cryptographic_length
        return data

    def _do_get_attributes(self, client: Any, step: dict[str, Any], uid: Any) -> dict[str, Any]:
        names = step.get("names", ["State", "Cryptographic Algorithm", "Cryptographic Length", "Cryptographic Usage Mask",
                                   "Object Type", "Unique Identifier", "Name"])
        got_uid, attributes = client.get_attributes(uid, names)
        values: dict[str, list[Any]] = {}
        for a in attributes:
            values.setdefault(a.attribute_name.value, []).append(_jsonable(a.attribute_value))
        return {"uid": str(got_uid), "attributes": values}

    def _do_get_attribute_list(self, client: Any, step: dict[str, Any], uid: Any) -> dict[str, Any]:
        return {"names": list(client.get_attribute_list(uid))}

    def _do_activate(self, client: Any, step: dict[str, Any], uid: Any) -> dict[str, Any]:
        client.activate(uid)
        return {}

    def _do_locate(self, client: Any, step: dict[str, Any], uid: Any) -> dict[str, Any]:
        from kmip.core import enums
        from kmip.core.factories.attributes import AttributeFactory

        factory = AttributeFactory()
        attributes = []
        if step.get("name"):
            attributes.append(factory.create_attribute(enums.AttributeType.NAME, step["name"]))
        if step.get("object_type"):
            attributes.append(factory.create_attribute(enums.AttributeType.OBJECT_TYPE,
                                                       getattr(enums.ObjectType, step["object_type"])))
        found = client.locate(maximum_items=step.get("maximum_items"), attributes=attributes or None)
        return {"uids": [str(u) for u in found]}

    def _do_revoke(self, client: Any, step: dict[str, Any], uid: Any) -> dict[str, Any]:
        from kmip.core import enums

        reason = getattr(enums.RevocationReasonCode, step.get("reason", "CESSATION_OF_OPERATION"))
        client.revoke(reason, uid, revocation_message=step.get("message"))
        return {}

    def _do_destroy(self, client: Any, step: dict[str, Any], uid: Any) -> dict[str, Any]:
        client.destroy(uid)
        return {}

    def _do_encrypt(self, client: Any, step: dict[str, Any], uid: Any) -> dict[str, Any]:
        from kmip.core import enums

        params = {"block_cipher_mode": getattr(enums.BlockCipherMode, step.get("mode", "CBC")),
                  "padding_method": getattr(enums.PaddingMethod, step.get("padding", "PKCS5")),
                  "cryptographic_algorithm": enums.CryptographicAlgorithm.AES}
        data, iv = client.encrypt(bytes.fromhex(step["data_hex"]), uid=uid, cryptographic_parameters=params,
                                  iv_counter_nonce=bytes.fromhex(step["iv_hex"]) if step.get("iv_hex") else None)
        return {"data_hex": bytes(data).hex(), "iv_hex": bytes(iv).hex() if iv else None}

    def _do_decrypt(self, client: Any, step: dict[str, Any], uid: Any) -> dict[str, Any]:
        from kmip.core import enums

        if "data_hex" not in step and self._sealed is not None:  # decrypt what the last encrypt returned
            step = {**step, "data_hex": self._sealed[0], "iv_hex": self._sealed[1]}

        params = {"block_cipher_mode": getattr(enums.BlockCipherMode, step.get("mode", "CBC")),
                  "padding_method": getattr(enums.PaddingMethod, step.get("padding", "PKCS5")),
                  "cryptographic_algorithm": enums.CryptographicAlgorithm.AES}
        plain = client.decrypt(bytes.fromhex(step["data_hex"]), uid=uid, cryptographic_parameters=params,
                               iv_counter_nonce=bytes.fromhex(step["iv_hex"]) if step.get("iv_hex") else None)
        return {"data_hex": bytes(plain).hex()}


def _check() -> str | None:
    if find_spec("kmip") is None:
        return "PyKMIP is not installed (pip install 'keyprov-lab[peers]')"
    return None


def adapter_spec() -> AdapterSpec:
    return AdapterSpec(
        name="pykmip-client",
        roles=frozenset({"kmip-client"}),
        capabilities=frozenset({f"kmip.version.{v}" for v in VERSIONS} | {"kmip.client.lifecycle"}),
        transport=ShimTransportSpec(command=(sys.executable, "-m", "harness.adapters.pykmip_client"), timeout_s=60.0),
        description="PyKMIP (PyPI pykmip) ProxyKmipClient, driven out of process",
        third_party=True,
        check=_check,
        xfail_file=bundled_xfail("pykmip-client"),
    )


if __name__ == "__main__":
    from harness.adapters.shim_server import serve

    sys.exit(serve(PykmipClient()))
