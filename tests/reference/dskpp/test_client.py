"""The reference client refuses what RFC 6063 says it must, and stores nothing then.

Responses are tampered between server.handle and client.receive.  Each refusal must be a
ProtocolError child carrying ``where`` and ``spec``; the token store must stay as it was
(Sec. 4.2.3, 4.2.5, 5.2.3: "MUST terminate ... and MUST delete any nonces, keys, and/or
secrets"; Sec. 10.2.3: the module MUST NOT commit before the final MAC validated).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.errors import CryptoFailure, InputError, ProtocolError, SchemaViolation
from reference import pskc
from reference.dskpp import codec, keypackage
from reference.dskpp.authcode import format_authentication_code
from reference.dskpp.client import ClientConfig, ClientResult, NextRequest
from reference.dskpp.client_states import ClientState
from reference.dskpp.messages import (
    AuthenticationCodeMac,
    KeyPackage,
    KeyProvClientHello,
    Mac,
    Payload,
    Status,
)
from reference.dskpp.policy import KeyTypePolicy, ServerPolicy
from reference.dskpp.store import MemoryTokenStore, TokenKey

from .engine_kit import AES_CBC, KW_AES, PRF_SHA256, PSK, PSK_NAME, T0, Lab

WRAP = {"variant": "two-pass", "protection": "key-wrap", "shared_key": PSK, "shared_key_name": PSK_NAME}


@pytest.fixture
def lab(server_key) -> Lab:
    return Lab(ServerPolicy(rsa_private_key=server_key, shared_keys={PSK_NAME: PSK}, four_pass_shared_key=PSK_NAME,
                            require_authentication=False))


def retouch(body: bytes, **changes) -> bytes:
    return codec.encode(replace(codec.decode(body), **changes))


def flip(value: bytes) -> bytes:
    return bytes([value[0] ^ 0x01]) + value[1:]


def refused(lab: Lab, client, tamper, error=ProtocolError, trigger=None) -> ProtocolError:
    before = list(client.token_store.list_keys())
    with pytest.raises(error) as info:
        lab.run(client, trigger=trigger, tamper=tamper)
    exc = info.value
    assert exc.where and exc.spec, exc
    assert client.token_store.list_keys() == before  # nothing stored or changed
    assert client.state is ClientState.FAILED and client.run_state == {}
    return exc


def at(index: int, change):
    """tamper() that changes only the response number ``index``."""
    return lambda i, body: change(body) if i == index else body


# ----------------------------------------------------------------------------- MACs
def test_wrong_four_pass_key_confirmation_mac(lab):
    def wrong_mac(body: bytes) -> bytes:
        message = codec.decode(body)
        return retouch(body, mac=Mac(flip(message.mac.value), message.mac.algorithm))

    exc = refused(lab, lab.client(1), at(1, wrong_mac), CryptoFailure)
    assert "4.2.5" in exc.spec
    assert len(lab.store.list_keys()) == 1  # the server committed; the client did not (Sec. 10.2.3)


def test_wrong_two_pass_key_confirmation_mac(lab):
    def wrong_mac(body: bytes) -> bytes:
        message = codec.decode(body)
        return retouch(body, mac=Mac(flip(message.mac.value), message.mac.algorithm))

    exc = refused(lab, lab.client(2, **WRAP), at(0, wrong_mac), CryptoFailure)
    assert "5.2.3" in exc.spec


def _provisioned(lab: Lab, seed: int, **config) -> tuple[MemoryTokenStore, str]:
    tokens = MemoryTokenStore()
    result = lab.run(lab.client(seed, tokens, **config))
    assert result.status is Status.SUCCESS
    return tokens, result.key.key_id


def test_wrong_two_pass_server_authentication_mac(lab):
    tokens, key_id = _provisioned(lab, 3, **WRAP)

    def wrong_ad(body: bytes) -> bytes:
        message = codec.decode(body)
        mac = message.authentication_data.mac
        return retouch(body, authentication_data=AuthenticationCodeMac(Mac(flip(mac.value), mac.algorithm)))

    refused(lab, lab.client(4, tokens, renew_key_id=key_id, **WRAP), at(0, wrong_ad), CryptoFailure)


def test_missing_two_pass_server_authentication_mac(lab):
    tokens, key_id = _provisioned(lab, 5, **WRAP)
    exc = refused(lab, lab.client(6, tokens, renew_key_id=key_id, **WRAP),
                  at(0, lambda body: retouch(body, authentication_data=None)), CryptoFailure)
    assert "5.2.3" in exc.spec


def test_wrong_four_pass_renewal_mac(lab):
    tokens, key_id = _provisioned(lab, 7)

    def wrong_mac(body: bytes) -> bytes:
        message = codec.decode(body)
        return retouch(body, mac=Mac(flip(message.mac.value), message.mac.algorithm))

    exc = refused(lab, lab.client(8, tokens, renew_key_id=key_id), at(0, wrong_mac), CryptoFailure)
    assert "4.2.3" in exc.spec


def test_missing_four_pass_renewal_mac(lab):
    tokens, key_id = _provisioned(lab, 9)
    refused(lab, lab.client(10, tokens, renew_key_id=key_id), at(0, lambda body: retouch(body, mac=None)), CryptoFailure)


# ----------------------------------------------------------------------------- nonces, sessions
def test_tampered_server_nonce_breaks_key_confirmation(lab):
    """A changed R_S (Sec. 10.2.2): client and server derive different keys; the MAC says so."""
    def other_nonce(body: bytes) -> bytes:
        message = codec.decode(body)
        return retouch(body, payload=Payload(nonce=flip(message.payload.nonce)))

    refused(lab, lab.client(11), at(0, other_nonce), CryptoFailure)


def test_mismatched_session_id(lab):
    exc = refused(lab, lab.client(12), at(1, lambda body: retouch(body, session_id="someone-else")), SchemaViolation)
    assert exc.where.endswith("@SessionID")


def test_server_hello_without_session_id(lab):
    refused(lab, lab.client(13), at(0, lambda body: retouch(body, session_id=None)), SchemaViolation)


def test_unoffered_algorithm_is_refused(lab):
    refused(lab, lab.client(14, mac_algorithms=("urn:ietf:params:xml:ns:keyprov:dskpp:prf-aes-128",)),
            at(0, lambda body: retouch(body, mac_algorithm=PRF_SHA256)), SchemaViolation)


def test_pinned_server_key_mismatch(lab, device_key):
    refused(lab, lab.client(15, server_public_key=device_key.public_key()), lambda i, b: b, CryptoFailure)


# ----------------------------------------------------------------------------- key packages
def _container_with(key: pskc.Key) -> bytes:
    return keypackage.four_pass_container(key, None) if key.data.secret is None else keypackage.wrap_document(
        pskc.encode(pskc.KeyContainer(key_packages=(pskc.KeyPackage(key=key),)), pretty=False))


def test_four_pass_key_package_carrying_a_key_is_refused(lab):
    """Sec. 4.2.4: "The key package MUST NOT include K_TOKEN"."""
    leaky = keypackage.key_model("LEAK", KeyTypePolicy(), "https://dskpp.example/", b"\x00" * 20)

    def with_secret(body: bytes) -> bytes:
        message = codec.decode(body)
        package = replace(message.key_package, key_container=_container_with(leaky))
        return retouch(body, key_package=package)

    exc = refused(lab, lab.client(16), at(1, with_secret), SchemaViolation)
    assert "Secret" in exc.where


def test_key_package_for_another_key_type_is_refused(lab):
    other = keypackage.key_model("K", KeyTypePolicy(uri="urn:ietf:params:xml:ns:keyprov:pskc#totp"), "x", None)
    refused(lab, lab.client(17), at(1, lambda body: retouch(body, key_package=KeyPackage(
        server_id="https://dskpp.example/", key_container=keypackage.four_pass_container(other, None)))),
        SchemaViolation)


def test_malformed_key_package_is_refused(lab):
    broken = b"<dskpp:KeyPackage><dskpp:KeyContainer Version=\"1.0\"><pskc:Junk/></dskpp:KeyContainer>"

    def malformed(body: bytes) -> bytes:
        start = body.index(b"<dskpp:KeyPackage>")
        end = body.index(b"</dskpp:KeyContainer>") + len(b"</dskpp:KeyContainer>")
        return body[:start] + broken + body[end:]

    exc = refused(lab, lab.client(18), at(1, malformed), SchemaViolation)
    assert exc.status == "MalformedRequest"  # the codec's finding for a schema violation (D-3)


def test_two_pass_key_package_with_wrong_key_is_refused(lab):
    """A container wrapped under another K_SHARED: unwrapping fails, nothing is stored."""
    other_key = bytes(16)

    def rewrapped(body: bytes) -> bytes:
        message = codec.decode(body)
        key = keypackage.key_model("K", KeyTypePolicy(), "x", b"\x01" * 40)
        container = keypackage.two_pass_wrapped(key, None, protection=pskc.PreSharedKey(other_key, "kw-aes128", PSK_NAME),
                                                rng=lambda n: b"\x02" * n)
        return retouch(body, key_package=replace(message.key_package, key_container=container))

    refused(lab, lab.client(19, **{**WRAP, "encryption_algorithms": (KW_AES,)}), at(0, rewrapped), CryptoFailure)


def test_two_pass_key_package_with_unoffered_algorithm_is_refused(lab):
    """I-30: the client offered only aes128-cbc; a kw-aes128 container is refused."""
    def rewrapped(body: bytes) -> bytes:
        message = codec.decode(body)
        key = keypackage.key_model("K", KeyTypePolicy(), "x", b"\x01" * 40)
        container = keypackage.two_pass_wrapped(key, None, protection=pskc.PreSharedKey(PSK, "kw-aes128", PSK_NAME),
                                                rng=lambda n: b"\x02" * n)
        return retouch(body, key_package=replace(message.key_package, key_container=container))

    exc = refused(lab, lab.client(20, **{**WRAP, "encryption_algorithms": (AES_CBC,)}), at(0, rewrapped),
                  SchemaViolation)
    assert "I-30" in exc.message


def test_two_pass_without_server_id_is_refused(lab):
    """I-29 default: the MACs need ServerID (Sec. 5.2.2), as App. B.3 omits it."""
    def no_server_id(body: bytes) -> bytes:
        message = codec.decode(body)
        return retouch(body, key_package=replace(message.key_package, server_id=None))

    refused(lab, lab.client(21, **WRAP), at(0, no_server_id), SchemaViolation)


def test_new_key_may_not_overwrite_a_stored_key(lab, server_key):
    """Sec. 4.2.5: overwriting needs an authorizing MAC, i.e. a renewal."""
    def fresh() -> Lab:
        return Lab(ServerPolicy(rsa_private_key=server_key, require_authentication=False), seed=99)

    first = fresh().run(fresh().client(22))
    tokens = MemoryTokenStore()
    tokens.commit_key(TokenKey(first.key.key_id, "urn:ietf:params:xml:ns:keyprov:pskc:hotp", b"\x07" * 20, T0))
    again = fresh()
    exc = refused(again, again.client(22, tokens), lambda i, b: b, SchemaViolation)
    assert "overwrite" in exc.message
    assert tokens.get_key(first.key.key_id).secret == b"\x07" * 20


# ----------------------------------------------------------------------------- statuses, states
def test_failure_status_returns_result_and_stores_nothing(lab):
    client = lab.client(23, key_types=("http://example/unknown-type",), key_lengths={"http://example/unknown-type": 16})
    result = lab.run(client)
    assert result == ClientResult(Status.NO_SUPPORTED_KEY_TYPES, None)
    assert client.token_store.list_keys() == [] and client.state is ClientState.DONE


def test_two_pass_failure_status_in_server_finished(lab):
    client = lab.client(24, **{**WRAP, "shared_key_name": "unknown-key"})
    assert lab.run(client).status is Status.NO_PROTOCOL_VARIANTS


@pytest.mark.parametrize(("index", "status"), [(0, Status.SUCCESS), (1, Status.CONTINUE)])
def test_status_in_the_wrong_message_is_refused(lab, index, status):
    refused(lab, lab.client(25), at(index, lambda body: retouch(body, status=status)), SchemaViolation)


def test_a_request_pdu_as_response_is_refused(lab):
    hello = KeyProvClientHello(version="1.0", supported_key_types=("urn:x",), supported_encryption_algorithms=("urn:x",),
                               supported_mac_algorithms=("urn:x",))
    refused(lab, lab.client(26), at(0, lambda body: codec.encode(hello)), SchemaViolation)


def test_garbage_response_is_refused(lab):
    refused(lab, lab.client(27), at(0, lambda body: b"<html>502 Bad Gateway</html>"), ProtocolError)


def test_client_info_must_be_echoed(lab):
    refused(lab, lab.client(28, client_info=b"opaque"), at(0, lambda body: retouch(body, extensions=())), SchemaViolation)
    result = lab.run(lab.client(29, client_info=b"opaque"))  # the reference server echoes it (Sec. 6.1)
    assert result.status is Status.SUCCESS


def test_state_machine_misuse(lab):
    client = lab.client(30)
    with pytest.raises(InputError):
        client.receive(b"")
    body = client.first_request()
    with pytest.raises(InputError):
        client.first_request()
    step = client.receive(lab.post(body))
    assert isinstance(step, NextRequest) and client.state is ClientState.AWAIT_SERVER_FINISHED
    result = client.receive(lab.post(step.body))
    assert result.status is Status.SUCCESS and client.state is ClientState.DONE
    with pytest.raises(InputError):
        client.receive(lab.outcomes[-1].body)


@pytest.mark.parametrize("kwargs", [
    dict(variant="three-pass"),
    dict(variant="two-pass"),
    dict(variant="two-pass", protection="telepathy"),
    dict(key_types=("http://example/no-length",)),
    dict(client_nonce_length=8),
])
def test_invalid_configuration(kwargs):
    with pytest.raises(InputError):
        ClientConfig(**kwargs)


def test_missing_credentials_are_input_errors(lab):
    for config in (dict(variant="two-pass", protection="key-transport"),
                   dict(variant="two-pass", protection="key-wrap"),
                   dict(variant="two-pass", protection="passphrase")):
        with pytest.raises(InputError):
            lab.client(31, **config).first_request()
    with pytest.raises(InputError):
        lab.client(32, renew_key_id="not-in-store").first_request()
    typed = format_authentication_code("12345678", "ABCDEF0123456789", with_checksum=True)
    assert lab.client(33, authentication_code=typed).first_request()
    mistyped = typed.replace("ABCDEF", "ABCDEE")
    with pytest.raises(InputError):  # a mistyped AC fails its checksum (Sec. 3.4.1.1)
        lab.client(34, authentication_code=mistyped).first_request()


def test_config_repr_hides_secrets():
    config = ClientConfig(authentication_code="108AC00000A2080123456789", shared_key=PSK, passphrase="pass phrase")
    text = repr(config)
    assert "0123456789" not in text and PSK.hex() not in text and "pass phrase" not in text and repr(PSK) not in text
