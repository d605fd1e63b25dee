"""The DSKPP key package: a PSKC KeyContainer (RFC 6030) inside <dskpp:KeyContainer>.

RFC 6063 §4.2.5: "The default symmetric key package format MUST be based on the Portable
Symmetric Key Container (PSKC)"; the schema types <dskpp:KeyContainer> as
pskc:KeyContainerType, so the container travels under a DSKPP-namespace root element.
reference/pskc builds and reads it; this module only renames the root and decides the
content (docs/dskpp-interpretations.md D-17):

* four-pass (Sec. 4.2.4: "The key package MUST NOT include K_TOKEN"): the key's Id,
  algorithm and usage attributes, no <Secret>;
* two-pass (Sec. 5.2.3: the KP "holds the DSKPP Server's ID, key ID, key type, encrypted
  provisioning key (K_PROV), encryption method"): <Secret> is the whole K_PROV, protected
  by the selected method: key transport (RFC 6030 §6.3, RSA to the client's key), key wrap
  (§6.1, K_SHARED named by ds:KeyName) or passphrase-based key wrap (§6.2, PBKDF2).

Key transport is built here rather than by reference.pskc's encoder so that RSA padding
comes from the injected random source (an exchange replays byte for byte); RSA-1_5 has no
integrity check, so (RFC 6030 §6.1.1) the value carries a <ValueMAC> whose HMAC-SHA1 key
travels RSA-encrypted in <MACMethod>, as the symmetric methods do.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from lxml import etree

from harness.errors import InputError, ProtocolError, SchemaViolation
from reference import pskc
from reference.pskc.algorithms import lookup_cipher
from reference.dskpp import messages
from reference.dskpp.messages import DS_NS, DSKPP_NS, PSKC_NS, RawXml
from reference.dskpp.messages import EncryptionAlgorithmUri as Enc
from reference.dskpp.nonce_encryption import encrypt_nonce
from reference.dskpp.policy import KeyTypePolicy

Rng = Callable[[int], bytes]
_SPEC_4 = "RFC 6063 §4.2.5"
_SPEC_2 = "RFC 6063 §5.2.3"
# DSKPP EncryptionAlgorithm URI -> reference.pskc cipher name.
PSKC_CIPHER = {
    Enc.AES128_CBC.value: "aes128-cbc",
    Enc.KW_AES128.value: "kw-aes128",
    Enc.KW_AES128_PAD.value: "kw-aes-128-pad",
    Enc.RSA_1_5.value: "rsa-1_5",
    Enc.RSA_OAEP_MGF1P.value: "rsa-oaep-mgf1p",
}
_HMAC_SHA1 = DS_NS + "hmac-sha1"


# ----------------------------------------------------------------------------- root renaming
def wrap_document(document: bytes) -> RawXml:
    """A PSKC document (root pskc:KeyContainer) as the <dskpp:KeyContainer> element."""
    root = etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True))
    renamed = etree.Element(f"{{{DSKPP_NS}}}KeyContainer", dict(root.attrib), nsmap={"dskpp": DSKPP_NS, **root.nsmap})
    renamed.text = root.text
    renamed.extend(list(root))
    return RawXml(etree.tostring(renamed))


def unwrap_container(raw: RawXml) -> bytes:
    """The <dskpp:KeyContainer> element as a stand-alone PSKC document."""
    root = raw.element()
    root.tag = f"{{{PSKC_NS}}}KeyContainer"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# ----------------------------------------------------------------------------- content
def _pskc_date(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None  # a valid xs:dateTime Python cannot represent: left out of the package
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def pskc_device(info: messages.DeviceInfo | None) -> pskc.DeviceInfo | None:
    """The hello's <DeviceId> as the key package's pskc:DeviceInfo (App. B.2.6)."""
    if info is None:
        return None
    return pskc.DeviceInfo(
        manufacturer=info.manufacturer, serial_no=info.serial_no, model=info.model, issue_no=info.issue_no,
        device_binding=info.device_binding, start_date=_pskc_date(info.start_date),
        expiry_date=_pskc_date(info.expiry_date), user_id=info.user_id,
    )


def key_model(key_id: str, key_type: KeyTypePolicy, issuer: str, secret: bytes | None) -> pskc.Key:
    """The pskc:Key: Id, Algorithm, Issuer, ResponseFormat, Counter/TimeInterval, KeyUsage."""
    data = pskc.KeyData(
        secret=pskc.PlainValue(secret) if secret is not None else None,
        counter=pskc.PlainValue(key_type.counter) if key_type.counter is not None else None,
        time_interval=pskc.PlainValue(key_type.time_interval) if key_type.time_interval is not None else None,
    )
    params = None
    if key_type.digits is not None:
        params = pskc.AlgorithmParameters(response_format=pskc.ResponseFormat("DECIMAL", key_type.digits))
    return pskc.Key(
        id=key_id, algorithm=key_type.uri, issuer=key_type.issuer or issuer, algorithm_parameters=params,
        data=data, policy=pskc.Policy(key_usage=key_type.key_usage) if key_type.key_usage else None,
    )


def key_attributes(key: pskc.Key) -> str:
    """Non-secret attributes of a key as canonical JSON (KeyRecord/TokenKey.attributes)."""
    out: dict[str, Any] = {}
    if key.issuer is not None:
        out["issuer"] = key.issuer
    response = key.algorithm_parameters.response_format if key.algorithm_parameters else None
    if response is not None:
        out["digits"] = response.length
        out["encoding"] = response.encoding
    if key.data is not None:
        for name in ("counter", "time", "time_interval", "time_drift"):
            value = getattr(key.data, name)
            if isinstance(value, pskc.PlainValue):
                out[name] = value.value
    if key.policy is not None and key.policy.key_usage:
        out["key_usage"] = list(key.policy.key_usage)
    return json.dumps(out, sort_keys=True, separators=(",", ":"))


def _container(package: pskc.KeyPackage, **header: Any) -> pskc.KeyContainer:
    return pskc.KeyContainer(key_packages=(package,), version="1.0", **header)


def four_pass_container(key: pskc.Key, device: pskc.DeviceInfo | None) -> RawXml:
    """Sec. 4.2.5: the key's identifier and attributes, "but not the key itself"."""
    if key.data is not None and key.data.secret is not None:
        raise InputError("a four-pass key package must not carry the key", where="four_pass_container")
    document = pskc.encode(_container(pskc.KeyPackage(device_info=device, key=key)), pretty=False)
    return wrap_document(document)


