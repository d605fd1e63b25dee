"""kplab dskpp issue-ac|trigger|provision|keys: the reference DSKPP engine (RFC 6063) on the command line.

* ``issue-ac --client-id ID --db FILE``: a fresh authentication code (§3.2.1) stored in
  the server's database (the same file ``kplab serve dskpp --db`` uses) and printed.
* ``trigger --client-id ID --db FILE``: a <KeyProvTrigger> (§4.2.1) for a fresh AC,
  printed or written with -o (the AC is issued in the same step).
* ``provision URL --ac AC``: run the reference client against a DSKPP server over
  HTTP (§7.2); the key goes into the token store (--token-db) only after the server's
  key confirmation MAC verified; prints the key's id, algorithm and fingerprint (the
  secret only with --reveal-secret).
* ``keys --token-db FILE`` (or ``--db FILE``): the keys a token store (or a server
  store) holds, by fingerprint.

Exit codes: 0 done; 1 the server refused (its DSKPP status is printed) or the exchange
failed a check (wrong MAC, malformed answer); 2 bad arguments or files; 3 the server
could not be reached.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness import exitcodes
from harness.errors import InputError, ProtocolError, UsageError
from harness.redaction import fingerprint

VARIANTS = ("four-pass", "two-pass")
PROTECTIONS = ("key-transport", "key-wrap", "passphrase")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dskpp", help="issue ACs, emit triggers, provision keys with the reference DSKPP engine",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(func=_no_action, dskpp_parser=p)
    actions = p.add_subparsers(dest="dskpp_command", metavar="ACTION", parser_class=type(p))

    a = actions.add_parser("issue-ac", help="issue and print a fresh authentication code")
    _server_options(a)
    a.add_argument("--json", action="store_true", help="print {client_id, authentication_code} as JSON")
    a.set_defaults(func=run_issue_ac)

    t = actions.add_parser("trigger", help="issue an AC and emit a <KeyProvTrigger> carrying its AuthenticationData")
    _server_options(t)
    t.add_argument("--server-url", default=None, help="<ServerUrl> to put in the trigger")
    t.add_argument("--key-id", default=None, metavar="ID", help="<KeyID> of a key to renew")
    t.add_argument("-o", "--output", type=Path, default=None, metavar="FILE", help="write here (default: stdout)")
    t.set_defaults(func=run_trigger)

    v = actions.add_parser("provision", help="provision a key from a DSKPP server into a token store")
    v.add_argument("url", help="the DSKPP server's URL")
    v.add_argument("--ac", default=None, metavar="AC", help="authentication code (§3.2.1), as issued")
    v.add_argument("--trigger", type=Path, default=None, metavar="FILE", help="a <KeyProvTrigger> to start from")
    v.add_argument("--variant", choices=VARIANTS, default="four-pass")
    v.add_argument("--protection", choices=PROTECTIONS, default=None, help="two-pass key protection (default key-transport)")
    v.add_argument("--shared-key", default=None, metavar="HEX", help="pre-shared key K_SHARED (hex)")
    v.add_argument("--shared-key-name", default=None, metavar="NAME", help="its ds:KeyName on the server")
    v.add_argument("--passphrase", default=None, metavar="P", help="passphrase for passphrase-based key wrap")
    v.add_argument("--client-key", type=Path, default=None, metavar="PEM",
                   help="device RSA private key for two-pass key transport (default: a fresh one)")
    v.add_argument("--renew", default=None, metavar="KEY_ID", help="renew this key of the token store")
    v.add_argument("--token-db", type=Path, default=None, metavar="FILE", help="token store (default: in memory)")
    v.add_argument("--timeout", type=float, default=30.0, metavar="S", help="HTTP timeout per message (default 30)")
    v.add_argument("--json", action="store_true", help="print the result as JSON")
    v.add_argument("--reveal-secret", action="store_true", help="also print the provisioned key (hex)")
    v.set_defaults(func=run_provision)

    k = actions.add_parser("keys", help="list the keys of a token store or a server store (fingerprints)")
    group = k.add_mutually_exclusive_group(required=True)
    group.add_argument("--token-db", type=Path, default=None, metavar="FILE")
    group.add_argument("--db", type=Path, default=None, metavar="FILE")
    k.add_argument("--json", action="store_true")
    k.set_defaults(func=run_keys)


def _server_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--client-id", required=True, metavar="ID", help="AC->ClientID (hex digits, §3.2.1)")
    p.add_argument("--db", type=Path, required=True, metavar="FILE", help="the server's SQLite store")
    p.add_argument("--config", type=Path, default=None, metavar="FILE", help="server policy TOML")


def _no_action(args: argparse.Namespace) -> int:
    args.dskpp_parser.print_help(sys.stderr)
    return exitcodes.USAGE


def _server(args: argparse.Namespace):
    from harness.commands.serve_dskpp import open_server

    return open_server(args.db, args.config)


def run_issue_ac(args: argparse.Namespace) -> int:
    server, store = _server(args)
    try:
        code = server.issue_authentication_code(args.client_id)
    finally:
        store.close()
    print(json.dumps({"client_id": args.client_id, "authentication_code": code}) if args.json else code)
    return exitcodes.OK


def run_trigger(args: argparse.Namespace) -> int:
    server, store = _server(args)
    try:
        server.issue_authentication_code(args.client_id)
        key_id = args.key_id.encode("utf-8") if args.key_id else None
        document = server.trigger(client_id=args.client_id, server_url=args.server_url, key_id=key_id)
    finally:
        store.close()
    if args.output is None:
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
    else:
        _write_atomically(args.output, document)
    return exitcodes.OK


def _write_atomically(path: Path, data: bytes) -> None:
    if not path.parent.is_dir():
        raise UsageError("the folder does not exist", where=str(path))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write: {exc.strerror}", where=str(path)) from None


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the {what}: {exc.strerror}", where=str(path)) from None


def client_config(args: argparse.Namespace):
    """ClientConfig from the provision options; every mistake is a UsageError naming the option."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from reference.dskpp.client import ClientConfig

    # URL_S of the AD MAC is the URL the client contacts (RFC 6063 §3.4.1.2, reading D-5).
    kw: dict[str, Any] = {"variant": args.variant, "authentication_code": args.ac, "renew_key_id": args.renew,
                          "server_url": args.url}
    if args.variant == "four-pass" and (args.protection or args.passphrase or args.client_key):
        raise UsageError("--protection, --passphrase and --client-key belong to --variant two-pass", where="provision")
    if args.shared_key is not None:
        try:
            kw["shared_key"] = bytes.fromhex(args.shared_key)
        except ValueError:
            raise UsageError("not hex", where="--shared-key") from None
        if len(kw["shared_key"]) not in (16, 24, 32):
            raise UsageError("a pre-shared key is 16, 24 or 32 octets", where="--shared-key")
        kw["shared_key_name"] = args.shared_key_name
    if args.variant == "two-pass":
        protection = args.protection or "key-transport"
        kw["protection"] = protection
        if protection == "key-wrap" and args.shared_key is None:
            raise UsageError("key-wrap needs --shared-key (and usually --shared-key-name)", where="provision")
        if protection == "passphrase":
            if not args.passphrase:
                raise UsageError("passphrase protection needs --passphrase", where="provision")
            kw["passphrase"] = args.passphrase
        if protection == "key-transport":
            if args.client_key is not None:
                try:
                    key = serialization.load_pem_private_key(_read_bytes(args.client_key, "client key"), password=None)
                except (ValueError, TypeError):
                    raise UsageError("not an unencrypted PEM private key", where=str(args.client_key)) from None
                if not isinstance(key, rsa.RSAPrivateKey):
                    raise UsageError("not an RSA key", where=str(args.client_key))
            else:
                key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            kw["rsa_private_key"] = key
    return ClientConfig(**kw)


