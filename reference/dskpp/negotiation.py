"""Server-side negotiation of a <KeyProvClientHello>'s Security Attribute List (SAL).

RFC 6063 §4.2.2 / 5.2.2 ("How the DSKPP Server uses this message"): the server looks for
an acceptable combination of version, variant, key package format, key type and
algorithms; the client lists them "in order of the client's preference (favorite choice
first)", and the server's SAL is "selected from the SAL that it received" (Sec. 4.2.3).

Readings (docs/dskpp-interpretations.md D-12): by default the client's preference wins
(``ServerPolicy.negotiation_preference = "client"``); a hello without
<SupportedProtocolVariants> asks for four-pass; without <SupportedKeyPackages>, for the
default PSKC container (Sec. 4.2.5 "The default symmetric key package format MUST be based
on [PSKC]").  Each variant the client offers and the server enables is tried in turn
(``preferred_variant`` first); when none succeeds, the failure of the first one tried is
reported.  Checks and their Sec. 3.3 statuses, in order: version (UnsupportedVersion),
variant and KPML (NoProtocolVariants), key type (NoSupportedKeyTypes), encryption
algorithm (NoSupportedEncryptionAlgorithms), MAC algorithm (NoSupportedMacAlgorithms), key
package format (NoSupportedKeyPackages).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from harness.errors import UnsupportedFeature
from reference.dskpp.interpretation import TwoPassEncryptionChoice
from reference.dskpp.messages import EncryptionAlgorithmUri as Enc
from reference.dskpp.messages import (
    KeyPackageFormatUri,
    KeyProtectionMethodUri,
    KeyProtectionOffer,
    KeyProvClientHello,
    parse_version,
)
from reference.dskpp.policy import FOUR_PASS, TWO_PASS, ServerPolicy

SUPPORTED_MAJOR_VERSION = 1  # Sec. 1.2: only "1.0" is specified

RSA_ALGORITHMS = (Enc.RSA_OAEP_MGF1P.value, Enc.RSA_1_5.value, Enc.RSA_OAEP_11.value)
FOUR_PASS_SYMMETRIC = (
    Enc.PRF_AES_128.value, Enc.PRF_SHA256.value, Enc.AES128_CBC.value, Enc.KW_AES128.value, Enc.KW_AES128_PAD.value,
)
# Two-pass: the algorithms that fit each key protection method (Sec. 5.1.1-5.1.3; only
# the XML Encryption 1.0 RSA identifiers have PSKC (RFC 6030 §6.3) counterparts).
METHOD_ALGORITHMS = {
    KeyProtectionMethodUri.TRANSPORT.value: (Enc.RSA_1_5.value, Enc.RSA_OAEP_MGF1P.value),
    KeyProtectionMethodUri.WRAP.value: (Enc.KW_AES128.value, Enc.KW_AES128_PAD.value, Enc.AES128_CBC.value),
    KeyProtectionMethodUri.PASSPHRASE_WRAP.value: (Enc.KW_AES128.value, Enc.KW_AES128_PAD.value, Enc.AES128_CBC.value),
}
# I-30 METHOD_DEFAULT: the mandatory mechanism of each method (Sec. 5.1.1; App. B.3.3).
METHOD_DEFAULT_ALGORITHM = {
    KeyProtectionMethodUri.TRANSPORT.value: Enc.RSA_1_5.value,
    KeyProtectionMethodUri.WRAP.value: Enc.AES128_CBC.value,
    KeyProtectionMethodUri.PASSPHRASE_WRAP.value: Enc.AES128_CBC.value,
}


class NegotiationFailed(UnsupportedFeature):
    """No acceptable combination; ``status`` is the Sec. 3.3 code of the first mismatch."""


@dataclass(frozen=True)
class ProtectionKey:
    """The key K that protects R_C (four-pass, Sec. 4.2.3) or K_PROV (two-pass, Sec. 5.1).

    ``kind``: "server-rsa" (K_SERVER), "shared" (K_SHARED named ``name``), "client-rsa"
    (the client's or device's public key from the KPML payload), "passphrase" (named
    ``name``).  No secret is carried; the server looks it up by name when needed.
    """

    kind: str
    name: str | None = None
    public_key: RSAPublicKey | None = None
    certificate_der: bytes | None = None


@dataclass(frozen=True)
class Agreement:
    """The server's SAL for this run."""

    variant: str
    key_type: str
    encryption_algorithm: str
    mac_algorithm: str
    key_package_format: str
    key: ProtectionKey
    method: str | None = None  # two-pass key protection method


