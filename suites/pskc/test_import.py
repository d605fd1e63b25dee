"""PSKC consumers on documents others wrote: the RFC 6030 examples (MUST import to what the
RFC states) and python-pskc's sample corpus from ../shared (INFO: agreement with
python-pskc 1.4's published readings, an interop oracle, not a normative one)."""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest

from harness import evidence
from harness.cases import case, require
from harness.errors import Refused
from harness.roles.pskc import PskcConsumer, normalize_date
from harness.vectors import load_json, shared_dir
from suites.pskc.corpus import SHARED_PSKC, IndexEntry, shared_samples

# python-pskc's names in EXPECTED-python-pskc-1.4.json -> the lab's KEY fields.
PYTHON_PSKC_FIELDS = {
    "id": "id", "algorithm": "algorithm", "secret": "secret_hex", "counter": "counter", "time_offset": "time",
    "time_interval": "time_interval", "issuer": "issuer", "manufacturer": "manufacturer", "serial": "serial",
    "response_encoding": "response_encoding", "response_length": "response_length", "key_profile": "key_profile_id",
    "key_reference": "key_reference", "friendly_name": "friendly_name", "start_date": "start_date", "expiry_date": "expiry_date",
}


def _mismatches(expected: list[dict[str, Any]], got: list[dict[str, Any]]) -> list[str]:
    if len(expected) != len(got):
        return [f"{len(got)} keys imported, expected {len(expected)}"]
    problems = []
    for index, (want, have) in enumerate(zip(expected, got)):
        for name, value in want.items():
            if have.get(name) != value:
                shown = "differs" if name == "secret_hex" else f"{have.get(name)!r}, expected {value!r}"
                problems.append(f"key {index} {name}: {shown}")
    return problems


RFC_VECTORS = [IndexEntry(v) for v in load_json("pskc/rfc6030/index.json")["vectors"] if v["result"] == "valid"]


@case("rfc-example", spec="RFC 6030 §4-§8 (Figures 2-10)", level="MUST", subject="pskc_consumer")
@pytest.mark.parametrize("vector", RFC_VECTORS, ids=lambda v: v["id"])
def test_rfc_example(pskc_consumer, vector):
    require(pskc_consumer, "pskc.decode")
    for key in vector["expected"]:
        if "secret_hex" in key:
            evidence.secret(bytes.fromhex(key["secret_hex"]))
    from harness.vectors import vector_path

    document = vector_path(f"pskc/rfc6030/{vector['file']}").read_bytes()
    got = PskcConsumer(pskc_consumer).decode(document, vector["secrets"])
    problems = _mismatches(vector["expected"], got)
    assert not problems, f"{vector['rfc']}: " + "; ".join(problems)


@functools.lru_cache(maxsize=1)
def _python_pskc_expectations() -> dict[str, Any]:
    root = shared_dir()
    if root is None:
        return {}
    return json.loads((root / SHARED_PSKC / "EXPECTED-python-pskc-1.4.json").read_text(encoding="utf-8"))


def _decodable_samples() -> list[Any]:
    expected = _python_pskc_expectations()
    out = []
    for doc in shared_samples():
        entry = expected.get(doc.case_id.removeprefix("python-pskc:"))
        if entry and entry.get("parse") == "ok" and not str(entry.get("decrypted_with", "")).startswith("FAILED"):
            if "noiv" not in doc.case_id:  # needs an out-of-band IV that no operation carries
                out.append(doc)
    return out


def _secrets_for(entry: dict[str, Any]) -> dict[str, str]:
    used = entry.get("decrypted_with")
    if isinstance(used, dict):
        return {"key_hex": used["key"]} if "key" in used else {"password": used["password"]}
    return {}


def _expected_keys(entry: dict[str, Any]) -> list[dict[str, Any]]:
    keys = []
    for raw in entry["keys"]:
        key = {}
        for theirs, ours in PYTHON_PSKC_FIELDS.items():
            value = raw.get(theirs)
            if value is None or (isinstance(value, str) and value.startswith("ERROR")):
                continue
            key[ours] = normalize_date(value) if ours.endswith("_date") else value
        keys.append(key)
    return keys


@case("python-pskc-agreement", spec="RFC 6030 (interop with python-pskc 1.4)", level="INFO", subject="pskc_consumer")
@pytest.mark.parametrize("document", _decodable_samples(), ids=lambda d: d.case_id)
def test_python_pskc_agreement(pskc_consumer, document):
    require(pskc_consumer, "pskc.decode")
    entry = _python_pskc_expectations()[document.case_id.removeprefix("python-pskc:")]
    secrets = _secrets_for(entry)
    for value in secrets.values():
        evidence.secret(value)
    expected = _expected_keys(entry)
    for key in expected:
        if "secret_hex" in key:
            evidence.secret(bytes.fromhex(key["secret_hex"]))
    try:
        got = PskcConsumer(pskc_consumer).decode(document.read(), secrets)
    except Refused as exc:
        pytest.fail(f"refused a file python-pskc reads: {exc}")
    problems = _mismatches(expected, got)
    assert not problems, "differs from python-pskc: " + "; ".join(problems[:8])
