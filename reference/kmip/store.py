"""SQLite storage of managed objects for the reference KMIP server.

One row per object: its Unique Identifier, Object Type, State, creation sequence, the
managed object itself (the TTLV structure as registered or generated, ``None`` once
destroyed: KMIP 1.4 §4.21 destroys the key material, the metadata stays) and its
attributes (one TTLV Structure holding every attribute value, tagged by attribute; see
:mod:`.attributes`).  Values go in as TTLV bytes, so the store needs no schema per type.

Writes are atomic: :meth:`ObjectStore.transaction` wraps one request message (all of its
batch items) so a batch with Batch Error Continuation Option *Undo* can be rolled back
as a whole (1.4 §11.43), and a crash mid-message leaves no half-applied batch.
``path=":memory:"`` (the default) keeps everything in memory, for tests.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

from harness.errors import InputError, MalformedInput
from reference.kmip.ttlv import Item, decode, encode

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    uid TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    object_type INTEGER NOT NULL,
    state INTEGER NOT NULL,
    object BLOB,
    attributes BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# Private wrapper tags (extension range 0x54xxxx, never sent on the wire): the attribute
# set, one instance, and the instance's Attribute Index (1.4 §2.1.1: indices are stable).
_ATTRIBUTE_SET = 0x540000
_INSTANCE = 0x540001
_INDEX = 0x540002


@dataclass(frozen=True)
class Instance:
    """One attribute instance: its Attribute Index and its value, tagged by attribute."""

    index: int
    item: Item


@dataclass(frozen=True)
class ManagedObject:
    """One stored object; ``attributes`` hold the stored instances (see attributes.py).

    Unique Identifier, Object Type and State live in their own fields, not as instances.
    """

    uid: str
    object_type: int
    state: int
    object: Item | None  # the Symmetric Key / Secret Data / ... structure; None when destroyed
    attributes: tuple[Instance, ...]
    seq: int = 0

    def with_(self, **changes: object) -> ManagedObject:
        return replace(self, **changes)

    def values(self, tag: int) -> tuple[Item, ...]:
        return tuple(a.item for a in self.attributes if a.item.tag == tag)

    def value(self, tag: int) -> Item | None:
        return next((a.item for a in self.attributes if a.item.tag == tag), None)


class ObjectStore:
    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves (one per message).
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise InputError(f"cannot open the KMIP object store: {exc}", where=self.path) from None
        self._lock = threading.RLock()
        self._depth = 0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all (nested calls join the outer one)."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._db.execute("COMMIT")

    @contextmanager
    def savepoint(self, name: str = "batch") -> Iterator[None]:
        """A nested unit that can be rolled back alone (Batch Error Continuation Option Undo)."""
        with self._lock:
            self._db.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                self._db.execute(f"ROLLBACK TO SAVEPOINT {name}")
                self._db.execute(f"RELEASE SAVEPOINT {name}")
                raise
            self._db.execute(f"RELEASE SAVEPOINT {name}")

    # ------------------------------------------------------------------ objects
    def next_sequence(self) -> int:
        row = self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM objects").fetchone()
        return int(row[0])

    def exists(self, uid: str) -> bool:
        return self._db.execute("SELECT 1 FROM objects WHERE uid = ?", (uid,)).fetchone() is not None

    def put(self, obj: ManagedObject) -> ManagedObject:
        """Insert or replace ``obj`` (a new object gets the next creation sequence number)."""
        with self._lock:
            seq = obj.seq or self.next_sequence()
            self._db.execute(
                "INSERT OR REPLACE INTO objects (uid, seq, object_type, state, object, attributes) VALUES (?, ?, ?, ?, ?, ?)",
                (obj.uid, seq, obj.object_type, obj.state, encode(obj.object) if obj.object is not None else None,
                 encode(_pack(obj.attributes))),
            )
            return obj.with_(seq=seq)

    def get(self, uid: str) -> ManagedObject | None:
        row = self._db.execute(
            "SELECT uid, seq, object_type, state, object, attributes FROM objects WHERE uid = ?", (uid,)
        ).fetchone()
        return self._row(row) if row else None

    def all(self) -> list[ManagedObject]:
        """Every object, most recently created first."""
        rows = self._db.execute("SELECT uid, seq, object_type, state, object, attributes FROM objects ORDER BY seq DESC")
        return [self._row(r) for r in rows]

    def _row(self, row: tuple) -> ManagedObject:
        uid, seq, object_type, state, blob, attrs = row
        try:
            obj = decode(blob) if blob is not None else None
            attributes = _unpack(decode(attrs))
        except MalformedInput as exc:  # only a tampered database file gets here
            raise InputError(f"stored object {uid} is corrupt: {exc}", where=self.path) from None
        return ManagedObject(uid, object_type, state, obj, attributes, seq)

    # ------------------------------------------------------------------ server settings
    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def _pack(instances: tuple[Instance, ...]) -> Item:
    return Item.structure(_ATTRIBUTE_SET, [
        Item.structure(_INSTANCE, [Item.integer(_INDEX, i.index), i.item]) for i in instances
    ])


def _unpack(item: Item) -> tuple[Instance, ...]:
    return tuple(Instance(int(inst.items[0].value), inst.items[1]) for inst in item.items)  # type: ignore[arg-type]
