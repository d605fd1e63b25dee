"""The process whose memory is measured: stream-decode one PSKC file, report as JSON.

Run by ``harness.bench.pskc.run_stream`` as ``python -m harness.bench.pskc_stream_child
PATH [--progress]`` in a fresh interpreter, so the peak RSS it reports (its own VmHWM,
read from /proc/self/status) belongs to the streaming decoder alone and not to the
parent, which may hold python-pskc's whole-document tree of an earlier measurement.

The passphrase comes on standard input (never argv, which ``ps`` shows).  Output: one
JSON line on standard output, with ``error`` set instead of the figures on failure.
"""

from __future__ import annotations

import json
import sys
import time


def main(argv: list[str]) -> int:
    if len(argv) < 1:
        print(json.dumps({"error": "usage: pskc_stream_child PATH [--progress]"}))
        return 2
    path, progress = argv[0], "--progress" in argv[1:]
    password = sys.stdin.readline().rstrip("\n")

    from harness.bench.measure import current_rss_mb, peak_rss_mb
    from harness.bench.pskc_corpus import SecretsDigest
    from harness.errors import KplabError
    from reference.pskc import PlainValue, iter_keys

    rss_before = current_rss_mb()  # interpreter + imports, before the first byte is read
    digest = SecretsDigest()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        for package in iter_keys(path, password=password):
            secret = package.key.data.secret if package.key and package.key.data else None
            if not isinstance(secret, PlainValue) or not isinstance(secret.value, bytes):
                raise KplabError(f"key package {digest.count + 1} has no decrypted secret")
            digest.update(secret.value)
            if progress and digest.count % 100_000 == 0:
                print(f"  streamed {digest.count:,} keys", file=sys.stderr, flush=True)
    except (KplabError, OSError) as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}", "keys": digest.count}))
        return 1
    print(json.dumps({
        "keys": digest.count,
        "secrets_sha256": digest.hexdigest(),
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
