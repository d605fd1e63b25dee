"""KMIP TTLV: a typed item model and a strict binary codec.

KMIP 1.4 §9.1 / KMIP 2.1 §10.1.  Every item is Tag (3 bytes) | Type (1 byte) | Length
(4 bytes, big-endian) | Value, padded with zero bytes to a multiple of 8.  Item values
in the model:

=================  ==========================================================
Structure          ``tuple[Item, ...]``
Integer            ``int`` (signed 32 bit)
Long Integer       ``int`` (signed 64 bit)
Big Integer        ``int`` (any size; encoded minimal two's complement, 8n bytes)
Enumeration        ``int`` (unsigned 32 bit; names live in :mod:`.tags`)
Boolean            ``bool``
Text String        ``str``
Byte String        ``bytes``
Date-Time          ``int`` POSIX seconds (signed 64 bit)
Interval           ``int`` seconds (unsigned 32 bit)
Date-Time Extended ``int`` POSIX microseconds (signed 64 bit, KMIP 2.x only)
=================  ==========================================================

Any non-structure value may instead be a :class:`~.placeholders.Placeholder` (as read
from an OASIS test case); such items cannot be TTLV-encoded until resolved.

Decoding errors are :class:`harness.errors.MalformedInput` with ``status="Invalid
Message"`` (KMIP 1.4 §11.1: "Message cannot be parsed" -> Invalid Message), the violated
section in ``spec`` and ``where="offset N (tag 0x42XXXX)"``; N is the offset of the
offending byte(s) in the input.  Error texts never quote byte-string contents.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import NoReturn, Union

from harness.errors import InputError, MalformedInput, UnsafeInput
from harness.redaction import fingerprint
from reference.kmip.placeholders import Placeholder

INVALID_MESSAGE = "Invalid Message"


class ItemType(IntEnum):
    """Item Type codes (KMIP 1.4 Table 286; KMIP 2.1 §11.23)."""

    STRUCTURE = 0x01
    INTEGER = 0x02
    LONG_INTEGER = 0x03
    BIG_INTEGER = 0x04
    ENUMERATION = 0x05
    BOOLEAN = 0x06
    TEXT_STRING = 0x07
    BYTE_STRING = 0x08
    DATE_TIME = 0x09
    INTERVAL = 0x0A
    DATE_TIME_EXTENDED = 0x0B

    @property
    def xml_name(self) -> str:
        """Normalized name used by the XML/JSON encodings (Profiles 2.1 §5.4.1.4)."""
        return _XML_NAMES[self]

    @classmethod
    def from_xml_name(cls, name: str) -> ItemType | None:
        return _BY_XML_NAME.get(name)


_XML_NAMES = {
    ItemType.STRUCTURE: "Structure",
    ItemType.INTEGER: "Integer",
    ItemType.LONG_INTEGER: "LongInteger",
    ItemType.BIG_INTEGER: "BigInteger",
    ItemType.ENUMERATION: "Enumeration",
    ItemType.BOOLEAN: "Boolean",
    ItemType.TEXT_STRING: "TextString",
    ItemType.BYTE_STRING: "ByteString",
    ItemType.DATE_TIME: "DateTime",
    ItemType.INTERVAL: "Interval",
    ItemType.DATE_TIME_EXTENDED: "DateTimeExtended",
}
_BY_XML_NAME = {name: t for t, name in _XML_NAMES.items()}

Value = Union[int, bool, str, bytes, "tuple[Item, ...]", Placeholder]

# Value ranges of the fixed-width numeric types: (min, max) inclusive.
_RANGES = {
    ItemType.INTEGER: (-(2**31), 2**31 - 1),
    ItemType.LONG_INTEGER: (-(2**63), 2**63 - 1),
    ItemType.ENUMERATION: (0, 2**32 - 1),
    ItemType.DATE_TIME: (-(2**63), 2**63 - 1),
    ItemType.INTERVAL: (0, 2**32 - 1),
    ItemType.DATE_TIME_EXTENDED: (-(2**63), 2**63 - 1),
}


@dataclass(frozen=True, slots=True)
class Item:
    """One TTLV item; a Structure's value is the tuple of its sub-items, in order."""

    tag: int
    type: ItemType
    value: Value

    def __post_init__(self) -> None:
        _validate(self)

    def __repr__(self) -> str:
        if self.type is ItemType.STRUCTURE:
            return f"Item(0x{self.tag:06X}, STRUCTURE, {list(self.value)!r})"  # type: ignore[arg-type]
        if self.type is ItemType.BYTE_STRING and isinstance(self.value, bytes):
            # Key material may sit in any Byte String: show its size, never its bytes.
            return f"Item(0x{self.tag:06X}, BYTE_STRING, <{len(self.value)} bytes {fingerprint(self.value)}>)"
        return f"Item(0x{self.tag:06X}, {self.type.name}, {self.value!r})"

    # -- convenience constructors: names say the item type -----------------------------
    @classmethod
    def structure(cls, tag: int, items: "tuple[Item, ...] | list[Item]" = ()) -> Item:
        return cls(tag, ItemType.STRUCTURE, tuple(items))

    @classmethod
    def integer(cls, tag: int, value: int) -> Item:
        return cls(tag, ItemType.INTEGER, value)

    @classmethod
    def long_integer(cls, tag: int, value: int) -> Item:
        return cls(tag, ItemType.LONG_INTEGER, value)

    @classmethod
    def big_integer(cls, tag: int, value: int) -> Item:
        return cls(tag, ItemType.BIG_INTEGER, value)

    @classmethod
    def enumeration(cls, tag: int, value: int) -> Item:
        return cls(tag, ItemType.ENUMERATION, value)

    @classmethod
    def boolean(cls, tag: int, value: bool) -> Item:
        return cls(tag, ItemType.BOOLEAN, value)

    @classmethod
    def text_string(cls, tag: int, value: str) -> Item:
        return cls(tag, ItemType.TEXT_STRING, value)

    @classmethod
    def byte_string(cls, tag: int, value: bytes) -> Item:
        return cls(tag, ItemType.BYTE_STRING, value)

    @classmethod
    def date_time(cls, tag: int, posix_seconds: int) -> Item:
        return cls(tag, ItemType.DATE_TIME, posix_seconds)

    @classmethod
    def interval(cls, tag: int, seconds: int) -> Item:
        return cls(tag, ItemType.INTERVAL, seconds)

    @classmethod
    def date_time_extended(cls, tag: int, posix_microseconds: int) -> Item:
        return cls(tag, ItemType.DATE_TIME_EXTENDED, posix_microseconds)

    # -- navigation -------------------------------------------------------------------
    @property
    def items(self) -> tuple[Item, ...]:
        """Sub-items of a Structure (empty tuple for any other type)."""
        return self.value if self.type is ItemType.STRUCTURE else ()  # type: ignore[return-value]

    def find(self, tag: int) -> Item | None:
        """First direct sub-item with ``tag``, or None."""
        for child in self.items:
            if child.tag == tag:
                return child
        return None

    def find_all(self, tag: int) -> tuple[Item, ...]:
        """All direct sub-items with ``tag``, in order."""
        return tuple(child for child in self.items if child.tag == tag)


