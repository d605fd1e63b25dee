"""Exit statuses of kplab, the contract CI pipelines gate on (docs/ci.md).

Worse wins: FAILURES beats HARNESS beats OK.  USAGE is decided before any case runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.results import Level, Outcome, RunResult

if TYPE_CHECKING:
    from harness.reports.diff import RunDiff

OK = 0
FAILURES = 1  # conformance failures in a run, or regressions in a diff / baseline comparison
USAGE = 2  # bad arguments, missing or invalid input files
HARNESS = 3  # the run completed, some cases are ERROR (the lab failed), nothing worse

# A case outcome that is a finding against an implementation (any requirement level:
# accept known failures with an expected-failure entry, which turns them into xfail).
FAILING = frozenset({Outcome.FAIL, Outcome.XPASS})

DESCRIPTIONS = {
    OK: "ok",
    FAILURES: "conformance failures or regressions",
    USAGE: "usage error or invalid input",
    HARNESS: "harness errors (some cases could not be judged), no failures",
}


def for_run(run: RunResult) -> int:
    """``kplab run`` without a baseline: FAILURES if any MUST/SHOULD/MAY case fails or
    xpasses (INFO cases record observations, e.g. disagreement with a peer, and never
    gate), else HARNESS if any case is ERROR, else OK."""
    outcomes = {case.outcome for case in run.cases if case.level is not Level.INFO or case.outcome is Outcome.ERROR}
    if outcomes & FAILING:
        return FAILURES
    if Outcome.ERROR in outcomes:
        return HARNESS
    return OK


def for_diff(diff: "RunDiff") -> int:
    """``kplab diff`` / ``kplab run --baseline``: judge only what got worse.

    FAILURES if a case now fails/xpasses that did not fail/xpass in the base run: a
    regression, a new case, or a neutral change such as skip -> fail.  Otherwise HARNESS
    if a case is now ERROR that was not ERROR before (a regression pass -> error is a
    broken adapter or lab, not non-conformance).  Otherwise OK: failures and errors the
    baseline already had are accepted.
    """
    current = [c for c in diff.regressions + diff.new_cases + diff.neutral if c.level is not Level.INFO or c.new is Outcome.ERROR]
    if any(c.new in FAILING and c.base not in FAILING for c in current):
        return FAILURES
    if any(c.new is Outcome.ERROR and c.base is not Outcome.ERROR for c in current):
        return HARNESS
    return OK


__all__ = ["FAILURES", "HARNESS", "OK", "USAGE", "DESCRIPTIONS", "for_diff", "for_run"]
