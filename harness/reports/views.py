"""View models of the HTML report: what the templates show, computed without any HTML.

Kept apart from rendering so the grouping rules (matrix rows and columns, pairwise grids,
severity of outcomes) are plain data that tests can check.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field

from harness.results import CaseResult, Level, Outcome, RunResult

# Worst first.  A failure is a finding about the implementation, so it outranks an error
# (which only says the lab could not judge); xpass means a stale expected-failure entry.
SEVERITY = (
    Outcome.FAIL,
    Outcome.XPASS,
    Outcome.ERROR,
    Outcome.XFAIL,
    Outcome.UNSUPPORTED,
    Outcome.SKIP,
    Outcome.PASS,
)
_RANK = {outcome: rank for rank, outcome in enumerate(SEVERITY)}

NO_SUBJECT = ""  # matrix column of cases that judge no adapter
NO_SUBJECT_LABEL = "(no subject)"

# Role names that produce/initiate: they are the rows of a pairwise grid.
_SOURCE_ROLE = re.compile(r"(producer|client|generator|sender|exporter|issuer|writer)$")

_SLUG_UNSAFE = re.compile(r"[^a-z0-9_-]+")  # no dots: no "..", no hidden files
_SLUG_MAX = 80


def worst(outcomes: list[Outcome]) -> Outcome:
    return min(outcomes, key=_RANK.__getitem__)


def is_must_failure(case: CaseResult) -> bool:
    """Same rule as RunResult.must_failures."""
    return case.level is Level.MUST and case.outcome in (Outcome.FAIL, Outcome.XPASS)


def case_slug(case_id: str) -> str:
    """Filesystem-safe, lower-case file stem for a case id; the hash suffix keeps ids that
    differ only in dropped characters or case apart (case-insensitive filesystems too)."""
    readable = _SLUG_UNSAFE.sub("-", case_id.lower()).strip("-")[:_SLUG_MAX].rstrip("-")
    digest = hashlib.sha256(case_id.encode("utf-8")).hexdigest()[:12]
    return f"{readable or 'case'}-{digest}"


def assign_slugs(cases: list[CaseResult]) -> list[str]:
    """One unique slug per case, in case order (a duplicate id gets a counter)."""
    slugs: list[str] = []
    taken: set[str] = set()
    for case in cases:
        slug = base = case_slug(case.id)
        counter = 1
        while slug in taken:
            counter += 1
            slug = f"{base}-{counter}"
        taken.add(slug)
        slugs.append(slug)
    return slugs


@dataclass(frozen=True)
class CellEntry:
    case: CaseResult
    href: str
    must_fail: bool


@dataclass(frozen=True)
class MatrixRow:
    key: str  # CaseResult.base_id
    label: str  # base_id without the "<suite>/" prefix
    levels: str
    spec: str
    cells: tuple[tuple[CellEntry, ...], ...]  # aligned with Matrix.columns; () = no case
    all_good: bool


@dataclass(frozen=True)
class MatrixGroup:
    suite: str
    rows: tuple[MatrixRow, ...]


@dataclass(frozen=True)
class Column:
    key: str  # adapter name, or NO_SUBJECT
    label: str
    third_party: bool | None  # None: not among the run's adapters


@dataclass(frozen=True)
class Matrix:
    columns: tuple[Column, ...]
    groups: tuple[MatrixGroup, ...]


def build_matrix(run: RunResult, hrefs: list[str]) -> Matrix:
    """Rows: base_id grouped by suite (both sorted); columns: subject adapters, our
    reference implementations first, then third parties, each by name."""
    declared = {a.name: a for a in run.adapters}
    subjects = {c.subject if c.subject is not None else NO_SUBJECT for c in run.cases}

    def column_order(name: str) -> tuple[int, str]:
        if name == NO_SUBJECT:
            return (3, name)
        if name not in declared:
            return (2, name)
        return (1 if declared[name].third_party else 0, name)

    columns = tuple(
        Column(
            key=name,
            label=name or NO_SUBJECT_LABEL,
            third_party=declared[name].third_party if name in declared else None,
        )
        for name in sorted(subjects, key=column_order)
    )
    position = {col.key: i for i, col in enumerate(columns)}
    table: dict[str, dict[str, list[CellEntry]]] = defaultdict(lambda: defaultdict(list))
    for case, href in zip(run.cases, hrefs):
        table[case.suite][case.base_id].append(CellEntry(case, href, is_must_failure(case)))
    groups = []
    for suite in sorted(table):
        rows = []
        for key in sorted(table[suite]):
            entries = table[suite][key]
            cells: list[list[CellEntry]] = [[] for _ in columns]
            for entry in entries:
                column = entry.case.subject if entry.case.subject is not None else NO_SUBJECT
                cells[position[column]].append(entry)
            prefix = f"{suite}/"
            rows.append(
                MatrixRow(
                    key=key,
                    label=key[len(prefix):] if key.startswith(prefix) else key,
                    levels="/".join(sorted({e.case.level.value for e in entries}, key=_level_order)),
                    spec="; ".join(sorted({e.case.spec for e in entries if e.case.spec})),
                    cells=tuple(tuple(sorted(c, key=lambda e: e.case.id)) for c in cells),
                    all_good=all(e.case.outcome.is_good for e in entries),
                )
            )
        groups.append(MatrixGroup(suite, tuple(rows)))
    return Matrix(columns, tuple(groups))


def _level_order(level: str) -> int:
    return [lvl.value for lvl in Level].index(level)


@dataclass(frozen=True)
class PairCell:
    passed: int
    total: int
    worst: Outcome
    worst_href: str  # page of the first case with the worst outcome
    must_fail: bool


@dataclass(frozen=True)
class PairGrid:
    suite: str
    row_role: str
    column_role: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: dict[tuple[str, str], PairCell] = field(hash=False)

    def cell(self, row: str, column: str) -> PairCell | None:
        return self.cells.get((row, column))


def pair_roles(roles: list[str]) -> tuple[str, str]:
    """(row role, column role): the producing/initiating side is the row."""
    first, second = sorted(roles, key=lambda r: (not _SOURCE_ROLE.search(r), r))
    return first, second


def build_pairwise(run: RunResult, hrefs: list[str]) -> tuple[PairGrid, ...]:
    """Grids for cases that involve exactly two roles, one grid per (suite, role pair).

    ``passed`` counts outcome pass only; ``total`` counts every case of the pair.
    """
    buckets: dict[tuple[str, str, str], dict[tuple[str, str], list[tuple[CaseResult, str]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for case, href in zip(run.cases, hrefs):
        if len(case.adapters) != 2:
            continue
        row_role, column_role = pair_roles(list(case.adapters))
        pair = (case.adapters[row_role], case.adapters[column_role])
        buckets[(case.suite, row_role, column_role)][pair].append((case, href))
    grids = []
    for (suite, row_role, column_role), pairs in sorted(buckets.items()):
        cells = {}
        for pair, items in pairs.items():
            bad = worst([c.outcome for c, _ in items])
            cells[pair] = PairCell(
                passed=sum(1 for c, _ in items if c.outcome is Outcome.PASS),
                total=len(items),
                worst=bad,
                worst_href=next(h for c, h in sorted(items, key=lambda i: i[0].id) if c.outcome is bad),
                must_fail=any(is_must_failure(c) for c, _ in items),
            )
        grids.append(
            PairGrid(
                suite=suite,
                row_role=row_role,
                column_role=column_role,
                rows=tuple(sorted({r for r, _ in pairs})),
                columns=tuple(sorted({c for _, c in pairs})),
                cells=cells,
            )
        )
    return tuple(grids)


def suite_counts(run: RunResult) -> dict[str, dict[str, int]]:
    """suite -> outcome value -> count (every outcome present), suites sorted."""
    counts: dict[str, dict[str, int]] = {}
    for case in sorted(run.cases, key=lambda c: c.suite):
        per = counts.setdefault(case.suite, {o.value: 0 for o in Outcome})
        per[case.outcome.value] += 1
    return counts
