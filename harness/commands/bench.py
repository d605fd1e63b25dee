"""kplab bench BENCH: codec benchmarks against third-party peers, figures and ratios.

Each benchmark is a sub-command registered in BENCHES (``add_<name>(benches)`` sets
``bench_run``); ``kplab bench`` alone lists them.  A benchmark prints a table (or JSON
with ``--json``) and exits 0 whether or not a speed target is met, unless
``--fail-on-miss`` is given (then a missed target exits FAILURES).  Progress notes go to
standard error, so ``--json`` output stays clean.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable

from harness import exitcodes
from harness.errors import InputError


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the figures as JSON (for machines)")
    p.add_argument("--out", type=Path, default=None, metavar="FILE",
                   help="also write the figures as JSON to FILE (whatever is printed)")
    p.add_argument("--fail-on-miss", action="store_true",
                   help=f"exit {exitcodes.FAILURES} when a speed/memory target is missed (default: report only)")
    p.add_argument("--quiet", action="store_true", help="no progress notes on standard error")


def _progress(args: argparse.Namespace) -> Callable[[str], None] | None:
    if args.out is not None and not args.out.parent.is_dir():  # refuse before minutes of measuring
        raise InputError("the folder for --out does not exist", where=str(args.out))
    if args.quiet:
        return None
    return lambda message: print(message, file=sys.stderr, flush=True)


def _finish(args: argparse.Namespace, result: Any, text: str) -> int:
    figures = json.dumps(result.as_dict(), indent=2) + "\n"
    if args.out is not None:
        try:
            args.out.write_text(figures, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write the figures: {exc.strerror}", where=str(args.out)) from None
    if args.json:
        print(figures, end="")
    else:
        print(text)
    if args.fail_on_miss and not result.targets_met:
        return exitcodes.FAILURES
    return exitcodes.OK


# --------------------------------------------------------------------------- pskc
def add_pskc(benches: argparse._SubParsersAction) -> None:
    from harness.bench.pskc import DECODE_ROUNDS
    from harness.bench.pskc_corpus import DEFAULT_ITERATIONS

    p = benches.add_parser(
        "pskc", help="PSKC decode keys/s vs python-pskc (target >= 3x) and streaming peak RSS (target < 200 MB)",
        description="Decode a passphrase-protected, MACed container with reference.pskc and with python-pskc in "
                    "the same run (keys/s and ratio), then stream a large container with iter_keys in a fresh "
                    "process (peak RSS).  Containers are generated once and cached (--cache-dir).")
    p.add_argument("--keys", type=_count, default=10_000, metavar="N",
                   help="keys in the decode comparison container (default 10,000; 0 skips it)")
    p.add_argument("--stream-keys", type=_count, default=1_000_000, metavar="N",
                   help="keys in the streamed container (default 1,000,000; 0 skips it)")
    p.add_argument("--rounds", type=_count, default=DECODE_ROUNDS, metavar="N",
                   help=f"interleaved decode rounds per decoder; the best counts (default {DECODE_ROUNDS})")
    p.add_argument("--iterations", type=_count, default=DEFAULT_ITERATIONS, metavar="N",
                   help=f"PBKDF2 iteration count of the generated containers (default {DEFAULT_ITERATIONS:,})")
    p.add_argument("--cache-dir", type=Path, default=None, metavar="DIR",
                   help="where generated containers are kept (default: <tmp>/kplab-bench)")
    p.add_argument("--no-peer", action="store_true", help="measure our decoder only")
    p.add_argument("--profile", type=Path, default=None, metavar="FILE",
                   help="also profile one decode by our codec (cProfile stats to FILE, top entries to stderr)")
    _common(p)
    p.set_defaults(bench_run=run_pskc)


def run_pskc(args: argparse.Namespace) -> int:
    from harness.bench.pskc import python_pskc_version, render_pskc, run_pskc_bench

    progress = _progress(args)
    if args.profile is not None and not args.profile.parent.is_dir():
        raise InputError("the folder for --profile does not exist", where=str(args.profile))
    if progress is not None and args.keys and not args.no_peer and python_pskc_version() is None:
        progress("python-pskc is not installed: only our decoder is measured")
    result = run_pskc_bench(keys=args.keys, stream_keys=args.stream_keys, rounds=args.rounds,
                            iterations=args.iterations, cache_dir=args.cache_dir, progress=progress,
                            with_peer=not args.no_peer)
    if args.profile is not None and result.decode is not None:
        from harness.bench.pskc import profile_ours

        summary = profile_ours(result.decode.corpus, args.profile)
        print(f"profile of one reference.pskc.decode run written to {args.profile}\n{summary}", file=sys.stderr)
    return _finish(args, result, render_pskc(result))


# --------------------------------------------------------------------------- kmip
def add_kmip(benches: argparse._SubParsersAction) -> None:
    p = benches.add_parser(
        "kmip", help="KMIP TTLV encode+decode msg/s vs PyKMIP (target >= 3x)",
        description="Encode and decode the OASIS KMIP 1.4 test-case messages with reference.kmip.ttlv and with "
                    "PyKMIP in the same run; round-trip throughput of each and the ratio.")
    p.add_argument("--vectors", type=Path, default=None, metavar="DIR",
                   help="OASIS KMIP test-case folder (default ../shared/vectors-thirdparty/kmip)")
    p.add_argument("--min-seconds", type=float, default=0.5, metavar="S",
                   help="CPU seconds per measured figure (default 0.5; four figures)")
    p.add_argument("--limit", type=_count, default=None, metavar="N", help="use only the first N messages")
    p.add_argument("--rounds", type=_count, default=3, metavar="N",
                   help="measuring runs; the best of each figure counts (default 3)")
    _common(p)
    p.set_defaults(bench_run=run_kmip)


def run_kmip(args: argparse.Namespace) -> int:
    from harness.bench.kmip import render_kmip, run_kmip_bench

    progress = _progress(args)
    if progress is not None:
        progress(f"measuring both KMIP codecs, {args.rounds} rounds (about {8 * args.min_seconds * args.rounds:g} "
                 "CPU seconds plus loading the test cases)")
    result = run_kmip_bench(root=args.vectors, min_seconds=args.min_seconds, limit=args.limit or None,
                            rounds=args.rounds)
    return _finish(args, result, render_kmip(result))


# --------------------------------------------------------------------------- dskpp
def add_dskpp(benches: argparse._SubParsersAction) -> None:
    from harness.bench.dskpp import ENCRYPTION, MAC

    p = benches.add_parser(
        "dskpp", help="DSKPP four-pass sessions/s over HTTP vs RSA-2048 ops/s (target >= 50%% at C=2)",
        description="Run N four-pass sessions of the reference client against the reference server (its own "
                    "process, loopback HTTP) with C concurrent client processes; print sessions/s, p50/p99 "
                    "latency and this machine's RSA-2048 private-key ops/s measured in the same run.")
    p.add_argument("--sessions", type=_count, default=2000, metavar="N", help="measured sessions (default 2,000)")
    p.add_argument("--concurrency", "-C", type=_count, default=2, metavar="C", help="client processes (default 2)")
    p.add_argument("--warmup", type=_count, default=20, metavar="N", help="unmeasured sessions per client (default 20)")
    p.add_argument("--encryption", choices=sorted(ENCRYPTION), default="rsa-oaep", help="R_C encryption (default rsa-oaep)")
    p.add_argument("--mac", choices=sorted(MAC), default="prf-aes-128", help="DSKPP-PRF (default prf-aes-128)")
    p.add_argument("--authenticate", action="store_true",
                   help="use authentication codes (PBKDF2 with 100,000 iterations on both sides per session)")
    _common(p)
    p.set_defaults(bench_run=run_dskpp)


def run_dskpp(args: argparse.Namespace) -> int:
    from harness.bench.dskpp import render_dskpp, run_dskpp_bench

    if args.concurrency < 1 or args.sessions < args.concurrency:
        raise InputError("need --concurrency >= 1 and at least one session per client", where="kplab bench dskpp")
    result = run_dskpp_bench(sessions=args.sessions, concurrency=args.concurrency, warmup=args.warmup,
                             encryption=args.encryption, mac=args.mac, authenticate=args.authenticate,
                             progress=_progress(args))
    return _finish(args, result, render_dskpp(result))


# --------------------------------------------------------------------------- command
# name -> adds its parser; later: "timing".
BENCHES: dict[str, Callable[[argparse._SubParsersAction], None]] = {"pskc": add_pskc, "kmip": add_kmip,
                                                                    "dskpp": add_dskpp}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmarks of the reference codecs against their peers (figures, ratios)",
                       description="Benchmarks, not timed tests: each prints its figures and the ratio against "
                                   "the peer measured in the same run.")
    benches = p.add_subparsers(dest="bench", metavar="BENCH")
    for add in BENCHES.values():
        add(benches)
    p.set_defaults(func=run, bench_run=None, bench_parser=p)


def run(args: argparse.Namespace) -> int:
    if args.bench_run is None:
        args.bench_parser.print_help(sys.stderr)
        return exitcodes.USAGE
    return int(args.bench_run(args))
