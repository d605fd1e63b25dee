"""reference/kmip/bench.py: a smoke run (not a timing assertion)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reference.kmip.bench import run_benchmark


def test_benchmark_returns_figures_for_both_codecs(kmip_vectors_dir: Path) -> None:
    pytest.importorskip("kmip.core.messages")
    ticks = iter(range(10_000))
    result = run_benchmark(root=kmip_vectors_dir, min_seconds=3, limit=5, clock=lambda: float(next(ticks)))
    # Injected clock: one tick per pass, so exactly 3 passes over 5 messages per figure.
    assert result.ours.messages == result.pykmip.messages == 5
    assert result.ours.encode_per_second == result.ours.decode_per_second == 5.0
    assert result.pykmip.encode_per_second == 5.0
    assert result.ours.total_bytes == result.pykmip.total_bytes > 0
    assert result.skipped > 0 and "PyKMIP cannot round-trip" in result.note
    figures = result.as_dict()
    assert figures["encode_speedup"] == 1.0 and set(figures["ours"]) >= {"encode_per_second", "decode_mb_per_second"}
