"""harness/bench/dskpp.py: the DSKPP benchmark runs real sessions and reports coherent figures.

Not a timing test: a tiny run checks that every session provisioned (no errors), that
the figures hang together, and that the output carries the ratio and its verdict.
"""

from __future__ import annotations

import json

import pytest

from harness import exitcodes
from harness.bench.dskpp import DskppBenchResult, render_dskpp, run_dskpp_bench
from harness.cli import main


def _result(**kw) -> DskppBenchResult:
    base = dict(sessions=10, concurrency=2, encryption="rsa-oaep", mac="prf-aes-128", authenticate=False, seconds=1.0,
                sessions_per_s=400.0, p50_ms=4.0, p99_ms=9.0, errors=0, first_error=None, rsa_ops_per_s=1000.0)
    base.update(kw)
    return DskppBenchResult(**base)


def test_ratio_and_verdict() -> None:
    assert _result().ratio == pytest.approx(0.4) and not _result().targets_met
    assert _result(sessions_per_s=500.0).targets_met
    assert not _result(sessions_per_s=900.0, errors=1).targets_met  # a session that failed voids the figure
    text = render_dskpp(_result(sessions_per_s=500.0))
    assert "ratio sessions/s : RSA ops/s = 0.50" in text and "met" in text


@pytest.fixture(autouse=True)
def short_rsa_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("harness.bench.dskpp.RSA_WINDOW_S", 0.05)


def test_a_small_real_run(tmp_path) -> None:
    result = run_dskpp_bench(sessions=8, concurrency=2, warmup=1)
    assert result.errors == 0, result.first_error
    assert result.sessions_per_s > 0 and result.rsa_ops_per_s > 0
    assert 0 < result.p50_ms <= result.p99_ms
    assert result.sessions_per_s == pytest.approx(8 / result.seconds)


def test_cli_json_output(capsys) -> None:
    code = main(["bench", "dskpp", "--sessions", "4", "--warmup", "1", "--json", "--quiet", "--mac", "prf-sha256",
                 "--encryption", "rsa-1_5"])
    assert code == exitcodes.OK
    figures = json.loads(capsys.readouterr().out)
    assert figures["errors"] == 0 and figures["encryption"] == "rsa-1_5" and figures["mac"] == "prf-sha256"
    assert {"sessions_per_s", "p50_ms", "p99_ms", "rsa_ops_per_s", "ratio", "targets_met"} <= set(figures)


def test_cli_refuses_fewer_sessions_than_clients(capsys) -> None:
    assert main(["bench", "dskpp", "--sessions", "1", "--concurrency", "2"]) == exitcodes.USAGE
