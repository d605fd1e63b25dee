"""Finding adapters (entry points, description files), opening and probing them."""

from __future__ import annotations

import importlib
import tomllib
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Iterable

from harness.adapters.base import (
    PROBE_OPERATION,
    VERSION_OPERATION,
    Adapter,
    AdapterSpec,
    EndpointTransportSpec,
    InProcessTransportSpec,
    ShimTransportSpec,
)
from harness.errors import (
    AdapterCrash,
    AdapterGarbage,
    AdapterTimeout,
    AdapterUnavailable,
    ConfigError,
    Fault,
    HarnessError,
    Refused,
    Unsupported,
    UsageError,
)
from harness.results import ProbeResult

ENTRY_POINT_GROUP = "kplab.adapters"
KNOWN_ROLES = frozenset(
    {
        "pskc-producer",
        "pskc-consumer",
        "pskc-validator",
        "dskpp-server",
        "dskpp-client",
        "kmip-server",
        "kmip-client",
        "otp-generator",
    }
)


def discover_entry_points() -> dict[str, AdapterSpec]:
    specs: dict[str, AdapterSpec] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            target = ep.load()
            spec = target() if callable(target) else target
            if not isinstance(spec, AdapterSpec):
                raise TypeError("did not give an AdapterSpec")
        except Exception as exc:  # noqa: BLE001 - a broken plug-in must not stop discovery
            # It stays listed, unavailable with the reason, so the report shows it.
            specs[ep.name] = _broken(ep.name, f"entry point {ep.value} failed to load: {type(exc).__name__}: {exc}")
            continue
        specs[spec.name] = _with_source(spec, f"entry point {ep.value}")
    return specs


def _broken(name: str, reason: str) -> AdapterSpec:
    return AdapterSpec(
        name=name,
        roles=frozenset(),
        capabilities=frozenset(),
        transport=InProcessTransportSpec(factory=lambda: None),
        check=lambda: reason,
        source="broken entry point",
    )


def _with_source(spec: AdapterSpec, source: str) -> AdapterSpec:
    from dataclasses import replace

    return replace(spec, source=source)


def load_description(path: str | Path) -> AdapterSpec:
    """Read an adapter description file (TOML); see docs/adapters.md for the format."""
    path = Path(path)
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("adapter description file not found", where=where) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read adapter description: {exc}", where=where) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", where=where) from None
    base = path.resolve().parent
    name = _get(data, "name", str, where)
    roles = _get(data, "roles", list, where)
    bad = [r for r in roles if r not in KNOWN_ROLES]
    if bad or not roles:
        raise ConfigError(f"roles must be a non-empty list of {sorted(KNOWN_ROLES)}; unknown: {bad}", where=f"{where}: roles")
    caps = data.get("capabilities", [])
    if not isinstance(caps, list) or not all(isinstance(c, str) for c in caps):
        raise ConfigError("capabilities must be a list of strings", where=f"{where}: capabilities")
    transport = _transport(_get(data, "transport", dict, where), base, where)
    xfail = data.get("xfail")
    return AdapterSpec(
        name=name,
        roles=frozenset(roles),
        capabilities=frozenset(caps),
        transport=transport,
        description=str(data.get("description", "")),
        version=str(data.get("version", "")),
        third_party=bool(data.get("third_party", True)),
        options=dict(data.get("options", {})),
        xfail_file=str((base / xfail).resolve()) if isinstance(xfail, str) else None,
        source=f"description file {path}",
    )


