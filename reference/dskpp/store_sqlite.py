"""SQLite implementations of the DSKPP server store and the client's token store.

The embedded default of ``kplab serve dskpp`` and ``kplab dskpp provision``.  Tables
follow the record dataclasses of ``reference.dskpp.store`` column for column (a field
added to a record becomes a column, added to an existing database on open), so the
stores stay in step with the engine without a second schema to maintain.

Atomicity is SQLite's: ``commit_provisioning`` and ``commit_key`` run in one
``BEGIN IMMEDIATE`` transaction each, so a crash at any point leaves the provisioning
either absent or complete (RFC 6063 gives no rule; issue 4 does).  Files use WAL
journaling.  Key commits are durable (``synchronous=FULL`` for that transaction: once it
returned, the key survives power loss); sessions and issued codes use NORMAL, which in
WAL mode is still atomic and survives a process crash, and costs no fsync per write
(a session lost to a power cut is a run the client starts again).  See D-25.
One connection per store, shared by the threads of an ASGI server behind a lock.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
import typing
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from harness.errors import InputError
from reference.dskpp import store as _store
from reference.dskpp.store import (
    AuthenticationCodeRecord,
    KeyRecord,
    ProvisioningCommit,
    SessionRecord,
    TokenKey,
)

MEMORY = ":memory:"


# ----------------------------------------------------------------------------- rows
class _Table:
    """One record dataclass <-> one table: column names, SQL types, value conversion."""

    def __init__(self, name: str, record: type, key: str) -> None:
        self.name, self.record, self.key = name, record, key
        hints = typing.get_type_hints(record)
        self.columns = [f.name for f in dataclasses.fields(record)]
        self.kinds = {c: self._kind(hints[c]) for c in self.columns}

    @staticmethod
    def _kind(hint: Any) -> str:
        args = set(typing.get_args(hint)) or {hint}
        for kind, sql in ((datetime, "datetime"), (bytes, "bytes"), (bool, "bool"), (int, "int")):
            if kind in args:
                return sql
        return "text"

    def sql_type(self, column: str) -> str:
        return {"bytes": "BLOB", "int": "INTEGER", "bool": "INTEGER"}.get(self.kinds[column], "TEXT")

    def create(self) -> str:
        cols = ", ".join(f"{c} {self.sql_type(c)}" + (" PRIMARY KEY" if c == self.key else "") for c in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {self.name} ({cols})"

    def to_row(self, record: Any) -> tuple[Any, ...]:
        out = []
        for c in self.columns:
            value = getattr(record, c)
            if isinstance(value, datetime):
                value = _utc(value).isoformat()
            out.append(value)
        return tuple(out)

    def from_row(self, row: sqlite3.Row) -> Any:
        values = {}
        for c in self.columns:
            value = row[c]
            kind = self.kinds[c]
            if value is not None and kind == "datetime":
                value = datetime.fromisoformat(value)
            elif value is not None and kind == "bool":
                value = bool(value)
            elif value is not None and kind == "bytes":
                value = bytes(value)
            values[c] = value
        return self.record(**values)

    def upsert(self) -> str:
        marks = ", ".join("?" for _ in self.columns)
        return f"INSERT OR REPLACE INTO {self.name} ({', '.join(self.columns)}) VALUES ({marks})"


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise InputError("store times must carry a time zone", where="SQLite store")
    return value.astimezone(timezone.utc)


class _Database:
    """A connection with the tables created (and new columns added) on open."""

    def __init__(self, path: str | Path, tables: tuple[_Table, ...]) -> None:
        self.path = str(path)
        try:
            self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.conn.row_factory = sqlite3.Row
            if self.path != MEMORY:
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA synchronous=NORMAL")
            for table in tables:
                self.conn.execute(table.create())
                have = {r["name"] for r in self.conn.execute(f"PRAGMA table_info({table.name})")}
                for column in table.columns:
                    if column not in have:
                        self.conn.execute(f"ALTER TABLE {table.name} ADD COLUMN {column} {table.sql_type(column)}")
        except sqlite3.DatabaseError as exc:
            raise InputError(f"cannot open the store: {exc}", where=self.path) from None
        self.lock = threading.RLock()

    def transaction(self, *, durable: bool = False) -> "_Transaction":
        return _Transaction(self, durable and self.path != MEMORY)

    def one(self, table: _Table, key: str) -> Any:
        with self.lock:
            row = self.conn.execute(f"SELECT * FROM {table.name} WHERE {table.key} = ?", (key,)).fetchone()
        return None if row is None else table.from_row(row)

    def all(self, table: _Table) -> list[Any]:
        with self.lock:
            rows = self.conn.execute(f"SELECT * FROM {table.name} ORDER BY {table.key}").fetchall()
        return [table.from_row(r) for r in rows]

    def put(self, table: _Table, record: Any) -> None:
        with self.transaction() as cur:
            cur.execute(table.upsert(), table.to_row(record))

    def close(self) -> None:
        with self.lock:
            self.conn.close()


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception (then re-raised).

    ``durable``: the commit is synced to disk before it returns (synchronous=FULL for
    this transaction; the pragma cannot change inside one).
    """

    def __init__(self, db: _Database, durable: bool = False) -> None:
        self.db = db
        self.durable = durable

    def __enter__(self) -> sqlite3.Cursor:
        self.db.lock.acquire()
        try:
            if self.durable:
                self.db.conn.execute("PRAGMA synchronous=FULL")
            self.db.conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.db.lock.release()
            raise
        return self.db.conn.cursor()

    def __exit__(self, kind: type | None, *_: object) -> None:
        try:
            self.db.conn.execute("ROLLBACK" if kind else "COMMIT")
            if self.durable:
                self.db.conn.execute("PRAGMA synchronous=NORMAL")
        finally:
            self.db.lock.release()