def _validate(item: Item) -> None:
    where = f"tag 0x{item.tag:06X}" if isinstance(item.tag, int) else None
    if not isinstance(item.tag, int) or isinstance(item.tag, bool) or not 0 <= item.tag <= 0xFFFFFF:
        raise InputError(f"tag must be an int of 3 bytes, got {item.tag!r}")
    if not isinstance(item.type, ItemType):
        try:
            object.__setattr__(item, "type", ItemType(item.type))
        except ValueError:
            raise InputError(f"unknown item type {item.type!r}", where=where) from None
    t, v = item.type, item.value
    if t is ItemType.STRUCTURE:
        if isinstance(v, list):
            v = tuple(v)
            object.__setattr__(item, "value", v)
        if not isinstance(v, tuple) or not all(isinstance(c, Item) for c in v):
            raise InputError("Structure value must be a tuple of Items", where=where)
        return
    if isinstance(v, Placeholder):
        return
    if t is ItemType.BOOLEAN:
        if not isinstance(v, bool):
            raise InputError(f"Boolean value must be a bool, got {type(v).__name__}", where=where)
    elif t is ItemType.TEXT_STRING:
        if not isinstance(v, str):
            raise InputError(f"Text String value must be a str, got {type(v).__name__}", where=where)
    elif t is ItemType.BYTE_STRING:
        if isinstance(v, (bytearray, memoryview)):
            object.__setattr__(item, "value", bytes(v))
        elif not isinstance(v, bytes):
            raise InputError(f"Byte String value must be bytes, got {type(v).__name__}", where=where)
    else:
        if not isinstance(v, int) or isinstance(v, bool):
            raise InputError(f"{t.xml_name} value must be an int, got {type(v).__name__}", where=where)
        bounds = _RANGES.get(t)
        if bounds is not None and not bounds[0] <= v <= bounds[1]:
            raise InputError(f"{t.xml_name} value {v} out of range {bounds[0]}..{bounds[1]}", where=where)


