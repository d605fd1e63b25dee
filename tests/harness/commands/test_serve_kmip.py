"""kplab serve kmip (harness/commands/serve_kmip.py): listens, persists, stops, errs in one line."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

from harness import tlscerts
from reference.kmip.client import KmipClient

LINE = re.compile(r"listening on kmip\+tls://127\.0\.0\.1:(\d+)")


def _start(*args: str) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "serve", "kmip", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    m = LINE.search(line)
    assert m, f"no listening line: {line!r} / {proc.stderr.read() if proc.poll() is not None else ''}"
    return proc, int(m.group(1))


def _stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=10)


def test_serves_persists_and_stops_on_sigterm(tmp_path):
    certs_dir, db = tmp_path / "certs", tmp_path / "objects.sqlite"
    proc, port = _start("--certs", str(certs_dir), "--db", str(db))
    certs = tlscerts.CertPaths.in_folder(certs_dir)
    assert certs.complete()  # generated because the folder was empty
    try:
        with KmipClient.connect("127.0.0.1", port, ca=certs.ca, cert=certs.client_cert, key=certs.client_key) as c:
            uid = c.create("AES", 128, usage_mask=12, name="persisted")
    finally:
        assert _stop(proc) == 0
    proc, port = _start("--certs", str(certs_dir), "--db", str(db))  # same certificates, same database
    try:
        with KmipClient.connect("127.0.0.1", port, ca=certs.ca, cert=certs.client_cert, key=certs.client_key) as c:
            assert c.locate([("Name", "persisted")]) == [uid]
    finally:
        _stop(proc)


def test_bad_arguments_are_one_line_errors(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    for args in (["--certs", str(blocker / "sub")], ["--port", "70000"]):
        done = subprocess.run([sys.executable, "-m", "harness.cli", "serve", "kmip", *args], capture_output=True,
                              text=True, timeout=30)
        assert done.returncode == 2
        assert done.stderr.startswith("kplab: error:") and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
