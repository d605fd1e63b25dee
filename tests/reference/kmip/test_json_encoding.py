"""reference/kmip/json_encoding.py against the examples of addtl-msg-enc 1.0 §4.1.6,
plus refusals and a JSON round-trip property."""

from __future__ import annotations

import calendar
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.errors import MalformedInput, UnsafeInput
from reference.kmip.json_encoding import from_json, to_json, to_json_value
from reference.kmip.placeholders import Placeholder
from reference.kmip.tags import tables_for
from reference.kmip.ttlv import Item, ItemType

ACTIVATION = calendar.timegm((2001, 1, 1, 0, 0, 0, 0, 0, 0))  # 2001-01-01T10:00:00+10:00


def _tag(xml_name: str) -> int:
    return tables_for("1.4").tag_by_xml_name(xml_name).value


@pytest.mark.parametrize(
    "text,name,item_type,value",
    [  # §4.1.6.x examples, one per line of the spec
        ('{"tag": "ActivationDate", "type":"DateTime", "value":"2001-01-01T10:00:00+10:00"}', "ActivationDate", ItemType.DATE_TIME, ACTIVATION),
        ('{"tag": "0x420001", "type":"DateTime", "value":"2001-01-01T10:00:00+10:00"}', "ActivationDate", ItemType.DATE_TIME, ACTIVATION),
        ('{"tag": "IVCounterNonce", "type":"ByteString", "value":"a1b2c3d4"}', "IVCounterNonce", ItemType.BYTE_STRING, bytes.fromhex("a1b2c3d4")),
        ('{"tag": "BatchCount", "type":"Integer", "value":10}', "BatchCount", ItemType.INTEGER, 10),
        ('{"tag": "BatchCount", "type":"Integer", "value":"0x0000000A"}', "BatchCount", ItemType.INTEGER, 10),
        ('{"tag": "CryptographicUsageMask", "type":"Integer", "value": "0x0000100c"}', "CryptographicUsageMask", ItemType.INTEGER, 0x100C),
        ('{"tag": "CryptographicUsageMask", "type":"Integer", "value": "Encrypt|Decrypt|CertificateSign"}', "CryptographicUsageMask", ItemType.INTEGER, 0x100C),
        ('{"tag": "CryptographicUsageMask", "type":"Integer", "value": "CertificateSign|0x00000004|0x0000008"}', "CryptographicUsageMask", ItemType.INTEGER, 0x100C),
        ('{"tag": "CryptographicUsageMask", "type":"Integer", "value": "CertificateSign|0x0000000c"}', "CryptographicUsageMask", ItemType.INTEGER, 0x100C),
        ('{"tag": "UsageLimitsCount", "type":"LongInteger", "value":"0x1000000000000000"}', "UsageLimitsCount", ItemType.LONG_INTEGER, 2**60),
        ('{"tag": "X", "type":"BigInteger", "value":0}', "X", ItemType.BIG_INTEGER, 0),
        ('{"tag": "X", "type":"BigInteger", "value":"0x0000000000000000"}', "X", ItemType.BIG_INTEGER, 0),
        ('{"tag": "0x420057", "type":"Enumeration", "value":2}', "ObjectType", ItemType.ENUMERATION, 2),
        ('{"tag": "ObjectType", "type":"Enumeration", "value":"0x00000002"}', "ObjectType", ItemType.ENUMERATION, 2),
        ('{"tag": "ObjectType", "type":"Enumeration", "value":"SymmetricKey"}', "ObjectType", ItemType.ENUMERATION, 2),
        ('{"tag": "BatchOrderOption", "type":"Boolean", "value":true}', "BatchOrderOption", ItemType.BOOLEAN, True),
        ('{"tag": "BatchOrderOption", "type":"Boolean", "value":"0x0000000000000001"}', "BatchOrderOption", ItemType.BOOLEAN, True),
        ('{"tag": "AttributeName", "type":"TextString", "value":"Cryptographic Algorithm"}', "AttributeName", ItemType.TEXT_STRING, "Cryptographic Algorithm"),
        ('{"tag": "MACSignature", "type":"ByteString", "value":"C50F77"}', "MACSignature", ItemType.BYTE_STRING, bytes.fromhex("C50F77")),
        ('{"tag": "ArchiveDate", "type":"DateTime", "value":"0x000000003a505520"}', "ArchiveDate", ItemType.DATE_TIME, 0x3A505520),
        ('{"tag": "ArchiveDate", "type":"DateTime", "value":"2001-01-01T10:00:00+10:00"}', "ArchiveDate", ItemType.DATE_TIME, ACTIVATION),
        ('{"tag": "Offset", "type":"Interval", "value":27}', "Offset", ItemType.INTERVAL, 27),
        ('{"tag": "Offset", "type":"Interval", "value":"0x0000001b"}', "Offset", ItemType.INTERVAL, 27),
        ('{"tag": "PrivateKeyTemplateAttribute", "type":"Structure", "value":[]}', "PrivateKeyTemplateAttribute", ItemType.STRUCTURE, ()),
    ],
)
def test_examples_of_section_4_1_6(text: str, name: str, item_type: ItemType, value: object) -> None:
    assert from_json(text, version="1.4") == Item(_tag(name), item_type, value)


