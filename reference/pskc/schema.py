"""Validation of PSKC documents against the RFC 6030 schema (§11), with two validators.

libxml2 (through lxml) and xmlschema disagree on real files (libxml2 rejects dateTime
values with surrounding white space that the XSD's whiteSpace=collapse allows; xmlschema
refuses the PKCS #5 PBKDF2-params type whose schema nobody publishes, which libxml2 lets
through laxly), so the lab reports each validator's verdict rather than one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import xmlschema
from lxml import etree

from reference.pskc import safexml

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
PSKC_XSD = SCHEMA_DIR / "pskc.xsd"
XENC11_XSD = SCHEMA_DIR / "xenc-schema-11.xsd"
MAX_MESSAGES = 20


@dataclass(frozen=True)
class Verdict:
    validator: str  # "libxml2" | "xmlschema"
    valid: bool
    messages: tuple[str, ...]


class _NoNetwork(etree.Resolver):
    """Schema imports resolve to the shipped files or nothing; never the network."""

    def resolve(self, url, pubid, context):  # type: ignore[no-untyped-def]
        local = SCHEMA_DIR / Path(str(url)).name
        if local.is_file():
            return self.resolve_filename(str(local), context)
        return self.resolve_string("", context)


@functools.lru_cache(maxsize=1)
def _lxml_schema() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(_NoNetwork())
    return etree.XMLSchema(etree.parse(str(PSKC_XSD), parser))


@functools.lru_cache(maxsize=1)
def _xmlschema_schema() -> xmlschema.XMLSchema:
    # Load XML-Enc 1.1 too: RFC 6030 §6.2's PBKDF2 DerivedKey lives in that namespace.
    return xmlschema.XMLSchema([str(PSKC_XSD), str(XENC11_XSD)], allow="sandbox", base_url=str(SCHEMA_DIR))


def validate_lxml(document: etree._ElementTree | etree._Element) -> Verdict:
    schema = _lxml_schema()
    ok = schema.validate(document)
    messages = tuple(f"line {e.line}: {e.message}" for e in list(schema.error_log)[:MAX_MESSAGES])
    return Verdict("libxml2", bool(ok), messages)


def validate_xmlschema(document: etree._ElementTree | etree._Element) -> Verdict:
    schema = _xmlschema_schema()
    root = document.getroot() if isinstance(document, etree._ElementTree) else document
    messages = []
    for error in schema.iter_errors(root):
        line = getattr(getattr(error, "elem", None), "sourceline", None)
        messages.append(f"line {line}: {error.reason}" if line else str(error.reason))
        if len(messages) >= MAX_MESSAGES:
            break
    return Verdict("xmlschema", not messages, tuple(messages))


def validate(data: bytes) -> tuple[Verdict, Verdict]:
    """Both verdicts for a document; unsafe or malformed XML raises before validation."""
    tree = safexml.parse(data)
    return validate_lxml(tree), validate_xmlschema(tree)
