"""Serve an in-process implementation over the shim protocol on stdin/stdout.

Third-party Python libraries are driven through this rather than in the lab's own
process: a library that hangs, leaks or segfaults then costs one killed subprocess and an
ERROR outcome, never the run.  Usage in an adapter module::

    if __name__ == "__main__":
        shim_server.serve(MyImplementation())
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from harness.adapters.inprocess import InProcessTransport


def serve(implementation: Any, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    # Whatever the library prints must not corrupt the protocol stream.
    sys.stdout = sys.stderr
    transport = InProcessTransport("shim", implementation, default_timeout_s=None)
    for line in stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            call_id, op, params = request["id"], request["op"], request.get("params", {})
        except (ValueError, KeyError, TypeError):
            print(f"shim: ignoring malformed request line: {line[:200]!r}", file=sys.stderr)
            continue
        answer = transport.request(op, params, None)
        stdout.write(json.dumps({"id": call_id, **answer}) + "\n")
        stdout.flush()
    return 0
