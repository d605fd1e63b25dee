"""Reference server: input classification (Sec. 7.2.4), hostile input, out-of-band
operations (issue_authentication_code, trigger), and what it logs and stores."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from reference.dskpp import codec
from reference.dskpp.authcode import parse_authentication_code
from reference.dskpp.messages import (
    KeyProvClientHello,
    KeyProvServerFinished,
    KeyProvServerHello,
    KeyProvTrigger,
    ProtocolVariants,
    Status,
)
from reference.dskpp.policy import ServerPolicy
from reference.dskpp.server import DskppServer
from reference.dskpp.store import MemoryServerStore
from reference.dskpp.userauth import TRIGGER_NONCE_LENGTH

from .engine_kit import HOTP, PRF_AES, PSK, PSK_NAME, RSA_OAEP, SERVER_URL, Lab, seeded

NS = "urn:ietf:params:xml:ns:keyprov:dskpp"
HELLO = KeyProvClientHello(version="1.0", supported_key_types=(HOTP,), supported_encryption_algorithms=(RSA_OAEP,),
                           supported_mac_algorithms=(PRF_AES,), supported_protocol_variants=ProtocolVariants(four_pass=True))


@pytest.fixture
def lab(server_key) -> Lab:
    return Lab(ServerPolicy(rsa_private_key=server_key, shared_keys={PSK_NAME: PSK}, four_pass_shared_key=PSK_NAME))


# ----------------------------------------------------------------------------- classification
@pytest.mark.parametrize("body", [
    b"",
    b"   \n",
    b"GET / HTTP/1.1",
    b"<html><body>hello</body></html>",
    b'<foo:KeyProvClientHello xmlns:foo="urn:not-dskpp" Version="1.0"/>',
    b'<?xml version="1.0" encoding="UTF-16"?><x/>',
    b"\xff\xfe<\x00x\x00/\x00>\x00",
    b"<KeyProvClientHello Version='1.0'/>",  # no namespace
], ids=["empty", "blank", "http", "html", "foreign-ns", "utf16-decl", "utf16-bom", "no-ns"])
def test_not_a_dskpp_client_message_is_400(lab, body):
    outcome = lab.server.handle(body)
    assert outcome.http_status == 400 and outcome.body == b"" and outcome.status is None
    assert "7.2.4" in outcome.reason


@pytest.mark.parametrize("vector", ["B.2.3-KeyProvServerHello.xml", "B.2.6-KeyProvServerFinished.xml",
                                    "B.1-KeyProvTrigger.xml"])
def test_server_messages_sent_to_the_server_are_400(lab, vector):
    from harness.vectors import vector_path

    outcome = lab.server.handle(vector_path(f"dskpp/rfc6063-appendix-b/{vector}").read_bytes())
    assert outcome.http_status == 400 and "not a client request" in outcome.reason


@pytest.mark.parametrize(("body", "pdu"), [
    (b'<dskpp:KeyProvClientHello xmlns:dskpp="urn:ietf:params:xml:ns:keyprov:dskpp" Version="1.0">', KeyProvServerHello),
    (b'<dskpp:KeyProvClientNonce xmlns:dskpp="urn:ietf:params:xml:ns:keyprov:dskpp" SessionID="1"><', KeyProvServerFinished),
    (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><dskpp:KeyProvClientHello xmlns:dskpp="urn:ietf:params:xml:ns:keyprov:dskpp" '
     b'Version="1.0">&a;</dskpp:KeyProvClientHello>', KeyProvServerHello),
    (b'<dskpp:KeyProvClientHello xmlns:dskpp="urn:ietf:params:xml:ns:keyprov:dskpp" Version="1.0">'
     + b"<x>" * 100 + b"</x>" * 100 + b"</dskpp:KeyProvClientHello>", KeyProvServerHello),
    (b'<dskpp:KeyProvClientHello xmlns:dskpp="urn:ietf:params:xml:ns:keyprov:dskpp" Version="1.0"/>'
     + b" " * (1 << 20), KeyProvServerHello),
], ids=["truncated-hello", "truncated-nonce", "dtd-entity", "too-deep", "too-large"])
def test_unreadable_dskpp_requests_get_malformed_request(lab, body, pdu):
    outcome = lab.server.handle(body)
    assert outcome.http_status == 200 and outcome.status is Status.MALFORMED_REQUEST
    message = codec.decode(outcome.body)
    assert isinstance(message, pdu) and message.status is Status.MALFORMED_REQUEST


def test_schema_invalid_client_nonce_keeps_its_session_id(lab):
    body = (b'<dskpp:KeyProvClientNonce xmlns:dskpp="urn:ietf:params:xml:ns:keyprov:dskpp" Version="1.0" '
            b'SessionID="abc"><dskpp:Bogus/></dskpp:KeyProvClientNonce>')
    outcome = lab.server.handle(body)
    message = codec.decode(outcome.body)
    assert isinstance(message, KeyProvServerFinished) and message.session_id == "abc"
    assert message.status is Status.MALFORMED_REQUEST


def test_rfc_example_hellos_are_answered(lab):
    """The App. B hellos parse and get an RFC status, never an error."""
    from harness.vectors import vector_path

    for name in ("B.2.1", "B.2.2", "B.3.1", "B.3.2", "B.3.3"):
        body = vector_path(f"dskpp/rfc6063-appendix-b/{name}-KeyProvClientHello.xml").read_bytes()
        outcome = lab.server.handle(body)
        assert outcome.http_status == 200, name
        assert outcome.status is not Status.SUCCESS and lab.store.list_keys() == []


# ----------------------------------------------------------------------------- never raises
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=600))
def test_any_bytes_never_raise(lab, body):
    outcome = lab.server.handle(body)
    assert outcome.http_status in (200, 400)
    if outcome.http_status == 200:
        codec.decode(outcome.body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_mutated_requests_never_raise(lab, data):
    base = codec.encode(HELLO)
    position = data.draw(st.integers(0, len(base) - 1))
    insert = data.draw(st.binary(min_size=0, max_size=8))
    cut = data.draw(st.integers(0, 8))
    body = base[:position] + insert + base[position + cut:]
    outcome = lab.server.handle(body)
    assert outcome.http_status in (200, 400)
    assert lab.store.list_keys() == []


def test_non_bytes_body_is_400(lab):
    assert lab.server.handle("<not bytes/>").http_status == 400  # type: ignore[arg-type]


def test_internal_error_is_500_without_body(server_key):
    class BrokenStore(MemoryServerStore):
        def get_session(self, session_id):
            raise RuntimeError("disk on fire")

    server = DskppServer(ServerPolicy(rsa_private_key=server_key), BrokenStore(), clock=lambda: None,
                         random=seeded(1))
    body = (b'<dskpp:KeyProvClientNonce xmlns:dskpp="urn:ietf:params:xml:ns:keyprov:dskpp" Version="1.0" '
            b'SessionID="abc"><dskpp:EncryptedNonce>AAAA</dskpp:EncryptedNonce></dskpp:KeyProvClientNonce>')
    outcome = server.handle(body)
    assert outcome.http_status == 500 and outcome.body == b"" and "RuntimeError" in outcome.reason
    assert "disk on fire" not in outcome.reason


def test_store_failure_at_commit_is_initialization_failed(server_key):
    class FullStore(MemoryServerStore):
        def commit_provisioning(self, commit):
            raise OSError("no space left")

    lab = Lab(ServerPolicy(rsa_private_key=server_key, require_authentication=False), store=FullStore())
    result = lab.run(lab.client(1))
    assert result.status is Status.INITIALIZATION_FAILED and result.key is None
    assert lab.store.list_keys() == []


# ----------------------------------------------------------------------------- out of band
def test_issue_authentication_code(lab):
    ac = lab.server.issue_authentication_code()
    parsed = parse_authentication_code(ac)  # checksum verified (Sec. 3.4.1.1)
    record = lab.store.get_authentication_code(parsed.client_id)
    assert record.password == parsed.password and len(parsed.password) == 16 and len(parsed.client_id) == 8
    assert record.issued_at == lab.clock() and record.used_at is None
    assert (record.expires_at - record.issued_at).total_seconds() == lab.policy.ac_lifetime_s
    assert ac.startswith("108" + parsed.client_id + "210" + parsed.password + "304")
    assert lab.server.issue_authentication_code("AC00000A").startswith("108AC00000A")


def test_issue_authentication_code_for_a_text_client_id(lab):
    """Sec. 3.4.1.1: non-hex input is SASLprep'd, UTF-8 encoded, written as hex."""
    ac = lab.server.issue_authentication_code("myclient!ID")
    assert parse_authentication_code(ac).client_id == "6D79636C69656E74214944"


