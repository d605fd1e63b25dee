"""reference/dskpp/peer.py: the scriptable, misbehaving server of the client-under-test suite.

Each misbehaviour is played against the reference client in memory (no HTTP): the honest
peer provisions the key both sides then hold; every misbehaviour makes the reference
client refuse with the check the RFC names, and leaves its token store as it was.  The
expectations are the client's independent checks (its MAC verification, its SessionID
and status rules) and the token store's contents, not values the peer reports about
itself."""

from __future__ import annotations

import pytest
from lxml import etree

from harness.errors import ProtocolError
from harness.redaction import fingerprint
from reference.dskpp import codec
from reference.dskpp.client import ClientConfig, DskppClient, run
from reference.dskpp.messages import KeyProvServerFinished, KeyProvServerHello, Status
from reference.dskpp.peer import MISBEHAVIOURS, PeerServer, Script, strip_keys
from reference.dskpp.policy import ServerPolicy
from reference.dskpp.store import MemoryTokenStore

from .engine_kit import AES_CBC, HOTP, KW_AES, PRF_SHA256, PSK, PSK_NAME, RSA_1_5, SERVER_URL, Clock, seeded

WRAP = {"variant": "two-pass", "protection": "key-wrap", "shared_key": PSK, "shared_key_name": PSK_NAME}


@pytest.fixture
def peer(server_key) -> PeerServer:
    policy = ServerPolicy(rsa_private_key=server_key, shared_keys={PSK_NAME: PSK}, four_pass_shared_key=PSK_NAME,
                          server_urls=(SERVER_URL,))
    return PeerServer(policy, clock=Clock(), random=seeded(3))


def _client(peer: PeerServer, seed: int, tokens: MemoryTokenStore, client_id: str | None = None, **config):
    code, _ = peer.issue_ac(client_id)
    return DskppClient(ClientConfig(authentication_code=code, server_url=SERVER_URL, **config), tokens,
                       clock=peer.clock, random=seeded(seed))


def _post(peer: PeerServer):
    return lambda body: peer.handle(body).body


def _provision(peer, seed, tokens, **config):
    return run(_client(peer, seed, tokens, **config), _post(peer))


@pytest.mark.parametrize("config", [{}, WRAP], ids=["four-pass", "two-pass"])
def test_honest_peer_provisions_the_key_the_client_holds(peer, config):
    tokens = MemoryTokenStore()
    result = _provision(peer, 10, tokens, **config)
    assert result.status is Status.SUCCESS and peer.tampered == 0
    held = tokens.get_key(result.key.key_id)
    stored = peer.key(result.key.key_id)
    assert stored["fingerprint"] == fingerprint(held.secret)
    from reference.otp.hotp import hotp

    assert stored["hotp"] == [hotp(held.secret, c) for c in range(3)]
    roots = [etree.QName(etree.fromstring(e.request)).localname for e in peer.exchanges]
    assert roots == (["KeyProvClientHello", "KeyProvClientNonce"] if not config else ["KeyProvClientHello"])
    assert peer.requests("KeyProvClientHello")[0] == peer.exchanges[0].request


def test_configure_narrows_what_the_peer_picks(peer):
    peer.configure(encryption_algorithms=(RSA_1_5,), mac_algorithms=(PRF_SHA256,))
    client = _client(peer, 11, MemoryTokenStore())
    hello = peer.handle(client.first_request())
    reply = codec.decode(hello.body)
    assert isinstance(reply, KeyProvServerHello) and reply.status is Status.CONTINUE
    assert (reply.encryption_algorithm, reply.mac_algorithm) == (RSA_1_5, PRF_SHA256)
    peer.configure(encryption_algorithms=(KW_AES,))
    only = _client(peer, 12, MemoryTokenStore(), encryption_algorithms=(RSA_1_5,))
    refused = codec.decode(peer.handle(only.first_request()).body)
    assert refused.status is Status.NO_SUPPORTED_ENCRYPTION_ALGORITHMS


def _refused(peer, tokens, seed, **config) -> ProtocolError | Status:
    before = {k.key_id: fingerprint(k.secret) for k in tokens.list_keys()}
    client = _client(peer, seed, tokens, **config)
    try:
        result = run(client, _post(peer))
    except ProtocolError as exc:
        outcome: ProtocolError | Status = exc
    else:
        outcome = result.status
        assert result.key is None, "the client accepted the altered run"
    assert {k.key_id: fingerprint(k.secret) for k in tokens.list_keys()} == before
    assert peer.tampered == 1
    return outcome


@pytest.mark.parametrize("config", [{}, WRAP], ids=["four-pass", "two-pass"])
def test_wrong_key_confirmation_mac_is_refused(peer, config):
    peer.configure("wrong-key-confirmation-mac")
    error = _refused(peer, MemoryTokenStore(), 20, **config)
    assert isinstance(error, ProtocolError) and error.where.endswith("KeyProvServerFinished/Mac")
    # The peer's engine did its honest work: it committed the key the client never got.
    assert len(peer.store.list_keys()) == 1