# The server supplies these: which payload keys it can use, and its four-pass K_SHARED.
TwoPassKeyResolver = Callable[[KeyProtectionOffer], "ProtectionKey | None"]
SharedKeyChooser = Callable[[], "str | None"]


def canonical_encryption_uri(uri: str, accept_underscore: bool) -> str:
    """I-25: the App. B.3 spelling "xmlenc#rsa_1_5" is RSA-1_5 only under that reading."""
    if accept_underscore and uri == Enc.RSA_1_5_UNDERSCORE.value:
        return Enc.RSA_1_5.value
    return uri


def _fail(status: str, message: str, where: str) -> NegotiationFailed:
    return NegotiationFailed(message, status=status, spec="RFC 6063 §3.3, §4.2.2, §5.2.2", where=where)


def pick(offered: Sequence[str], supported: Sequence[str], preference: str) -> str | None:
    """The first common entry in the client's order (or in ours, preference "server")."""
    if preference == "server":
        return next((s for s in supported if s in offered), None)
    return next((o for o in offered if o in supported), None)


def check_version(version: str) -> None:
    """Sec. 1.2: majors differ -> UnsupportedVersion; a larger minor is ignored."""
    major, _minor = parse_version(version)
    if major != SUPPORTED_MAJOR_VERSION:
        raise _fail("UnsupportedVersion", f"DSKPP major version {major} is not supported", "Version")


def offered_variants(hello: KeyProvClientHello) -> tuple[bool, tuple[KeyProtectionOffer, ...] | None]:
    """(four-pass offered, two-pass KPML or None).  No <SupportedProtocolVariants>: four-pass."""
    variants = hello.supported_protocol_variants
    if variants is None:
        return True, None
    return variants.four_pass, variants.two_pass


def negotiate(
    hello: KeyProvClientHello,
    policy: ServerPolicy,
    *,
    resolve_two_pass: TwoPassKeyResolver,
    four_pass_shared_key: SharedKeyChooser,
) -> Agreement:
    """The agreement for ``hello`` or NegotiationFailed with the Sec. 3.3 status."""
    check_version(hello.version)
    four_offered, kpml = offered_variants(hello)
    order = (policy.preferred_variant,) + tuple(v for v in (FOUR_PASS, TWO_PASS) if v != policy.preferred_variant)
    candidates = [
        v for v in order
        if (v == FOUR_PASS and four_offered and policy.four_pass)
        or (v == TWO_PASS and kpml is not None and policy.two_pass_methods)
    ]
    if not candidates:
        raise _fail("NoProtocolVariants", "no protocol variant both sides support", "SupportedProtocolVariants")
    first_failure: NegotiationFailed | None = None
    for variant in candidates:
        try:
            if variant == FOUR_PASS:
                return _four_pass(hello, policy, four_pass_shared_key)
            return _two_pass(hello, policy, kpml or (), resolve_two_pass)
        except NegotiationFailed as failure:
            first_failure = first_failure or failure
    assert first_failure is not None
    raise first_failure


def _key_type(hello: KeyProvClientHello, policy: ServerPolicy) -> str:
    key_type = pick(hello.supported_key_types, [k.uri for k in policy.key_types], policy.negotiation_preference)
    if key_type is None:
        raise _fail("NoSupportedKeyTypes", "no offered key type is provisioned here", "SupportedKeyTypes")
    return key_type


def _mac_and_package(hello: KeyProvClientHello, policy: ServerPolicy) -> tuple[str, str]:
    pref = policy.negotiation_preference
    mac = pick(hello.supported_mac_algorithms, policy.mac_algorithms, pref)
    if mac is None:
        raise _fail("NoSupportedMacAlgorithms", "no offered MAC algorithm is supported", "SupportedMacAlgorithms")
    offered_packages = hello.supported_key_packages or (KeyPackageFormatUri.PSKC.value,)
    package = pick(offered_packages, policy.key_package_formats, pref)
    if package is None:
        raise _fail("NoSupportedKeyPackages", "no offered key package format is supported", "SupportedKeyPackages")
    return mac, package