def test_trigger_document(lab):
    _, client_id = lab.issue()
    first = lab.run(lab.client(2, authentication_code=lab.issue(client_id)[0]))
    _, client_id = lab.issue(client_id)
    document = lab.server.trigger(client_id=client_id, key_id=first.key.key_id.encode())
    message = codec.decode(document)
    assert isinstance(message, KeyProvTrigger) and message.version == "1.0"
    trigger = message.trigger
    assert trigger.server_url == SERVER_URL and trigger.key_id == first.key.key_id.encode()
    ad = trigger.authentication_data
    assert ad.client_id == client_id and len(ad.code_mac.nonce) == TRIGGER_NONCE_LENGTH
    assert ad.code_mac.iteration_count == lab.policy.ac_iteration_count and len(ad.code_mac.mac.value) == 16
    assert lab.store.get_authentication_code(client_id).trigger_document == document
    password = lab.store.get_authentication_code(client_id).password
    assert password.encode() not in document  # Sec. 4.2.1: AD, not the AC


def test_trigger_refuses_unknown_or_used_codes_and_unknown_keys(lab):
    from harness.errors import InputError

    with pytest.raises(InputError):
        lab.server.trigger(client_id="FFFFFFFF")
    code, client_id = lab.issue()
    with pytest.raises(InputError):
        lab.server.trigger(client_id=client_id, key_id=b"NO-SUCH-KEY")
    assert lab.run(lab.client(3, authentication_code=code)).status is Status.SUCCESS
    with pytest.raises(InputError):
        lab.server.trigger(client_id=client_id)


