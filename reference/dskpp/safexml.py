"""Hardened XML parsing and schema validation for DSKPP messages.

Parsing (lxml): UTF-8 only (RFC 6063 §11), no DOCTYPE at all (DSKPP messages have no
DTD, so any DTD is refused before the parser sees it: no entity expansion, no external
entities, no network), bounded size, depth and element count.

Validation: the RFC's schema (schemas/dskpp.xsd, Sec. 8.2).  xmlschema is the
authoritative validator: libxml2 rejects xs:dateTime values with surrounding whitespace
although the XSD whiteSpace=collapse facet allows it (the RFC's own App. B
KeyProvServerFinished examples have such dates).  libxml2 is some fifty times faster,
so it goes first: what it accepts is valid, what it rejects goes to xmlschema for the
verdict and the error text.  That is sound only while libxml2 accepts nothing xmlschema
rejects; tests/reference/dskpp/test_safexml.py checks exactly that on mutated messages,
and ``authoritative=True`` skips the fast path.  See docs/dskpp-interpretations.md (D-1).

Errors never echo element values (they may be key material): values that appear in a
validator's message are replaced by their fingerprint.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import xmlschema
from lxml import etree

from harness.errors import MalformedInput, SchemaViolation, UnsafeInput
from harness.redaction import fingerprint

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
_STATUS = "MalformedRequest"  # Sec. 3.3: "The DSKPP Server failed to parse the ... request"
_SPEC_XML = "RFC 6063 §8"
_DECL = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


@dataclass(frozen=True)
class Limits:
    """Bounds applied before and after parsing; generous for real DSKPP messages."""

    max_bytes: int = 1 << 20
    max_depth: int = 48
    max_elements: int = 20_000


DEFAULT_LIMITS = Limits()


def _parser(keep_comments_and_pis: bool) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=not keep_comments_and_pis,
        remove_pis=not keep_comments_and_pis,
        strip_cdata=True,
        collect_ids=False,
        encoding="utf-8",
    )


def _check_encoding(data: bytes) -> None:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or data[:4] in (b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00"):
        raise MalformedInput("not UTF-8 (byte order mark of UTF-16/32)", status=_STATUS, spec="RFC 6063 §11", where="byte 0")
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    m = _DECL.match(body)
    if m and m.group(1).lower() not in (b"utf-8", b"utf8"):
        raise MalformedInput("XML declaration names an encoding other than UTF-8", status=_STATUS, spec="RFC 6063 §11", where="line 1")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedInput("not valid UTF-8", status=_STATUS, spec="RFC 6063 §11", where=f"byte {exc.start}") from None


def parse_xml(data: bytes, *, limits: Limits = DEFAULT_LIMITS, keep_comments_and_pis: bool = False) -> etree._Element:
    """The root element of ``data``, or a typed error saying what is wrong and where."""
    if not isinstance(data, (bytes, bytearray)):
        raise MalformedInput("message must be bytes", status=_STATUS, spec=_SPEC_XML)
    data = bytes(data)
    if len(data) > limits.max_bytes:
        raise UnsafeInput(f"message of {len(data)} bytes exceeds the {limits.max_bytes}-byte limit", status=_STATUS, spec=_SPEC_XML)
    if not data.strip():
        raise MalformedInput("empty message", status=_STATUS, spec=_SPEC_XML)
    _check_encoding(data)
    # Refused before parsing: a DTD has no place in a DSKPP message.
    for marker in (b"<!DOCTYPE", b"<!ENTITY", b"<!ELEMENT", b"<!ATTLIST"):
        at = data.find(marker)
        if at >= 0:
            line = data.count(b"\n", 0, at) + 1
            raise UnsafeInput("DTD declarations are not allowed", status=_STATUS, spec=_SPEC_XML, where=f"line {line}")
    try:
        root = etree.fromstring(data, _parser(keep_comments_and_pis))
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else "?"
        raise MalformedInput(f"not well-formed XML: {exc.msg}", status=_STATUS, spec=_SPEC_XML, where=f"line {line}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnsafeInput("DTD declarations are not allowed", status=_STATUS, spec=_SPEC_XML, where="line 1")
    _check_shape(root, limits)
    return root


def _check_shape(root: etree._Element, limits: Limits) -> None:
    count = 0
    stack = [(root, 1)]
    while stack:
        el, depth = stack.pop()
        count += 1
        if count > limits.max_elements:
            raise UnsafeInput(f"more than {limits.max_elements} elements", status=_STATUS, spec=_SPEC_XML, where=f"line {el.sourceline}")
        if depth > limits.max_depth:
            raise UnsafeInput(f"nesting deeper than {limits.max_depth}", status=_STATUS, spec=_SPEC_XML, where=f"line {el.sourceline}")
        if isinstance(el, etree._Entity):
            raise UnsafeInput("entity references are not allowed", status=_STATUS, spec=_SPEC_XML, where=f"line {el.sourceline}")
        stack.extend((child, depth + 1) for child in el)


# ----------------------------------------------------------------------------- schema
@lru_cache(maxsize=1)
def dskpp_schema() -> xmlschema.XMLSchema:
    """The RFC 6063 §8.2 schema with its local imports, loaded offline, once."""
    return xmlschema.XMLSchema(str(SCHEMA_DIR / "dskpp.xsd"), allow="local", defuse="always")


def _redact(message: str, element: object) -> str:
    if not isinstance(element, etree._Element):
        return message
    values = [element.text or ""] + list(element.attrib.values())
    values += [child.text or "" for child in element.iter() if child is not element]
    for value in sorted({v for v in values if len(v.strip()) >= 4}, key=len, reverse=True):
        for form in {value, value.strip(), " ".join(value.split())}:
            if len(form) >= 4:
                message = message.replace(form, fingerprint(form))
    return message


_PER_THREAD = threading.local()


def dskpp_schema_libxml2() -> etree.XMLSchema:
    """The same schema compiled by libxml2, one per thread (its error log is per object)."""
    schema = getattr(_PER_THREAD, "schema", None)
    if schema is None:
        schema = _PER_THREAD.schema = etree.XMLSchema(etree.parse(str(SCHEMA_DIR / "dskpp.xsd")))
    return schema


def validate(root: etree._Element, *, authoritative: bool = False) -> None:
    """Raise SchemaViolation (status MalformedRequest) at the first schema error."""
    if not authoritative and dskpp_schema_libxml2().validate(root):
        return
    for error in dskpp_schema().iter_errors(root):
        line = getattr(error, "sourceline", None)
        path = error.path or ""
        index = getattr(error, "index", None)  # "unexpected child": point at the child itself
        if isinstance(error.elem, etree._Element) and isinstance(index, int) and 0 <= index < len(error.elem):
            child = error.elem[index]
            line = child.sourceline or line
            path = f"{path}/{etree.QName(child).localname}"
        where = f"line {line}: {path}" if line else path or None
        reason = error.reason or "not valid against the DSKPP schema"
        raise SchemaViolation(_redact(reason, error.elem), status=_STATUS, spec="RFC 6063 §8.2", where=where)
