"""The KMIP JSON encoding of TTLV, both directions.

KMIP Additional Message Encodings 1.0 §4.1 (the Profiles 2.1 JSON section is not in our
material; its type list adds DateTimeExtended as in XML §5.4.1.4).  Each item is an
object ``{"tag": ..., "type": ..., "value": ...}``; "type" defaults to Structure, whose
value is an array (or null).  Accepted value forms per §4.1.6.x: numbers or ``0x`` hex for
Integer / Long Integer / Big Integer / Interval / Enumeration, names for enumerations,
``"Name|Name|0x..."`` for masks (§4.1.6.4), true/false or hex for Boolean, xsd-style or
hex for Date-Time.

Written form follows the spec's worked example (MSGENC-JSON-M-1-10): Structures without
"type", numbers as fixed-width ``0x`` hex strings, enumerations and masks by name,
Date-Time as ``YYYY-MM-DDThh:mm:ss+00:00``, unknown tags as ``"0x54FFFF"``.
Date-Time Extended (KMIP 2.x) is written like a Long Integer.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from harness.errors import InputError, MalformedInput, UnsafeInput
from reference.kmip import textforms as tf
from reference.kmip.placeholders import Placeholder, parse_placeholder
from reference.kmip.tags import KmipTables, tables_for
from reference.kmip.ttlv import DEFAULT_MAX_DEPTH, INVALID_MESSAGE, Item, ItemType

SPEC = "KMIP addtl-msg-enc 1.0 §4.1.6"
_HEX_TAG = re.compile(r"0x([0-9A-Fa-f]{6})")
_KEYS = frozenset({"tag", "name", "type", "value"})
# Widths (bytes) and signedness of the numeric types' hex forms.
_HEX_WIDTH = {
    ItemType.INTEGER: (4, True),
    ItemType.LONG_INTEGER: (8, True),
    ItemType.ENUMERATION: (4, False),
    ItemType.INTERVAL: (4, False),
    ItemType.DATE_TIME: (8, True),
    ItemType.DATE_TIME_EXTENDED: (8, True),
    ItemType.BOOLEAN: (8, False),
}


def _fail(message: str, where: str, spec: str = SPEC) -> NoReturn:
    raise MalformedInput(message, status=INVALID_MESSAGE, spec=spec, where=where)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate member {key!r}")
        seen[key] = value
    return seen


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def parse_json_text(source: str | bytes) -> Any:
    """Parse JSON text strictly (no duplicate members, no NaN/Infinity)."""
    try:
        return json.loads(source, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except RecursionError:
        raise UnsafeInput("JSON nested too deeply", status=INVALID_MESSAGE, spec=SPEC, where="$") from None
    except json.JSONDecodeError as exc:
        _fail(f"not JSON: {exc.msg}", f"line {exc.lineno} column {exc.colno}")
    except (ValueError, UnicodeDecodeError) as exc:
        _fail(f"not JSON: {exc}", "$")


def from_json(
    source: str | bytes | dict, *, version: str | tuple[int, int] = (2, 1), placeholders: bool = True
) -> Item:
    """The item a JSON text (or an already-parsed JSON object) encodes."""
    document = parse_json_text(source) if isinstance(source, (str, bytes)) else source
    return _Reader(tables_for(version), placeholders).item(document, "$", None, 0)


class _Reader:
    def __init__(self, tables: KmipTables, placeholders: bool) -> None:
        self.tables = tables
        self.placeholders = placeholders

    def _tag(self, obj: dict, where: str) -> int:
        text = obj.get("tag")
        if not isinstance(text, str):
            _fail("member 'tag' must be a string", where, SPEC + ".1")
        m = _HEX_TAG.fullmatch(text)
        if m:
            return int(m.group(1), 16)
        info = self.tables.tag_by_xml_name(text)
        if info is None:
            _fail(f"unknown tag {text!r} for KMIP {self.tables.table_set}", where, SPEC + ".1")
        return info.value

    def item(self, obj: Any, where: str, hint: int | None, depth: int) -> Item:
        if depth >= DEFAULT_MAX_DEPTH:
            raise UnsafeInput(f"items nested deeper than {DEFAULT_MAX_DEPTH}", status=INVALID_MESSAGE, spec=SPEC, where=where)
        if not isinstance(obj, dict):
            _fail("an item must be a JSON object", where)
        extra = set(obj) - _KEYS
        if extra:
            _fail(f"unexpected member(s) {sorted(extra)}", where)
        tag = self._tag(obj, where)
        type_text = obj.get("type", "Structure")
        t = ItemType.from_xml_name(type_text) if isinstance(type_text, str) else None
        if t is None or (t is ItemType.DATE_TIME_EXTENDED and self.tables.version[0] < 2):
            _fail(f"unknown type {type_text!r} for KMIP {self.tables.table_set}", where, "KMIP addtl-msg-enc 1.0 §4.1.4")
        value = obj.get("value")
        if t is ItemType.STRUCTURE:
            if value is None:
                value = []
            if not isinstance(value, list):
                _fail("a Structure's value must be an array or null", where, SPEC + ".2")
            child_hint = tf.attribute_name_hint(self.tables, value, _attribute_name_of_object)
            children = (self.item(c, f"{where}.value[{i}]", child_hint, depth + 1) for i, c in enumerate(value))
            return Item(tag, t, tuple(children))
        if "value" not in obj:
            _fail(f"{type_text} without a value", where)
        try:
            parsed = self._value(t, tag, value, hint)
        except tf.ValueSyntax as exc:
            _fail(f"bad {type_text} value: {exc}", where)
        try:
            return Item(tag, t, parsed)
        except InputError as exc:  # out of range for the type
            _fail(f"bad {type_text} value: {exc.message}", where)

    def _value(self, t: ItemType, tag: int, value: Any, hint: int | None) -> object:
        if isinstance(value, str) and value.startswith("$") and self.placeholders:
            placeholder = parse_placeholder(value)
            if placeholder is not None:
                return placeholder
        if t is ItemType.TEXT_STRING:
            if not isinstance(value, str):
                raise tf.ValueSyntax("must be a string")
            return value
        if t is ItemType.BYTE_STRING:
            if not isinstance(value, str):
                raise tf.ValueSyntax("must be a hex string")
            return tf.parse_hex_bytes(value)
        if t is ItemType.BOOLEAN:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.startswith("0x"):
                raw = tf.parse_hex_number(value, 8, signed=False)
                if raw > 1:
                    raise tf.ValueSyntax("a Boolean is 0x0000000000000000 or 0x0000000000000001")
                return raw == 1
            raise tf.ValueSyntax("must be true, false or a hex string")
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise tf.ValueSyntax("must be an integer number or a string")
        if t is ItemType.BIG_INTEGER:
            if isinstance(value, int):
                return value
            if not value.startswith("0x"):
                raise tf.ValueSyntax("must be a number or 0x hex")
            return tf.big_integer_from_bytes(tf.parse_hex_bytes(value[2:]))
        enum_table, mask_table = tf.value_tables(self.tables, tag, hint)
        if isinstance(value, int):
            if t is ItemType.DATE_TIME:
                raise tf.ValueSyntax("a Date-Time is a hex or date-time string (§4.1.6.11)")
            return value  # range checked by the Item model
        if value.startswith("0x") and (t is not ItemType.INTEGER or "|" not in value):
            width, signed = _HEX_WIDTH[t]
            return tf.parse_hex_number(value, width, signed)
        if t is ItemType.ENUMERATION:
            return tf.parse_enumeration(value, enum_table)
        if t is ItemType.INTEGER and mask_table is not None:
            return tf.parse_mask(value, mask_table, "|")
        if t is ItemType.DATE_TIME:
            return tf.parse_datetime(value, require_zone=False)
        raise tf.ValueSyntax(f"{value!r} is neither a number nor 0x hex")


def _attribute_name_of_object(obj: Any) -> str | None:
    if isinstance(obj, dict) and obj.get("tag") == "AttributeName" and obj.get("type") == "TextString":
        value = obj.get("value")
        return value if isinstance(value, str) else None
    return None


# ----------------------------------------------------------------------------- writing
def to_json_value(item: Item, *, version: str | tuple[int, int] = (2, 1)) -> dict[str, Any]:
    """The JSON object (dicts/lists) for ``item``."""
    return _Writer(tables_for(version)).obj(item, None)


def to_json(item: Item, *, version: str | tuple[int, int] = (2, 1), indent: int | None = None) -> str:
    return json.dumps(to_json_value(item, version=version), indent=indent, ensure_ascii=False)


class _Writer:
    def __init__(self, tables: KmipTables) -> None:
        self.tables = tables

    def obj(self, item: Item, hint: int | None) -> dict[str, Any]:
        info = self.tables.tag(item.tag)
        out: dict[str, Any] = {"tag": info.xml_name if info is not None else f"0x{item.tag:06X}"}
        if item.type is ItemType.STRUCTURE:
            child_hint = tf.attribute_name_hint(self.tables, item.value, tf.attribute_name_of_item)  # type: ignore[arg-type]
            out["value"] = [self.obj(child, child_hint) for child in item.value]  # type: ignore[union-attr]
            return out
        out["type"] = item.type.xml_name
        out["value"] = self.value(item, hint)
        return out

    def value(self, item: Item, hint: int | None) -> Any:
        t, v = item.type, item.value
        if isinstance(v, Placeholder):
            return v.text
        if t is ItemType.TEXT_STRING or t is ItemType.BOOLEAN:
            return v
        if t is ItemType.BYTE_STRING:
            return v.hex()  # type: ignore[union-attr]
        if t is ItemType.BIG_INTEGER:
            return "0x" + tf.big_integer_hex(v)  # type: ignore[arg-type]
        if t is ItemType.DATE_TIME:
            return tf.format_datetime(v)  # type: ignore[arg-type]
        enum_table, mask_table = tf.value_tables(self.tables, item.tag, hint)
        if t is ItemType.ENUMERATION:
            return tf.format_enumeration(v, enum_table)  # type: ignore[arg-type]
        if t is ItemType.INTEGER and mask_table is not None:
            names = tf.format_mask(v, mask_table, "|")  # type: ignore[arg-type]
            if names is not None:
                return names
        return tf.format_hex_number(v, _HEX_WIDTH[t][0])  # type: ignore[arg-type]

