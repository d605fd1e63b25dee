"""Protecting values for encoding (RFC 6030 §6): what the sender chooses, and sealing.

Randomness (IVs, MAC keys, salts, Triple-DES wrap IVs) comes from an injected
``rng(n) -> bytes`` so that an encoding replays byte for byte.  RSA padding randomness
is OpenSSL's own and cannot be injected.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from harness.errors import InputError

from . import crypto
from .algorithms import CIPHERS, MAC_ALGORITHMS, PBKDF2_URI, Cipher, MACAlgorithm, lookup_cipher, lookup_mac
from .model import (
    DATA_FIELDS, DerivedKey, EncryptedValue, EncryptionKey, KeyPackage, MACMethod, PBKDF2Params, PlainValue,
)

Rng = Callable[[int], bytes]


@dataclass(frozen=True)
class PreSharedKey:
    """§6.1: symmetric key known to both sides, named in <ds:KeyName>."""

    key: bytes = field(repr=False)
    algorithm: str = "aes128-cbc"
    key_name: str | None = "Pre-shared-key"


@dataclass(frozen=True)
class Passphrase:
    """§6.2: PBKDF2-derived key.  ``salt`` None = ``rng(salt_length)``."""

    password: str | bytes = field(repr=False)
    algorithm: str = "aes128-cbc"
    iterations: int = 100_000
    salt: bytes | None = None
    salt_length: int = 16
    key_length: int | None = None  # default: the cipher's key length
    prf: str | None = None  # PRF URI; None = PKCS #5 default HMAC-SHA1 (element omitted)
    master_key_name: str | None = None
    derivation_uri: str = PBKDF2_URI


@dataclass(frozen=True)
class RecipientCertificate:
    """§6.3: encrypt to the public key of an X.509 certificate (PEM/DER/object)."""

    certificate: Any
    algorithm: str = "rsa-oaep-mgf1p"


Protection = PreSharedKey | Passphrase | RecipientCertificate


@dataclass(frozen=True)
class MACSpec:
    """§6.1.1.  ``key`` None = ``rng(digest size)``; with ``key_reference`` the key is
    not carried (<MACKeyReference>) and must be given."""

    algorithm: str = "hmac-sha1"
    key: bytes | None = field(default=None, repr=False)
    key_reference: str | None = None


def resolve_cipher(name: str) -> Cipher:
    cipher = CIPHERS.get(name) or lookup_cipher(name)[0]
    if cipher is None:
        raise InputError(f"unknown encryption algorithm {name!r}; known: {', '.join(CIPHERS)}")
    return cipher


def resolve_mac(name: str) -> MACAlgorithm:
    mac = MAC_ALGORITHMS.get(name) or lookup_mac(name)[0]
    if mac is None:
        raise InputError(f"unknown MAC algorithm {name!r}; known: {', '.join(MAC_ALGORITHMS)}")
    return mac


class Protector:
    """Seals data values and builds the matching <EncryptionKey>/<MACMethod>."""

    def __init__(self, protection: Protection, mac: MACSpec | None | str = "auto", rng: Rng = os.urandom,
                 encrypted_integers: str = "decimal") -> None:
        if encrypted_integers not in ("decimal", "binary"):
            raise InputError("encrypted_integers must be 'decimal' or 'binary'")
        self.encrypted_integers = encrypted_integers
        self.rng = rng
        self.cipher = resolve_cipher(protection.algorithm)
        self._public = None
        self._key: bytes | None = None
        if isinstance(protection, RecipientCertificate):
            if self.cipher.family != "rsa":
                raise InputError(f"{self.cipher.name} is not an asymmetric algorithm (RFC 6030 §6.3)")
            certificate = crypto.load_certificate(protection.certificate)
            public = certificate.public_key()
            if not isinstance(public, rsa.RSAPublicKey):
                raise InputError("the recipient certificate does not hold an RSA key")
            self._public = public
            self.encryption_key = EncryptionKey(
                x509_certificates=(certificate.public_bytes(serialization.Encoding.DER),))
        else:
            if self.cipher.family == "rsa":
                raise InputError(f"{self.cipher.name} needs a RecipientCertificate (RFC 6030 §6.3)")
            if isinstance(protection, PreSharedKey):
                self._key = bytes(protection.key)
                self.encryption_key = EncryptionKey(
                    key_names=(protection.key_name,) if protection.key_name is not None else ())
            elif isinstance(protection, Passphrase):
                salt = protection.salt if protection.salt is not None else rng(protection.salt_length)
                params = PBKDF2Params(salt=salt, iteration_count=protection.iterations,
                                      key_length=protection.key_length or self.cipher.key_lengths[0],
                                      prf=protection.prf)
                self._key = crypto.derive_pbkdf2(protection.password, params, params.key_length or 0)
                self.encryption_key = EncryptionKey(derived_key=DerivedKey(
                    algorithm=protection.derivation_uri, pbkdf2=params,
                    master_key_name=protection.master_key_name))
            else:
                raise InputError(f"unknown protection {type(protection).__name__}")
            crypto.check_key_length(self.cipher, self._key, for_encoding=True)
        if mac == "auto":
            # §6.1.1: a MAC is required exactly when the cipher has no integrity check.
            mac = None if self.cipher.has_integrity else MACSpec()
        self.mac_algorithm: MACAlgorithm | None = None
        self.mac_key: bytes | None = None
        self.mac_method: MACMethod | None = None
        if isinstance(mac, MACSpec):
            self.mac_algorithm = resolve_mac(mac.algorithm)
            if mac.key_reference is not None:
                if mac.key is None:
                    raise InputError("MACSpec.key_reference needs the MAC key itself in MACSpec.key")
                self.mac_key = mac.key
                self.mac_method = MACMethod(self.mac_algorithm.uri, mac_key_reference=mac.key_reference,
                                            mac_key=mac.key)
            else:
                self.mac_key = mac.key if mac.key is not None else rng(self.mac_algorithm.digest_size)
                # §6.1.1: the MAC key is encrypted with the same encryption key.
                self.mac_method = MACMethod(self.mac_algorithm.uri,
                                            encrypted_mac_key=self.encrypt(self.mac_key, with_mac=False),
                                            mac_key=self.mac_key)
        elif mac is not None:
            raise InputError(f"mac must be 'auto', None or a MACSpec, not {mac!r}")

    def encrypt(self, plaintext: bytes, *, with_mac: bool = True) -> EncryptedValue:
        if self._public is not None:
            cipher_value = crypto.encrypt_rsa(self.cipher, self._public, plaintext)
        else:
            assert self._key is not None
            cipher_value = crypto.encrypt_symmetric(self.cipher, self._key, plaintext, self.rng)
        value_mac = None
        if with_mac and self.mac_algorithm is not None and self.mac_key is not None:
            value_mac = crypto.compute_mac(self.mac_algorithm, self.mac_key, cipher_value)  # over IV||ciphertext
        return EncryptedValue(algorithm=self.cipher.uri, cipher_value=cipher_value, value_mac=value_mac)

    def seal_package(self, package: KeyPackage, fields: tuple[str, ...]) -> KeyPackage:
        key = package.key
        if key is None or key.data is None:
            return package
        sealed = {}
        for name in fields:
            if name not in DATA_FIELDS:
                raise InputError(f"cannot encrypt {name!r}; data fields are {', '.join(DATA_FIELDS)}")
            value = getattr(key.data, name)
            if isinstance(value, EncryptedValue):
                raise InputError(f"Key {key.id!r} {name} is already encrypted; decode it with its key first")
            if isinstance(value, PlainValue):
                sealed[name] = self.encrypt(self._octets(value.value, f"Key {key.id!r} {name}"))
        if not sealed:
            return package
        return replace(package, key=replace(key, data=replace(key.data, **sealed)))

    def _octets(self, value: bytes | int, what: str) -> bytes:
        """The plaintext of a data value.  RFC 6030 leaves the encoding of encrypted
        integers open: "decimal" is the xs:long/xs:int lexical form (what XML-Enc
        content encryption implies), "binary" the minimal big-endian octets that
        python-pskc and multiOTP write.  Both are read back by the decoder."""
        if isinstance(value, bytes):
            return value
        if self.encrypted_integers == "decimal":
            return str(value).encode("ascii")
        if value < 0:
            raise InputError(f"{what}: negative value {value} has no unsigned big-endian form; use decimal")
        return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
