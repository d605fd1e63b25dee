"""ServerPolicy / KeyTypePolicy (reference/dskpp/policy.py)."""

from __future__ import annotations

import pytest

from harness.errors import InputError
from reference.dskpp.messages import KeyPackageFormatUri
from reference.dskpp.policy import (
    HOTP_URI,
    OCRA_PREFIX,
    TOTP_URI,
    KeyTypePolicy,
    ServerPolicy,
    default_key_length,
)

from .engine_kit import PSK


def test_defaults_enable_everything_the_rfc_requires():
    policy = ServerPolicy()
    # Sec. 9 a./b.: both variants; i.: all three key protection methods; d./h.: both PRFs.
    assert policy.four_pass and len(policy.two_pass_methods) == 3
    assert set(policy.mac_algorithms) == {
        "urn:ietf:params:xml:ns:keyprov:dskpp:prf-aes-128", "urn:ietf:params:xml:ns:keyprov:dskpp:prf-sha256"}
    assert policy.key_package_formats == (KeyPackageFormatUri.PSKC.value,)
    assert policy.require_authentication and policy.ac_iteration_count == 100_000
    assert policy.key_type(HOTP_URI).key_length == 20 and policy.key_type("urn:other") is None


def test_key_lengths_by_type():
    # RFC 4226 §4 R6: 160-bit HOTP secrets recommended.
    assert default_key_length(HOTP_URI) == 20
    assert default_key_length(TOTP_URI) == 20
    assert default_key_length(OCRA_PREFIX + "OCRA-1:HOTP-SHA1-6:QN08") == 20
    assert default_key_length("http://example/unknown") is None


@pytest.mark.parametrize("kwargs", [
    dict(four_pass=False, two_pass_methods=()),
    dict(two_pass_methods=("urn:unknown",)),
    dict(key_types=()),
    dict(mac_algorithms=()),
    dict(key_package_formats=(KeyPackageFormatUri.PKCS12.value,)),
    dict(shared_keys={"short": b"x" * 15}),
    dict(four_pass_shared_key="missing"),
    dict(device_keys={"Acme:1": "missing"}),
    dict(negotiation_preference="random"),
    dict(preferred_variant="three-pass"),
    dict(server_nonce_length=15),
    dict(ac_iteration_count=0),
    dict(session_timeout_s=0),
    dict(server_urls=()),
])
def test_invalid_policies_are_refused(kwargs):
    with pytest.raises(InputError):
        ServerPolicy(**kwargs)


def test_key_type_policy_validation():
    with pytest.raises(InputError):
        KeyTypePolicy(key_length=0)
    with pytest.raises(InputError):
        KeyTypePolicy(digits=11)


def test_repr_never_shows_keys_or_passphrases(server_key):
    policy = ServerPolicy(rsa_private_key=server_key, shared_keys={"psk": PSK}, passphrases={"pp": "my passphrase"})
    text = repr(policy)
    assert PSK.hex() not in text and repr(PSK) not in text and "my passphrase" not in text
    assert "'psk'" in text and "'pp'" in text and "fp:" in text
    private_numbers = server_key.private_numbers()
    assert str(private_numbers.d) not in text and hex(private_numbers.d)[2:12] not in text