# ----------------------------------------------------------------------------- encoding
_HEAD = struct.Struct(">II")  # (tag << 8 | type, length)
_I32_PAD = struct.Struct(">iI")
_U32_PAD = struct.Struct(">II")
_I64 = struct.Struct(">q")
_U64 = struct.Struct(">Q")
_ZEROS = bytes(8)


def big_integer_bytes(value: int) -> bytes:
    """Minimal two's complement of ``value``, sign-extended to a multiple of 8 bytes (§9.1.1.4)."""
    magnitude = value if value >= 0 else ~value
    n = (magnitude.bit_length() + 8) // 8  # +1 bit for the sign, rounded up to bytes
    n = (n + 7) // 8 * 8
    return value.to_bytes(n, "big", signed=True)


def encode(item: Item) -> bytes:
    """The TTLV bytes of ``item``.

    Raises :class:`InputError` for items TTLV cannot carry: an unresolved placeholder, a
    string that is not valid Unicode (lone surrogates), a value longer than 2**32-1 bytes.
    """
    out = bytearray()
    _encode_into(item, out)
    return bytes(out)


def _encode_into(item: Item, out: bytearray) -> None:
    t, v = item.type, item.value
    head = item.tag << 8 | t
    if t is ItemType.STRUCTURE:
        start = len(out)
        out += _HEAD.pack(head, 0)
        for child in v:  # type: ignore[union-attr]
            _encode_into(child, out)
        length = len(out) - start - 8
        if length > 0xFFFFFFFF:
            raise InputError("Structure longer than 2**32-1 bytes", where=f"tag 0x{item.tag:06X}")
        _HEAD.pack_into(out, start, head, length)
        return
    if isinstance(v, Placeholder):
        raise InputError(
            f"unresolved placeholder {v.text} cannot be TTLV-encoded; resolve it first",
            where=f"tag 0x{item.tag:06X}",
        )
    if t is ItemType.INTEGER:
        out += _HEAD.pack(head, 4) + _I32_PAD.pack(v, 0)
    elif t is ItemType.ENUMERATION or t is ItemType.INTERVAL:
        out += _HEAD.pack(head, 4) + _U32_PAD.pack(v, 0)
    elif t is ItemType.LONG_INTEGER or t is ItemType.DATE_TIME or t is ItemType.DATE_TIME_EXTENDED:
        out += _HEAD.pack(head, 8) + _I64.pack(v)
    elif t is ItemType.BOOLEAN:
        out += _HEAD.pack(head, 8) + _U64.pack(1 if v else 0)
    else:
        if t is ItemType.TEXT_STRING:
            try:
                raw = v.encode("utf-8")  # type: ignore[union-attr]
            except UnicodeEncodeError as exc:
                raise InputError(
                    f"Text String is not encodable as UTF-8 ({exc.reason} at character {exc.start})",
                    where=f"tag 0x{item.tag:06X}",
                ) from None
        elif t is ItemType.BYTE_STRING:
            raw = v  # type: ignore[assignment]
        else:  # BIG_INTEGER
            raw = big_integer_bytes(v)  # type: ignore[arg-type]
        if len(raw) > 0xFFFFFFFF:
            raise InputError(f"{t.xml_name} longer than 2**32-1 bytes", where=f"tag 0x{item.tag:06X}")
        out += _HEAD.pack(head, len(raw))
        out += raw
        out += _ZEROS[: -len(raw) % 8]


# ----------------------------------------------------------------------------- decoding
# Length every fixed-size type must declare (KMIP 1.4 Table 287 / 2.1 Table 427).
_FIXED_LENGTH = {
    ItemType.INTEGER: 4,
    ItemType.LONG_INTEGER: 8,
    ItemType.ENUMERATION: 4,
    ItemType.BOOLEAN: 8,
    ItemType.DATE_TIME: 8,
    ItemType.INTERVAL: 4,
    ItemType.DATE_TIME_EXTENDED: 8,
}
_TYPES = {int(t): t for t in ItemType}

