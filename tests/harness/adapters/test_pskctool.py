"""The pskctool adapter (OATH Toolkit's pskctool, libpskc), driven through the registry.

Expectations come from the RFC 6030 text (figures in ../shared/specs/rfc6030-examples),
python-pskc's published results (EXPECTED-python-pskc-1.4.json and the schema table of
its README) and an independent XML-DSig check written here with lxml + cryptography.
pskctool's real deviations are asserted as what pskctool does, so a change shows up.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import re
from importlib.metadata import entry_points

import pytest
from lxml import etree

from harness.adapters import pskctool
from harness.adapters.registry import open_adapter, probe
from harness.errors import AdapterUnavailable, Refused, Unsupported
from harness.roles.pskc import PskcConsumer, PskcValidator
from harness.vectors import shared_dir

SHARED = shared_dir()
RFC_DIR = SHARED / "specs" / "rfc6030-examples" if SHARED else None
PEER_DIR = SHARED / "vectors-thirdparty" / "pskc" if SHARED else None
DS = "http://www.w3.org/2000/09/xmldsig#"
HOTP_URN = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"
RFC_SECRET_HEX = "3132333435363738393031323334353637383930"  # RFC 6030 §6.1: '3132...3930' ("12345678901234567890")
FIGURE6_KEY_HEX = "12345678901234567890123456789012"  # RFC 6030 §6.1

pytestmark = pytest.mark.skipif(pskctool.adapter_spec().unavailable_reason() is not None,
                                reason="pskctool not installed (Debian package pskctool)")
needs_shared = pytest.mark.skipif(SHARED is None, reason="../shared (RFC figures, python-pskc vectors) is absent")


@pytest.fixture(scope="module")
def adapter():
    live = open_adapter(pskctool.adapter_spec())
    yield live
    live.close()


@pytest.fixture(scope="module")
def consumer(adapter):
    return PskcConsumer(adapter)


def rfc(figure: int) -> bytes:
    return (RFC_DIR / f"figure{figure}.xml").read_bytes()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def doc(body: str, version: str = "1.0") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<KeyContainer Version="{version}" '
            f'xmlns="urn:ietf:params:xml:ns:keyprov:pskc">{body}</KeyContainer>').encode()


# ---------------------------------------------------------------- spec and lifecycle
def test_entry_point_gives_the_spec():
    (ep,) = entry_points(group="kplab.adapters", name="pskctool")
    spec = ep.load()()
    assert spec.name == "pskctool"
    assert spec.roles == frozenset({"pskc-validator", "pskc-consumer"})
    assert spec.transport.command[1:] == ("-m", "harness.adapters.pskctool")
    assert not any(c.startswith("pskc.protect.") for c in spec.capabilities)  # no decryption


def test_missing_binary_is_reported(monkeypatch):
    monkeypatch.setattr(pskctool, "_binary", lambda: None)
    spec = pskctool.adapter_spec()
    assert spec.unavailable_reason() == "pskctool not installed (Debian package pskctool)"
    with pytest.raises(AdapterUnavailable):
        open_adapter(spec)


def test_probe_and_version(adapter):
    assert probe(adapter).outcome == "ok"
    assert re.fullmatch(r"\d+\.\d+\.\d+", adapter.call("kplab.version")["version"])
    assert adapter.spec.version == adapter.call("kplab.version")["version"]


# ---------------------------------------------------------------- decode: RFC 6030 figures
@needs_shared
def test_figure2_basic_container(consumer):
    # RFC 6030 §4 Figure 2: Key Id 12345678, HOTP, Issuer-A, secret "1234" (MTIzNA==).
    assert consumer.decode(rfc(2)) == [
        {"id": "12345678", "algorithm": HOTP_URN, "issuer": "Issuer-A", "secret_hex": b"1234".hex()}
    ]


@needs_shared
def test_figure3_supplementary_data(consumer):
    (key,) = consumer.decode(rfc(3))
    # RFC 6030 §4.3 Figure 3.
    assert key == {
        "id": "12345678", "algorithm": HOTP_URN, "issuer": "Issuer", "secret_hex": RFC_SECRET_HEX, "counter": 0,
        "manufacturer": "Manufacturer", "serial": "987654321", "device_user_id": "DC=example-bank,DC=net",
        "crypto_module": "CM_ID_001", "user_id": "UID=jsmith,DC=example-bank,DC=net",
        "response_length": 8, "response_encoding": "DECIMAL",
    }


@needs_shared
def test_figure5_pin_policy_and_pin_key(consumer):
    hotp, pin = consumer.decode(rfc(5))
    # RFC 6030 §5 Figure 5: PINPolicy MinLength/MaxLength 4, PINKeyId 123456781, DECIMAL,
    # PINUsageMode Local; the PIN key 123456781 holds "1234".
    pin_fields = ("pin_min_length", "pin_max_length", "pin_key_id", "pin_encoding", "pin_usage_mode")
    assert {k: hotp[k] for k in pin_fields} == {
        "pin_min_length": 4, "pin_max_length": 4, "pin_key_id": "123456781", "pin_encoding": "DECIMAL",
        "pin_usage_mode": "Local"}
    assert hotp["key_usage"] == ["OTP"]
    assert (pin["id"], pin["algorithm"], pin["secret_hex"]) == ("123456781", "urn:ietf:params:xml:ns:keyprov:pskc:pin",
                                                                b"1234".hex())


@needs_shared
def test_figure10_bulk_provisioning(consumer):
    keys = consumer.decode(rfc(10))
    # RFC 6030 §8 Figure 10: four keys, Ids 1-4, serials 654321, 123456, 9999999, 9999999.
    assert [(k["id"], k["serial"]) for k in keys] == [
        ("1", "654321"), ("2", "123456"), ("3", "9999999"), ("4", "9999999")]
    assert {k["secret_hex"] for k in keys} == {RFC_SECRET_HEX}
    assert (keys[0]["policy_start_date"], keys[0]["policy_expiry_date"]) == (
        "2006-05-01T00:00:00Z", "2006-05-31T00:00:00Z")


@needs_shared
def test_figure4_key_reference_keeps_the_element_text_verbatim(consumer):
    # The figure breaks the line inside <KeyReference>; libpskc keeps the text as it is
    # (xs:string), python-pskc strips it to "MasterKeyLabel".
    (key,) = consumer.decode(rfc(4))
    assert key["key_reference"] == "MasterKeyLabel\n            "
    assert "secret_hex" not in key  # Figure 4 transports no secret, only a reference


# ---------------------------------------------------------------- decode: what pskctool cannot do
@needs_shared
def test_encrypted_secret_is_skipped_with_a_warning(adapter):
    # Figure 6 is AES-128-CBC encrypted: libpskc ignores <EncryptedValue>, warns, and
    # returns the key without a secret (exit 0).
    result = adapter.call("pskc-consumer.decode", {"document_b64": b64(rfc(6))})
    (key,) = result["keys"]
    assert key["id"] == "12345678" and "secret_hex" not in key
    assert result["warnings"] == ["warning: parse error (use -d to diagnose), output may be incomplete"]


@needs_shared
def test_decryption_is_unsupported(consumer):
    with pytest.raises(Unsupported, match="cannot decrypt"):
        consumer.decode(rfc(6), {"key_hex": FIGURE6_KEY_HEX})
    with pytest.raises(Unsupported):
        consumer.decode(rfc(7), {"password": "qwerty"})


def test_not_xml_is_refused(consumer):
    with pytest.raises(Refused) as info:
        consumer.decode(b"<InValidXML></InValidCloseTag>")
    assert info.value.status == "libpskc: error returned from XML library"


def test_bad_base64_secret_is_refused_as_memory_allocation_failure(consumer):
    # libpskc maps a base64 decoding failure to PSKC_MALLOC_ERROR: the refusal is right,
    # its message misleading.
    body = f'<KeyPackage><Key Id="1" Algorithm="{HOTP_URN}"><Data><Secret><PlainValue>!!notbase64</PlainValue>' \
           "</Secret></Data></Key></KeyPackage>"
    with pytest.raises(Refused) as info:
        consumer.decode(doc(body))
    assert info.value.status == "libpskc: memory allocation failed"


def test_non_integers_silently_become_zero(consumer):
    # RFC 6030 schema: Counter is xs:long, MinLength xs:unsignedInt; libpskc parses both
    # with strtoull-style conversion and reports 0, without a warning.
    body = (f'<KeyPackage><Key Id="1" Algorithm="{HOTP_URN}"><Data><Counter><PlainValue>abc</PlainValue></Counter>'
            '</Data><Policy><PINPolicy MinLength="FOUR"/></Policy></Key></KeyPackage>')
    (key,) = consumer.decode(doc(body))
    assert (key["counter"], key["pin_min_length"]) == (0, 0)


def test_date_offsets_are_dropped(consumer):
    # 2012-05-31T00:00:00+02:00 is 2012-05-30T22:00:00Z; libpskc parses only the "Z"
    # form, keeps the wall-clock fields and loses the offset.
    body = ("<KeyPackage><DeviceInfo><Manufacturer>oath.x</Manufacturer>"
            "<ExpiryDate>2012-05-31T00:00:00+02:00</ExpiryDate></DeviceInfo>"
            f'<Key Id="1" Algorithm="{HOTP_URN}"/></KeyPackage>')
    (key,) = consumer.decode(doc(body))
    assert key["expiry_date"] == "2012-05-31T00:00:00Z"


def test_unknown_version_is_accepted(consumer):
    # RFC 6030 §4: Version "1.0"; python-pskc refuses invalid/wrongversion, pskctool not.
    (key,) = consumer.decode(doc(f'<KeyPackage><Key Id="1" Algorithm="{HOTP_URN}"/></KeyPackage>', version="1.2"))
    assert key == {"id": "1", "algorithm": HOTP_URN}


# ---------------------------------------------------------------- decode vs python-pskc 1.4
def _expected_peer() -> dict:
    if PEER_DIR is None:
        return {}
    data = json.loads((PEER_DIR / "EXPECTED-python-pskc-1.4.json").read_text())
    return {name: e for name, e in data.items() if e.get("parse") == "ok" and not e.get("encrypted")}


PLAINTEXT = _expected_peer()
# Where pskctool really differs from python-pskc 1.4 on a plaintext file.
DIFFERENT = {
    # Pre-RFC drafts use other namespaces/element names: libpskc finds no KeyPackage.
    **{name: "no keys" for name in PLAINTEXT if name.startswith("draft-")},
    # An empty <KeyPackage/> is a key for libpskc; python-pskc skips it.
    "misc/partialxml.pskcxml": "one more key",
    # See test_figure4_key_reference_keeps_the_element_text_verbatim.
    "rfc6030/figure4.pskcxml": "key_reference not stripped",
}
# python-pskc member -> KEY field, for the members its expectations file records.
PEER_FIELDS = {"id": "id", "secret": "secret_hex", "counter": "counter", "serial": "serial", "issuer": "issuer",
               "manufacturer": "manufacturer", "algorithm": "algorithm", "response_length": "response_length",
               "response_encoding": "response_encoding", "time_interval": "time_interval", "time_offset": "time",
               "friendly_name": "friendly_name", "key_profile": "key_profile_id", "key_reference": "key_reference"}


def _differences(expected: list[dict], keys: list[dict]) -> list[str]:
    out = [] if len(keys) == len(expected) else [f"{len(keys)} keys, python-pskc {len(expected)}"]
    for want, got in zip(expected, keys):
        for member, field in PEER_FIELDS.items():
            value = want.get(member)
            if value is not None and not str(value).startswith("ERROR") and got.get(field) != value:
                out.append(f"{field}: {got.get(field)!r} vs {value!r}")
    return out


@needs_shared
@pytest.mark.parametrize("name", sorted(PLAINTEXT))
def test_plaintext_files_against_python_pskc(consumer, name):
    keys = consumer.decode((PEER_DIR / name).read_bytes())
    problems = _differences(PLAINTEXT[name]["keys"], keys)
    if name not in DIFFERENT:
        assert not problems
    elif DIFFERENT[name] == "no keys":
        assert keys == [] and problems
    elif DIFFERENT[name] == "one more key":
        assert len(keys) == len(PLAINTEXT[name]["keys"]) + 1 and keys[0] == {}
    else:
        assert problems == ["key_reference: 'MasterKeyLabel\\n            ' vs 'MasterKeyLabel'"]


# ---------------------------------------------------------------- validate
def _schema_table() -> dict[str, str]:
    """python-pskc file -> libxml2 verdict against the RFC 6030 schema (README table)."""
    if PEER_DIR is None:
        return {}
    rows = re.findall(r"^  (\S+)\s+(valid|INVALID|not-XML)\s+(?:valid|INVALID|not-XML)\s+\S+\s*$",
                      (PEER_DIR / "README.txt").read_text(), re.M)
    return dict(rows)


SCHEMA = _schema_table()
# libpskc validates against its own copy of the schema with two documented changes
# (comment at the top of /usr/share/xml/pskc/pskc-schema.xsd): <Signature> is
# ds:Signature, and AlgorithmParameters is a sequence, not a choice (RFC 6030 erratum
# 2759), so these files the RFC's schema rejects are valid for pskctool.
LIBPSKC_SCHEMA_CHANGES = {
    "rfc6030/figure9.pskcxml": "ds:Signature",
    "nagraid/file1.pskcxml": "Suite + ResponseFormat",
    **{f"multiotp/{n}": "ResponseFormat after Suite/ChallengeFormat" for n in (
        "pskc-totp-aes.txt", "tokens_hotp_aes.pskc", "tokens_hotp_pbe.pskc", "tokens_ocra_aes.pskc",
        "tokens_ocra_pbe.pskc", "tokens_totp_aes.pskc", "tokens_totp_pbe.pskc")},
}


@needs_shared
def test_schema_table_was_read():
    assert len(SCHEMA) > 70 and set(LIBPSKC_SCHEMA_CHANGES) <= set(SCHEMA)


@needs_shared
@pytest.mark.parametrize("name", sorted(SCHEMA))
def test_validate_against_libxml2_verdicts(adapter, name):
    valid, messages = PskcValidator(adapter).validate((PEER_DIR / name).read_bytes())
    if name in LIBPSKC_SCHEMA_CHANGES:
        assert SCHEMA[name] == "INVALID" and valid is True
    else:
        assert valid is (SCHEMA[name] == "valid")
    if not valid:
        assert messages


@needs_shared
@pytest.mark.parametrize("figure, valid", [(2, True), (3, True), (5, True), (6, True), (7, True), (10, True),
                                           (8, False), (9, False)])
def test_validate_rfc_figures(adapter, figure, valid):
    # Unmodified RFC figures: Figure 8 has KeyContainer/@id (should be Id) and Figure 9
    # puts <Signature> in the PSKC namespace (RFC 6030 erratum 3418): both invalid even for
    # libpskc's amended schema.
    got, messages = PskcValidator(adapter).validate(rfc(figure))
    assert got is valid
    if figure == 8:
        assert any("attribute 'id'" in m for m in messages)


def test_validate_not_xml_is_invalid_not_refused(adapter):
    valid, messages = PskcValidator(adapter).validate(b"not xml at all")
    assert valid is False
    assert messages[-1] == "pskctool exit status 1"
    assert any("parsing PSKC data" in m for m in messages)


# ---------------------------------------------------------------- sign and verify
def _identity(name: str, kind: str = "rsa") -> dict[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind == "rsa" else ec.generate_private_key(
        ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    return {"private_key_pem": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()).decode(),
            "certificate_pem": cert.public_bytes(serialization.Encoding.PEM).decode()}


@pytest.fixture(scope="module")
def signer():
    return _identity("kplab pskctool signer")


@pytest.fixture(scope="module")
def stranger():
    return _identity("someone else")


def check_enveloped_rsa_sha1(document: bytes, certificate_pem: str) -> None:
    """XML-DSig check written independently of pskctool/xmlsec: the Reference (no URI:
    the whole document) digests the exclusive-C14N of the document without <Signature>;
    SignatureValue is RSA PKCS#1 v1.5 SHA-1 over the exclusive-C14N SignedInfo."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    root = etree.fromstring(document)
    signature = root.find(f"{{{DS}}}Signature")
    info = signature.find(f"{{{DS}}}SignedInfo")
    bare = etree.fromstring(document)
    bare.remove(bare.find(f"{{{DS}}}Signature"))
    digest = base64.b64encode(hashlib.sha1(etree.tostring(bare, method="c14n", exclusive=True)).digest()).decode()
    assert info.findtext(f"{{{DS}}}Reference/{{{DS}}}DigestValue") == digest
    cert = x509.load_pem_x509_certificate(certificate_pem.encode())
    cert.public_key().verify(base64.b64decode(signature.findtext(f"{{{DS}}}SignatureValue")),
                             etree.tostring(info, method="c14n", exclusive=True), padding.PKCS1v15(), hashes.SHA1())


