"""The server's state of an open four-pass run, as the JSON kept in SessionRecord.state.

Between <KeyProvServerHello> and <KeyProvClientNonce> (RFC 6063 §4.2.3, 4.2.4, 7.2.3) the
server needs the agreed SAL, R_S, which key K encrypts R_C (by name, never the key), the
exact octets of the two messages so far (msg_hash, Sec. 3.4.3) and what the hello
established: a trigger's AD, the key being renewed, the accepted device.  Nothing here is
secret, but the JSON is engine-private and never logged.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, fields

from harness.errors import InputError
from reference.dskpp.messages import DeviceInfo

FORMAT = 1


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


def device_to_dict(info: DeviceInfo | None) -> dict[str, str] | None:
    """The string fields of a <DeviceId> (extensions are not kept)."""
    if info is None:
        return None
    return {f.name: getattr(info, f.name) for f in fields(DeviceInfo)
            if f.name != "extensions" and getattr(info, f.name) is not None}


def device_from_dict(values: dict[str, str] | None) -> DeviceInfo | None:
    return None if values is None else DeviceInfo(**values)


@dataclass(frozen=True)
class FourPassSession:
    version: str
    key_type: str
    encryption_algorithm: str
    mac_algorithm: str
    key_package_format: str
    key_kind: str  # "server-rsa" | "shared"
    key_name: str | None
    r_s: bytes
    hello: bytes
    server_hello: bytes
    trigger_client_id: str | None = None  # the hello carried this AC's trigger AD, verified
    renew_key_id: str | None = None
    device: DeviceInfo | None = None  # accepted DeviceID (Sec. 4.2.2)
    server_info: bytes | None = None  # ServerInfoType data sent, to be echoed (Sec. 6.2)

    def to_json(self) -> str:
        data = asdict(self)
        for name in ("r_s", "hello", "server_hello", "server_info"):
            data[name] = _b64(getattr(self, name))
        data["device"] = device_to_dict(self.device)
        data["format"] = FORMAT
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "FourPassSession":
        try:
            data = json.loads(text)
            if data.pop("format", None) != FORMAT:
                raise ValueError("unknown session state format")
            for name in ("r_s", "hello", "server_hello", "server_info"):
                data[name] = _unb64(data.get(name))
            data["device"] = device_from_dict(data.get("device"))
            return cls(**data)
        except (ValueError, TypeError, KeyError) as exc:
            raise InputError(f"unreadable session state: {type(exc).__name__}", where="SessionRecord.state") from None


__all__ = ["FourPassSession", "device_to_dict", "device_from_dict"]
