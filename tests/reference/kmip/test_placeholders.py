"""reference/kmip/placeholders.py: the symbolic identifiers of Profiles 2.1 §4 / Test Cases 2.1 §2."""

from __future__ import annotations

import pytest

from harness.errors import InputError
from reference.kmip.placeholders import (
    DUMMY_NOW,
    Placeholder,
    has_placeholders,
    parse_placeholder,
    resolve_placeholders,
    typed_dummy,
)
from reference.kmip.ttlv import Item, ItemType, decode, encode


@pytest.mark.parametrize(
    "text,name,index,offset",
    [
        ("$NOW", "NOW", None, 0),
        ("$NOW-3600", "NOW", None, -3600),
        ("$NOW+3600", "NOW", None, 3600),
        ("$UNIQUE_IDENTIFIER_0", "UNIQUE_IDENTIFIER", 0, 0),
        ("$UNIQUE_IDENTIFIER_22", "UNIQUE_IDENTIFIER", 22, 0),
        ("$SHORT_UNIQUE_IDENTIFIER_1", "SHORT_UNIQUE_IDENTIFIER", 1, 0),
        ("$IV_COUNTER_NONCE", "IV_COUNTER_NONCE", None, 0),
        ("$DATA_0", "DATA", 0, 0),
        ("$AUTHENTICATED_ENCRYPTION_TAG", "AUTHENTICATED_ENCRYPTION_TAG", None, 0),
    ],
)
def test_placeholder_forms_used_by_the_oasis_files(text: str, name: str, index: int | None, offset: int) -> None:
    ph = parse_placeholder(text)
    assert ph == Placeholder(text) and (ph.name, ph.index, ph.offset) == (name, index, offset)
    assert str(ph) == text


@pytest.mark.parametrize("text", ["NOW", "$now", "$", "$NOW-", "$1ABC", "x$NOW", "$NOW 1", "$NOW-3600x"])
def test_ordinary_values_are_not_placeholders(text: str) -> None:
    assert parse_placeholder(text) is None
    with pytest.raises(InputError):
        Placeholder(text)


def test_resolve_and_dummies() -> None:
    message = Item.structure(
        0x42007B,
        [
            Item(0x420092, ItemType.DATE_TIME, Placeholder("$NOW-3600")),
            Item(0x420094, ItemType.TEXT_STRING, Placeholder("$UNIQUE_IDENTIFIER_0")),
            Item(0x420043, ItemType.BYTE_STRING, Placeholder("$KEY_MATERIAL_0")),
            Item.integer(0x42000D, 1),
        ],
    )
    assert has_placeholders(message)
    resolved = resolve_placeholders(message, typed_dummy)
    assert not has_placeholders(resolved)
    stamp, uid, key, count = resolved.items
    assert stamp.value == DUMMY_NOW - 3600 and uid.value == "unique-identifier-0"
    assert isinstance(key.value, bytes) and len(key.value) == 16 and count == message.items[3]
    assert decode(encode(resolved)) == resolved
    # Same placeholder, same dummy: cross references inside a test case stay consistent.
    assert typed_dummy(Placeholder("$DATA_1"), ItemType.BYTE_STRING) == typed_dummy(Placeholder("$DATA_1"), ItemType.BYTE_STRING)
    with pytest.raises(InputError):
        typed_dummy(Placeholder("$X"), ItemType.STRUCTURE)


def test_resolve_keeps_untouched_items_identical() -> None:
    plain = Item.structure(0x420078, [Item.integer(0x42000D, 1)])
    assert resolve_placeholders(plain, typed_dummy) is plain