def sign(adapter, document: bytes, identity: dict[str, str]) -> dict:
    return adapter.call("pskc-validator.sign", {"document_b64": b64(document), **identity})


@needs_shared
def test_sign_is_enveloped_rsa_sha1_without_reference_uri(adapter, signer):
    result = sign(adapter, rfc(2), signer)
    signed = base64.b64decode(result["document_b64"])
    root = etree.fromstring(signed)
    algorithms = [e.get("Algorithm") for e in root.iter(f"{{{DS}}}SignatureMethod", f"{{{DS}}}DigestMethod",
                                                         f"{{{DS}}}CanonicalizationMethod", f"{{{DS}}}Transform")]
    assert algorithms == ["http://www.w3.org/2001/10/xml-exc-c14n#", f"{DS}rsa-sha1",
                          f"{DS}enveloped-signature", f"{DS}sha1"]
    assert root.find(f"{{{DS}}}Signature/{{{DS}}}SignedInfo/{{{DS}}}Reference").get("URI") is None
    check_enveloped_rsa_sha1(signed, signer["certificate_pem"])
    assert "warnings" not in result


@needs_shared
def test_signed_document_verifies_and_tampering_is_caught(adapter, signer, stranger):
    signed = base64.b64decode(sign(adapter, rfc(2), signer)["document_b64"])

    def verify(document: bytes, identity: dict[str, str]) -> dict:
        return adapter.call("pskc-validator.verify", {"document_b64": b64(document),
                                                      "certificate_pem": identity["certificate_pem"]})

    assert verify(signed, signer) == {"valid": True, "messages": []}
    tampered = verify(signed.replace(b"Issuer-A", b"Issuer-B"), signer)
    assert tampered["valid"] is False and any("digest do not match" in m for m in tampered["messages"])
    untrusted = verify(signed, stranger)  # xmlsec cannot find a trusted key: exit 1
    assert untrusted["valid"] is False
    assert "pskctool: verifying PSKC data: error returned from XMLSec library" in untrusted["messages"]
    unsigned = verify(rfc(2), signer)
    assert unsigned["valid"] is False