# Sections violated, KMIP 1.4 first (as the error spec strings cite), then 2.1.
SPEC_TAG = "KMIP 1.4 §9.1.1.1 (2.1 §10.1.1)"
SPEC_TYPE = "KMIP 1.4 §9.1.1.2 (2.1 §10.1.2, §11.23)"
SPEC_LENGTH = "KMIP 1.4 §9.1.1.3 (2.1 §10.1.3)"
SPEC_PADDING = "KMIP 1.4 §9.1.1.3 (2.1 §10.1.5)"
SPEC_VALUE = "KMIP 1.4 §9.1.1.4 (2.1 §10.1.2)"
SPEC_TTLV = "KMIP 1.4 §9.1 (2.1 §10.1)"

DEFAULT_MAX_DEPTH = 64


def _fail(message: str, offset: int, tag: int | None, spec: str, cls: type = MalformedInput) -> NoReturn:
    where = f"offset {offset}" if tag is None else f"offset {offset} (tag 0x{tag:06X})"
    raise cls(message, status=INVALID_MESSAGE, spec=spec, where=where)


def item_length(header: bytes | bytearray | memoryview) -> int:
    """Total bytes (header, value, padding) of the item whose first 8 bytes are ``header``.

    For reading one message off a stream: read 8 bytes, then ``item_length - 8`` more.
    """
    if len(header) < 8:
        _fail(f"truncated item header: need 8 bytes, {len(header)} available", len(header), None, SPEC_TTLV)
    head, length = _HEAD.unpack_from(header, 0)
    if (head & 0xFF) not in _TYPES:
        _fail(f"unknown item type 0x{head & 0xFF:02X}", 3, head >> 8, SPEC_TYPE)
    return 8 + length + (-length % 8)


