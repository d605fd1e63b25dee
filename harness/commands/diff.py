"""kplab diff BASE.json NEW.json: what changed between two runs; exit code for CI."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness import exitcodes


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("diff", help="compare two results.json files (regressions, fixes, new, vanished)")
    p.add_argument("base", type=Path, metavar="BASE.json")
    p.add_argument("new", type=Path, metavar="NEW.json")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from harness.reports.diff import diff_runs, format_diff
    from harness.reports.json_report import load_results

    diff = diff_runs(load_results(args.base), load_results(args.new))
    print(format_diff(diff))
    code = exitcodes.for_diff(diff)
    print(f"exit {code}: {exitcodes.DESCRIPTIONS[code]}")
    return code
