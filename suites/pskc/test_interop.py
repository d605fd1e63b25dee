"""PSKC interop: every producer x every consumer x protection x MAC x algorithm profile.

A producer is handed a key specification (vectors/pskc/interop-keys.json), writes a
container, and every consumer imports it; the imported fields must equal the
specification.  What the consumer must get right (secret, algorithm, counter/time,
response format) is a MUST case; the rest of the metadata a SHOULD case.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness import evidence
from harness.cases import case, require
from harness.errors import Fault, Refused
from harness.roles.pskc import PskcConsumer, PskcProducer
from reference.pskc import schema

_produced: dict[tuple[str, str, str], bytes | Exception] = {}
_imported: dict[tuple[str, str, str, str], list[dict[str, Any]] | Exception] = {}


def produce(producer, profile, protection) -> bytes:
    key = (producer.name, profile.name, protection.case_id)
    if key not in _produced:
        require(producer, "pskc.encode", *protection.capabilities())
        try:
            _produced[key] = PskcProducer(producer).encode([profile.key], protection)
        except (Refused, Fault) as exc:
            _produced[key] = exc
    got = _produced[key]
    if isinstance(got, Exception):
        raise got
    evidence.attach("file", f"container from {producer.name}.pskcxml", got, "application/xml")
    return got


_verdicts: dict[bytes, tuple[bool, tuple[schema.Verdict, schema.Verdict]]] = {}


def schema_valid(document: bytes) -> tuple[bool, tuple[schema.Verdict, schema.Verdict]]:
    """Valid unless both validators reject (where they split, e.g. over the unpublished
    PKCS #5 PBKDF2-params schema, the document gets the benefit)."""
    if document not in _verdicts:
        libxml2, xsd = schema.validate(document)
        _verdicts[document] = (libxml2.valid or xsd.valid, (libxml2, xsd))
    return _verdicts[document]


def _register_secrets(profile, protection) -> None:
    evidence.secret(bytes.fromhex(profile.key["secret_hex"]))
    for material in (protection.key_hex and bytes.fromhex(protection.key_hex), protection.password, protection.private_key_pem):
        if material:
            evidence.secret(material)


def imported(producer, consumer, profile, protection) -> list[dict[str, Any]]:
    _register_secrets(profile, protection)
    try:
        document = produce(producer, profile, protection)
    except (Refused, Fault) as exc:
        pytest.skip(f"producer {producer.name} could not write this container: {exc}")
    if not schema_valid(document)[0]:
        pytest.skip(f"{producer.name}'s container is not RFC 6030 schema-valid (see export-schema-valid); "
                    "a consumer is not judged on it")
    key = (producer.name, consumer.name, profile.name, protection.case_id)
    if key not in _imported:
        require(consumer, "pskc.decode", *protection.capabilities())
        try:
            _imported[key] = PskcConsumer(consumer).decode(document, protection.consumer_params())
        except (Refused, Fault) as exc:
            _imported[key] = exc
    got = _imported[key]
    if isinstance(got, Exception):
        raise got
    return got


def compare(expected: dict[str, Any], keys: list[dict[str, Any]], fields: list[str]) -> list[str]:
    if len(keys) != 1:
        return [f"expected 1 key, the consumer returned {len(keys)}"]
    got = keys[0]
    problems = []
    for name in fields:
        if name not in got:
            problems.append(f"{name}: missing (expected {expected[name]!r})" if name != "secret_hex" else "secret: missing")
        elif got[name] != expected[name]:
            shown = "differs" if name == "secret_hex" else f"{got[name]!r}, expected {expected[name]!r}"
            problems.append(f"{name}: {shown}")
    return problems


@case("export-schema-valid", spec="RFC 6030 §11", level="MUST", subject="pskc_producer")
def test_export_schema_valid(pskc_producer, profile, protection):
    _register_secrets(profile, protection)
    document = produce(pskc_producer, profile, protection)
    valid, verdicts = schema_valid(document)
    for verdict in verdicts:
        evidence.attach("text", f"{verdict.validator} verdict", "\n".join(verdict.messages) or "valid")
    assert valid, f"schema-invalid: {(verdicts[0].messages + verdicts[1].messages)[0]}"


@case("import-essential", spec="RFC 6030 §4.3, §6", level="MUST", subject="pskc_consumer")
def test_import_essential(pskc_producer, pskc_consumer, profile, protection):
    keys = imported(pskc_producer, pskc_consumer, profile, protection)
    problems = compare(profile.key, keys, list(profile.essential))
    assert not problems, "; ".join(problems)


@case("import-metadata", spec="RFC 6030 §4.3, §5", level="SHOULD", subject="pskc_consumer")
def test_import_metadata(pskc_producer, pskc_consumer, profile, protection):
    keys = imported(pskc_producer, pskc_consumer, profile, protection)
    rest = [f for f in profile.key if f not in profile.essential]
    problems = compare(profile.key, keys, rest)
    assert not problems, "; ".join(problems)
