"""PSKC fuzzing: generated containers must survive a round trip, mutated ones must be
decoded correctly or refused cleanly within a time bound.

* ``roundtrip`` (every producer x every consumer): Hypothesis draws containers of HOTP,
  TOTP and OCRA keys (suites/pskc/fuzzing.py), plaintext or under a pre-shared AES key;
  the producer writes each, the consumer reads it back.  The reference codec reads the
  producer's document too, and the consumer is judged only on the fields the reference
  confirms the producer wrote, so a producer's loss is not held against the consumer
  (``roundtrip-export`` judges the producer on exactly that).  The fields that decide an
  OTP (fuzzing.ESSENTIAL_FIELDS) must come back equal; other metadata must come back
  equal when it comes back at all (a field an adapter never returns is listed, not
  failed: the interop suite's SHOULD case import-metadata judges that).
* ``mutated-documents`` (every consumer): valid documents (RFC 6030 figures,
  reference-written containers) are mutated at byte and element level.  A clean refusal
  passes; so does a reading whose key material agrees with the reference codec's reading
  of the same mutant (an empty <Secret> counts as none).  Findings: a fault; a hang (no
  answer within ``CALL_TIMEOUT_S``); a process killed by a signal; key material other
  than the reference reads (wrong-secret, extra-secret, lost-secret, key-count); any
  secret but the genuine one from a container whose integrity check fails.  Where the
  reference itself refuses a mutant for another reason, an import is not judged.

An adapter that dies without a signal or talks garbage is a problem of the lab, not of
the implementation: it is shrunk and attached like a finding, but alone it makes the case
ERROR, never FAIL.  Both cases run under Hypothesis with a fixed seed (runs replay) and a
budget by profile; each category is reported with the smallest example found.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections import Counter
from typing import Any

import pytest
from hypothesis import strategies as st

from harness import evidence, redaction
from harness.adapters.base import Adapter
from harness.cases import case, nonconformance, require
from harness.errors import (
    AdapterCrash, AdapterGarbage, AdapterTimeout, CryptoFailure, Fault, HarnessError, InputError, ProtocolError,
    Refused, Unsupported,
)
from harness.roles.pskc import Protection, normalize_key
from harness.vectors import load_json
from reference.pskc.adapter import ReferencePskc
from suites.pskc import fuzzing
from suites.pskc.fuzzing import Campaign, Finding

CALL_TIMEOUT_S = 5.0  # a decode of a few kilobytes that takes longer is a hang
BUDGETS = {  # examples and seconds per case, by profile
    "quick": {"roundtrip": (25, 20.0), "mutants": (200, 25.0)},
    "full": {"roundtrip": (300, 240.0), "mutants": (3000, 600.0)},
}
_PROTECTION_DATA = load_json("pskc/protections.json")
ROUNDTRIP_PROTECTIONS = (
    Protection("none"),
    Protection("psk", "aes128-cbc", "hmac-sha1", key_hex=_PROTECTION_DATA["psk_keys_hex"]["16"],
               key_name="Pre-shared-key"),
)
_REFERENCE = ReferencePskc()


# --------------------------------------------------------------------------- helpers
def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _register(protection: Protection) -> None:
    for material in (protection.key_hex and bytes.fromhex(protection.key_hex), protection.password):
        if material:
            evidence.secret(material)


def _reveal(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("kplab_reveal_secrets"))


def _attach_document(name: str, document: bytes, reveal: bool) -> None:
    """A document as evidence.  Text evidence is redacted when the case closes; bytes that
    are not UTF-8 are kept as base64, which redaction cannot read, so redact them here."""
    try:
        document.decode("utf-8")
    except UnicodeDecodeError:
        recorder = evidence.current()
        if not reveal and recorder is not None:
            document = redaction.redact_text(document.decode("latin-1"), recorder.secrets).encode("latin-1")
    evidence.attach("file", name, document, "application/xml")


def _decode(consumer: Adapter, document: bytes, secrets: dict[str, str]) -> dict[str, Any]:
    """One consumer call, outside the case transcript (a campaign makes hundreds)."""
    with evidence.suspended():
        params = {"document_b64": _b64(document), **secrets}
        return consumer.call("pskc-consumer.decode", params, timeout_s=CALL_TIMEOUT_S)


_SIGNAL = re.compile(r"[\w.\- ]*killed by signal \d+|exited \(code -\d+\)")


def _answer_finding(exc: BaseException, adapter: str) -> tuple[str, str, BaseException | None] | None:
    """(category, detail, harness error) for an answer that is a finding whatever the input
    (a fault, a hang, a process killed by a signal), or a problem of the lab's plumbing
    (an adapter that died otherwise or talked garbage: harness error set).  None for
    anything else."""
    if isinstance(exc, Fault):
        return f"fault {exc.type}", f"{adapter} raised {exc.type}: {exc.message[:300]}", None
    if isinstance(exc, AdapterTimeout):
        return "hang", f"{adapter} gave no answer within {CALL_TIMEOUT_S:g}s", None
    if isinstance(exc, AdapterCrash) and (signal := _SIGNAL.search(exc.message)):
        return "crash", f"{adapter}: {signal.group(0).strip()}", None
    if isinstance(exc, (AdapterCrash, AdapterGarbage)):
        text = exc.message if len(exc.message) <= 320 else f"{exc.message[:120]} ... {exc.message[-200:]}"
        return f"harness {type(exc).__name__}", f"{adapter}: {text}", exc
    return None


def reference_read(document: bytes, secrets: dict[str, str]) -> tuple[str, Any]:
    """The oracle's reading: ("ok", [KEY]) or ("crypto" | "refused", message)."""
    try:
        result = _REFERENCE.decode({"document_b64": _b64(document), **secrets})
    except CryptoFailure as exc:
        return "crypto", str(exc)
    except (ProtocolError, InputError) as exc:
        return "refused", str(exc)
    return "ok", [normalize_key(k, "reference-pskc") for k in result["keys"]]


