"""docs/dskpp-interpretations.md and reference/dskpp/interpretation.py list the same options."""

from __future__ import annotations

import re
from dataclasses import fields
from enum import Enum
from pathlib import Path

import pytest

from harness.errors import InputError
from reference.dskpp.interpretation import (
    DEFAULT_INTERPRETATION,
    Crc16Variant,
    Interpretation,
    MessageHashInput,
)

DOC = Path(__file__).resolve().parents[3] / "docs" / "dskpp-interpretations.md"
SECTION = re.compile(r"^## I-(\d+) .*?\n\n\*Option:\* `(\w+)` - default `([^`]+)`;(.*?)$", re.M | re.S)


def doc_options() -> list[tuple[int, str, str, str]]:
    text = DOC.read_text(encoding="utf-8")
    return [(int(n), name, default, rest.split("\n")[0]) for n, name, default, rest in SECTION.findall(text)]


def test_every_field_has_a_section_in_order():
    options = doc_options()
    assert [(n, name) for n, name, _, _ in options] == [(i, f.name) for i, f in enumerate(fields(Interpretation), 1)]


def test_documented_defaults_and_alternatives_match_the_code():
    defaults = DEFAULT_INTERPRETATION.as_dict()
    for _, name, default, rest in doc_options():
        assert str(defaults[name]) == default, name
        field_type = type(getattr(DEFAULT_INTERPRETATION, name))
        if issubclass(field_type, Enum):
            documented = {default} | set(re.findall(r"`([^`]+)`", rest))
            assert documented == {m.value for m in field_type}, name


def test_differences_names_changed_options():
    interp = Interpretation(crc16=Crc16Variant.ARC, message_hash_input=MessageHashInput.EXC_C14N)
    assert interp.differences() == {"crc16": "arc", "message_hash_input": "exc-c14n"}
    assert DEFAULT_INTERPRETATION.differences() == {}


def test_server_auth_mac_length_floor():
    with pytest.raises(InputError):
        Interpretation(server_auth_mac_length=15)
