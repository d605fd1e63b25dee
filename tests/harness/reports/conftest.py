"""A hand-built run used by the report tests: every outcome, a pairwise suite, hostile
strings, JSON / binary / image evidence.  Written out literally so tests can state what
they expect without asking the code under test."""

from __future__ import annotations

import base64
from datetime import datetime, timezone

import pytest

from harness.results import (
    AdapterInfo,
    CaseResult,
    Evidence,
    Level,
    Outcome,
    ProbeResult,
    RunResult,
    format_case_id,
)

HOSTILE = '<script>alert("x")</script>'
# A 1x1 transparent PNG.
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
SVG_PLOT = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>'


def run_meta(run_id: str = "run-1", exit_status: int = 1) -> dict:
    return {
        "id": run_id,
        "started": datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc).isoformat(),
        "finished": datetime(2024, 5, 1, 12, 0, 42, 500000, tzinfo=timezone.utc).isoformat(),
        "duration_s": 42.5,
        "kplab_version": "0.1.0",
        "python": "3.11.7",
        "platform": "Linux-test",
        "profile": "quick",
        "argv": ["kplab", "run", "--adapter", "reference-pskc", "--adapter", "python-pskc"],
        "suites": ["pskc-interop", "otp-vectors"],
        "adapters": ["reference-pskc", "python-pskc", "oathtool"],
        "exit_status": exit_status,
    }


def adapter(name: str, roles: tuple[str, ...], third_party: bool = True, probe: str = "ok") -> AdapterInfo:
    return AdapterInfo(
        name=name,
        roles=roles,
        capabilities=("hotp", "totp"),
        transport="python",
        version="1.2",
        available=probe != "unavailable",
        unavailable_reason="" if probe != "unavailable" else "binary not found",
        probe=ProbeResult(probe, "answered unsupported" if probe == "ok" else "gone"),
        third_party=third_party,
    )


def case(
    suite: str,
    name: str,
    outcome: Outcome,
    *,
    params: dict[str, str] | None = None,
    adapters: dict[str, str] | None = None,
    subject: str | None = None,
    level: Level = Level.MUST,
    reason: str = "",
    evidence: tuple[Evidence, ...] = (),
    expected_failure: str | None = None,
) -> CaseResult:
    params = params or {}
    return CaseResult(
        id=format_case_id(suite, name, params),
        suite=suite,
        case=name,
        params=params,
        adapters=adapters or {},
        subject=subject,
        spec="RFC 6030 §6.1",
        level=level,
        outcome=outcome,
        reason=reason,
        duration_s=0.25,
        evidence=evidence,
        expected_failure=expected_failure,
    )


def pair(producer: str, consumer: str, outcome: Outcome, name: str = "import", level: Level = Level.MUST) -> CaseResult:
    """A pskc-interop case: producer exports, consumer imports; the consumer is judged."""
    return case(
        "pskc-interop",
        name,
        outcome,
        params={"producer": producer, "consumer": consumer},
        adapters={"pskc-producer": producer, "pskc-consumer": consumer},
        subject=consumer,
        level=level,
        reason=f"{producer} -> {consumer}",
    )


def otp(name: str, impl: str, outcome: Outcome, **kw) -> CaseResult:
    return case("otp-vectors", name, outcome, params={"impl": impl, "vector": "rfc4226-0"}, adapters={"otp-generator": impl}, subject=impl, **kw)


def build_sample_run() -> RunResult:
    cases = [
        # pskc-interop: 2 producers x 2 consumers, two case names.
        pair("reference-pskc", "reference-pskc", Outcome.PASS),
        pair("reference-pskc", "python-pskc", Outcome.FAIL),  # MUST failure
        pair("python-pskc", "reference-pskc", Outcome.PASS),
        pair("python-pskc", "python-pskc", Outcome.XFAIL),
        pair("reference-pskc", "python-pskc", Outcome.PASS, name="roundtrip", level=Level.SHOULD),
        # otp-vectors: one row, three implementations, every remaining outcome.
        otp("hotp", "reference-pskc", Outcome.PASS,
            evidence=(Evidence("transcript", "adapter calls", '{"op":"otp.hotp","answer":{"otp":"755224"}}', "application/json"),)),
        otp("hotp", "python-pskc", Outcome.XPASS, expected_failure="issue #12: truncation off by one"),
        otp("hotp", "oathtool", Outcome.ERROR, reason=f"adapter crashed {HOSTILE}",
            evidence=(Evidence("stderr", "oathtool stderr", f"Traceback... {HOSTILE}"),)),
        otp("totp", "reference-pskc", Outcome.UNSUPPORTED, level=Level.MAY),
        otp("totp", "python-pskc", Outcome.SKIP, level=Level.MAY),
        otp("timing", "python-pskc", Outcome.PASS, level=Level.INFO, evidence=(
            Evidence("plot", "timing plot", base64.b64encode(PNG_1X1).decode(), "image/png", "base64"),
            Evidence("plot", "timing svg", SVG_PLOT, "image/svg+xml"),
            Evidence("file", "key container.bin", base64.b64encode(b"\x00\x01binary\xff").decode(), "application/octet-stream", "base64"),
        )),
        # A case judging no adapter.
        case("lab-selftest", "schemas-compile", Outcome.PASS, level=Level.INFO),
    ]
    return RunResult(
        run=run_meta(),
        adapters=[
            adapter("reference-pskc", ("pskc-producer", "pskc-consumer", "otp-generator"), third_party=False),
            adapter("python-pskc", ("pskc-producer", "pskc-consumer")),
            adapter("oathtool", ("otp-generator",), probe="crash"),
        ],
        cases=cases,
    )


@pytest.fixture
def sample_run() -> RunResult:
    return build_sample_run()
