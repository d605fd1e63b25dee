"""The KMIP XML encoding of TTLV, both directions.

KMIP Profiles 2.1 §5.4.1 (and Additional Message Encodings 1.0 §6.1, its KMIP 1.x form):
an element per item, named by the tag's normalized name (or the general form
``<TTLV tag="0x54FFFF" type=... value=.../>``), a ``type`` attribute (default Structure),
and a ``value`` attribute for every non-structure.  Enumerations are written by name
(``0x`` hex for values without one, e.g. vendor extensions), Cryptographic Usage / Storage
Status / Protection Storage masks as space-separated bit names (§5.4.1.6.4), Date-Time as
xsd:dateTime in UTC, Byte String and Big Integer as hex.

Values of the OASIS test-case form ``$NAME`` become :class:`~.placeholders.Placeholder`
values (``placeholders=False`` reads a ``$...`` Text String literally and refuses it
elsewhere).  Errors are ``MalformedInput`` (status "Invalid Message", where="line N
<Element>"); a DOCTYPE is refused as ``UnsafeInput`` before anything is expanded.
"""

from __future__ import annotations

import re
from typing import NoReturn

from lxml import etree

from harness.errors import InputError, MalformedInput, UnsafeInput
from reference.kmip import textforms as tf
from reference.kmip.placeholders import Placeholder, parse_placeholder
from reference.kmip.tags import KmipTables, tables_for
from reference.kmip.ttlv import DEFAULT_MAX_DEPTH, INVALID_MESSAGE, Item, ItemType

NAMESPACE = "urn:oasis:tc:kmip:xmlns"
SPEC = "KMIP Profiles 2.1 §5.4.1 (addtl-msg-enc 1.0 §6.1)"
_SPEC_VALUE = "KMIP Profiles 2.1 §5.4.1.6"
_HEX_TAG = re.compile(r"0x([0-9A-Fa-f]{6})")
_HEX_ELEMENT = re.compile(r"[xX]([0-9A-Fa-f]{6})")  # "x540001" in the §5.4.1.6.5 example

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True, remove_pis=True
)


def _fail(message: str, where: str | None, spec: str = SPEC) -> NoReturn:
    raise MalformedInput(message, status=INVALID_MESSAGE, spec=spec, where=where)


def parse_xml_document(source: str | bytes) -> etree._Element:
    """Parse XML text safely (no DTD, no entities, no network) and return the root element."""
    data = source.encode("utf-8") if isinstance(source, str) else source
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        _fail(f"not well-formed XML: {exc.msg}", f"line {exc.lineno}")
    # Entities are never expanded (resolve_entities=False); a DTD has no place in KMIP XML.
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise UnsafeInput("DOCTYPE / DTD declarations are refused", status=INVALID_MESSAGE, spec=SPEC, where="line 1")
    return root


def from_xml(
    source: str | bytes, *, version: str | tuple[int, int] = (2, 1), placeholders: bool = True
) -> Item:
    """The item the XML text's root element encodes (e.g. a ``<RequestMessage>``)."""
    return from_xml_element(parse_xml_document(source), version=version, placeholders=placeholders)


def from_xml_element(
    element: etree._Element, *, version: str | tuple[int, int] = (2, 1), placeholders: bool = True
) -> Item:
    """The item an already-parsed element encodes (comments and PIs are skipped)."""
    return _Reader(tables_for(version), placeholders).item(element, None, 0)


def _local(element: etree._Element) -> tuple[str | None, str]:
    q = etree.QName(element)
    return q.namespace, q.localname