@pytest.mark.parametrize(
    "text,value",
    [
        ('{"tag": "0x540001", "type":"LongInteger", "value":"0xfffffffffffffffe"}', -2),
        ('{"tag": "0x540001", "type":"LongInteger", "value":-2}', -2),
        ('{"tag": "0x54FFFF", "name":"SomeExtension", "type":"Integer", "value":"0x00000001"}', 1),
    ],
)
def test_extension_examples(text: str, value: int) -> None:
    assert from_json(text).value == value


def test_structure_forms_and_null_value() -> None:
    pv = Item.structure(_tag("ProtocolVersion"), [Item.integer(_tag("ProtocolVersionMajor"), 1), Item.integer(_tag("ProtocolVersionMinor"), 0)])
    text = (
        '{"tag": "ProtocolVersion", "value":[{"tag": "ProtocolVersionMajor", "type":"Integer", "value":1},'
        '{"tag": "ProtocolVersionMinor", "type":"Integer", "value":0}]}'
    )
    assert from_json(text) == pv
    assert from_json(text.replace('"value":[', '"type":"Structure", "value":[', 1)) == pv
    assert from_json('{"tag": "RequestPayload", "value": null}').items == ()
    assert to_json_value(pv) == {
        "tag": "ProtocolVersion",
        "value": [
            {"tag": "ProtocolVersionMajor", "type": "Integer", "value": "0x00000001"},
            {"tag": "ProtocolVersionMinor", "type": "Integer", "value": "0x00000000"},
        ],
    }


def test_written_forms() -> None:
    assert to_json_value(Item.integer(_tag("CryptographicUsageMask"), 0x100C))["value"] == "Encrypt|Decrypt|CertificateSign"
    assert to_json_value(Item.integer(_tag("CryptographicUsageMask"), 0))["value"] == "0x00000000"
    assert to_json_value(Item.long_integer(0x540001, -2)) == {"tag": "0x540001", "type": "LongInteger", "value": "0xfffffffffffffffe"}
    assert to_json_value(Item.big_integer(_tag("X"), -1))["value"] == "0xffffffffffffffff"
    assert to_json_value(Item.boolean(_tag("BatchOrderOption"), False))["value"] is False
    assert to_json_value(Item.date_time(_tag("ArchiveDate"), ACTIVATION))["value"] == "2001-01-01T00:00:00+00:00"
    assert to_json_value(Item.enumeration(_tag("ObjectType"), 0x80000001))["value"] == "0x80000001"


def test_placeholders() -> None:
    item = from_json('{"tag":"TimeStamp","type":"DateTime","value":"$NOW"}')
    assert item.value == Placeholder("$NOW")
    assert json.loads(to_json(item))["value"] == "$NOW"
    with pytest.raises(MalformedInput):
        from_json('{"tag":"TimeStamp","type":"DateTime","value":"$NOW"}', placeholders=False)


def test_date_time_without_zone_is_utc_in_json() -> None:
    assert from_json('{"tag":"ArchiveDate","type":"DateTime","value":"2001-01-01T00:00:00"}').value == ACTIVATION
    assert from_json('{"tag":"ArchiveDate","type":"DateTime","value":"2001-01-01T00:00:00.9Z"}').value == ACTIVATION


