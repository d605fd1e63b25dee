"""PSKC consumers on the generated vectors (vectors/pskc/generated, made by
``python -m reference.pskc.vectorgen``): every protection x MAC x key profile of the
interop matrix as fixed files, plus damaged copies.

A valid vector must import to its expected fields: the profile's essential fields
(secret, algorithm, counter/time, response format; vectors/pskc/interop-keys.json) are a
MUST, the remaining metadata a SHOULD, as in the interop suite.  An invalid vector must be
refused (MUST).  The quick profile runs one valid vector per protection family and every
invalid one; the full profile runs all.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from harness import evidence
from suites.pskc.corpus import IndexEntry
from harness.cases import case, require
from harness.errors import Refused
from harness.roles.pskc import Protection, PskcConsumer
from harness.vectors import load_json, vector_path
from reference.pskc.algorithms import CIPHERS
from suites.pskc import matrix
from suites.pskc.test_import import _mismatches

HERE = "pskc/generated"


Vector = IndexEntry

@functools.lru_cache(maxsize=1)
def _index() -> tuple[Vector, ...]:
    return tuple(Vector(v) for v in load_json(f"{HERE}/index.json")["vectors"])


def _family(vector: dict[str, Any]) -> tuple[str, str]:
    """(method, cipher family): cbc, kw (RFC 3394/3217/3657), kwp (RFC 5649), or the RSA scheme."""
    method, algorithm = vector["protection"]["method"], vector["protection"]["algorithm"]
    if algorithm is None:
        return method, ""
    cipher = CIPHERS[algorithm]
    return method, cipher.name if cipher.family == "rsa" else cipher.family


def _quick(vectors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[str, str]] = set()
    chosen = []
    for vector in vectors:
        if vector["result"] == "valid" and _family(vector) not in seen:
            seen.add(_family(vector))
            chosen.append(vector)
    return chosen


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for name, result in (("valid_vector", "valid"), ("invalid_vector", "invalid")):
        if name in metafunc.fixturenames:
            vectors = [v for v in _index() if v["result"] == result]
            if result == "valid" and metafunc.config.getoption("kplab_profile") == "quick":
                vectors = _quick(vectors)
            metafunc.parametrize(name, vectors, ids=[v["id"] for v in vectors])


def _protection(vector: dict[str, Any]) -> Protection:
    p = vector["protection"]
    return Protection(p["method"], p["algorithm"], p["mac"])


def _consumer_secrets(vector: dict[str, Any]) -> dict[str, str]:
    """The vector's secrets as pskc-consumer.decode params (PEM read from beside the index)."""
    out: dict[str, str] = {}
    for name, value in vector["secrets"].items():
        if name == "private_key_file":
            text = vector_path(f"{HERE}/{value}").read_text(encoding="ascii")
            out["private_key_pem"] = text[text.index("-----BEGIN"):]  # without the throw-away label
        else:
            out[name] = value
    return out


def _true_secrets(vector: dict[str, Any]) -> set[str]:
    base = vector
    if "derived_from" in vector:
        base = next(v for v in _index() if v["id"] == vector["derived_from"])
    return {k["secret_hex"] for k in base["expected"] if "secret_hex" in k}


def _register(vector: dict[str, Any], params: dict[str, str]) -> None:
    for secret in _true_secrets(vector):
        evidence.secret(bytes.fromhex(secret))
    for name, value in params.items():
        evidence.secret(bytes.fromhex(value) if name == "key_hex" else value)


_imported: dict[tuple[str, str], list[dict[str, Any]] | Exception] = {}


def _decode(consumer, vector: dict[str, Any]) -> list[dict[str, Any]]:  # noqa: ANN001
    """The consumer's keys for a vector (raises its Refused/Fault); decoded once per pair."""
    require(consumer, "pskc.decode", *_protection(vector).capabilities())
    params = _consumer_secrets(vector)
    _register(vector, params)
    document = vector_path(f"{HERE}/{vector['file']}").read_bytes()
    evidence.attach("file", vector["file"], document, "application/xml")
    key = (consumer.name, vector["id"])
    if key not in _imported:
        try:
            _imported[key] = PskcConsumer(consumer).decode(document, params)
        except Refused as exc:
            _imported[key] = exc
    got = _imported[key]
    if isinstance(got, Exception):
        raise got
    return got


def _essential(vector: dict[str, Any]) -> tuple[str, ...]:
    return next(p.essential for p in matrix.profiles() if p.name == vector["profile"])


def _expected(vector: dict[str, Any], essential: bool) -> list[dict[str, Any]]:
    names = _essential(vector)
    return [{k: v for k, v in key.items() if (k in names) == essential} for key in vector["expected"]]


def _import_valid(consumer, vector: dict[str, Any]) -> list[dict[str, Any]]:  # noqa: ANN001
    try:
        return _decode(consumer, vector)
    except Refused as exc:
        pytest.fail(f"refused a valid container ({vector['comment']}): {exc}")


@case("generated-valid", spec="RFC 6030 §4-§6, §10", level="MUST", subject="pskc_consumer")
def test_generated_valid(pskc_consumer, valid_vector):
    got = _import_valid(pskc_consumer, valid_vector)
    problems = _mismatches(_expected(valid_vector, essential=True), got)
    assert not problems, f"{valid_vector['rfc']}: " + "; ".join(problems)


@case("generated-metadata", spec="RFC 6030 §4.3, §5", level="SHOULD", subject="pskc_consumer")
def test_generated_metadata(pskc_consumer, valid_vector):
    got = _import_valid(pskc_consumer, valid_vector)
    problems = _mismatches(_expected(valid_vector, essential=False), got)
    assert not problems, "; ".join(problems)


@case("generated-invalid", spec="RFC 6030 §6.1, §6.1.1", level="MUST", subject="pskc_consumer")
def test_generated_invalid(pskc_consumer, invalid_vector):
    try:
        keys = _decode(pskc_consumer, invalid_vector)
    except Refused:
        return
    returned = {k.get("secret_hex") for k in keys} - {None}
    if returned - _true_secrets(invalid_vector):
        pytest.fail(f"imported a WRONG secret silently ({invalid_vector['comment']}; {invalid_vector['rfc']})")
    pytest.fail(f"accepted a damaged container ({invalid_vector['comment']}; {invalid_vector['rfc']}), "
                f"{len(keys)} key(s) imported")
