"""Our TTLV bytes against PyKMIP's encoder (pip package pykmip, kmip.core.*), an independent
implementation: every leaf value of every OASIS message through PyKMIP's primitives, and
whole KMIP 1.4 messages through PyKMIP's message classes."""

from __future__ import annotations

import enum
import logging
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.kmip.placeholders import resolve_placeholders, typed_dummy
from reference.kmip.testcases import OasisCase, REQUEST_MESSAGE
from reference.kmip.ttlv import Item, ItemType, encode

primitives = pytest.importorskip("kmip.core.primitives")
utils = pytest.importorskip("kmip.core.utils")
kmip_enums = pytest.importorskip("kmip.core.enums")
kmip_messages = pytest.importorskip("kmip.core.messages.messages")


def pykmip_leaf(item: Item) -> bytes:
    """The TTLV PyKMIP's primitive class writes for a non-structure ``item``."""
    tag = SimpleNamespace(value=item.tag)  # PyKMIP only reads tag.value when writing
    t, v = item.type, item.value
    if t is ItemType.INTEGER:
        obj = primitives.Integer(v, tag=tag)
    elif t is ItemType.LONG_INTEGER:
        obj = primitives.LongInteger(v, tag=tag)
    elif t is ItemType.BIG_INTEGER:
        obj = primitives.BigInteger(v, tag=tag)
    elif t is ItemType.ENUMERATION:
        members = enum.Enum("Values", {"V": v})
        obj = primitives.Enumeration(members, members.V, tag=tag)
    elif t is ItemType.BOOLEAN:
        obj = primitives.Boolean(v, tag=tag)
    elif t is ItemType.TEXT_STRING:
        obj = primitives.TextString(v, tag=tag)
    elif t is ItemType.BYTE_STRING:
        obj = primitives.ByteString(v, tag=tag)
    elif t is ItemType.DATE_TIME:
        obj = primitives.DateTime(v, tag=tag)
    elif t is ItemType.INTERVAL:
        obj = primitives.Interval(v, tag=tag)
    else:  # pragma: no cover - PyKMIP has no Date-Time Extended
        raise AssertionError(t)
    out = utils.BytearrayStream()
    obj.write(out)
    return bytes(out.buffer)


def _leaves(item: Item):
    if item.type is ItemType.STRUCTURE:
        for child in item.items:
            yield from _leaves(child)
    else:
        yield item


def test_every_oasis_leaf_value_encodes_like_pykmip(oasis_cases: list[OasisCase]) -> None:
    leaves = {
        leaf
        for case in oasis_cases
        for x in case.exchanges
        for message in (x.request, x.response)
        for leaf in _leaves(resolve_placeholders(message, typed_dummy))
    }
    kinds = {leaf.type for leaf in leaves}
    assert kinds == set(ItemType) - {ItemType.STRUCTURE, ItemType.DATE_TIME_EXTENDED}  # all PyKMIP has
    for leaf in leaves:
        assert encode(leaf) == pykmip_leaf(leaf), leaf


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.builds(Item.integer, st.just(0x420020), st.integers(-(2**31), 2**31 - 1)),
        st.builds(Item.long_integer, st.just(0x420020), st.integers(-(2**63), 2**63 - 1)),
        # PyKMIP writes -2**(64k-1) with 8 redundant 0xFF bytes (not minimal, §9.1.1.4): excluded.
        st.builds(
            Item.big_integer,
            st.just(0x420020),
            st.integers(-(2**300), 2**300).filter(lambda v: v >= 0 or (-v) & (-v - 1) or (-v).bit_length() % 64 != 0),
        ),
        st.builds(Item.enumeration, st.just(0x420020), st.integers(0, 2**32 - 1)),
        st.builds(Item.boolean, st.just(0x420020), st.booleans()),
        # PyKMIP's TextString counts characters, not UTF-8 bytes, and fails on non-ASCII: ASCII only.
        st.builds(Item.text_string, st.just(0x420020), st.text(alphabet=st.characters(max_codepoint=0x7E, min_codepoint=0x20))),
        st.builds(Item.byte_string, st.just(0x420020), st.binary(max_size=40)),
        st.builds(Item.date_time, st.just(0x420020), st.integers(-(2**63), 2**63 - 1)),
        st.builds(Item.interval, st.just(0x420020), st.integers(0, 2**32 - 1)),
    )
)
def test_random_values_encode_like_pykmip(item: Item) -> None:
    assert encode(item) == pykmip_leaf(item)


def test_whole_messages_encode_like_pykmip(oasis_cases: list[OasisCase]) -> None:
    """PyKMIP reads our bytes into its message classes and writes them back: same bytes.

    Two PyKMIP 0.11 defects make its re-encoding differ for some messages, so those are
    left out of the comparison (and counted): a Text String whose UTF-8 length is a
    nonzero multiple of 8 gets 8 extra padding bytes once read (TextString.read_value
    computes padding 8 - len % 8 without reducing 8 to 0), and custom attributes
    ("x-..." Attribute Names) are written with tag 0x000000.  Messages PyKMIP cannot read
    at all (operations it lacks) are counted too.
    """
    logging.getLogger("kmip").setLevel(logging.CRITICAL)
    version = kmip_enums.KMIPVersion.KMIP_1_4
    same = unreadable = excluded = 0
    for case in (c for c in oasis_cases if c.version == (1, 4)):
        for x in case.exchanges:
            for message in (x.request, x.response):
                resolved = resolve_placeholders(message, typed_dummy)
                if _hits_pykmip_defect(resolved):
                    excluded += 1
                    continue
                ours = encode(resolved)
                theirs = kmip_messages.RequestMessage() if message.tag == REQUEST_MESSAGE else kmip_messages.ResponseMessage()
                try:
                    theirs.read(utils.BytearrayStream(ours), kmip_version=version)
                    out = utils.BytearrayStream()
                    theirs.write(out, kmip_version=version)
                except Exception:  # noqa: BLE001 - PyKMIP lacks the operation / attribute
                    unreadable += 1
                    continue
                assert bytes(out.buffer) == ours, f"{case.name} #{x.index}"
                same += 1
    assert same >= 700, (same, unreadable, excluded)  # 765 of 942 at the time of writing


def test_pykmip_text_string_padding_defect_is_real() -> None:
    """Guards the exclusion above: if PyKMIP is fixed, widen the comparison again."""
    data = encode(Item.text_string(0x42000A, "12345678"))
    theirs = primitives.TextString(tag=kmip_enums.Tags.ATTRIBUTE_NAME)
    theirs.read(utils.BytearrayStream(data))
    out = utils.BytearrayStream()
    theirs.write(out)
    assert bytes(out.buffer) == data + bytes(8)


def _hits_pykmip_defect(item: Item) -> bool:
    if item.type is ItemType.TEXT_STRING and isinstance(item.value, str):
        size = len(item.value.encode("utf-8"))
        if size and size % 8 == 0:
            return True
        if item.tag == 0x42000A and item.value.startswith(("x-", "y-")):
            return True
    return any(_hits_pykmip_defect(child) for child in item.items)
