"""The OASIS KMIP profile test cases (1.4 and 2.1, mandatory and optional) against a server.

Every file of ../shared/vectors-thirdparty/kmip is one case, ``kmip.testcases/oasis
[kmip_server=...,testcase=<file stem>]``, replayed by reference/kmip/replay.py on one
mutual-TLS connection: placeholders filled, each response compared field by field with
the tolerances of KMIP Profiles 2.1 §4.1 (reference/kmip/compare.py).

Outcomes: PASS; FAIL naming the exchange and the first differing field (a server that
closes the connection or stays silent on a valid request fails too); UNSUPPORTED when the
server does not declare the case's protocol version or answers "not supported".

Two cases build on objects an earlier case leaves on the server (the files say so only
through the names they locate): TL-M-3 locates the keys TL-M-2 creates (named "TL-M-2-vv"),
SASED-M-3 the secrets SASED-M-2 registers (group "SASED-M-2-vv-group").  They run after
their precondition in the same session (run first, unreported, when it has not run in this
process: a selection, or an xdist worker with its own server); when it did not pass they
are skipped, since their verdict would only repeat it.  A case that does not pass has the objects it created
revoked and destroyed afterwards (Profiles 2.1 §4.1.2 item 1 allows any clean-up
mechanism), so it cannot disturb the cases after it.
"""

from __future__ import annotations

import pytest

from harness import evidence
from harness.cases import case, nonconformance
from harness.errors import InputError, KplabError, Unsupported
from reference.kmip.replay import ReplayResult, cleanup_requests, replay_case

EXCHANGE_TIMEOUT_S = 10.0
PRECONDITIONS = {"TL-M-3": "TL-M-2", "SASED-M-3": "SASED-M-2"}  # case -> case it builds on (same version)
_RESULTS: dict[tuple[str, str], ReplayResult] = {}  # (server, case name) -> its replay in this session


def _precondition(name: str) -> str | None:
    stem, _, suffix = name.rpartition("-")
    before = PRECONDITIONS.get(stem)
    return f"{before}-{suffix}" if before else None


def _attach(result: ReplayResult, verbose: bool) -> None:
    lines = [f"{r.label}: {r.outcome} ({r.seconds * 1000:.1f} ms){' - ' + r.detail if r.detail else ''}"
             for r in result.records]
    evidence.attach("text", "exchanges", "\n".join(lines) or "no exchange")
    if not verbose:
        return
    for record in result.records:
        evidence.attach("file", f"{record.label} request", record.request_xml, "application/xml")
        if record.response_xml is not None:
            evidence.attach("file", f"{record.label} response", record.response_xml, "application/xml")
        if record.outcome != "pass":
            evidence.attach("file", f"{record.label} expected response", record.expected_xml, "application/xml")


def _cleanup(connection, result: ReplayResult) -> None:  # type: ignore[no-untyped-def]
    for message in cleanup_requests(result.created, result.version):
        try:
            connection.send_raw(message, timeout_s=5.0)
        except KplabError:
            return


def _replay(kmip, testcase, reveal: bool, generated: frozenset[str]) -> ReplayResult:  # type: ignore[no-untyped-def]
    """One case on one connection; objects of a case that does not pass are cleaned up."""
    connection = kmip.connect()
    try:
        result = replay_case(testcase, lambda data: connection.exchange(data, timeout_s=EXCHANGE_TIMEOUT_S),
                             versions=tuple(kmip.versions()), reveal=reveal, generated=generated)
        _RESULTS[(kmip.name, testcase.name)] = result
        if result.verdict != "pass":
            _cleanup(connection, result)
    finally:
        connection.close()
    return result


@case("oasis", spec="KMIP Test Cases (per file, set in conftest.py)", level="MUST", subject="kmip_server")
def test_oasis_case(kmip, testcase, request):  # type: ignore[no-untyped-def]
    from suites.kmip.conftest import MISSING_VECTORS, oasis_cases

    if testcase is None:
        pytest.skip(MISSING_VECTORS)
    reveal = bool(request.config.getoption("kplab_reveal_secrets"))
    before = _precondition(testcase.name)
    earlier = _RESULTS.get((kmip.name, before)) if before is not None else None
    if before is not None and earlier is None:  # not run in this process (a selection, or xdist): run it now
        earlier = _replay(kmip, next(c for c in oasis_cases() if c.name == before), reveal, frozenset())
    if earlier is not None and earlier.verdict != "pass":
        verdict = earlier.verdict
        if verdict == "unsupported":
            raise Unsupported(f"builds on {before}, which is unsupported by {kmip.name}", adapter=kmip.name,
                              operation=f"precondition {before}")
        pytest.skip(f"builds on the objects of {before}, which did not pass on {kmip.name} ({verdict})")
    # A case already run as another's precondition in this process is reported, not repeated.
    result = _RESULTS.get((kmip.name, testcase.name)) or _replay(
        kmip, testcase, reveal, earlier.generated if earlier is not None else frozenset())
    for secret in result.secrets:
        evidence.secret(secret)
    _attach(result, verbose=result.verdict != "pass")
    if result.verdict == "pass":
        return
    if result.verdict == "unsupported":
        raise Unsupported(result.detail, adapter=kmip.name, operation=f"KMIP {testcase.version_text} {testcase.name}")
    if result.verdict == "error" and isinstance(result.error, InputError):
        raise result.error  # the case could not be sent: a problem of the lab
    if result.verdict == "error":
        alive = kmip.alive()
        evidence.attach("text", "server log (tail)", kmip.log_tail())
        state = "it still accepts new connections" if alive else "it no longer answers"
        raise nonconformance(f"{result.detail} - no response to a valid request; {state}")
    evidence.attach("text", "server log (tail)", kmip.log_tail())
    raise nonconformance(result.detail)
