"""kplab serve dskpp: the reference DSKPP server (RFC 6063) over HTTP (§7.2).

State lives in a SQLite file (--db; a temporary in-memory store when absent): issued
authentication codes, open sessions, used nonces, provisioned keys.  The policy (enabled
variants, algorithms, keys, AC iteration count, session timeout, readings) comes from
--config (see reference/dskpp/config.py); without an RSA key in it the server makes an
RSA-2048 key for this run and prints its fingerprint.  One log line per request goes to
standard error (or --log-file); key material never does.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import secrets
import sys
from datetime import datetime, timezone
from pathlib import Path

from harness import exitcodes
from harness.errors import UsageError
from harness.redaction import fingerprint


def add_parser(servers: argparse._SubParsersAction) -> None:
    p = servers.add_parser("dskpp", help="the reference DSKPP server over HTTP", description=__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8080, help="TCP port (default 8080; 0 picks a free one)")
    p.add_argument("--path", default="/", help="URL path of the DSKPP service (default /)")
    p.add_argument("--db", type=Path, default=None, metavar="FILE", help="SQLite store (default: in memory, lost on exit)")
    p.add_argument("--config", type=Path, default=None, metavar="FILE", help="policy TOML file")
    p.add_argument("--log-file", type=Path, default=None, metavar="FILE", help="request log (default: standard error)")
    p.add_argument("--ready-file", type=Path, default=None, metavar="FILE",
                   help="write the service URL to FILE once listening (for harness start commands)")
    p.set_defaults(serve_run=run)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (0-65535)")
    return value


def load_policy(config: Path | None):
    """The configured policy, with a fresh RSA-2048 key when the config names none."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from reference.dskpp.config import load_policy as _load
    from reference.dskpp.policy import ServerPolicy

    policy = _load(config) if config is not None else ServerPolicy()
    if policy.rsa_private_key is None:
        policy = dataclasses.replace(policy, rsa_private_key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return policy


def open_server(db: Path | None, config: Path | None, *, url: str | None = None):
    """(DskppServer, store) for the CLI: system clock and randomness.

    ``url``: the URL this server is reached at; added to the policy's URL_S values
    (RFC 6063 §3.4.1.2: the AD MAC covers the URL the client used) and put first, so
    triggers name it, unless the config lists its own.
    """
    from reference.dskpp.server import DskppServer
    from reference.dskpp.store_sqlite import MEMORY, SqliteServerStore

    if db is not None and not db.parent.is_dir():
        raise UsageError("the folder for --db does not exist", where=str(db))
    policy = load_policy(config)
    if url is not None and url not in policy.server_urls:
        configured = config is not None and "server_urls" in _config_keys(config)
        urls = (*policy.server_urls, url) if configured else (url,)
        policy = dataclasses.replace(policy, server_urls=urls)
    store = SqliteServerStore(db if db is not None else MEMORY)
    server = DskppServer(policy, store, clock=lambda: datetime.now(timezone.utc), random=secrets.token_bytes)
    return server, store


def _config_keys(config: Path) -> set[str]:
    import tomllib

    try:
        return set(tomllib.loads(config.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return set()


def run(args: argparse.Namespace) -> int:
    from reference.dskpp.http_server import LOG, ServerThread, create_app

    if args.log_file is not None and not args.log_file.parent.is_dir():
        raise UsageError("the folder for --log-file does not exist", where=str(args.log_file))
    thread = ServerThread(host=args.host, port=args.port, path=args.path)
    server, store = open_server(args.db, args.config, url=thread.url)
    thread.app = create_app(server, path=args.path)
    handler = logging.FileHandler(args.log_file) if args.log_file else logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    LOG.addHandler(handler)
    LOG.setLevel(logging.INFO)
    key = server.policy.rsa_private_key.public_key()
    from cryptography.hazmat.primitives import serialization

    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    with thread:
        print(f"kplab: DSKPP server listening on {thread.url} (store {store.path}, "
              f"server RSA key {fingerprint(spki)})", flush=True)
        if args.ready_file is not None:
            tmp = args.ready_file.with_name(args.ready_file.name + ".tmp")
            tmp.write_text(thread.url + "\n", encoding="utf-8")
            os.replace(tmp, args.ready_file)
        try:
            thread.wait()
        except KeyboardInterrupt:
            pass
    store.close()
    return exitcodes.OK