def two_pass_wrapped(key: pskc.Key, device: pskc.DeviceInfo | None, *,
                     protection: pskc.PreSharedKey | pskc.Passphrase, rng: Rng) -> RawXml:
    """Key wrap (Sec. 5.1.2) or passphrase-based key wrap (Sec. 5.1.3) of K_PROV."""
    document = pskc.encode(_container(pskc.KeyPackage(device_info=device, key=key)), protection=protection,
                           rng=rng, pretty=False)
    return wrap_document(document)


def _c14n(el: etree._Element) -> pskc.RawXML:
    return pskc.RawXML(el.tag, etree.tostring(el, method="c14n", exclusive=True, with_comments=False))


def two_pass_transported(key: pskc.Key, device: pskc.DeviceInfo | None, *, algorithm: str,
                         public_key: RSAPublicKey, key_info: messages.KeyInfo, rng: Rng) -> RawXml:
    """Key transport (Sec. 5.1.1, RFC 6030 §6.3): K_PROV RSA-encrypted to the client's key.

    <pskc:EncryptionKey> repeats the key information the client sent (Sec. 5.2.2: "the key
    package MUST specify and use ... the key information that was received").
    """
    if algorithm not in (Enc.RSA_1_5.value, Enc.RSA_OAEP_MGF1P.value):
        raise InputError("key transport needs xmlenc#rsa-1_5 or xmlenc#rsa-oaep-mgf1p", where="two_pass_transported")
    assert key.data is not None and isinstance(key.data.secret, pskc.PlainValue)
    k_prov = key.data.secret.value
    assert isinstance(k_prov, bytes)

    def encrypt(plaintext: bytes) -> bytes:
        return encrypt_nonce(algorithm, plaintext, key=public_key, r_s=b"", rng=rng)

    mac_method = None
    value_mac = None
    cipher_value = encrypt(k_prov)
    if algorithm == Enc.RSA_1_5.value:  # no integrity check: RFC 6030 §6.1.1 ValueMAC
        mac_key = rng(20)
        mac_method = pskc.MACMethod(_HMAC_SHA1, encrypted_mac_key=pskc.EncryptedValue(algorithm, encrypt(mac_key)))
        value_mac = hmac.new(mac_key, cipher_value, hashlib.sha1).digest()
    names, others = [], []
    for child in key_info.children:
        el = child.element()
        if el.tag == f"{{{DS_NS}}}KeyName":
            names.append("".join(el.itertext()))
        elif el.tag == f"{{{DS_NS}}}X509Data" and key_info.x509_certificates:
            continue
        else:
            others.append(_c14n(el))
    encryption_key = pskc.EncryptionKey(key_names=tuple(names), x509_certificates=key_info.x509_certificates,
                                        unknown=tuple(others))
    sealed = pskc.EncryptedValue(algorithm, cipher_value, value_mac=value_mac)
    key = type(key)(**{**key.__dict__, "data": type(key.data)(**{**key.data.__dict__, "secret": sealed})})
    container = _container(pskc.KeyPackage(device_info=device, key=key), encryption_key=encryption_key,
                           mac_method=mac_method)
    return wrap_document(pskc.encode(container, pretty=False))


