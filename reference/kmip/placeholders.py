"""Symbolic identifiers of the OASIS KMIP test cases ($NOW, $UNIQUE_IDENTIFIER_0, ...).

KMIP Profiles 2.1 §4 / Test Cases 2.1 §2: "Symbolic identifiers are of the form
$UPPERCASE_NAME followed by optional unique index value ... Time values can be specified
in terms of an offset from the current time in seconds of the form $NOW or $NOW-n or
$NOW+n."  The XML / JSON readers turn such a value into a :class:`Placeholder` (not an
error) so a runner can bind and substitute it later; TTLV cannot carry one, so
:func:`reference.kmip.ttlv.encode` refuses items that still hold placeholders.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from harness.errors import InputError

if TYPE_CHECKING:  # pragma: no cover - import only for type hints (avoids a cycle)
    from reference.kmip.ttlv import Item, ItemType

# Non-greedy name so that a trailing "_<digits>" becomes the index ("$DATA_0" -> DATA, 0).
_PLACEHOLDER_RE = re.compile(r"\$([A-Z][A-Z0-9_]*?)(?:_([0-9]+))?([+-][0-9]+)?")


@dataclass(frozen=True, slots=True)
class Placeholder:
    """A symbolic value as written in a test case, e.g. ``$NOW-3600``."""

    text: str

    def __post_init__(self) -> None:
        if _PLACEHOLDER_RE.fullmatch(self.text) is None:
            raise InputError(f"not a KMIP test-case placeholder: {self.text!r}")

    @property
    def name(self) -> str:
        """The symbol without index or offset: ``UNIQUE_IDENTIFIER`` for ``$UNIQUE_IDENTIFIER_3``."""
        return _PLACEHOLDER_RE.fullmatch(self.text).group(1)  # type: ignore[union-attr]

    @property
    def index(self) -> int | None:
        m = _PLACEHOLDER_RE.fullmatch(self.text)
        return int(m.group(2)) if m and m.group(2) is not None else None  # type: ignore[union-attr]

    @property
    def offset(self) -> int:
        """Seconds added to the time for ``$NOW+n`` / ``$NOW-n`` (0 otherwise)."""
        m = _PLACEHOLDER_RE.fullmatch(self.text)
        return int(m.group(3)) if m and m.group(3) is not None else 0  # type: ignore[union-attr]

    def __str__(self) -> str:
        return self.text


def parse_placeholder(text: str) -> Placeholder | None:
    """The placeholder ``text`` spells, or None when it is an ordinary value."""
    if text.startswith("$") and _PLACEHOLDER_RE.fullmatch(text):
        return Placeholder(text)
    return None


Resolver = Callable[[Placeholder, "ItemType", int], object]


def has_placeholders(item: Item) -> bool:
    """True when ``item`` or any item nested in it still holds a placeholder."""
    from reference.kmip.ttlv import ItemType

    if item.type is ItemType.STRUCTURE:
        return any(has_placeholders(child) for child in item.value)
    return isinstance(item.value, Placeholder)


def resolve_placeholders(item: Item, resolve: Resolver) -> Item:
    """A copy of ``item`` with every placeholder replaced by ``resolve(ph, type, tag)``."""
    from reference.kmip.ttlv import Item, ItemType

    if item.type is ItemType.STRUCTURE:
        children = tuple(resolve_placeholders(child, resolve) for child in item.value)
        return item if children == item.value else Item(item.tag, item.type, children)
    if isinstance(item.value, Placeholder):
        return Item(item.tag, item.type, resolve(item.value, item.type, item.tag))
    return item


# 2020-01-01T00:00:00Z: a fixed "now" so dummy substitution is reproducible.
DUMMY_NOW = 1_577_836_800


def typed_dummy(ph: Placeholder, item_type: ItemType, tag: int = 0, *, now: int = DUMMY_NOW) -> object:
    """A reasonable-looking, deterministic datum of ``item_type`` for ``ph``.

    Same placeholder -> same value, so cross references inside one test case stay
    consistent.  Byte strings are 16 bytes derived from the placeholder text.
    """
    from reference.kmip.ttlv import ItemType

    if item_type in (ItemType.DATE_TIME,):
        return now + ph.offset
    if item_type is ItemType.DATE_TIME_EXTENDED:
        return (now + ph.offset) * 1_000_000
    if item_type is ItemType.TEXT_STRING:
        return ph.text[1:].lower().replace("_", "-")
    digest = hashlib.sha256(ph.text.encode("ascii")).digest()
    if item_type is ItemType.BYTE_STRING:
        return digest[:16]
    if item_type is ItemType.BOOLEAN:
        return True
    if item_type in (ItemType.INTEGER, ItemType.ENUMERATION, ItemType.INTERVAL):
        return int.from_bytes(digest[:2], "big") + 1
    if item_type in (ItemType.LONG_INTEGER, ItemType.BIG_INTEGER):
        return int.from_bytes(digest[:6], "big") + 1
    raise InputError(f"no dummy value for a placeholder of type {item_type.name}")
