"""The pytest plugin end to end: a small suite run in a subprocess against doubles.

Each case's expected outcome is stated here from what the double is written to do, so
these tests check the lab's bookkeeping, not values it computed itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.conftest import RFC4226_SECRET_HEX, write_double

SUITE = f'''
from harness.cases import case, require

HOTP0 = {{"secret_hex": "{RFC4226_SECRET_HEX}", "counter": 0, "digits": 6, "algorithm": "sha1"}}

@case("hotp-counter0", spec="RFC 4226 Appendix D", level="MUST")
def test_hotp(otp_generator):
    assert otp_generator.call("otp-generator.hotp", HOTP0)["otp"] == "755224"

@case("ocra-needs-capability", spec="RFC 6287", level="MAY")
def test_ocra(otp_generator):
    require(otp_generator, "otp.ocra")

@case("explicit-fail", spec="RFC 4226 §5", level="SHOULD")
def test_explicit_fail(otp_generator):
    import pytest
    pytest.fail("a verdict by pytest.fail")

@case("whole-answer", spec="RFC 4226 Appendix D", level="MUST")
def test_whole_answer(otp_generator):
    # pytest's explanation of this assert prints the whole answer dict
    assert otp_generator.call("otp-generator.hotp", HOTP0) == {{"otp": "755224"}}

@case("suite-bug", spec="RFC 4226 §5", level="INFO")
def test_suite_bug(otp_generator):
    {{}}["missing"]
'''


def run_suite(tmp_path: Path, modes: list[str], *extra: str) -> tuple[int, dict]:
    suite_dir = tmp_path / "suites" / "demo"
    suite_dir.mkdir(parents=True)
    (suite_dir / "test_otp.py").write_text(SUITE)
    args = [sys.executable, "-m", "pytest", str(suite_dir), "-p", "no:cacheprovider", "-q",
            "--kplab-results", str(tmp_path / "results.json"), "--rootdir", str(tmp_path)]
    for mode in modes:
        args += ["--kplab-adapter-file", str(write_double(tmp_path, mode, timeout=1.0)), "--kplab-adapter", f"double-{mode}"]
    proc = subprocess.run(args + list(extra), capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert (tmp_path / "results.json").exists(), proc.stdout + proc.stderr
    return proc.returncode, json.loads((tmp_path / "results.json").read_text())


def outcomes(results: dict) -> dict[str, tuple[str, str]]:
    return {c["id"]: (c["outcome"], c["reason"]) for c in results["cases"]}


def test_each_misbehaviour_is_recorded_and_the_run_survives(tmp_path):
    modes = ["good", "wrong", "hang", "crash", "garbage", "refuse", "fault", "probe-crash"]
    code, results = run_suite(tmp_path, modes)
    got = outcomes(results)
    hotp = lambda mode: got[f"demo.otp/hotp-counter0[otp_generator=double-{mode}]"]  # noqa: E731
    assert hotp("good")[0] == "pass"
    assert hotp("wrong")[0] == "fail"
    assert hotp("refuse")[0] == "fail" and "refused" in hotp("refuse")[1]
    assert hotp("fault")[0] == "fail" and "KeyError" in hotp("fault")[1]
    assert hotp("hang") == ("error", hotp("hang")[1]) and "AdapterTimeout" in hotp("hang")[1]
    assert hotp("crash")[0] == "error" and "AdapterCrash" in hotp("crash")[1]
    assert hotp("garbage")[0] == "error" and "AdapterGarbage" in hotp("garbage")[1]
    assert hotp("probe-crash")[0] == "error" and "probe" in hotp("probe-crash")[1]
    # Capability not declared -> unsupported, for every adapter that opened.
    assert got["demo.otp/ocra-needs-capability[otp_generator=double-good]"][0] == "unsupported"
    # pytest.fail is a verdict (FAIL); a bug in the suite itself is the lab's ERROR.
    assert got["demo.otp/explicit-fail[otp_generator=double-good]"] == ("fail", "a verdict by pytest.fail")
    assert got["demo.otp/suite-bug[otp_generator=double-good]"][0] == "error"
    probes = {a["name"]: a["probe"]["outcome"] for a in results["adapters"]}
    assert probes["double-good"] == "ok" and probes["double-probe-crash"] == "crash"
    crash_case = next(c for c in results["cases"] if c["id"].endswith("hotp-counter0[otp_generator=double-crash]"))
    assert any(e["kind"] == "stderr" and "simulated crash" in e["content"] for e in crash_case["evidence"])
    assert code == 1  # failures present


def _xfail_file(tmp_path: Path, adapter: str, match: str | None) -> Path:
    path = tmp_path / f"{adapter}.xfail.toml"
    body = f'adapter = "{adapter}"\n[[xfail]]\ncase = "demo.otp/hotp-counter0*"\nreason = "known wrong OTP"\n'
    if match:
        body += f'match = "{match}"\n'
    path.write_text(body)
    return path


@pytest.mark.parametrize(
    "mode, match, expected",
    [
        ("wrong", None, "xfail"),  # fails as expected
        ("wrong", "000000", "xfail"),  # fails with the expected message
        ("wrong", "some other message", "fail"),  # fails differently: stays a failure
        ("good", None, "xpass"),  # passes although listed: counts against the run
        ("good", "000000", "pass"),  # a conditional entry ("if it fails like this") lets a pass stand
    ],
)
def test_expected_failure_semantics(tmp_path, mode, match, expected):
    xfail = _xfail_file(tmp_path, f"double-{mode}", match)
    code, results = run_suite(tmp_path, [mode], "--kplab-xfail", str(xfail), "-k", "test_hotp")
    outcome, reason = outcomes(results)[f"demo.otp/hotp-counter0[otp_generator=double-{mode}]"]
    assert outcome == expected, reason
    assert (code != 0) == (expected in ("fail", "xpass"))


def test_secrets_are_fingerprinted_unless_revealed(tmp_path):
    junit = tmp_path / "junit.xml"
    _, results = run_suite(tmp_path, ["leak"], "--junitxml", str(junit))
    text = json.dumps(results)
    assert RFC4226_SECRET_HEX not in text
    assert "fp:" in text
    # pytest's own failure text (assert explanations) reaches junit.xml: redacted too.
    assert "whole-answer" in text and RFC4226_SECRET_HEX not in junit.read_text()


def test_reveal_secrets_keeps_them(tmp_path):
    _, results = run_suite(tmp_path, ["leak"], "--kplab-reveal-secrets")
    assert RFC4226_SECRET_HEX in json.dumps(results)
