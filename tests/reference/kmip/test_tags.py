"""reference/kmip/tags.py: shipped tables, name normalization, per-version lookups.

Independent expectations: the Profiles' normalization examples, the raw TTLV hex of the
addtl-msg-enc Query test case, PyKMIP's Tags / enumeration values, the shared TSVs."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from harness.errors import InputError
from reference.kmip.tags import DATA_DIR, normalize_name, parse_version, tables_for


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader([line for line in fh if not line.startswith("#")], delimiter="\t"))


@pytest.mark.parametrize(
    "spec_text,xml_name",
    [  # README of the vectors / Profiles 2.1 §5.4.1.1 and the XML names the OASIS files use
        ("Activation Date", "ActivationDate"),
        ("IV/Counter/Nonce", "IVCounterNonce"),
        ("PKCS#11 Function", "PKCS_11Function"),
        ("Template-Attribute", "TemplateAttribute"),
        ("X.509 Certificate Identifier", "X_509CertificateIdentifier"),
        ("3DES", "DES3"),
        ("SHA-512/224", "SHA_512_224"),
        ("On-line storage", "OnLineStorage"),
        ("Cryptographic Usage Mask", "CryptographicUsageMask"),
        ("Query Objects", "QueryObjects"),
    ],
)
def test_normalize_name_examples(spec_text: str, xml_name: str) -> None:
    assert normalize_name(spec_text) == xml_name


@pytest.mark.parametrize("version", ["1.4", "2.1"])
def test_normalization_reproduces_every_shipped_xml_name(version: str) -> None:
    tables = tables_for(version)
    assert all(normalize_name(t.name) == t.xml_name for t in tables.tags())
    for name in tables.enumeration_names():
        for entry in tables.enumeration(name).values:
            if entry.name != "CKR_OK":  # our supplement: the XML name the vectors use
                assert normalize_name(entry.name) == entry.xml_name, (name, entry)


@pytest.mark.parametrize("version", ["1.4", "2.1"])
def test_shipped_tables_equal_the_shared_spec_tables(version: str, kmip_specs_dir: Path) -> None:
    shared_tags = {
        (r["tag_hex"].upper(), r["spec_name"], r["xml_name"])
        for r in _rows(kmip_specs_dir / f"kmip-{version}-tags.tsv")
        if r["xml_name"]
    }
    ours = {(r["tag_hex"], r["name"], r["xml_name"]) for r in _rows(DATA_DIR / f"tags-{version}.tsv")}
    assert ours == shared_tags
    shared_enums = {
        (r["kind"], r["enumeration"], r["value_hex"].upper(), r["xml_name"])
        for r in _rows(kmip_specs_dir / f"kmip-{version}-enumerations.tsv")
        if r["xml_name"]
    }
    ours_enums = {
        (r["kind"], r["enumeration"], r["value_hex"], r["xml_name"]) for r in _rows(DATA_DIR / f"enumerations-{version}.tsv")
    }
    assert ours_enums == shared_enums


def test_shipped_data_files_name_their_source() -> None:
    for path in DATA_DIR.glob("*.tsv"):
        head = path.read_text(encoding="utf-8").splitlines()[0]
        assert head.startswith("#") and ("OASIS" in head or "NOT copied" in head), path.name


def test_values_seen_in_the_spec_query_hex() -> None:
    # addtl-msg-enc 1.0 MSGENC-*-M-1-10 TTLV hex: 42005c 05 .. 00000018 = Operation Query,
    # 420074 05 .. 00000001 / 02 = QueryOperations / QueryObjects, 42007e 05 .. 02 = ResponseTooLarge,
    # 42007f 05 .. 01 = OperationFailed.
    tables = tables_for("1.0")
    assert tables.tag_by_xml_name("Operation").value == 0x42005C
    assert tables.enumeration_for_tag(0x42005C).by_xml_name("Query").value == 0x18
    assert tables.enumeration_for_tag(0x420074).by_xml_name("QueryObjects").value == 2
    assert tables.enumeration_for_tag(0x42007E).by_xml_name("ResponseTooLarge").value == 2
    assert tables.enumeration_for_tag(0x42007F).by_xml_name("OperationFailed").value == 1
    assert tables.tag(0x420092).xml_name == "TimeStamp"


def test_versions_map_to_the_table_sets() -> None:
    assert tables_for("1.0").table_set == tables_for((1, 3)).table_set == "1.4"
    assert tables_for("2.0").table_set == "2.1"
    assert tables_for("1.4").tag(0x420166) is None  # Object Groups: 2.1 only
    assert tables_for("2.1").tag(0x420166).xml_name == "ObjectGroups"
    assert tables_for("1.4").tag(0x420091).xml_name == "TemplateAttribute"
    assert tables_for("2.1").tag(0x420091) is None  # (Reserved) in 2.1
    assert parse_version(" 2.1 ") == (2, 1)
    for bad in ("3.0", "1.5", "x", (1,)):
        with pytest.raises(InputError):
            parse_version(bad)  # type: ignore[arg-type]


def test_context_dependent_enumerations() -> None:
    v21 = tables_for("2.1")
    # Mask Generator: spec 2.1 prints MFG1; vectors, 1.4 and RFC 8017 say MGF1. Both read, MGF1 written.
    mg = v21.enumeration_for_tag(v21.tag_by_xml_name("MaskGenerator").value)
    assert mg.by_xml_name("MGF1").value == mg.by_xml_name("MFG1").value == 1
    assert mg.by_value(1).xml_name == "MGF1"
    assert v21.enumeration_for_tag(0x420102).name == "Hashing Algorithm"
    # Attribute Reference is "Enumeration (Tag)": its values are tags.
    assert v21.enumeration_for_tag(0x42013B).by_xml_name("State").value == 0x42008D
    assert v21.enumeration_for_tag(0x4200A7).by_xml_name("DateTimeExtended").value == 0x0B
    assert tables_for("1.4").enumeration_for_tag(0x4200A7) is None  # an Integer in 1.4
    assert v21.enumeration_for_tag(0x42015A).by_xml_name("C_Initialize").value == 1
    assert v21.mask_for_tag(0x42002C).by_xml_name("CertificateSign").value == 0x1000
    assert v21.mask_for_tag(0x42015E).name == "Protection Storage Mask"
    assert v21.mask_for_tag(0x42008E).by_xml_name("OnLineStorage").value == 1
    assert v21.mask_for_tag(0x420057) is None and v21.enumeration_for_tag(0x42002C) is None


def test_every_pykmip_tag_is_in_our_tables() -> None:
    enums = pytest.importorskip("kmip.core.enums")
    ours = {t.value: t for v in ("1.4", "2.1") for t in tables_for(v).tags()}
    checked = 0
    for tag in enums.Tags:
        if tag.name in ("DEFAULT", "RESERVED"):  # PyKMIP sentinels, no spec tag
            continue
        assert tag.value in ours, tag
        # Same tag, same words: PyKMIP's SNAKE_CASE and the spec's CamelCase differ only in case and "_".
        assert ours[tag.value].xml_name.replace("_", "").lower() == tag.name.replace("_", "").lower(), tag
        checked += 1
    assert checked > 340


@pytest.mark.parametrize(
    "enum_class,table",
    [
        ("ObjectType", "Object Type"),
        ("CryptographicAlgorithm", "Cryptographic Algorithm"),
        ("Operation", "Operation"),
        ("ResultReason", "Result Reason"),
        ("QueryFunction", "Query Function"),
        ("HashingAlgorithm", "Hashing Algorithm"),
        ("KeyFormatType", "Key Format Type"),
        ("State", "State"),
        ("CryptographicUsageMask", "Cryptographic Usage Mask"),
    ],
)
def test_enumeration_values_agree_with_pykmip(enum_class: str, table: str) -> None:
    enums = pytest.importorskip("kmip.core.enums")
    ours = {e.xml_name.replace("_", "").lower(): e.value for e in tables_for("1.4").enumeration(table).values}
    matched = 0
    for member in getattr(enums, enum_class):
        key = member.name.replace("_", "").lower()
        if key in ours:
            assert ours[key] == member.value, member
            matched += 1
    assert matched >= 5