class _Reader:
    def __init__(self, tables: KmipTables, placeholders: bool) -> None:
        self.tables = tables
        self.placeholders = placeholders

    def _where(self, el: etree._Element) -> str:
        return f"line {el.sourceline} <{_local(el)[1]}>"

    def _tag(self, el: etree._Element, attrs: dict[str, str]) -> int:
        namespace, name = _local(el)
        if namespace not in (None, NAMESPACE):
            _fail(f"element in foreign namespace {namespace!r}", self._where(el))
        if name == "TTLV":  # general form (§5.4.1.6)
            attrs.pop("name", None)  # informative only; the tag attribute decides
            text = attrs.pop("tag", None)
            if text is None:
                _fail("TTLV element without a tag attribute", self._where(el))
            m = _HEX_TAG.fullmatch(text)  # type: ignore[arg-type]
            if m:
                return int(m.group(1), 16)
            info = self.tables.tag_by_xml_name(text)  # type: ignore[arg-type]
            if info is None:
                _fail(f"unknown tag {text!r} for KMIP {self.tables.table_set}", self._where(el))
            return info.value  # type: ignore[union-attr]
        info = self.tables.tag_by_xml_name(name)
        if info is not None:
            return info.value
        m = _HEX_ELEMENT.fullmatch(name)
        if m:
            return int(m.group(1), 16)
        _fail(f"unknown tag name {name!r} for KMIP {self.tables.table_set}", self._where(el))
        raise AssertionError("unreachable")  # pragma: no cover

    def item(self, el: etree._Element, hint: int | None, depth: int) -> Item:
        if depth >= DEFAULT_MAX_DEPTH:
            raise UnsafeInput(
                f"elements nested deeper than {DEFAULT_MAX_DEPTH}", status=INVALID_MESSAGE, spec=SPEC, where=self._where(el)
            )
        attrs = dict(el.attrib)
        tag = self._tag(el, attrs)
        type_text = attrs.pop("type", "Structure")
        t = ItemType.from_xml_name(type_text)
        if t is None or (t is ItemType.DATE_TIME_EXTENDED and self.tables.version[0] < 2):
            _fail(f"unknown type {type_text!r} for KMIP {self.tables.table_set}", self._where(el), SPEC + ".4")
        value_text = attrs.pop("value", None)
        if attrs:
            _fail(f"unexpected attribute(s) {sorted(attrs)}", self._where(el))
        if el.text is not None and el.text.strip():
            _fail("text content is not allowed (values go in the value attribute)", self._where(el))
        children = [c for c in el if isinstance(c.tag, str)]  # skip comments / PIs
        for c in el:
            if c.tail is not None and c.tail.strip():
                _fail("text content is not allowed between elements", self._where(el))
        if t is ItemType.STRUCTURE:
            if value_text is not None:
                _fail("a Structure has no value attribute", self._where(el))
            child_hint = tf.attribute_name_hint(self.tables, children, _attribute_name_of_element)
            return Item(tag, t, tuple(self.item(c, child_hint, depth + 1) for c in children))
        if children:
            _fail(f"a {type_text} cannot contain elements", self._where(el))
        if value_text is None:
            _fail(f"{type_text} without a value attribute", self._where(el))
        try:
            value = self._value(t, tag, value_text, hint)  # type: ignore[arg-type]
        except tf.ValueSyntax as exc:
            _fail(f"bad {type_text} value: {exc}", self._where(el), _SPEC_VALUE)
        try:
            return Item(tag, t, value)
        except InputError as exc:  # an out-of-range value the Item model refused
            _fail(f"bad {type_text} value: {exc.message}", self._where(el), _SPEC_VALUE)
        raise AssertionError("unreachable")  # pragma: no cover

    def _value(self, t: ItemType, tag: int, text: str, hint: int | None) -> object:
        if text.startswith("$"):
            placeholder = parse_placeholder(text)
            if placeholder is not None and self.placeholders:
                return placeholder
        if t is ItemType.TEXT_STRING:
            return text
        enum_table, mask_table = tf.value_tables(self.tables, tag, hint)
        if t is ItemType.INTEGER:
            if mask_table is not None and not tf.is_decimal(text):
                return tf.parse_mask(text, mask_table, None)
            return tf.parse_decimal(text, -(2**31), 2**31 - 1)
        if t is ItemType.LONG_INTEGER or t is ItemType.DATE_TIME_EXTENDED:
            return tf.parse_decimal(text, -(2**63), 2**63 - 1)
        if t is ItemType.INTERVAL:
            return tf.parse_decimal(text, 0, 2**32 - 1)
        if t is ItemType.BIG_INTEGER:
            return tf.big_integer_from_bytes(tf.parse_hex_bytes(text))
        if t is ItemType.BYTE_STRING:
            return tf.parse_hex_bytes(text)
        if t is ItemType.ENUMERATION:
            return tf.parse_enumeration(text, enum_table)
        if t is ItemType.BOOLEAN:
            flag = {"true": True, "1": True, "false": False, "0": False}.get(text.strip())
            if flag is None:
                raise tf.ValueSyntax(f"{text!r} is not an xsd:boolean")
            return flag
        if t is ItemType.DATE_TIME:
            return tf.parse_datetime(text, require_zone=True)
        raise AssertionError(t)  # pragma: no cover


