"""reference/kmip/ttlv.py: the byte examples of KMIP 1.4 §9.1.2, strict decoding errors,
and properties (round trip; truncation and corruption never escape as another exception)."""

from __future__ import annotations

import calendar
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.errors import InputError, MalformedInput, UnsafeInput
from reference.kmip.placeholders import Placeholder
from reference.kmip.ttlv import Item, ItemType, decode, encode, item_length

T = 0x420020  # the tag every §9.1.2 example uses


def h(text: str) -> bytes:
    """Bytes from the spec's "42 00 20 | 02 | ..." notation."""
    return bytes.fromhex(text.replace("|", " "))


# KMIP 1.4 §9.1.2 Examples, verbatim byte strings; the values as the prose states them.
SPEC_EXAMPLES = [
    ("Integer 8", Item.integer(T, 8), "42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00"),
    (
        "Long Integer 123456789000000000",
        Item.long_integer(T, 123456789000000000),
        "42 00 20 | 03 | 00 00 00 08 | 01 B6 9B 4B A5 74 92 00",
    ),
    (
        "Big Integer 1234567890000000000000000000",
        Item.big_integer(T, 1234567890000000000000000000),
        "42 00 20 | 04 | 00 00 00 10 | 00 00 00 00 03 FD 35 EB 6B C2 DF 46 18 08 00 00",
    ),
    ("Enumeration 255", Item.enumeration(T, 255), "42 00 20 | 05 | 00 00 00 04 | 00 00 00 FF 00 00 00 00"),
    ("Boolean True", Item.boolean(T, True), "42 00 20 | 06 | 00 00 00 08 | 00 00 00 00 00 00 00 01"),
    (
        "Text String Hello World",
        Item.text_string(T, "Hello World"),
        "42 00 20 | 07 | 00 00 00 0B | 48 65 6C 6C 6F 20 57 6F 72 6C 64 00 00 00 00 00",
    ),
    ("Byte String 010203", Item.byte_string(T, b"\x01\x02\x03"), "42 00 20 | 08 | 00 00 00 03 | 01 02 03 00 00 00 00 00"),
    (
        "Date-Time Friday, March 14, 2008, 11:56:40 GMT",
        Item.date_time(T, calendar.timegm((2008, 3, 14, 11, 56, 40, 0, 0, 0))),
        "42 00 20 | 09 | 00 00 00 08 | 00 00 00 00 47 DA 67 F8",
    ),
    ("Interval 10 days", Item.interval(T, 10 * 24 * 3600), "42 00 20 | 0A | 00 00 00 04 | 00 0D 2F 00 00 00 00 00"),
    (
        "Structure {Enumeration 254, Integer 255}",
        Item.structure(T, [Item.enumeration(0x420004, 254), Item.integer(0x420005, 255)]),
        "42 00 20 | 01 | 00 00 00 20 | 42 00 04 | 05 | 00 00 00 04 | 00 00 00 FE 00 00 00 00 | "
        "42 00 05 | 02 | 00 00 00 04 | 00 00 00 FF 00 00 00 00",
    ),
]


@pytest.mark.parametrize("label,item,spec_hex", SPEC_EXAMPLES, ids=[e[0] for e in SPEC_EXAMPLES])
def test_spec_example_encodes_to_spec_bytes(label: str, item: Item, spec_hex: str) -> None:
    assert encode(item) == h(spec_hex)


@pytest.mark.parametrize("label,item,spec_hex", SPEC_EXAMPLES, ids=[e[0] for e in SPEC_EXAMPLES])
def test_spec_example_decodes_to_stated_value(label: str, item: Item, spec_hex: str) -> None:
    assert decode(h(spec_hex)) == item


def test_date_time_extended_is_a_signed_64_bit_microsecond_count() -> None:
    # KMIP 2.1 §10.1.2: eight-byte signed, big-endian; §11.23: micro-seconds.  No byte
    # example in the spec, so the expected bytes are built from that sentence.
    micros = -1_500_000
    data = bytes.fromhex("420020" "0B" "00000008") + struct.pack(">q", micros)
    assert encode(Item.date_time_extended(T, micros)) == data
    assert decode(data, version=(2, 1)) == Item.date_time_extended(T, micros)


