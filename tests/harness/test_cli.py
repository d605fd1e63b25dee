"""kplab's command line: exit codes, one-line errors, whole-or-nothing reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness import exitcodes
from harness.results import CaseResult, Level, Outcome, RunResult


def kplab(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def _run(outcomes: dict[str, Outcome]) -> dict:
    cases = [
        CaseResult(id=f"demo.s/{name}", suite="demo.s", case=name, params={}, adapters={}, subject=None,
                   spec="RFC 0000 §0", level=Level.MUST, outcome=o, reason="", duration_s=0.0)
        for name, o in outcomes.items()
    ]
    run = {"id": "x", "started": "2026-01-01T00:00:00Z", "finished": "2026-01-01T00:00:01Z", "duration_s": 1.0,
           "kplab_version": "0", "python": "3.11", "platform": "test", "profile": "quick", "argv": [],
           "suites": [], "adapters": [], "exit_status": 0}
    return RunResult(run=run, cases=cases).to_json()


@pytest.mark.parametrize(
    "base, new, code",
    [
        ({"a": Outcome.PASS}, {"a": Outcome.PASS}, exitcodes.OK),
        ({"a": Outcome.PASS}, {"a": Outcome.FAIL}, exitcodes.FAILURES),  # regression
        ({"a": Outcome.FAIL}, {"a": Outcome.FAIL}, exitcodes.OK),  # known failure, not new
        ({"a": Outcome.FAIL}, {"a": Outcome.PASS}, exitcodes.OK),  # a fix
        ({"a": Outcome.PASS}, {"a": Outcome.ERROR}, exitcodes.HARNESS),  # broken lab, not a verdict
    ],
)
def test_diff_exit_codes(tmp_path, base, new, code):
    (tmp_path / "base.json").write_text(json.dumps(_run(base)))
    (tmp_path / "new.json").write_text(json.dumps(_run(new)))
    proc = kplab("diff", str(tmp_path / "base.json"), str(tmp_path / "new.json"))
    assert proc.returncode == code, proc.stdout + proc.stderr


def test_diff_missing_file_is_a_usage_error(tmp_path):
    proc = kplab("diff", str(tmp_path / "nope.json"), str(tmp_path / "nope2.json"))
    assert proc.returncode == exitcodes.USAGE
    assert "nope.json" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args, complaint",
    [
        (["run", "--adapter", "no-such-adapter"], "unknown adapter"),
        (["run", "--profile", "huge"], "invalid choice"),
        (["run", "-j", "0"], "-j must be at least 1"),
        (["run", "--baseline", "/nonexistent/results.json"], "/nonexistent/results.json"),
        (["run", "--adapter-file", "/nonexistent/a.toml"], "/nonexistent/a.toml"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_get_one_line(tmp_path, args, complaint):
    proc = kplab(*args, cwd=tmp_path)
    assert proc.returncode == exitcodes.USAGE, proc.stderr
    assert complaint in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "reports").exists()  # nothing half-written


def test_run_writes_a_whole_report(tmp_path):
    out = tmp_path / "reports" / "r1"
    proc = kplab("run", "--adapter", "reference-otp", "--suite", "otp", "--out", str(out), "--progress", "plain", cwd=tmp_path)
    assert proc.returncode == exitcodes.OK, proc.stdout + proc.stderr
    for name in ("results.json", "junit.xml", "html/index.html"):
        assert (out / name).exists(), name
    assert not list(out.parent.glob("*.partial-*"))
    results = json.loads((out / "results.json").read_text())
    assert results["summary"]["counts"]["pass"] > 0
    assert (tmp_path / "reports" / "latest").resolve() == out.resolve()
    # No key material anywhere in the report (results, junit, Allure, HTML): the RFC 4226
    # secret in hex, in ASCII, and the RFC 6238 SHA-512 seed's hex prefix.
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            for secret in ("3132333435363738393031323334353637383930", "12345678901234567890"):
                assert secret not in text, f"key material in {path.relative_to(out)}"


def test_run_with_baseline_gates_on_regressions(tmp_path):
    first = tmp_path / "first"
    assert kplab("run", "--adapter", "reference-otp", "--suite", "otp", "--out", str(first), cwd=tmp_path).returncode == 0
    data = json.loads((first / "results.json").read_text())
    # Pretend the baseline had one case failing: the new run fixes it, which is no regression.
    data["cases"][0]["outcome"] = "fail"
    (first / "results.json").write_text(json.dumps(RunResult.from_json(data).to_json()))
    proc = kplab("run", "--adapter", "reference-otp", "--suite", "otp", "--out", str(tmp_path / "second"),
                 "--baseline", str(first / "results.json"), cwd=tmp_path)
    assert proc.returncode == exitcodes.OK, proc.stdout + proc.stderr
    assert (tmp_path / "second" / "diff.txt").exists()
