"""Session-wide RSA material for the DSKPP engine tests (generated once: keeps the suite fast)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from .engine_kit import self_signed


@pytest.fixture(scope="session")
def server_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def device_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def ca_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def ca_certificate(ca_key) -> bytes:
    return self_signed(ca_key, "Device CA")


@pytest.fixture(scope="session")
def device_certificate(device_key, ca_key) -> bytes:
    """A device certificate issued by the test CA."""
    return self_signed(device_key, "Token 987654321", issuer_key=ca_key, issuer_name="Device CA")


@pytest.fixture(scope="session")
def server_certificate(server_key) -> bytes:
    return self_signed(server_key, "dskpp.example")
