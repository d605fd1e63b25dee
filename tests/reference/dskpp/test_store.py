"""Store contract (reference/dskpp/store.py): every ServerStore / TokenStore implementation
must pass these.  Add a factory (taking pytest's tmp_path) to the lists to test another one."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest

from harness.errors import CryptoFailure, ProtocolError
from reference.dskpp.store_sqlite import SqliteServerStore, SqliteTokenStore
from reference.dskpp.store import (
    AuthenticationCodeRecord,
    AuthenticationCodeUsed,
    KeyRecord,
    MemoryServerStore,
    MemoryTokenStore,
    NonceReplayed,
    ProvisioningCommit,
    ServerStore,
    SessionRecord,
    TokenKey,
    TokenStore,
    nonce_digest,
)

from .engine_kit import T0

SERVER_STORE_FACTORIES = [
    pytest.param(lambda tmp_path: MemoryServerStore(), id="memory"),
    pytest.param(lambda tmp_path: SqliteServerStore(tmp_path / "server.db"), id="sqlite"),
]
TOKEN_STORE_FACTORIES = [
    pytest.param(lambda tmp_path: MemoryTokenStore(), id="memory"),
    pytest.param(lambda tmp_path: SqliteTokenStore(tmp_path / "tokens.db"), id="sqlite"),
]
SECRET = b"\x11" * 20
K_MAC = b"\x22" * 16


@pytest.fixture(params=SERVER_STORE_FACTORIES)
def server_store(request, tmp_path) -> ServerStore:
    return request.param(tmp_path)


@pytest.fixture(params=TOKEN_STORE_FACTORIES)
def token_store(request, tmp_path) -> TokenStore:
    return request.param(tmp_path)


def key_record(key_id: str = "K1", secret: bytes = SECRET) -> KeyRecord:
    return KeyRecord(key_id=key_id, algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp", secret=secret,
                     provisioned_at=T0, k_mac=K_MAC, mac_algorithm="urn:ietf:params:xml:ns:keyprov:dskpp:prf-sha256",
                     client_id="AC00000A", device='{"serial_no":"1"}', attributes='{"counter":0}')


def code(client_id: str = "AC00000A") -> AuthenticationCodeRecord:
    return AuthenticationCodeRecord(client_id, "0123456789ABCDEF", T0, T0 + timedelta(days=1))


def test_implements_protocols(server_store, token_store):
    assert isinstance(server_store, ServerStore)
    assert isinstance(token_store, TokenStore)


def test_authentication_codes_insert_or_replace(server_store):
    assert server_store.get_authentication_code("AC00000A") is None
    server_store.put_authentication_code(code())
    assert server_store.get_authentication_code("AC00000A") == code()
    changed = replace(code(), password="FEDCBA9876543210", trigger_document=b"<x/>")
    server_store.put_authentication_code(changed)
    assert server_store.get_authentication_code("AC00000A") == changed


def test_sessions_and_expiry(server_store):
    a = SessionRecord("s1", T0, T0 + timedelta(seconds=300), '{"a":1}')
    b = SessionRecord("s2", T0, T0 + timedelta(seconds=600), '{"b":2}')
    server_store.put_session(a)
    server_store.put_session(b)
    assert server_store.get_session("s1") == a
    server_store.put_session(replace(a, state='{"a":3}'))
    assert server_store.get_session("s1").state == '{"a":3}'
    assert server_store.purge_expired_sessions(T0 + timedelta(seconds=300)) == 1  # expires_at <= now
    assert server_store.get_session("s1") is None and server_store.get_session("s2") == b
    server_store.delete_session("s2")
    server_store.delete_session("never-existed")  # no error
    assert server_store.get_session("s2") is None


def test_commit_writes_everything(server_store):
    server_store.put_authentication_code(code())
    server_store.put_session(SessionRecord("s1", T0, T0 + timedelta(seconds=300), "{}"))
    at = T0 + timedelta(seconds=5)
    server_store.commit_provisioning(ProvisioningCommit(key_record(), at, session_id="s1", client_id="AC00000A",
                                                        nonces=(nonce_digest(b"r" * 16),)))
    assert server_store.get_key("K1") == key_record()
    assert server_store.get_session("s1") is None
    assert server_store.get_authentication_code("AC00000A").used_at == at
    assert server_store.nonce_used(nonce_digest(b"r" * 16))
    assert not server_store.nonce_used(nonce_digest(b"s" * 16))
    assert [k.key_id for k in server_store.list_keys()] == ["K1"]


def test_commit_replaces_same_key_id(server_store):
    server_store.commit_provisioning(ProvisioningCommit(key_record(), T0))
    renewed = key_record(secret=b"\x33" * 20)
    server_store.commit_provisioning(ProvisioningCommit(renewed, T0 + timedelta(seconds=1)))
    assert server_store.get_key("K1").secret == b"\x33" * 20
    assert len(server_store.list_keys()) == 1


def test_commit_with_replayed_nonce_writes_nothing(server_store):
    server_store.commit_provisioning(ProvisioningCommit(key_record("K0"), T0, nonces=(b"n1",)))
    server_store.put_authentication_code(code())
    server_store.put_session(SessionRecord("s1", T0, T0 + timedelta(seconds=300), "{}"))
    with pytest.raises(NonceReplayed) as info:
        server_store.commit_provisioning(ProvisioningCommit(key_record("K1"), T0, session_id="s1",
                                                            client_id="AC00000A", nonces=(b"n2", b"n1")))
    assert isinstance(info.value, CryptoFailure) and info.value.status == "Abort"
    assert server_store.get_key("K1") is None
    assert server_store.get_session("s1") is not None
    assert server_store.get_authentication_code("AC00000A").used_at is None
    assert not server_store.nonce_used(b"n2")


def test_commit_with_duplicate_nonce_in_one_commit_is_a_replay(server_store):
    with pytest.raises(NonceReplayed):
        server_store.commit_provisioning(ProvisioningCommit(key_record(), T0, nonces=(b"n", b"n")))
    assert server_store.get_key("K1") is None


def test_commit_with_used_authentication_code_writes_nothing(server_store):
    server_store.put_authentication_code(replace(code(), used_at=T0))
    with pytest.raises(AuthenticationCodeUsed) as info:
        server_store.commit_provisioning(ProvisioningCommit(key_record(), T0, client_id="AC00000A", nonces=(b"n",)))
    assert isinstance(info.value, ProtocolError) and info.value.status == "AuthenticationDataInvalid"
    assert server_store.get_key("K1") is None and not server_store.nonce_used(b"n")


def test_concurrent_commits_consume_a_nonce_once(server_store):
    results = []

    def attempt(i: int) -> None:
        try:
            server_store.commit_provisioning(ProvisioningCommit(key_record(f"K{i}"), T0, nonces=(b"same",)))
            results.append("ok")
        except NonceReplayed:
            results.append("replay")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok"] + ["replay"] * 7
    assert len(server_store.list_keys()) == 1


def test_token_store(token_store):
    assert token_store.get_key("K1") is None
    key = TokenKey("K1", "urn:ietf:params:xml:ns:keyprov:pskc:hotp", SECRET, T0, k_mac=K_MAC,
                   mac_algorithm="urn:ietf:params:xml:ns:keyprov:dskpp:prf-aes-128", server_id="https://s/",
                   attributes='{"counter":0}')
    token_store.commit_key(key)
    assert token_store.get_key("K1") == key
    token_store.commit_key(replace(key, secret=b"\x44" * 20))
    assert token_store.get_key("K1").secret == b"\x44" * 20
    assert [k.key_id for k in token_store.list_keys()] == ["K1"]


def test_reprs_show_fingerprints_only():
    records = [
        key_record(),
        TokenKey("K1", "alg", SECRET, T0, k_mac=K_MAC),
        replace(code(), trigger_document=b"<trigger secret-ad/>"),
        SessionRecord("s1", T0, T0, '{"r_s":"c2VjcmV0"}'),
    ]
    for record in records:
        text = repr(record)
        for secret in (SECRET.hex(), K_MAC.hex(), "0123456789ABCDEF", "secret-ad", "c2VjcmV0", str(SECRET)):
            assert secret not in text, (type(record).__name__, secret)
    assert "fp:" in repr(key_record())


def test_nonce_digest_is_labelled_sha256():
    import hashlib

    assert nonce_digest(b"abc") == hashlib.sha256(b"DSKPP used nonce" + b"abc").digest()
    assert nonce_digest(b"abc") != b"abc"
