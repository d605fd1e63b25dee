"""Persistent state of the DSKPP engines: records, store Protocols, in-memory stores.

Server side (RFC 6063 §3.2.1, 4.2.3, 4.2.5, 5.2.3, 7.2.3): issued Authentication Codes,
open four-pass sessions, nonces already used (replay refusal, §10.2.5) and provisioned
keys.  Client side: the virtual cryptographic module (``TokenStore``), which receives a
key only after key confirmation verified (§4.2.5, 5.2.3, 10.2.3).

Records are frozen dataclasses of plain values (str, bytes, int, bool, UTC datetimes,
None) so a SQLite store can persist them column by column.  Secret fields are
``repr=False`` and every record's ``__repr__`` shows fingerprints only.

One successful provisioning writes everything at once through
``ServerStore.commit_provisioning`` (a ``ProvisioningCommit``): the key, the end of the
session, the Authentication Code marked used and the nonces marked used - all or
nothing.  The engine records nonce *digests* (``nonce_digest``), never nonces: the
four-pass R_C is the key of the K_PROV derivation (§4.1.2) and must not be stored.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol, runtime_checkable

from harness.errors import CryptoFailure, ProtocolError
from harness.redaction import fingerprint

NONCE_DIGEST_LABEL = b"DSKPP used nonce"


def nonce_digest(nonce: bytes) -> bytes:
    """What the engine records for a used nonce: SHA-256("DSKPP used nonce" || nonce)."""
    return hashlib.sha256(NONCE_DIGEST_LABEL + nonce).digest()


def _fp(value: bytes | str | None) -> str:
    return "None" if value is None else fingerprint(value)


# ----------------------------------------------------------------------------- errors
class NonceReplayed(CryptoFailure):
    """A nonce of this run was already used by an earlier run (RFC 6063 §10.2.5).

    Status ``Abort``: Sec. 3.3 has no code for a replay, and Abort is "rejected the DSKPP
    Client's request for unspecified reasons" (docs/dskpp-interpretations.md D-11).
    """

    def __init__(self, message: str = "a nonce of this run was used before", **kwargs: str | None) -> None:
        kwargs.setdefault("status", "Abort")
        kwargs.setdefault("spec", "RFC 6063 §10.2.5")
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class AuthenticationCodeUsed(ProtocolError):
    """The Authentication Code of this run was consumed by a concurrent run (single use)."""

    def __init__(self, message: str = "the Authentication Code was already used", **kwargs: str | None) -> None:
        kwargs.setdefault("status", "AuthenticationDataInvalid")
        kwargs.setdefault("spec", "RFC 6063 §3.2.1")
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- server records
@dataclass(frozen=True)
class AuthenticationCodeRecord:
    """One issued AC (Sec. 3.2.1, 3.4.1).  ``client_id``/``password``: the TLV hex strings."""

    client_id: str
    password: str = field(repr=False)
    issued_at: datetime
    expires_at: datetime | None = None
    used_at: datetime | None = None
    # The last <KeyProvTrigger> issued for this AC (Sec. 4.2.1): its AD, DeviceID, KeyID
    # and URL are what a triggered <KeyProvClientHello> must repeat (I-18).
    trigger_document: bytes | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (
            f"AuthenticationCodeRecord(client_id={self.client_id!r}, password={_fp(self.password)}, "
            f"issued_at={self.issued_at.isoformat()}, expires_at={self.expires_at and self.expires_at.isoformat()}, "
            f"used_at={self.used_at and self.used_at.isoformat()}, trigger={self.trigger_document is not None})"
        )


@dataclass(frozen=True)
class SessionRecord:
    """One open four-pass run (Sec. 4.2.3, 7.2.3).  ``state``: engine-private JSON."""

    session_id: str
    created_at: datetime
    expires_at: datetime
    state: str = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"SessionRecord(session_id={self.session_id!r}, created_at={self.created_at.isoformat()}, "
            f"expires_at={self.expires_at.isoformat()}, state={len(self.state)} chars)"
        )


@dataclass(frozen=True)
class KeyRecord:
    """A provisioned key, server side.  ``secret`` is the token key (first octets of K_TOKEN)."""

    key_id: str
    algorithm: str
    secret: bytes = field(repr=False)
    provisioned_at: datetime
    k_mac: bytes | None = field(default=None, repr=False)  # K_MAC' of a later renewal (Sec. 4.2.3, 5.2.2)
    mac_algorithm: str | None = None
    client_id: str | None = None
    device: str | None = None
    attributes: str = "{}"

    def __repr__(self) -> str:
        return (
            f"KeyRecord(key_id={self.key_id!r}, algorithm={self.algorithm!r}, secret={_fp(self.secret)}, "
            f"provisioned_at={self.provisioned_at.isoformat()}, k_mac={_fp(self.k_mac)}, "
            f"mac_algorithm={self.mac_algorithm!r}, client_id={self.client_id!r}, device={self.device!r}, "
            f"attributes={self.attributes})"
        )


@dataclass(frozen=True)
class ProvisioningCommit:
    """Everything one successful run writes, atomically."""

    key: KeyRecord
    at: datetime
    session_id: str | None = None  # deleted in the same transaction
    client_id: str | None = None  # its AC marked used (refused if already used)
    nonces: tuple[bytes, ...] = ()  # nonce digests; if ANY was used before -> NonceReplayed


@runtime_checkable
class ServerStore(Protocol):
    def put_authentication_code(self, record: AuthenticationCodeRecord) -> None: ...
    def get_authentication_code(self, client_id: str) -> AuthenticationCodeRecord | None: ...
    def put_session(self, session: SessionRecord) -> None: ...
    def get_session(self, session_id: str) -> SessionRecord | None: ...
    def delete_session(self, session_id: str) -> None: ...
    def purge_expired_sessions(self, now: datetime) -> int: ...
    def nonce_used(self, nonce: bytes) -> bool: ...
    def get_key(self, key_id: str) -> KeyRecord | None: ...
    def list_keys(self) -> list[KeyRecord]: ...
    def commit_provisioning(self, commit: ProvisioningCommit) -> None: ...


# ----------------------------------------------------------------------------- client records
@dataclass(frozen=True)
class TokenKey:
    """A key in the client's virtual cryptographic module."""

    key_id: str
    algorithm: str
    secret: bytes = field(repr=False)
    provisioned_at: datetime
    k_mac: bytes | None = field(default=None, repr=False)
    mac_algorithm: str | None = None
    server_id: str | None = None
    attributes: str = "{}"

    def __repr__(self) -> str:
        return (
            f"TokenKey(key_id={self.key_id!r}, algorithm={self.algorithm!r}, secret={_fp(self.secret)}, "
            f"provisioned_at={self.provisioned_at.isoformat()}, k_mac={_fp(self.k_mac)}, "
            f"mac_algorithm={self.mac_algorithm!r}, server_id={self.server_id!r}, attributes={self.attributes})"
        )


