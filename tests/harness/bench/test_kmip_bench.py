"""harness/bench/kmip.py: the KMIP benchmark's figures, ratio and output (not timing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness import exitcodes
from harness.bench.kmip import KmipBenchResult, render_kmip, round_trip_rate, run_kmip_bench
from harness.vectors import shared_dir

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def kmip_vectors() -> Path:
    base = shared_dir()
    path = base / "vectors-thirdparty" / "kmip" if base is not None else None
    if path is None or not path.is_dir():
        pytest.skip("needs ../shared/vectors-thirdparty/kmip (OASIS KMIP test cases, not part of the project)")
    return path


def test_round_trip_rate_is_one_encode_plus_one_decode_per_message() -> None:
    # 2 msg/s each way: 0.5 s + 0.5 s per message -> 1 msg/s; 1 and 3 msg/s: 1 s + 1/3 s -> 0.75.
    assert round_trip_rate(2.0, 2.0) == pytest.approx(1.0)
    assert round_trip_rate(1.0, 3.0) == pytest.approx(0.75)


def test_kmip_bench_figures_for_both_codecs(kmip_vectors: Path) -> None:
    pytest.importorskip("kmip.core.messages")
    ticks = iter(range(100_000))
    # Injected clock, one tick per pass: every rate is exactly 2 passes x 5 messages / 2 ticks.
    result = run_kmip_bench(root=kmip_vectors, min_seconds=2, limit=5, rounds=1, clock=lambda: float(next(ticks)))
    assert result.figures.ours.messages == result.figures.pykmip.messages == 5
    assert result.ours_round_trip == pytest.approx(2.5) and result.theirs_round_trip == pytest.approx(2.5)
    assert result.ratio == pytest.approx(1.0) and result.target_met is False and not result.targets_met
    figures = result.as_dict()
    assert set(figures) >= {"ours", "pykmip", "ours_round_trip_per_second", "pykmip_round_trip_per_second",
                            "ratio", "target_ratio", "target_met", "encode_speedup", "decode_speedup", "note"}
    assert figures["target_ratio"] == 3.0
    json.dumps(figures)
    text = render_kmip(result)
    assert "encode+decode msg/s" in text and "ratio ours/PyKMIP (encode+decode): 1.00x" in text and "NOT met" in text


def test_kmip_bench_without_pykmip_reports_ours_only() -> None:
    from reference.kmip.bench import BenchResult, CodecFigures

    ours = CodecFigures("ours", 10, 2000, 100.0, 300.0, 0.02, 0.06)
    result = KmipBenchResult(BenchResult(ours, None, 0, "PyKMIP not installed: only our codec measured"))
    assert result.ours_round_trip == pytest.approx(75.0)
    assert result.ratio is None and result.target_met is None and result.targets_met
    text = render_kmip(result)
    assert "PyKMIP not installed" in text and "ratio" not in text
    assert result.as_dict()["pykmip_round_trip_per_second"] is None


def test_cli_bench_kmip_table(kmip_vectors: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "bench", "kmip", "--vectors", str(kmip_vectors), "--min-seconds",
         "0.02", "--limit", "5", "--rounds", "1", "--quiet"],
        capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == exitcodes.OK, proc.stderr
    assert "KMIP TTLV codec: 5 OASIS KMIP 1.4 messages" in proc.stdout and "encode+decode" in proc.stdout


def test_cli_bench_kmip_missing_vectors_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "bench", "kmip", "--vectors", str(tmp_path / "none"), "--quiet"],
        capture_output=True, text=True, timeout=60, cwd=REPO)
    assert proc.returncode == exitcodes.USAGE
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_best_of_rounds_keeps_the_fastest_figure_of_each_codec() -> None:
    from harness.bench.kmip import _best_of
    from reference.kmip.bench import BenchResult, CodecFigures

    def run(enc: float, dec: float, their_enc: float, their_dec: float) -> BenchResult:
        return BenchResult(CodecFigures("ours", 4, 400, enc, dec, 0, 0),
                           CodecFigures("pykmip", 4, 400, their_enc, their_dec, 0, 0), 1, "n")

    best = _best_of([run(10, 40, 2, 9), run(30, 20, 5, 3)])
    assert (best.ours.encode_per_second, best.ours.decode_per_second) == (30, 40)
    assert (best.pykmip.encode_per_second, best.pykmip.decode_per_second) == (5, 9)
    assert best.ours.encode_mb_per_second == pytest.approx(30 * 100 / 1e6)  # 100 bytes per message
    assert "best of 2 rounds" in best.note
