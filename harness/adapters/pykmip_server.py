"""Launcher for PyKMIP 0.11's server as a harness-started endpoint.

    python -m harness.adapters.pykmip_server --port N --certs DIR --workdir DIR [--host H]

Writes ``DIR/server.conf`` (hostname, port, certificate_path, key_path, ca_path,
auth_suite=TLS1.2, enable_tls_client_auth=True, policy_path = an empty folder,
database_path and logging_level), then runs ``pykmip-server -f server.conf -l server.log``
as a child and copies server.log to stdout, so the endpoint keeps it as evidence.

Why a child and not exec: PyKMIP's SIGTERM handler only ends its accept loop after the
10 s socket timeout and then joins every thread for up to 10 s each; the harness stops
servers with SIGTERM.  This launcher answers SIGTERM by killing its process group at once.
Found by running it (Python 3.11, cryptography 48): PyKMIP accepts EC P-256 certificates
with auth_suite TLS1.2 (its suite lists ECDHE-ECDSA ciphers); ``-l`` needs an absolute path.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path


def write_config(workdir: Path, certs: Path, host: str, port: int) -> Path:
    policies = workdir / "policies"
    policies.mkdir(parents=True, exist_ok=True)
    conf = workdir / "server.conf"
    conf.write_text(
        "[server]\n"
        f"hostname={host}\n"
        f"port={port}\n"
        f"certificate_path={certs / 'server.pem'}\n"
        f"key_path={certs / 'server-key.pem'}\n"
        f"ca_path={certs / 'ca.pem'}\n"
        "auth_suite=TLS1.2\n"
        "enable_tls_client_auth=True\n"
        f"policy_path={policies}\n"
        f"database_path={workdir / 'pykmip.database'}\n"
        "logging_level=INFO\n",
        encoding="utf-8",
    )
    return conf


def server_command(conf: Path, log: Path) -> list[str]:
    script = shutil.which("pykmip-server")
    if script:
        return [script, "-f", str(conf), "-l", str(log)]
    # Same interpreter, same entry point as the console script.
    return [sys.executable, "-c", "import sys; from kmip.services.server.server import main; sys.exit(main())",
            "-f", str(conf), "-l", str(log)]


def _copy_log(path: Path, stop: threading.Event) -> None:
    """Follow server.log into stdout (the endpoint's evidence file)."""
    while not path.exists() and not stop.is_set():
        time.sleep(0.05)
    if stop.is_set():
        return
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        while not stop.is_set():
            line = fh.readline()
            if line:
                sys.stdout.write(line)
                sys.stdout.flush()
            else:
                time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m harness.adapters.pykmip_server")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--certs", required=True, type=Path)
    p.add_argument("--workdir", required=True, type=Path)
    args = p.parse_args(argv)
    workdir = args.workdir.resolve()
    conf = write_config(workdir, args.certs.resolve(), args.host, args.port)
    log = workdir / "server.log"
    child = subprocess.Popen(server_command(conf, log), stdout=sys.stdout, stderr=sys.stderr)

    def terminate(signum: int, frame: object) -> None:
        # Started by the harness we lead our own process group: take PyKMIP's helper
        # processes (multiprocessing manager, policy monitor) down with us.  Run by hand,
        # only the child we started.
        try:
            if os.getpgrp() == os.getpid():
                os.killpg(os.getpgrp(), signal.SIGKILL)
            child.kill()
        finally:
            os._exit(0)

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)
    stop = threading.Event()
    threading.Thread(target=_copy_log, args=(log, stop), daemon=True).start()
    code = child.wait()
    time.sleep(0.2)  # let the log copier catch the last lines
    stop.set()
    print(f"pykmip-server exited with code {code}", file=sys.stderr, flush=True)
    return code or 1


if __name__ == "__main__":
    sys.exit(main())
