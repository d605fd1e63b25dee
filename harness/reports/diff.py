"""Comparing two runs case by case (``kplab diff``, ``kplab run --baseline``).

Cases are matched by their stable id.  Every case whose outcome differs, and every case
present in only one run, lands in exactly one category:

* regression: base in {pass, xfail} and new in {fail, error, xpass};
* fix:        base in {fail, error, xpass} and new in {pass, xfail};
* new:        only in the new run;
* vanished:   only in the base run;
* neutral:    any other change of outcome (pass -> skip, fail -> error, skip -> fail, ...).

The exit status of a comparison (which also looks at new and neutral cases that now fail)
is ``harness.exitcodes.for_diff``.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.results import CaseResult, Level, Outcome, RunResult

GOOD_BEFORE = frozenset({Outcome.PASS, Outcome.XFAIL})
BAD = frozenset({Outcome.FAIL, Outcome.ERROR, Outcome.XPASS})


@dataclass(frozen=True)
class CaseChange:
    """One case that differs between the runs; ``base``/``new`` is None where absent."""

    id: str
    suite: str
    level: Level
    base: Outcome | None
    new: Outcome | None
    reason: str = ""  # the new run's reason (the base run's for a vanished case)


@dataclass(frozen=True)
class RunDiff:
    base_run_id: str
    new_run_id: str
    regressions: tuple[CaseChange, ...]
    fixes: tuple[CaseChange, ...]
    new_cases: tuple[CaseChange, ...]
    vanished: tuple[CaseChange, ...]
    neutral: tuple[CaseChange, ...]
    unchanged: int  # cases in both runs with the same outcome

    @property
    def changes(self) -> tuple[CaseChange, ...]:
        return self.regressions + self.fixes + self.new_cases + self.vanished + self.neutral

    @property
    def empty(self) -> bool:
        return not self.changes


def _by_id(run: RunResult, label: str) -> dict[str, CaseResult]:
    cases: dict[str, CaseResult] = {}
    for case in run.cases:
        if case.id in cases:
            raise ValueError(f"{label} run has the case id {case.id!r} twice")
        cases[case.id] = case
    return cases


def diff_runs(base: RunResult, new: RunResult) -> RunDiff:
    """Compare ``new`` against ``base``; each category is sorted by case id."""
    old_cases = _by_id(base, "base")
    new_cases = _by_id(new, "new")
    regressions: list[CaseChange] = []
    fixes: list[CaseChange] = []
    neutral: list[CaseChange] = []
    unchanged = 0
    for case_id in sorted(old_cases.keys() & new_cases.keys()):
        before, after = old_cases[case_id], new_cases[case_id]
        if before.outcome is after.outcome:
            unchanged += 1
            continue
        change = CaseChange(case_id, after.suite, after.level, before.outcome, after.outcome, after.reason)
        if before.outcome in GOOD_BEFORE and after.outcome in BAD:
            regressions.append(change)
        elif before.outcome in BAD and after.outcome in GOOD_BEFORE:
            fixes.append(change)
        else:
            neutral.append(change)
    added = tuple(
        CaseChange(i, c.suite, c.level, None, c.outcome, c.reason)
        for i, c in sorted(new_cases.items())
        if i not in old_cases
    )
    gone = tuple(
        CaseChange(i, c.suite, c.level, c.outcome, None, c.reason)
        for i, c in sorted(old_cases.items())
        if i not in new_cases
    )
    return RunDiff(
        base_run_id=str(base.run.get("id", "?")),
        new_run_id=str(new.run.get("id", "?")),
        regressions=tuple(regressions),
        fixes=tuple(fixes),
        new_cases=added,
        vanished=gone,
        neutral=tuple(neutral),
        unchanged=unchanged,
    )


_LABELS = (
    ("regressions", "REGRESSION"),
    ("fixes", "FIXED"),
    ("new_cases", "NEW"),
    ("vanished", "VANISHED"),
    ("neutral", "CHANGED"),
)


def _outcome(value: Outcome | None) -> str:
    return value.value if value is not None else "-"


def _one_line(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def format_diff(diff: RunDiff) -> str:
    """Human-readable: a header, then one line per change (regressions first)."""
    counts = ", ".join(f"{len(getattr(diff, attr))} {attr.replace('_', ' ')}" for attr, _ in _LABELS)
    lines = [f"diff {diff.base_run_id} -> {diff.new_run_id}: {counts}, {diff.unchanged} unchanged"]
    width = max(len(label) for _, label in _LABELS)
    for attr, label in _LABELS:
        for change in getattr(diff, attr):
            line = f"{label:<{width}}  {change.id}  {_outcome(change.base)} -> {_outcome(change.new)}  ({change.level.value})"
            if change.reason and change.new in BAD:
                line += f"  {_one_line(change.reason)}"
            lines.append(line)
    if diff.empty:
        lines.append("no changes")
    return "\n".join(lines) + "\n"


__all__ = ["CaseChange", "RunDiff", "diff_runs", "format_diff"]
