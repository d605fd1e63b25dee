"""reference/kmip/testcases.py on every OASIS KMIP 1.4 / 2.1 test case, and the round trip
XML -> Item -> TTLV -> Item -> XML of every message in them."""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
from pathlib import Path

import pytest

from harness.errors import InputError
from reference.kmip.placeholders import Placeholder, has_placeholders, resolve_placeholders
from reference.kmip.testcases import OasisCase, default_vectors_dir, load_case, load_cases
from reference.kmip.ttlv import ItemType, decode, encode
from reference.kmip.xml_encoding import parse_xml_document, to_xml_element

NOW = 1_600_000_000  # the test's own "now" for $NOW placeholders


def test_counts_stated_by_the_vectors_readme(oasis_cases: list[OasisCase]) -> None:
    # vectors-thirdparty/kmip/README.txt: 1.4 = 68 mandatory + 7 optional files, 471 pairs;
    # 2.1 = 86 + 7 files, 578 pairs.
    files = collections.Counter((c.version_text, c.level) for c in oasis_cases)
    assert files == {("1.4", "mandatory"): 68, ("1.4", "optional"): 7, ("2.1", "mandatory"): 86, ("2.1", "optional"): 7}
    pairs = collections.Counter()
    for c in oasis_cases:
        pairs[c.version_text] += len(c.exchanges)
    assert pairs == {"1.4": 471, "2.1": 578}
    profiles = collections.Counter((c.version_text, c.profile) for c in oasis_cases)
    assert profiles[("1.4", "CS-AC")] == 18 and profiles[("2.1", "CS-BC")] == 21 and profiles[("2.1", "BL")] == 13


def test_case_metadata(oasis_cases: list[OasisCase]) -> None:
    by_name = {c.name: c for c in oasis_cases}
    sklc = by_name["SKLC-M-1-14"]
    assert (sklc.profile, sklc.version, sklc.mandatory, sklc.level) == ("SKLC", (1, 4), True, "mandatory")
    assert by_name["OMOS-O-1-21"].mandatory is False and by_name["OMOS-O-1-21"].version == (2, 1)
    assert by_name["CS-AC-M-OAEP-1-21"].profile == "CS-AC"
    first = sklc.exchanges[0]
    assert first.index == 0 and first.request_line < first.response_line
    # README example: SKLC-M-1-14 starts with a Create of a symmetric key; response binds $UNIQUE_IDENTIFIER_0.
    op = first.request.find(0x42000F).find(0x42005C)  # BatchItem / Operation
    assert op.value == 0x01  # Create (KMIP 1.4 §9.1.3.2.27)
    uid = first.response.find(0x42000F).find(0x42007C).find(0x420094)  # ResponsePayload / UniqueIdentifier
    assert uid.value == Placeholder("$UNIQUE_IDENTIFIER_0")


def test_commented_out_messages_are_not_exchanges(oasis_cases: list[OasisCase]) -> None:
    # CS-BC-M-GCM-3-14.xml holds a block of messages inside an XML comment (lines 72-160).
    case = next(c for c in oasis_cases if c.name == "CS-BC-M-GCM-3-14")
    assert all(not 72 <= e.request_line <= 160 for e in case.exchanges)


def _dummy(ph: Placeholder, item_type: ItemType, tag: int) -> object:
    """The test's own typed dummies (deliberately not the library's typed_dummy)."""
    if item_type is ItemType.DATE_TIME:
        return NOW + ph.offset
    if item_type is ItemType.TEXT_STRING:
        return f"dummy {ph.text[1:]}"
    if item_type is ItemType.BYTE_STRING:
        return hashlib.sha1(ph.text.encode()).digest()
    raise AssertionError(f"placeholder of unexpected type {item_type} ({ph})")


def _expected_text(original: str, item_type: str) -> str:
    """What the writer must produce for a placeholder the test substituted."""
    ph = Placeholder(original)
    if item_type == "DateTime":
        return dt.datetime.fromtimestamp(NOW + ph.offset, dt.timezone.utc).isoformat()
    if item_type == "TextString":
        return f"dummy {ph.text[1:]}"
    return hashlib.sha1(ph.text.encode()).hexdigest()


def _difference(original: str, written: str, item_type: str) -> str | None:
    """Classify a value whose text changed; None if the change is not an accepted one."""
    if original.startswith("$"):
        return "placeholder" if written == _expected_text(original, item_type) else None
    if item_type == "Integer" and sorted(original.split()) == sorted(written.split()):
        return "mask order"  # written in ascending bit order
    if item_type in ("ByteString", "BigInteger") and original.lower() == written:
        return "hex case"  # written in lower case
    if item_type == "DateTime" and dt.datetime.fromisoformat(original) == dt.datetime.fromisoformat(written):
        return "time zone"  # written in UTC
    return None


