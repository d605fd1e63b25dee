"""DSKPP test doubles with known bugs, for tests/suites/dskpp/test_doubles.py.

Each double is the reference implementation with one planted bug, so the named suite case
must catch it while every other case still passes.

Server doubles (``python dskpp_doubles.py BUG <kplab serve dskpp arguments>``, started by
the reference-dskpp-server adapter through its option ``double = "THIS_FILE:BUG"``):

* ``accept-replayed-nonce``: the store forgets used nonces, so a run that reuses R_C / R is
  served (caught by dskpp.protocol.server/replayed-nonce);
* ``skip-ad-check``: the AuthenticationCodeMac is never recomputed, so any AD of an issued
  Client ID passes (caught by dskpp.protocol.server/bad-authentication-data).

Client doubles (``python dskpp_doubles.py client BUG``: a shim adapter serving the reference
client with the bug):

* ``store-before-mac``: the key is committed to the token store before the key
  confirmation MAC is checked (caught by dskpp.protocol.client/wrong-key-confirmation-mac);
* ``ignore-server-mac``: the server authentication MAC of a renewal is not verified
  (caught by dskpp.protocol.client/wrong-server-auth-mac).

``python dskpp_doubles.py server-adapter BUG`` serves the reference-dskpp-server adapter
with ``double`` set, over the shim protocol, so a description file can name it.
"""

from __future__ import annotations

import hmac
import sys
from dataclasses import replace
from pathlib import Path

SERVER_BUGS = ("accept-replayed-nonce", "skip-ad-check")
CLIENT_BUGS = ("store-before-mac", "ignore-server-mac")


def plant_server_bug(bug: str) -> None:
    if bug == "accept-replayed-nonce":
        from reference.dskpp.store_sqlite import SqliteServerStore

        commit = SqliteServerStore.commit_provisioning
        SqliteServerStore.nonce_used = lambda self, nonce: False  # type: ignore[method-assign]
        SqliteServerStore.commit_provisioning = (  # type: ignore[method-assign]
            lambda self, record: commit(self, replace(record, nonces=())))
    elif bug == "skip-ad-check":
        from reference.dskpp import userauth

        userauth.verify = lambda *args, **kwargs: None  # type: ignore[assignment]
    else:
        raise SystemExit(f"unknown server bug {bug!r}; known: {SERVER_BUGS}")


def plant_client_bug(bug: str) -> None:
    from harness.errors import CryptoFailure
    from reference.dskpp import client_flows, crypto

    if bug == "store-before-mac":
        def store_first(real):  # type: ignore[no-untyped-def]
            def flow(client, message):  # type: ignore[no-untyped-def]
                failures: list[str] = []

                def lenient(expected: bytes, received: bytes, **kw: str) -> None:
                    if not hmac.compare_digest(expected, received):
                        failures.append(kw.get("where") or "Mac")

                saved, crypto.verify_mac = crypto.verify_mac, lenient
                try:
                    key = real(client, message)
                finally:
                    crypto.verify_mac = saved
                client.token_store.commit_key(key)  # THE BUG: committed before the MAC is confirmed
                if failures:
                    raise CryptoFailure("MAC does not verify", status="Abort", spec="RFC 6063 §4.2.5", where=failures[0])
                return key
            return flow

        client_flows.four_pass_finished = store_first(client_flows.four_pass_finished)
        client_flows.two_pass_finished = store_first(client_flows.two_pass_finished)
    elif bug == "ignore-server-mac":
        client_flows._verify_renewal_mac = lambda *args, **kwargs: None  # type: ignore[assignment]
        crypto.verify_server_auth_mac_two_pass = lambda *args, **kwargs: None  # type: ignore[assignment]
    else:
        raise SystemExit(f"unknown client bug {bug!r}; known: {CLIENT_BUGS}")


def main(argv: list[str]) -> int:
    from harness.adapters import shim_server

    if not argv:
        raise SystemExit("usage: dskpp_doubles.py BUG [serve arguments] | client BUG | server-adapter BUG")
    if argv[0] == "client":
        plant_client_bug(argv[1])
        from harness.adapters.dskpp import ReferenceDskppClient

        client = ReferenceDskppClient()
        try:
            return shim_server.serve(client)
        finally:
            client.close()
    if argv[0] == "server-adapter":
        from harness.adapters.dskpp import ReferenceDskppServer

        implementation = ReferenceDskppServer({"double": f"{Path(__file__).resolve()}:{argv[1]}"})
        try:
            return shim_server.serve(implementation)
        finally:
            implementation.close()
    plant_server_bug(argv[0])
    from harness.cli import main as kplab

    return kplab(["serve", "dskpp", *argv[1:]])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
