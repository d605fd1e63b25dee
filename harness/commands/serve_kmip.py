"""kplab serve kmip: the reference KMIP server over mutual TLS.

    kplab serve kmip [--host 127.0.0.1] [--port 5696] [--db FILE] [--certs DIR]

``--certs DIR`` holds ca.pem, server.pem, server-key.pem (and the client pair the lab
uses, see harness/tlscerts.py); missing files are generated.  Without ``--db`` the
objects live in memory.  Prints one line when listening; runs until interrupted.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import tempfile
from pathlib import Path

from harness import exitcodes
from harness.errors import InputError, UsageError

DEFAULT_PORT = 5696  # IANA port for KMIP over TLS (KMIP 1.4 §10 / Profiles)


def add_parser(servers: argparse._SubParsersAction) -> None:
    p = servers.add_parser("kmip", help="reference KMIP server (TTLV over mutual TLS)",
                           description="Serve the reference KMIP server (versions 1.0-2.1) over mutual TLS 1.2+.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any free port)")
    p.add_argument("--db", metavar="FILE", help="SQLite file for the objects (default: in memory)")
    p.add_argument("--certs", metavar="DIR", help="certificate folder (generated when files are missing; "
                                                  "default: a temporary folder)")
    p.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                   help="connection log on stderr (never message contents)")
    p.set_defaults(serve_run=run)


def run(args: argparse.Namespace) -> int:
    from harness import tlscerts
    from reference.kmip.net import KmipTlsServer
    from reference.kmip.server import KmipServerEngine
    from reference.kmip.store import ObjectStore

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be 0..65535, not {args.port}")
    logging.basicConfig(level=getattr(logging, args.log_level), stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    folder = Path(args.certs) if args.certs else Path(tempfile.mkdtemp(prefix="kplab-kmip-certs-"))
    certs = tlscerts.ensure(folder)
    store = ObjectStore(args.db or ":memory:")
    engine = KmipServerEngine(store)
    try:
        server = KmipTlsServer(engine, certs.server_cert, certs.server_key, certs.ca, host=args.host, port=args.port)
    except OSError as exc:
        raise InputError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    except Exception as exc:  # ssl errors loading the certificates
        raise InputError(f"cannot use the certificates in {folder}: {exc}") from None

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"kplab: KMIP server listening on kmip+tls://{server.host}:{server.port} "
          f"(certificates in {folder}, database {args.db or ':memory:'})", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        store.close()
    return exitcodes.OK
