"""Live progress of a run: per-suite counts of pass / fail / error / other.

On a terminal a rich live table; elsewhere (CI logs, pipes) plain lines: one for every
failing or erroring case as it happens and a per-suite summary every few seconds and at
the end, so a log shows progress without a line per passing case.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from typing import TextIO

from harness.results import CaseResult, Outcome

PLAIN_INTERVAL_S = 10.0


class _Counts:
    def __init__(self) -> None:
        self.by_suite: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, case: CaseResult) -> None:
        bucket = case.outcome.value if case.outcome in (Outcome.PASS, Outcome.FAIL, Outcome.ERROR) else "other"
        self.by_suite[case.suite][bucket] += 1

    def line(self, suite: str) -> str:
        c = self.by_suite[suite]
        return f"{suite}: {c['pass']} passed, {c['fail']} failed, {c['error']} error, {c['other']} other"


class PlainProgress:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.counts = _Counts()
        self._last = time.monotonic()

    def update(self, case: CaseResult) -> None:
        self.counts.add(case)
        if case.outcome in (Outcome.FAIL, Outcome.ERROR, Outcome.XPASS):
            print(f"{case.outcome.value.upper():5} {case.id}: {case.reason[:200]}", file=self.stream, flush=True)
        if time.monotonic() - self._last >= PLAIN_INTERVAL_S:
            self._summary()

    def _summary(self) -> None:
        self._last = time.monotonic()
        for suite in sorted(self.counts.by_suite):
            print("  " + self.counts.line(suite), file=self.stream, flush=True)

    def finish(self) -> None:
        self._summary()


class RichProgress:
    def __init__(self) -> None:
        from rich.console import Console
        from rich.live import Live

        self.counts = _Counts()
        self.console = Console(stderr=True)
        self.live = Live(self._table(), console=self.console, refresh_per_second=4, transient=False)
        self.live.start()

    def _table(self):  # type: ignore[no-untyped-def]
        from rich.table import Table

        table = Table(title="keyprov-lab run", expand=False)
        for column, style in (("suite", ""), ("pass", "green"), ("fail", "red"), ("error", "magenta"), ("other", "dim")):
            table.add_column(column, style=style, justify="left" if column == "suite" else "right")
        for suite in sorted(self.counts.by_suite):
            c = self.counts.by_suite[suite]
            table.add_row(suite, str(c["pass"]), str(c["fail"]), str(c["error"]), str(c["other"]))
        return table

    def update(self, case: CaseResult) -> None:
        self.counts.add(case)
        self.live.update(self._table())

    def finish(self) -> None:
        self.live.update(self._table())
        self.live.stop()


def make_progress(mode: str) -> PlainProgress | RichProgress:
    if mode == "rich" or (mode == "auto" and sys.stderr.isatty()):
        return RichProgress()
    return PlainProgress()