@pytest.mark.parametrize(
    "value,spec_bytes",
    [  # two's complement, minimal, sign-extended to 8n bytes (§9.1.1.4), worked by hand
        (0, "0000000000000000"),
        (-1, "ffffffffffffffff"),
        (-128, "ffffffffffffff80"),
        (127, "000000000000007f"),
        (2**63 - 1, "7fffffffffffffff"),
        (2**63, "00000000000000008000000000000000"),
        (-(2**63), "8000000000000000"),
        (-(2**63) - 1, "ffffffffffffffff7fffffffffffffff"),
    ],
)
def test_big_integer_sign_extension(value: int, spec_bytes: str) -> None:
    data = encode(Item.big_integer(T, value))
    assert data[8:] == bytes.fromhex(spec_bytes)
    assert decode(data).value == value


def test_empty_structure_and_strings() -> None:
    assert encode(Item.structure(T)) == h("42 00 20 01 00 00 00 00")
    assert encode(Item.text_string(T, "")) == h("42 00 20 07 00 00 00 00")
    assert decode(h("42 00 20 08 00 00 00 00")) == Item.byte_string(T, b"")


def test_utf8_length_counts_bytes_not_characters() -> None:
    data = encode(Item.text_string(T, "é€"))  # 2 + 3 UTF-8 bytes
    assert data[4:8] == b"\x00\x00\x00\x05" and len(data) == 16
    assert decode(data).value == "é€"


def test_item_length_frames_a_stream() -> None:
    data = encode(SPEC_EXAMPLES[-1][1])
    assert item_length(data[:8]) == len(data) == 40
    assert item_length(encode(Item.text_string(T, "Hello World"))[:8]) == 24


# ----------------------------------------------------------------------------- model
@pytest.mark.parametrize(
    "build",
    [
        lambda: Item.integer(T, 2**31),
        lambda: Item.integer(T, True),
        lambda: Item.enumeration(T, -1),
        lambda: Item.interval(T, 2**32),
        lambda: Item.long_integer(T, 2**63),
        lambda: Item.boolean(T, 1),
        lambda: Item.text_string(T, b"x"),
        lambda: Item.byte_string(T, "x"),
        lambda: Item(T, ItemType.STRUCTURE, (1,)),
        lambda: Item(0x1000000, ItemType.INTEGER, 1),
        lambda: Item(T, 0x0C, 1),
    ],
)
def test_model_refuses_values_its_type_cannot_hold(build) -> None:
    with pytest.raises(InputError):
        build()


def test_model_normalizes_list_and_int_type() -> None:
    item = Item(T, 1, [Item(T, 2, 5)])
    assert item.type is ItemType.STRUCTURE and item.value == (Item.integer(T, 5),)
    assert item.find(T) == Item.integer(T, 5) and item.find_all(T) == (Item.integer(T, 5),)


def test_encode_refuses_unresolved_placeholder_and_surrogates() -> None:
    with pytest.raises(InputError, match=r"\$NOW"):
        encode(Item.structure(T, [Item(0x420092, ItemType.DATE_TIME, Placeholder("$NOW"))]))
    with pytest.raises(InputError, match="UTF-8"):
        encode(Item.text_string(T, "\ud800"))


def test_byte_string_repr_never_shows_the_bytes() -> None:
    secret = bytes.fromhex("00112233445566778899aabbccddeeff")
    assert "0011" not in repr(Item.byte_string(0x420043, secret)).lower()


# ----------------------------------------------------------------------------- errors
def _error(data: bytes, **kwargs) -> MalformedInput:
    with pytest.raises(MalformedInput) as info:
        decode(data, **kwargs)
    err = info.value
    assert err.status == "Invalid Message"  # KMIP 1.4 §11.1 "Message cannot be parsed"
    assert err.spec and err.spec.startswith("KMIP 1.4 §9.1")
    return err


INT_8 = h("42 00 20 02 00 00 00 04 00 00 00 08 00 00 00 00")
HELLO = h("42 00 20 07 00 00 00 0B 48 65 6C 6C 6F 20 57 6F 72 6C 64 00 00 00 00 00")


