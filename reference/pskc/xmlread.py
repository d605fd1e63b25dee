"""Reading typed values out of PSKC elements, collecting findings as we go.

Lexical rules follow XML Schema Part 2 for the types pskc.xsd uses (xs:int, xs:long,
xs:unsignedInt, xs:nonNegativeInteger, xs:boolean, xs:dateTime, xs:base64Binary).
Values a tolerant reader can still make sense of (``TRUE``, an out-of-range counter) are
accepted and reported; values nobody can read raise ``SchemaViolation`` with a place.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from datetime import datetime, timedelta, timezone

from lxml import etree

from harness.errors import SchemaViolation, UnsupportedFeature

from .algorithms import DS_NS, XENC_NS
from .model import EncryptedValue, Finding, RawXML
from .safexml import to_raw, where

INT_RANGES = {
    "int": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
    "unsignedInt": (0, 2**32 - 1),
    "nonNegativeInteger": (0, None),
}
_INT_RE = re.compile(r"^[+-]?[0-9]+$")
_DT_RE = re.compile(
    r"^(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?$"
)
SCHEMA = "RFC 6030 §11"


class Ctx:
    """Per-document reading state: the PSKC namespace in use and the findings so far."""

    def __init__(self, ns: str, dialect: str = "rfc6030") -> None:
        self.ns = ns
        self.dialect = dialect
        self.findings: list[Finding] = []
        self._prefix = "{" + ns + "}"
        self._cut = len(self._prefix)

    def flag(self, code: str, message: str, spec: str, element: etree._Element | None = None,
             severity: str = "deviation") -> None:
        self.findings.append(Finding(code=code, message=message, spec=spec, severity=severity,
                                     where=where(element) if element is not None else None))

    def take(self) -> tuple[Finding, ...]:
        taken, self.findings = tuple(self.findings), []
        return taken

    def local(self, element: etree._Element) -> str | None:
        """Local name if ``element`` is in the document's PSKC namespace, else None."""
        tag = element.tag
        # plain string slicing: this runs for every element of every key package
        if isinstance(tag, str) and tag.startswith(self._prefix):
            return tag[self._cut:]
        return None

    def violation(self, message: str, element: etree._Element | None, status: str = "pskc.schema",
                  spec: str = SCHEMA) -> SchemaViolation:
        return SchemaViolation(message, status=status, spec=spec,
                               where=where(element) if element is not None else None)


def qname(element: etree._Element) -> tuple[str | None, str]:
    tag = element.tag
    if tag[0] == "{":
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return None, tag


def text(element: etree._Element | None) -> str | None:
    """Element text with surrounding whitespace removed (RFC figures wrap values)."""
    if element is None or element.text is None:
        return None
    value = element.text.strip()
    return value if value else None


def parse_int(ctx: Ctx, value: str, kind: str, element: etree._Element, what: str) -> int:
    value = value.strip()
    if not _INT_RE.match(value):
        raise ctx.violation(f"{what}: {value[:40]!r} is not an xs:{kind}", element, "pskc.not-integer")
    number = int(value)
    low, high = INT_RANGES[kind]
    if number < low or (high is not None and number > high):
        ctx.flag("pskc.integer-range", f"{what} {number} is outside the xs:{kind} range", SCHEMA, element)
    return number


def parse_bool(ctx: Ctx, value: str, element: etree._Element, what: str) -> bool:
    token = value.strip()
    if token in ("true", "1"):
        return True
    if token in ("false", "0"):
        return False
    if token.lower() in ("true", "false"):  # python-pskc reads these; xs:boolean does not
        ctx.flag("pskc.boolean-case", f"{what} {token!r} is not an xs:boolean literal", SCHEMA, element)
        return token.lower() == "true"
    raise ctx.violation(f"{what}: {token[:40]!r} is not an xs:boolean", element, "pskc.not-boolean")


