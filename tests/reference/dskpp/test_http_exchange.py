"""Reference client and server over real HTTP on loopback, SQLite stores on both sides.

Issue 4's acceptance: every combination provisions; the key in the token store equals
the key in the server's store; an HOTP value computed on each side matches (the server's
side with reference/otp, the token's with pyotp, an independent implementation).
"""

from __future__ import annotations

import base64
import dataclasses
import secrets
from datetime import datetime, timezone
from pathlib import Path

import pyotp
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from harness.errors import ProtocolError
from reference.dskpp.client import ClientConfig, DskppClient, run
from reference.dskpp.http_client import HttpPoster
from reference.dskpp.http_server import ServerThread, create_app
from reference.dskpp.messages import EncryptionAlgorithmUri as Enc
from reference.dskpp.messages import MacAlgorithmUri as MacUri
from reference.dskpp.messages import Status
from reference.dskpp.policy import ServerPolicy
from reference.dskpp.server import DskppServer
from reference.dskpp.store_sqlite import SqliteServerStore, SqliteTokenStore
from reference.otp.hotp import hotp

SHARED_NAME, SHARED_KEY = "Pre-Shared-Key-1", bytes(range(16))
PASS_NAME, PASSPHRASE = "Passphrase-1", "correct horse battery staple"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
DEVICE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _now() -> datetime:
    return datetime.now(timezone.utc)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory):
    """A reference server on a loopback port, its SQLite store, and a token store per test."""
    folder = tmp_path_factory.mktemp("dskpp-http")
    thread = ServerThread()
    policy = ServerPolicy(rsa_private_key=RSA_KEY, shared_keys={SHARED_NAME: SHARED_KEY},
                          passphrases={PASS_NAME: PASSPHRASE}, four_pass_shared_key=SHARED_NAME,
                          server_urls=(thread.url,), passphrase_wrap_iterations=1000)
    store = SqliteServerStore(folder / "server.db")
    server = DskppServer(policy, store, clock=_now, random=secrets.token_bytes)
    thread.app = create_app(server)
    with thread:
        yield server, store, thread.url, folder
    store.close()


def _provision(lab, config: ClientConfig, *, trigger: bytes | None = None, tokens: SqliteTokenStore | None = None):
    server, store, url, folder = lab
    tokens = tokens or SqliteTokenStore(folder / f"tokens-{secrets.token_hex(4)}.db")
    config = dataclasses.replace(config, server_url=config.server_url or url)  # URL_S (Sec. 3.4.1.2)
    client = DskppClient(config, tokens, clock=_now, random=secrets.token_bytes)
    with HttpPoster(url) as post:
        result = run(client, post, trigger=trigger)
    return result, tokens


def _assert_same_key_both_sides(lab, result, tokens: SqliteTokenStore) -> bytes:
    _, store, _, _ = lab
    assert result.status is Status.SUCCESS and result.key is not None
    token_key = tokens.get_key(result.key.key_id)
    server_key = store.get_key(result.key.key_id)
    assert token_key is not None and server_key is not None
    assert token_key.secret == server_key.secret and len(token_key.secret) == 20
    b32 = base64.b32encode(token_key.secret).decode()
    for counter in (0, 1, 7):
        assert pyotp.HOTP(b32).at(counter) == hotp(server_key.secret, counter)
    return token_key.secret


def _ac(lab) -> str:
    server = lab[0]
    return server.issue_authentication_code(secrets.token_hex(4))


FOUR_PASS = [(enc, mac) for enc in (Enc.RSA_OAEP_MGF1P, Enc.RSA_1_5, "pre-shared") for mac in MacUri]


