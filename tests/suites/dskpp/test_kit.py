"""The DSKPP suites' own checks can fail: schema checks reject invalid messages, the
request tampering changes what it says and nothing else, refusals are judged by status
and PDU, the replaying random source replays."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest
from lxml import etree

from harness.cases import NonConformance
from harness.roles.dskpp import HttpAnswer
from reference.dskpp import codec
from reference.dskpp.messages import (
    DSKPP_NS,
    AuthenticationCodeMac,
    AuthenticationData,
    KeyProvClientHello,
    KeyProvClientNonce,
    KeyProvServerFinished,
    KeyProvServerHello,
    Mac,
    ProtocolVariants,
    Status,
)
from suites.dskpp import protocol_kit as kit
from suites.dskpp.test_schema import container_errors, schema_errors

HELLO = KeyProvClientHello(version="1.0", supported_key_types=("urn:ietf:params:xml:ns:keyprov:pskc:hotp",),
                           supported_encryption_algorithms=("http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",),
                           supported_mac_algorithms=("urn:ietf:params:xml:ns:keyprov:dskpp:prf-aes-128",),
                           supported_protocol_variants=ProtocolVariants(four_pass=True))
NONCE = KeyProvClientNonce(version="1.0", session_id="ab" * 16, encrypted_nonce=bytes(range(64)),
                           authentication_data=AuthenticationData(
                               client_id="AC00000A", code_mac=AuthenticationCodeMac(Mac(bytes(16)), iteration_count=100000)))


class _Role:
    name = "server-under-test"


def _answer(message) -> HttpAnswer:  # noqa: ANN001
    return HttpAnswer(200, "application/dskpp+xml", codec.encode(message), 0.01)


def test_schema_errors_accept_valid_and_name_invalid_messages():
    body = codec.encode(HELLO)
    assert schema_errors(body) == []
    broken = body.replace(b"<dskpp:SupportedMacAlgorithms>", b"<dskpp:SupportedMacs>").replace(
        b"</dskpp:SupportedMacAlgorithms>", b"</dskpp:SupportedMacs>")
    assert broken != body and schema_errors(broken)
    assert schema_errors(b"<not-closed") and schema_errors(b"<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>")


def test_unknown_non_critical_extensions_are_disregarded_but_critical_ones_are_not():
    ext = (b'<dskpp:Extensions><dskpp:Extension xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           b'xmlns:v="urn:example:v" xsi:type="v:T"%s><v:D>x</v:D></dskpp:Extension></dskpp:Extensions>')
    body = codec.encode(HELLO).replace(b"</dskpp:KeyProvClientHello>", ext % b"" + b"</dskpp:KeyProvClientHello>")
    assert schema_errors(body) == []
    critical = kit.with_critical_extension(codec.encode(HELLO))
    assert schema_errors(critical)  # its type is in no schema: a Critical one stays and fails


def test_container_check_finds_the_container_and_its_faults():
    assert container_errors(codec.encode(KeyProvServerFinished(version="1.0", status=Status.ABORT))) is None
    container = (b'<dskpp:KeyPackage><dskpp:KeyContainer Version="1.0"><pskc:KeyPackage><pskc:Key Algorithm="x"/>'
                 b'</pskc:KeyPackage></dskpp:KeyContainer></dskpp:KeyPackage><dskpp:Mac>AAAA</dskpp:Mac>')
    body = (b'<dskpp:KeyProvServerFinished xmlns:dskpp="' + DSKPP_NS.encode() + b'" '
            b'xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc" Version="1.0" Status="Success">' + container
            + b"</dskpp:KeyProvServerFinished>")
    errors = container_errors(body)
    assert errors and any("Id" in e for e in errors)  # pskc:Key needs its Id (RFC 6030 §11)


def test_flip_ad_mac_changes_one_bit_of_the_mac_only():
    body = codec.encode(NONCE)
    flipped = codec.decode(kit.flip_ad_mac(body))
    original = NONCE.authentication_data.code_mac.mac.value
    changed = flipped.authentication_data.code_mac.mac.value
    assert [a ^ b for a, b in zip(original, changed)] == [1] + [0] * 15
    assert replace(flipped, authentication_data=NONCE.authentication_data) == NONCE


def test_corrupted_nonce_and_critical_extension():
    corrupted = codec.decode(kit.corrupt_encrypted_nonce(codec.encode(NONCE)))
    assert corrupted.encrypted_nonce != NONCE.encrypted_nonce and len(corrupted.encrypted_nonce) == 64
    from harness.errors import UnsupportedFeature

    with pytest.raises(UnsupportedFeature) as raised:
        codec.decode(kit.with_critical_extension(codec.encode(HELLO)))
    assert raised.value.status == "UnknownCriticalExtension"


def test_expect_refusal_judges_status_pdu_and_key_package():
    role = _Role()
    refused = KeyProvServerFinished(version="1.0", status=Status.AUTHENTICATION_DATA_INVALID, session_id="s")
    assert kit.expect_refusal(role, _answer(refused), {"AuthenticationDataInvalid"}, KeyProvServerFinished, "§x")
    with pytest.raises(NonConformance, match="requires AuthenticationDataMissing"):
        kit.expect_refusal(role, _answer(refused), {"AuthenticationDataMissing"}, None, "§x")
    with pytest.raises(NonConformance, match="KeyProvServerHello"):
        kit.expect_refusal(role, _answer(refused), {"AuthenticationDataInvalid"}, KeyProvServerHello, "§x")
    with pytest.raises(NonConformance, match="a failure status"):
        kit.expect_refusal(role, _answer(replace(refused, status=Status.CONTINUE)), kit.FAILURE_STATUSES, None, "§x")
    with pytest.raises(NonConformance, match="HTTP 500"):
        kit.expect_refusal(role, HttpAnswer(500, "", b"", 0.0), kit.FAILURE_STATUSES, None, "§x")
    with pytest.raises(NonConformance, match="not a valid DSKPP message"):
        kit.expect_refusal(role, HttpAnswer(200, "application/dskpp+xml", b"<x/>", 0.0), kit.FAILURE_STATUSES, None, "§x")


def test_recording_random_replays_its_draws():
    first = kit.RecordingRandom()
    draws = [first(32), first(20), first(16)]
    again = first.replay()
    assert [again(32), again(20), again(16)] == draws
    assert len(again(8)) == 8 and kit.RecordingRandom()(32) != draws[0]


def test_rewrite_keeps_everything_else():
    body = codec.encode(HELLO)
    changed = codec.decode(kit.rewrite(body, version="2.0"))
    assert changed == replace(HELLO, version="2.0")
    assert etree.QName(etree.fromstring(kit.rewrite(body))).localname == "KeyProvClientHello"
    assert base64.b64encode(b"x")  # the kit never needs network or files
