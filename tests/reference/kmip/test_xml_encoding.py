"""reference/kmip/xml_encoding.py against the examples of KMIP Profiles 2.1 §5.4.1.6 and
addtl-msg-enc 1.0 §6.1.6, plus refusals and an XML round-trip property."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.errors import InputError, MalformedInput, UnsafeInput
from reference.kmip.placeholders import Placeholder
from reference.kmip.tags import tables_for
from reference.kmip.textforms import format_datetime, parse_datetime
from reference.kmip.ttlv import Item, ItemType, encode
from reference.kmip.xml_encoding import from_xml, to_xml, to_xml_element, value_text

# 2001-01-01T10:00:00+10:00 is midnight UTC.
ACTIVATION = calendar.timegm((2001, 1, 1, 0, 0, 0, 0, 0, 0))
ACTIVATION_DATE = 0x420001


@pytest.mark.parametrize(
    "xml",
    [  # §5.4.1.6: the general form (with and without name), the specific form, a namespace
        '<TTLV tag="0x420001" name="ActivationDate" type="DateTime" value="2001-01-01T10:00:00+10:00"/>',
        '<TTLV tag="0x420001" type="DateTime" value="2001-01-01T10:00:00+10:00"/>',
        '<ActivationDate type="DateTime" value="2001-01-01T10:00:00+10:00"/>',
        '<ActivationDate xmlns="urn:oasis:tc:kmip:xmlns" type="DateTime" value="2001-01-01T10:00:00+10:00"/>',
        '<TTLV tag="ActivationDate" type="DateTime" value="2001-01-01T00:00:00Z"/>',
    ],
)
def test_element_forms_of_the_profile(xml: str) -> None:
    assert from_xml(xml) == Item.date_time(ACTIVATION_DATE, ACTIVATION)


def test_extension_tag_general_form_round_trips() -> None:
    item = from_xml('<TTLV tag="0x54FFFF" name="SomeExtension" type="DateTime" value="2001-01-01T10:00:00+10:00"/>')
    assert item == Item.date_time(0x54FFFF, ACTIVATION)
    assert to_xml(item).strip() == '<TTLV tag="0x54FFFF" type="DateTime" value="2001-01-01T00:00:00+00:00"/>'
    assert from_xml('<x540001 type="LongInteger" value="-2"/>') == Item.long_integer(0x540001, -2)


def test_structure_type_is_optional() -> None:
    with_type = from_xml(
        '<ProtocolVersion type="Structure"><ProtocolVersionMajor type="Integer" value="1"/>'
        '<ProtocolVersionMinor type="Integer" value="0"/></ProtocolVersion>'
    )
    without = from_xml(
        "<ProtocolVersion>\n  <ProtocolVersionMajor type=\"Integer\" value=\"1\"/>\n"
        "  <ProtocolVersionMinor type=\"Integer\" value=\"0\"/>\n</ProtocolVersion>"
    )
    # 0x420069/6A/6B as in the addtl-msg-enc Query hex (42006901.., 42006a02.., 42006b02..)
    assert with_type == without == Item.structure(0x420069, [Item.integer(0x42006A, 1), Item.integer(0x42006B, 0)])
    assert from_xml('<PrivateKeyTemplateAttribute type="Structure"/>', version="1.4").items == ()


@pytest.mark.parametrize(
    "value",
    [  # §5.4.1.6.4: all four spellings of Encrypt(4) | Decrypt(8) | Certificate Sign(0x1000)
        "0x0000100c",
        "Encrypt Decrypt CertificateSign",
        "CertificateSign 0x00000004 0x0000008",
        "CertificateSign 0x0000000c",
        "4108",
    ],
)
def test_cryptographic_usage_mask_spellings(value: str) -> None:
    item = from_xml(f'<CryptographicUsageMask type="Integer" value="{value}"/>')
    assert item == Item.integer(_tag("CryptographicUsageMask"), 0x100C)
    assert value_text(item) == "Encrypt Decrypt CertificateSign"


def _tag(xml_name: str) -> int:
    # Tag values come from the shipped tables (checked against the spec TSVs and PyKMIP in
    # test_tags.py); these tests are about the value text.
    return tables_for("2.1").tag_by_xml_name(xml_name).value


@pytest.mark.parametrize(
    "xml,name,item_type,value",
    [
        ('<BatchCount type="Integer" value="10"/>', "BatchCount", ItemType.INTEGER, 10),
        ('<UsageLimitsCount type="LongInteger" value="1152921504606846976"/>', "UsageLimitsCount", ItemType.LONG_INTEGER, 2**60),
        ('<X type="BigInteger" value="0000000000000000"/>', "X", ItemType.BIG_INTEGER, 0),
        ('<ObjectType type="Enumeration" value="0x00000002"/>', "ObjectType", ItemType.ENUMERATION, 2),
        ('<ObjectType type="Enumeration" value="SymmetricKey"/>', "ObjectType", ItemType.ENUMERATION, 2),
        ('<BatchOrderOption type="Boolean" value="true"/>', "BatchOrderOption", ItemType.BOOLEAN, True),
        (
            '<AttributeName type="TextString" value="Cryptographic Algorithm"/>',
            "AttributeName",
            ItemType.TEXT_STRING,
            "Cryptographic Algorithm",
        ),
        ('<MACSignature type="ByteString" value="C50F77"/>', "MACSignature", ItemType.BYTE_STRING, b"\xc5\x0f\x77"),
        ('<IVCounterNonce type="ByteString" value="a1b2c3d4"/>', "IVCounterNonce", ItemType.BYTE_STRING, b"\xa1\xb2\xc3\xd4"),
        ('<ArchiveDate type="DateTime" value="2001-01-01T10:00:00+10:00"/>', "ArchiveDate", ItemType.DATE_TIME, ACTIVATION),
        ('<Offset type="Interval" value="27"/>', "Offset", ItemType.INTERVAL, 27),
    ],
)
def test_value_examples_of_the_profile(xml: str, name: str, item_type: ItemType, value: object) -> None:
    assert from_xml(xml) == Item(_tag(name), item_type, value)


@pytest.mark.parametrize(
    "xml,value",
    [('<x540001 type="DateTimeExtended" value="2"/>', 2), ('<X540001 type="DateTimeExtended" value="1152921504606846976"/>', 2**60)],
)
def test_hex_element_names_of_the_profile(xml: str, value: int) -> None:
    assert from_xml(xml) == Item.date_time_extended(0x540001, value)


def test_attribute_value_uses_the_table_of_the_attribute_name() -> None:
    xml = """<Attribute>
      <AttributeName type="TextString" value="Cryptographic Algorithm"/>
      <AttributeValue type="Enumeration" value="AES"/>
    </Attribute>"""
    item = from_xml(xml, version="1.4")
    assert item.items[1] == Item.enumeration(_tag("AttributeValue"), 3)  # 1.4 §9.1.3.2.13: AES = 00000003
    assert 'value="AES"' in to_xml(item, version="1.4")
    mask = from_xml(
        '<Attribute><AttributeName type="TextString" value="Cryptographic Usage Mask"/>'
        '<AttributeValue type="Integer" value="Decrypt Encrypt"/></Attribute>',
        version="1.4",
    )
    assert mask.items[1].value == 12 and 'value="Encrypt Decrypt"' in to_xml(mask, version="1.4")
    vendor = Item.structure(0x420008, [Item.text_string(0x42000A, "x-mine"), Item.enumeration(0x42000B, 3)])
    assert 'value="0x00000003"' in to_xml(vendor, version="1.4")


def test_writer_uses_hex_for_values_without_names() -> None:
    assert value_text(Item.enumeration(0x420057, 0x80000001)) == "0x80000001"
    assert value_text(Item.integer(0x42002C, 0x4 | 0x40000000)) == "Encrypt 0x40000000"
    assert value_text(Item.integer(0x42002C, 0)) == "0"
    assert value_text(Item.integer(0x42002C, -(2**31))) == "0x80000000"
    assert from_xml('<CryptographicUsageMask type="Integer" value="0x80000000"/>').value == -(2**31)
    assert value_text(Item.big_integer(_tag("X"), -1)) == "ffffffffffffffff"
    assert value_text(Item.enumeration(0x420000, 5)) == "0x00000005"  # tag without any table


def test_placeholders_are_values_not_errors() -> None:
    item = from_xml(
        '<ResponseHeader><TimeStamp type="DateTime" value="$NOW-3600"/>'
        '<UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_3"/></ResponseHeader>'
    )
    stamp, uid = item.items
    assert stamp.value == Placeholder("$NOW-3600") and stamp.value.offset == -3600
    assert uid.value.name == "UNIQUE_IDENTIFIER" and uid.value.index == 3
    assert 'value="$NOW-3600"' in to_xml(item)
    with pytest.raises(InputError):
        encode(item)
    literal = from_xml('<UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_3"/>', placeholders=False)
    assert literal.value == "$UNIQUE_IDENTIFIER_3"
    with pytest.raises(MalformedInput):
        from_xml('<TimeStamp type="DateTime" value="$NOW"/>', placeholders=False)


@pytest.mark.parametrize(
    "xml,fragment",
    [
        ('<NoSuchTag type="Integer" value="1"/>', "unknown tag name"),
        ('<TTLV type="Integer" value="1"/>', "without a tag"),
        ('<BatchCount type="Int" value="1"/>', "unknown type"),
        ("<BatchCount type=\"Integer\"/>", "without a value"),
        ('<BatchCount type="Integer" value="2147483648"/>', "out of range"),
        ('<BatchCount type="Integer" value="0x00000001"/>', "not a decimal"),
        ('<BatchCount type="Integer" value="1" extra="x"/>', "unexpected attribute"),
        ('<BatchCount type="Integer" value="1">1</BatchCount>', "text content"),
        ('<RequestHeader value="1"/>', "no value attribute"),
        ('<BatchCount type="Integer" value="1"><BatchCount type="Integer" value="1"/></BatchCount>', "cannot contain"),
        ('<k:BatchCount xmlns:k="urn:other" type="Integer" value="1"/>', "foreign namespace"),
        ('<ObjectType type="Enumeration" value="Symmetric Key"/>', "not a value of the Object Type"),
        ('<CryptographicUsageMask type="Integer" value="Encrypt Bogus"/>', "Bogus"),
        ('<BatchOrderOption type="Boolean" value="yes"/>', "xsd:boolean"),
        ('<ArchiveDate type="DateTime" value="2001-01-01T10:00:00"/>', "time zone"),
        ('<ArchiveDate type="DateTime" value="2001-02-29T10:00:00Z"/>', "no such date"),
        ('<ArchiveDate type="DateTime" value="2001-01-01T23:59:60Z"/>', "no such time"),
        ('<MACSignature type="ByteString" value="C50F7"/>', "hex"),
        ('<X type="BigInteger" value=""/>', "at least one byte"),
        ('<Offset type="Interval" value="-1"/>', "out of range"),
        ("<BatchCount", "not well-formed"),
    ],
)
def test_malformed_xml_is_refused_with_location(xml: str, fragment: str) -> None:
    with pytest.raises(MalformedInput) as info:
        from_xml(xml)
    assert fragment in info.value.message and info.value.status == "Invalid Message"
    assert info.value.where.startswith("line 1")


def test_date_time_extended_is_not_a_kmip_1_type() -> None:
    with pytest.raises(MalformedInput, match="unknown type"):
        from_xml('<x540001 type="DateTimeExtended" value="2"/>', version="1.4")


def test_doctype_is_refused_before_entities_expand() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<AttributeName type="TextString" value="&b;"/>'
    )
    with pytest.raises(UnsafeInput):
        from_xml(bomb)


def test_text_xml_cannot_carry_is_an_input_error() -> None:
    with pytest.raises(InputError):
        to_xml(Item.text_string(0x42000A, "bell\x07"))


def test_date_time_text_agrees_with_python_datetime() -> None:
    for seconds in (0, -1, 951782400, 253402300799, -62135596800):
        expected = dt.datetime.fromtimestamp(seconds, dt.timezone.utc).isoformat()
        assert format_datetime(seconds) == expected
        assert parse_datetime(expected, require_zone=True) == seconds


@settings(max_examples=200, deadline=None)
@given(st.integers(-62135596800, 253402300799))
def test_date_time_text_property_against_python(seconds: int) -> None:
    text = dt.datetime.fromtimestamp(seconds, dt.timezone.utc).isoformat()
    assert format_datetime(seconds) == text and parse_datetime(text, require_zone=True) == seconds


@settings(max_examples=100, deadline=None)
@given(st.integers(-(2**63), 2**63 - 1))
def test_date_time_text_covers_the_64_bit_range(seconds: int) -> None:
    assert parse_datetime(format_datetime(seconds), require_zone=True) == seconds


# Known tags so the writer uses named elements; any tag works via <TTLV>.
_TAGS = st.sampled_from([0x42000D, 0x420057, 0x42002C, 0x42000A, 0x420005, _tag("X"), 0x540001, 0x420000, 0x42000B])
_XML_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufffe\uffff", min_codepoint=0x9)
    .filter(lambda c: c in "\t\n\r" or ord(c) >= 0x20),
    max_size=12,
)
_LEAF = st.one_of(
    st.builds(Item.integer, _TAGS, st.integers(-(2**31), 2**31 - 1)),
    st.builds(Item.long_integer, _TAGS, st.integers(-(2**63), 2**63 - 1)),
    st.builds(Item.big_integer, _TAGS, st.integers(-(2**130), 2**130)),
    st.builds(Item.enumeration, _TAGS, st.integers(0, 2**32 - 1)),
    st.builds(Item.boolean, _TAGS, st.booleans()),
    st.builds(Item.text_string, _TAGS, _XML_TEXT.filter(lambda s: not s.startswith("$"))),
    st.builds(Item.byte_string, _TAGS, st.binary(max_size=12)),
    st.builds(Item.date_time, _TAGS, st.integers(-(2**63), 2**63 - 1)),
    st.builds(Item.interval, _TAGS, st.integers(0, 2**32 - 1)),
    st.builds(Item.date_time_extended, _TAGS, st.integers(-(2**63), 2**63 - 1)),
)
_TREE = st.recursive(_LEAF, lambda kids: st.builds(Item.structure, _TAGS, st.lists(kids, max_size=4)), max_leaves=10)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TREE, st.sampled_from(["1.4", "2.1"]))
def test_xml_round_trip_property(item: Item, version: str) -> None:
    if version == "1.4" and "DateTimeExtended" in to_xml(item, version="2.1"):
        return  # not a KMIP 1.x type
    assert from_xml(to_xml(item, version=version), version=version) == item


def test_element_helper_returns_lxml_tree() -> None:
    el = to_xml_element(Item.structure(0x420069, [Item.integer(0x42006A, 1)]))
    assert el.tag == "ProtocolVersion" and el[0].get("type") == "Integer" and el.get("type") is None
    assert ItemType.from_xml_name("DateTimeExtended") is ItemType.DATE_TIME_EXTENDED


def test_deep_element_nesting_is_unsafe() -> None:
    xml = "<RequestPayload>" * 200 + "</RequestPayload>" * 200
    with pytest.raises(UnsafeInput):
        from_xml(xml)
