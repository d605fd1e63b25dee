"""Throw-away certificates for mutual-TLS test servers (KMIP over TLS, KMIP 1.4 §8 / 2.1 §13).

``generate(folder)`` writes a small PKI into ``folder`` and returns a :class:`CertPaths`:

=================  ===========================================================
``ca.pem``         self-signed CA certificate (basicConstraints CA:TRUE, keyCertSign)
``ca-key.pem``     the CA's private key (kept so more leaves can be issued)
``server.pem``     server certificate: CN=localhost, SAN DNS:localhost and
                   IP:127.0.0.1, extendedKeyUsage serverAuth, signed by the CA
``server-key.pem`` the server's private key (PKCS#8 PEM, unencrypted)
``client.pem``     client certificate: CN=kplab-client, extendedKeyUsage clientAuth
``client-key.pem`` the client's private key
=================  ===========================================================

Keys are EC P-256 by default: generation takes milliseconds and PyKMIP 0.11's TLS 1.2
suite (``kmip.services.auth.TLS12AuthenticationSuite``) offers ECDHE-ECDSA ciphers, so
it accepts them (checked by tests/harness/adapters/test_kmip.py).  ``key_type="rsa"``
gives RSA-2048 for peers that only speak the RSA suites.

The files are test material for loopback servers, nothing else: the keys are not
encrypted and the certificates are valid for ``days`` days from ``now``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from harness.errors import InputError

CA_CERT = "ca.pem"
CA_KEY = "ca-key.pem"
SERVER_CERT = "server.pem"
SERVER_KEY = "server-key.pem"
CLIENT_CERT = "client.pem"
CLIENT_KEY = "client-key.pem"
ALL_FILES = (CA_CERT, CA_KEY, SERVER_CERT, SERVER_KEY, CLIENT_CERT, CLIENT_KEY)


@dataclass(frozen=True)
class CertPaths:
    folder: Path
    ca: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    @classmethod
    def in_folder(cls, folder: str | Path) -> CertPaths:
        f = Path(folder)
        return cls(f, f / CA_CERT, f / CA_KEY, f / SERVER_CERT, f / SERVER_KEY, f / CLIENT_CERT, f / CLIENT_KEY)

    def complete(self) -> bool:
        """True when every file exists (a folder generated earlier can be reused)."""
        return all(p.is_file() for p in (self.ca, self.ca_key, self.server_cert, self.server_key,
                                         self.client_cert, self.client_key))


def _new_key(key_type: str):
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise InputError(f"key_type must be 'ec' or 'rsa', not {key_type!r}")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "keyprov-lab test PKI"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _write(path: Path, data: bytes, private: bool) -> None:
    path.write_bytes(data)
    if private:
        path.chmod(0o600)


def generate(
    folder: str | Path,
    *,
    key_type: str = "ec",
    days: int = 30,
    now: dt.datetime | None = None,
    hosts: tuple[str, ...] = ("localhost", "127.0.0.1"),
) -> CertPaths:
    """Write a CA, a server and a client certificate (file names above) into ``folder``."""
    paths = CertPaths.in_folder(folder)
    try:
        paths.folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create certificate folder: {exc.strerror or exc}", where=str(folder)) from None
    start = (now or dt.datetime.now(dt.timezone.utc)) - dt.timedelta(minutes=5)  # tolerate clock skew
    end = start + dt.timedelta(days=days)
    sig_hash = hashes.SHA256()

    ca_key = _new_key(key_type)
    ca_name = _name("keyprov-lab test CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, sig_hash)
    )

    def leaf(common_name: str, usage: x509.ObjectIdentifier, san: list[x509.GeneralName] | None):
        key = _new_key(key_type)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=key_type == "rsa", data_encipherment=False,
                                         key_agreement=key_type == "ec", key_cert_sign=False, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return key, builder.sign(ca_key, sig_hash)

    san: list[x509.GeneralName] = []
    for host in hosts:
        try:
            san.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            san.append(x509.DNSName(host))
    server_key, server_cert = leaf("localhost", ExtendedKeyUsageOID.SERVER_AUTH, san)
    client_key, client_cert = leaf("kplab-client", ExtendedKeyUsageOID.CLIENT_AUTH, None)

    pem = serialization.Encoding.PEM
    _write(paths.ca, ca_cert.public_bytes(pem), False)
    _write(paths.ca_key, _pem_key(ca_key), True)
    _write(paths.server_cert, server_cert.public_bytes(pem), False)
    _write(paths.server_key, _pem_key(server_key), True)
    _write(paths.client_cert, client_cert.public_bytes(pem), False)
    _write(paths.client_key, _pem_key(client_key), True)
    return paths


def ensure(folder: str | Path, **kwargs) -> CertPaths:
    """The certificates in ``folder``, generated first when any file is missing."""
    paths = CertPaths.in_folder(folder)
    return paths if paths.complete() else generate(folder, **kwargs)