def _four_pass(hello: KeyProvClientHello, policy: ServerPolicy, shared_key: SharedKeyChooser) -> Agreement:
    key_type = _key_type(hello, policy)
    underscore = policy.interpretation.accept_rsa_1_5_underscore
    shared_name = shared_key()
    shared_length = len(policy.shared_keys[shared_name]) if shared_name is not None else 0
    usable = []
    for uri in policy.encryption_algorithms:
        if uri in RSA_ALGORITHMS and policy.rsa_private_key is not None:
            usable.append(uri)
        elif uri in FOUR_PASS_SYMMETRIC and shared_length:
            # The XOR method takes any K_SHARED of 16+ octets; the AES-128 ones exactly 16.
            if uri in (Enc.PRF_AES_128.value, Enc.PRF_SHA256.value) or shared_length == 16:
                usable.append(uri)
    offered = [canonical_encryption_uri(u, underscore) for u in hello.supported_encryption_algorithms]
    chosen = pick(offered, usable, policy.negotiation_preference)
    if chosen is None:
        raise _fail(
            "NoSupportedEncryptionAlgorithms", "no offered algorithm can encrypt R_C with a key of this server",
            "SupportedEncryptionAlgorithms",
        )
    # Answer with the client's own spelling (it must recognize its choice, Sec. 4.2.3).
    sent = hello.supported_encryption_algorithms[offered.index(chosen)]
    mac, package = _mac_and_package(hello, policy)
    key = ProtectionKey("server-rsa") if chosen in RSA_ALGORITHMS else ProtectionKey("shared", name=shared_name)
    return Agreement(FOUR_PASS, key_type, sent, mac, package, key)


def _two_pass(
    hello: KeyProvClientHello,
    policy: ServerPolicy,
    kpml: tuple[KeyProtectionOffer, ...],
    resolve: TwoPassKeyResolver,
) -> Agreement:
    usable: list[tuple[KeyProtectionOffer, ProtectionKey]] = []
    for offer in kpml:
        if offer.method in policy.two_pass_methods:
            key = resolve(offer)
            if key is not None:
                usable.append((offer, key))
    if policy.negotiation_preference == "server":
        usable.sort(key=lambda pair: policy.two_pass_methods.index(pair[0].method))
    if not usable:
        raise _fail(
            "NoProtocolVariants", "no offered key protection method is usable with its payload",
            "SupportedProtocolVariants/TwoPass",
        )
    key_type = _key_type(hello, policy)
    underscore = policy.interpretation.accept_rsa_1_5_underscore
    offered = [canonical_encryption_uri(u, underscore) for u in hello.supported_encryption_algorithms]
    choice = policy.interpretation.two_pass_encryption_choice
    for offer, key in usable:
        fitting = [a for a in METHOD_ALGORITHMS[offer.method] if a in policy.encryption_algorithms]
        if choice is TwoPassEncryptionChoice.METHOD_DEFAULT:
            default = METHOD_DEFAULT_ALGORITHM[offer.method]
            algorithm = default if default in policy.encryption_algorithms else None
        else:
            algorithm = pick(offered, fitting, policy.negotiation_preference)
        if algorithm is None:
            continue
        mac, package = _mac_and_package(hello, policy)
        return Agreement(TWO_PASS, key_type, algorithm, mac, package, key, method=offer.method)
    raise _fail(
        "NoSupportedEncryptionAlgorithms",
        "no offered encryption algorithm fits the usable key protection methods",
        "SupportedEncryptionAlgorithms",
    )


__all__ = [
    "Agreement", "ProtectionKey", "NegotiationFailed", "negotiate", "pick", "check_version", "offered_variants",
    "canonical_encryption_uri", "RSA_ALGORITHMS", "FOUR_PASS_SYMMETRIC", "METHOD_ALGORITHMS",
    "METHOD_DEFAULT_ALGORITHM", "SUPPORTED_MAJOR_VERSION",
]
