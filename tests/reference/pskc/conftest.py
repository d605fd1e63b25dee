"""Shared fixtures for the reference PSKC codec tests.

No __init__.py here on purpose: a package named "pskc" would shadow python-pskc.

Third-party data is read from ../shared (never copied); tests that need it skip with a
reason when it is absent.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from harness.vectors import shared_dir


def shared_path(*parts: str) -> Path:
    shared = shared_dir()
    if shared is None:
        pytest.skip("../shared is absent: RFC examples and third-party vectors unavailable")
    path = shared.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared/{'/'.join(parts)} is absent")
    return path


def rfc_figure(number: int) -> bytes:
    """RFC 6030 Figure N as extracted verbatim into ../shared/specs/rfc6030-examples."""
    return shared_path("specs", "rfc6030-examples", f"figure{number}.xml").read_bytes()


@pytest.fixture
def figure():
    """figure(n) -> bytes of RFC 6030 Figure n (skips when ../shared is absent)."""
    return rfc_figure


@pytest.fixture
def shared():
    """shared(*parts) -> Path under ../shared (skips when absent)."""
    return shared_path


@pytest.fixture(scope="session")
def pskc_xsd() -> Path:
    return shared_path("specs", "pskc.xsd")


@pytest.fixture(scope="session")
def xmlschema_validator(pskc_xsd):
    xmlschema = pytest.importorskip("xmlschema")
    return xmlschema.XMLSchema(str(pskc_xsd))


@pytest.fixture(scope="session")
def libxml2_validator(pskc_xsd):
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(pskc_xsd)))


@pytest.fixture(scope="session")
def rsa_identity():
    """(private key PEM, certificate PEM, private key object) of a throwaway RSA key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "keyprov-lab test signer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, cert.public_bytes(serialization.Encoding.PEM), key


@pytest.fixture
def make_rng():
    """make_rng(seed) -> deterministic rng(n) for replayable encodings."""
    return counting_rng


def counting_rng(seed: int = 0):
    """Deterministic rng(n) for replayable encodings."""
    state = {"i": seed}

    def rng(n: int) -> bytes:
        out = bytes((state["i"] + j) % 256 for j in range(n))
        state["i"] += n
        return out

    return rng