def test_every_message_round_trips(oasis_cases: list[OasisCase]) -> None:
    differences: collections.Counter[str] = collections.Counter()
    messages = 0
    for case in oasis_cases:
        elements = [el for el in parse_xml_document(case.path.read_bytes()) if isinstance(el.tag, str)]
        items = [m for x in case.exchanges for m in (x.request, x.response)]
        assert len(elements) == len(items), case.name
        for element, item in zip(elements, items):
            where = f"{case.name} line {element.sourceline}"
            resolved = resolve_placeholders(item, _dummy)
            assert not has_placeholders(resolved)
            data = encode(resolved)
            back = decode(data, version=case.version)
            assert back == resolved, where
            assert encode(back) == data, where  # TTLV byte for byte
            written = to_xml_element(back, version=case.version)
            original_elements = [e for e in element.iter() if isinstance(e.tag, str)]
            assert len(original_elements) == len(list(written.iter())), where
            for a, b in zip(original_elements, written.iter()):
                assert a.tag == b.tag and a.get("type") == b.get("type"), f"{where}: <{a.tag}>"
                if a.get("value") != b.get("value"):
                    kind = _difference(a.get("value"), b.get("value"), a.get("type"))
                    assert kind is not None, f"{where} line {a.sourceline}: {a.get('value')!r} -> {b.get('value')!r}"
                    differences[kind] += 1
            messages += 1
    assert messages == 2 * (471 + 578)
    # Every non-placeholder difference, counted in the files independently (grep):
    # 45 "Decrypt Encrypt" masks, 13 upper-case hex values, 11 date-times with a +10:00 zone.
    assert differences["mask order"] == 45
    assert differences["hex case"] == 13
    assert differences["time zone"] == 11
    assert set(differences) == {"placeholder", "mask order", "hex case", "time zone"}


def test_placeholders_survive_loading_and_are_typed(oasis_cases: list[OasisCase]) -> None:
    seen: collections.Counter[tuple[str, ItemType]] = collections.Counter()

    def walk(item) -> None:
        if isinstance(item.value, Placeholder):
            seen[(item.value.name, item.type)] += 1
        for child in item.items:
            walk(child)

    for case in oasis_cases:
        for x in case.exchanges:
            walk(x.request)
            walk(x.response)
    # grep counts of the files ($NOW 1152, $NOW-3600 136, $NOW+3600 6; $UNIQUE_IDENTIFIER_n 1878)
    # minus those inside the comment of CS-BC-M-GCM-3-14.xml lines 72-160 (2 $NOW..., 4 $UNIQUE...).
    assert seen[("NOW", ItemType.DATE_TIME)] == 1152 + 136 + 6 - 2
    assert seen[("UNIQUE_IDENTIFIER", ItemType.TEXT_STRING)] == 1878 - 4
    assert {t for (_, t) in seen} == {ItemType.DATE_TIME, ItemType.TEXT_STRING, ItemType.BYTE_STRING}


def _write(tmp_path: Path, name: str, body: str) -> Path:
    folder = tmp_path / "1.4" / "mandatory"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(body, encoding="utf-8")
    return path


REQUEST = (
    "<RequestMessage><RequestHeader><ProtocolVersion><ProtocolVersionMajor type=\"Integer\" value=\"1\"/>"
    "<ProtocolVersionMinor type=\"Integer\" value=\"4\"/></ProtocolVersion><BatchCount type=\"Integer\" value=\"1\"/>"
    "</RequestHeader></RequestMessage>"
)
RESPONSE = REQUEST.replace("Request", "Response")


def test_loader_on_a_small_file(tmp_path: Path) -> None:
    case = load_case(_write(tmp_path, "XX-O-7-14.xml", f"<KMIP><!-- header -->{REQUEST}{RESPONSE}</KMIP>"))
    assert (case.name, case.profile, case.mandatory, case.version, len(case.exchanges)) == ("XX-O-7-14", "XX", False, (1, 4), 1)
    assert [c.name for c in load_cases(tmp_path, versions=("1.4",))] == ["XX-O-7-14"]


@pytest.mark.parametrize(
    "name,body,fragment",
    [
        ("XX-M-1-14.xml", f"<KMIP>{REQUEST}</KMIP>", "without a <ResponseMessage>"),
        ("XX-M-1-14.xml", f"<KMIP>{RESPONSE}{REQUEST}</KMIP>", "expected <RequestMessage>"),
        ("XX-M-1-14.xml", f"<Other>{REQUEST}{RESPONSE}</Other>", "expected <KMIP>"),
        ("XX-M-1-14.xml", "<KMIP></KMIP>", "no request/response pair"),
        ("XX-M-1-14.xml", "<KMIP><RequestMessage>", "not well-formed"),
        ("XX-M-1-14.xml", f"<KMIP>{REQUEST.replace('BatchCount', 'BadTag')}{RESPONSE}</KMIP>", "unknown tag name"),
        ("readme.xml", f"<KMIP>{REQUEST}{RESPONSE}</KMIP>", "file name"),
        ("XX-M-1-21.xml", f"<KMIP>{REQUEST}{RESPONSE}</KMIP>", "file name says KMIP 2.1"),
    ],
)
def test_loader_refuses_bad_files(tmp_path: Path, name: str, body: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        load_case(_write(tmp_path, name, body), version=(1, 4))
    assert fragment in str(info.value) and name in str(info.value)


def test_missing_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        load_cases(tmp_path / "absent")
    with pytest.raises(InputError):
        load_cases(tmp_path, versions=("3.0",))


def test_default_vectors_dir_finds_the_shared_folder(kmip_vectors_dir: Path) -> None:
    assert default_vectors_dir() == kmip_vectors_dir.resolve()
