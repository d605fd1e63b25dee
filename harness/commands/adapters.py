"""kplab adapters: what is discovered, what it declares, how it answered its probe."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("adapters", help="list adapters with roles, capabilities and probe results")
    p.add_argument("--adapter", action="append", default=[], metavar="NAME", help="only these adapters")
    p.add_argument("--adapter-file", action="append", default=[], metavar="TOML", help="also this description file (repeatable)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from harness.adapters.registry import resolve
    from harness.pool import AdapterPool

    pool = AdapterPool(resolve(args.adapter, args.adapter_file))
    try:
        infos = [pool.info(name) for name in pool.specs]
    finally:
        pool.close()
    if args.json:
        print(json.dumps([asdict(i) for i in infos], indent=1))
        return 0
    for info in infos:
        state = "available" if info.available else f"UNAVAILABLE ({info.unavailable_reason})"
        print(f"{info.name}  [{info.transport}{', third-party' if info.third_party else ', reference'}]  {state}")
        print(f"  version: {info.version or 'unknown'}")
        print(f"  roles: {', '.join(info.roles) or '-'}")
        print(f"  capabilities: {', '.join(info.capabilities) or '-'}")
        print(f"  probe: {info.probe.outcome} - {info.probe.detail}")
    return 0