@pytest.mark.parametrize("config", [{}, WRAP], ids=["four-pass", "two-pass"])
def test_impostor_server_auth_mac_is_refused_and_the_genuine_record_restored(peer, config):
    tokens = MemoryTokenStore()
    first = _provision(peer, 21, tokens, **config)
    genuine = peer.store.get_key(first.key.key_id)
    owner = genuine.client_id
    peer.configure("wrong-server-auth-mac")
    error = _refused(peer, tokens, 22, client_id=owner, renew_key_id=first.key.key_id, **config)
    assert isinstance(error, ProtocolError) and "Mac" in error.where
    if not config:  # four-pass: refused at the hello, the peer's record is the genuine one again
        assert peer.store.get_key(first.key.key_id) == genuine


def test_impostor_hello_is_consistent_with_its_own_transcript(peer):
    """A client that ignores the renewal MAC completes the run: only that MAC was wrong."""
    from reference.dskpp import client_flows

    tokens = MemoryTokenStore()
    first = _provision(peer, 23, tokens)
    owner = peer.store.get_key(first.key.key_id).client_id
    peer.configure("wrong-server-auth-mac")
    saved = client_flows._verify_renewal_mac
    client_flows._verify_renewal_mac = lambda *a, **k: None
    try:
        result = _provision(peer, 24, tokens, client_id=owner, renew_key_id=first.key.key_id)
    finally:
        client_flows._verify_renewal_mac = saved
    assert result.status is Status.SUCCESS and peer.tampered == 1


@pytest.mark.parametrize("config", [{}, WRAP], ids=["four-pass", "two-pass"])
def test_mismatched_nonce_replays_the_previous_finished(peer, config):
    tokens = MemoryTokenStore()
    _provision(peer, 25, tokens, **config)
    peer.configure("mismatched-nonce")
    error = _refused(peer, tokens, 26, **config)
    assert isinstance(error, ProtocolError) and "Mac" in error.where
    sent = [e for e in peer.exchanges if e.tampered]
    assert sent and codec.decode(sent[0].response).status is Status.SUCCESS


def test_mismatched_nonce_without_a_previous_run_does_nothing(peer):
    peer.configure("mismatched-nonce")
    assert _provision(peer, 27, MemoryTokenStore()).status is Status.SUCCESS and peer.tampered == 0


def test_mismatched_session_is_refused(peer):
    peer.configure("mismatched-session")
    error = _refused(peer, MemoryTokenStore(), 28)
    assert isinstance(error, ProtocolError) and error.where.endswith("@SessionID")


@pytest.mark.parametrize("config", [{}, WRAP], ids=["four-pass", "two-pass"])
def test_malformed_key_package_is_refused(peer, config):
    peer.configure("malformed-key-package")
    error = _refused(peer, MemoryTokenStore(), 29, **config)
    assert isinstance(error, ProtocolError)
    altered = next(e.response for e in peer.exchanges if e.tampered)
    message = codec.decode(altered)  # still schema-valid: the KeyPackage lost its Key only
    assert isinstance(message, KeyProvServerFinished) and b"pskc:Key " not in altered


@pytest.mark.parametrize("script,config,expect", [
    (Script("unexpected-status", "Continue", "finished"), {}, "@Status"),
    (Script("unexpected-status", "Abort", "finished"), WRAP, Status.ABORT),
    (Script("unexpected-status", "Success", "hello"), {}, "@Status"),
], ids=["finished-continue", "finished-abort-two-pass", "hello-success"])
def test_unexpected_status_is_refused(peer, script, config, expect):
    peer.configure(script)
    outcome = _refused(peer, MemoryTokenStore(), 30, **config)
    if isinstance(expect, Status):
        assert outcome is expect
    else:
        assert isinstance(outcome, ProtocolError) and outcome.where.endswith(expect)


def test_script_validation():
    assert set(MISBEHAVIOURS) >= {"none", "unexpected-status"}
    with pytest.raises(ValueError):
        Script("nonsense")
    with pytest.raises(ValueError):
        Script("unexpected-status", "NotAStatus")
    with pytest.raises(ValueError):
        Script("unexpected-status", "Abort", "trigger")


def test_strip_keys_needs_a_key_package():
    assert strip_keys(b'<dskpp:KeyProvServerFinished xmlns:dskpp="urn:ietf:params:xml:ns:keyprov:dskpp" '
                      b'Version="1.0" Status="Abort"/>') is None


def test_handle_never_raises_and_records_garbage(peer):
    outcome = peer.handle(b"not xml at all")
    assert outcome.http_status == 400 and peer.exchanges[-1].request == b"not xml at all"


def test_serves_http_with_its_url_as_url_s(server_key):
    """Over HTTP the peer's own URL is URL_S (the AD MAC covers it, Sec. 3.4.1.2)."""
    from reference.dskpp.http_client import HttpPoster

    peer = PeerServer(ServerPolicy(rsa_private_key=server_key, shared_keys={PSK_NAME: PSK}))
    with peer:
        assert peer.policy.server_urls == (peer.url,)
        code, _ = peer.issue_ac()
        config = ClientConfig(authentication_code=code, server_url=peer.url, variant="two-pass",
                              protection="key-wrap", shared_key=PSK, shared_key_name=PSK_NAME,
                              encryption_algorithms=(AES_CBC,), key_types=(HOTP,))
        tokens = MemoryTokenStore()
        with HttpPoster(peer.url) as post:
            result = run(DskppClient(config, tokens, clock=peer.clock, random=seeded(31)), post)
        assert result.status is Status.SUCCESS and tokens.get_key(result.key.key_id) is not None
        trigger = codec.decode(peer.trigger())
        assert trigger.trigger.server_url == peer.url
