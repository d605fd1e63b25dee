"""kplab report RESULTS.json: render the HTML report again from a results file."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="re-render the HTML report of a results.json")
    p.add_argument("results", type=Path, metavar="RESULTS.json")
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help="HTML folder (default: html/ beside the results file)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from harness.reports.html import render_html
    from harness.reports.json_report import load_results

    run_result = load_results(args.results)
    out = args.out or args.results.resolve().parent / "html"
    index = render_html(run_result, out)
    print(f"report: {index}")
    return 0