# ----------------------------------------------------------------------------- secrets
def _spellings(secret: bytes) -> list[str]:
    return [secret.hex(), secret.hex().upper(), base64.b64encode(secret).decode()]


def test_reasons_and_session_state_hold_no_secrets(server_key):
    lab = Lab(ServerPolicy(rsa_private_key=server_key, shared_keys={PSK_NAME: PSK}, four_pass_shared_key=PSK_NAME))
    code, client_id = lab.issue()
    client = lab.client(4, authentication_code=code, shared_key=PSK, shared_key_name=PSK_NAME,
                        encryption_algorithms=("urn:ietf:params:xml:ns:keyprov:dskpp:prf-sha256",))
    first = client.first_request()
    lab.post(first)
    session_id = lab.outcomes[-1].session_id
    state = lab.store.get_session(session_id).state
    json.loads(state)
    nonce = client.receive(lab.outcomes[-1].body).body
    r_c = client.run_state["r_c"]
    lab.post(nonce)
    key = lab.store.list_keys()[0]
    password = lab.store.get_authentication_code(client_id).password
    secrets = [key.secret, key.k_mac, PSK, r_c, password.encode()]
    texts = [o.reason for o in lab.outcomes] + [state]
    for secret in secrets:
        for spelling in _spellings(secret) + [secret.decode("latin-1")]:
            for text in texts:
                assert spelling not in text


def test_expired_sessions_are_purged_on_the_next_hello(lab):
    session_id = lab.server.handle(codec.encode(HELLO)).session_id
    assert lab.store.get_session(session_id) is not None
    lab.clock.advance(lab.policy.session_timeout_s + 1)
    lab.server.handle(codec.encode(HELLO))
    assert lab.store.get_session(session_id) is None


def test_every_server_hello_has_a_fresh_session_id(lab):
    ids = {codec.decode(lab.server.handle(codec.encode(replace(HELLO, version=v))).body).session_id
           for v in ("1.0", "1.0", "2.0", "2.0")}
    assert len(ids) == 4 and None not in ids


def test_minor_version_is_ignored(lab):
    """Sec. 1.2: "6.01" is 6.1; a larger minor is ignored by a 1.0 server."""
    assert codec.decode(lab.server.handle(codec.encode(replace(HELLO, version="1.07"))).body).status is Status.CONTINUE
    assert codec.decode(lab.server.handle(codec.encode(replace(HELLO, version="01.0"))).body).status is Status.CONTINUE
    assert codec.decode(lab.server.handle(codec.encode(replace(HELLO, version="0.9"))).body).status is \
        Status.UNSUPPORTED_VERSION


def test_response_carries_the_rfc_media_type(lab):
    assert lab.server.handle(codec.encode(HELLO)).content_type == "application/dskpp+xml"
    root = etree.fromstring(lab.server.handle(codec.encode(HELLO)).body)
    assert etree.QName(root).namespace == NS