@pytest.mark.parametrize(
    "type_code,length",
    [(0x02, 8), (0x03, 4), (0x05, 8), (0x06, 4), (0x09, 4), (0x0A, 8), (0x0B, 4), (0x04, 12), (0x01, 12)],
)
def test_bad_length_for_type(type_code: int, length: int) -> None:
    data = bytes.fromhex("420020") + bytes([type_code]) + struct.pack(">I", length) + bytes(16)
    err = _error(data)
    assert err.where == "offset 4 (tag 0x420020)"
    assert "length" in err.message and "§9.1.1.3" in err.spec


def test_nonzero_padding_integer() -> None:
    data = INT_8[:15] + b"\x01"
    err = _error(data)
    assert err.where == "offset 12 (tag 0x420020)" and "padding" in err.message
    assert decode(data, strict=False) == Item.integer(T, 8)


def test_nonzero_padding_text_string_names_first_bad_byte() -> None:
    data = HELLO[:21] + b"\x07" + HELLO[22:]  # 11 value bytes end at 19; pad bytes 19..23
    err = _error(data)
    assert err.where == "offset 21 (tag 0x420020)"
    assert decode(data, strict=False).value == "Hello World"


def test_nonzero_padding_byte_string() -> None:
    data = h("42 00 20 08 00 00 00 03 01 02 03 00 00 00 00 FF")
    assert _error(data).where == "offset 15 (tag 0x420020)"


@pytest.mark.parametrize("code", [0x00, 0x0C, 0xFF])
def test_unknown_type(code: int) -> None:
    data = bytes.fromhex("420020") + bytes([code]) + bytes.fromhex("00000004 00000008 00000000")
    err = _error(data)
    assert err.where == "offset 3 (tag 0x420020)" and "unknown item type" in err.message


def test_date_time_extended_is_unknown_in_kmip_1() -> None:
    data = encode(Item.date_time_extended(T, 1))
    assert "unknown item type 0x0B" in _error(data, version=(1, 4)).message
    assert decode(data, version=(2, 0)).value == 1


@pytest.mark.parametrize("cut", [0, 3, 7, 8, 12, 15])
def test_truncated_input(cut: int) -> None:
    err = _error(INT_8[:cut])
    assert "truncated" in err.message and err.where.startswith("offset 0")


def test_truncated_padding_of_last_string() -> None:
    err = _error(HELLO[:19])  # value complete, padding missing
    assert "truncated" in err.message and "needs 24 bytes, 19 available" in err.message


def test_truncated_structure_reports_the_structure() -> None:
    data = encode(SPEC_EXAMPLES[-1][1])[:-8]
    err = _error(data)
    assert err.where == "offset 0 (tag 0x420020)" and "Structure value needs 40 bytes, 32 available" in err.message


def test_trailing_bytes() -> None:
    err = _error(INT_8 + INT_8)
    assert err.where == "offset 16" and "16 trailing bytes" in err.message


def test_structure_length_mismatch_names_child_and_structure() -> None:
    # Structure claims 8 bytes, its Integer child needs 16.
    data = h("42 00 20 01 00 00 00 08") + INT_8.replace(b"\x42\x00\x20", b"\x42\x00\x04", 1)
    err = _error(data)
    assert err.where == "offset 8 (tag 0x420004)"
    assert "structure length mismatch" in err.message and "offset 0 (tag 0x420020)" in err.message


def test_structure_length_not_multiple_of_8_inside_message() -> None:
    inner = h("42 00 05 01 00 00 00 04 00 00 00 00")
    data = h("42 00 20 01 00 00 00 10") + inner + bytes(4)
    assert _error(data).where == "offset 12 (tag 0x420005)"


@pytest.mark.parametrize("raw,offset", [(b"\xff", 8), (b"ab\xc3", 10), (b"\xed\xa0\x80", 8), (b"\xc0\xaf", 8)])
def test_invalid_utf8(raw: bytes, offset: int) -> None:
    data = bytes.fromhex("42002007") + struct.pack(">I", len(raw)) + raw + bytes(-len(raw) % 8)
    err = _error(data)
    assert "UTF-8" in err.message and err.where == f"offset {offset} (tag 0x420020)"


