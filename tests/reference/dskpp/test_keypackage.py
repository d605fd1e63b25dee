"""The DSKPP key package: PSKC KeyContainers under <dskpp:KeyContainer> (keypackage.py;
RFC 6063 §4.2.5, 5.1, 5.2.3; RFC 6030)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
from datetime import datetime, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from harness.errors import CryptoFailure, ProtocolError, SchemaViolation
from reference import pskc
from reference.dskpp import codec, keypackage
from reference.dskpp.messages import (
    DeviceInfo,
    KeyInfo,
    KeyPackage,
    KeyProvServerFinished,
    Mac,
    RawXml,
    Status,
)
from reference.dskpp.policy import TOTP_URI, KeyTypePolicy

from .engine_kit import AES_CBC, KW_AES, PSK, PSK_NAME, RSA_1_5, RSA_OAEP, seeded

NS = {"dskpp": "urn:ietf:params:xml:ns:keyprov:dskpp", "pskc": "urn:ietf:params:xml:ns:keyprov:pskc",
      "xenc": "http://www.w3.org/2001/04/xmlenc#", "ds": "http://www.w3.org/2000/09/xmldsig#"}
K_PROV = bytes(range(40))


def in_message(container: RawXml, method: str | None = None) -> KeyProvServerFinished:
    """The container inside a schema-valid <KeyProvServerFinished> (decoded back)."""
    message = KeyProvServerFinished(version="1.0", status=Status.SUCCESS, session_id="s",
                                    key_package=KeyPackage(server_id="https://dskpp.example/",
                                                           key_protection_method=method, key_container=container),
                                    mac=Mac(b"m" * 32))
    decoded = codec.decode(codec.encode(message))
    return decoded


def test_four_pass_container_has_metadata_and_no_secret():
    device = DeviceInfo(manufacturer="TokenVendorAcme", serial_no="987654321", start_date="2009-09-01T00:00:00Z")
    key = keypackage.key_model("MBK000000001", KeyTypePolicy(issuer="Example-Issuer"), "https://dskpp.example/", None)
    raw = keypackage.four_pass_container(key, keypackage.pskc_device(device))
    root = raw.element()
    assert root.tag == "{urn:ietf:params:xml:ns:keyprov:dskpp}KeyContainer" and root.get("Version") == "1.0"
    assert root.find(".//pskc:Secret", NS) is None  # Sec. 4.2.4: MUST NOT include K_TOKEN
    assert root.find(".//pskc:Key", NS).get("Id") == "MBK000000001"
    assert root.findtext(".//pskc:Counter/pskc:PlainValue", namespaces=NS) == "0"
    assert root.find(".//pskc:ResponseFormat", NS).attrib == {"Encoding": "DECIMAL", "Length": "6"}
    assert root.findtext(".//pskc:DeviceInfo/pskc:SerialNo", namespaces=NS) == "987654321"
    assert root.findtext(".//pskc:DeviceInfo/pskc:StartDate", namespaces=NS) == "2009-09-01T00:00:00Z"
    read = keypackage.read_container(in_message(raw).key_package.key_container, spec="t")
    assert read.id == "MBK000000001" and keypackage.secret_of(read, "t") is None
    assert json.loads(keypackage.key_attributes(read)) == {
        "counter": 0, "digits": 6, "encoding": "DECIMAL", "issuer": "Example-Issuer", "key_usage": ["OTP"]}


def test_four_pass_container_refuses_a_secret():
    from harness.errors import InputError

    with pytest.raises(InputError):
        keypackage.four_pass_container(keypackage.key_model("K", KeyTypePolicy(), "x", b"s" * 20), None)


def test_time_based_key_attributes():
    key = keypackage.key_model("T", KeyTypePolicy(uri=TOTP_URI, counter=None, time_interval=30, digits=8), "x", None)
    assert json.loads(keypackage.key_attributes(key)) == {
        "digits": 8, "encoding": "DECIMAL", "issuer": "x", "key_usage": ["OTP"], "time_interval": 30}


def test_unrepresentable_device_dates_are_left_out():
    device = keypackage.pskc_device(DeviceInfo(serial_no="1", start_date="-0001-01-01T00:00:00Z",
                                               expiry_date="2014-09-01T00:00:00"))
    assert device.start_date is None
    assert device.expiry_date == datetime(2014, 9, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(("cipher", "uri"), [("aes128-cbc", AES_CBC), ("kw-aes128", KW_AES)])
def test_key_wrap_container(cipher, uri):
    key = keypackage.key_model("K", KeyTypePolicy(), "x", K_PROV)
    raw = keypackage.two_pass_wrapped(key, None, protection=pskc.PreSharedKey(PSK, cipher, PSK_NAME), rng=seeded(1))
    decoded = in_message(raw, "urn:ietf:params:xml:schema:keyprov:dskpp:wrap").key_package.key_container
    assert keypackage.container_algorithms(decoded, spec="t") == {uri}
    root = decoded.element()
    assert root.findtext("pskc:EncryptionKey/ds:KeyName", namespaces=NS) == PSK_NAME
    assert keypackage.secret_of(keypackage.read_container(decoded, spec="t", key=PSK), "t") == K_PROV
    # python-pskc, an independent implementation, opens it too.
    import pskc as python_pskc

    root.tag = "{urn:ietf:params:xml:ns:keyprov:pskc}KeyContainer"
    document = python_pskc.PSKC(io.BytesIO(etree.tostring(root)))
    document.encryption.key = PSK
    assert document.keys[0].secret == K_PROV


def test_passphrase_container():
    key = keypackage.key_model("K", KeyTypePolicy(), "x", K_PROV)
    protection = pskc.Passphrase("0011AABB", "aes128-cbc", iterations=50, master_key_name="AC00000A")
    raw = keypackage.two_pass_wrapped(key, None, protection=protection, rng=seeded(2))
    root = raw.element()
    assert root.findtext(".//{http://www.w3.org/2009/xmlenc11#}MasterKeyName") == "AC00000A"
    assert keypackage.secret_of(keypackage.read_container(raw, spec="t", password="0011AABB"), "t") == K_PROV
    with pytest.raises(CryptoFailure):
        keypackage.read_container(raw, spec="t", password="0011AABC")


@pytest.mark.parametrize("algorithm", [RSA_OAEP, RSA_1_5])
def test_key_transport_container(device_key, algorithm):
    key = keypackage.key_model("K", KeyTypePolicy(), "x", K_PROV)
    numbers = device_key.public_key().public_numbers()
    info = KeyInfo.from_rsa_public_numbers(numbers.n, numbers.e)
    raw = keypackage.two_pass_transported(key, None, algorithm=algorithm, public_key=device_key.public_key(),
                                          key_info=info, rng=seeded(3))
    root = in_message(raw).key_package.key_container.element()
    assert root.find("pskc:EncryptionKey/ds:KeyValue/ds:RSAKeyValue", NS) is not None  # the client's key info
    cipher_value = base64.b64decode(root.findtext(".//pskc:Secret//xenc:CipherValue", namespaces=NS))
    if algorithm == RSA_1_5:
        plain = device_key.decrypt(cipher_value, padding.PKCS1v15())
        # RFC 6030 §6.1.1: RSA-1_5 has no integrity check -> HMAC-SHA1 ValueMAC with an RSA-sent MAC key.
        mac_key = device_key.decrypt(base64.b64decode(root.findtext(".//pskc:MACKey//xenc:CipherValue",
                                                                    namespaces=NS)), padding.PKCS1v15())
        value_mac = base64.b64decode(root.findtext(".//pskc:Secret/pskc:ValueMAC", namespaces=NS))
        assert value_mac == hmac.new(mac_key, cipher_value, hashlib.sha1).digest()
    else:
        from cryptography.hazmat.primitives import hashes

        plain = device_key.decrypt(cipher_value, padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None))
        assert root.find("pskc:MACMethod", NS) is None
    assert plain == K_PROV
    assert keypackage.secret_of(keypackage.read_container(raw, spec="t", private_key=device_key), "t") == K_PROV


def test_key_transport_repeats_a_certificate(device_key, device_certificate):
    key = keypackage.key_model("K", KeyTypePolicy(), "x", K_PROV)
    raw = keypackage.two_pass_transported(key, None, algorithm=RSA_OAEP, public_key=device_key.public_key(),
                                          key_info=KeyInfo.from_certificate(device_certificate), rng=seeded(4))
    text = raw.element().findtext(".//pskc:EncryptionKey/ds:X509Data/ds:X509Certificate", namespaces=NS)
    assert base64.b64decode(text) == device_certificate


def test_unreadable_containers_raise_typed_errors():
    two_keys = pskc.KeyContainer(key_packages=(pskc.KeyPackage(key=pskc.Key(id="a", algorithm="x")),
                                               pskc.KeyPackage(key=pskc.Key(id="b", algorithm="x"))))
    with pytest.raises(SchemaViolation):
        keypackage.read_container(keypackage.wrap_document(pskc.encode(two_keys)), spec="t")
    no_id = pskc.KeyContainer(key_packages=(pskc.KeyPackage(key=pskc.Key(algorithm="x")),))
    with pytest.raises(ProtocolError):
        keypackage.read_container(keypackage.wrap_document(pskc.encode(no_id)), spec="t")
    junk = RawXml(b'<dskpp:KeyContainer xmlns:dskpp="urn:ietf:params:xml:ns:keyprov:dskpp"><x/></dskpp:KeyContainer>')
    with pytest.raises(ProtocolError) as info:
        keypackage.read_container(junk, spec="RFC 6063 §5.2.3")
    assert "5.2.3" in info.value.spec


def test_wrap_and_unwrap_are_inverse():
    document = pskc.encode(pskc.KeyContainer(key_packages=(pskc.KeyPackage(key=pskc.Key(id="a", algorithm="x")),)),
                           pretty=False)
    back = keypackage.unwrap_container(keypackage.wrap_document(document))
    def canonical(data: bytes) -> bytes:
        return etree.tostring(etree.fromstring(data), method="c14n", exclusive=True)

    assert canonical(back) == canonical(document)
