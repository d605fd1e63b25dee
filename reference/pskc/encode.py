"""Model -> PSKC document (RFC 6030 §4-§7, element order of the §11 schema).

The encoder is faithful: it writes what the model holds, including deviations (a key
without Id, Suite next to ResponseFormat), so the lab can also produce negative test
documents.  An RFC-conformant model gives a document valid against pskc.xsd, except
that several AlgorithmParameters children cannot be (schema xs:choice, see NOTES) and a
signature is written as ds:Signature (errata 3418), not pskc:Signature.
"""

from __future__ import annotations

import base64
import os
import re
from contextvars import ContextVar
from dataclasses import replace
from datetime import datetime, timezone
from typing import IO, Callable, Iterable

from lxml import etree

from harness.errors import InputError

from .algorithms import DS_NS, PKCS5_NS, PSKC_NS, XENC11_NS, XENC_NS, XML_NS
from .model import (
    AlgorithmParameters, DataValue, DerivedKey, DeviceInfo, EncryptedValue, EncryptionKey, Key, KeyContainer,
    KeyData, KeyPackage, MACMethod, PINPolicy, PlainValue, Policy, RawXML,
)
from .protect import MACSpec, Protection, Protector
from .safexml import from_raw

NSMAP = {"pskc": PSKC_NS, "ds": DS_NS, "xenc": XENC_NS, "xenc11": XENC11_NS, "pkcs5": PKCS5_NS}
Rng = Callable[[int], bytes]


def _p(local: str) -> str:
    return f"{{{PSKC_NS}}}{local}"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def format_datetime(value: datetime) -> str:
    """xs:dateTime canonical form: UTC with 'Z' when zoned (RFC 6030 §4.3.1, §5)."""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    text = (f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
            f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + ("Z" if value.tzinfo is not None else "")


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attributes: str | None) -> etree._Element:
    element = etree.SubElement(parent, tag, {k: v for k, v in attributes.items() if v is not None})
    if text is not None:
        element.text = text
    return element


def _text(parent: etree._Element, local: str, value: str | None) -> None:
    if value is not None:
        _sub(parent, _p(local), value)


# Raw elements are written verbatim, never re-serialised: a processing-instruction
# placeholder goes into the tree and is replaced by the RawXML bytes after serialising
# (one regex pass, so inserted bytes are never re-scanned).  Re-serialising would let
# pretty-printing add whitespace inside them (and break signatures).  Exclusive C14N
# bytes declare every namespace they use, so they stand alone anywhere.
_PENDING: ContextVar[list[RawXML]] = ContextVar("pending_raw_xml")
_PLACEHOLDER = re.compile(rb"<\?kplab-raw ([0-9]+)\?>")


def _raws(parent: etree._Element, raws: Iterable[RawXML]) -> None:
    pending = _PENDING.get()
    for raw in raws:
        from_raw(raw)  # refuse unusable raw XML early (MalformedInput)
        parent.append(etree.ProcessingInstruction("kplab-raw", str(len(pending))))
        pending.append(raw)


def _serialise_with_raw(element: etree._Element, pending: list[RawXML], *, pretty: bool,
                        declaration: bool) -> bytes:
    data = etree.tostring(element, xml_declaration=declaration, encoding="UTF-8", pretty_print=pretty)
    return _PLACEHOLDER.sub(lambda m: pending[int(m.group(1))].xml, data)