def _bounded(fn: Any, *args: Any) -> tuple[str, Any]:
    """``fn(*args)`` on a worker thread: ("oracle-hang", ...) or ("oracle-fault", ...)
    when our own reference fails on a mutant, so that it never blocks a campaign."""
    box: list[tuple[str, Any]] = []

    def work() -> None:
        try:
            box.append(fn(*args))
        except Exception as exc:  # noqa: BLE001 - a reference bug: recorded, not raised
            box.append(("oracle-fault", f"{type(exc).__name__}: {exc}"))

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(CALL_TIMEOUT_S * 2)
    return box[0] if box else ("oracle-hang", f"no reading within {CALL_TIMEOUT_S * 2:g}s")


# --------------------------------------------------------------------------- round trip
def _comparable(name: str, value: Any) -> Any:
    return sorted(value) if name == "key_usage" and isinstance(value, list) else value


def compare_keys(expected: list[dict[str, Any]], got: list[dict[str, Any]],
                 fields: list[set[str]]) -> tuple[list[tuple[str, str]], list[str]]:
    """(problems as (field, detail), dropped metadata fields) for ``got`` against
    ``expected`` on the ``fields`` of each key.  Essential fields must be present and
    equal; a metadata field must be equal when it is returned."""
    if len(got) != len(expected):
        return [("key-count", f"{len(got)} key(s) read back, {len(expected)} written")], []
    problems, dropped = [], []
    order = {name: i for i, name in enumerate(fuzzing.ESSENTIAL_FIELDS)}
    for index, (want, have) in enumerate(zip(expected, got)):
        for name in sorted(fields[index], key=lambda n: (order.get(n, len(order)), n)):
            if name not in have:
                if name in order:
                    problems.append((name, f"key {index} {name}: missing"))
                else:
                    dropped.append(name)
            elif _comparable(name, have[name]) != _comparable(name, want[name]):
                shown = "differs" if name == "secret_hex" else f"{_show(have[name])}, expected {_show(want[name])}"
                problems.append((name, f"key {index} {name}: {shown}"))
    return problems, dropped


def _spec_key(keys: list[dict[str, Any]], protection: Protection) -> str:
    return json.dumps([keys, protection.case_id], sort_keys=True)


