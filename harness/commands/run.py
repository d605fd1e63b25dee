"""kplab run: every selected suite against every selected adapter, report under reports/."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness import exitcodes
from harness.errors import UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run suites against adapters and write a report")
    p.add_argument("--adapter", action="append", default=[], metavar="NAME", help="adapter to drive (repeatable; default: all)")
    p.add_argument("--adapter-file", action="append", default=[], metavar="TOML", help="adapter description file (repeatable)")
    p.add_argument("--suite", action="append", default=[], metavar="NAME", help="suite: e.g. pskc.schema, pskc, schema (repeatable; default: all)")
    p.add_argument("--profile", choices=("quick", "full"), default="quick", help="campaign size (default quick)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help="report folder (default reports/<run id>)")
    p.add_argument("--baseline", type=Path, default=None, metavar="FILE", help="results.json of an earlier run: gate on regressions")
    p.add_argument("--xfail", action="append", default=[], metavar="FILE", help="expected-failure file (repeatable)")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="parallel workers (pytest-xdist)")
    p.add_argument("--reveal-secrets", action="store_true", help="keep key material in evidence (default: fingerprints)")
    p.add_argument("--progress", choices=("auto", "rich", "plain", "off"), default="auto", help="live progress (default auto)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from harness.runner import RunRequest, execute

    if args.jobs < 1:
        raise UsageError(f"-j must be at least 1, not {args.jobs}")
    outcome = execute(
        RunRequest(
            adapters=args.adapter,
            adapter_files=args.adapter_file,
            suites=args.suite,
            profile=args.profile,
            out=args.out,
            baseline=args.baseline,
            xfail_files=args.xfail,
            jobs=args.jobs,
            reveal_secrets=args.reveal_secrets,
            progress=args.progress,
        )
    )
    print(outcome.summary)
    print(f"report: {outcome.report_dir / 'html' / 'index.html'}")
    print(f"results: {outcome.report_dir / 'results.json'}")
    print(f"exit {outcome.exit_code}: {exitcodes.DESCRIPTIONS[outcome.exit_code]}")
    return outcome.exit_code
