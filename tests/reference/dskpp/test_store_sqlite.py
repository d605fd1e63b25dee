"""SQLite stores: persistence across reopen, atomic provisioning, crash in mid-commit.

The behaviour every store shares (the ServerStore / TokenStore contract) is tested in
test_store.py over all implementations; this file covers what only a file store has.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from harness.errors import InputError
from reference.dskpp.store import (
    AuthenticationCodeRecord,
    KeyRecord,
    NonceReplayed,
    ProvisioningCommit,
    SessionRecord,
    TokenKey,
)
from reference.dskpp.store_sqlite import SqliteServerStore, SqliteTokenStore, rows

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
HOTP = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"


def _commit(key_id: str = "k1", nonce: bytes = b"n" * 16) -> ProvisioningCommit:
    key = KeyRecord(key_id=key_id, algorithm=HOTP, secret=b"\x01" * 20, provisioned_at=T0, k_mac=b"\x02" * 16,
                    client_id="c0ffee")
    return ProvisioningCommit(key=key, at=T0, session_id="s1", client_id="c0ffee", nonces=(nonce,))


def _prepared(path: Path) -> SqliteServerStore:
    store = SqliteServerStore(path)
    store.put_authentication_code(AuthenticationCodeRecord(client_id="c0ffee", password="1234abcd", issued_at=T0))
    store.put_session(SessionRecord(session_id="s1", created_at=T0, expires_at=T0 + timedelta(minutes=5), state="{}"))
    return store


def test_everything_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "server.db"
    store = _prepared(path)
    store.commit_provisioning(_commit())
    store.close()
    again = SqliteServerStore(path)
    key = again.get_key("k1")
    assert key is not None and key.secret == b"\x01" * 20 and key.k_mac == b"\x02" * 16
    assert key.provisioned_at == T0 and key.provisioned_at.tzinfo is not None
    assert again.get_authentication_code("c0ffee").used_at == T0
    assert again.get_session("s1") is None
    assert again.nonce_used(b"n" * 16)


def test_replayed_nonce_writes_nothing(tmp_path: Path) -> None:
    store = _prepared(tmp_path / "server.db")
    store.commit_provisioning(_commit("k1"))
    store.put_session(SessionRecord(session_id="s1", created_at=T0, expires_at=T0 + timedelta(minutes=5), state="{}"))
    with pytest.raises(NonceReplayed):
        store.commit_provisioning(_commit("k2"))
    assert store.get_key("k2") is None
    assert store.get_session("s1") is not None  # the second run's session was not closed either
    assert [r["key_id"] for r in rows(store, "keys")] == ["k1"]


def test_purge_expired_sessions(tmp_path: Path) -> None:
    store = SqliteServerStore(tmp_path / "server.db")
    for i, minutes in enumerate((1, 10)):
        store.put_session(SessionRecord(session_id=f"s{i}", created_at=T0, expires_at=T0 + timedelta(minutes=minutes),
                                        state="{}"))
    assert store.purge_expired_sessions(T0 + timedelta(minutes=5)) == 1
    assert store.get_session("s0") is None and store.get_session("s1") is not None


def test_naive_times_are_refused(tmp_path: Path) -> None:
    store = SqliteServerStore(tmp_path / "server.db")
    with pytest.raises(InputError, match="time zone"):
        store.put_session(SessionRecord(session_id="s", created_at=T0.replace(tzinfo=None), expires_at=T0, state="{}"))


def test_not_a_database_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(InputError, match="cannot open the store"):
        SqliteServerStore(path)


CRASH = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, {root!r})
    from datetime import datetime, timezone
    from reference.dskpp.store import KeyRecord, ProvisioningCommit
    from reference.dskpp.store_sqlite import SqliteServerStore
    t0 = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
    key = KeyRecord(key_id="k1", algorithm={hotp!r}, secret=b"\\x01" * 20, provisioned_at=t0, client_id="c0ffee")
    commit = ProvisioningCommit(key=key, at=t0, session_id="s1", client_id="c0ffee", nonces=(b"n" * 16,))
    store = SqliteServerStore({path!r})
    def die(statement):
        if statement.startswith({marker!r}):
            os._exit(9)  # the process dies inside the transaction, as a power cut would
    store._db.conn.set_trace_callback(die)
    store.commit_provisioning(commit)
    """
)


@pytest.mark.parametrize("marker", ["INSERT OR REPLACE INTO keys", "UPDATE authentication_codes", "DELETE FROM sessions",
                                    "COMMIT"])
def test_a_crash_in_mid_commit_leaves_no_half_provisioning(tmp_path: Path, marker: str) -> None:
    path = tmp_path / "server.db"
    _prepared(path).close()
    root = str(Path(__file__).resolve().parents[3])
    proc = subprocess.run([sys.executable, "-c", CRASH.format(root=root, path=str(path), marker=marker, hotp=HOTP)],
                          capture_output=True, timeout=60)
    assert proc.returncode == 9, proc.stderr.decode()[-2000:]
    store = SqliteServerStore(path)
    assert store.get_key("k1") is None
    assert not store.nonce_used(b"n" * 16)
    assert store.get_authentication_code("c0ffee").used_at is None
    assert store.get_session("s1") is not None
    store.commit_provisioning(_commit())  # and the same provisioning can then complete
    assert store.get_key("k1") is not None


def test_token_store_round_trip_and_replace(tmp_path: Path) -> None:
    path = tmp_path / "tokens.db"
    tokens = SqliteTokenStore(path)
    tokens.commit_key(TokenKey(key_id="k1", algorithm=HOTP, secret=b"\x01" * 20, provisioned_at=T0))
    tokens.commit_key(TokenKey(key_id="k1", algorithm=HOTP, secret=b"\x03" * 20, provisioned_at=T0 + timedelta(days=1),
                               server_id="https://dskpp.test/"))
    tokens.close()
    again = SqliteTokenStore(path)
    [key] = again.list_keys()
    assert (key.secret, key.server_id) == (b"\x03" * 20, "https://dskpp.test/")
    assert "0303" not in repr(key)
