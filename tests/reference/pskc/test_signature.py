"""XML signature over the container (RFC 6030 §7): sign, verify, tamper, placement."""

from __future__ import annotations

import io

import pytest
from lxml import etree

from harness.errors import CryptoFailure, UnsupportedFeature
from reference import pskc
from reference.pskc.algorithms import DS_NS

pytestmark = pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")


@pytest.fixture
def signed(figure, rsa_identity):
    key_pem, cert_pem, _ = rsa_identity
    container = pskc.decode(figure(10))
    return pskc.encode(container, signing=pskc.SigningKey(key_pem, cert_pem)), container


def test_signed_container_verifies_and_decodes(signed, rsa_identity):
    document, container = signed
    verified = pskc.verify_signature(document, certificate=rsa_identity[1])
    assert pskc.decode(verified).key_packages == container.key_packages
    assert pskc.decode(verified).signature is None  # signed content excludes the signature
    described = pskc.decode(document).signature
    assert described is not None and described.reference_uris == ("",)
    assert described.signature_method == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    assert described.certificates  # the signer certificate travels in KeyInfo


def test_signature_sits_after_key_packages_before_extensions(figure, rsa_identity):
    key_pem, cert_pem, _ = rsa_identity
    extension = pskc.decode(figure(10).replace(
        b"</KeyContainer>", b'<Extensions><x:E xmlns:x="urn:example"/></Extensions></KeyContainer>'))
    document = pskc.encode(extension, signing=pskc.SigningKey(key_pem, cert_pem))
    names = [etree.QName(c).localname for c in etree.fromstring(document)]
    assert names == ["KeyPackage"] * 4 + ["Signature", "Extensions"]
    assert etree.QName(etree.fromstring(document)[4]).namespace == DS_NS  # errata 3418
    pskc.verify_signature(document, certificate=cert_pem)


@pytest.mark.parametrize("tamper", [
    lambda d: d.replace(b"654321", b"654322"),  # a serial number
    lambda d: d.replace(b"MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=", b"MTIzNDU2Nzg5MDEyMzQ1Njc4OTE=", 1),  # a secret
    lambda d: d.replace(b'Version="1.0"', b'Version="1.1"'),  # the container itself
])
def test_tampering_is_detected(signed, rsa_identity, tamper):
    document, _ = signed
    changed = tamper(document)
    assert changed != document
    with pytest.raises(CryptoFailure) as info:
        pskc.verify_signature(changed, certificate=rsa_identity[1])
    assert info.value.status == "pskc.bad-signature"


def test_other_signer_is_refused(signed):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    import datetime

    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "someone else")])
    now = datetime.datetime.now(datetime.timezone.utc)
    other = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(other_key.public_key())
             .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
             .not_valid_after(now + datetime.timedelta(days=1)).sign(other_key, hashes.SHA256()))
    with pytest.raises(CryptoFailure):
        pskc.verify_signature(signed[0], certificate=other.public_bytes(serialization.Encoding.PEM))


def test_unsigned_and_rfc_figure9_signatures_are_refused(figure, shared):
    with pytest.raises(CryptoFailure) as info:
        pskc.verify_signature(figure(2))
    assert info.value.status == "pskc.no-signature"
    # The RFC figure: pskc:Signature (schema as printed) cannot be found by XML-DSig.
    with pytest.raises(CryptoFailure) as info:
        pskc.verify_signature(figure(9))
    assert info.value.status == "pskc.signature-namespace"
    # python-pskc's copy (ds:Signature, errata 3418) uses rsa-sha1 and a fake value.
    corrected = shared("vectors-thirdparty", "pskc", "rfc6030", "figure9.pskcxml").read_bytes()
    with pytest.raises((CryptoFailure, UnsupportedFeature)):
        pskc.verify_signature(corrected)


def test_sha1_signatures_are_refused_unless_allowed(figure, rsa_identity):
    key_pem, cert_pem, _ = rsa_identity
    document = pskc.encode(pskc.decode(figure(3)), signing=pskc.SigningKey(
        key_pem, cert_pem, signature_algorithm="rsa-sha1", digest_algorithm="sha1", allow_sha1=True))
    with pytest.raises(UnsupportedFeature):
        pskc.verify_signature(document, certificate=cert_pem)
    assert pskc.decode(pskc.verify_signature(document, certificate=cert_pem, allow_sha1=True)).key_packages


def test_python_pskc_verifies_our_signature(signed, rsa_identity):
    peer = pytest.importorskip("pskc")
    document, container = signed
    theirs = peer.PSKC(io.BytesIO(document))
    assert theirs.signature.is_signed
    assert theirs.signature.verify(certificate=rsa_identity[1].decode())
    assert [k.serial for k in theirs.signature.signed_pskc.keys] == ["654321", "123456", "9999999", "9999999"]


def test_protected_and_signed(figure, rsa_identity):
    key_pem, cert_pem, _ = rsa_identity
    psk = bytes(16)
    document = pskc.encode(pskc.decode(figure(3)), protection=pskc.PreSharedKey(psk),
                           signing=pskc.SigningKey(key_pem, cert_pem))
    verified = pskc.verify_signature(document, certificate=cert_pem)
    assert pskc.decode(verified, key=psk).keys[0].data.secret.value == b"12345678901234567890"