@runtime_checkable
class TokenStore(Protocol):
    def get_key(self, key_id: str) -> TokenKey | None: ...
    def list_keys(self) -> list[TokenKey]: ...
    def commit_key(self, key: TokenKey) -> None: ...


# ----------------------------------------------------------------------------- in memory
class MemoryServerStore:
    """ServerStore in dictionaries; one lock makes commit_provisioning all-or-nothing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._codes: dict[str, AuthenticationCodeRecord] = {}
        self._sessions: dict[str, SessionRecord] = {}
        self._nonces: set[bytes] = set()
        self._keys: dict[str, KeyRecord] = {}

    def put_authentication_code(self, record: AuthenticationCodeRecord) -> None:
        with self._lock:
            self._codes[record.client_id] = record

    def get_authentication_code(self, client_id: str) -> AuthenticationCodeRecord | None:
        with self._lock:
            return self._codes.get(client_id)

    def put_session(self, session: SessionRecord) -> None:
        with self._lock:
            self._sessions[session.session_id] = session

    def get_session(self, session_id: str) -> SessionRecord | None:
        with self._lock:
            return self._sessions.get(session_id)

    def delete_session(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def purge_expired_sessions(self, now: datetime) -> int:
        with self._lock:
            expired = [sid for sid, s in self._sessions.items() if s.expires_at <= now]
            for sid in expired:
                del self._sessions[sid]
            return len(expired)

    def nonce_used(self, nonce: bytes) -> bool:
        with self._lock:
            return bytes(nonce) in self._nonces

    def get_key(self, key_id: str) -> KeyRecord | None:
        with self._lock:
            return self._keys.get(key_id)

    def list_keys(self) -> list[KeyRecord]:
        with self._lock:
            return sorted(self._keys.values(), key=lambda k: k.key_id)

    def commit_provisioning(self, commit: ProvisioningCommit) -> None:
        with self._lock:
            nonces = [bytes(n) for n in commit.nonces]
            if len(set(nonces)) != len(nonces) or any(n in self._nonces for n in nonces):
                raise NonceReplayed(where="ProvisioningCommit.nonces")
            code = self._codes.get(commit.client_id) if commit.client_id is not None else None
            if code is not None and code.used_at is not None:
                raise AuthenticationCodeUsed(where="ProvisioningCommit.client_id")
            # Every check passed: nothing below can fail, so the commit is all or nothing.
            self._keys[commit.key.key_id] = commit.key
            if commit.session_id is not None:
                self._sessions.pop(commit.session_id, None)
            if code is not None:
                self._codes[code.client_id] = replace(code, used_at=commit.at)
            self._nonces.update(nonces)


class MemoryTokenStore:
    """TokenStore in a dictionary."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, TokenKey] = {}

    def get_key(self, key_id: str) -> TokenKey | None:
        with self._lock:
            return self._keys.get(key_id)

    def list_keys(self) -> list[TokenKey]:
        with self._lock:
            return sorted(self._keys.values(), key=lambda k: k.key_id)

    def commit_key(self, key: TokenKey) -> None:
        with self._lock:
            self._keys[key.key_id] = key


__all__ = [
    "AuthenticationCodeRecord", "SessionRecord", "KeyRecord", "ProvisioningCommit", "ServerStore",
    "TokenKey", "TokenStore", "MemoryServerStore", "MemoryTokenStore", "NonceReplayed",
    "AuthenticationCodeUsed", "nonce_digest", "NONCE_DIGEST_LABEL",
]
