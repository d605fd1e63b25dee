"""Text forms of TTLV values shared by the XML and JSON encodings.

Rules: KMIP Profiles 2.1 §5.4.1.2 (hex) and §5.4.1.6.x (XML values); KMIP Additional
Message Encodings 1.0 §4.1.1 and §4.1.6.x (JSON values).  Readings we chose:

* hex numbers ("0x..."): "must include all leading zeros"; we also accept fewer digits
  (zero-extended), because the spec's own mask example writes "0x0000008";
* fractional seconds of a date-time are dropped (JSON §4.1.6.11 "should be ignored
  (truncated)"; TTLV cannot carry them, so XML gets the same treatment);
* a JSON date-time without a zone is UTC (the JSON grammar makes the zone optional; XML
  requires one, §5.4.1.6.11);
* date-times are written in UTC as ``YYYY-MM-DDThh:mm:ss+00:00`` (the OASIS test cases'
  style), with the proleptic Gregorian calendar for every 64-bit value.

Parsing failures raise :class:`ValueSyntax` (a ``ValueError``) carrying only the reason;
the XML and JSON readers catch it and raise ``MalformedInput`` naming the location, so it
never leaves this package.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Sequence

from reference.kmip.tags import EnumTable, KmipTables
from reference.kmip.ttlv import Item, ItemType, big_integer_bytes

ATTRIBUTE_NAME = 0x42000A
ATTRIBUTE_VALUE = 0x42000B


class ValueSyntax(ValueError):
    """A value text that does not follow its type's rules (internal; see module doc)."""


# ----------------------------------------------------------------------------- numbers
_DECIMAL = re.compile(r"[+-]?[0-9]+")
_HEX_NUMBER = re.compile(r"0x([0-9A-Fa-f]+)")


def is_decimal(text: str) -> bool:
    return _DECIMAL.fullmatch(text.strip()) is not None


def parse_decimal(text: str, low: int, high: int) -> int:
    t = text.strip()
    if not _DECIMAL.fullmatch(t):
        raise ValueSyntax(f"{text!r} is not a decimal integer")
    value = int(t)
    if not low <= value <= high:
        raise ValueSyntax(f"{value} out of range {low}..{high}")
    return value


def parse_hex_number(text: str, width: int, signed: bool) -> int:
    """``0x`` + up to ``width`` bytes of big-endian hex; two's complement when ``signed``."""
    m = _HEX_NUMBER.fullmatch(text.strip())
    if not m or len(m.group(1)) > 2 * width:
        raise ValueSyntax(f"{text!r} is not a 0x hex number of at most {2 * width} digits")
    value = int(m.group(1), 16)
    if signed and value >= 1 << (8 * width - 1):
        value -= 1 << (8 * width)
    return value


def format_hex_number(value: int, width: int) -> str:
    return f"0x{value & ((1 << (8 * width)) - 1):0{2 * width}x}"


def parse_hex_bytes(text: str) -> bytes:
    """xsd:hexBinary (no 0x prefix, any length, either case)."""
    t = text.strip()
    if len(t) % 2 or not re.fullmatch(r"[0-9A-Fa-f]*", t):
        raise ValueSyntax("not an even number of hex digits")
    return bytes.fromhex(t)


def big_integer_from_bytes(raw: bytes) -> int:
    if not raw:
        raise ValueSyntax("a Big Integer needs at least one byte")
    return int.from_bytes(raw, "big", signed=True)


def big_integer_hex(value: int) -> str:
    """Two's complement, sign-extended to a multiple of 8 bytes (§5.4.1.2), no prefix."""
    return big_integer_bytes(value).hex()


# ----------------------------------------------------------------------------- date-time
_DATETIME = re.compile(
    r"(-?)([0-9]{4,})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?"
)


def _days_from_civil(y: int, m: int, d: int) -> int:
    # H. Hinnant's days_from_civil: exact for every proleptic Gregorian date.
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(z: int) -> tuple[int, int, int]:
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (m <= 2), m, d


def _month_days(y: int, m: int) -> int:
    if m == 2:
        return 29 if y % 4 == 0 and (y % 100 != 0 or y % 400 == 0) else 28
    return 30 if m in (4, 6, 9, 11) else 31


