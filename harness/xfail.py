"""Expected-failure files: known breaks of an adapter, so CI gates only on new ones.

Format (TOML), one file per adapter::

    adapter = "python-pskc"

    [[xfail]]
    case = "pskc.interop/roundtrip[*consumer=python-pskc*]"   # exact id, or * and ? wildcards
    reason = "writes ResponseFormat without Encoding"
    match = "Encoding"          # optional regex the failure reason must match

Semantics (applied to cases the adapter takes part in):
* the case FAILs and an entry's ``match`` is absent or matches the reason -> XFAIL;
* it FAILs and no entry's ``match`` fits -> stays FAIL (the known break changed shape);
* it PASSes and an entry without ``match`` applies -> XPASS, which counts against the run
  (the entry is stale).  An entry with ``match`` is conditional ("if it fails like this,
  that is known") and lets a pass stand, so broad patterns can cover a family of cases;
* ERROR, SKIP and UNSUPPORTED are left as they are.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError
from harness.results import Outcome


@dataclass(frozen=True)
class ExpectedFailure:
    adapter: str
    case: str
    reason: str
    match: re.Pattern[str] | None
    source: str

    def applies_to(self, case_id: str, adapters: set[str]) -> bool:
        return self.adapter in adapters and (case_id == self.case or _wildcard(self.case).fullmatch(case_id) is not None)


def _wildcard(pattern: str) -> re.Pattern[str]:
    """Only * and ? are wildcards: case ids are full of [ ] that fnmatch would misread."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern))


def load(path: str | Path) -> list[ExpectedFailure]:
    path = Path(path)
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("expected-failure file not found", where=where) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read expected-failure file: {exc}", where=where) from None
    adapter = data.get("adapter")
    if not isinstance(adapter, str) or not adapter:
        raise ConfigError("missing 'adapter = \"NAME\"'", where=where)
    entries = data.get("xfail", [])
    if not isinstance(entries, list):
        raise ConfigError("'xfail' must be an array of tables ([[xfail]])", where=where)
    out = []
    for index, entry in enumerate(entries):
        at = f"{where}: xfail[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("case"), str) or not isinstance(entry.get("reason"), str):
            raise ConfigError("each entry needs case = \"...\" and reason = \"...\"", where=at)
        pattern = entry.get("match")
        try:
            compiled = re.compile(pattern) if isinstance(pattern, str) else None
        except re.error as exc:
            raise ConfigError(f"match is not a valid regular expression: {exc}", where=at) from None
        out.append(ExpectedFailure(adapter, entry["case"], entry["reason"], compiled, at))
    return out


def apply(
    entries: list[ExpectedFailure], case_id: str, adapters: set[str], outcome: Outcome, reason: str
) -> tuple[Outcome, str, str | None]:
    """The outcome after expected failures; returns (outcome, reason, xfail reason)."""
    applicable = [e for e in entries if e.applies_to(case_id, adapters)]
    if not applicable:
        return outcome, reason, None
    if outcome is Outcome.FAIL:
        for entry in applicable:
            if entry.match is None or entry.match.search(reason):
                return Outcome.XFAIL, reason, entry.reason
        patterns = ", ".join(f"/{e.match.pattern}/" for e in applicable if e.match is not None)
        return Outcome.FAIL, f"{reason} [no expected-failure pattern matched: {patterns}]", applicable[0].reason
    if outcome is Outcome.PASS:
        unconditional = [e for e in applicable if e.match is None]
        if unconditional:
            return Outcome.XPASS, f"passed, but expected to fail: {unconditional[0].reason}", unconditional[0].reason
    return outcome, reason, None
