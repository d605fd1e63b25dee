"""A stand-in "vendor DSKPP client" keeping the command contract of
docs/examples/dskpp-client-template.sh: the reference client engine with a SQLite token
store, configured only through the template's environment variables and secret files.

    vendor_provision.py --token-db FILE provision URL
    vendor_provision.py --token-db FILE keys
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from datetime import datetime, timezone
from pathlib import Path


def _file(name: str) -> str | None:
    path = os.environ.get(name)
    return Path(path).read_text(encoding="utf-8").strip() if path else None


def _device_key(folder: Path):  # noqa: ANN202
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = folder / "device-key.pem"
    if pem.is_file():
        return serialization.load_pem_private_key(pem.read_bytes(), password=None)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    return key


def provision(url: str, token_db: Path) -> int:
    from harness.errors import ProtocolError
    from harness.redaction import fingerprint
    from reference.dskpp.client import ClientConfig, DskppClient, run
    from reference.dskpp.http_client import HttpPoster
    from reference.dskpp.store_sqlite import SqliteTokenStore
    from reference.otp.hotp import hotp

    env = os.environ
    kw: dict = {"variant": env["KPLAB_VARIANT"], "authentication_code": _file("KPLAB_AC_FILE"), "server_url": url,
                "renew_key_id": env.get("KPLAB_RENEW_KEY_ID")}
    for name, field in (("KPLAB_ENCRYPTION_ALGORITHMS", "encryption_algorithms"), ("KPLAB_MAC_ALGORITHMS", "mac_algorithms")):
        if env.get(name):
            kw[field] = tuple(env[name].split())
    if _file("KPLAB_SHARED_KEY_HEX_FILE"):
        kw["shared_key"] = bytes.fromhex(_file("KPLAB_SHARED_KEY_HEX_FILE"))
        kw["shared_key_name"] = env.get("KPLAB_SHARED_KEY_NAME")
    if kw["variant"] == "two-pass":
        kw["protection"] = env.get("KPLAB_PROTECTION", "key-transport")
        kw["passphrase"] = _file("KPLAB_PASSPHRASE_FILE")
        if kw["protection"] == "key-transport":
            kw["rsa_private_key"] = _device_key(token_db.parent)
    trigger = Path(env["KPLAB_TRIGGER_FILE"]).read_bytes() if env.get("KPLAB_TRIGGER_FILE") else None
    tokens = SqliteTokenStore(token_db)
    try:
        client = DskppClient(ClientConfig(**kw), tokens, clock=lambda: datetime.now(timezone.utc),
                             random=secrets.token_bytes)
        try:
            with HttpPoster(url) as post:
                result = run(client, post, trigger)
        except ProtocolError as exc:
            print(f"refused: {exc}", file=sys.stderr)
            print(json.dumps({"status": "Error", "error": f"{exc.status}: {exc}"}))
            return 1
        if result.key is None:
            print(json.dumps({"status": result.status.value, "error": "the server refused"}))
            return 1
        held = tokens.get_key(result.key.key_id)
        print(json.dumps({"status": "Success", "key_id": held.key_id, "fingerprint": fingerprint(held.secret),
                          "hotp": [hotp(held.secret, c) for c in range(3)]}))
        return 0
    finally:
        tokens.close()


def keys(token_db: Path) -> int:
    from harness.redaction import fingerprint
    from reference.dskpp.store_sqlite import SqliteTokenStore

    tokens = SqliteTokenStore(token_db)
    try:
        for key in tokens.list_keys():
            print(json.dumps({"key_id": key.key_id, "fingerprint": fingerprint(key.secret)}))
    finally:
        tokens.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--token-db", type=Path, required=True)
    parser.add_argument("--exit", type=int, default=None, help="misbehave: exit with this code at once")
    parser.add_argument("action", choices=("provision", "keys"))
    parser.add_argument("url", nargs="?")
    args = parser.parse_args()
    if args.exit is not None:
        return args.exit
    return provision(args.url, args.token_db) if args.action == "provision" else keys(args.token_db)


if __name__ == "__main__":
    sys.exit(main())