def parse_datetime(ctx: Ctx, value: str, element: etree._Element, what: str) -> datetime:
    """xs:dateTime (RFC 6030 §4.3.1, §5: canonical representation, no leap seconds)."""
    m = _DT_RE.match(value.strip())
    if not m:
        raise ctx.violation(f"{what}: {value[:40]!r} is not an xs:dateTime", element, "pskc.not-datetime")
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    fraction, zone = m.group(7), m.group(8)
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    tz = None
    if zone == "Z":
        tz = timezone.utc
    elif zone:
        sign = -1 if zone[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    carry = hour == 24 and minute == 0 and second == 0 and micro == 0  # 24:00:00 = next day
    try:
        result = datetime(year, month, day, 0 if carry else hour, minute, second, micro, tzinfo=tz)
    except ValueError as exc:
        spec = "RFC 6030 §4.3.1 / §5 (no leap seconds)" if second == 60 else SCHEMA
        raise ctx.violation(f"{what}: {value[:40]!r} is not a valid date-time ({exc})", element,
                            "pskc.not-datetime", spec) from None
    if zone and zone not in ("Z", "+00:00", "-00:00"):
        ctx.flag("pskc.datetime-not-canonical", f"{what} uses offset {zone}; canonical form is UTC 'Z'",
                 "RFC 6030 §4.3.1; XML Schema Part 2 §3.2.7.2", element, "note")
    return result + timedelta(days=1) if carry else result


def parse_b64(ctx: Ctx, value: str | None, element: etree._Element, what: str) -> bytes:
    compact = "".join((value or "").split())  # drop all white space (cheaper than re.sub per value)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise ctx.violation(f"{what} is not valid base64", element, "pskc.not-base64") from None


def unknown(ctx: Ctx, element: etree._Element, parent: str, *, allowed: bool = False) -> RawXML:
    """Keep an element we do not interpret.  ``allowed``: the schema has xs:any here."""
    if not allowed:
        ctx.flag("pskc.unknown-element", f"unexpected element {element.tag} in <{parent}>", SCHEMA, element)
    return to_raw(element)


_REPEATABLE = frozenset({"KeyUsage", "Extensions"})


@functools.lru_cache(maxsize=None)
def _positions(order: tuple[str, ...]) -> dict[str, int]:
    return {name: index for index, name in enumerate(order)}


def check_order(ctx: Ctx, element: etree._Element, order: tuple[str, ...], parent: str) -> None:
    """Flag children out of schema sequence order or repeated when single."""
    last, seen = -1, set()
    positions = _positions(order)  # runs five times per key package: keep it a dict lookup
    for child in element:
        name = ctx.local(child)
        index = positions.get(name)
        if index is None:
            continue
        if index < last:
            ctx.flag("pskc.element-order", f"<{name}> out of schema order in <{parent}>", SCHEMA, child)
        if name in seen and name not in _REPEATABLE:
            ctx.flag("pskc.duplicate-element", f"<{name}> repeated in <{parent}>; the first is used",
                     SCHEMA, child)
        seen.add(name)
        last = max(last, index)


def parse_encrypted(ctx: Ctx, element: etree._Element, what: str) -> EncryptedValue:
    """An xenc:EncryptedDataType element (<EncryptedValue>, <MACKey>)."""
    algorithm = outer = oaep_params = oaep_digest = None
    cipher_value: bytes | None = None
    for child in element:
        ns, name = qname(child)
        if ns == XENC_NS and name == "EncryptionMethod":
            algorithm = child.get("Algorithm")
            for sub in child:
                sns, sname = qname(sub)
                if sname == "EncryptionScheme":  # draft-ietf-keyprov-pskc-02 PBES2 form
                    outer, algorithm = algorithm, sub.get("Algorithm") or algorithm
                    ctx.flag("pskc.encryption-scheme", "EncryptionMethod/EncryptionScheme is pre-RFC syntax",
                             "RFC 6030 §6.2", sub, "legacy")
                elif sns == XENC_NS and sname == "OAEPparams":
                    oaep_params = parse_b64(ctx, text(sub), sub, "OAEPparams")
                elif sns == DS_NS and sname == "DigestMethod":
                    oaep_digest = sub.get("Algorithm")
                elif not (sns == XENC_NS and sname == "KeySize"):
                    unknown(ctx, sub, "EncryptionMethod", allowed=True)
        elif ns == XENC_NS and name == "CipherData":
            for sub in child:
                sns, sname = qname(sub)
                if sns == XENC_NS and sname == "CipherValue":
                    cipher_value = parse_b64(ctx, sub.text, sub, f"{what} CipherValue")
                elif sns == XENC_NS and sname == "CipherReference":
                    raise UnsupportedFeature(
                        f"{what}: xenc:CipherReference (ciphertext fetched from a URI) is refused",
                        status="pskc.cipher-reference", spec="RFC 6030 §6; XML-Enc §3.3.1", where=where(sub))
        elif ns == DS_NS and name == "KeyInfo":
            ctx.flag("pskc.keyinfo-ignored", f"ds:KeyInfo inside {what} ignored; keys come from <EncryptionKey>",
                     "RFC 6030 §6", child, "note")
        elif not (ns == XENC_NS and name == "EncryptionProperties"):
            unknown(ctx, child, what)
    if cipher_value is None:
        raise ctx.violation(f"{what} has no xenc:CipherData/xenc:CipherValue", element, "pskc.no-cipher-value",
                            "RFC 6030 §6; XML-Enc §3.3")
    if algorithm is None:
        ctx.flag("pskc.missing-encryption-method", f"{what} has no EncryptionMethod Algorithm",
                 "RFC 6030 §6.1, §6.3", element)
    return EncryptedValue(algorithm=algorithm, cipher_value=cipher_value, id=element.get("Id"),
                          outer_algorithm=outer, oaep_params=oaep_params, oaep_digest=oaep_digest)
