"""AD in runs (userauth.py, RFC 6063 §3.4.1.2), transcript.py (§3.4.3, §5.2.2) and the
four-pass session state (session_state.py)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta

import pytest

from harness.errors import InputError, ProtocolError, SchemaViolation
from reference.dskpp import codec, userauth
from reference.dskpp.authcode import SaltKeyKind
from reference.dskpp.interpretation import (
    Interpretation,
    MessageHashInput,
    MissingIterationCount,
    PassphraseSaltKey,
    TriggerAdCheck,
    TwoPassNonceSource,
)
from reference.dskpp.messages import (
    AuthenticationCodeMac,
    AuthenticationData,
    DeviceInfo,
    KeyProvClientHello,
    Mac,
)
from reference.dskpp.session_state import FourPassSession
from reference.dskpp.store import AuthenticationCodeRecord
from reference.dskpp.transcript import message_hash, two_pass_nonce

from .engine_kit import PRF_AES, PRF_SHA256, T0
from .independent import ad_mac

RECORD = AuthenticationCodeRecord("AC00000A", "3582AF0C3E", T0, T0 + timedelta(days=1))
URL = "https://dskpp.example/"
R_C = bytes(range(32))
R_S = bytes(range(100, 116))
K = b"K" * 16
DEFAULT = Interpretation()


def context(**changes) -> userauth.AdContext:
    base = userauth.AdContext(kind=SaltKeyKind.SHARED_KEY, two_pass=False, r_c=R_C, r_s=R_S, k_octets=K,
                              negotiated_mac=PRF_SHA256, server_urls=(URL,), max_iterations=1_000_000)
    return replace(base, **changes)


@pytest.mark.parametrize("prf", [PRF_AES, PRF_SHA256])
def test_compute_matches_the_independent_formula(prf):
    ad = userauth.compute(prf, client_id="AC00000A", password="3582AF0C3E", server_url=URL, r_c=R_C, r_s=R_S,
                          k_octets=K, iteration_count=100_000, interp=DEFAULT)
    assert ad.client_id == "AC00000A" and ad.code_mac.iteration_count == 100_000 and ad.code_mac.nonce is None
    assert ad.code_mac.mac == Mac(ad_mac(prf, "3582AF0C3E", "AC00000A", URL, R_C, K, 100_000, R_S), prf)
    userauth.verify(ad, RECORD, context(), DEFAULT)


def test_two_pass_ad_without_r_s_and_with_count_one():
    ad = userauth.compute(PRF_AES, client_id="AC00000A", password="3582AF0C3E", server_url=URL, r_c=R_C, r_s=None,
                          k_octets=K, iteration_count=1, interp=DEFAULT, nonce=R_C)
    assert ad.code_mac.mac.value == ad_mac(PRF_AES, "3582AF0C3E", "AC00000A", URL, R_C, K, 1, None)
    userauth.verify(ad, RECORD, context(two_pass=True, r_s=None), DEFAULT)
    with pytest.raises(ProtocolError) as info:  # Sec. 3.4.1.2: four-pass needs >= 100,000
        userauth.verify(ad, RECORD, context(r_s=None), DEFAULT)
    assert info.value.status == "AuthenticationDataInvalid"


def _ad(**mac_changes) -> AuthenticationData:
    ad = userauth.compute(PRF_SHA256, client_id="AC00000A", password="3582AF0C3E", server_url=URL, r_c=R_C, r_s=R_S,
                          k_octets=K, iteration_count=100_000, interp=DEFAULT)
    return replace(ad, code_mac=replace(ad.code_mac, **mac_changes))


@pytest.mark.parametrize(("ad", "ctx"), [
    (_ad(mac=Mac(b"\x00" * 16, PRF_SHA256)), context()),
    (_ad(), context(r_s=bytes(16))),
    (_ad(), context(k_octets=b"other key 16 oct")),
    (_ad(), context(server_urls=("https://elsewhere/",))),
    (_ad(iteration_count=99_999), context()),
    (_ad(iteration_count=5_000_000), context()),
    (_ad(mac=Mac(b"\x00" * 16, "urn:unknown-prf")), context()),
    (replace(_ad(), client_id=None), context()),
    (AuthenticationData(client_id="AC00000A"), context()),
])
def test_verify_refusals_are_authentication_data_invalid(ad, ctx):
    with pytest.raises(ProtocolError) as info:
        userauth.verify(ad, RECORD, ctx, DEFAULT)
    assert info.value.status == "AuthenticationDataInvalid" and info.value.spec


def test_missing_iteration_count_readings():
    """I-17: the rule value (100,000 here) or refusal."""
    ad = _ad(iteration_count=None)
    userauth.verify(ad, RECORD, context(), DEFAULT)
    with pytest.raises(ProtocolError):
        userauth.verify(ad, RECORD, context(), Interpretation(missing_iteration_count=MissingIterationCount.REJECT))


def test_any_configured_server_url_verifies():
    userauth.verify(_ad(), RECORD, context(server_urls=("https://other/", URL)), DEFAULT)


def test_check_record_statuses():
    with pytest.raises(ProtocolError) as info:
        userauth.check_record(None, T0)
    assert info.value.status == "AuthenticationDataInvalid"
    with pytest.raises(ProtocolError) as info:
        userauth.check_record(RECORD, T0 + timedelta(days=1))
    assert info.value.status == "ProvisioningPeriodExpired"
    with pytest.raises(ProtocolError) as info:
        userauth.check_record(replace(RECORD, used_at=T0), T0)
    assert info.value.status == "AuthenticationDataInvalid"
    assert userauth.check_record(replace(RECORD, expires_at=None), T0 + timedelta(days=999)) is not None


def test_trigger_ad_both_readings():
    issued = userauth.trigger_ad(RECORD, server_url=URL, r_t=bytes(16), iteration_count=1000, interp=DEFAULT)
    assert issued.code_mac.nonce == bytes(16) and issued.code_mac.mac.algorithm == PRF_AES
    # D-14: K empty, R_T in place of R_C, no R_S.
    assert issued.code_mac.mac.value == ad_mac(PRF_AES, "3582AF0C3E", "AC00000A", URL, bytes(16), b"", 1000, None)
    recompute = Interpretation(trigger_ad_check=TriggerAdCheck.RECOMPUTE)
    for interp in (DEFAULT, recompute):
        userauth.verify_trigger_ad(issued, issued, RECORD, server_url=URL, interp=interp)
        forged = replace(issued, code_mac=replace(issued.code_mac, mac=Mac(b"\x01" * 16, PRF_AES)))
        with pytest.raises(ProtocolError):
            userauth.verify_trigger_ad(forged, issued, RECORD, server_url=URL, interp=interp)
    with pytest.raises(ProtocolError):
        userauth.verify_trigger_ad(replace(issued, client_id="OTHER"), issued, RECORD, server_url=URL, interp=DEFAULT)


def test_passphrase_octets():
    assert userauth.passphrase_octets("pass\u00a0word", DEFAULT) == b"pass word"  # SASLprep maps NBSP to space
    assert userauth.passphrase_octets("x", Interpretation(passphrase_salt_key=PassphraseSaltKey.OMITTED)) == b""


# ----------------------------------------------------------------------------- transcript
def test_message_hash_readings():
    a, b = b'<?xml version="1.0"?>\n<a xmlns="urn:x"/>', b"<b/>"
    assert message_hash([a, b], DEFAULT) == hashlib.sha256(a + b).digest()
    assert message_hash([a, b], DEFAULT, trigger=b"<t/>") == hashlib.sha256(a + b).digest()  # I-8 default
    assert message_hash([a, b], Interpretation(message_hash_includes_trigger=True), trigger=b"<t/>") == \
        hashlib.sha256(b"<t/>" + a + b).digest()
    c14n = Interpretation(message_hash_input=MessageHashInput.C14N)
    assert message_hash([a, b], c14n) == hashlib.sha256(b'<a xmlns="urn:x"></a>' + b"<b></b>").digest()


def _hello(client_nonce: bytes | None, mac_nonce: bytes | None) -> KeyProvClientHello:
    code_mac = AuthenticationCodeMac(mac=Mac(b"m" * 16), nonce=mac_nonce)
    return KeyProvClientHello(version="1.0", supported_key_types=("k",), supported_encryption_algorithms=("e",),
                              supported_mac_algorithms=("m",), client_nonce=client_nonce,
                              authentication_data=AuthenticationData("C", code_mac))


def test_two_pass_nonce_readings():
    r1, r2 = b"1" * 16, b"2" * 16
    assert two_pass_nonce(_hello(r1, None), DEFAULT, triggered=False) == r1
    assert two_pass_nonce(_hello(None, r2), DEFAULT, triggered=False) == r2  # App. B.3 style
    assert two_pass_nonce(_hello(r1, r1), DEFAULT, triggered=False) == r1
    assert two_pass_nonce(_hello(r1, r2), DEFAULT, triggered=True) == r1  # D-15: <Nonce> is the trigger's
    with pytest.raises(SchemaViolation):
        two_pass_nonce(_hello(r1, r2), DEFAULT, triggered=False)
    with pytest.raises(SchemaViolation):
        two_pass_nonce(_hello(None, None), DEFAULT, triggered=False)
    only_client = Interpretation(two_pass_nonce_source=TwoPassNonceSource.CLIENT_NONCE_ONLY)
    with pytest.raises(SchemaViolation):
        two_pass_nonce(_hello(None, r2), only_client, triggered=False)
    only_mac = Interpretation(two_pass_nonce_source=TwoPassNonceSource.AUTH_MAC_NONCE_ONLY)
    assert two_pass_nonce(_hello(r1, r2), only_mac, triggered=True) == r2


# ----------------------------------------------------------------------------- session state
def test_session_state_round_trip():
    state = FourPassSession(version="1.0", key_type="k", encryption_algorithm="e", mac_algorithm="m",
                            key_package_format="p", key_kind="shared", key_name="n", r_s=R_S, hello=b"<h/>",
                            server_hello=b"<s/>", trigger_client_id="AC00000A", renew_key_id="K1",
                            device=DeviceInfo(manufacturer="Acme", serial_no="1"), server_info=b"\x00\xff")
    assert FourPassSession.from_json(state.to_json()) == state
    minimal = replace(state, trigger_client_id=None, renew_key_id=None, device=None, server_info=None)
    assert FourPassSession.from_json(minimal.to_json()) == minimal


@pytest.mark.parametrize("text", ["", "{}", "[1]", '{"format": 2}', '{"format": 1, "version": "1.0"}'])
def test_unreadable_session_state(text):
    with pytest.raises(InputError):
        FourPassSession.from_json(text)


def test_rfc_trigger_example_decodes_for_the_client():
    from harness.vectors import vector_path

    message = codec.decode(vector_path("dskpp/rfc6063-appendix-b/B.1-KeyProvTrigger.xml").read_bytes())
    assert message.trigger.key_id == b"HOTP00000001"  # D-14: KeyID octets are the UTF-8 of a Key Id
