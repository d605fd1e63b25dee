"""The codec against the RFC 6063 Appendix B examples and the Sec. 8.2 schema."""

from __future__ import annotations

import base64
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from harness.errors import InputError, SchemaViolation
from harness.vectors import vector_path
from reference.dskpp import codec
from reference.dskpp.interpretation import MessageHashInput
from reference.dskpp.messages import (
    AuthenticationCodeMac,
    AuthenticationData,
    ClientInfo,
    DeviceIdentifierData,
    DeviceInfo,
    InitializationTrigger,
    KeyInfo,
    KeyPackage,
    KeyProtectionOffer,
    KeyProvClientHello,
    KeyProvClientNonce,
    KeyProvServerFinished,
    KeyProvServerHello,
    KeyProvTrigger,
    Mac,
    Payload,
    PlatformType,
    ProtocolVariants,
    RawXml,
    ServerInfo,
    Status,
    TokenPlatformInfo,
)
from reference.dskpp.safexml import SCHEMA_DIR, dskpp_schema

EXAMPLES = sorted(vector_path("dskpp/rfc6063-appendix-b").glob("*.xml"))
HOTP = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"
SECURID = "http://www.rsa.com/rsalabs/otps/schemas/2005/09/otps-wst#SecurID-AES"
AES_CBC = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
SHA256 = "urn:ietf:params:xml:ns:keyprov:dskpp:prf-sha256"
PSKC_KC = "urn:ietf:params:xml:ns:keyprov:dskpp:pskc-key-container"


def example(name: str):
    return codec.decode(vector_path(f"dskpp/rfc6063-appendix-b/{name}.xml").read_bytes())


def test_thirteen_examples_present():
    assert len(EXAMPLES) == 13


# ----------------------------------------------------------------------------- App. B content
def test_b1_trigger():
    msg = example("B.1-KeyProvTrigger")
    t = msg.trigger
    assert msg.version == "1.0"
    assert t.device_identifier_data.device_id == DeviceInfo(
        manufacturer="TokenVendorAcme", serial_no="987654321",
        start_date="2009-09-01T00:00:00Z", expiry_date="2014-09-01T00:00:00Z",
    )
    assert t.key_id == b"HOTP00000001"  # "SE9UUDAwMDAwMDAx"
    assert t.token_platform_info == TokenPlatformInfo(PlatformType.HARDWARE, PlatformType.SOFTWARE)
    assert t.authentication_data.client_id == "31300257"
    assert t.authentication_data.code_mac.iteration_count == 512
    assert t.authentication_data.code_mac.mac == Mac(base64.b64decode("4bRJf9xXd3KchKoTenHJiw=="), None)
    assert t.server_url == "keyprovservice.example.com"  # anyURI: whitespace collapsed


@pytest.mark.parametrize("name,key_id", [("B.2.1-KeyProvClientHello", None), ("B.2.2-KeyProvClientHello", b"HOTP00000001")])
def test_b21_b22_four_pass_hello(name, key_id):
    msg = example(name)
    assert msg.key_id == key_id
    assert msg.supported_key_types == (HOTP, SECURID)
    assert msg.supported_encryption_algorithms == (AES_CBC,)
    assert msg.supported_mac_algorithms == (SHA256,)
    assert msg.supported_protocol_variants == ProtocolVariants(four_pass=True)
    assert msg.supported_key_packages == (PSKC_KC,)
    assert msg.authentication_data is None and msg.client_nonce is None


def test_b23_server_hello():
    msg = example("B.2.3-KeyProvServerHello")
    assert (msg.status, msg.session_id, msg.key_type) == (Status.CONTINUE, "4114", HOTP)
    assert (msg.encryption_algorithm, msg.mac_algorithm, msg.key_package_format) == (AES_CBC, SHA256, PSKC_KC)
    assert msg.encryption_key.key_names == ("Example-Key1",)
    assert msg.payload == Payload(nonce=bytes.fromhex("12345678901234567890123456789012"))
    assert msg.mac is None


def test_b24_server_hello_renewal():
    msg = example("B.2.4-KeyProvServerHello")
    assert msg.key_type == "urn:ietf:params:xml:schema:keyprov:otpalg#SecurID-AES"
    assert msg.mac_algorithm == SHA256
    assert msg.mac.algorithm == "urn:ietf:params:xml:ns:keyprov:dskpp:prf-aes-128"  # differs (I-10)
    assert len(msg.payload.nonce) == 16 and len(msg.mac.value) == 22


def test_b25_client_nonce():
    msg = example("B.2.5-KeyProvClientNonce")
    assert (msg.session_id, msg.version, len(msg.encrypted_nonce)) == ("4114", "1.0", 64)
    assert msg.encrypted_nonce == base64.b64decode(
        "oTvo+S22nsmS2Z/RtcoF8CTwadRa1PVsRXkZnCihHkU1rPueggrd0NpEWVZR16Rg16+FHuTg33GK1wH3wffDZQ=="
    )


