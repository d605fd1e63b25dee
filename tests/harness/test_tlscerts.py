"""harness/tlscerts.py: the throw-away PKI for mutual-TLS test servers."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import stat
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from harness import tlscerts
from harness.errors import InputError


def _cert(path):
    return x509.load_pem_x509_certificate(path.read_bytes())


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return tlscerts.generate(tmp_path_factory.mktemp("pki"))


def test_files_are_named_as_documented(pki):
    assert sorted(p.name for p in pki.folder.iterdir()) == sorted(tlscerts.ALL_FILES)
    assert pki.complete()
    for key in (pki.ca_key, pki.server_key, pki.client_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_server_certificate(pki):
    cert = _cert(pki.server_cert)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert ExtendedKeyUsageOID.SERVER_AUTH in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey) and cert.public_key().curve.name == "secp256r1"
    cert.verify_directly_issued_by(_cert(pki.ca))


def test_client_certificate(pki):
    cert = _cert(pki.client_cert)
    assert ExtendedKeyUsageOID.CLIENT_AUTH in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    cert.verify_directly_issued_by(_cert(pki.ca))
    ca = _cert(pki.ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_rsa_variant(tmp_path):
    paths = tlscerts.generate(tmp_path, key_type="rsa")
    assert isinstance(_cert(paths.server_cert).public_key(), rsa.RSAPublicKey)
    with pytest.raises(InputError):
        tlscerts.generate(tmp_path / "x", key_type="dsa")


def test_ensure_reuses_a_complete_folder(tmp_path):
    first = tlscerts.ensure(tmp_path)
    before = first.server_cert.read_bytes()
    assert tlscerts.ensure(tmp_path).server_cert.read_bytes() == before
    first.client_key.unlink()
    assert tlscerts.ensure(tmp_path).server_cert.read_bytes() != before  # regenerated as a whole


def test_mutual_tls_handshake_with_python_ssl(pki):
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(pki.server_cert, pki.server_key)
    server_ctx.load_verify_locations(pki.ca)
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    client_ctx = ssl.create_default_context(cafile=str(pki.ca))  # hostname checking on: SAN 127.0.0.1 must match
    client_ctx.load_cert_chain(pki.client_cert, pki.client_key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    seen = {}

    def serve():
        conn, _ = listener.accept()
        with server_ctx.wrap_socket(conn, server_side=True) as tls:
            seen["client"] = tls.getpeercert()["subject"]
            tls.sendall(b"ok")

    t = threading.Thread(target=serve)
    t.start()
    with socket.create_connection(("127.0.0.1", port)) as raw, client_ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        assert tls.recv(2) == b"ok"
    t.join(5)
    listener.close()
    assert ((("commonName", "kplab-client"),) in seen["client"])
