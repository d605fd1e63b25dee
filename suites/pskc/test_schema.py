"""PSKC validators against the RFC 6030 schema (§11) on every document we have.

The reference verdict comes from two independent validators (libxml2, xmlschema) over the
RFC's XSD.  Where they agree, a validator under test must give the same verdict (MUST);
where they disagree (unpublished PKCS #5 schema, dateTime white space) the case is
INFO: both answers are acceptable and the report shows who said what.
"""

from __future__ import annotations

import functools

import pytest

from harness import evidence
from harness.cases import case, require
from harness.errors import KplabError
from harness.roles.pskc import PskcValidator
from reference.pskc import schema
from suites.pskc.corpus import Document, all_documents


@functools.lru_cache(maxsize=None)
def reference_verdicts(doc: Document) -> tuple[bool | None, bool | None, str]:
    """(libxml2, xmlschema, note); None where the document is not even safe XML."""
    try:
        libxml2, xsd = schema.validate(doc.read())
    except KplabError as exc:
        return False, False, f"not safe, well-formed XML: {exc}"
    note = "; ".join(f"{v.validator}: {'valid' if v.valid else v.messages[0] if v.messages else 'invalid'}" for v in (libxml2, xsd))
    return libxml2.valid, xsd.valid, note


def _split() -> tuple[list[Document], list[Document]]:
    agreed, disputed = [], []
    for doc in all_documents():
        a, b, _ = reference_verdicts(doc)
        (agreed if a == b else disputed).append(doc)
    return agreed, disputed


AGREED, DISPUTED = _split()


def _judge(validator, doc: Document) -> tuple[bool, bool, str]:  # noqa: ANN001
    require(validator, "pskc.validate")
    valid, messages = PskcValidator(validator).validate(doc.read())
    expected, _, note = reference_verdicts(doc)
    evidence.attach("text", "reference verdicts", note)
    evidence.attach("text", f"{validator.name} messages", "\n".join(messages) or "(none)")
    return valid, bool(expected), note


@case("verdict", spec="RFC 6030 §11", level="MUST", subject="pskc_validator")
@pytest.mark.parametrize("document", AGREED, ids=lambda d: d.case_id)
def test_verdict(pskc_validator, document):
    valid, expected, note = _judge(pskc_validator, document)
    assert valid == expected, (
        f"{pskc_validator.name} says {'valid' if valid else 'invalid'}; the RFC 6030 schema says "
        f"{'valid' if expected else 'invalid'} ({note})"
    )


@case("verdict-disputed", spec="RFC 6030 §11", level="INFO", subject="pskc_validator")
@pytest.mark.parametrize("document", DISPUTED, ids=lambda d: d.case_id)
def test_verdict_disputed(pskc_validator, document):
    valid, _, note = _judge(pskc_validator, document)
    evidence.attach("text", "verdict", f"{pskc_validator.name}: {'valid' if valid else 'invalid'}; reference validators disagree: {note}")
