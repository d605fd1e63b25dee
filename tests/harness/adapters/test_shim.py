"""The shim transport against doubles that answer, refuse, hang, crash and talk garbage."""

from __future__ import annotations

import time

import pytest

from harness import evidence
from harness.adapters.registry import load_description, open_adapter
from harness.errors import AdapterCrash, AdapterGarbage, AdapterTimeout, AdapterUnavailable, Fault, Refused, Unsupported
from tests.harness.conftest import RFC4226_SECRET_HEX

HOTP0 = {"secret_hex": RFC4226_SECRET_HEX, "counter": 0, "digits": 6, "algorithm": "sha1"}


def _adapter(double_file, mode, timeout=2.0):
    return open_adapter(load_description(double_file(mode, timeout)))


def test_result_is_returned(double_file):
    adapter = _adapter(double_file, "good")
    try:
        assert adapter.call("otp-generator.hotp", HOTP0) == {"otp": "755224"}
    finally:
        adapter.close()


@pytest.mark.parametrize(
    "mode, error",
    [("refuse", Refused), ("fault", Fault), ("garbage", AdapterGarbage), ("wrongid", AdapterGarbage), ("crash", AdapterCrash)],
)
def test_answers_map_to_typed_errors(double_file, mode, error):
    adapter = _adapter(double_file, mode)
    try:
        with pytest.raises(error):
            adapter.call("otp-generator.hotp", HOTP0)
    finally:
        adapter.close()


def test_unknown_operation_is_unsupported(double_file):
    adapter = _adapter(double_file, "good")
    try:
        with pytest.raises(Unsupported):
            adapter.call("otp-generator.totp", {})
    finally:
        adapter.close()


def test_timeout_kills_and_next_call_restarts(double_file):
    adapter = _adapter(double_file, "hang", timeout=0.5)
    try:
        started = time.monotonic()
        with pytest.raises(AdapterTimeout):
            adapter.call("otp-generator.hotp", HOTP0)
        assert time.monotonic() - started < 5
        # The process was killed; a fresh one answers the next call.
        with pytest.raises(Unsupported):
            adapter.call("otp-generator.totp", {})
    finally:
        adapter.close()


def test_crash_reports_exit_code_and_stderr(double_file):
    adapter = _adapter(double_file, "crash")
    try:
        with pytest.raises(AdapterCrash, match=r"code 3.*simulated crash"):
            adapter.call("otp-generator.hotp", HOTP0)
    finally:
        adapter.close()


def test_stderr_is_kept_as_evidence_of_the_call(double_file):
    adapter = _adapter(double_file, "crash")
    recorder, token = evidence.open_recorder()
    try:
        with pytest.raises(AdapterCrash):
            adapter.call("otp-generator.hotp", HOTP0)
    finally:
        evidence.close_recorder(token)
        adapter.close()
    items, _ = recorder.finish(reveal=False)
    stderr = [e for e in items if e.kind == "stderr"]
    assert stderr and "simulated crash" in stderr[0].content


def test_missing_command_is_unavailable(tmp_path):
    path = tmp_path / "missing.toml"
    path.write_text('name = "m"\nroles = ["otp-generator"]\n[transport]\nkind = "shim"\ncommand = ["/nonexistent/adapter"]\n')
    adapter = open_adapter(load_description(path))
    with pytest.raises(AdapterUnavailable, match="/nonexistent/adapter"):
        adapter.call("otp-generator.hotp", HOTP0)
