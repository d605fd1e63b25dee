"""kplab serve SERVER: run a reference server on loopback (or where --host says).

Each server lives in its own module with ``add_parser(servers)`` (which sets
``serve_run``); SERVER_MODULES lists them, and a module not written yet is skipped,
so ``kplab serve`` lists exactly the servers this installation has.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from harness import exitcodes

SERVER_MODULES = ("harness.commands.serve_dskpp", "harness.commands.serve_kmip")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run a reference server (DSKPP over HTTP, KMIP over mutual TLS)",
                       description="Run one of the lab's reference servers until interrupted.")
    servers = p.add_subparsers(dest="server", metavar="SERVER", parser_class=type(p))
    for name in SERVER_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.add_parser(servers)
    p.set_defaults(func=run, serve_run=None, serve_parser=p)


def run(args: argparse.Namespace) -> int:
    if args.serve_run is None:
        args.serve_parser.print_help(sys.stderr)
        return exitcodes.USAGE
    return int(args.serve_run(args))
