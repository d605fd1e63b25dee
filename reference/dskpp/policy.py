"""What a reference DSKPP server offers and requires (RFC 6063 §3.2, 4.2.2, 5.2.2, 9).

``ServerPolicy`` is the server's configuration: variants and key protection methods,
key types, algorithms in preference order, its keys (K_SERVER, K_SHARED, passphrases),
user-authentication rules and the knobs where Sec. 3.3 statuses have no natural trigger
in a reference server (``refused_client_ids`` -> AccessDenied, ...).  Its ``repr`` never
shows key material: keys appear as fingerprints, shared keys and passphrases by name.

``KEY_TYPE_LENGTHS``: the token key length both sides assume for a key type.  Four-pass
DSKPP never transmits the length of K_TOKEN, yet both sides need it to split K_PROV
(Sec. 4.1.2, 5.2.2: "determine the actual secret key length from the target key
algorithm"); docs/dskpp-interpretations.md D-16.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from harness.errors import InputError
from harness.redaction import fingerprint
from reference.dskpp.interpretation import DEFAULT_INTERPRETATION, Interpretation
from reference.dskpp.messages import EncryptionAlgorithmUri as Enc
from reference.dskpp.messages import KeyPackageFormatUri, KeyProtectionMethodUri, MacAlgorithmUri

HOTP_URI = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"  # RFC 6030 §10.1 (IANA)
TOTP_URI = "urn:ietf:params:xml:ns:keyprov:pskc#totp"  # draft-hoyer-keyprov-pskc-algorithm-profiles
OCRA_PREFIX = "urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1:"

# RFC 4226 §4 R6 "RECOMMENDs a shared secret length of 160 bits" (HOTP, and TOTP/OCRA on
# HMAC-SHA-1 build on it).  Other key types need an explicit length on both sides.
KEY_TYPE_LENGTHS: Mapping[str, int] = MappingProxyType({HOTP_URI: 20, TOTP_URI: 20})


def default_key_length(key_type: str) -> int | None:
    """The token key length both sides assume for ``key_type`` (D-16), None if unknown."""
    if key_type in KEY_TYPE_LENGTHS:
        return KEY_TYPE_LENGTHS[key_type]
    if key_type.startswith(OCRA_PREFIX):
        return 20
    return None


FOUR_PASS = "four-pass"
TWO_PASS = "two-pass"
VARIANTS = (FOUR_PASS, TWO_PASS)

ALL_TWO_PASS_METHODS = tuple(m.value for m in KeyProtectionMethodUri)
# Preference order: RSA under K_SERVER first (no pre-shared key needed), then the
# DSKPP-PRF XOR method (Sec. 4.2.3, "to avoid dependence on other algorithms"), then the
# XML Encryption symmetric algorithms (App. B.2.3; two-pass key wrap, Sec. 5.1.2).
DEFAULT_ENCRYPTION_ALGORITHMS = (
    Enc.RSA_OAEP_MGF1P.value, Enc.RSA_1_5.value, Enc.PRF_AES_128.value, Enc.PRF_SHA256.value,
    Enc.AES128_CBC.value, Enc.KW_AES128.value, Enc.KW_AES128_PAD.value,
)
DEFAULT_MAC_ALGORITHMS = (MacAlgorithmUri.PRF_AES_128.value, MacAlgorithmUri.PRF_SHA256.value)


@dataclass(frozen=True)
class KeyTypePolicy:
    """One key type the server provisions, with the PSKC attributes of its key package."""

    uri: str = HOTP_URI
    key_length: int = 20  # octets of the token key (first octets of K_TOKEN, Sec. 5.2.2)
    digits: int | None = 6  # pskc:ResponseFormat Length (Encoding DECIMAL)
    counter: int | None = 0  # pskc:Data/Counter (event-based keys)
    time_interval: int | None = None  # pskc:Data/TimeInterval (time-based keys)
    issuer: str | None = None  # pskc:Issuer; None: the server's ServerID
    key_usage: tuple[str, ...] = ("OTP",)

    def __post_init__(self) -> None:
        if self.key_length < 1:
            raise InputError("key_length must be positive", where=f"KeyTypePolicy {self.uri}")
        if self.digits is not None and not 1 <= self.digits <= 10:
            raise InputError("digits must be 1..10", where=f"KeyTypePolicy {self.uri}")


@dataclass(frozen=True)
class ServerPolicy:
    server_id: str = "https://dskpp.example/"
    four_pass: bool = True
    two_pass_methods: tuple[str, ...] = ALL_TWO_PASS_METHODS  # empty: no two-pass
    key_types: tuple[KeyTypePolicy, ...] = (KeyTypePolicy(),)
    encryption_algorithms: tuple[str, ...] = DEFAULT_ENCRYPTION_ALGORITHMS
    mac_algorithms: tuple[str, ...] = DEFAULT_MAC_ALGORITHMS
    key_package_formats: tuple[str, ...] = (KeyPackageFormatUri.PSKC.value,)
    rsa_private_key: RSAPrivateKey | None = field(default=None, repr=False)  # K_SERVER
    rsa_certificate_der: bytes | None = None  # sent as ds:X509Certificate when set
    shared_keys: Mapping[str, bytes] = field(default_factory=dict, repr=False)  # ds:KeyName -> K_SHARED
    passphrases: Mapping[str, str] = field(default_factory=dict, repr=False)  # ds:KeyName -> passphrase (I-31)
    require_authentication: bool = True
    ac_iteration_count: int = 100_000
    ac_lifetime_s: int | None = 86_400
    session_timeout_s: int = 300
    interpretation: Interpretation = DEFAULT_INTERPRETATION
    # ---- additions (docs/dskpp-interpretations.md D-9 .. D-23 explain each)
    server_urls: tuple[str, ...] = ("https://dskpp.example/",)  # URL_S values AD may use; [0] goes in triggers
    negotiation_preference: str = "client"  # "client": the client's order wins; "server": ours
    preferred_variant: str = FOUR_PASS  # when a hello offers both variants
    four_pass_shared_key: str | None = None  # ds:KeyName of K_SHARED for four-pass when no device key applies
    device_keys: Mapping[str, str] = field(default_factory=dict)  # "Manufacturer:SerialNo" -> ds:KeyName
    trusted_device_issuers: tuple[bytes, ...] = ()  # DER CA certificates; non-empty: key transport needs a device cert
    refused_client_ids: tuple[str, ...] = ()  # AccessDenied (Sec. 3.3) for these Client IDs
    renewal_requires_owner: bool = True  # renew only with the AC of the key's Client ID (False: App. A.6 recycling)
    server_info: bytes | None = None  # ServerInfoType extension data (Sec. 6.2)
    server_nonce_length: int = 16  # R_S octets
    passphrase_wrap_iterations: int = 100_000  # PBKDF2 count of the passphrase-based key wrap (Sec. 10.6.5)
    ac_client_id_length: int = 8  # hex characters of a generated Client ID
    ac_password_length: int = 16  # hex characters of a generated password

    def __post_init__(self) -> None:
        def bad(what: str) -> InputError:
            return InputError(what, where="ServerPolicy")

        if not self.four_pass and not self.two_pass_methods:
            raise bad("enable four-pass or at least one two-pass key protection method")
        unknown = set(self.two_pass_methods) - set(ALL_TWO_PASS_METHODS)
        if unknown:
            raise bad(f"unknown key protection methods {sorted(unknown)}")
        if not self.key_types or not self.mac_algorithms or not self.encryption_algorithms:
            raise bad("key_types, encryption_algorithms and mac_algorithms must not be empty")
        if not self.key_package_formats:
            raise bad("key_package_formats must not be empty")
        if set(self.key_package_formats) != {KeyPackageFormatUri.PSKC.value}:
            raise bad("the reference engine builds PSKC key containers only (Sec. 4.2.5, 9 i.)")
        for name, key in self.shared_keys.items():
            if len(key) < 16:
                raise bad(f"shared key {name!r} is shorter than 16 octets (Sec. 3.4.2)")
        if not self.server_urls:
            raise bad("server_urls must name at least one URL")
        if self.negotiation_preference not in ("client", "server"):
            raise bad("negotiation_preference must be 'client' or 'server'")
        if self.preferred_variant not in VARIANTS:
            raise bad(f"preferred_variant must be one of {VARIANTS}")
        if self.ac_iteration_count < 1 or self.passphrase_wrap_iterations < 1:
            raise bad("iteration counts must be positive")
        if self.session_timeout_s < 1 or (self.ac_lifetime_s is not None and self.ac_lifetime_s < 1):
            raise bad("lifetimes must be positive")
        if not 16 <= self.server_nonce_length <= 1024:
            raise bad("server_nonce_length must be 16..1024 (NonceType minLength 16)")
        if not 1 <= self.ac_client_id_length <= 128 or not 8 <= self.ac_password_length <= 255:
            raise bad("generated Client ID 1..128 and password 8..255 hex characters")
        if self.four_pass_shared_key is not None and self.four_pass_shared_key not in self.shared_keys:
            raise bad("four_pass_shared_key names no key in shared_keys")
        for name in self.device_keys.values():
            if name not in self.shared_keys:
                raise bad(f"device_keys names a key not in shared_keys: {name!r}")

    def key_type(self, uri: str) -> KeyTypePolicy | None:
        return next((k for k in self.key_types if k.uri == uri), None)

    def __repr__(self) -> str:
        rsa = "None"
        if self.rsa_private_key is not None:
            spki = self.rsa_private_key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            rsa = f"public {fingerprint(spki)}"
        return (
            f"ServerPolicy(server_id={self.server_id!r}, four_pass={self.four_pass}, "
            f"two_pass_methods={self.two_pass_methods}, key_types={tuple(k.uri for k in self.key_types)}, "
            f"encryption_algorithms={self.encryption_algorithms}, mac_algorithms={self.mac_algorithms}, "
            f"rsa_private_key={rsa}, shared_keys={sorted(self.shared_keys)}, passphrases={sorted(self.passphrases)}, "
            f"require_authentication={self.require_authentication}, ac_iteration_count={self.ac_iteration_count}, "
            f"server_urls={self.server_urls}, interpretation={self.interpretation.differences()})"
        )


__all__ = [
    "KeyTypePolicy", "ServerPolicy", "HOTP_URI", "TOTP_URI", "OCRA_PREFIX", "KEY_TYPE_LENGTHS",
    "default_key_length", "FOUR_PASS", "TWO_PASS", "ALL_TWO_PASS_METHODS", "DEFAULT_ENCRYPTION_ALGORITHMS",
    "DEFAULT_MAC_ALGORITHMS",
]
