"""pytest plugin: runs the suites/ against adapters and records case results.

Loaded through the ``pytest11`` entry point, so ``pytest suites/ --kplab-adapter NAME``
works as well as ``kplab run``; with pytest-xdist every worker opens its own adapters and
the controller collects results from the reports the workers send back.

Role fixtures (``pskc_consumer``, ``dskpp_server``, ...) are parametrised with every
selected adapter that has the role; a test asking for two roles runs for every pair.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from harness import evidence, exitcodes, xfail
from harness.adapters.base import Adapter
from harness.adapters.registry import resolve
from harness.cases import NonConformance
from harness.errors import AdapterUnavailable, Fault, HarnessError, KplabError, Refused, Unsupported
from harness.pool import AdapterPool
from harness.results import AdapterInfo, CaseResult, Evidence, Level, Outcome, RunResult, format_case_id

ROLE_FIXTURES = {
    "pskc_producer": "pskc-producer",
    "pskc_consumer": "pskc-consumer",
    "pskc_validator": "pskc-validator",
    "otp_generator": "otp-generator",
    "dskpp_server": "dskpp-server",
    "dskpp_client": "dskpp-client",
    "kmip_server": "kmip-server",
    "kmip_client": "kmip-client",
}
PHASE_PROPERTY = "kplab_case"
_FAIL_TYPES = (AssertionError, NonConformance, Refused, Fault, pytest.fail.Exception)
_EMPTY_PARAMSET = "got empty parameter set"


@dataclass
class LabState:
    config: pytest.Config
    started: float = field(default_factory=time.time)
    _pool: AdapterPool | None = None
    _expected: list[xfail.ExpectedFailure] | None = None
    results: list[CaseResult] = field(default_factory=list)
    progress: Any = None

    @property
    def pool(self) -> AdapterPool:
        if self._pool is None:
            opt = self.config.getoption
            try:
                specs = resolve(opt("kplab_adapter"), opt("kplab_adapter_file"))
            except KplabError as exc:
                raise pytest.UsageError(str(exc)) from None
            self._pool = AdapterPool(specs)
        return self._pool

    @property
    def expected(self) -> list[xfail.ExpectedFailure]:
        if self._expected is None:
            files = list(self.config.getoption("kplab_xfail"))
            files += [s.xfail_file for s in self.pool.specs.values() if s.xfail_file]
            entries: list[xfail.ExpectedFailure] = []
            for path in files:
                try:
                    entries += xfail.load(path)
                except KplabError as exc:
                    raise pytest.UsageError(str(exc)) from None
            self._expected = entries
        return self._expected

    @property
    def reveal(self) -> bool:
        return bool(self.config.getoption("kplab_reveal_secrets"))

    @property
    def profile(self) -> str:
        return str(self.config.getoption("kplab_profile"))


_STATE = pytest.StashKey[LabState]()
_RECORDER = pytest.StashKey[Any]()
_DONE = pytest.StashKey[bool]()


def state_of(config: pytest.Config) -> LabState:
    return config.stash[_STATE]


# --------------------------------------------------------------------------- options
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kplab", "keyprov-lab conformance runs")
    group.addoption("--kplab-adapter", action="append", default=[], metavar="NAME", help="adapter to drive (repeatable; default: all discovered)")
    group.addoption("--kplab-adapter-file", action="append", default=[], metavar="TOML", help="adapter description file (repeatable)")
    group.addoption("--kplab-suite", action="append", default=[], metavar="NAME", help="suite to run: 'pskc.schema', 'pskc' or 'schema' (repeatable)")
    group.addoption("--kplab-profile", choices=("quick", "full"), default="quick", help="campaign size")
    group.addoption("--kplab-xfail", action="append", default=[], metavar="TOML", help="expected-failure file (repeatable)")
    group.addoption("--kplab-results", default=None, metavar="PATH", help="write results.json here")
    group.addoption("--kplab-reveal-secrets", action="store_true", default=False, help="keep key material in evidence")
    group.addoption("--kplab-progress", choices=("off", "auto", "rich", "plain"), default="off", help="live progress display")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "kplab_case(name, spec, level, subject): keyprov-lab case metadata")
    config.stash[_STATE] = LabState(config)
    _CONFIG[:] = [config]


def _is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    state = state_of(session.config)
    mode = session.config.getoption("kplab_progress")
    if mode != "off" and _is_controller(session.config):
        from harness.progress import make_progress

        state.progress = make_progress(mode)


# --------------------------------------------------------------------------- collection
def suite_of(item: pytest.Item) -> str:
    module = getattr(item, "module", None)
    explicit = getattr(module, "KPLAB_SUITE", None)
    if explicit:
        return str(explicit)
    path = Path(str(item.path))
    parts = path.with_suffix("").parts
    if "suites" in parts:
        parts = parts[len(parts) - parts[::-1].index("suites") :]
    name = [p.removeprefix("test_") for p in parts]
    return ".".join(name)


def suite_selected(suite: str, wanted: list[str]) -> bool:
    if not wanted:
        return True
    pieces = suite.split(".")
    return any(w == suite or w in pieces or suite.startswith(w + ".") for w in wanted)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("kplab_case") is None:
        return
    pool = state_of(metafunc.config).pool
    for fixture, role in ROLE_FIXTURES.items():
        if fixture in metafunc.fixturenames:
            names = pool.with_role(role)
            metafunc.parametrize(fixture, names, indirect=True, ids=names)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = list(config.getoption("kplab_suite"))
    if not wanted:
        return
    keep, drop = [], []
    for item in items:
        lab = item.get_closest_marker("kplab_case") is not None
        (keep if not lab or suite_selected(suite_of(item), wanted) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _adapter_fixture(request: pytest.FixtureRequest) -> Adapter:
    pool = state_of(request.config).pool
    try:
        return pool.get(request.param)
    except AdapterUnavailable as exc:
        pytest.skip(f"adapter {exc.adapter} unavailable: {exc.message}")


def _make_role_fixture(fixture_name: str) -> Any:
    def fixture(request: pytest.FixtureRequest) -> Adapter:
        return _adapter_fixture(request)

    fixture.__name__ = fixture_name
    return pytest.fixture(name=fixture_name)(fixture)


for _name in ROLE_FIXTURES:
    globals()[_name] = _make_role_fixture(_name)


@pytest.fixture(scope="session")
def kplab_profile(request: pytest.FixtureRequest) -> str:
    """'quick' or 'full': suites size their campaigns by it."""
    return state_of(request.config).profile


@pytest.fixture(scope="session")
def kplab_pool(request: pytest.FixtureRequest) -> AdapterPool:
    return state_of(request.config).pool


# --------------------------------------------------------------------------- running
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Any:
    if item.get_closest_marker("kplab_case") is not None:
        item.stash[_RECORDER] = evidence.open_recorder()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Any:
    yield
    opened = item.stash.get(_RECORDER, None)
    if opened is not None:
        evidence.close_recorder(opened[1])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    result = yield
    report = result.get_result()
    marker = item.get_closest_marker("kplab_case")
    if marker is None or item.stash.get(_DONE, False) or call.when == "teardown":
        return
    if call.when == "setup" and report.passed:
        return
    item.stash[_DONE] = True
    made = _case_result(item, call, report, marker.kwargs)
    if made is None:
        return
    case, scrub = made
    if report.longrepr and not state_of(item.config).reveal:
        # junit.xml, Allure and pytest's own output carry this text: same redaction as evidence.
        report.longrepr = scrub(str(report.longrepr))
    _shape_report(report, case)
    report.user_properties.append((PHASE_PROPERTY, json.dumps({"when": call.when, "case": case.to_json()})))


def _classify(call: pytest.CallInfo[None], report: pytest.TestReport) -> tuple[Outcome, str]:
    exc = call.excinfo
    if exc is None:
        return Outcome.PASS, ""
    value = exc.value
    if isinstance(value, Unsupported):
        return Outcome.UNSUPPORTED, str(value)
    if exc.errisinstance(pytest.skip.Exception):
        return Outcome.SKIP, getattr(value, "msg", str(value))
    if hasattr(report, "wasxfail"):
        return Outcome.XFAIL, str(report.wasxfail)
    if isinstance(value, HarnessError):
        return Outcome.ERROR, f"{type(value).__name__}: {value}"
    if call.when == "call" and isinstance(value, _FAIL_TYPES):
        if isinstance(value, Refused):
            return Outcome.FAIL, f"{value.adapter} refused {value.operation} ({value.status}): {value}"
        if isinstance(value, Fault):
            return Outcome.FAIL, f"{value.adapter} raised {value.type} in {value.operation}: {value}"
        return Outcome.FAIL, _assertion_message(value)
    return Outcome.ERROR, f"suite error in {call.when}: {type(value).__name__}: {value}"


def _assertion_message(value: BaseException) -> str:
    """The suite's own sentence; pytest's rewritten-assert explanation stays in evidence."""
    text = (getattr(value, "msg", None) if isinstance(value, pytest.fail.Exception) else None) or str(value).strip()
    if isinstance(value, AssertionError) and "\nassert " in text:
        text = text.split("\nassert ", 1)[0].strip()
    return text or type(value).__name__


def _case_params(item: pytest.Item) -> dict[str, str]:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return {}
    params = {}
    for name, value in callspec.params.items():
        label = getattr(value, "case_id", None) or getattr(value, "name", None)
        if isinstance(value, dict) and isinstance(value.get("id"), str):
            label = value["id"]
        if isinstance(value, (str, int, float, bool)) or value is None:
            label = str(value)
        params[name.removesuffix("_adapter")] = str(label if label is not None else callspec.id)
    return params


def _case_result(
    item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport, meta: dict[str, Any]
) -> tuple[CaseResult, Any] | None:
    state = state_of(item.config)
    outcome, reason = _classify(call, report)
    if outcome is Outcome.SKIP and _EMPTY_PARAMSET in reason:
        return None  # no adapter has the role: not a case of this run
    params = _case_params(item)
    adapters = {ROLE_FIXTURES[k]: params[k] for k in ROLE_FIXTURES if k in params}
    subject_fixture = meta.get("subject") or (next(iter(k for k in ROLE_FIXTURES if k in params), None))
    subject = params.get(subject_fixture) if subject_fixture else None
    suite = suite_of(item)
    case_id = format_case_id(suite, meta["name"], params)
    outcome, reason, expected = xfail.apply(state.expected, case_id, set(adapters.values()), outcome, reason)
    opened = item.stash.get(_RECORDER, None)
    harness_failure = call.excinfo is not None and isinstance(call.excinfo.value, HarnessError)
    if opened is not None and report.longrepr and not harness_failure and outcome in (Outcome.FAIL, Outcome.ERROR, Outcome.XFAIL):
        # The assertion detail for a failure; the traceback for a suite's own bug.
        evidence.attach("text", "failure detail", str(report.longrepr))
    items, scrub = opened[0].finish(state.reveal) if opened is not None else ((), lambda s: s)
    return CaseResult(
        id=case_id,
        suite=suite,
        case=meta["name"],
        params=params,
        adapters=adapters,
        subject=subject,
        spec=meta["spec"],
        level=Level(meta["level"]),
        outcome=outcome,
        reason=scrub(reason)[:2000],
        duration_s=round(call.duration, 6),
        evidence=items,
        expected_failure=expected,
    ), scrub


def _shape_report(report: pytest.TestReport, case: CaseResult) -> None:
    """Make pytest's own verdict agree with the lab's (exit status, junit.xml)."""
    where = report.location
    if case.outcome is Outcome.PASS:
        report.outcome = "passed"
    elif case.outcome in (Outcome.SKIP, Outcome.UNSUPPORTED):
        report.outcome = "skipped"
        report.longrepr = (str(where[0]), (where[1] or 0) + 1, f"{case.outcome.value}: {case.reason}")
    elif case.outcome is Outcome.XFAIL:
        report.outcome = "skipped"
        report.wasxfail = case.expected_failure or case.reason
    else:
        report.outcome = "failed"
        if case.outcome is Outcome.XPASS or not report.longrepr:
            report.longrepr = f"{case.outcome.value}: {case.reason}"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for name, value in report.user_properties:
        if name != PHASE_PROPERTY:
            continue
        payload = json.loads(value)
        if payload["when"] != report.when:
            continue
        config = _CONFIG[0] if _CONFIG else None
        if config is None:
            return
        state = state_of(config)
        case = CaseResult.from_json(payload["case"])
        state.results.append(case)
        if state.progress is not None:
            state.progress.update(case)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """A suite module that cannot even be collected is an ERROR case, not silence."""
    if not report.failed or not _CONFIG or not _is_controller(_CONFIG[0]):
        return
    path = Path(str(report.nodeid.split("::")[0]))
    parts = [p.removeprefix("test_") for p in path.with_suffix("").parts if p != "suites"]
    suite = ".".join(parts) or "collection"
    state = state_of(_CONFIG[0])
    detail = str(report.longrepr)
    state.results.append(
        CaseResult(
            id=format_case_id(suite, "collect", {}), suite=suite, case="collect", params={}, adapters={},
            subject=None, spec="-", level=Level.INFO, outcome=Outcome.ERROR,
            reason=f"suite could not be collected: {detail.strip().splitlines()[-1][:500] if detail.strip() else 'unknown'}",
            duration_s=0.0, evidence=(Evidence("text", "collection error", detail[:20000]),),
        )
    )


# pytest_runtest_logreport has no config argument; the running config is kept here.
_CONFIG: list[pytest.Config] = []


# --------------------------------------------------------------------------- finishing
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = state_of(session.config)
    if state.progress is not None:
        state.progress.finish()
    try:
        if _is_controller(session.config) and session.config.getoption("kplab_results"):
            run = build_run(state, session, exitstatus)
            from harness.reports.json_report import write_results

            write_results(run, session.config.getoption("kplab_results"))
    finally:
        if state._pool is not None:
            state._pool.close()


def build_run(state: LabState, session: pytest.Session, exitstatus: int) -> RunResult:
    from harness import __version__
    from harness.reports.json_report import build_run_metadata

    finished = time.time()
    pool = state.pool
    # On an xdist controller nothing was opened yet: info() opens and probes here, so the
    # report always says how every selected adapter answered its probe.
    infos: list[AdapterInfo] = [pool.info(name) for name in pool.specs]
    # kplab run passes the user's own command line; plain pytest runs show pytest's.
    argv = json.loads(os.environ["KPLAB_ARGV"]) if "KPLAB_ARGV" in os.environ else [
        "pytest", *map(str, session.config.invocation_params.args)]
    run = build_run_metadata(
        run_id=os.environ.get("KPLAB_RUN_ID") or uuid.uuid4().hex[:12],
        started=datetime.fromtimestamp(state.started, tz=timezone.utc),
        finished=datetime.fromtimestamp(finished, tz=timezone.utc),
        duration_s=round(finished - state.started, 3),
        profile=state.profile,
        argv=argv,
        suites=list(session.config.getoption("kplab_suite")) or sorted({c.suite for c in state.results}),
        adapters=list(pool.specs),
        exit_status=0,
        kplab_version=__version__,
    )
    result = RunResult(run=run, adapters=infos, cases=list(state.results))
    # The lab's verdict, not pytest's: an interrupted or broken pytest session is a
    # harness failure whatever the cases say.
    code = exitcodes.for_run(result)
    result.run["exit_status"] = exitcodes.HARNESS if int(exitstatus) in (2, 3, 4) and code == exitcodes.OK else code
    return result


__all__ = ["LabState", "ROLE_FIXTURES", "state_of", "suite_of"]
