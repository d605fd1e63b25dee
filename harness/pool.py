"""The adapters of one test process: opened once, probed once, closed at the end."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness import evidence
from harness.adapters.base import Adapter, AdapterSpec
from harness.adapters.registry import open_adapter, probe, version_of
from harness.errors import AdapterError, AdapterUnavailable, HarnessError
from harness.results import AdapterInfo, ProbeResult

BROKEN_PROBES = frozenset({"crash", "timeout", "garbage"})


class ProbeFailed(AdapterError):
    """The adapter broke on the probe; its cases are ERROR without being run."""


@dataclass
class _Slot:
    adapter: Adapter | None = None
    problem: HarnessError | None = None
    info: AdapterInfo | None = None


@dataclass
class AdapterPool:
    specs: dict[str, AdapterSpec]
    _slots: dict[str, _Slot] = field(default_factory=dict)

    def with_role(self, role: str) -> list[str]:
        return [name for name, spec in self.specs.items() if role in spec.roles]

    def get(self, name: str) -> Adapter:
        """The open, probed adapter; raises AdapterUnavailable or ProbeFailed."""
        slot = self._slots.get(name) or self._open(name)
        if slot.problem is not None:
            raise slot.problem
        assert slot.adapter is not None
        return slot.adapter

    def info(self, name: str) -> AdapterInfo:
        slot = self._slots.get(name) or self._open(name)
        assert slot.info is not None
        return slot.info

    def _open(self, name: str) -> _Slot:
        # Opening happens inside whichever case first needs the adapter; what the probe
        # and version calls say belongs to the adapter's entry, not to that case.
        with evidence.suspended():
            return self._open_quietly(name)

    def _open_quietly(self, name: str) -> _Slot:
        spec = self.specs[name]
        slot = _Slot()
        self._slots[name] = slot
        try:
            slot.adapter = open_adapter(spec)
        except AdapterUnavailable as exc:
            slot.problem = exc
            slot.info = _info(spec, "", False, exc.message, ProbeResult("unavailable", exc.message))
            return slot
        except HarnessError as exc:
            slot.problem = ProbeFailed(f"could not be opened: {exc}", adapter=name)
            slot.info = _info(spec, "", True, "", ProbeResult("crash", str(exc)))
            return slot
        result = probe(slot.adapter)
        if result.outcome in BROKEN_PROBES:
            slot.problem = ProbeFailed(f"adapter failed its probe ({result.outcome}): {result.detail}", adapter=name)
            slot.info = _info(spec, "", True, "", result)
            return slot
        slot.info = _info(spec, version_of(slot.adapter), True, "", result)
        return slot

    def close(self) -> None:
        for slot in self._slots.values():
            if slot.adapter is not None:
                try:
                    slot.adapter.close()
                except Exception:  # noqa: BLE001 - closing must not hide results
                    pass
        self._slots.clear()


def _info(spec: AdapterSpec, version: str, available: bool, reason: str, probe_result: ProbeResult) -> AdapterInfo:
    return AdapterInfo(
        name=spec.name,
        roles=tuple(sorted(spec.roles)),
        capabilities=tuple(sorted(spec.capabilities)),
        transport=spec.transport.kind,
        version=version or spec.version,
        available=available,
        unavailable_reason=reason,
        probe=probe_result,
        third_party=spec.third_party,
    )
