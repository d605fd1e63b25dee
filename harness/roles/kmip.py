"""Typed interfaces of the KMIP roles (contract: /tmp/contracts/kmip-role.md).

* :class:`KmipServer` wraps a ``kmip-server`` adapter (a network endpoint speaking TTLV
  over mutual TLS): ``connect()`` gives a :class:`KmipConnection`, ``alive()`` asks a
  fresh connection for Discover Versions, ``log_tail()`` is the server's output.
* :class:`KmipClientRole` drives a ``kmip-client`` adapter (operation
  ``kmip-client.lifecycle``) against a server the suite runs, and checks what it returns.

Transport failures are harness errors, never findings: a server that closes the
connection is AdapterCrash, one that hangs AdapterTimeout, bytes that cannot be framed
as a TTLV item AdapterGarbage.  Whether an *answer* is right is the suites' business.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.adapters.base import Adapter
from harness.errors import AdapterCrash, AdapterGarbage, AdapterTimeout, AdapterUnavailable, ProtocolError
from reference.kmip.net import KmipConnectionClosed, KmipConnectionTimeout, TlsConnection

VERSION_CAPABILITY = "kmip.version."
KNOWN_VERSIONS = ((1, 0), (1, 1), (1, 2), (1, 3), (1, 4), (2, 0), (2, 1))


class KmipConnection:
    """One mutual-TLS connection to a KMIP server under test."""

    def __init__(self, adapter: str, conn: TlsConnection) -> None:
        self.adapter = adapter
        self._conn = conn

    def exchange(self, request: bytes, *, timeout_s: float = 10.0) -> bytes:
        """Write one request, read exactly one TTLV item back."""
        try:
            self._conn.send(request)
            return self._conn.receive(timeout_s)
        except KmipConnectionClosed as exc:
            raise AdapterCrash(f"connection lost: {exc.message}", adapter=self.adapter) from None
        except KmipConnectionTimeout as exc:
            raise AdapterTimeout(exc.message, adapter=self.adapter) from None
        except ProtocolError as exc:
            raise AdapterGarbage(f"the server's answer cannot be framed as TTLV: {exc}", adapter=self.adapter) from None

    def send_raw(self, data: bytes, *, timeout_s: float = 5.0) -> bytes | None:
        """Write arbitrary bytes; one response item, or None when the server closed the
        connection or sent nothing within ``timeout_s``."""
        try:
            self._conn.send(data)
        except KmipConnectionClosed:
            return None
        try:
            return self._conn.receive(timeout_s)
        except (KmipConnectionClosed, KmipConnectionTimeout):
            return None
        except ProtocolError as exc:
            raise AdapterGarbage(f"the server's answer cannot be framed as TTLV: {exc}", adapter=self.adapter) from None

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> KmipConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class TlsMaterial:
    """Where a KMIP server listens and the client credentials the lab presents."""

    host: str
    port: int
    ca: Path
    cert: Path
    key: Path


def tls_material(adapter: Adapter) -> TlsMaterial:
    """From a harness-started endpoint (its generated certificates), else from the
    adapter's options ``host``/``port``/``ca``/``client_cert``/``client_key``."""
    endpoint = adapter.endpoint
    certs = getattr(endpoint, "certs", None)
    options = adapter.spec.options
    if certs is not None:
        host, port = endpoint.address
        return TlsMaterial(host, port, certs.ca, certs.client_cert, certs.client_key)
    needed = ("ca", "client_cert", "client_key")
    if all(options.get(k) for k in needed) and hasattr(endpoint, "address"):
        host, port = endpoint.address
        return TlsMaterial(host, port, Path(options["ca"]), Path(options["client_cert"]), Path(options["client_key"]))
    raise AdapterUnavailable("no TLS client credentials: start the server with {certs} or set options "
                             "ca, client_cert, client_key", adapter=adapter.name)