def _produce(producer: Adapter, keys: list[dict[str, Any]], protection: Protection) -> bytes:
    with evidence.suspended():
        result = producer.call("pskc-producer.encode", {"keys": keys, "protection": protection.producer_params()},
                               timeout_s=CALL_TIMEOUT_S)
    try:
        return base64.b64decode(result["document_b64"], validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise AdapterGarbage("result has no base64 document_b64", adapter=producer.name) from None


class RoundTrip:
    """The round-trip property for one producer and (optionally) one consumer."""

    def __init__(self, campaign: Campaign, producer: Adapter, consumer: Adapter | None) -> None:
        self.campaign, self.producer, self.consumer = campaign, producer, consumer
        self.stats: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()
        self.declined: Unsupported | None = None

    def __call__(self, example: tuple[list[dict[str, Any]], Protection]) -> None:
        keys, protection = example
        for key in keys:
            evidence.secret(bytes.fromhex(key["secret_hex"]))
        self.campaign.judge(_spec_key(keys, protection), lambda: self._evaluate(keys, protection))

    def _finding(self, category: str, detail: str, keys: list[dict[str, Any]], protection: Protection,
                 *attachments: tuple[str, Any, str], error: BaseException | None = None) -> Finding:
        spec = json.dumps({"protection": protection.case_id, "keys": keys}, indent=1, ensure_ascii=False)
        return Finding(category, detail, keys, f"protection {protection.case_id}", len(spec),
                       (("key specification (JSON)", spec, "application/json"), *attachments), error)

    def _evaluate(self, keys: list[dict[str, Any]], protection: Protection) -> Finding | None:
        judging_producer = self.consumer is None
        try:
            document = _produce(self.producer, keys, protection)
        except Unsupported as exc:
            self.declined = exc
            self.stats["declined by the producer"] += 1
            return None
        except (Refused, Fault, AdapterTimeout, AdapterCrash, AdapterGarbage) as exc:
            if not judging_producer:
                self.stats["producer could not write the container"] += 1
                return None
            category, detail, error = (_answer_finding(exc, self.producer.name)
                                       or ("refused", f"{self.producer.name} refused: {exc}"[:300], None))
            return self._finding(category, detail, keys, protection, error=error)
        except HarnessError as exc:
            raise fuzzing.Abort(exc) from None
        doc_evidence = (f"container from {self.producer.name}.pskcxml", document, "application/xml")
        verdict, reading = reference_read(document, protection.consumer_params())
        if verdict != "ok":
            if not judging_producer:
                self.stats["reference cannot read the producer's container"] += 1
                return None
            detail = f"the reference refuses {self.producer.name}'s container: {reading}"[:300]
            return self._finding("unreadable", detail, keys, protection, doc_evidence)
        if judging_producer:
            problems, dropped = compare_keys(keys, reading, [set(k) for k in keys])
            self.dropped.update(dropped)
            self.stats["judged"] += 1
            if problems:
                return self._finding(f"field {problems[0][0]}", "; ".join(d for _, d in problems[:4]), keys, protection,
                                     doc_evidence)
            return None
        return self._consume(keys, protection, document, reading, doc_evidence)

    def _consume(self, keys: list[dict[str, Any]], protection: Protection, document: bytes,
                 reading: list[dict[str, Any]], doc_evidence: tuple[str, Any, str]) -> Finding | None:
        assert self.consumer is not None
        confirmed = [{n for n in want if n in have and _comparable(n, have[n]) == _comparable(n, want[n])}
                     for want, have in zip(keys, reading)] if len(reading) == len(keys) else []
        if not confirmed:
            self.stats["reference reads a different key count"] += 1
            return None
        try:
            result = _decode(self.consumer, document, protection.consumer_params())
            got = [normalize_key(k, self.consumer.name) for k in result.get("keys", [])]
        except Unsupported as exc:
            self.declined = exc
            self.stats["declined by the consumer"] += 1
            return None
        except Refused as exc:
            return self._finding("refused", f"{self.consumer.name} refused a valid container: {exc}"[:300], keys,
                                 protection, doc_evidence)
        except (Fault, AdapterTimeout, AdapterCrash, AdapterGarbage) as exc:
            category, detail, error = _answer_finding(exc, self.consumer.name)  # type: ignore[misc]
            return self._finding(category, detail, keys, protection, doc_evidence, error=error)
        except HarnessError as exc:
            raise fuzzing.Abort(exc) from None
        problems, dropped = compare_keys(keys, got, confirmed)
        self.dropped.update(dropped)
        self.stats["judged"] += 1
        if problems:
            shown = json.dumps(got, indent=1, ensure_ascii=False)
            return self._finding(f"field {problems[0][0]}", "; ".join(d for _, d in problems[:4]), keys, protection,
                                 doc_evidence, (f"{self.consumer.name}'s reading (JSON)", shown, "application/json"))
        return None


def _report(campaign: Campaign, findings: list[Finding], stats: Counter[str], what: str, reveal: bool,
            extra: dict[str, Any] | None = None) -> None:
    summary = {
        "examples": campaign.examples, "evaluated": campaign.evaluated, "over_budget": campaign.over_budget,
        "seconds": round(campaign.elapsed_s, 2), "outcomes": dict(sorted(stats.items())), **(extra or {}),
    }
    evidence.attach("text", "campaign", json.dumps(summary, indent=1, ensure_ascii=False), "application/json")
    for finding in findings:
        evidence.attach("text", f"finding: {finding.category}", f"{finding.detail}\nsmallest {what}: {finding.recipe}")
        for name, content, media_type in finding.attachments:
            if isinstance(content, bytes):
                _attach_document(f"{finding.category}: {name}", content, reveal)
            else:
                evidence.attach("file", f"{finding.category}: {name}", content, media_type)
    real = [f for f in findings if not f.is_harness]
    plumbing = [f for f in findings if f.is_harness]
    if real:
        also = f" (and {len(plumbing)} harness problem(s), see evidence)" if plumbing else ""
        raise nonconformance(f"{len(real)} finding(s){also}: " + "; ".join(f"[{f.category}] {f.detail}" for f in real))
    if plumbing:
        raise plumbing[0].harness_error  # type: ignore[misc]  # ERROR: the lab failed, not the implementation


def _roundtrip(producer: Adapter, consumer: Adapter | None, profile: str, request: pytest.FixtureRequest) -> None:
    adapters = [a for a in (producer, consumer) if a is not None]
    profiles = tuple(p for p in fuzzing.PROFILES if all(a.spec.has(f"pskc.profile.{p}") for a in adapters))
    if not profiles:
        raise Unsupported(f"{' and '.join(a.name for a in adapters)} declare no common pskc.profile.hotp/totp/ocra",
                          adapter=adapters[-1].name, operation="capability pskc.profile.*")
    protections = [p for p in ROUNDTRIP_PROTECTIONS if all(a.spec.has(c) for a in adapters for c in p.capabilities())]
    for protection in protections:
        _register(protection)
    campaign = Campaign(*BUDGETS[profile]["roundtrip"])
    prop = RoundTrip(campaign, producer, consumer)
    findings = campaign.run(st.tuples(fuzzing.containers(profiles), st.sampled_from(protections)), prop)
    if not prop.stats["judged"] and not findings:
        if prop.declined is not None:
            raise prop.declined
        pytest.skip(f"no generated container could be judged: {dict(prop.stats)}")
    extra = {"profiles": list(profiles), "protections": [p.case_id for p in protections],
             "metadata fields not returned (not judged)": dict(sorted(prop.dropped.items()))}
    _report(campaign, findings, prop.stats, "key specification", _reveal(request), extra)


@case("roundtrip", spec="RFC 6030 §4-§6 (decode(encode(x)) == x)", level="MUST", subject="pskc_consumer")
def test_roundtrip(pskc_producer, pskc_consumer, kplab_profile, request):
    require(pskc_producer, "pskc.encode")
    require(pskc_consumer, "pskc.decode")
    _roundtrip(pskc_producer, pskc_consumer, kplab_profile, request)


@case("roundtrip-export", spec="RFC 6030 §4-§6 (the reference reads back what was written)", level="MUST",
      subject="pskc_producer")
def test_roundtrip_export(pskc_producer, kplab_profile, request):
    require(pskc_producer, "pskc.encode")
    _roundtrip(pskc_producer, None, kplab_profile, request)


# --------------------------------------------------------------------------- mutants
def _secrets_read(result: dict[str, Any], consumer: str) -> list[str | None]:
    keys = result.get("keys")
    if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
        raise AdapterGarbage("decode result has no list of key objects", adapter=consumer)
    out = []
    for key in keys:
        value = key.get("secret_hex")
        try:
            out.append(binascii.unhexlify(value).hex() or None if value is not None else None)
        except (TypeError, ValueError, binascii.Error):
            raise AdapterGarbage("key field secret_hex is not hex", adapter=consumer) from None
    return out


# (consumer has no secret, reference has none) -> category, what happened
_SECRET_MISMATCH = {
    (False, False): ("wrong-secret", "imported a secret other than the one the reference reads from the same mutant"),
    (False, True): ("extra-secret", "imported a secret from a mutant in which the reference finds no key material"),
    (True, False): ("lost-secret", "imported the key without the secret the reference reads from the same mutant"),
}


class MutantJudge:
    """Judges one consumer's answer to one mutant against the reference's reading."""

    def __init__(self, campaign: Campaign, consumer: Adapter, seeds: tuple[fuzzing.Seed, ...]) -> None:
        self.campaign, self.consumer, self.seeds = campaign, consumer, seeds
        self.stats: Counter[str] = Counter()
        self.oracle_problems: dict[str, str] = {}

    def __call__(self, plan: fuzzing.Plan) -> None:
        seed = self.seeds[plan.seed % len(self.seeds)]
        mutant, recipe = fuzzing.apply_plan(plan, self.seeds)
        self.campaign.judge((seed.case_id, mutant), lambda: self._evaluate(seed, mutant, recipe))

    def _finding(self, category: str, detail: str, mutant: bytes, recipe: str,
                 error: BaseException | None = None) -> Finding:
        return Finding(category, detail, mutant, recipe, len(mutant), (("mutant.pskcxml", mutant, "application/xml"),),
                       error)

    def _evaluate(self, seed: fuzzing.Seed, mutant: bytes, recipe: str) -> Finding | None:
        try:
            secrets = _secrets_read(_decode(self.consumer, mutant, seed.secrets), self.consumer.name)
        except Refused:
            self.stats["refused"] += 1
            return None
        except Unsupported:
            self.stats["declined"] += 1
            return None
        except (Fault, AdapterTimeout, AdapterCrash, AdapterGarbage) as exc:
            category, detail, error = _answer_finding(exc, self.consumer.name)  # type: ignore[misc]
            self.stats[category] += 1
            return self._finding(category, detail, mutant, recipe, error)
        except HarnessError as exc:
            raise fuzzing.Abort(exc) from None
        verdict, reading = _bounded(reference_read, mutant, seed.secrets)
        if verdict.startswith("oracle-"):
            self.oracle_problems.setdefault(verdict, f"{reading} ({recipe})"[:500])
        if verdict == "ok":
            theirs = [k.get("secret_hex") or None for k in reading]  # an empty Secret is no secret
            if len(theirs) != len(secrets):
                # Packages without key material (a KeyPackage whose Key was deleted) may be
                # skipped or kept; what must agree is the key material imported.
                if [s for s in secrets if s] == [s for s in theirs if s]:
                    self.stats["accepted, agrees with the reference on key material"] += 1
                    return None
                self.stats["key-count"] += 1
                return self._finding("key-count", f"imported {len(secrets)} key(s) from a mutant the reference reads "
                                     f"as {len(theirs)}, with different key material", mutant, recipe)
            for index, (mine, oracle) in enumerate(zip(secrets, theirs)):
                if mine != oracle:
                    category, what = _SECRET_MISMATCH[(mine is None, oracle is None)]
                    self.stats[category] += 1
                    return self._finding(category, f"key {index}: {what}", mutant, recipe)
            self.stats["accepted, agrees with the reference"] += 1
            return None
        if verdict == "crypto":
            forged = [i for i, s in enumerate(secrets) if s is not None and s not in seed.key_secrets]
            if forged:
                self.stats["wrong-secret"] += 1
                return self._finding("wrong-secret", f"key {forged[0]}: imported a secret that is not the genuine one "
                                     f"from a container whose integrity check fails ({_show(reading)})", mutant, recipe)
        self.stats[f"accepted, reference {verdict}"] += 1
        return None


@case("mutated-documents", spec="RFC 6030 §4-§6 (robustness: decode correctly or refuse cleanly)", level="MUST",
      subject="pskc_consumer")
def test_mutated_documents(pskc_consumer, kplab_profile, request):
    require(pskc_consumer, "pskc.decode")
    seeds = tuple(s for s in fuzzing.seed_documents() if all(pskc_consumer.spec.has(c) for c in s.capabilities))
    for seed in seeds:
        for name, value in seed.secrets.items():
            evidence.secret(bytes.fromhex(value) if name == "key_hex" else value)
        for secret in seed.key_secrets:
            evidence.secret(bytes.fromhex(secret))
    campaign = Campaign(*BUDGETS[kplab_profile]["mutants"])
    judge = MutantJudge(campaign, pskc_consumer, seeds)
    findings = campaign.run(fuzzing.mutation_plans(len(seeds)), judge)
    extra = {"seeds": [s.case_id for s in seeds], "call timeout (s)": CALL_TIMEOUT_S,
             "reference problems (not judged)": judge.oracle_problems}
    _report(campaign, findings, judge.stats, "mutant", _reveal(request), extra)
