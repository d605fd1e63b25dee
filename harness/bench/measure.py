"""Clocks, memory figures and plain-text tables shared by the benchmarks.

Both wall-clock and process CPU time are taken for every measured run.  The lab machines
are shared (2 cores, other jobs running), so wall time is inflated by whatever else runs;
CPU time of this single-threaded process is what the codecs cost, which is why the verdicts
use it.  Each side is measured over several interleaved rounds and the best round is kept
(noise only ever adds time).
"""

from __future__ import annotations

import gc
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence, TypeVar

T = TypeVar("T")
MB = 1024 * 1024  # peak RSS is reported in MiB, as the kernel counts pages


@dataclass(frozen=True)
class Timing:
    wall_s: float
    cpu_s: float


def timed(run: Callable[[], T]) -> tuple[Timing, T]:
    """Run once after a full collection (so garbage of an earlier run is not billed here)."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return Timing(time.perf_counter() - wall, time.process_time() - cpu), result


def best(timings: Sequence[Timing]) -> Timing:
    """The fastest round of each clock (noise on a shared machine only adds time)."""
    return Timing(min(t.wall_s for t in timings), min(t.cpu_s for t in timings))


def proc_status_kb(field: str, status: Path = Path("/proc/self/status")) -> int | None:
    """A ``kB`` figure of /proc/self/status (Linux), e.g. VmHWM (peak RSS) or VmRSS."""
    try:
        for line in status.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB: VmHWM, else getrusage's ru_maxrss."""
    kb = proc_status_kb("VmHWM")
    if kb is not None:
        return kb / 1024
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / MB if sys.platform == "darwin" else maxrss / 1024  # bytes on macOS, KiB elsewhere


def current_rss_mb() -> float | None:
    kb = proc_status_kb("VmRSS")
    return kb / 1024 if kb is not None else None


def render_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in cells[1:]])


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
