"""Validating a PSKC document: both schema validators, the decoder and the semantic checks.

libxml2 and xmlschema each reject some RFC-valid documents (reference.pskc.schema: dates
with surrounding white space for libxml2, the unpublished PKCS #5 schema of RFC 6030's
own Figure 7 for xmlschema), so both verdicts are reported and a ``policy`` says when
the schema verdict is a MUST finding:

* "both" (default): only when both validators reject; a split is an INFO finding;
* "any": when either rejects; "libxml2" / "xmlschema": when that one rejects.

A document is valid when no finding is at MUST level.  The §11 schema's xs:choice in
AlgorithmParametersType makes OCRA keys carrying Suite with Challenge/ResponseFormat
invalid per both validators although §4.3.4 describes them together: the schema verdict
stands, and the decoder's INFO note pskc.algorithm-parameters-choice explains it.
"""

from __future__ import annotations

from typing import Any

from harness.errors import InputError, ProtocolError
from harness.results import Level

from reference import pskc as codec  # the package's decode(), not the decode module

from . import schema
from .model import Finding
from .protection import Credentials
from .semantics import DEFAULT_MIN_ITERATIONS, LeveledFinding, review

POLICIES = ("both", "any", "libxml2", "xmlschema")
LEVEL_ORDER = ("MUST", "SHOULD", "MAY", "INFO")


def _schema_gate(policy: str, libxml2: bool, xsd: bool) -> bool:
    """True when the schema verdict counts as invalid under ``policy``."""
    return {"both": not libxml2 and not xsd, "any": not libxml2 or not xsd, "libxml2": not libxml2,
            "xmlschema": not xsd}[policy]


def validate_document(data: bytes, credentials: Credentials | None = None, *, policy: str = "both",
                      min_iterations: int | None = None) -> dict[str, Any]:
    """{"valid", "schema", "findings", "counts", "decryption_checked"} for a document.

    Never raises for a bad document (not XML, hostile, refused by the decoder: each is a
    MUST finding); bad credentials (an unusable private key) raise InputError.
    """
    if policy not in POLICIES:
        raise InputError(f"schema policy must be one of {', '.join(POLICIES)}, not {policy!r}")
    findings: list[LeveledFinding] = []

    def refusal(exc: ProtocolError, source: str) -> None:
        findings.append(LeveledFinding(
            Level.MUST, Finding(exc.status, exc.message, exc.spec or "RFC 6030", "deviation", exc.where), source))

    summary: dict[str, Any] = {"policy": policy}
    decrypted = False
    try:
        verdicts = schema.validate(data)
    except ProtocolError as exc:  # not XML, or hostile XML: neither validator can run
        refusal(exc, "schema")
        summary["verdict"] = "not-run"
        verdicts = None
    if verdicts is not None:
        libxml2, xsd = verdicts
        for verdict in verdicts:
            summary[verdict.validator] = {"valid": verdict.valid, "messages": list(verdict.messages)}
        summary["verdict"] = "valid" if libxml2.valid and xsd.valid else (
            "invalid" if not libxml2.valid and not xsd.valid else "split")
        if summary["verdict"] != "valid":
            against = [f"{v.validator}: {v.messages[0] if v.messages else 'invalid'}" for v in verdicts if not v.valid]
            gating = _schema_gate(policy, libxml2.valid, xsd.valid)
            code = "pskc.schema-invalid" if summary["verdict"] == "invalid" else "pskc.schema-split"
            note = "" if gating else f" (not gating under schema policy {policy!r})"
            findings.append(LeveledFinding(
                Level.MUST if gating else Level.INFO,
                Finding(code, "; ".join(against) + note, "RFC 6030 §11", "deviation" if gating else "note"), "schema"))
        try:
            container = codec.decode(data)
        except ProtocolError as exc:
            refusal(exc, "codec")
        else:
            iterations = min_iterations or DEFAULT_MIN_ITERATIONS
            findings.extend(review(container, credentials, min_iterations=iterations))
            decrypted = bool(credentials) and container.is_encrypted
    counts = {level: sum(1 for f in findings if f.level.value == level) for level in LEVEL_ORDER}
    findings.sort(key=lambda f: LEVEL_ORDER.index(f.level.value))  # stable: document order within a level
    return {"valid": counts["MUST"] == 0, "schema": summary, "findings": [f.to_json() for f in findings],
            "counts": counts, "decryption_checked": decrypted}
