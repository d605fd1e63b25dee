"""SAL negotiation (reference/dskpp/negotiation.py; RFC 6063 §4.2.2, 4.2.3, 5.2.2, 3.3)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reference.dskpp.interpretation import Interpretation, TwoPassEncryptionChoice
from reference.dskpp.messages import (
    KeyInfo,
    KeyPackageFormatUri,
    KeyProtectionMethodUri,
    KeyProtectionOffer,
    KeyProvClientHello,
    Payload,
    ProtocolVariants,
)
from reference.dskpp.negotiation import NegotiationFailed, ProtectionKey, negotiate, pick
from reference.dskpp.policy import TWO_PASS, ServerPolicy

from .engine_kit import AES_CBC, HOTP, KW_AES, PRF_AES, PRF_SHA256, PSK, PSK_NAME, RSA_1_5, RSA_OAEP

TOTP = "urn:ietf:params:xml:ns:keyprov:pskc#totp"
WRAP = KeyProtectionMethodUri.WRAP.value
TRANSPORT = KeyProtectionMethodUri.TRANSPORT.value


def hello(**changes) -> KeyProvClientHello:
    base = KeyProvClientHello(version="1.0", supported_key_types=(HOTP,), supported_encryption_algorithms=(RSA_OAEP,),
                              supported_mac_algorithms=(PRF_AES,),
                              supported_protocol_variants=ProtocolVariants(four_pass=True))
    return replace(base, **changes)


def wrap_offer(name: str = PSK_NAME) -> KeyProtectionOffer:
    return KeyProtectionOffer(WRAP, Payload(key_info=KeyInfo.from_key_name(name)))


def resolve(offer: KeyProtectionOffer) -> ProtectionKey | None:
    names = offer.payload.key_info.key_names if offer.payload and offer.payload.key_info else ()
    if offer.method == WRAP and names == (PSK_NAME,):
        return ProtectionKey("shared", name=PSK_NAME)
    return None


@pytest.fixture
def policy(server_key) -> ServerPolicy:
    return ServerPolicy(rsa_private_key=server_key, shared_keys={PSK_NAME: PSK}, four_pass_shared_key=PSK_NAME)


def run(message: KeyProvClientHello, policy: ServerPolicy, shared: str | None = PSK_NAME):
    return negotiate(message, policy, resolve_two_pass=resolve, four_pass_shared_key=lambda: shared)


def status_of(message, policy, shared=PSK_NAME) -> str:
    with pytest.raises(NegotiationFailed) as info:
        run(message, policy, shared)
    return info.value.status


def test_pick_orders():
    assert pick(("a", "b", "c"), ("c", "b"), "client") == "b"
    assert pick(("a", "b", "c"), ("c", "b"), "server") == "c"
    assert pick(("a",), ("b",), "client") is None


def test_client_preference_wins_by_default(policy):
    agreement = run(hello(supported_mac_algorithms=(PRF_SHA256, PRF_AES),
                          supported_encryption_algorithms=(RSA_1_5, RSA_OAEP)), policy)
    assert agreement.mac_algorithm == PRF_SHA256 and agreement.encryption_algorithm == RSA_1_5
    assert agreement.key == ProtectionKey("server-rsa")


def test_server_preference_when_configured(policy):
    server_first = replace(policy, negotiation_preference="server")
    agreement = run(hello(supported_mac_algorithms=(PRF_SHA256, PRF_AES),
                          supported_encryption_algorithms=(RSA_1_5, RSA_OAEP)), server_first)
    assert agreement.mac_algorithm == PRF_AES and agreement.encryption_algorithm == RSA_OAEP


def test_defaults_for_absent_optional_lists(policy):
    """No <SupportedProtocolVariants>: four-pass; no <SupportedKeyPackages>: PSKC (D-12)."""
    agreement = run(hello(supported_protocol_variants=None, supported_key_packages=()), policy)
    assert agreement.variant == "four-pass" and agreement.key_package_format == KeyPackageFormatUri.PSKC.value


def test_shared_key_algorithms_need_a_shared_key(policy):
    assert run(hello(supported_encryption_algorithms=(PRF_SHA256,)), policy).key == ProtectionKey("shared", PSK_NAME)
    assert status_of(hello(supported_encryption_algorithms=(PRF_SHA256,)), policy, shared=None) == \
        "NoSupportedEncryptionAlgorithms"
    no_rsa = replace(policy, rsa_private_key=None)
    assert status_of(hello(), no_rsa) == "NoSupportedEncryptionAlgorithms"


def test_aes_algorithms_need_a_16_octet_shared_key(policy):
    long_key = replace(policy, shared_keys={PSK_NAME: b"k" * 32})
    assert status_of(hello(supported_encryption_algorithms=(AES_CBC,)), long_key) == "NoSupportedEncryptionAlgorithms"
    assert run(hello(supported_encryption_algorithms=(PRF_AES,)), long_key).encryption_algorithm == PRF_AES


@pytest.mark.parametrize(("changes", "status"), [
    (dict(version="3.1", supported_key_types=("urn:x",)), "UnsupportedVersion"),
    (dict(supported_key_types=("urn:x",), supported_mac_algorithms=("urn:y",)), "NoSupportedKeyTypes"),
    (dict(supported_encryption_algorithms=("urn:x",), supported_mac_algorithms=("urn:y",)),
     "NoSupportedEncryptionAlgorithms"),
    (dict(supported_mac_algorithms=("urn:y",), supported_key_packages=("urn:z",)), "NoSupportedMacAlgorithms"),
    (dict(supported_key_packages=(KeyPackageFormatUri.PKCS12.value,)), "NoSupportedKeyPackages"),
    (dict(supported_protocol_variants=ProtocolVariants()), "NoProtocolVariants"),
])
def test_statuses_in_order(policy, changes, status):
    assert status_of(hello(**changes), policy) == status


def test_variant_choice(policy):
    both = ProtocolVariants(four_pass=True, two_pass=(wrap_offer(),))
    assert run(hello(supported_protocol_variants=both, supported_encryption_algorithms=(RSA_OAEP, AES_CBC)),
               policy).variant == "four-pass"
    prefer_two = replace(policy, preferred_variant=TWO_PASS)
    agreement = run(hello(supported_protocol_variants=both, supported_encryption_algorithms=(RSA_OAEP, AES_CBC)),
                    prefer_two)
    assert agreement.variant == TWO_PASS and agreement.method == WRAP and agreement.encryption_algorithm == AES_CBC
    four_off = replace(policy, four_pass=False)
    assert run(hello(supported_protocol_variants=both, supported_encryption_algorithms=(AES_CBC,)), four_off).variant \
        == TWO_PASS


def test_second_variant_is_tried_when_the_first_fails(policy):
    """Four-pass cannot encrypt R_C with kw-aes128 offered alone and no K_SHARED; two-pass key wrap can."""
    both = ProtocolVariants(four_pass=True, two_pass=(wrap_offer(),))
    agreement = run(hello(supported_protocol_variants=both, supported_encryption_algorithms=(KW_AES,)), policy,
                    shared=None)
    assert agreement.variant == TWO_PASS and agreement.encryption_algorithm == KW_AES


def test_failure_of_the_preferred_variant_is_reported(policy):
    both = ProtocolVariants(four_pass=True, two_pass=(wrap_offer(),))
    assert status_of(hello(supported_protocol_variants=both, supported_encryption_algorithms=(KW_AES,),
                           supported_key_types=(TOTP,)), policy) == "NoSupportedKeyTypes"


def test_unusable_payloads_mean_no_protocol_variant(policy):
    two = ProtocolVariants(two_pass=(wrap_offer("unknown"), KeyProtectionOffer(TRANSPORT)))
    assert status_of(hello(supported_protocol_variants=two, supported_encryption_algorithms=(AES_CBC,)), policy) == \
        "NoProtocolVariants"
    fallback = ProtocolVariants(two_pass=(wrap_offer("unknown"), wrap_offer()))
    assert run(hello(supported_protocol_variants=fallback, supported_encryption_algorithms=(AES_CBC,)),
               policy).key.name == PSK_NAME


def test_two_pass_algorithm_must_fit_the_method(policy):
    two = ProtocolVariants(two_pass=(wrap_offer(),))
    # RSA cannot wrap under K_SHARED: the App. B.3.3 combination (rsa offered, wrap used) fails under I-30 "offered".
    assert status_of(hello(supported_protocol_variants=two, supported_encryption_algorithms=(RSA_1_5,)), policy) == \
        "NoSupportedEncryptionAlgorithms"
    method_default = replace(policy, interpretation=Interpretation(
        two_pass_encryption_choice=TwoPassEncryptionChoice.METHOD_DEFAULT))
    agreement = run(hello(supported_protocol_variants=two, supported_encryption_algorithms=(RSA_1_5,)), method_default)
    assert agreement.encryption_algorithm == AES_CBC


def test_underscore_spelling_answered_in_the_clients_spelling(policy):
    underscore = "http://www.w3.org/2001/04/xmlenc#rsa_1_5"
    assert status_of(hello(supported_encryption_algorithms=(underscore,)), policy) == "NoSupportedEncryptionAlgorithms"
    alias = replace(policy, interpretation=Interpretation(accept_rsa_1_5_underscore=True))
    assert run(hello(supported_encryption_algorithms=(underscore,)), alias).encryption_algorithm == underscore
