"""Network endpoint transport: the URL of a server under test.

The lab talks the real protocol to ``url`` (the role clients do that, e.g. the DSKPP
suites post application/dskpp+xml, the KMIP suites speak TTLV over mutual TLS).
Optionally the harness starts the server with ``start``; substituted in ``url``,
``ready`` and ``start``:

* ``{host}`` / ``{port}``: loopback and a free port (chosen when ``url`` has ``{port}``);
* ``{workdir}``: a private temporary folder for the server (config, database), removed
  when the endpoint closes;
* ``{certs}``: a folder inside it with a fresh test PKI (``harness.tlscerts``: CA, server
  and client certificates); :attr:`Endpoint.certs` keeps the paths for the client side.

Readiness: an ``http(s)://`` target is polled with GET; any other URL (``kmip+tls://host:
port``) is ready when a TCP connection to host:port succeeds.  The server's output is
kept (:meth:`Endpoint.log_tail`) as evidence.  Operations of the JSON protocol are not
spoken here: a network adapter answers every one of them "unsupported".
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from harness import evidence
from harness.adapters.base import EndpointTransportSpec
from harness.errors import AdapterCrash, AdapterUnavailable

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class Endpoint:
    def __init__(self, adapter: str, spec: EndpointTransportSpec) -> None:
        self.adapter = adapter
        self.spec = spec
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()
        port = free_port() if "{port}" in spec.url else None
        templates = [spec.url, spec.ready or "", *(spec.start or ())]
        self.workdir: Path | None = None
        self.certs: Any = None  # harness.tlscerts.CertPaths when {certs} is used
        if any("{workdir}" in t or "{certs}" in t for t in templates):
            self.workdir = Path(tempfile.mkdtemp(prefix=f"kplab-{adapter}-"))
        if any("{certs}" in t for t in templates):
            from harness import tlscerts

            assert self.workdir is not None
            self.certs = tlscerts.generate(self.workdir / "certs")
        fill = {"host": LOOPBACK, "port": str(port or ""), "workdir": str(self.workdir or ""),
                "certs": str(self.certs.folder) if self.certs is not None else ""}
        self.url = spec.url.format(**fill)
        self.ready_url = spec.ready.format(**fill) if spec.ready else None
        self.start_command = [part.format(**fill) for part in spec.start] if spec.start else None

    def start(self) -> None:
        if self.start_command and self._proc is None:
            try:
                self._proc = subprocess.Popen(
                    self.start_command, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
                )
            except OSError as exc:
                raise AdapterUnavailable(f"cannot start server {self.start_command[0]!r}: {exc}", adapter=self.adapter) from exc
        self.wait_ready()

    def wait_ready(self) -> None:
        target = self.ready_url or self.url
        deadline = time.monotonic() + self.spec.ready_timeout_s
        last = ""
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise AdapterCrash(f"server exited with code {self._proc.returncode} before it was ready: {self.log_tail()}", adapter=self.adapter)
            try:
                self._probe(target)
                return
            except (httpx.HTTPError, OSError) as exc:
                last = str(exc)
            time.sleep(0.1)
        raise AdapterUnavailable(f"{target} not ready after {self.spec.ready_timeout_s:g}s: {last}", adapter=self.adapter)

    @staticmethod
    def _probe(target: str) -> None:
        if target.startswith(("http://", "https://")):
            httpx.get(target, timeout=1.0)
            return
        parts = urlsplit(target)  # e.g. kmip+tls://127.0.0.1:5696: ready when it accepts TCP
        if not parts.hostname or not parts.port:
            raise OSError(f"cannot probe {target!r}: no host:port")
        with socket.create_connection((parts.hostname, parts.port), timeout=1.0):
            pass

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) of ``url``."""
        parts = urlsplit(self.url)
        return parts.hostname or LOOPBACK, int(parts.port or 0)

    def log_tail(self, limit: int = 4000) -> str:
        self._log.flush()
        self._log.seek(0, os.SEEK_END)
        size = self._log.tell()
        self._log.seek(max(0, size - limit))
        return self._log.read().decode("utf-8", "replace")

    def attach_log(self) -> None:
        tail = self.log_tail()
        if tail:
            evidence.attach("stderr", f"{self.adapter} server log", tail)

    def request(self, op: str, params: dict[str, Any], timeout_s: float | None) -> dict[str, Any]:
        return {"unsupported": "network endpoints speak their protocol, not JSON operations"}

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=5)
            except (ProcessLookupError, PermissionError, subprocess.TimeoutExpired):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        self._log.close()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