@pytest.mark.parametrize("raw", [2, 0x0100000000000000, 2**64 - 1])
def test_boolean_not_zero_or_one(raw: int) -> None:
    data = bytes.fromhex("42002006 00000008") + struct.pack(">Q", raw)
    err = _error(data)
    assert "Boolean" in err.message and err.where == "offset 8 (tag 0x420020)"


def test_tag_prefix_must_be_42_or_54_in_strict_mode() -> None:
    data = h("43 00 20") + INT_8[3:]
    assert "0x42" in _error(data).message
    assert decode(data, strict=False) == Item.integer(0x430020, 8)
    assert decode(h("54 00 20") + INT_8[3:]) == Item.integer(0x540020, 8)


def test_big_integer_must_be_minimal_in_strict_mode() -> None:
    data = bytes.fromhex("42002004 00000010") + bytes(15) + b"\x01"
    assert "minimally" in _error(data).message
    assert decode(data, strict=False).value == 1
    assert "minimally" in _error(bytes.fromhex("42002004 00000000")).message


def test_null_terminated_text_string_in_strict_mode() -> None:
    data = bytes.fromhex("42002007 00000003") + b"ab\x00" + bytes(5)
    assert _error(data).where == "offset 10 (tag 0x420020)"
    assert decode(data, strict=False).value == "ab\x00"


def test_nesting_bomb_is_refused_as_unsafe() -> None:
    depth = 100
    data = b""
    for _ in range(depth):
        data = bytes.fromhex("42002001") + struct.pack(">I", len(data)) + data
    with pytest.raises(UnsafeInput) as info:
        decode(data)
    assert info.value.status == "Invalid Message"
    assert len(decode(data, max_depth=depth + 1).items) == 1


# ----------------------------------------------------------------------------- properties
TAGS = st.integers(0x420000, 0x42FFFF) | st.integers(0x540000, 0x54FFFF)
LEAVES = st.one_of(
    st.builds(Item.integer, TAGS, st.integers(-(2**31), 2**31 - 1)),
    st.builds(Item.long_integer, TAGS, st.integers(-(2**63), 2**63 - 1)),
    st.builds(Item.big_integer, TAGS, st.integers(-(2**200), 2**200)),
    st.builds(Item.enumeration, TAGS, st.integers(0, 2**32 - 1)),
    st.builds(Item.boolean, TAGS, st.booleans()),
    st.builds(Item.text_string, TAGS, st.text(max_size=20).filter(lambda s: not s.endswith("\x00"))),
    st.builds(Item.byte_string, TAGS, st.binary(max_size=20)),
    st.builds(Item.date_time, TAGS, st.integers(-(2**63), 2**63 - 1)),
    st.builds(Item.interval, TAGS, st.integers(0, 2**32 - 1)),
    st.builds(Item.date_time_extended, TAGS, st.integers(-(2**63), 2**63 - 1)),
)
TREES = st.recursive(LEAVES, lambda kids: st.builds(Item.structure, TAGS, st.lists(kids, max_size=4)), max_leaves=12)
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(TREES)
def test_round_trip_property(item: Item) -> None:
    data = encode(item)
    assert len(data) % 8 == 0
    assert decode(data) == item
    assert item_length(data[:8]) == len(data)


@FAST
@given(TREES, st.data())
def test_every_truncation_is_malformed(item: Item, data: st.DataObject) -> None:
    raw = encode(item)
    cut = data.draw(st.integers(0, len(raw) - 1))
    with pytest.raises(MalformedInput):
        decode(raw[:cut])


@FAST
@given(TREES, st.data())
def test_corruption_is_malformed_or_a_canonical_message(item: Item, data: st.DataObject) -> None:
    raw = bytearray(encode(item))
    for _ in range(data.draw(st.integers(1, 3))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    try:
        decoded = decode(bytes(raw))
    except MalformedInput:
        return
    # Strict decoding accepts only canonical encodings: what it accepts re-encodes exactly.
    assert encode(decoded) == bytes(raw)


@FAST
@given(st.binary(max_size=64))
def test_random_bytes_never_raise_anything_but_malformed(raw: bytes) -> None:
    try:
        decoded = decode(raw)
    except MalformedInput:
        return
    assert encode(decoded) == raw
