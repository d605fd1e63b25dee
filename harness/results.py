"""Result model of a run: what every report, diff and CI gate reads.

The JSON shape written by ``to_json`` is the contract described by
``harness/schemas/results.schema.json``; ``from_json`` reads it back (for ``kplab diff``
and ``kplab report``).
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = 1


class Outcome(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    UNSUPPORTED = "unsupported"
    SKIP = "skip"
    XFAIL = "xfail"
    XPASS = "xpass"
    ERROR = "error"

    @property
    def is_good(self) -> bool:
        """Outcomes a CI gate accepts."""
        return self in (Outcome.PASS, Outcome.XFAIL, Outcome.SKIP, Outcome.UNSUPPORTED)


class Level(str, enum.Enum):
    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"
    INFO = "INFO"


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence: a wire transcript, stderr, a file, a note.

    ``content`` is always text (binary is base64 with ``encoding="base64"``) and has
    already been redacted when it reaches a CaseResult.
    """

    kind: str  # transcript | stderr | file | text | plot
    name: str
    content: str
    media_type: str = "text/plain"
    encoding: str = "utf-8"


@dataclass(frozen=True)
class CaseResult:
    id: str  # stable: "<suite>/<case>[<params>]"
    suite: str
    case: str
    params: dict[str, str]
    adapters: dict[str, str]  # role -> adapter name
    subject: str | None  # the adapter this case judges (matrix column)
    spec: str  # e.g. "RFC 6030 §6.1"
    level: Level
    outcome: Outcome
    reason: str
    duration_s: float
    evidence: tuple[Evidence, ...] = ()
    expected_failure: str | None = None  # the xfail entry's reason, when one applied

    @property
    def base_id(self) -> str:
        """The case id without the subject adapter's parameter: one matrix row."""
        keep = {k: v for k, v in self.params.items() if v != self.subject}
        return format_case_id(self.suite, self.case, keep)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["level"] = self.level.value
        data["outcome"] = self.outcome.value
        data["evidence"] = [asdict(e) for e in self.evidence]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "CaseResult":
        return cls(
            id=data["id"],
            suite=data["suite"],
            case=data["case"],
            params=dict(data.get("params", {})),
            adapters=dict(data.get("adapters", {})),
            subject=data.get("subject"),
            spec=data["spec"],
            level=Level(data["level"]),
            outcome=Outcome(data["outcome"]),
            reason=data.get("reason", ""),
            duration_s=float(data.get("duration_s", 0.0)),
            evidence=tuple(Evidence(**e) for e in data.get("evidence", [])),
            expected_failure=data.get("expected_failure"),
        )


def format_case_id(suite: str, case: str, params: dict[str, str]) -> str:
    if not params:
        return f"{suite}/{case}"
    inner = ",".join(f"{k}={v}" for k, v in sorted(params.items()))
    return f"{suite}/{case}[{inner}]"


@dataclass(frozen=True)
class ProbeResult:
    outcome: str  # ok | accepted | refused | fault | crash | timeout | garbage | unavailable
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


@dataclass(frozen=True)
class AdapterInfo:
    name: str
    roles: tuple[str, ...]
    capabilities: tuple[str, ...]
    transport: str
    version: str
    available: bool
    unavailable_reason: str
    probe: ProbeResult
    third_party: bool


@dataclass
class RunResult:
    """A whole run; ``cases`` keeps arrival order, reports sort as they need."""

    run: dict[str, Any]
    adapters: list[AdapterInfo] = field(default_factory=list)
    cases: list[CaseResult] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = {o.value: 0 for o in Outcome}
        for case in self.cases:
            counts[case.outcome.value] += 1
        return counts

    def must_failures(self) -> list[CaseResult]:
        return [
            c
            for c in self.cases
            if c.level is Level.MUST and c.outcome in (Outcome.FAIL, Outcome.XPASS)
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "run": self.run,
            "adapters": [
                {**asdict(a), "roles": list(a.roles), "capabilities": list(a.capabilities)}
                for a in self.adapters
            ],
            "cases": [c.to_json() for c in self.cases],
            "summary": {
                "counts": self.counts(),
                "total": len(self.cases),
                "must_failures": len(self.must_failures()),
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "RunResult":
        adapters = [
            AdapterInfo(
                name=a["name"],
                roles=tuple(a["roles"]),
                capabilities=tuple(a["capabilities"]),
                transport=a["transport"],
                version=a.get("version", ""),
                available=a["available"],
                unavailable_reason=a.get("unavailable_reason", ""),
                probe=ProbeResult(**a["probe"]),
                third_party=a.get("third_party", True),
            )
            for a in data.get("adapters", [])
        ]
        cases = [CaseResult.from_json(c) for c in data.get("cases", [])]
        return cls(run=dict(data.get("run", {})), adapters=adapters, cases=cases)
