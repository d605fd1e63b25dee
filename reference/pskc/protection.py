"""Opening protected values (decode side), RFC 6030 §6.

``Unprotector`` is built once per container from its header (<EncryptionKey>,
<MACMethod>) and the caller's credentials, then opens every <EncryptedValue>: decrypts
it and checks its <ValueMAC>.  The PBKDF2 derivation and the MAC key are computed once.

MAC rule (§6.1.1 and Figures 6/7, which reproduce only this way): ValueMAC =
HMAC(MAC key, the whole CipherValue, i.e. IV || ciphertext).  For files of the drafts
(and python-pskc's tests) a MAC over the plaintext is also accepted and flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from harness.errors import CryptoFailure, SchemaViolation, UnsupportedFeature

from . import crypto
from .ciphers import block_algorithm
from .algorithms import Cipher, MACAlgorithm, is_pbkdf2, lookup_cipher, lookup_mac
from .model import (
    DATA_FIELDS, EncryptedValue, Finding, KeyContainer, KeyPackage, MACMethod, PlainValue,
)

_DECIMAL = re.compile(rb"^[+-]?[0-9]+$")


@dataclass(frozen=True)
class Credentials:
    """What a recipient holds to open a container.

    ``key``: pre-shared key (§6.1); ``password``: passphrase (§6.2); ``private_key``: RSA
    key for X.509-based transport (§6.3); ``mac_key``: a pre-agreed MAC key (§6.1.1
    <MACKeyReference>); ``iv``: IV for producers that do not prepend it (not RFC 6030).
    """

    key: bytes | None = field(default=None, repr=False)
    password: str | bytes | None = field(default=None, repr=False)
    private_key: Any = field(default=None, repr=False)
    mac_key: bytes | None = field(default=None, repr=False)
    iv: bytes | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.key, self.password, self.private_key))


class Unprotector:
    def __init__(self, header: KeyContainer, credentials: Credentials) -> None:
        self.header = header
        self.credentials = credentials
        self.findings: list[Finding] = []
        self._derived: dict[int, bytes] = {}
        self._mac_key: bytes | None = None
        self._algorithms: set[str] = set()
        # Keyed block-cipher objects, one per (cipher, key) of this container (see ciphers.cbc_decrypt).
        self._keyed: dict[tuple[str, bytes], Any] = {}
        self._private = (crypto.load_private_key(credentials.private_key)
                         if credentials.private_key is not None else None)

    def flag(self, code: str, message: str, spec: str, severity: str = "deviation", where: str | None = None) -> None:
        finding = Finding(code, message, spec, severity, where)
        if finding not in self.findings:
            self.findings.append(finding)

    # ------------------------------------------------------------------ keys
    def _cipher(self, value: EncryptedValue, what: str) -> Cipher:
        if value.algorithm is None:
            raise SchemaViolation(f"{what}: no EncryptionMethod Algorithm, cannot decrypt",
                                  status="pskc.missing-encryption-method", spec="RFC 6030 §6.1, §6.3")
        cipher, canonical = lookup_cipher(value.algorithm)
        if cipher is None:
            raise UnsupportedFeature(f"{what}: encryption algorithm {value.algorithm!r} not supported",
                                     status="pskc.unsupported-algorithm", spec="RFC 6030 §6.1")
        if not canonical:
            self.flag("pskc.algorithm-uri-spelling", f"{value.algorithm} read as {cipher.uri}",
                      cipher.spec, "note")
        self._algorithms.add(cipher.name)
        if len(self._algorithms) > 1:
            self.flag("pskc.mixed-algorithms", f"encrypted elements use {sorted(self._algorithms)}",
                      "RFC 6030 §6 (one algorithm for all encrypted elements)")
        return cipher

    def _symmetric_key(self, cipher: Cipher) -> bytes:
        if self.credentials.key is not None:
            return self.credentials.key
        if self.credentials.password is None:
            raise CryptoFailure("no key, password or private key given for an encrypted value",
                                status="pskc.no-key", spec="RFC 6030 §6")
        derived = self.header.encryption_key.derived_key if self.header.encryption_key else None
        if derived is None:
            raise CryptoFailure("a password was given but the container is not passphrase-protected "
                                "(no xenc11:DerivedKey in <EncryptionKey>)", status="pskc.no-key",
                                spec="RFC 6030 §6.1, §6.2")
        if not is_pbkdf2(derived.algorithm):
            raise UnsupportedFeature(f"key derivation {derived.algorithm!r} is not supported (PBKDF2 only)",
                                     status="pskc.unsupported-derivation", spec="RFC 6030 §6.2")
        if derived.pbkdf2 is None:
            raise SchemaViolation("a password was given but <EncryptionKey> has no complete PBKDF2 DerivedKey",
                                  status="pskc.incomplete-key-derivation", spec="RFC 6030 §6.2")
        length = derived.pbkdf2.key_length or cipher.key_lengths[0]
        if length not in self._derived:
            self._derived[length] = crypto.derive_pbkdf2(self.credentials.password, derived.pbkdf2, length)
        return self._derived[length]

    def decrypt(self, value: EncryptedValue, what: str) -> bytes:
        cipher = self._cipher(value, what)
        if cipher.family == "rsa":
            if self._private is None:
                raise CryptoFailure(f"{what}: encrypted with {cipher.name}; no private key given",
                                    status="pskc.no-key", spec="RFC 6030 §6.3")
            return crypto.decrypt_rsa(cipher, self._private, value.cipher_value,
                                      oaep_digest=value.oaep_digest, oaep_params=value.oaep_params)
        key = self._symmetric_key(cipher)
        iv = self.credentials.iv if cipher.family == "cbc" else None
        if iv is not None:
            self.flag("pskc.iv-not-prepended", "IV supplied out of band instead of prepended to CipherValue",
                      "RFC 6030 §6.1, §6.2")
        keyed = None
        if cipher.family == "cbc" and len(key) in cipher.key_lengths:
            keyed = self._keyed.get((cipher.block, key))
            if keyed is None:
                keyed = self._keyed[(cipher.block, key)] = block_algorithm(cipher.block, key)
        plaintext, note = crypto.decrypt_symmetric(cipher, key, value.cipher_value, iv=iv, keyed=keyed)
        if note == "xmlenc-padding":
            self.flag("pskc.xmlenc-padding", "padding is XML-Enc style, not PKCS #5",
                      "RFC 6030 §6.4; XML-Enc §5.2", "note")
        elif note == "kw-rfc5649":
            self.flag("pskc.kw-with-padding", f"{what}: RFC 5649 padded key wrap under the RFC 3394 URI "
                      f"{cipher.uri}", "RFC 6030 §6.1; RFC 3394 vs RFC 5649")
        return plaintext

    # ------------------------------------------------------------------ MAC
    def _mac(self) -> tuple[MACAlgorithm, bytes]:
        method: MACMethod | None = self.header.mac_method
        if method is None:
            raise CryptoFailure("<ValueMAC> present but the container has no <MACMethod>",
                                status="pskc.no-mac-method", spec="RFC 6030 §6.1.1")
        algorithm, canonical = lookup_mac(method.algorithm)
        if algorithm is None:
            raise UnsupportedFeature(f"MAC algorithm {method.algorithm!r} not supported",
                                     status="pskc.unsupported-mac", spec="RFC 6030 §6.1.1")
        if not canonical:
            self.flag("pskc.algorithm-uri-spelling", f"{method.algorithm} read as {algorithm.uri}",
                      "RFC 6030 §6.1.1", "note")
        if self._mac_key is None:
            if self.credentials.mac_key is not None:
                self._mac_key = self.credentials.mac_key
            elif method.encrypted_mac_key is not None:
                self._mac_key = self.decrypt(method.encrypted_mac_key, "MACKey")
            elif method.mac_key_reference is not None:
                raise CryptoFailure(f"MAC key is referenced ({method.mac_key_reference!r}); pass mac_key=",
                                    status="pskc.no-mac-key", spec="RFC 6030 §6.1.1")
            else:
                key = self.credentials.key if self.credentials.key is not None else next(
                    iter(self._derived.values()), None)
                if key is None:
                    raise CryptoFailure("no MAC key: <MACMethod> has no <MACKey>", status="pskc.no-mac-key",
                                        spec="RFC 6030 §6.1.1")
                self.flag("pskc.mac-key-is-encryption-key", "<MACMethod> without <MACKey>: the encryption key "
                          "was used as MAC key (pre-RFC drafts)", "RFC 6030 §6.1.1", "legacy")
                self._mac_key = key
        return algorithm, self._mac_key

    def check_mac(self, value: EncryptedValue, plaintext: bytes, what: str) -> None:
        if value.value_mac is None:
            cipher, _ = lookup_cipher(value.algorithm)
            if cipher is not None and not cipher.has_integrity:
                self.flag("pskc.missing-value-mac", f"{what}: {cipher.name} has no integrity check and no "
                          "<ValueMAC> is present", "RFC 6030 §6.1.1")
            return
        algorithm, key = self._mac()
        if crypto.mac_matches(algorithm, key, value.cipher_value, value.value_mac):
            return
        if crypto.mac_matches(algorithm, key, plaintext, value.value_mac):
            self.flag("pskc.mac-over-plaintext", "ValueMAC computed over the plaintext, not the encrypted value",
                      "RFC 6030 §4.1 <ValueMAC>, §6.1.1", "legacy")
            return
        raise CryptoFailure(f"{what}: <ValueMAC> does not verify (wrong key or tampered value)",
                            status="pskc.mac-mismatch", spec="RFC 6030 §6.1.1")

    # ------------------------------------------------------------------ values
    def open(self, value: EncryptedValue, field_name: str, what: str) -> PlainValue:
        plaintext = self.decrypt(value, what)
        self.check_mac(value, plaintext, what)
        if field_name == "secret":
            return PlainValue(plaintext)
        return PlainValue(self._integer(plaintext, what))

    def _integer(self, octets: bytes, what: str) -> int:
        # RFC 6030 does not say how an encrypted xs:long/xs:int is encoded.  XML-Enc
        # encrypts element content, i.e. the decimal text; python-pskc writes big-endian
        # octets.  ASCII decimal first, then big-endian (flagged).
        if _DECIMAL.match(octets):
            return int(octets)
        self.flag("pskc.encrypted-integer-binary", f"{what} decrypts to binary, read as a big-endian integer",
                  "RFC 6030 §4.1 (encoding of encrypted integers unspecified)", "note")
        return int.from_bytes(octets, "big")

    def open_package(self, package: KeyPackage) -> KeyPackage:
        key = package.key
        if key is None or key.data is None:
            return package
        opened = {}
        for name in DATA_FIELDS:
            value = getattr(key.data, name)
            if isinstance(value, EncryptedValue):
                where = f"Key {key.id!r} {name}" if key.id else name
                opened[name] = self.open(value, name, where)
        if not opened:
            return package
        # dataclasses.replace() re-inspects the fields on every call, three times per key
        # package on the hot path; rebuilding from __dict__ is the same copy, cheaper.
        data = type(key.data)(**{**key.data.__dict__, **opened})
        key = type(key)(**{**key.__dict__, "data": data})
        return type(package)(**{**package.__dict__, "key": key})

    def opened_mac_method(self) -> MACMethod | None:
        method = self.header.mac_method
        if method is None or self._mac_key is None:
            return method
        return replace(method, mac_key=self._mac_key)