def run_provision(args: argparse.Namespace) -> int:
    from reference.dskpp.client import DskppClient, run
    from reference.dskpp.http_client import HttpPoster
    from reference.dskpp.store_sqlite import MEMORY, SqliteTokenStore

    if args.ac is None and args.trigger is None:
        raise UsageError("give --ac or --trigger (the server needs user authentication, RFC 6063 §3.2.1)",
                         where="provision")
    if args.token_db is not None and not args.token_db.parent.is_dir():
        raise UsageError("the folder for --token-db does not exist", where=str(args.token_db))
    config = client_config(args)
    trigger = _read_bytes(args.trigger, "trigger") if args.trigger else None
    tokens = SqliteTokenStore(args.token_db if args.token_db is not None else MEMORY)
    try:
        client = DskppClient(config, tokens, clock=lambda: datetime.now(timezone.utc), random=secrets.token_bytes)
        with HttpPoster(args.url, timeout_s=args.timeout) as post:
            try:
                result = run(client, post, trigger=trigger)
            except ProtocolError as exc:
                return _refused(args, f"exchange failed: {exc}", getattr(exc, "status", None), exc.spec)
        if result.key is None:
            return _refused(args, f"server answered {result.status.value}", result.status.value, "RFC 6063 §3.3")
        stored = tokens.get_key(result.key.key_id)
    finally:
        tokens.close()
    out = {"status": result.status.value, "key_id": result.key.key_id, "algorithm": result.key.algorithm,
           "fingerprint": result.key.fingerprint, "token_db": str(args.token_db) if args.token_db else None}
    if args.reveal_secret and stored is not None:
        out["secret_hex"] = stored.secret.hex()
    if args.json:
        print(json.dumps(out))
    else:
        print(f"provisioned key {out['key_id']} ({out['algorithm']}) {out['fingerprint']}")
        if "secret_hex" in out:
            print(f"secret {out['secret_hex']}")
    return exitcodes.OK


def _refused(args: argparse.Namespace, message: str, status: str | None, spec: str | None) -> int:
    if args.json:
        print(json.dumps({"status": status, "error": message, "spec": spec}))
    print(f"kplab: {message}" + (f" ({spec})" if spec else ""), file=sys.stderr)
    return exitcodes.FAILURES


def run_keys(args: argparse.Namespace) -> int:
    from reference.dskpp.store_sqlite import SqliteServerStore, SqliteTokenStore

    path = args.token_db or args.db
    if not path.is_file():
        raise UsageError("no such store", where=str(path))
    store = SqliteTokenStore(path) if args.token_db else SqliteServerStore(path)
    try:
        keys = [{"key_id": k.key_id, "algorithm": k.algorithm, "fingerprint": fingerprint(k.secret)}
                for k in store.list_keys()]
    finally:
        store.close()
    if args.json:
        print(json.dumps(keys))
    else:
        for k in keys:
            print(f"{k['key_id']}  {k['algorithm']}  {k['fingerprint']}")
    return exitcodes.OK