def parse_datetime(text: str, *, require_zone: bool) -> int:
    """xsd:dateTime -> POSIX seconds (fraction truncated)."""
    m = _DATETIME.fullmatch(text.strip())
    if not m:
        raise ValueSyntax(f"{text!r} is not an xsd:dateTime")
    sign, y, mo, d, hh, mi, ss, _fraction, zone = m.groups()
    year = -int(y) if sign else int(y)
    month, day, hour, minute, second = int(mo), int(d), int(hh), int(mi), int(ss)
    if not 1 <= month <= 12 or not 1 <= day <= _month_days(year, month):
        raise ValueSyntax(f"{text!r}: no such date")
    if hour > 23 or minute > 59 or second > 59:  # POSIX time has no leap second
        raise ValueSyntax(f"{text!r}: no such time of day")
    if zone is None:
        if require_zone:
            raise ValueSyntax(f"{text!r} has no time zone (required)")
        offset = 0
    elif zone == "Z":
        offset = 0
    else:
        zh, zm = int(zone[1:3]), int(zone[4:6])
        if zh > 14 or zm > 59 or (zh == 14 and zm):
            raise ValueSyntax(f"{text!r}: time zone out of range")
        offset = (zh * 3600 + zm * 60) * (-1 if zone[0] == "-" else 1)
    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset
    if not -(2**63) <= seconds < 2**63:
        raise ValueSyntax(f"{text!r} is outside the 64-bit Date-Time range")
    return seconds


def format_datetime(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    y, m, d = _civil_from_days(days)
    year = f"-{-y:04d}" if y < 0 else f"{y:04d}"
    return f"{year}-{m:02d}-{d:02d}T{rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}+00:00"


# ----------------------------------------------------------------------------- enumerations
def parse_enumeration(text: str, table: EnumTable | None) -> int:
    """CamelCase name from ``table`` or ``0x`` hex (§5.4.1.6.7: hex always accepted)."""
    t = text.strip()
    if t.startswith("0x"):
        return parse_hex_number(t, 4, signed=False)
    entry = table.by_xml_name(t) if table is not None else None
    if entry is None:
        where = f"the {table.name} enumeration" if table is not None else "any enumeration known for this tag"
        raise ValueSyntax(f"{t!r} is not a value of {where}")
    return entry.value


def format_enumeration(value: int, table: EnumTable | None) -> str:
    entry = table.by_value(value) if table is not None else None
    return entry.xml_name if entry is not None else format_hex_number(value, 4)


def parse_mask(text: str, table: EnumTable, separator: str | None) -> int:
    """Mask components (names or 32-bit hex) joined by ``separator`` (None: whitespace).

    Returns the signed 32-bit Integer value the components OR together.
    """
    parts = text.split(separator) if separator else text.split()
    if not parts or any(not p.strip() for p in parts):
        raise ValueSyntax(f"{text!r}: empty mask component")
    bits = 0
    for part in parts:
        p = part.strip()
        if p.startswith("0x"):
            bits |= parse_hex_number(p, 4, signed=False)
            continue
        entry = table.by_xml_name(p)
        if entry is None:
            raise ValueSyntax(f"{p!r} is not a bit of the {table.name}")
        bits |= entry.value
    return bits - (1 << 32) if bits >= 1 << 31 else bits


def format_mask(value: int, table: EnumTable, separator: str) -> str | None:
    """Names of the set bits (ascending), unknown bits as one 0x word; None for 0."""
    bits = value & 0xFFFFFFFF
    if bits == 0:
        return None
    names = []
    for entry in sorted(table.values, key=lambda e: e.value):
        if entry.value and bits & entry.value == entry.value:
            names.append(entry.xml_name)
            bits &= ~entry.value
    if bits:
        names.append(format_hex_number(bits, 4))
    return separator.join(names)


# ----------------------------------------------------------------------------- context
def attribute_name_hint(tables: KmipTables, children: Sequence[Any], name_of: Callable[[Any], str | None]) -> int | None:
    """Tag named by a sibling Attribute Name, for the enumeration/mask of Attribute Value.

    KMIP 1.x carries attributes as Attribute{Attribute Name "Cryptographic Algorithm",
    Attribute Value <Enumeration>}: the value's table is the one of the named tag.
    ``name_of(child)`` returns the Attribute Name text of a child or None.
    """
    for child in children:
        name = name_of(child)
        if name is not None:
            info = tables.tag_by_name(name)
            return info.value if info is not None else None
    return None


def attribute_name_of_item(item: Item) -> str | None:
    """The text of an Attribute Name item (else None): the hint source when writing."""
    if item.tag == ATTRIBUTE_NAME and item.type is ItemType.TEXT_STRING and isinstance(item.value, str):
        return item.value
    return None


def value_tables(tables: KmipTables, tag: int, hint: int | None) -> tuple[EnumTable | None, EnumTable | None]:
    """(enumeration, mask) tables for an item with ``tag`` (Attribute Value: the hinted tag)."""
    effective = hint if tag == ATTRIBUTE_VALUE and hint is not None else tag
    return tables.enumeration_for_tag(effective), tables.mask_for_tag(effective)
