"""The validation fast path (libxml2 first, xmlschema for rejections) against the RFC schema.

The fast path is sound only if libxml2 never accepts what xmlschema (authoritative,
D-1) rejects.  Mutants of the App. B messages probe that: element deletion, duplication,
reordering, text and attribute replacement with values of the wrong type.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from harness.errors import SchemaViolation
from reference.dskpp import safexml

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "vectors" / "dskpp" / "rfc6063-appendix-b").glob("*.xml"))
ODD_VALUES = ["", " ", "x", "-1", "0", "1.5", "true", "maybe", "2020-13-01T00:00:00Z", "2012-01-01T00:00:00Z",
              "%%%=", "AAAA", "AAA", "urn:x", "http://a b", "1.0", "99999999999999999999", "\u00e9"]


def _xmlschema_accepts(root: etree._Element) -> bool:
    try:
        safexml.validate(root, authoritative=True)
    except SchemaViolation:
        return False
    return True


@st.composite
def mutants(draw: st.DrawFn) -> etree._Element:
    root = etree.fromstring(EXAMPLES[draw(st.integers(0, len(EXAMPLES) - 1))].read_bytes())
    for _ in range(draw(st.integers(1, 3))):
        elements = list(root.iter(etree.Element))
        el = elements[draw(st.integers(0, len(elements) - 1))]
        parent = el.getparent()
        action = draw(st.sampled_from(["delete", "duplicate", "swap", "text", "attribute", "drop-attribute"]))
        if action == "delete" and parent is not None:
            parent.remove(el)
        elif action == "duplicate" and parent is not None:
            parent.insert(parent.index(el), etree.fromstring(etree.tostring(el)))
        elif action == "swap" and parent is not None and parent.index(el) + 1 < len(parent):
            i = parent.index(el)
            parent.insert(i + 1, el)
        elif action == "text" and len(el) == 0:
            el.text = draw(st.sampled_from(ODD_VALUES))
        elif action == "attribute" and el.attrib:
            name = draw(st.sampled_from(sorted(el.attrib)))
            el.set(name, draw(st.sampled_from(ODD_VALUES)))
        elif action == "drop-attribute" and el.attrib:
            del el.attrib[draw(st.sampled_from(sorted(el.attrib)))]
    return root


def test_examples_are_valid_on_both_paths() -> None:
    for path in EXAMPLES:
        root = etree.fromstring(path.read_bytes())
        safexml.validate(root)
        safexml.validate(root, authoritative=True)


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(mutants())
def test_libxml2_accepts_nothing_xmlschema_rejects(root: etree._Element) -> None:
    if safexml.dskpp_schema_libxml2().validate(root):
        assert _xmlschema_accepts(root), etree.tostring(root)[:2000]


def test_fast_path_rejection_still_names_the_place() -> None:
    root = etree.fromstring(EXAMPLES[1].read_bytes())  # B.2.1 KeyProvClientHello
    first = next(iter(root))
    root.remove(first)
    root.append(first)  # out of order
    with pytest.raises(SchemaViolation) as info:
        safexml.validate(root)
    assert info.value.status == "MalformedRequest"
    assert info.value.where
