"""KMIP tag and enumeration tables, per protocol version, loaded from ``data/``.

The data files are derived from the OASIS KMIP 1.4 and 2.1 specification tables (see the
header of each file).  Those are the two documents we hold, so:

* versions 1.0 .. 1.4 share the 1.4 tables and 2.0 .. 2.1 share the 2.1 tables.  Minor
  versions only ever *added* tags and values, so an older version's lookups answer with a
  superset (a 1.0 peer's tags all resolve; a tag introduced in 1.3 also resolves in 1.0);
* ``enumerations-supplement.tsv`` completes what the spec defines only by reference
  (PKCS#11 Function / Return Code) and the MGF1/MFG1 spelling; every row says why.

Which enumeration an Enumeration item uses follows from its tag: the table named like the
tag (Object Type -> Object Type), except the tags in ``_ENUMERATION_OF_TAG``.  Which bit
mask an Integer uses likewise (Cryptographic Usage Mask, Storage Status Mask, Protection
Storage Mask).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from harness.errors import InputError

DATA_DIR = Path(__file__).resolve().parent / "data"

# Protocol versions we have tables for, and which table set serves each.
VERSIONS: tuple[tuple[int, int], ...] = ((1, 0), (1, 1), (1, 2), (1, 3), (1, 4), (2, 0), (2, 1))
_TABLE_SET = {1: "1.4", 2: "2.1"}

# Tags whose Enumeration values come from a table not named like the tag.
_ENUMERATION_OF_TAG = {
    # 1.4 §3.6 "Enumeration, see 9.1.3.2.16" (the Hashing Algorithm table)
    "Mask Generator Hashing Algorithm": "Hashing Algorithm",
    # 2.1 §5.5 "Enumeration (Tag)": the value is a tag, written by its XML name
    "Attribute Reference": "Tag",
    # 2.1 §7.13 "Enumeration (Item Type)" (an Integer in KMIP 1.x)
    "Extension Type": "Item Type",
}


@dataclass(frozen=True, slots=True)
class TagInfo:
    """One row of the tag table."""

    value: int
    name: str  # as printed in the spec, e.g. "IV/Counter/Nonce"
    xml_name: str  # normalized (Profiles 2.1 §5.4.1.1), e.g. "IVCounterNonce"
    encoding: str  # item type(s) the spec states ("Structure", "Enumeration,Structure", "")
    note: str


@dataclass(frozen=True, slots=True)
class EnumValue:
    value: int
    name: str
    xml_name: str


@dataclass(frozen=True)
class EnumTable:
    """One enumeration or bit-mask table."""

    name: str
    kind: str  # "enumeration" or "mask"
    section: str
    values: tuple[EnumValue, ...] = field(repr=False)
    _by_xml: dict[str, EnumValue] = field(default_factory=dict, repr=False, compare=False)
    _by_value: dict[int, EnumValue] = field(default_factory=dict, repr=False, compare=False)

    def by_xml_name(self, xml_name: str) -> EnumValue | None:
        return self._by_xml.get(xml_name)

    def by_value(self, value: int) -> EnumValue | None:
        """The entry written for ``value`` (a preferred alias wins over the spec spelling)."""
        return self._by_value.get(value)

    def by_name(self, name: str) -> EnumValue | None:
        return next((v for v in self.values if v.name == name), None)


def normalize_name(text: str) -> str:
    """KMIP text -> CamelCase (Profiles 2.1 §5.4.1.1; addtl-msg-enc 1.0 §4.1.3, whose code this follows)."""
    no_brackets = re.sub(r"[()]", " ", text)
    spaced = re.sub(r"\W([A-Za-z][a-z])", r" \1", no_brackets)
    words = [re.sub(r"\W", "_", w) for w in spaced.split()]
    if not words:
        return ""
    words[0] = re.sub(r"^(\d+)(.*)", r"\2\1", words[0])
    return "".join(w[:1].upper() + w[1:] for w in words)


def parse_version(version: str | tuple[int, int]) -> tuple[int, int]:
    """``"1.4"`` or ``(1, 4)`` -> ``(1, 4)``; InputError for versions we have no tables for."""
    if isinstance(version, str):
        m = re.fullmatch(r"(\d+)\.(\d+)", version.strip())
        parsed = (int(m.group(1)), int(m.group(2))) if m else None
    else:
        parsed = tuple(version) if len(version) == 2 else None  # type: ignore[assignment]
    if parsed not in VERSIONS:
        have = ", ".join(f"{a}.{b}" for a, b in VERSIONS)
        raise InputError(f"no KMIP tables for version {version!r} (have {have})")
    return parsed  # type: ignore[return-value]


def _read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


class KmipTables:
    """Tags, enumerations and masks of one KMIP version."""

    def __init__(self, version: tuple[int, int]) -> None:
        self.version = version
        self.table_set = _TABLE_SET[version[0]]
        self._tags: dict[int, TagInfo] = {}
        self._tags_by_xml: dict[str, TagInfo] = {}
        self._tags_by_name: dict[str, TagInfo] = {}
        for row in _read_tsv(DATA_DIR / f"tags-{self.table_set}.tsv"):
            info = TagInfo(int(row["tag_hex"], 16), row["name"], row["xml_name"], row["encoding"], row["note"])
            self._tags[info.value] = info
            self._tags_by_xml[info.xml_name] = info
            self._tags_by_name[info.name] = info
        rows: dict[str, list[dict[str, str]]] = {}
        for row in _read_tsv(DATA_DIR / f"enumerations-{self.table_set}.tsv"):
            rows.setdefault(row["enumeration"], []).append(row)
        preferred: list[dict[str, str]] = []
        for row in _read_tsv(DATA_DIR / "enumerations-supplement.tsv"):
            if self.table_set in row["versions"].split(","):
                if row["role"] == "preferred":
                    preferred.append(row)
                else:
                    rows.setdefault(row["enumeration"], []).append(row)
        self._enums: dict[str, EnumTable] = {}
        for name, table_rows in rows.items():
            self._enums[name] = _table(name, table_rows, [r for r in preferred if r["enumeration"] == name])
        if self.table_set == "2.1":
            tag_rows = [
                {"kind": "enumeration", "section": "11.56", "value_hex": f"{t.value:08X}", "name": t.name,
                 "xml_name": t.xml_name}
                for t in self._tags.values()
            ]
            self._enums["Tag"] = _table("Tag", tag_rows, [])

    def __repr__(self) -> str:
        return f"KmipTables({self.version[0]}.{self.version[1]}, tables of KMIP {self.table_set})"

    # -- tags -------------------------------------------------------------------------
    def tag(self, value: int) -> TagInfo | None:
        return self._tags.get(value)

    def tag_by_xml_name(self, xml_name: str) -> TagInfo | None:
        return self._tags_by_xml.get(xml_name)

    def tag_by_name(self, name: str) -> TagInfo | None:
        """By spec name ("Cryptographic Algorithm"), as 1.x Attribute Name values spell it."""
        return self._tags_by_name.get(name)

    def tags(self) -> tuple[TagInfo, ...]:
        return tuple(self._tags.values())

    # -- enumerations -----------------------------------------------------------------
    def enumeration(self, name: str) -> EnumTable | None:
        """Enumeration or mask table by spec name ("Object Type", "Cryptographic Usage Mask")."""
        return self._enums.get(name)

    def enumeration_names(self) -> tuple[str, ...]:
        return tuple(self._enums)

    def enumeration_for_tag(self, tag: int) -> EnumTable | None:
        """The enumeration an Enumeration item with ``tag`` draws its values from."""
        info = self._tags.get(tag)
        if info is None:
            return None
        table = self._enums.get(_ENUMERATION_OF_TAG.get(info.name, info.name))
        return table if table is not None and table.kind == "enumeration" else None

    def mask_for_tag(self, tag: int) -> EnumTable | None:
        """The bit-mask table of an Integer item with ``tag`` (None: a plain Integer)."""
        info = self._tags.get(tag)
        table = self._enums.get(info.name) if info is not None else None
        return table if table is not None and table.kind == "mask" else None


def _table(name: str, rows: list[dict[str, str]], preferred: list[dict[str, str]]) -> EnumTable:
    values = tuple(EnumValue(int(r["value_hex"], 16), r["name"], r["xml_name"]) for r in rows)
    aliases = tuple(EnumValue(int(r["value_hex"], 16), r["name"], r["xml_name"]) for r in preferred)
    table = EnumTable(name, rows[0]["kind"], rows[0]["section"], values)
    for v in values + aliases:
        table._by_xml[v.xml_name] = v
    for v in values:
        table._by_value.setdefault(v.value, v)
    for v in aliases:
        table._by_value[v.value] = v
    return table


@lru_cache(maxsize=None)
def _tables(version: tuple[int, int]) -> KmipTables:
    return KmipTables(version)


def tables_for(version: str | tuple[int, int] = (2, 1)) -> KmipTables:
    """The (cached) tables for a KMIP version, e.g. ``tables_for("1.4").tag(0x420057)``."""
    return _tables(parse_version(version))
