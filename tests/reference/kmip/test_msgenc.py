"""The Query exchange of KMIP Additional Message Encodings 1.0 (MSGENC-{HTTPS,JSON,XML}-M-1-1x):
the spec prints every message as XML, raw TTLV hex and (JSON sections) JSON.  Each printed
form is an independent expectation for the others."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from harness.errors import MalformedInput
from reference.kmip.json_encoding import from_json, to_json_value
from reference.kmip.ttlv import decode, encode
from reference.kmip.xml_encoding import from_xml, parse_xml_document, to_xml_element

SPEC_FILE = "kmip-addtl-msg-enc-v1.0-os.txt"
_CASE = re.compile(r"^\d+\.\d+\.\d+ (MSGENC-\w+-M-1-1(\d)) - ")
_HEX_LINE = re.compile(r"[0-9a-f]+")


@dataclass
class PrintedMessage:
    case: str
    version: tuple[int, int]
    time: int
    xml: str
    hex: str = ""
    json: str | None = None

    @property
    def label(self) -> str:
        kind = "request" if self.xml.startswith("<Request") else "response"
        return f"{self.case} t{self.time} {kind}"


def printed_messages(text: str) -> list[PrintedMessage]:
    """Every XML message of the document with the hex (and JSON) printed right after it."""
    found: list[PrintedMessage] = []
    case, version, time = "", (1, 0), 0
    lines = text.splitlines()
    i = 0
    state = None  # None | "hex" | "json"
    while i < len(lines):
        line = lines[i]
        m = _CASE.match(line)
        if m:
            case, version, state = m.group(1), (1, int(m.group(2))), None
        elif line.startswith("# TIME "):
            time, state = int(line.split()[2]), None
        elif line.startswith(("<RequestMessage>", "<ResponseMessage>")):
            closing = "</RequestMessage>" if line.startswith("<Request") else "</ResponseMessage>"
            start = i
            while closing not in lines[i]:
                i += 1
            found.append(PrintedMessage(case, version, time, "\n".join(lines[start : i + 1])))
            state = "hex"
        elif state == "hex" and _HEX_LINE.fullmatch(line):
            found[-1].hex += line
        elif state == "hex" and line.startswith('{"tag"') and found[-1].hex:
            start = i
            while i + 1 < len(lines) and lines[i + 1].startswith((" ", "]", "}")):
                i += 1
            found[-1].json = "\n".join(lines[start : i + 1])
            state = None
        else:
            state = None
        i += 1
    return found


# The document's slip: in the six MSGENC-*-M-1-11 responses the printed XML says TimeStamp
# 08:03:34 while the printed TTLV (...5396bc24) and the printed JSON both say 08:04:52.
# Two of three renditions agree, so the XML line is repaired (and the slip itself checked).
SLIP_XML = '<TimeStamp type="DateTime" value="2014-06-10T08:03:34+00:00"/>'
SLIP_FIXED = '<TimeStamp type="DateTime" value="2014-06-10T08:04:52+00:00"/>'


@pytest.fixture(scope="module")
def printed(kmip_specs_dir: Path) -> list[PrintedMessage]:
    return printed_messages((kmip_specs_dir / SPEC_FILE).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def messages(printed: list[PrintedMessage]) -> list[PrintedMessage]:
    return [
        PrintedMessage(m.case, m.version, m.time, m.xml.replace(SLIP_XML, SLIP_FIXED), m.hex, m.json) for m in printed
    ]


def test_the_documents_time_stamp_slip(printed: list[PrintedMessage]) -> None:
    slipped = [m for m in printed if SLIP_XML in m.xml]
    assert [m.label for m in slipped] == [
        f"MSGENC-{enc}-M-1-11 t{t} response" for enc in ("HTTPS", "JSON", "XML") for t in (0, 1)
    ]
    for m in slipped:
        assert decode(bytes.fromhex(m.hex)) != from_xml(m.xml, version=m.version)  # as printed: disagree
        assert "5396bc24" in m.hex  # 2014-06-10T08:04:52Z
        if m.json is not None:
            assert "2014-06-10T08:04:52+00:00" in m.json


def test_document_prints_the_expected_messages(messages: list[PrintedMessage]) -> None:
    # 3 encodings x 3 versions x 2 exchanges x (request, response); JSON only in the JSON sections.
    assert len(messages) == 36
    assert all(m.hex for m in messages)
    assert sum(1 for m in messages if m.json is not None) == 12
    assert {m.case for m in messages if m.json is not None} == {"MSGENC-JSON-M-1-10", "MSGENC-JSON-M-1-11", "MSGENC-JSON-M-1-12"}


def test_xml_encodes_to_the_printed_ttlv(messages: list[PrintedMessage]) -> None:
    for m in messages:
        assert encode(from_xml(m.xml, version=m.version)).hex() == m.hex, m.label


def test_printed_ttlv_decodes_to_the_printed_xml(messages: list[PrintedMessage]) -> None:
    for m in messages:
        assert decode(bytes.fromhex(m.hex), version=m.version) == from_xml(m.xml, version=m.version), m.label


def test_writer_reproduces_the_printed_xml_exactly(messages: list[PrintedMessage]) -> None:
    for m in messages:
        ours = to_xml_element(decode(bytes.fromhex(m.hex)), version=m.version)
        printed = parse_xml_document(m.xml)
        pairs = list(zip(printed.iter(), ours.iter(), strict=True))
        for a, b in pairs:
            assert (a.tag, dict(a.attrib)) == (b.tag, dict(b.attrib)), m.label


# The printed JSON of MSGENC-JSON-M-1-10 TIME 0's request ends with "]" instead of "]}":
# a typo of the document (the other eleven JSON messages close the object).
KNOWN_JSON_TYPO = "MSGENC-JSON-M-1-10 t0 request"


def test_json_typo_is_refused_then_repaired(messages: list[PrintedMessage]) -> None:
    broken = [m for m in messages if m.json is not None and m.label == KNOWN_JSON_TYPO]
    assert len(broken) == 1 and broken[0].json.rstrip().endswith("]")
    with pytest.raises(MalformedInput, match="not JSON"):
        from_json(broken[0].json, version=broken[0].version)
    repaired = broken[0].json + "}"
    assert from_json(repaired, version=broken[0].version) == from_xml(broken[0].xml, version=broken[0].version)


def test_json_reads_to_the_same_item_and_is_reproduced(messages: list[PrintedMessage]) -> None:
    checked = 0
    for m in messages:
        if m.json is None:
            continue
        text = m.json + "}" if m.label == KNOWN_JSON_TYPO else m.json
        item = decode(bytes.fromhex(m.hex))
        assert from_json(text, version=m.version) == item, m.label
        assert to_json_value(item, version=m.version) == json.loads(text), m.label
        checked += 1
    assert checked == 12


def test_time_stamp_of_the_printed_response() -> None:
    # 42009209 00000008 0000000051caafbd  <->  TimeStamp 2013-06-26T09:09:17+00:00
    item = from_xml('<TimeStamp type="DateTime" value="2013-06-26T09:09:17+00:00"/>')
    assert encode(item).hex() == "42009209000000080000000051caafbd"
    assert etree.tostring(to_xml_element(item)).decode() == '<TimeStamp type="DateTime" value="2013-06-26T09:09:17+00:00"/>'