# ----------------------------------------------------------------------------- server
_AC = _Table("authentication_codes", AuthenticationCodeRecord, "client_id")
_SESSIONS = _Table("sessions", SessionRecord, "session_id")
_KEYS = _Table("keys", KeyRecord, "key_id")
_NONCES_SQL = "CREATE TABLE IF NOT EXISTS used_nonces (nonce BLOB PRIMARY KEY, used_at TEXT)"


class SqliteServerStore:
    """``ServerStore`` in one SQLite file (``:memory:`` for a throw-away store)."""

    def __init__(self, path: str | Path = MEMORY) -> None:
        self._db = _Database(path, (_AC, _SESSIONS, _KEYS))
        self._db.conn.execute(_NONCES_SQL)

    @property
    def path(self) -> str:
        return self._db.path

    def put_authentication_code(self, record: AuthenticationCodeRecord) -> None:
        self._db.put(_AC, record)

    def get_authentication_code(self, client_id: str) -> AuthenticationCodeRecord | None:
        return self._db.one(_AC, client_id)

    def put_session(self, session: SessionRecord) -> None:
        self._db.put(_SESSIONS, session)

    def get_session(self, session_id: str) -> SessionRecord | None:
        return self._db.one(_SESSIONS, session_id)

    def delete_session(self, session_id: str) -> None:
        with self._db.transaction() as cur:
            cur.execute("DELETE FROM sessions WHERE session_id = ?", (session_id,))

    def purge_expired_sessions(self, now: datetime) -> int:
        # ISO 8601 in UTC with the same offset form sorts as time does.
        with self._db.transaction() as cur:
            cur.execute("DELETE FROM sessions WHERE expires_at <= ?", (_utc(now).isoformat(),))
            return int(cur.rowcount)

    def nonce_used(self, nonce: bytes) -> bool:
        with self._db.lock:
            row = self._db.conn.execute("SELECT 1 FROM used_nonces WHERE nonce = ?", (nonce,)).fetchone()
        return row is not None

    def get_key(self, key_id: str) -> KeyRecord | None:
        return self._db.one(_KEYS, key_id)

    def list_keys(self) -> list[KeyRecord]:
        return self._db.all(_KEYS)

    def commit_provisioning(self, commit: ProvisioningCommit) -> None:
        """Everything one run writes, in one transaction; a replayed nonce writes nothing."""
        at = _utc(commit.at).isoformat()
        nonces = [bytes(n) for n in commit.nonces]
        if len(set(nonces)) != len(nonces):
            raise _store.NonceReplayed(where="ProvisioningCommit.nonces")
        with self._db.transaction(durable=True) as cur:
            for nonce in nonces:
                if cur.execute("SELECT 1 FROM used_nonces WHERE nonce = ?", (nonce,)).fetchone():
                    raise _store.NonceReplayed(where="ProvisioningCommit.nonces")
                cur.execute("INSERT INTO used_nonces (nonce, used_at) VALUES (?, ?)", (nonce, at))
            if commit.client_id is not None:
                row = cur.execute("SELECT used_at FROM authentication_codes WHERE client_id = ?",
                                  (commit.client_id,)).fetchone()
                if row is not None and row["used_at"] is not None:
                    raise _store.AuthenticationCodeUsed(where="ProvisioningCommit.client_id")
            cur.execute(_KEYS.upsert(), _KEYS.to_row(commit.key))
            if commit.client_id is not None:
                cur.execute("UPDATE authentication_codes SET used_at = ? WHERE client_id = ?", (at, commit.client_id))
            if commit.session_id is not None:
                cur.execute("DELETE FROM sessions WHERE session_id = ?", (commit.session_id,))

    def close(self) -> None:
        self._db.close()


# ----------------------------------------------------------------------------- client
_TOKENS = _Table("token_keys", TokenKey, "key_id")


class SqliteTokenStore:
    """``TokenStore``: the virtual cryptographic module's key store in SQLite."""

    def __init__(self, path: str | Path = MEMORY) -> None:
        self._db = _Database(path, (_TOKENS,))

    @property
    def path(self) -> str:
        return self._db.path

    def get_key(self, key_id: str) -> TokenKey | None:
        return self._db.one(_TOKENS, key_id)

    def list_keys(self) -> list[TokenKey]:
        return self._db.all(_TOKENS)

    def commit_key(self, key: TokenKey) -> None:
        with self._db.transaction(durable=True) as cur:
            cur.execute(_TOKENS.upsert(), _TOKENS.to_row(key))

    def close(self) -> None:
        self._db.close()


def rows(store: SqliteServerStore | SqliteTokenStore, table: str) -> Iterator[sqlite3.Row]:
    """Raw rows of one table, for tests and diagnostics (never printed by the CLI)."""
    with store._db.lock:
        yield from store._db.conn.execute(f"SELECT * FROM {table}").fetchall()