@pytest.mark.parametrize(("encryption", "mac"), FOUR_PASS, ids=[f"{getattr(e, 'name', e)}-{m.name}" for e, m in FOUR_PASS])
def test_four_pass(lab, encryption, mac) -> None:
    if encryption == "pre-shared":
        # The pre-shared variant encrypts R_C with the DSKPP-PRF XOR method (Sec. 4.2.3).
        config = ClientConfig(authentication_code=_ac(lab), encryption_algorithms=(mac.value,),
                              mac_algorithms=(mac.value,), shared_key=SHARED_KEY, shared_key_name=SHARED_NAME)
    else:
        config = ClientConfig(authentication_code=_ac(lab), encryption_algorithms=(encryption.value,),
                              mac_algorithms=(mac.value,))
    result, tokens = _provision(lab, config)
    _assert_same_key_both_sides(lab, result, tokens)


TWO_PASS = {
    "key-transport": dict(rsa_private_key=DEVICE_KEY),
    "key-wrap": dict(shared_key=SHARED_KEY, shared_key_name=SHARED_NAME),
    "passphrase": dict(passphrase=PASSPHRASE, shared_key_name=PASS_NAME),
}


@pytest.mark.parametrize("protection", sorted(TWO_PASS))
def test_two_pass(lab, protection: str) -> None:
    config = ClientConfig(variant="two-pass", protection=protection, authentication_code=_ac(lab), **TWO_PASS[protection])
    result, tokens = _provision(lab, config)
    _assert_same_key_both_sides(lab, result, tokens)


@pytest.mark.parametrize("variant", ["four-pass", "two-pass"])
def test_after_a_trigger(lab, variant: str) -> None:
    server, _, url, _ = lab
    client_id = secrets.token_hex(4)
    server.issue_authentication_code(client_id)
    trigger = server.trigger(client_id=client_id, server_url=url)
    extra = TWO_PASS["key-wrap"] if variant == "two-pass" else {}
    config = ClientConfig(variant=variant, protection="key-wrap" if variant == "two-pass" else None, **extra)
    result, tokens = _provision(lab, config, trigger=trigger)
    _assert_same_key_both_sides(lab, result, tokens)


@pytest.mark.parametrize("variant", ["four-pass", "two-pass"])
def test_key_renewal_replaces_the_key_on_both_sides(lab, variant: str) -> None:
    extra = dict(protection="key-wrap", **TWO_PASS["key-wrap"]) if variant == "two-pass" else {}
    first, tokens = _provision(lab, ClientConfig(variant=variant, authentication_code=_ac(lab), **extra))
    old = _assert_same_key_both_sides(lab, first, tokens)
    # The key's owner renews it (the server refuses anyone else: D-18).
    owner = lab[1].get_key(first.key.key_id).client_id
    renew = ClientConfig(variant=variant, authentication_code=lab[0].issue_authentication_code(owner),
                         renew_key_id=first.key.key_id, **extra)
    second, tokens = _provision(lab, renew, tokens=tokens)
    new = _assert_same_key_both_sides(lab, second, tokens)
    assert second.key.key_id == first.key.key_id and new != old


def test_wrong_authentication_code_stores_nothing_anywhere(lab) -> None:
    server, store, _, _ = lab
    before = len(store.list_keys())
    good = _ac(lab)
    # Same Client ID, another password: the AD MAC cannot verify (Sec. 3.4.1.2).
    from reference.dskpp.authcode import format_authentication_code, parse_authentication_code

    parsed = parse_authentication_code(good)
    other = "f" * len(parsed.password) if parsed.password != "f" * len(parsed.password) else "e" * len(parsed.password)
    forged = format_authentication_code(parsed.client_id, other, with_checksum=parsed.checksum is not None)
    config = ClientConfig(authentication_code=forged)
    result, tokens = _provision(lab, config)
    assert result.status is Status.AUTHENTICATION_DATA_INVALID and result.key is None
    assert tokens.list_keys() == [] and len(store.list_keys()) == before


def test_a_used_authentication_code_is_refused(lab) -> None:
    code = _ac(lab)
    first, tokens = _provision(lab, ClientConfig(authentication_code=code))
    _assert_same_key_both_sides(lab, first, tokens)
    second, tokens = _provision(lab, ClientConfig(authentication_code=code))
    assert second.key is None and second.status is not Status.SUCCESS
    assert tokens.list_keys() == []