class KmipServer:
    """Wraps the Adapter the ``kmip_server`` fixture yields."""

    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter
        self.name = adapter.name
        self._tls: TlsMaterial | None = None

    @property
    def tls(self) -> TlsMaterial:
        if self._tls is None:
            self._tls = tls_material(self.adapter)
        return self._tls

    def versions(self) -> tuple[tuple[int, int], ...]:
        """The protocol versions the adapter declares (capabilities kmip.version.X.Y)."""
        return tuple(v for v in KNOWN_VERSIONS if self.adapter.spec.has(f"{VERSION_CAPABILITY}{v[0]}.{v[1]}"))

    def connect(self, *, timeout_s: float = 10.0) -> KmipConnection:
        tls = self.tls
        try:
            conn = TlsConnection(tls.host, tls.port, ca=tls.ca, cert=tls.cert, key=tls.key, timeout=timeout_s)
        except KmipConnectionTimeout as exc:
            raise AdapterTimeout(exc.message, adapter=self.name) from None
        except KmipConnectionClosed as exc:
            raise AdapterCrash(exc.message, adapter=self.name) from None
        return KmipConnection(self.name, conn)

    def alive(self, *, timeout_s: float = 5.0) -> bool:
        """A fresh connection answers a Discover Versions request with a Response Message."""
        from reference.kmip.client import KmipClient
        from reference.kmip.vocab import Operation

        versions = self.versions() or ((1, 0),)
        version = max(v for v in versions if v >= (1, 1)) if any(v >= (1, 1) for v in versions) else versions[0]
        request = KmipClient(lambda b: b"", version=version).request_message([(Operation.DISCOVER_VERSIONS, [])])
        try:
            with self.connect(timeout_s=timeout_s) as conn:
                KmipClient.parse_response(conn.exchange(request, timeout_s=timeout_s))
            return True
        except (AdapterCrash, AdapterTimeout, AdapterGarbage, ProtocolError, OSError):
            return False

    def log_tail(self, limit: int = 4000) -> str:
        tail = getattr(self.adapter.endpoint, "log_tail", None)
        try:
            return tail(limit) if callable(tail) else ""
        except (ValueError, OSError):  # the endpoint was closed: its log is gone
            return ""


# ----------------------------------------------------------------------------- client role
LIFECYCLE = ("discover_versions", "create", "get", "get_attributes", "activate", "locate", "revoke", "destroy",
             "register", "get")
STEP_FIELDS: dict[str, type] = {"step": str, "ok": bool, "uid": str, "data": dict, "error": dict}


@dataclass(frozen=True)
class StepOutcome:
    step: str
    ok: bool
    uid: str | None
    data: dict[str, Any]
    error: dict[str, Any]

    @property
    def failure(self) -> str:
        e = self.error
        return " / ".join(str(e[k]) for k in ("type", "status", "reason", "message") if e.get(k)) or "failed"


class KmipClientRole:
    """Drives a ``kmip-client`` adapter; every answer is shape-checked here."""

    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter
        self.name = adapter.name

    def lifecycle(self, tls: TlsMaterial, steps: list[Any] | None = None, *, version: str | None = None,
                  timeout_s: float = 60.0) -> list[StepOutcome]:
        params: dict[str, Any] = {"host": tls.host, "port": tls.port, "ca": str(tls.ca), "cert": str(tls.cert),
                                  "key": str(tls.key)}
        if steps is not None:
            params["steps"] = steps
        if version is not None:
            params["version"] = version
        result = self.adapter.call("kmip-client.lifecycle", params, timeout_s=timeout_s)
        raw = result.get("steps")
        if not isinstance(raw, list):
            raise AdapterGarbage("lifecycle result has no steps list", adapter=self.name)
        return [self._outcome(s) for s in raw]

    def _outcome(self, raw: Any) -> StepOutcome:
        if not isinstance(raw, dict) or not isinstance(raw.get("step"), str) or not isinstance(raw.get("ok"), bool):
            raise AdapterGarbage(f"a lifecycle step is malformed: {raw!r:.200}", adapter=self.name)
        for name, kind in STEP_FIELDS.items():
            if name in raw and raw[name] is not None and not isinstance(raw[name], kind):
                raise AdapterGarbage(f"lifecycle step field {name} must be {kind.__name__}", adapter=self.name)
        return StepOutcome(raw["step"], raw["ok"], raw.get("uid"), raw.get("data") or {}, raw.get("error") or {})


__all__ = ["KmipConnection", "KmipServer", "KmipClientRole", "StepOutcome", "TlsMaterial", "LIFECYCLE"]
