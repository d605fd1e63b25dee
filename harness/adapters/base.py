"""Adapter model: how an implementation under test plugs into the lab.

An adapter is an ``AdapterSpec`` (name, roles, capabilities, transport, options) turned
into a live ``Adapter`` by ``open_adapter``.  Every transport speaks the same operation
protocol (see docs/adapters.md): an operation name ``"<role>.<op>"`` and a JSON-able
params dict in; one of four answers out:

* ``{"result": {...}}``            the operation's result;
* ``{"refused": {"status", "message"}}``  a clean refusal by the implementation;
* ``{"fault": {"type", "message"}}``      the implementation blew up but the adapter lived;
* ``{"unsupported": "reason"}``    the adapter does not do this operation.

``Adapter.call`` turns those into a dict or ``Refused`` / ``Fault`` / ``Unsupported``;
anything else an adapter does (hang, die, print garbage) raises a ``HarnessError``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol

from harness import evidence
from harness.errors import AdapterGarbage, Fault, Refused, Unsupported

PROBE_OPERATION = "kplab.no-such-operation"
BUNDLED_XFAIL_DIR = Path(__file__).resolve().parents[2] / "suites" / "xfail"


def bundled_xfail(adapter: str) -> str | None:
    """The expected-failure file the lab ships for a bundled third-party adapter."""
    path = BUNDLED_XFAIL_DIR / f"{adapter}.toml"
    return str(path) if path.is_file() else None
VERSION_OPERATION = "kplab.version"


@dataclass(frozen=True)
class InProcessTransportSpec:
    """A Python object built by ``factory()``; see ``harness.adapters.inprocess``."""

    factory: Callable[[], Any]
    kind: str = "python"


@dataclass(frozen=True)
class ShimTransportSpec:
    """A command speaking JSON lines on stdin/stdout; see ``harness.adapters.shim``."""

    command: tuple[str, ...]
    timeout_s: float = 10.0
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    kind: str = "shim"


@dataclass(frozen=True)
class EndpointTransportSpec:
    """A running network server (HTTP now, TLS later); see ``harness.adapters.endpoint``.

    ``start`` is an optional command that starts it (``{port}`` is substituted with a free
    loopback port when ``url`` contains ``{port}`` too); ``ready`` is a URL polled until it
    answers, for at most ``ready_timeout_s``.
    """

    url: str
    start: tuple[str, ...] | None = None
    ready: str | None = None
    ready_timeout_s: float = 20.0
    timeout_s: float = 10.0
    kind: str = "endpoint"


TransportSpec = InProcessTransportSpec | ShimTransportSpec | EndpointTransportSpec


@dataclass(frozen=True)
class AdapterSpec:
    name: str
    roles: frozenset[str]
    capabilities: frozenset[str]
    transport: TransportSpec
    description: str = ""
    version: str = ""
    third_party: bool = True
    options: Mapping[str, Any] = field(default_factory=dict)
    # Returns None when the adapter can run here, else why not (missing binary, package).
    check: Callable[[], str | None] | None = None
    xfail_file: str | None = None
    source: str = ""  # where it was discovered: entry point or description file

    def unavailable_reason(self) -> str | None:
        return self.check() if self.check else None

    def has(self, capability: str) -> bool:
        """True when the adapter declares ``capability`` or a prefix of it ending in '.'."""
        return capability in self.capabilities or any(
            c.endswith(".*") and capability.startswith(c[:-1]) for c in self.capabilities
        )


class Transport(Protocol):
    def request(self, op: str, params: dict[str, Any], timeout_s: float | None) -> dict[str, Any]:
        """Send one operation; return the raw answer dict (one of the four kinds)."""

    def close(self) -> None: ...


class Adapter:
    """A live adapter: the spec plus an open transport."""

    def __init__(self, spec: AdapterSpec, transport: Transport | None) -> None:
        self.spec = spec
        self.name = spec.name
        self._transport = transport

    @property
    def endpoint(self) -> Any:
        """The endpoint object of a network adapter (base URL, lifecycle)."""
        return self._transport

    def call(self, op: str, params: dict[str, Any] | None = None, *, timeout_s: float | None = None) -> dict[str, Any]:
        params = params or {}
        if self._transport is None:
            raise Unsupported(f"{self.name} has no operation transport", adapter=self.name, operation=op)
        started = time.monotonic()
        evidence.record_call(self.name, op, params)
        try:
            answer = self._transport.request(op, params, timeout_s)
        except Exception as exc:
            evidence.record_answer(self.name, op, {"harness-error": str(exc)}, time.monotonic() - started)
            raise
        evidence.record_answer(self.name, op, answer, time.monotonic() - started)
        return interpret_answer(self.name, op, answer)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


def interpret_answer(adapter: str, op: str, answer: Any) -> dict[str, Any]:
    """Map a raw answer to a result dict or the matching exception."""
    if not isinstance(answer, dict):
        raise AdapterGarbage(f"answer to {op} is not an object: {answer!r:.200}", adapter=adapter)
    kinds = [k for k in ("result", "refused", "fault", "unsupported") if k in answer]
    if len(kinds) != 1:
        raise AdapterGarbage(
            f"answer to {op} must carry exactly one of result/refused/fault/unsupported, got {sorted(answer)}",
            adapter=adapter,
        )
    kind = kinds[0]
    body = answer[kind]
    if kind == "result":
        if not isinstance(body, dict):
            raise AdapterGarbage(f"result of {op} is not an object", adapter=adapter)
        return body
    if kind == "unsupported":
        raise Unsupported(f"{adapter} does not support {op}: {body}", adapter=adapter, operation=op)
    if not isinstance(body, dict) or not isinstance(body.get("message", ""), str):
        raise AdapterGarbage(f"{kind} answer to {op} is malformed: {body!r:.200}", adapter=adapter)
    message = body.get("message", "")
    if kind == "refused":
        raise Refused(message, adapter=adapter, operation=op, status=str(body.get("status", "")))
    raise Fault(message, adapter=adapter, operation=op, type=str(body.get("type", "Exception")))
