"""Reference PSKC codec (RFC 6030): the oracle PSKC producers and consumers are measured against.

Public API (see the signatures below):

* ``decode(data, ...) -> KeyContainer``: whole document, decrypted when credentials are given;
* ``iter_keys(source, ...) -> KeyStream``: streaming decode, one KeyPackage at a time;
* ``encode(container, ...) -> bytes`` and ``encode_stream(out, container, packages, ...)``;
* ``decoded_fields(package) -> dict`` / ``container_from_fields(keys) -> KeyContainer``;
* ``verify_signature(data, ...) -> bytes`` (signed content), ``check_profile(package)``.

Deviations from RFC 6030 found while decoding are returned as ``Finding``s
(``container.all_findings()``); ``strict=True`` turns the "deviation"/"legacy" ones into
``SchemaViolation``.  Errors are the lab's ProtocolError family: MalformedInput,
UnsafeInput, SchemaViolation, CryptoFailure, UnsupportedFeature; bad arguments raise
InputError.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import IO, Any, Callable, Iterable, Iterator

from harness.errors import SchemaViolation

from . import decode as _decode
from .encode import protect as _protect
from .encode import encode_document, write_stream
from .fields import container_from_fields, decoded_fields, format_date
from .model import (
    AlgorithmParameters, ChallengeFormat, CryptoModuleInfo, DataValue, DerivedKey, DeviceInfo, EncryptedValue,
    EncryptionKey, Finding, Key, KeyContainer, KeyData, KeyPackage, MACMethod, PBKDF2Params, PINPolicy,
    PlainValue, Policy, RawXML, ResponseFormat, Signature,
)
from .profiles import check_profile, profile_for
from .protect import MACSpec, Passphrase, PreSharedKey, Protection, RecipientCertificate
from .protection import Credentials, Unprotector
from .safexml import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, Source
from .signature import SigningKey, sign as _sign, verify as verify_signature

__all__ = [
    "decode", "iter_keys", "KeyStream", "encode", "encode_stream", "decoded_fields", "container_from_fields",
    "container_fields", "without_protection", "verify_signature", "check_profile", "profile_for",
    "PreSharedKey", "Passphrase", "RecipientCertificate", "MACSpec", "SigningKey", "Credentials",
    "KeyContainer", "KeyPackage", "Key", "KeyData", "DeviceInfo", "CryptoModuleInfo", "AlgorithmParameters",
    "ChallengeFormat", "ResponseFormat", "Policy", "PINPolicy", "PlainValue", "EncryptedValue", "DataValue",
    "EncryptionKey", "DerivedKey", "PBKDF2Params", "MACMethod", "Signature", "RawXML", "Finding",
    "DEFAULT_MAX_BYTES", "DEFAULT_MAX_DEPTH", "format_date",
]

STRICT_SEVERITIES = ("deviation", "legacy")
Rng = Callable[[int], bytes]


def _enforce(findings: Iterable[Finding], strict: bool) -> None:
    if not strict:
        return
    for finding in findings:
        if finding.severity in STRICT_SEVERITIES:
            raise SchemaViolation(finding.message, status=finding.code, spec=finding.spec, where=finding.where)


def decode(
    data: Source,
    *,
    password: str | bytes | None = None,
    key: bytes | None = None,
    private_key: Any = None,
    mac_key: bytes | None = None,
    iv: bytes | None = None,
    strict: bool = False,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> KeyContainer:
    """Decode a PSKC document; decrypt and MAC-check every encrypted value if a key,
    password or RSA private key is given (else encrypted values stay EncryptedValue)."""
    container = _decode.read_container(data, max_bytes=max_bytes, max_depth=max_depth)
    credentials = Credentials(key=key, password=password, private_key=private_key, mac_key=mac_key, iv=iv)
    if credentials and container.is_encrypted:
        opener = Unprotector(container, credentials)
        packages = tuple(opener.open_package(p) for p in container.key_packages)
        container = replace(container, key_packages=packages, mac_method=opener.opened_mac_method(),
                            findings=container.findings + tuple(opener.findings))
    _enforce(container.all_findings(), strict)
    return container


class KeyStream(Iterator[KeyPackage]):
    """Iterator over the key packages of a document read incrementally.

    ``header`` is the container without key packages: complete for everything before
    the first package once one has been yielded, complete for the trailer (Signature,
    Extensions) and container findings once the iterator is exhausted.
    """

    def __init__(self, source: Source, credentials: Credentials, strict: bool, max_bytes: int | None,
                 max_depth: int) -> None:
        self._events = _decode.stream(source, max_bytes=max_bytes, max_depth=max_depth)
        self._credentials = credentials
        self._strict = strict
        self._opener: Unprotector | None = None
        self.header: KeyContainer | None = None
        self.count = 0

    def __next__(self) -> KeyPackage:
        for state, package in self._events:
            self.header = state.header()
            if package is None:
                if self._opener is not None:
                    self.header = replace(self.header, mac_method=self._opener.opened_mac_method(),
                                          findings=self.header.findings + tuple(self._opener.findings))
                _enforce(self.header.findings, self._strict)
                raise StopIteration
            if self._credentials and any(isinstance(v, EncryptedValue) for v in
                                         (package.key.data.values().values() if package.key and package.key.data
                                          else ())):
                if self._opener is None:
                    self._opener = Unprotector(self.header, self._credentials)
                package = self._opener.open_package(package)
            if self.count == 0:  # strict: refuse a bad header before handing out any key
                _enforce(self.header.findings, self._strict)
            _enforce(package.findings, self._strict)
            self.count += 1
            return package
        raise StopIteration


def iter_keys(
    source: Source,
    *,
    password: str | bytes | None = None,
    key: bytes | None = None,
    private_key: Any = None,
    mac_key: bytes | None = None,
    iv: bytes | None = None,
    strict: bool = False,
    max_bytes: int | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> KeyStream:
    """Stream the key packages of a document (bytes, path or binary file object).

    Memory stays flat in the number of keys; ``max_bytes`` defaults to no limit here
    because nothing is held beyond one key package (per-node limits still apply).
    """
    credentials = Credentials(key=key, password=password, private_key=private_key, mac_key=mac_key, iv=iv)
    return KeyStream(source, credentials, strict, max_bytes, max_depth)


def encode(
    container: KeyContainer,
    *,
    protection: Protection | None = None,
    mac: MACSpec | None | str = "auto",
    fields: tuple[str, ...] = ("secret",),
    rng: Rng = os.urandom,
    signing: SigningKey | None = None,
    pretty: bool = True,
    encrypted_integers: str = "decimal",
) -> bytes:
    """Encode a container.  With ``protection`` the ``fields`` of every key are encrypted
    (and MACed when the cipher lacks integrity, ``mac="auto"``, RFC 6030 §6.1.1); with
    ``signing`` the result carries an enveloped XML signature (§7).  ``encrypted_integers``:
    "decimal" (default) or "binary" plaintext for encrypted integer fields (RFC 6030 is
    silent; see vectors/pskc/NOTES.md)."""
    document = encode_document(_protect(container, protection, mac, fields, rng, encrypted_integers), pretty=pretty)
    return _sign(document, signing) if signing is not None else document


def encode_stream(
    out: IO[bytes],
    container: KeyContainer,
    packages: Iterable[KeyPackage],
    *,
    protection: Protection | None = None,
    mac: MACSpec | None | str = "auto",
    fields: tuple[str, ...] = ("secret",),
    rng: Rng = os.urandom,
    encrypted_integers: str = "decimal",
) -> int:
    """Write header + packages + trailer incrementally; returns the number of packages."""
    return write_stream(out, container, packages, protection=protection, mac=mac, fields=fields, rng=rng,
                        encrypted_integers=encrypted_integers)


def without_protection(container: KeyContainer) -> KeyContainer:
    """A decrypted container stripped of <EncryptionKey>/<MACMethod> (for plaintext export)."""
    if container.is_encrypted:
        raise SchemaViolation("container still holds encrypted values", status="pskc.still-encrypted",
                              spec="RFC 6030 §6")
    return replace(container, encryption_key=None, mac_method=None)


def container_fields(container: KeyContainer) -> dict[str, Any]:
    """Container-level facts in flat form (version, id, protection, signature)."""
    out: dict[str, Any] = {"dialect": container.dialect}
    if container.version is not None:
        out["version"] = container.version
    if container.id is not None:
        out["id"] = container.id
    algorithms = sorted({v.algorithm for k in container.keys if k.data for v in k.data.values().values()
                         if isinstance(v, EncryptedValue) and v.algorithm})
    if algorithms:
        out["encryption_algorithms"] = algorithms
    enc = container.encryption_key
    if enc is not None:
        if enc.key_names:
            out["key_names"] = list(enc.key_names)
        if enc.derived_key is not None:
            out["key_derivation"] = enc.derived_key.algorithm
            if enc.derived_key.master_key_name is not None:
                out["key_names"] = [enc.derived_key.master_key_name]
        if enc.x509_certificates:
            out["x509_certificates"] = len(enc.x509_certificates)
    if container.mac_method is not None and container.mac_method.algorithm:
        out["mac_algorithm"] = container.mac_method.algorithm
    out["signed"] = container.signature is not None
    out["key_packages"] = len(container.key_packages)
    return out



