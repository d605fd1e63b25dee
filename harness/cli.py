"""The ``kplab`` command.

Each command lives in a module with ``add_parser(subparsers)`` (which sets
``func=run``) and ``run(args) -> int``; COMMAND_MODULES lists them.  Errors reach the user
as one line, never a traceback (set KPLAB_DEBUG=1 to see one); exit codes are those of
harness.exitcodes.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

from harness import __version__, exitcodes
from harness.errors import HarnessError, InputError, KplabError, ProtocolError, UsageError

COMMAND_MODULES = (
    "harness.commands.adapters",
    "harness.commands.run",
    "harness.commands.diff",
    "harness.commands.report",
    "harness.commands.pskc",
    "harness.commands.dskpp",
    "harness.commands.serve",
    "harness.commands.bench",
)


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line and exit code USAGE."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(exitcodes.USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kplab", description="keyprov-lab: conformance and interop lab for symmetric-key provisioning")
    parser.add_argument("--version", action="version", version=f"kplab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # a command whose module has not been written yet
            raise
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return exitcodes.USAGE
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("kplab: interrupted", file=sys.stderr)
        return 130
    except (UsageError, InputError, ProtocolError) as exc:
        print(f"kplab: error: {exc}", file=sys.stderr)
        return exitcodes.USAGE
    except HarnessError as exc:
        print(f"kplab: harness error: {exc}", file=sys.stderr)
        return exitcodes.HARNESS
    except KplabError as exc:
        print(f"kplab: error: {exc}", file=sys.stderr)
        return exitcodes.HARNESS
    except Exception as exc:  # noqa: BLE001 - the user gets a line, not a traceback
        if os.environ.get("KPLAB_DEBUG"):
            raise
        print(f"kplab: internal error: {type(exc).__name__}: {exc} (rerun with KPLAB_DEBUG=1 for details)", file=sys.stderr)
        return exitcodes.HARNESS


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
