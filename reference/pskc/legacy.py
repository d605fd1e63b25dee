"""Pre-RFC 6030 PSKC dialects, read into the RFC 6030 model and flagged "legacy".

python-pskc reads the drafts that preceded RFC 6030; an interop lab meets their files
(vendor exports from 2006-2010).  Covered here, as far as the samples shipped with
python-pskc show them:

* draft-hoyer-keyprov-portable-symmetric-key-container-00 (OATH 2006 namespace,
  <SecretContainer>, <Device>/<DeviceId>, <Secret SecretId SecretAlgorithm>,
  <Data Name="SECRET"><Value/><ValueDigest/></Data>, <EncryptionMethod algorithm=
  "PBE-3DES112-CBC"> with <PBESalt>/<PBEIterationCount>, <DigestMethod>);
* -01 and the "container:1.0" vendor form (<KeyContainer>, <Key KeyId KeyAlgorithm>,
  container-level <IV>);
* draft-hoyer-keyprov-pskc-algorithm-profiles-01 and draft-ietf-keyprov-pskc-02
  (<Device>, <Usage> with Format/OTP/CR attributes, <MACAlgorithm>, key-level dates).

Mapping rules (same as python-pskc, so both read the same values): a <Value> is
ciphertext when the container declares an encryption algorithm and the value carries a
digest, else plaintext; integers in <Value> are ASCII digits or big-endian octets.
A container-level IV is prepended to each ciphertext, as RFC 6030 §6.1 carries it.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from harness.errors import SchemaViolation

from .algorithms import CIPHERS, PBKDF2_URI, lookup_cipher
from .decode_key import parse_data, parse_policy
from .model import (
    AlgorithmParameters, ChallengeFormat, CryptoModuleInfo, DeviceInfo, EncryptedValue, EncryptionKey,
    DerivedKey, Key, KeyData, KeyPackage, MACMethod, PBKDF2Params, PlainValue, Policy, ResponseFormat,
)
from .xmlread import Ctx, parse_b64, parse_bool, parse_datetime, parse_int, text

SPEC = "pre-RFC 6030 draft syntax (read as python-pskc does)"
_PBE = re.compile(r"^pbe-(3des112|3des168|aes128|aes192|aes256)-cbc$")
_PBE_CIPHER = {"3des112": ("tripledes-cbc", 16), "3des168": ("tripledes-cbc", 24),
               "aes128": ("aes128-cbc", 16), "aes192": ("aes192-cbc", 24), "aes256": ("aes256-cbc", 32)}


@dataclass
class LegacyHeader:
    """Container-wide protection settings of the drafts (<EncryptionMethod>)."""

    algorithm: str | None = None
    iv: bytes | None = None


def flag(ctx: Ctx, element: etree._Element, what: str) -> None:
    ctx.flag("pskc.legacy-syntax", what, SPEC, element, "legacy")


def _find(element: etree._Element, *names: str) -> etree._Element | None:
    for child in element:
        if isinstance(child.tag, str) and etree.QName(child).localname in names:
            return child
    return None


def _attr(element: etree._Element, *names: str) -> str | None:
    return next((element.get(n) for n in names if element.get(n) is not None), None)


def parse_encryption_method(ctx: Ctx, element: etree._Element, header: LegacyHeader) -> EncryptionKey | None:
    flag(ctx, element, "container-level <EncryptionMethod>")
    algorithm = _attr(element, "Algorithm", "algorithm")
    iv = _find(element, "IV")
    if iv is not None:
        header.iv = parse_b64(ctx, iv.text, iv, "EncryptionMethod/IV")
    if algorithm is None or algorithm.strip().upper() == "NONE":
        return None
    pbe = _PBE.match(algorithm.strip().lower())
    if pbe:
        name, length = _PBE_CIPHER[pbe.group(1)]
        header.algorithm = CIPHERS[name].uri
        salt, count = _find(element, "PBESalt"), _find(element, "PBEIterationCount")
        params = None
        if salt is not None and count is not None:
            params = PBKDF2Params(salt=parse_b64(ctx, salt.text, salt, "PBESalt"),
                                  iteration_count=parse_int(ctx, text(count) or "", "nonNegativeInteger", count,
                                                            "PBEIterationCount"),
                                  key_length=length)
        return EncryptionKey(derived_key=DerivedKey(algorithm=PBKDF2_URI, pbkdf2=params))
    cipher, _ = lookup_cipher(algorithm)
    header.algorithm = cipher.uri if cipher else algorithm
    names = tuple(text(k) or "" for k in element if etree.QName(k).localname == "KeyName")
    return EncryptionKey(key_names=names)


def parse_digest_method(ctx: Ctx, element: etree._Element) -> MACMethod:
    flag(ctx, element, "<DigestMethod>/<MACAlgorithm> instead of <MACMethod>")
    algorithm = _attr(element, "Algorithm", "algorithm") or text(element)
    return MACMethod(algorithm=algorithm)


def _date(ctx: Ctx, element: etree._Element, what: str) -> datetime | None:
    raw = text(element)
    if raw is None:
        return None
    try:
        return parse_datetime(ctx, raw, element, what)
    except SchemaViolation:  # drafts wrote e.g. "01/01/2008"; python-pskc uses dateutil here
        import dateutil.parser
        try:
            value = dateutil.parser.parse(raw)
        except (ValueError, OverflowError):
            raise ctx.violation(f"{what}: {raw[:40]!r} is not a date", element, "pskc.not-datetime") from None
        flag(ctx, element, f"{what} {raw!r} is not an xs:dateTime")
        return value


def _legacy_int(ctx: Ctx, raw: str, element: etree._Element) -> int:
    raw = raw.strip()
    if re.fullmatch(r"[+-]?[0-9]+", raw):
        return int(raw)
    try:
        octets = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise ctx.violation(f"{raw[:40]!r} is not an integer", element, "pskc.not-integer") from None
    return int(octets) if octets.isdigit() else int.from_bytes(octets, "big")


def _format(ctx: Ctx, element: etree._Element, numeric: tuple[str, ...]) -> dict[str, object]:
    out: dict[str, object] = {"encoding": _attr(element, "Encoding", "Format", "format")}
    for attribute in numeric:
        raw = _attr(element, attribute, attribute.lower())
        out[attribute.lower()] = None if raw is None else parse_int(ctx, raw, "unsignedInt", element, attribute)
    check = _attr(element, "CheckDigits", "CheckDigit")
    out["check_digits"] = None if check is None else parse_bool(ctx, check, element, "CheckDigits")
    return out


def _named_data(ctx: Ctx, key: etree._Element, header: LegacyHeader) -> dict[str, object]:
    """<Data Name="SECRET"><Value/><ValueDigest/></Data> (draft-hoyer-*-00/-01)."""
    fields = {"secret": "secret", "counter": "counter", "time": "time", "time_interval": "time_interval"}
    values: dict[str, object] = {}
    for data in key:
        if etree.QName(data).localname != "Data" or data.get("Name") is None:
            continue
        field = fields.get(data.get("Name", "").lower())
        value_el, digest_el = _find(data, "Value"), _find(data, "ValueDigest", "ValueMAC")
        if field is None or value_el is None:
            continue
        digest = parse_b64(ctx, digest_el.text, digest_el, "ValueDigest") if digest_el is not None else None
        if header.algorithm and digest:
            cipher = parse_b64(ctx, value_el.text, value_el, "Data/Value")
            values[field] = EncryptedValue(algorithm=header.algorithm, cipher_value=(header.iv or b"") + cipher,
                                           value_mac=digest)
        elif field == "secret":
            values[field] = PlainValue(parse_b64(ctx, value_el.text, value_el, "Data/Value"), digest)
        else:
            values[field] = PlainValue(_legacy_int(ctx, value_el.text or "", value_el), digest)
    return values


def parse_key(ctx: Ctx, element: etree._Element, header: LegacyHeader) -> Key:
    values: dict[str, object] = {}
    strings = {"Issuer": "issuer", "FriendlyName": "friendly_name", "KeyProfileId": "key_profile_id",
               "KeyReference": "key_reference", "UserId": "user_id"}
    usages: list[str] = []
    dates: dict[str, object] = {}
    params: dict[str, object] = {}
    policy = None
    data = None
    for child in element:
        name = etree.QName(child).localname
        if name in strings:
            values.setdefault(strings[name], text(child))
        elif name in ("AlgorithmParameters", "Usage"):
            for attribute in ("OTP", "CR", "Integrity", "Encrypt", "Unlock"):
                if child.get(attribute) is not None and parse_bool(ctx, child.get(attribute), child, attribute):
                    usages.append(attribute)
            for sub in child:
                sub_name = etree.QName(sub).localname
                if sub_name == "Suite":
                    params["suite"] = text(sub)
                elif sub_name == "ChallengeFormat":
                    params["challenge_format"] = ChallengeFormat(**_format(ctx, sub, ("Min", "Max")))
                elif sub_name == "ResponseFormat":
                    params["response_format"] = ResponseFormat(**_format(ctx, sub, ("Length",)))
        elif name in ("StartDate", "ExpiryDate"):
            dates["start_date" if name == "StartDate" else "expiry_date"] = _date(ctx, child, f"Key/{name}")
        elif name == "Policy":
            policy = parse_policy(ctx, child)
        elif name == "Data" and child.get("Name") is None and data is None:
            data = parse_data(ctx, child)
    named = _named_data(ctx, element, header)
    if named:
        data = KeyData(**{**(data.__dict__ if data else {}), **named})
    if usages or dates:
        base = policy or Policy()
        policy = Policy(**{**base.__dict__, **{k: v for k, v in dates.items() if v is not None},
                           "key_usage": base.key_usage + tuple(usages)})
    return Key(
        id=_attr(element, "Id", "KeyId", "SecretId"),
        algorithm=_attr(element, "Algorithm", "KeyAlgorithm", "SecretAlgorithm"),
        algorithm_parameters=AlgorithmParameters(**params) if params else None,
        data=data, policy=policy, **values,
    )


def parse_device(ctx: Ctx, element: etree._Element, header: LegacyHeader) -> list[KeyPackage]:
    flag(ctx, element, "<Device> instead of <KeyPackage>")
    info = _find(element, "DeviceInfo", "DeviceId")
    device = None
    if info is not None:
        values: dict[str, object] = {}
        for child in info:
            name = etree.QName(child).localname
            field = {"Manufacturer": "manufacturer", "SerialNo": "serial_no", "Model": "model",
                     "IssueNo": "issue_no", "DeviceBinding": "device_binding", "UserId": "user_id"}.get(name)
            if field:
                values[field] = text(child)
            elif name in ("StartDate", "ExpiryDate", "Expiry"):
                values["start_date" if name == "StartDate" else "expiry_date"] = _date(ctx, child, f"Device/{name}")
        device = DeviceInfo(**values)  # type: ignore[arg-type]
    module = _find(element, "CryptoModuleInfo")
    crypto = CryptoModuleInfo(text(_find(module, "Id"))) if module is not None else None
    keys = [parse_key(ctx, k, header) for k in element if etree.QName(k).localname in ("Key", "Secret")]
    return [KeyPackage(device, crypto, key) for key in keys or [None]]
