"""Decoding: every RFC 6030 figure gives the values the RFC text states; deviations are
reported, refused in strict mode, and every error is typed and located."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from harness.errors import CryptoFailure, ProtocolError, SchemaViolation, UnsupportedFeature
from reference import pskc
from reference.pskc import EncryptedValue, PlainValue

PSK = bytes.fromhex("12345678901234567890123456789012")  # RFC 6030 §6.1
HOTP = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"


def codes(container) -> set[str]:
    return {f.code for f in container.all_findings()}


def test_figure2_basic_container(figure):
    c = pskc.decode(figure(2))
    assert (c.version, c.id, len(c.key_packages)) == ("1.0", "exampleID1", 1)
    key = c.key_packages[0].key
    assert (key.id, key.algorithm, key.issuer) == ("12345678", HOTP, "Issuer-A")
    assert key.data.secret == PlainValue(b"1234")
    assert c.all_findings() == ()


def test_figure3_supplementary_information(figure):
    package = pskc.decode(figure(3)).key_packages[0]
    assert package.device_info.manufacturer == "Manufacturer"
    assert package.device_info.serial_no == "987654321"
    assert package.device_info.user_id == "DC=example-bank,DC=net"
    assert package.crypto_module_info.id == "CM_ID_001"
    key = package.key
    assert key.algorithm_parameters.response_format == pskc.ResponseFormat("DECIMAL", 8)
    assert key.data.secret.value == b"12345678901234567890"
    assert key.data.counter == PlainValue(0)
    assert key.user_id == "UID=jsmith,DC=example-bank,DC=net"


def test_figure4_key_derivation_values(figure):
    key = pskc.decode(figure(4)).key_packages[0].key
    assert (key.key_profile_id, key.key_reference) == ("keyProfile1", "MasterKeyLabel")
    assert key.data.secret is None and key.data.counter == PlainValue(0)
    assert key.policy.key_usage == ("OTP",)


def test_figure5_pin_protected_key(figure):
    c = pskc.decode(figure(5))
    hotp, pin = (p.key for p in c.key_packages)
    assert hotp.policy.pin_policy == pskc.PINPolicy(pin_key_id="123456781", pin_usage_mode="Local",
                                                    min_length=4, max_length=4, pin_encoding="DECIMAL")
    assert hotp.policy.key_usage == ("OTP",) and hotp.policy.usage_permitted
    assert (pin.id, pin.algorithm) == ("123456781", "urn:ietf:params:xml:ns:keyprov:pskc:pin")
    assert pin.algorithm_parameters.response_format == pskc.ResponseFormat("DECIMAL", 4)
    assert pin.data.secret.value == b"1234"


def test_figure6_pre_shared_key(figure):
    encrypted = pskc.decode(figure(6))
    assert encrypted.encryption_key.key_names == ("Pre-shared-key",)
    assert encrypted.mac_method.algorithm == "http://www.w3.org/2000/09/xmldsig#hmac-sha1"
    assert isinstance(encrypted.key_packages[0].key.data.secret, EncryptedValue)
    assert encrypted.is_encrypted
    c = pskc.decode(figure(6), key=PSK)
    assert c.key_packages[0].key.data.secret == PlainValue(bytes.fromhex("3132333435363738393031323334353637383930"))
    assert c.mac_method.mac_key == bytes.fromhex("1122334455667788990011223344556677889900")
    assert c.key_packages[0].key.data.counter == PlainValue(0)
    assert not c.is_encrypted


def test_figure7_passphrase(figure):
    c = pskc.decode(figure(7), password="qwerty")
    derived = c.encryption_key.derived_key
    assert derived.pbkdf2 == pskc.PBKDF2Params(salt=bytes.fromhex("123eff3c4a72129c"), iteration_count=1000,
                                               key_length=16)
    assert derived.master_key_name == "My Password 1" and derived.reference_uris == ("#ED",)
    assert c.key_packages[0].key.data.secret.value == b"12345678901234567890"
    assert c.mac_method.mac_key == bytes.fromhex("bdaab8d648e850d25a3289364f7d7eaaf53ce581")


def test_figure8_asymmetric(figure, rsa_identity):
    from cryptography import x509

    c = pskc.decode(figure(8))
    assert c.id == "KC0001" and "pskc.id-spelling" in codes(c)  # 'id' instead of 'Id' in the RFC
    certificate = x509.load_der_x509_certificate(c.encryption_key.x509_certificates[0])
    assert "CN=PSKC Test" in certificate.subject.rfc4514_string()
    fields = pskc.decoded_fields(c.key_packages[0])
    assert fields["encrypted_fields"] == ["secret"] and fields["counter"] == 0
    with pytest.raises(CryptoFailure) as info:  # the RFC's private key is not published
        pskc.decode(figure(8), private_key=rsa_identity[0])
    assert info.value.status == "pskc.rsa-decrypt"
    with pytest.raises(SchemaViolation) as info:
        pskc.decode(figure(8), strict=True)
    assert info.value.status == "pskc.id-spelling"


def test_figure9_signature(figure):
    c = pskc.decode(figure(9))
    s = c.signature
    assert s.signature_method == "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
    assert s.canonicalization_method == "http://www.w3.org/2001/10/xml-exc-c14n#"
    assert s.reference_uris == ("#Device",) and s.digest_methods == ("http://www.w3.org/2000/09/xmldsig#sha1",)
    assert c.key_packages[0].device_info.serial_no == "0755225266"  # leading zero kept
    assert "pskc.signature-namespace" in codes(c)


def test_figure10_bulk_provisioning(figure):
    c = pskc.decode(figure(10))
    serials = [p.device_info.serial_no for p in c.key_packages]
    assert serials == ["654321", "123456", "9999999", "9999999"]
    assert [p.key.id for p in c.key_packages] == ["1", "2", "3", "4"]
    utc = timezone.utc
    assert c.key_packages[2].key.policy.start_date == datetime(2006, 3, 1, tzinfo=utc)
    assert c.key_packages[3].key.policy.expiry_date == datetime(2006, 4, 30, tzinfo=utc)


@pytest.mark.parametrize("number", [2, 3, 4, 5, 6, 7, 9, 10])
def test_rfc_figures_pass_strict_mode(figure, number):
    assert pskc.decode(figure(number), strict=True).key_packages


# --------------------------------------------------------------------------- versions
def _doc(container_attrs: str = 'Version="1.0"', body: str = "", key: str = '<Key Id="k1"/>') -> bytes:
    return (f'<KeyContainer {container_attrs} xmlns="urn:ietf:params:xml:ns:keyprov:pskc" '
            f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#">'
            f"{body}<KeyPackage>{key}</KeyPackage></KeyContainer>").encode()


@pytest.mark.parametrize("attrs,code,severity", [
    ("", "pskc.missing-version", "deviation"),
    ('Version="1"', "pskc.version-syntax", "deviation"),
    ('Version="1.2"', "pskc.newer-minor-version", "note"),  # §1.2: minor version ignored
    ('Version="01.0"', "pskc.version-leading-zero", "deviation"),
])
def test_version_findings(attrs, code, severity):
    findings = {f.code: f.severity for f in pskc.decode(_doc(attrs)).all_findings()}
    assert findings[code] == severity


@pytest.mark.parametrize("version,error", [("2.0", UnsupportedFeature), ("one", SchemaViolation)])
def test_unusable_versions_are_refused(version, error):
    with pytest.raises(error) as info:
        pskc.decode(_doc(f'Version="{version}"'))
    assert "line" in info.value.where


def test_wrong_document_element_and_namespace():
    with pytest.raises(SchemaViolation) as info:
        pskc.decode(b"<SomethingElse/>")
    assert info.value.status == "pskc.not-a-key-container"
    with pytest.raises(SchemaViolation) as info:
        pskc.decode(b'<KeyContainer Version="1.0" xmlns="urn:example:other"><KeyPackage/></KeyContainer>')
    assert info.value.status == "pskc.unknown-namespace"


# --------------------------------------------------------------------------- deviations
def test_schema_deviations_are_flagged_with_place():
    key = ('<Key><AlgorithmParameters><Suite>OCRA-1:HOTP-SHA1-6:QN08</Suite>'
           '<ResponseFormat Encoding="DECIMAL" Length="6" CheckDigit="TRUE"/></AlgorithmParameters>'
           '<Policy><KeyUsage>OTP</KeyUsage><PINPolicy PINUsageMode="Local" Weekdays="yes"/><Foo/></Policy></Key>')
    c = pskc.decode(_doc(key=key))
    found = {f.code: f for f in c.all_findings()}
    for code in ("pskc.key-without-id", "pskc.checkdigit-spelling", "pskc.boolean-case",
                 "pskc.algorithm-parameters-choice", "pskc.element-order", "pskc.unknown-attribute",
                 "pskc.unknown-element"):
        assert code in found, code
    assert found["pskc.key-without-id"].where.startswith("<Key> line")
    key_obj = c.key_packages[0].key
    assert key_obj.algorithm_parameters.response_format.check_digits is True
    assert key_obj.policy.usage_permitted is False  # RFC 6030 §5
    with pytest.raises(SchemaViolation):
        pskc.decode(_doc(key=key), strict=True)


@pytest.mark.parametrize("key,status", [
    ('<Key Id="1"><Policy><NumberOfTransactions>TWELVE</NumberOfTransactions></Policy></Key>', "pskc.not-integer"),
    ('<Key Id="1"><Policy><PINPolicy MinLength="FOUR"/></Policy></Key>', "pskc.not-integer"),
    ('<Key Id="1"><AlgorithmParameters><ResponseFormat Encoding="DECIMAL" Length="8" CheckDigits="maybe"/>'
     "</AlgorithmParameters></Key>", "pskc.not-boolean"),
    ('<Key Id="1"><Policy><StartDate>yesterday</StartDate></Policy></Key>', "pskc.not-datetime"),
    ('<Key Id="1"><Policy><StartDate>2010-12-31T23:59:60Z</StartDate></Policy></Key>', "pskc.not-datetime"),
    ('<Key Id="1"><Data><Secret><PlainValue>!!!</PlainValue></Secret></Data></Key>', "pskc.not-base64"),
    ('<Key Id="1"><Data><Secret><EncryptedValue/></Secret></Data></Key>', "pskc.no-cipher-value"),
])
def test_unreadable_values_are_schema_violations_with_place(key, status):
    with pytest.raises(SchemaViolation) as info:
        pskc.decode(_doc(key=key))
    assert info.value.status == status
    assert "line 1" in info.value.where


def test_integers_written_as_base64_are_read_like_python_pskc():
    key = '<Key Id="1"><Data><Counter><PlainValue>NzA5Nzkx</PlainValue></Counter></Data></Key>'
    c = pskc.decode(_doc(key=key))
    assert c.key_packages[0].key.data.counter == PlainValue(709791)
    assert "pskc.integer-as-base64" in codes(c)


def test_dates_are_normalised_and_offsets_noted():
    key = '<Key Id="1"><Policy><StartDate>2006-05-01T02:00:00+02:00</StartDate>' \
          '<ExpiryDate>2006-05-31T24:00:00Z</ExpiryDate></Policy></Key>'
    c = pskc.decode(_doc(key=key))
    policy = c.key_packages[0].key.policy
    assert policy.start_date == datetime(2006, 5, 1, tzinfo=timezone.utc)
    assert policy.expiry_date == datetime(2006, 6, 1, tzinfo=timezone.utc)
    assert "pskc.datetime-not-canonical" in codes(c)


def test_extensions_and_unknown_children_are_kept():
    ext = '<Extensions definition="urn:x"><y:Flag xmlns:y="urn:example:y" v="1">on</y:Flag></Extensions>'
    key = f'<Key Id="1"><Data><Counter><PlainValue>3</PlainValue></Counter><z:Extra xmlns:z="urn:z"/></Data>{ext}</Key>'
    c = pskc.decode(_doc(key=key))
    key_obj = c.key_packages[0].key
    assert b'definition="urn:x"' in key_obj.extensions[0].xml and b"on</y:Flag>" in key_obj.extensions[0].xml
    assert key_obj.data.unknown[0].tag == "{urn:z}Extra"
    assert "pskc.unknown-element" not in codes(c)  # xs:any ##other is allowed there


# --------------------------------------------------------------------------- protection
def _encrypted_doc(mac_method: str, value_mac: str | None, cipher_value: str, algorithm: str = "aes128-cbc") -> bytes:
    mac = f"<ValueMAC>{value_mac}</ValueMAC>" if value_mac else ""
    key = (f'<Key Id="1"><Data><Secret><EncryptedValue><xenc:EncryptionMethod '
           f'Algorithm="http://www.w3.org/2001/04/xmlenc#{algorithm}"/><xenc:CipherData><xenc:CipherValue>'
           f"{cipher_value}</xenc:CipherValue></xenc:CipherData></EncryptedValue>{mac}</Secret></Data></Key>")
    return _doc(body="<EncryptionKey><ds:KeyName>Pre-shared-key</ds:KeyName></EncryptionKey>" + mac_method, key=key)


FIG6_CV = "AAECAwQFBgcICQoLDA0OD+cIHItlB3Wra1DUpxVvOx2lef1VmNPCMl8jwZqIUqGv"
FIG6_MACKEY = ('<MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1"><MACKey><xenc:EncryptionMethod '
               'Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/><xenc:CipherData><xenc:CipherValue>'
               "ESIzRFVmd4iZABEiM0RVZgKn6WjLaTC1sbeBMSvIhRejN9vJa2BOlSaMrR7I5wSX</xenc:CipherValue>"
               "</xenc:CipherData></MACKey></MACMethod>")


def test_tampered_value_mac_is_a_crypto_failure():
    with pytest.raises(CryptoFailure) as info:
        pskc.decode(_encrypted_doc(FIG6_MACKEY, "Au+NvtQfmvfJzF6bmQiJqoLRExc=", FIG6_CV), key=PSK)
    assert info.value.status == "pskc.mac-mismatch" and PSK.hex() not in str(info.value)


def test_missing_value_mac_with_cbc_is_a_deviation():
    c = pskc.decode(_encrypted_doc("", None, FIG6_CV), key=PSK)
    assert c.key_packages[0].key.data.secret.value == b"12345678901234567890"
    assert "pskc.missing-value-mac" in codes(c)
    with pytest.raises(SchemaViolation):
        pskc.decode(_encrypted_doc("", None, FIG6_CV), key=PSK, strict=True)


def test_value_mac_without_mac_method_is_refused():
    with pytest.raises(CryptoFailure) as info:
        pskc.decode(_encrypted_doc("", "Su+NvtQfmvfJzF6bmQiJqoLRExc=", FIG6_CV), key=PSK)
    assert info.value.status == "pskc.no-mac-method"


def test_mac_key_reference_needs_the_mac_key():
    method = ('<MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1">'
              "<MACKeyReference>pre-agreed</MACKeyReference></MACMethod>")
    document = _encrypted_doc(method, "Su+NvtQfmvfJzF6bmQiJqoLRExc=", FIG6_CV)
    with pytest.raises(CryptoFailure) as info:
        pskc.decode(document, key=PSK)
    assert info.value.status == "pskc.no-mac-key"
    mac_key = bytes.fromhex("1122334455667788990011223344556677889900")
    assert pskc.decode(document, key=PSK, mac_key=mac_key).key_packages[0].key.data.secret.value.startswith(b"123")


@pytest.mark.parametrize("credentials,error,status", [
    ({"key": bytes(16)}, CryptoFailure, None),
    ({"key": bytes(24)}, CryptoFailure, "pskc.wrong-key-length"),
    ({"password": "qwerty"}, CryptoFailure, "pskc.no-key"),
])
def test_wrong_credentials_fail_cleanly(figure, credentials, error, status):
    with pytest.raises(error) as info:
        pskc.decode(figure(6), **credentials)
    if status:
        assert info.value.status == status


def test_unknown_algorithms_are_unsupported():
    with pytest.raises(UnsupportedFeature) as info:
        pskc.decode(_encrypted_doc("", None, FIG6_CV, algorithm="unknown"), key=PSK)
    assert info.value.status == "pskc.unsupported-algorithm"


def test_encrypted_integers_ascii_and_binary():
    from reference.pskc.ciphers import cbc_encrypt
    import base64

    iv = bytes(16)
    for plain, expected, note in ((b"298507", 298507, False), ((961392).to_bytes(3, "big"), 961392, True)):
        cv = base64.b64encode(cbc_encrypt("aes", PSK, plain, iv)).decode()
        key = (f'<Key Id="1"><Data><Counter><EncryptedValue><xenc:EncryptionMethod '
               f'Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/><xenc:CipherData><xenc:CipherValue>{cv}'
               f"</xenc:CipherValue></xenc:CipherData></EncryptedValue></Counter></Data></Key>")
        c = pskc.decode(_doc(key=key), key=PSK)
        assert c.key_packages[0].key.data.counter == PlainValue(expected)
        assert ("pskc.encrypted-integer-binary" in codes(c)) is note


def test_legacy_dialect_is_read_and_flagged():
    document = b"""<SecretContainer xmlns="http://www.openauthentication.org/OATH/2006/08/PSKC" version="1.2">
      <EncryptionMethod algorithm="NONE"/><DigestMethod algorithm="HMAC-SHA1"/>
      <Device><DeviceId><Manufacturer>M</Manufacturer><SerialNo>42</SerialNo><Expiry>01/01/2008</Expiry></DeviceId>
      <Secret SecretAlgorithm="HOTP" SecretId="42"><Usage><ResponseFormat format="DECIMAL" length="6"/></Usage>
      <Data Name="SECRET"><Value>MTIzNA==</Value></Data><Data Name="COUNTER"><Value>AAAAAAAAAAw=</Value></Data>
      </Secret></Device></SecretContainer>"""
    c = pskc.decode(document)
    assert c.dialect == "draft-hoyer-keyprov-portable-symmetric-key-container-00"
    fields = pskc.decoded_fields(c.key_packages[0])
    assert (fields["id"], fields["secret_hex"], fields["counter"], fields["response_length"]) == \
        ("42", b"1234".hex(), 12, 6)
    assert fields["device_expiry_date"] == "2008-01-01T00:00:00Z"
    assert any(f.severity == "legacy" for f in c.all_findings())
    with pytest.raises(SchemaViolation):
        pskc.decode(document, strict=True)


# --------------------------------------------------------------------------- streaming
def test_iter_keys_streams_and_decrypts(figure):
    stream = pskc.iter_keys(figure(10))
    assert [p.key.id for p in stream] == ["1", "2", "3", "4"]
    assert stream.header.version == "1.0" and stream.count == 4
    stream = pskc.iter_keys(figure(7), password="qwerty")
    first = next(stream)
    assert first.key.data.secret.value == b"12345678901234567890"
    assert stream.header.encryption_key.derived_key.master_key_name == "My Password 1"
    assert list(stream) == []
    assert stream.header.mac_method.mac_key == bytes.fromhex("bdaab8d648e850d25a3289364f7d7eaaf53ce581")


def test_iter_keys_reads_paths_and_files(tmp_path, figure):
    path = tmp_path / "f.pskcxml"
    path.write_bytes(figure(5))
    assert len(list(pskc.iter_keys(path))) == 2
    with open(path, "rb") as handle:
        assert len(list(pskc.iter_keys(handle))) == 2
    assert pskc.decode(path).key_packages == pskc.decode(figure(5)).key_packages


def test_every_error_is_a_protocol_error_not_a_traceback():
    for document in (b"\x00", b"<a", _doc('Version="9.9"'), b"<KeyContainer/>"):
        with pytest.raises(ProtocolError):
            pskc.decode(document)