def _get(data: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in data:
        raise ConfigError(f"missing required key {key!r}", where=where)
    value = data[key]
    if not isinstance(value, kind):
        raise ConfigError(f"{key!r} must be a {kind.__name__}", where=f"{where}: {key}")
    return value


def _transport(data: dict[str, Any], base: Path, where: str) -> Any:
    kind = data.get("kind")
    where = f"{where}: transport"
    if kind == "shim":
        command = data.get("command")
        if not isinstance(command, list) or not command or not all(isinstance(c, str) for c in command):
            raise ConfigError("shim transport needs command = [program, args...]", where=where)
        env = data.get("env", {})
        if not isinstance(env, dict):
            raise ConfigError("env must be a table", where=where)
        return ShimTransportSpec(
            command=tuple(command),
            timeout_s=float(data.get("timeout", 10.0)),
            env={str(k): str(v) for k, v in env.items()},
            cwd=str(base),
        )
    if kind == "endpoint":
        url = data.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigError("endpoint transport needs url = 'http://...'", where=where)
        start = data.get("start")
        if start is not None and (not isinstance(start, list) or not start):
            raise ConfigError("start must be a command list", where=where)
        return EndpointTransportSpec(
            url=url,
            start=tuple(start) if start else None,
            ready=data.get("ready"),
            ready_timeout_s=float(data.get("ready_timeout", 20.0)),
            timeout_s=float(data.get("timeout", 10.0)),
        )
    if kind == "python":
        target = data.get("object")
        if not isinstance(target, str) or ":" not in target:
            raise ConfigError("python transport needs object = 'module:factory'", where=where)
        module, _, attr = target.partition(":")
        return InProcessTransportSpec(factory=lambda: getattr(importlib.import_module(module), attr)())
    raise ConfigError(f"transport kind must be shim, endpoint or python, not {kind!r}", where=where)


def resolve(names: Iterable[str], descriptions: Iterable[str] = ()) -> dict[str, AdapterSpec]:
    """The adapters a run uses: every discovered one when ``names`` is empty."""
    specs = discover_entry_points()
    for path in descriptions:
        spec = load_description(path)
        specs[spec.name] = spec
    names = list(names)
    if not names:
        return dict(sorted(specs.items()))
    unknown = [n for n in names if n not in specs]
    if unknown:
        raise UsageError(f"unknown adapter(s) {', '.join(unknown)}; known: {', '.join(sorted(specs))}")
    return {n: specs[n] for n in names}


def open_adapter(spec: AdapterSpec) -> Adapter:
    reason = spec.unavailable_reason()
    if reason:
        raise AdapterUnavailable(reason, adapter=spec.name)
    t = spec.transport
    if isinstance(t, InProcessTransportSpec):
        from harness.adapters.inprocess import InProcessTransport

        try:
            implementation = t.factory()
        except Exception as exc:  # noqa: BLE001
            raise AdapterCrash(f"in-process factory failed: {type(exc).__name__}: {exc}", adapter=spec.name) from exc
        return Adapter(spec, InProcessTransport(spec.name, implementation))
    if isinstance(t, ShimTransportSpec):
        from harness.adapters.shim import ShimTransport

        return Adapter(spec, ShimTransport(spec.name, t))
    from harness.adapters.endpoint import Endpoint

    endpoint = Endpoint(spec.name, t)
    adapter = Adapter(spec, endpoint)
    try:
        endpoint.start()
    except HarnessError:
        endpoint.close()
        raise
    return adapter


def probe(adapter: Adapter) -> ProbeResult:
    """Ask an operation that does not exist: the only right answer is "unsupported"."""
    try:
        adapter.call(PROBE_OPERATION, {})
    except Unsupported:
        return ProbeResult("ok", "answered unsupported to an unknown operation")
    except AdapterTimeout as exc:
        return ProbeResult("timeout", str(exc))
    except AdapterCrash as exc:
        return ProbeResult("crash", str(exc))
    except AdapterGarbage as exc:
        return ProbeResult("garbage", str(exc))
    except AdapterUnavailable as exc:
        return ProbeResult("unavailable", str(exc))
    except Refused as exc:
        return ProbeResult("refused", f"refused instead of unsupported: {exc}")
    except Fault as exc:
        return ProbeResult("fault", f"raised {exc.type} instead of unsupported: {exc}")
    return ProbeResult("accepted", "succeeded at an operation that does not exist")


def version_of(adapter: Adapter) -> str:
    if adapter.spec.version:
        return adapter.spec.version
    try:
        return str(adapter.call(VERSION_OPERATION, {}).get("version", ""))
    except Exception:  # noqa: BLE001 - the version is informative only
        return ""