@pytest.mark.parametrize(
    "name,container_id,mac_len",
    [
        ("B.2.6-KeyProvServerFinished", "KC0001", 32),
        ("B.3.1-KeyProvServerFinished", "KC0001", 32),
        ("B.3.2-KeyProvServerFinished", "KC0001", 32),
        ("B.3.3-KeyProvServerFinished", "KC0002", 32),
    ],
)
def test_server_finished_examples(name, container_id, mac_len):
    msg = example(name)
    assert (msg.status, msg.session_id) == (Status.SUCCESS, "4114")
    assert msg.key_package.server_id is None  # Sec. 5.2.2 requires it in two-pass (NOTES.md)
    container = msg.key_package.key_container.element()
    assert etree.QName(container).localname == "KeyContainer" and container.get("Id") == container_id
    assert len(msg.mac.value) == mac_len and msg.mac.algorithm == SHA256
    assert msg.authentication_data is None


@pytest.mark.parametrize(
    "name,method,iterations,payload_check",
    [
        ("B.3.1-KeyProvClientHello", "transport", 100000, lambda ki: len(ki.x509_certificates[0]) == 491),
        ("B.3.2-KeyProvClientHello", "wrap", 1, lambda ki: ki.key_names == ("Pre-shared-key-1",)),
        ("B.3.3-KeyProvClientHello", "passphrase-wrap", 1, lambda ki: ki.key_names == ("Passphrase-1",)),
    ],
)
def test_two_pass_hellos(name, method, iterations, payload_check):
    msg = example(name)
    offers = msg.supported_protocol_variants.two_pass
    assert [o.method for o in offers] == [f"urn:ietf:params:xml:schema:keyprov:dskpp:{method}"]
    assert payload_check(offers[0].payload.key_info)
    ad = msg.authentication_data
    assert ad.client_id == "AC00000A"
    assert ad.code_mac.nonce == bytes.fromhex("112233445566778899aabbccddeeff" * 2 + "1122")
    assert ad.code_mac.iteration_count == iterations
    assert len(ad.code_mac.mac.value) == 16 and ad.code_mac.mac.algorithm == SHA256
    assert msg.client_nonce is None  # R travels only in AuthenticationCodeMac here (I-26)


# ----------------------------------------------------------------------------- serialization
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_round_trip_is_schema_valid(path):
    msg = codec.decode(path.read_bytes())
    out = codec.encode(msg)
    root = etree.fromstring(out)
    assert dskpp_schema().is_valid(root)
    assert codec.decode(out) == msg


def _libxml2_schema():
    return etree.XMLSchema(etree.parse(str(SCHEMA_DIR / "dskpp.xsd")))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_libxml2_disagrees_only_on_datetime_whitespace(path):
    """Documents the validator decision (D-1): libxml2 rejects only the 4 ServerFinished
    examples, and only for xs:dateTime values with surrounding whitespace."""
    schema = _libxml2_schema()
    ok = schema.validate(etree.parse(str(path)))
    errors = [e.message for e in schema.error_log]
    if "ServerFinished" in path.stem:
        assert not ok and errors and all("xs:dateTime" in m for m in errors)
        collapsed = etree.parse(str(path))
        for el in collapsed.iter("{urn:ietf:params:xml:ns:keyprov:pskc}StartDate", "{urn:ietf:params:xml:ns:keyprov:pskc}ExpiryDate"):
            el.text = el.text.strip()
        assert schema.validate(collapsed)
    else:
        assert ok, errors


def _constructed_messages():
    ad = AuthenticationData(client_id="AC00000A", code_mac=AuthenticationCodeMac(Mac(bytes(16), SHA256), bytes(range(32)), 1))
    device = DeviceIdentifierData(device_id=DeviceInfo(manufacturer="Acme", serial_no="1", start_date="2010-01-01T00:00:00Z"))
    container = RawXml(b'<dskpp:KeyContainer xmlns:dskpp="urn:ietf:params:xml:ns:keyprov:dskpp" '
                       b'xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc" Version="1.0"><pskc:KeyPackage/></dskpp:KeyContainer>')
    return [
        KeyProvTrigger(InitializationTrigger(ad, device, b"key-1", TokenPlatformInfo(PlatformType.UNSPECIFIED), "https://s.example/"), version="1.0"),
        KeyProvClientHello(
            "1.0", (HOTP,), (AES_CBC,), (SHA256,), device, b"k", bytes(16),
            ProtocolVariants(True, (KeyProtectionOffer("urn:ietf:params:xml:schema:keyprov:dskpp:wrap", Payload(key_info=KeyInfo.from_key_name("psk"))),
                                    KeyProtectionOffer("urn:ietf:params:xml:schema:keyprov:dskpp:transport"))),
            (PSKC_KC,), ad, (ClientInfo(b"client data", False),),
        ),
        KeyProvServerHello("1.0", Status.CONTINUE, "s1", HOTP, AES_CBC, SHA256, KeyInfo.from_rsa_public_numbers(3233, 17), PSKC_KC,
                           Payload(nonce=bytes(16)), (ServerInfo(b"state"), ClientInfo(b"client data")), Mac(bytes(16), SHA256)),
        KeyProvServerHello("1.0", Status.NO_SUPPORTED_KEY_TYPES),
        KeyProvClientNonce("1.0", "s1", bytes(48), ad, (ServerInfo(b"state"),)),
        KeyProvServerFinished("1.0", Status.SUCCESS, "s1", KeyPackage("https://s.example/", "urn:ietf:params:xml:schema:keyprov:dskpp:wrap", container),
                              (), Mac(bytes(32), SHA256), AuthenticationCodeMac(Mac(bytes(16), SHA256))),
        KeyProvServerFinished("1.0", Status.AUTHENTICATION_DATA_INVALID, "s1"),
    ]


