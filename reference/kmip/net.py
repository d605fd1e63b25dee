"""KMIP over mutual TLS: a threaded server around the sans-IO engine, and a client connection.

KMIP 1.4 §8 / 2.1 §13 (and the Profiles' TLS authentication suites): TTLV messages over
TLS, the client authenticated by its certificate.  Both sides here use TLS 1.2 or newer
and require the peer's certificate to chain to the given CA.

Framing: a message is one TTLV item, so a reader takes the 8-byte header, then the
declared length (padded to a multiple of 8).  The server answers every message it can
frame; bytes it cannot frame (an unknown item type, a length over the limit) get an
Invalid Message answer and that connection is closed - "TTLV connections should be closed
as future requests might not be correctly separated" (2.1 §11.46, Codec Error) - while the
server keeps serving every other connection.  Nothing here logs message contents.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import ssl
import threading
from pathlib import Path

from harness.errors import HarnessError, ProtocolError
from reference.kmip.ttlv import item_length

LOG = logging.getLogger("reference.kmip.net")
HEADER = 8
DEFAULT_MAX_MESSAGE = 16 * 1024 * 1024
LOOPBACK = "127.0.0.1"


class KmipConnectionClosed(HarnessError):
    """The peer closed the connection (or the TLS session broke) before a whole item came."""


class KmipConnectionTimeout(HarnessError):
    """No (complete) item within the time limit."""


def server_context(cert: str | Path, key: str | Path, ca: str | Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: a client certificate is required
    ctx.load_cert_chain(str(cert), str(key))
    ctx.load_verify_locations(str(ca))
    return ctx


def client_context(ca: str | Path, cert: str | Path | None = None, key: str | Path | None = None,
                   *, check_hostname: bool = False) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = check_hostname  # the lab connects by IP; the chain is still verified
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(str(ca))
    if cert is not None:
        ctx.load_cert_chain(str(cert), str(key) if key is not None else None)
    return ctx


def _recv_exactly(sock: socket.socket, n: int) -> bytes | None:
    """``n`` bytes, or None when the peer closes first (possibly after some bytes)."""
    chunks = bytearray()
    while len(chunks) < n:
        chunk = sock.recv(min(n - len(chunks), 65536))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def read_item(sock: socket.socket, max_size: int = DEFAULT_MAX_MESSAGE) -> bytes | None:
    """One whole TTLV item from ``sock``; None on a clean close before any byte.

    Raises :class:`KmipConnectionClosed` for a close mid-item, ``socket.timeout`` when the
    socket's timeout expires, and ProtocolError (Invalid Message) for an unframeable header.
    """
    header = _recv_exactly(sock, HEADER)
    if header is None:
        return None
    total = item_length(header)
    if total > max_size:
        raise ProtocolError(f"item of {total} bytes exceeds the {max_size}-byte limit", status="Invalid Message",
                            spec="KMIP 1.4 §11.1")
    rest = _recv_exactly(sock, total - HEADER)
    if rest is None:
        raise KmipConnectionClosed(f"connection closed inside an item ({total} bytes announced)")
    return header + rest


# ----------------------------------------------------------------------------- server
class _Handler(socketserver.BaseRequestHandler):
    server: KmipTlsServer

    def handle(self) -> None:
        raw: socket.socket = self.request
        peer = f"{self.client_address[0]}:{self.client_address[1]}"
        raw.settimeout(self.server.handshake_timeout)
        try:
            conn = self.server.ssl_context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            LOG.info("%s: TLS handshake failed: %s", peer, exc)
            return
        cn = _peer_cn(conn)
        LOG.info("%s: connected (client certificate CN=%s, %s)", peer, cn, conn.version())
        conn.settimeout(self.server.idle_timeout)
        try:
            while not self.server.stopping.is_set():
                try:
                    request = read_item(conn, self.server.max_message)
                except ProtocolError as exc:
                    # Cannot find where this message ends: answer it, then drop the connection.
                    LOG.info("%s: unframeable input (%s); closing the connection", peer, exc.message)
                    conn.sendall(self.server.answer(b""))
                    return
                if request is None:
                    LOG.info("%s: closed by client", peer)
                    return
                response = self.server.answer(request)
                LOG.info("%s: request %d bytes -> response %d bytes", peer, len(request), len(response))
                conn.sendall(response)
        except KmipConnectionClosed as exc:
            LOG.info("%s: %s", peer, exc.message)
        except socket.timeout:
            LOG.info("%s: idle for %ss; closing", peer, self.server.idle_timeout)
        except (ssl.SSLError, OSError) as exc:
            LOG.info("%s: connection error: %s", peer, exc)
        finally:
            try:
                conn.close()
            except OSError:
                pass


def _peer_cn(conn: ssl.SSLSocket) -> str:
    cert = conn.getpeercert() or {}
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return "?"


class KmipTlsServer(socketserver.ThreadingTCPServer):
    """A mutual-TLS KMIP server calling ``engine.handle`` for each framed message.

    ``port=0`` picks a free port (see :attr:`port`).  Calls into the engine are
    serialized (one SQLite connection); connections are served in threads.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, engine, cert: str | Path, key: str | Path, ca: str | Path, *, host: str = LOOPBACK,
                 port: int = 0, idle_timeout: float = 300.0, handshake_timeout: float = 10.0,
                 max_message: int = DEFAULT_MAX_MESSAGE) -> None:
        self.engine = engine
        self.ssl_context = server_context(cert, key, ca)
        self.idle_timeout = idle_timeout
        self.handshake_timeout = handshake_timeout
        self.max_message = max_message
        self.stopping = threading.Event()
        self._engine_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        super().__init__((host, port), _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def host(self) -> str:
        return str(self.server_address[0])

    def answer(self, request: bytes) -> bytes:
        with self._engine_lock:
            return self.engine.handle(request)

    def start(self) -> KmipTlsServer:
        """Serve in a background thread (for tests and the harness); returns self."""
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"kmip-tls-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> KmipTlsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ----------------------------------------------------------------------------- client
class TlsConnection:
    """One mutual-TLS client connection exchanging TTLV items."""

    def __init__(self, host: str, port: int, *, ca: str | Path, cert: str | Path | None = None,
                 key: str | Path | None = None, timeout: float = 10.0) -> None:
        self.host, self.port = host, port
        context = client_context(ca, cert, key)
        try:
            raw = socket.create_connection((host, port), timeout=timeout)
        except socket.timeout:
            raise KmipConnectionTimeout(f"connecting to {host}:{port} timed out after {timeout:g}s") from None
        except OSError as exc:
            raise KmipConnectionClosed(f"cannot connect to {host}:{port}: {exc.strerror or exc}") from None
        try:
            self.sock = context.wrap_socket(raw, server_hostname=host)
        except socket.timeout:
            raw.close()
            raise KmipConnectionTimeout(f"TLS handshake with {host}:{port} timed out") from None
        except (ssl.SSLError, OSError) as exc:
            raw.close()
            raise KmipConnectionClosed(f"TLS handshake with {host}:{port} failed: {exc}") from None

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except (ssl.SSLError, OSError) as exc:
            raise KmipConnectionClosed(f"sending to {self.host}:{self.port} failed: {exc}") from None

    def receive(self, timeout: float = 10.0, max_size: int = DEFAULT_MAX_MESSAGE) -> bytes:
        """One whole TTLV item; KmipConnectionClosed / KmipConnectionTimeout otherwise."""
        self.sock.settimeout(timeout)
        try:
            item = read_item(self.sock, max_size)
        except socket.timeout:
            raise KmipConnectionTimeout(f"no complete response from {self.host}:{self.port} within {timeout:g}s") from None
        except (ssl.SSLError, OSError) as exc:
            raise KmipConnectionClosed(f"reading from {self.host}:{self.port} failed: {exc}") from None
        if item is None:
            raise KmipConnectionClosed(f"{self.host}:{self.port} closed the connection without answering")
        return item

    def exchange(self, request: bytes, timeout: float = 10.0) -> bytes:
        self.send(request)
        return self.receive(timeout)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> TlsConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
