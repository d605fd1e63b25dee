"""``kplab run``: drive the suites through pytest and turn the outcome into a report.

The report folder appears whole or not at all: everything is written into a sibling
``.partial`` folder that is renamed into place at the end (and removed on failure).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.util import find_spec
from pathlib import Path

import pytest

from harness import exitcodes, xfail
from harness.adapters.registry import resolve
from harness.errors import HarnessError
from harness.reports.json_report import load_results
from harness.results import RunResult

SUITES_DIR = Path(__file__).resolve().parent.parent / "suites"


@dataclass
class RunRequest:
    adapters: list[str] = field(default_factory=list)
    adapter_files: list[str] = field(default_factory=list)
    suites: list[str] = field(default_factory=list)
    profile: str = "quick"
    out: Path | None = None
    baseline: Path | None = None
    xfail_files: list[str] = field(default_factory=list)
    jobs: int = 1
    reveal_secrets: bool = False
    progress: str = "auto"
    extra_pytest_args: list[str] = field(default_factory=list)


@dataclass
class RunOutcome:
    run: RunResult
    report_dir: Path
    exit_code: int
    regressions: list[str]
    summary: str


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def check_request(req: RunRequest) -> RunResult | None:
    """Everything that can be wrong with the arguments, before anything runs."""
    resolve(req.adapters, req.adapter_files)  # UsageError / ConfigError
    for path in req.xfail_files:
        xfail.load(path)  # ConfigError
    return load_results(req.baseline) if req.baseline else None


def pytest_args(req: RunRequest, work: Path) -> list[str]:
    args = [
        str(SUITES_DIR),
        "-c", str(SUITES_DIR / "pytest.ini"),
        "--rootdir", str(SUITES_DIR),
        "-p", "no:cacheprovider",
        "-p", "no:benchmark",
        "-q", "--tb=short",
        "--kplab-results", str(work / "results.json"),
        "--junitxml", str(work / "junit.xml"),
        "--kplab-profile", req.profile,
        "--kplab-progress", req.progress,
    ]
    if find_spec("allure_pytest") is not None:
        args += ["--alluredir", str(work / "allure")]
    if req.jobs > 1:
        args += ["-n", str(req.jobs)]
    for name in req.adapters:
        args += ["--kplab-adapter", name]
    for path in req.adapter_files:
        args += ["--kplab-adapter-file", str(Path(path).resolve())]
    for suite in req.suites:
        args += ["--kplab-suite", suite]
    for path in req.xfail_files:
        args += ["--kplab-xfail", str(Path(path).resolve())]
    if req.reveal_secrets:
        args.append("--kplab-reveal-secrets")
    return args + req.extra_pytest_args


def execute(req: RunRequest) -> RunOutcome:
    baseline = check_request(req)
    run_id = new_run_id()
    out = (req.out or Path("reports") / run_id).resolve()
    if out.exists():
        raise HarnessError(f"report folder {out} exists already; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = out.with_name(out.name + f".partial-{os.getpid()}")
    work.mkdir()
    try:
        outcome = _run_into(req, work, run_id, baseline)
        work.rename(out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _point_latest(out)
    outcome.report_dir = out
    return outcome


def _run_into(req: RunRequest, work: Path, run_id: str, baseline: RunResult | None) -> RunOutcome:
    os.environ["KPLAB_RUN_ID"] = run_id
    os.environ["KPLAB_ARGV"] = json.dumps(["kplab", *sys.argv[1:]])
    # pytest's own terminal output goes to a file in the report, not the user's screen:
    # the live progress (stderr) is the run's display.  (Disabling pytest's terminal
    # plugin instead would also empty the messages of failed assertions.)
    with open(work / "pytest-output.txt", "w", encoding="utf-8") as log, contextlib.redirect_stdout(log):
        code = pytest.main(pytest_args(req, work))
    results_path = work / "results.json"
    if not results_path.exists():
        raise HarnessError(f"the suites did not complete (pytest exit {int(code)}); no results were written")
    run = load_results(results_path)
    from harness.reports.html import render_html

    render_html(run, work / "html")
    regressions: list[str] = []
    lines = [summary_line(run)]
    if baseline is not None:
        from harness.reports.diff import diff_runs, format_diff

        diff = diff_runs(baseline, run)
        text = format_diff(diff)
        (work / "diff.txt").write_text(text + "\n", encoding="utf-8")
        regressions = [c.id for c in diff.regressions]
        lines.append(text)
        return RunOutcome(run, work, exitcodes.for_diff(diff), regressions, "\n".join(lines))
    return RunOutcome(run, work, exitcodes.for_run(run), regressions, "\n".join(lines))


def summary_line(run: RunResult) -> str:
    counts = run.counts()
    parts = [f"{n} {name}" for name, n in counts.items() if n]
    must = len(run.must_failures())
    return f"{len(run.cases)} cases: " + (", ".join(parts) or "none") + (f"; {must} MUST failures" if must else "")


def _point_latest(out: Path) -> None:
    """reports/latest -> the newest run, swapped atomically."""
    link = out.parent / "latest"
    tmp = out.parent / f".latest-{os.getpid()}"
    try:
        if tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(out.name)
        os.replace(tmp, link)
    except OSError as exc:  # a read-only or odd filesystem must not fail the run
        print(f"kplab: note: could not update {link}: {exc}", file=sys.stderr)