@pytest.mark.parametrize("msg", _constructed_messages(), ids=lambda m: type(m).__name__)
def test_constructed_messages_valid_for_both_validators(msg):
    out = codec.encode(msg)
    assert _libxml2_schema().validate(etree.fromstring(out))
    assert codec.decode(out) == msg


def test_encode_refuses_invalid_model():
    bad = KeyProvClientNonce("1.0", "x" * 129, bytes(16))  # IdentifierType maxLength 128
    with pytest.raises(InputError):
        codec.encode(bad)
    assert b"x" * 129 in codec.encode(bad, validate_schema=False)  # fuzzing can still send it
    with pytest.raises(InputError):
        codec.encode(KeyProvServerHello("1.0", Status.CONTINUE, key_type=HOTP))  # partial body


# ----------------------------------------------------------------------------- msg_hash input
def test_hash_input_readings():
    a = b'<?xml version="1.0"?>\n<dskpp:KeyProvClientNonce xmlns:dskpp="urn:ietf:params:xml:ns:keyprov:dskpp" Version="1.0" SessionID="1"><dskpp:EncryptedNonce>AAAA</dskpp:EncryptedNonce></dskpp:KeyProvClientNonce>'
    b = b"<dskpp:KeyProvClientNonce SessionID='1'  Version='1.0' xmlns:dskpp='urn:ietf:params:xml:ns:keyprov:dskpp' xmlns:x='urn:unused'><dskpp:EncryptedNonce>AAAA</dskpp:EncryptedNonce ></dskpp:KeyProvClientNonce>"
    assert codec.hash_input(a) == a and codec.hash_input(a) != codec.hash_input(b)
    assert codec.hash_input(a, MessageHashInput.EXC_C14N) == codec.hash_input(b, MessageHashInput.EXC_C14N)
    assert codec.hash_input(a, MessageHashInput.C14N) != codec.hash_input(b, MessageHashInput.C14N)  # unused xmlns:x kept


# ----------------------------------------------------------------------------- xs:string exactness
XML_CHARS = st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(" \t\n\r")


@settings(max_examples=60, deadline=None)
@given(client_id=st.text(XML_CHARS, max_size=40), session=st.text(XML_CHARS, max_size=40), nonce=st.binary(max_size=80))
def test_strings_round_trip_exactly(client_id, session, nonce):
    # Sec. 8.1: xs:string values compare exactly - surrounding whitespace and CR included.
    msg = KeyProvClientNonce("1.0", session, nonce, AuthenticationData(client_id=client_id, code_mac=AuthenticationCodeMac(Mac(b"m" * 16))))
    assert codec.decode(codec.encode(msg)) == msg


def test_other_namespace_alternatives():
    key_name = RawXml(b'<ds:KeyName xmlns:ds="http://www.w3.org/2000/09/xmldsig#">device-7</ds:KeyName>')
    trigger = KeyProvTrigger(other=key_name, version="1.0")
    hello = KeyProvClientHello("1.0", (HOTP,), (AES_CBC,), (SHA256,), DeviceIdentifierData(other=key_name))
    for msg in (trigger, hello):
        assert codec.decode(codec.encode(msg)) == msg


def test_error_line_survives_extension_screening():
    data = (
        b'<dskpp:KeyProvClientNonce xmlns:dskpp="urn:ietf:params:xml:ns:keyprov:dskpp" '
        b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:v="urn:v" Version="1.0" SessionID="1">\n'
        b"<dskpp:EncryptedNonce>AAAA</dskpp:EncryptedNonce>\n"
        b'<dskpp:Extensions><dskpp:Extension xsi:type="v:T"/></dskpp:Extensions>\n'
        b"<dskpp:Bogus/>\n</dskpp:KeyProvClientNonce>"
    )
    with pytest.raises(SchemaViolation) as err:
        codec.decode(data)
    assert err.value.where.startswith("line 4")