def test_interpretation_alternatives_interoperate_when_both_sides_agree(lab, tmp_path: Path) -> None:
    from reference.dskpp.interpretation import Interpretation, MessageHashInput

    reading = Interpretation(message_hash_input=MessageHashInput.EXC_C14N)
    thread = ServerThread()
    policy = ServerPolicy(rsa_private_key=RSA_KEY, server_urls=(thread.url,), interpretation=reading)
    store = SqliteServerStore(tmp_path / "s.db")
    server = DskppServer(policy, store, clock=_now, random=secrets.token_bytes)
    thread.app = create_app(server)
    with thread:
        code = server.issue_authentication_code("0badc0de")
        config = ClientConfig(authentication_code=code, interpretation=reading, server_url=thread.url)
        tokens = SqliteTokenStore(tmp_path / "t.db")
        with HttpPoster(thread.url) as post:
            result = run(DskppClient(config, tokens, clock=_now, random=secrets.token_bytes), post)
        assert result.status is Status.SUCCESS
        assert tokens.get_key(result.key.key_id).secret == store.get_key(result.key.key_id).secret
        mismatched = dataclasses.replace(config, authentication_code=server.issue_authentication_code("0badc0df"),
                                         interpretation=Interpretation())
        tokens2 = SqliteTokenStore(tmp_path / "t2.db")
        with HttpPoster(thread.url) as post:
            try:
                outcome = run(DskppClient(mismatched, tokens2, clock=_now, random=secrets.token_bytes), post)
                refused = outcome.key is None
            except ProtocolError as exc:  # the client detects the disagreement: the MAC does not verify
                refused = exc.status is not None
        assert refused and tokens2.list_keys() == []


HOSTILE = {
    "entity-expansion": (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxxxx"><!ENTITY y "&x;&x;&x;&x;">]>'
                         b'<dskpp:KeyProvClientHello xmlns:dskpp="urn:ietf:params:xml:ns:keyprov:dskpp" Version="1.0">'
                         b'&y;</dskpp:KeyProvClientHello>'),
    "huge-body": b'<dskpp:KeyProvClientHello xmlns:dskpp="urn:ietf:params:xml:ns:keyprov:dskpp" Version="1.0">'
                 + b"<!--" + b"a" * (3 << 20) + b"-->",
    "schema-invalid": b'<dskpp:KeyProvClientHello xmlns:dskpp="urn:ietf:params:xml:ns:keyprov:dskpp" Version="1.0"/>',
    "unknown-session": (b'<dskpp:KeyProvClientNonce xmlns:dskpp="urn:ietf:params:xml:ns:keyprov:dskpp" Version="1.0" '
                        b'SessionID="no-such-session"><dskpp:EncryptedNonce>AAAA</dskpp:EncryptedNonce>'
                        b'</dskpp:KeyProvClientNonce>'),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_requests_get_a_status_in_a_well_formed_response_and_commit_nothing(lab, name: str) -> None:
    import httpx

    from reference.dskpp import codec
    from reference.dskpp.http_client import REQUEST_HEADERS

    _, store, url, _ = lab
    before = len(store.list_keys())
    response = httpx.post(url, content=HOSTILE[name], headers=REQUEST_HEADERS, timeout=30)
    assert response.status_code == 200
    answer = codec.decode(response.content)  # well-formed and schema-valid
    assert answer.status in (Status.MALFORMED_REQUEST, Status.ABORT, Status.UNKNOWN_REQUEST)
    assert len(store.list_keys()) == before


def test_not_xml_at_all_is_http_400(lab) -> None:
    import httpx

    from reference.dskpp.http_client import REQUEST_HEADERS

    response = httpx.post(lab[2], content=b"GET / HTTP/1.0", headers=REQUEST_HEADERS)
    assert response.status_code == 400  # Sec. 7.2.4: not a DSKPP Client message (D-10)