# ----------------------------------------------------------------------------- reading (client)
def _bad(message: str, spec: str, where: str = "KeyPackage/KeyContainer") -> SchemaViolation:
    return SchemaViolation(message, status="Abort", spec=spec, where=where)


def read_container(raw: RawXml, *, spec: str, key: bytes | None = None, password: str | None = None,
                   private_key: RSAPrivateKey | None = None) -> pskc.Key:
    """The single pskc:Key of a received key package, decrypted when credentials are given.

    Decoded strictly (RFC 6030 deviations refused).  Every failure is a ProtocolError
    naming the key package; none echoes a value.
    """
    try:
        container = pskc.decode(unwrap_container(raw), key=key, password=password, private_key=private_key,
                                strict=True)
    except ProtocolError as exc:
        raise type(exc)(f"key package: {exc.message}", status=exc.status, spec=f"{spec}; {exc.spec}",
                        where=exc.where or "KeyPackage/KeyContainer") from None
    except InputError as exc:
        raise _bad(f"key package cannot be opened: {exc.message}", spec) from None
    except (ValueError, etree.Error):
        raise _bad("key package is not a readable PSKC container", spec) from None
    keys = container.keys
    if len(container.key_packages) != 1 or len(keys) != 1:
        raise _bad(f"key package must hold exactly one key, holds {len(keys)}", spec)
    found = keys[0]
    if not found.id:
        raise _bad("the key has no Id (the key identifier the module stores)", spec, "KeyContainer/Key/@Id")
    return found


def container_algorithms(raw: RawXml, *, spec: str) -> set[str]:
    """The canonical URIs of the algorithms that protect the container's values."""
    try:
        container = pskc.decode(unwrap_container(raw))
    except ProtocolError as exc:
        raise type(exc)(f"key package: {exc.message}", status=exc.status, spec=f"{spec}; {exc.spec}",
                        where=exc.where or "KeyPackage/KeyContainer") from None
    except (InputError, ValueError, etree.Error):
        raise _bad("key package is not a readable PSKC container", spec) from None
    used = set()
    for key in container.keys:
        for value in (key.data.values().values() if key.data is not None else ()):
            if isinstance(value, pskc.EncryptedValue):
                cipher, _ = lookup_cipher(value.algorithm)
                used.add(cipher.uri if cipher is not None else str(value.algorithm))
    return used


def secret_of(key: pskc.Key, spec: str) -> bytes | None:
    """The plain <Secret> (None when absent); an undecrypted one is an error."""
    value = key.data.secret if key.data is not None else None
    if value is None:
        return None
    if not isinstance(value, pskc.PlainValue) or not isinstance(value.value, bytes):
        raise _bad("the key's Secret could not be opened", spec, "KeyContainer/Key/Data/Secret")
    return value.value


__all__ = [
    "wrap_document", "unwrap_container", "pskc_device", "key_model", "key_attributes", "four_pass_container",
    "two_pass_wrapped", "two_pass_transported", "read_container", "container_algorithms", "secret_of",
    "PSKC_CIPHER",
]