def decode(
    data: bytes | bytearray | memoryview,
    *,
    strict: bool = True,
    version: tuple[int, int] | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Item:
    """Decode exactly one TTLV item (normally a whole message) from ``data``.

    ``strict`` (default) also refuses what a tolerant reader could skip over: nonzero
    padding bytes, tags whose first byte is neither 0x42 nor 0x54 (§9.1.1.1), Big Integers
    with more sign-extension bytes than needed or of length 0 (§9.1.1.4 "minimal number"),
    and null-terminated Text Strings (§9.1.1.4 "SHALL NOT be null-termination").
    Always refused: truncated input, trailing bytes, unknown types, wrong lengths, a
    sub-item crossing its structure's end, Booleans other than 0/1, invalid UTF-8.
    ``version=(1, x)`` additionally refuses type 0x0B (Date-Time Extended is KMIP 2.x).
    Nesting deeper than ``max_depth`` raises :class:`UnsafeInput`.
    """
    buf = bytes(data)
    decoder = _Decoder(buf, strict, version is not None and version[0] < 2, max_depth)
    item, end = decoder.item(0, len(buf), None, 0)
    if end != len(buf):
        _fail(f"{len(buf) - end} trailing bytes after the item", end, None, SPEC_TTLV)
    return item


_new_object = object.__new__
_set_field = object.__setattr__


def _trusted_item(tag: int, t: ItemType, value: object) -> Item:
    """An Item built without re-validation: the decoder has already checked every field."""
    item = _new_object(Item)
    _set_field(item, "tag", tag)
    _set_field(item, "type", t)
    _set_field(item, "value", value)
    return item


_STRUCTURE, _INTEGER, _LONG, _BIG, _ENUM, _BOOL, _TEXT, _BYTES, _DT, _INTERVAL, _DTE = range(1, 12)


class _Decoder:
    __slots__ = ("buf", "strict", "no_extended", "max_depth")

    def __init__(self, buf: bytes, strict: bool, no_extended: bool, max_depth: int) -> None:
        self.buf = buf
        self.strict = strict
        self.no_extended = no_extended
        self.max_depth = max_depth

    def _overrun(self, what: str, off: int, tag: int | None, end: int, limit: int, parent: tuple[int, int] | None) -> NoReturn:
        if parent is None:
            _fail(f"truncated input: {what} needs {end - off} bytes, {limit - off} available", off, tag, SPEC_TTLV)
        p_off, p_tag = parent
        _fail(
            f"structure length mismatch: {what} ends at offset {end}, beyond the end (offset {limit}) "
            f"of the enclosing Structure at offset {p_off} (tag 0x{p_tag:06X})",
            off,
            tag,
            SPEC_LENGTH,
        )

    def item(self, off: int, limit: int, parent: tuple[int, int] | None, depth: int) -> tuple[Item, int]:
        buf = self.buf
        if off + 8 > limit:
            self._overrun("item header", off, None, off + 8, limit, parent)
        head, length = _HEAD.unpack_from(buf, off)
        tag, code = head >> 8, head & 0xFF
        if self.strict and head >> 24 != 0x42 and head >> 24 != 0x54:
            _fail(f"tag 0x{tag:06X}: first byte must be 0x42 (KMIP) or 0x54 (extension)", off, tag, SPEC_TAG)
        t = _TYPES.get(code)
        if t is None or (code == _DTE and self.no_extended):
            known = "0x01..0x0A in KMIP 1.x" if self.no_extended else "0x01..0x0B"
            _fail(f"unknown item type 0x{code:02X} (allowed: {known})", off + 3, tag, SPEC_TYPE)
        fixed = _FIXED_LENGTH.get(t)
        if fixed is not None and length != fixed:
            _fail(f"{t.xml_name} length must be {fixed}, got {length}", off + 4, tag, SPEC_LENGTH)
        if (code == _STRUCTURE or code == _BIG) and length % 8:
            _fail(f"{t.xml_name} length must be a multiple of 8, got {length}", off + 4, tag, SPEC_LENGTH)
        vo = off + 8
        end = vo + length + (-length % 8)
        if end > limit:
            self._overrun(f"{t.xml_name} value", off, tag, end, limit, parent)
        if code == _STRUCTURE:
            if depth >= self.max_depth:
                _fail(f"structures nested deeper than {self.max_depth}", off, tag, SPEC_TTLV, UnsafeInput)
            children = []
            pos = vo
            me = (off, tag)
            while pos < end:
                child, pos = self.item(pos, end, me, depth + 1)
                children.append(child)
            return _trusted_item(tag, t, tuple(children)), end
        if code == _INTEGER or code == _ENUM or code == _INTERVAL:
            value, pad = (_I32_PAD if code == _INTEGER else _U32_PAD).unpack_from(buf, vo)
            if pad and self.strict:
                _fail(f"{t.xml_name} padding bytes must be zero", vo + 4, tag, SPEC_PADDING)
        elif code == _LONG or code == _DT or code == _DTE:
            value = _I64.unpack_from(buf, vo)[0]
        elif code == _BOOL:
            raw = _U64.unpack_from(buf, vo)[0]
            if raw > 1:
                _fail("Boolean value must be 0 or 1", vo, tag, SPEC_VALUE)
            value = raw == 1
        else:
            value = self._variable(code, vo, length, end, tag)
        return _trusted_item(tag, t, value), end

    def _variable(self, code: int, vo: int, length: int, end: int, tag: int) -> object:
        """Big Integer, Text String, Byte String."""
        buf = self.buf
        raw = buf[vo : vo + length]
        if code == _BIG:
            value = int.from_bytes(raw, "big", signed=True)
            if self.strict and (length == 0 or len(big_integer_bytes(value)) != length):
                _fail(
                    f"Big Integer of {length} bytes is not minimally sign-extended "
                    f"({len(big_integer_bytes(value))} bytes needed)",
                    vo,
                    tag,
                    SPEC_VALUE,
                )
            return value
        if self.strict and end > vo + length and buf.count(0, vo + length, end) != end - vo - length:
            first = next(i for i in range(vo + length, end) if buf[i])
            name = "Text String" if code == _TEXT else "Byte String"
            _fail(f"{name} padding bytes must be zero", first, tag, SPEC_PADDING)
        if code == _BYTES:
            return raw
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            _fail(f"Text String is not valid UTF-8 ({exc.reason})", vo + exc.start, tag, SPEC_VALUE)
        if self.strict and text.endswith("\x00"):
            _fail("Text String is null-terminated", vo + length - 1, tag, SPEC_VALUE)
        return text