def _attribute_name_of_element(el: etree._Element) -> str | None:
    if _local(el)[1] == "AttributeName" and el.get("type") == "TextString":
        return el.get("value")
    return None


# ----------------------------------------------------------------------------- writing
def to_xml_element(item: Item, *, version: str | tuple[int, int] = (2, 1)) -> etree._Element:
    """The element for ``item`` (named elements for known tags, ``<TTLV tag=...>`` otherwise)."""
    return _Writer(tables_for(version)).element(item, None, None)


def to_xml(item: Item, *, version: str | tuple[int, int] = (2, 1), pretty: bool = True) -> str:
    """XML text of ``item`` (2-space indentation like the OASIS test cases when ``pretty``)."""
    return etree.tostring(to_xml_element(item, version=version), encoding="unicode", pretty_print=pretty)


def value_text(item: Item, *, version: str | tuple[int, int] = (2, 1), hint: int | None = None) -> str | None:
    """The ``value`` attribute written for a non-structure ``item`` (None for a Structure)."""
    return _Writer(tables_for(version)).value_text(item, hint)


class _Writer:
    def __init__(self, tables: KmipTables) -> None:
        self.tables = tables

    def element(self, item: Item, hint: int | None, parent: etree._Element | None) -> etree._Element:
        info = self.tables.tag(item.tag)
        name = info.xml_name if info is not None else "TTLV"
        el = etree.Element(name) if parent is None else etree.SubElement(parent, name)
        if info is None:
            el.set("tag", f"0x{item.tag:06X}")
        if item.type is ItemType.STRUCTURE:
            child_hint = tf.attribute_name_hint(self.tables, item.value, tf.attribute_name_of_item)  # type: ignore[arg-type]
            for child in item.value:  # type: ignore[union-attr]
                self.element(child, child_hint, el)
            return el
        el.set("type", item.type.xml_name)
        try:
            el.set("value", self.value_text(item, hint))  # type: ignore[arg-type]
        except ValueError as exc:  # lxml: control characters XML 1.0 cannot carry
            raise InputError(f"value not representable in XML: {exc}", where=f"tag 0x{item.tag:06X}") from None
        return el

    def value_text(self, item: Item, hint: int | None) -> str | None:
        t, v = item.type, item.value
        if t is ItemType.STRUCTURE:
            return None
        if isinstance(v, Placeholder):
            return v.text
        if t is ItemType.TEXT_STRING:
            return v  # type: ignore[return-value]
        if t is ItemType.BYTE_STRING:
            return v.hex()  # type: ignore[union-attr]
        if t is ItemType.BIG_INTEGER:
            return tf.big_integer_hex(v)  # type: ignore[arg-type]
        if t is ItemType.BOOLEAN:
            return "true" if v else "false"
        if t is ItemType.DATE_TIME:
            return tf.format_datetime(v)  # type: ignore[arg-type]
        enum_table, mask_table = tf.value_tables(self.tables, item.tag, hint)
        if t is ItemType.ENUMERATION:
            return tf.format_enumeration(v, enum_table)  # type: ignore[arg-type]
        if t is ItemType.INTEGER and mask_table is not None:
            return tf.format_mask(v, mask_table, " ") or "0"  # type: ignore[arg-type]
        return str(v)  # Integer, Long Integer, Interval, Date-Time Extended: decimal

