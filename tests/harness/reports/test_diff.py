from __future__ import annotations

import pytest

from harness import exitcodes
from harness.reports.diff import CaseChange, diff_runs, format_diff
from harness.results import Level, Outcome, RunResult

from .conftest import case, run_meta

P, F, E = Outcome.PASS, Outcome.FAIL, Outcome.ERROR
XF, XP, SK, UN = Outcome.XFAIL, Outcome.XPASS, Outcome.SKIP, Outcome.UNSUPPORTED


def run(run_id: str, outcomes: dict[str, Outcome]) -> RunResult:
    return RunResult(run=run_meta(run_id), cases=[case("s", name, o) for name, o in outcomes.items()])


# Base and new runs, and the diff they must give, written out by hand.
BASE = {
    "a": P, "b": XF, "c": P,  # -> regressions
    "d": F, "e": E, "f": XP,  # -> fixes
    "g": P,  # unchanged
    "h": P, "i": F, "j": SK, "k": P,  # -> neutral
    "m": P,  # vanished
}
NEW = {
    "a": F, "b": E, "c": XP,
    "d": P, "e": XF, "f": P,
    "g": P,
    "h": SK, "i": E, "j": F, "k": XF,
    "l": F,  # new
}


def change(name, base, new):
    return CaseChange(f"s/{name}", "s", Level.MUST, base, new)


def test_every_category():
    diff = diff_runs(run("base", BASE), run("new", NEW))
    strip = lambda changes: tuple(CaseChange(c.id, c.suite, c.level, c.base, c.new) for c in changes)  # noqa: E731
    assert strip(diff.regressions) == (change("a", P, F), change("b", XF, E), change("c", P, XP))
    assert strip(diff.fixes) == (change("d", F, P), change("e", E, XF), change("f", XP, P))
    assert strip(diff.new_cases) == (change("l", None, F),)
    assert strip(diff.vanished) == (change("m", P, None),)
    assert strip(diff.neutral) == (change("h", P, SK), change("i", F, E), change("j", SK, F), change("k", P, XF))
    assert diff.unchanged == 1
    assert (diff.base_run_id, diff.new_run_id) == ("base", "new")


def test_format_diff_one_line_per_change():
    text = format_diff(diff_runs(run("base", BASE), run("new", NEW)))
    lines = text.splitlines()
    assert lines[0] == "diff base -> new: 3 regressions, 3 fixes, 1 new cases, 1 vanished, 4 neutral, 1 unchanged"
    body = [" ".join(line.split()) for line in lines[1:]]
    assert body == [
        "REGRESSION s/a pass -> fail (MUST)",
        "REGRESSION s/b xfail -> error (MUST)",
        "REGRESSION s/c pass -> xpass (MUST)",
        "FIXED s/d fail -> pass (MUST)",
        "FIXED s/e error -> xfail (MUST)",
        "FIXED s/f xpass -> pass (MUST)",
        "NEW s/l - -> fail (MUST)",
        "VANISHED s/m pass -> - (MUST)",
        "CHANGED s/h pass -> skip (MUST)",
        "CHANGED s/i fail -> error (MUST)",
        "CHANGED s/j skip -> fail (MUST)",
        "CHANGED s/k pass -> xfail (MUST)",
    ]


def test_format_diff_shows_reason_of_bad_outcomes_on_one_line():
    base = RunResult(run=run_meta("b"), cases=[case("s", "a", P)])
    new = RunResult(run=run_meta("n"), cases=[case("s", "a", F, reason="MAC\nmismatch")])
    assert format_diff(diff_runs(base, new)).splitlines()[1].endswith("(MUST)  MAC mismatch")


def test_identical_runs_have_empty_diff():
    diff = diff_runs(run("b", BASE), run("n", BASE))
    assert diff.empty and diff.unchanged == len(BASE)
    assert format_diff(diff).splitlines()[-1] == "no changes"
    assert exitcodes.for_diff(diff) == exitcodes.OK


def test_duplicate_case_id_is_refused():
    dup = RunResult(run=run_meta(), cases=[case("s", "a", P), case("s", "a", F)])
    with pytest.raises(ValueError, match="twice"):
        diff_runs(dup, run("n", {"a": P}))


def test_exit_code_values():
    assert (exitcodes.OK, exitcodes.FAILURES, exitcodes.USAGE, exitcodes.HARNESS) == (0, 1, 2, 3)


@pytest.mark.parametrize(
    "outcomes, expected",
    [
        ([P, SK, UN, XF], exitcodes.OK),
        ([], exitcodes.OK),
        ([P, E], exitcodes.HARNESS),
        ([P, E, F], exitcodes.FAILURES),
        ([P, XP], exitcodes.FAILURES),
    ],
)
def test_exit_status_of_a_run(outcomes, expected):
    assert exitcodes.for_run(run("r", {str(i): o for i, o in enumerate(outcomes)})) == expected


@pytest.mark.parametrize(
    "base, new, expected",
    [
        ({"a": P}, {"a": F}, exitcodes.FAILURES),  # regression to fail
        ({"a": P}, {"a": E}, exitcodes.HARNESS),  # regression to error only: the lab broke
        ({"a": P, "b": P}, {"a": E, "b": XP}, exitcodes.FAILURES),  # worse wins
        ({"a": F}, {"a": F}, exitcodes.OK),  # failure the baseline already had
        ({"a": E}, {"a": E}, exitcodes.OK),  # error the baseline already had
        ({"a": F}, {"a": E}, exitcodes.HARNESS),  # neutral, but a new error
        ({"a": SK}, {"a": F}, exitcodes.FAILURES),  # neutral, but a new failure
        ({"a": F}, {"a": XP}, exitcodes.OK),  # still failing, not newly
        ({}, {"a": F}, exitcodes.FAILURES),  # new case failing
        ({}, {"a": P}, exitcodes.OK),
        ({"a": F}, {}, exitcodes.OK),  # vanished
        ({"a": F}, {"a": P}, exitcodes.OK),  # fix
    ],
)
def test_exit_status_of_a_comparison(base, new, expected):
    assert exitcodes.for_diff(diff_runs(run("b", base), run("n", new))) == expected
