"""HTTP/1.1 binding of the DSKPP server (RFC 6063 §7.2): a thin starlette app.

All protocol work is the sans-IO ``DskppServer``'s; this module only maps HTTP to it:

* POST with Content-Type application/dskpp+xml (§7.2.1, §7.2.3) -> ``handle(body)``;
  the engine answers 200 with a DSKPP document, possibly carrying an error status
  (§7.2.4 "Whenever the HTTP POST is successfully invoked ... MUST use the 200 status"),
  or 400 when the body is not a DSKPP client message (§7.2.4).
* Another media type is not a DSKPP message by §7.2.1's identification: 400 (D-24 in
  docs/dskpp-interpretations.md); ``strict_content_type=False`` relaxes it.
* Other methods: 405 (HTTP's own rule; §7.2.3 maps requests to POST only).
* A body over the size limit is not read past limit + 1 octets: the engine's limit check
  refuses it with MalformedRequest in a well-formed response, without buffering the rest.
* An exception escaping the engine (it is built never to raise) is the "DSKPP processor
  reports an internal error" case: 500 (§7.2.4).
* Response headers per §7.2.2: Cache-Control "no-cache, no-must-revalidate, private",
  Pragma "no-cache", no validators (no ETag, no Last-Modified).

Every request is logged as one line (status, session, reason); reasons never carry key
material (the engine's contract).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from harness.errors import HarnessError
from reference.dskpp.messages import MEDIA_TYPE
from reference.dskpp.safexml import DEFAULT_LIMITS

LOG = logging.getLogger("kplab.dskpp.server")
RESPONSE_HEADERS = {"Cache-Control": "no-cache, no-must-revalidate, private", "Pragma": "no-cache"}  # §7.2.2


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


async def _read_limited(request: Request, limit: int) -> bytes:
    """At most ``limit + 1`` octets of the body: enough for the engine to see it is too big."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    return b"".join(chunks)[: limit + 1]


def create_app(
    server: Any,
    *,
    path: str = "/",
    max_body: int = DEFAULT_LIMITS.max_bytes,
    strict_content_type: bool = True,
    logger: logging.Logger = LOG,
) -> Starlette:
    """The ASGI app serving ``server`` (a ``reference.dskpp.server.DskppServer``) at ``path``."""

    def plain(status: int, reason: str, peer: str) -> Response:
        logger.info("dskpp %s http=%d reason=%s", peer, status, reason)
        return Response(b"", status_code=status, headers=RESPONSE_HEADERS)

    async def endpoint(request: Request) -> Response:
        peer = f"{request.client.host}:{request.client.port}" if request.client else "-"
        if strict_content_type and _media_type(request.headers.get("content-type")) != MEDIA_TYPE:
            return plain(400, f"content type is not {MEDIA_TYPE} (RFC 6063 §7.2.1)", peer)
        try:
            body = await _read_limited(request, max_body)
        except ClientDisconnect:
            return plain(400, "client disconnected before the body was complete", peer)
        try:
            # On the event loop, one request at a time: the engine shares lxml parsers and
            # schema objects that are not safe across threads (a thread pool gave sporadic
            # 500s under concurrent clients).  The cost is that a provisioning's fsync (D-25)
            # holds other clients for its duration.
            outcome = server.handle(body)
        except Exception as exc:  # noqa: BLE001 - §7.2.4 internal error, never a traceback to the peer
            logger.error("dskpp %s http=500 internal error %s", peer, type(exc).__name__)
            return Response(b"", status_code=500, headers=RESPONSE_HEADERS)
        status = outcome.status.value if outcome.status is not None else "-"
        logger.info("dskpp %s http=%d status=%s session=%s reason=%s%s", peer, outcome.http_status, status,
                    outcome.session_id or "-", outcome.reason,
                    f" key={outcome.provisioned.key_id} {outcome.provisioned.fingerprint}" if outcome.provisioned else "")
        if outcome.http_status != 200:
            return Response(b"", status_code=outcome.http_status, headers=RESPONSE_HEADERS)
        return Response(outcome.body, status_code=200, media_type=outcome.content_type, headers=RESPONSE_HEADERS)

    return Starlette(routes=[Route(path, endpoint, methods=["POST"])])


class ServerThread:
    """Serve an app with uvicorn in a background thread on a loopback port (tests, bench, CLI).

    The socket is bound at construction, so ``url`` is known before the app exists (the
    DSKPP server needs it: URL_S enters the AD MAC, RFC 6063 §3.4.1.2); give the app
    then or set ``app`` before ``start()``.  ``port=0`` takes a free port.
    """

    def __init__(self, app: Starlette | None = None, *, host: str = "127.0.0.1", port: int = 0, path: str = "/",
                 log_level: str = "warning", startup_timeout_s: float = 20.0) -> None:
        self.app, self.host, self.path = app, host, path
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind((host, port))
        except OSError as exc:
            self._sock.close()
            raise HarnessError(f"cannot listen on {host}:{port}: {exc.strerror}", where="kplab serve dskpp") from None
        self.port = int(self._sock.getsockname()[1])
        self._log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread = threading.Thread(target=self._run, name=f"dskpp-http-{self.port}", daemon=True)
        self._timeout = startup_timeout_s

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{self.path}"

    def _run(self) -> None:
        assert self._server is not None
        self._server.run(sockets=[self._sock])

    def start(self) -> "ServerThread":
        if self.app is None:
            raise HarnessError("no app to serve", where=self.url)
        config = uvicorn.Config(self.app, log_level=self._log_level, access_log=False, lifespan="off",
                                timeout_keep_alive=30)
        self._server = uvicorn.Server(config)
        self._thread.start()
        deadline = time.monotonic() + self._timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise HarnessError("the DSKPP HTTP server did not start", where=self.url)
            time.sleep(0.01)
        return self

    def wait(self) -> None:
        """Block until the server stops; SIGTERM and SIGINT stop it (main thread only)."""
        import signal

        def _stop(*_: object) -> None:
            raise KeyboardInterrupt

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _stop)
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> "ServerThread":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