@pytest.mark.parametrize(
    "text,fragment",
    [
        ('{"tag":"BatchCount","type":"Integer","value":1,"value":2}', "duplicate"),
        ('{"tag":"BatchCount","type":"Integer","value":NaN}', "not JSON"),
        ('{"tag":"BatchCount","type":"Integer","value":1.5}', "integer number"),
        ('{"tag":"BatchCount","type":"Integer","value":true}', "integer number"),
        ('{"tag":"BatchCount","type":"Integer","value":4294967296}', "out of range"),
        ('{"tag":"BatchCount","type":"Integer","value":"0x1ffffffff"}', "at most 8 digits"),
        ('{"tag":"BatchCount","type":"Integer"}', "without a value"),
        ('{"tag":"BatchCount","type":"Integer","value":1,"extra":0}', "unexpected member"),
        ('{"type":"Integer","value":1}', "'tag'"),
        ('{"tag":"Nope","type":"Integer","value":1}', "unknown tag"),
        ('{"tag":"BatchCount","type":"Int","value":1}', "unknown type"),
        ('{"tag":"RequestPayload","value":{}}', "array or null"),
        ('[1]', "JSON object"),
        ('{"tag":"BatchOrderOption","type":"Boolean","value":"0x0000000000000002"}', "Boolean"),
        ('{"tag":"ArchiveDate","type":"DateTime","value":978307200}', "Date-Time"),
        ('{"tag":"ObjectType","type":"Enumeration","value":"Bogus"}', "Bogus"),
        ('{"tag":"MACSignature","type":"ByteString","value":"0xC50F77"}', "hex"),
        ('{"tag":"RequestMessage", "value":[', "not JSON"),
    ],
)
def test_malformed_json_is_refused(text: str, fragment: str) -> None:
    with pytest.raises(MalformedInput) as info:
        from_json(text)
    assert fragment in info.value.message and info.value.status == "Invalid Message"


def test_error_location_is_a_path() -> None:
    with pytest.raises(MalformedInput) as info:
        from_json('{"tag":"RequestHeader","value":[{"tag":"BatchCount","type":"Integer","value":"x"}]}')
    assert info.value.where == "$.value[0]"


def test_deep_nesting_is_unsafe() -> None:
    with pytest.raises(UnsafeInput):
        from_json("[" * 100_000 + "]" * 100_000)


_TAGS = st.sampled_from([0x42000D, 0x420057, 0x42002C, 0x42000A, 0x420005, 0x540001, 0x420000, 0x42000B])
_LEAF = st.one_of(
    st.builds(Item.integer, _TAGS, st.integers(-(2**31), 2**31 - 1)),
    st.builds(Item.long_integer, _TAGS, st.integers(-(2**63), 2**63 - 1)),
    st.builds(Item.big_integer, _TAGS, st.integers(-(2**130), 2**130)),
    st.builds(Item.enumeration, _TAGS, st.integers(0, 2**32 - 1)),
    st.builds(Item.boolean, _TAGS, st.booleans()),
    st.builds(Item.text_string, _TAGS, st.text(max_size=12).filter(lambda s: not s.startswith("$"))),
    st.builds(Item.byte_string, _TAGS, st.binary(max_size=12)),
    st.builds(Item.date_time, _TAGS, st.integers(-(2**63), 2**63 - 1)),
    st.builds(Item.interval, _TAGS, st.integers(0, 2**32 - 1)),
    st.builds(Item.date_time_extended, _TAGS, st.integers(-(2**63), 2**63 - 1)),
)
_TREE = st.recursive(_LEAF, lambda kids: st.builds(Item.structure, _TAGS, st.lists(kids, max_size=4)), max_leaves=10)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TREE)
def test_json_round_trip_property(item: Item) -> None:
    assert from_json(to_json(item)) == item


def test_deep_item_nesting_is_unsafe_before_recursion_limits() -> None:
    text = '{"tag":"RequestPayload","value":[' * 300 + "]}" * 300
    with pytest.raises(UnsafeInput) as info:
        from_json(text)
    assert info.value.where.startswith("$.value[0]")