def _bool(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def _int(value: int | None) -> str | None:
    return None if value is None else str(value)


# --------------------------------------------------------------------------- header
def _encrypted(parent: etree._Element, tag: str, value: EncryptedValue) -> None:
    element = _sub(parent, tag, Id=value.id)
    method = _sub(element, f"{{{XENC_NS}}}EncryptionMethod", Algorithm=value.algorithm)
    if value.oaep_params is not None:
        _sub(method, f"{{{XENC_NS}}}OAEPparams", b64(value.oaep_params))
    if value.oaep_digest is not None:
        _sub(method, f"{{{DS_NS}}}DigestMethod", Algorithm=value.oaep_digest)
    data = _sub(element, f"{{{XENC_NS}}}CipherData")
    _sub(data, f"{{{XENC_NS}}}CipherValue", b64(value.cipher_value))


def _derived_key(parent: etree._Element, derived: DerivedKey) -> None:
    element = _sub(parent, f"{{{XENC11_NS}}}DerivedKey", Id=derived.id, Type=derived.type)
    if derived.algorithm is not None:
        method = _sub(element, f"{{{XENC11_NS}}}KeyDerivationMethod", Algorithm=derived.algorithm)
        params = derived.pbkdf2
        if params is not None:
            # RFC 6030 Figure 7 form: pkcs5:PBKDF2-params with unqualified children.
            body = _sub(method, f"{{{PKCS5_NS}}}PBKDF2-params")
            _sub(_sub(body, "Salt"), "Specified", b64(params.salt))
            _sub(body, "IterationCount", str(params.iteration_count))
            if params.key_length is not None:
                _sub(body, "KeyLength", str(params.key_length))
            if params.prf is not None:
                _sub(body, "PRF", Algorithm=params.prf)
    if derived.reference_uris:
        references = _sub(element, f"{{{XENC_NS}}}ReferenceList")
        for uri in derived.reference_uris:
            _sub(references, f"{{{XENC_NS}}}DataReference", URI=uri)
    if derived.derived_key_name is not None:
        _sub(element, f"{{{XENC11_NS}}}DerivedKeyName", derived.derived_key_name)
    if derived.master_key_name is not None:
        _sub(element, f"{{{XENC11_NS}}}MasterKeyName", derived.master_key_name)


def _encryption_key(parent: etree._Element, key: EncryptionKey) -> None:
    element = _sub(parent, _p("EncryptionKey"), Id=key.id)
    for name in key.key_names:
        _sub(element, f"{{{DS_NS}}}KeyName", name)
    if key.derived_key is not None:
        _derived_key(element, key.derived_key)
    if key.x509_certificates:
        data = _sub(element, f"{{{DS_NS}}}X509Data")
        for der in key.x509_certificates:
            _sub(data, f"{{{DS_NS}}}X509Certificate", b64(der))
    _raws(element, key.unknown)


def _mac_method(parent: etree._Element, method: MACMethod) -> None:
    element = _sub(parent, _p("MACMethod"), Algorithm=method.algorithm)
    if method.encrypted_mac_key is not None:
        _encrypted(element, _p("MACKey"), method.encrypted_mac_key)
    elif method.mac_key_reference is not None:
        _text(element, "MACKeyReference", method.mac_key_reference)
    _raws(element, method.unknown)


# --------------------------------------------------------------------------- key package
def _device_info(parent: etree._Element, info: DeviceInfo) -> None:
    element = _sub(parent, _p("DeviceInfo"))
    for local, value in (("Manufacturer", info.manufacturer), ("SerialNo", info.serial_no), ("Model", info.model),
                         ("IssueNo", info.issue_no), ("DeviceBinding", info.device_binding)):
        _text(element, local, value)
    for local, date in (("StartDate", info.start_date), ("ExpiryDate", info.expiry_date)):
        if date is not None:
            _text(element, local, format_datetime(date))
    _text(element, "UserId", info.user_id)
    _raws(element, info.extensions)


def _algorithm_parameters(parent: etree._Element, params: AlgorithmParameters) -> None:
    element = _sub(parent, _p("AlgorithmParameters"))
    _text(element, "Suite", params.suite)
    c = params.challenge_format
    if c is not None:
        _sub(element, _p("ChallengeFormat"), Encoding=c.encoding, Min=_int(c.min), Max=_int(c.max),
             CheckDigits=_bool(c.check_digits))
    r = params.response_format
    if r is not None:
        _sub(element, _p("ResponseFormat"), Encoding=r.encoding, Length=_int(r.length),
             CheckDigits=_bool(r.check_digits))
    _raws(element, params.extensions)


def _data_value(parent: etree._Element, local: str, value: DataValue) -> None:
    element = _sub(parent, _p(local))
    if isinstance(value, PlainValue):
        raw = value.value
        _sub(element, _p("PlainValue"), b64(raw) if isinstance(raw, bytes) else str(raw))
    else:
        _encrypted(element, _p("EncryptedValue"), value)
    if value.value_mac is not None:
        _sub(element, _p("ValueMAC"), b64(value.value_mac))


def _data(parent: etree._Element, data: KeyData) -> None:
    element = _sub(parent, _p("Data"))
    for local, value in (("Secret", data.secret), ("Counter", data.counter), ("Time", data.time),
                         ("TimeInterval", data.time_interval), ("TimeDrift", data.time_drift)):
        if value is not None:
            _data_value(element, local, value)
    _raws(element, data.unknown)


def _pin_policy(parent: etree._Element, pin: PINPolicy) -> None:
    element = _sub(parent, _p("PINPolicy"), PINKeyId=pin.pin_key_id, PINUsageMode=pin.pin_usage_mode,
                   MaxFailedAttempts=_int(pin.max_failed_attempts), MinLength=_int(pin.min_length),
                   MaxLength=_int(pin.max_length), PINEncoding=pin.pin_encoding)
    for name, value in pin.other_attributes:
        element.set(name, value)
    _raws(element, pin.unknown)


def _policy(parent: etree._Element, policy: Policy) -> None:
    element = _sub(parent, _p("Policy"))
    for local, date in (("StartDate", policy.start_date), ("ExpiryDate", policy.expiry_date)):
        if date is not None:
            _text(element, local, format_datetime(date))
    if policy.pin_policy is not None:
        _pin_policy(element, policy.pin_policy)
    for usage in policy.key_usage:
        _text(element, "KeyUsage", usage)
    _text(element, "NumberOfTransactions", _int(policy.number_of_transactions))
    _raws(element, policy.unknown)


def _key(parent: etree._Element, key: Key) -> None:
    element = _sub(parent, _p("Key"), Id=key.id, Algorithm=key.algorithm)
    _text(element, "Issuer", key.issuer)
    if key.algorithm_parameters is not None:
        _algorithm_parameters(element, key.algorithm_parameters)
    _text(element, "KeyProfileId", key.key_profile_id)
    _text(element, "KeyReference", key.key_reference)
    if key.friendly_name is not None:
        name = _sub(element, _p("FriendlyName"), key.friendly_name)
        if key.friendly_name_lang is not None:
            name.set(f"{{{XML_NS}}}lang", key.friendly_name_lang)
    if key.data is not None:
        _data(element, key.data)
    _text(element, "UserId", key.user_id)
    if key.policy is not None:
        _policy(element, key.policy)
    _raws(element, key.extensions)
    _raws(element, key.unknown)


def key_package_element(package: KeyPackage) -> etree._Element:
    element = etree.Element(_p("KeyPackage"), nsmap=NSMAP)
    if package.device_info is not None:
        _device_info(element, package.device_info)
    if package.crypto_module_info is not None:
        module = _sub(element, _p("CryptoModuleInfo"))
        _text(module, "Id", package.crypto_module_info.id)
        _raws(module, package.crypto_module_info.extensions)
    if package.key is not None:
        _key(element, package.key)
    _raws(element, package.extensions)
    return element


# --------------------------------------------------------------------------- container
def _root(container: KeyContainer) -> etree._Element:
    return etree.Element(_p("KeyContainer"), {k: v for k, v in (("Version", container.version),
                                                              ("Id", container.id)) if v is not None}, nsmap=NSMAP)


def _header(root: etree._Element, container: KeyContainer) -> None:
    if container.encryption_key is not None:
        _encryption_key(root, container.encryption_key)
    if container.mac_method is not None:
        _mac_method(root, container.mac_method)


def _trailer(root: etree._Element, container: KeyContainer) -> None:
    if container.signature is not None:
        _raws(root, [container.signature.raw])
    _raws(root, container.extensions)


def protect(container: KeyContainer, protection: Protection | None, mac: MACSpec | None | str = "auto",
            fields: tuple[str, ...] = ("secret",), rng: Rng = os.urandom,
            encrypted_integers: str = "decimal") -> KeyContainer:
    """The container with ``fields`` encrypted under ``protection`` (and MACed)."""
    if protection is None:
        if isinstance(mac, MACSpec):
            raise InputError("a MAC needs encryption: RFC 6030 §6.1.1 MACs encrypted values only")
        return container
    protector = Protector(protection, mac, rng, encrypted_integers)
    return replace(container, key_packages=tuple(protector.seal_package(p, fields) for p in container.key_packages),
                   encryption_key=protector.encryption_key, mac_method=protector.mac_method)


def encode_document(container: KeyContainer, *, pretty: bool = True) -> bytes:
    """Serialise a container (values as they are in the model)."""
    pending: list[RawXML] = []
    token = _PENDING.set(pending)
    try:
        root = _root(container)
        _header(root, container)
        for package in container.key_packages:
            root.append(key_package_element(package))
        _trailer(root, container)
    finally:
        _PENDING.reset(token)
    return _serialise_with_raw(root, pending, pretty=pretty, declaration=True)


def write_stream(out: IO[bytes], container: KeyContainer, packages: Iterable[KeyPackage], *,
                 protection: Protection | None = None, mac: MACSpec | None | str = "auto",
                 fields: tuple[str, ...] = ("secret",), rng: Rng = os.urandom,
                 encrypted_integers: str = "decimal") -> int:
    """Write a container whose key packages come from an iterable, in bounded memory.

    ``container`` supplies the header and trailer (its own key_packages are ignored).
    Each child is serialised on its own (so it repeats the namespace declarations it
    uses).  Returns the number of key packages written.
    """
    protector = Protector(protection, mac, rng, encrypted_integers) if protection is not None else None
    if protector is not None:
        container = replace(container, encryption_key=protector.encryption_key, mac_method=protector.mac_method)
    root = _root(container)
    root.append(etree.ProcessingInstruction("kplab-split", "here"))
    head, tail = etree.tostring(root, xml_declaration=True, encoding="UTF-8").split(b"<?kplab-split here?>")
    out.write(head + b"\n")
    count = 0

    def emit(build: Callable[[etree._Element], None]) -> None:
        pending: list[RawXML] = []
        token = _PENDING.set(pending)
        try:
            scratch = etree.Element(_p("KeyContainer"), nsmap=NSMAP)
            build(scratch)
        finally:
            _PENDING.reset(token)
        for child in scratch:
            fragment = _serialise_with_raw(child, pending, pretty=True, declaration=False)
            # drop the declarations the fragment repeats from <KeyContainer> (first tag only)
            end = fragment.index(b">")
            tag = fragment[:end]
            for prefix, uri in NSMAP.items():
                tag = tag.replace(f' xmlns:{prefix}="{uri}"'.encode(), b"", 1)
            out.write(tag + fragment[end:])

    emit(lambda scratch: _header(scratch, container))
    for package in packages:
        if protector is not None:
            package = protector.seal_package(package, fields)
        emit(lambda scratch, package=package: scratch.append(key_package_element(package)))
        count += 1
    emit(lambda scratch: _trailer(scratch, container))
    out.write(tail + b"\n")
    return count