@needs_shared
def test_signing_an_encrypted_container_silently_drops_what_libpskc_did_not_parse(adapter, signer):
    # Figure 6: pskc_sign_x509 signs pskc_build_xml()'s rebuild of the parsed model, which
    # has no EncryptionKey, MACMethod or EncryptedValue: the signed secret is gone.
    result = sign(adapter, rfc(6), signer)
    signed = base64.b64decode(result["document_b64"])
    assert result["warnings"] == ["warning: parse error (use -d to diagnose), output may be incomplete"]
    for lost in (b"EncryptionKey", b"MACMethod", b"EncryptedValue", b"<Secret"):
        assert lost in rfc(6) and lost not in signed
    check_enveloped_rsa_sha1(signed, signer["certificate_pem"])


@needs_shared
def test_signing_with_an_ec_key_is_refused(adapter):
    # The signature template is RSA-SHA1 only.
    with pytest.raises(Refused) as info:
        sign(adapter, rfc(2), _identity("ec signer", kind="ec"))
    assert info.value.status == "libpskc: error returned from XMLSec library"


def test_sign_wants_private_key_pem(adapter, signer):
    with pytest.raises(Refused, match="private_key_pem"):
        adapter.call("pskc-validator.sign", {"document_b64": b64(b"<x/>"), "key_pem": signer["private_key_pem"],
                                             "certificate_pem": signer["certificate_pem"]})


@needs_shared
def test_verifies_signxml_signatures_over_the_whole_document(adapter, signer):
    import signxml

    def signxml_sign(document: bytes) -> bytes:
        signed = signxml.XMLSigner(method=signxml.methods.enveloped, signature_algorithm="rsa-sha256",
                                   digest_algorithm="sha256").sign(etree.fromstring(document),
                                                                   key=signer["private_key_pem"],
                                                                   cert=signer["certificate_pem"])
        return etree.tostring(signed)

    def verify(document: bytes) -> dict:
        return adapter.call("pskc-validator.verify", {"document_b64": b64(document),
                                                      "certificate_pem": signer["certificate_pem"]})

    # Figure 10 has no container Id: signxml signs with Reference URI="" -> verifies.
    assert verify(signxml_sign(rfc(10)))["valid"] is True
    # Figure 2 has Id="exampleID1": signxml references URI="#exampleID1", which xmlsec
    # cannot resolve (PSKC's Id is not a DTD/xml:id ID): pskctool cannot verify it.
    by_id = signxml_sign(rfc(2))
    assert b'URI="#exampleID1"' in by_id
    result = verify(by_id)
    assert result["valid"] is False and any("xpointer(id('exampleID1'))" in m for m in result["messages"])
