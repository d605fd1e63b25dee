"""The PSKC fuzz suite's machinery (suites/pskc/fuzzing.py and the judging helpers of
suites/pskc/test_fuzz.py and test_otp.py): generated key specs are valid for the
reference codec and survive it, seeds carry the secrets the RFC states, mutators change
documents the way they say, campaigns keep the smallest example of every category, and
the OTP suite's reference values agree with the RFC test values."""

from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from harness.errors import AdapterCrash, AdapterGarbage, AdapterTimeout, Fault
from reference import pskc
from reference.pskc import schema
from reference.pskc.adapter import ReferencePskc, from_role, to_role
from suites.pskc import fuzzing
from suites.pskc.fuzzing import Campaign, Finding, Mutation

FEW = settings(max_examples=40, deadline=None, derandomize=True, database=None,
               suppress_health_check=[HealthCheck.too_slow])
NS = "urn:ietf:params:xml:ns:keyprov:pskc"


def reference_roundtrip(keys: list[dict]) -> list[dict]:
    document = pskc.encode(pskc.container_from_fields([from_role(k) for k in keys]))
    return [to_role(pskc.decoded_fields(p)) for p in pskc.decode(document, strict=True).key_packages]


# --------------------------------------------------------------------------- key specs
@FEW
@given(fuzzing.containers())
def test_generated_containers_survive_the_reference_codec(keys):
    assert reference_roundtrip(keys) == keys


@FEW
@given(fuzzing.containers())
def test_generated_containers_are_schema_valid_and_accepted_as_consumer_input(keys):
    document = pskc.encode(pskc.container_from_fields([from_role(k) for k in keys]))
    libxml2, xsd = schema.validate(document)
    assert libxml2.valid and xsd.valid, libxml2.messages + xsd.messages
    decoded = ReferencePskc().decode({"document_b64": base64.b64encode(document).decode()})["keys"]
    assert [k["secret_hex"] for k in decoded] == [k["secret_hex"] for k in keys]


@FEW
@given(fuzzing.key_specs())
def test_key_specs_follow_their_profile(spec):
    assert 16 <= len(bytes.fromhex(spec["secret_hex"])) <= 64
    assert spec["id"] and set(spec["id"]) <= set(fuzzing.ID_ALPHABET)
    if spec["algorithm"] == fuzzing.HOTP_URN:
        assert "counter" in spec and 6 <= spec["response_length"] <= 9 and spec["response_encoding"] == "DECIMAL"
    elif spec["algorithm"] == fuzzing.TOTP_URN:
        assert spec["time_interval"] >= 1 and -(2**31) <= spec["time_drift"] < 2**31
    else:
        assert spec["suite"] in fuzzing.OCRA_SUITES and ("counter" in spec) == (":C-" in spec["suite"])
    for name in fuzzing.TEXT_FIELDS:
        if name in spec:
            assert spec[name] == spec[name].strip() and spec[name]


def test_containers_have_distinct_ids():
    @FEW
    @given(fuzzing.containers())
    def check(keys):
        ids = [k["id"] for k in keys]
        assert len(ids) == len(set(ids)) and 1 <= len(ids) <= 3

    check()


# --------------------------------------------------------------------------- seeds
def test_seeds_decode_to_their_genuine_secrets():
    """The RFC figures' secrets come from index.json (the RFC's own values); the reference
    must read exactly those, else a mutant's verdict would be judged against noise."""
    for seed in fuzzing.seed_documents():
        credentials = {"key": bytes.fromhex(seed.secrets["key_hex"])} if "key_hex" in seed.secrets else (
            {"password": seed.secrets["password"]} if "password" in seed.secrets else {})
        container = pskc.decode(seed.document, **credentials)
        read = [pskc.decoded_fields(p).get("secret_hex") for p in container.key_packages]
        assert [s for s in read if s] == list(seed.key_secrets), seed.case_id


def test_seeds_replay_and_come_smallest_first():
    first = [s.document for s in fuzzing._reference_seeds()]
    assert first == [s.document for s in fuzzing._reference_seeds()]  # fixed randomness
    sizes = [len(s.document) for s in fuzzing.seed_documents()]
    assert sizes == sorted(sizes)
    ids = {s.case_id for s in fuzzing.seed_documents()}
    assert "rfc6030-figure6" in ids and "rfc6030-figure8" not in ids  # figure 8 cannot be decrypted


def test_protected_seeds_declare_what_a_consumer_needs():
    by_id = {s.case_id: s for s in fuzzing.seed_documents()}
    assert by_id["rfc6030-figure6"].capabilities == ("pskc.protect.psk.aes128-cbc", "pskc.mac.hmac-sha1",
                                                     "pskc.profile.hotp")
    assert by_id["rfc6030-figure7"].secrets == {"password": "qwerty"}
    assert by_id["rfc6030-figure3"].capabilities == ("pskc.profile.hotp",)
    assert by_id["rfc6030-figure5"].capabilities == ("pskc.profile.hotp", "pskc.profile.pin")  # HOTP key + PIN key
    assert set(by_id["reference:bulk+none"].capabilities) == {f"pskc.profile.{p}" for p in fuzzing.PROFILES}


@FEW
@given(st.data())
def test_containers_keep_to_the_profiles_asked_for(data):
    profiles = data.draw(st.sets(st.sampled_from(fuzzing.PROFILES), min_size=1).map(tuple))
    keys = data.draw(fuzzing.containers(profiles))
    assert {k["algorithm"] for k in keys} <= {fuzzing.ALGORITHMS[p] for p in profiles}


# --------------------------------------------------------------------------- mutators
DOC = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
       b'<KeyContainer xmlns="urn:ietf:params:xml:ns:keyprov:pskc" Version="1.0"><KeyPackage>'
       b'<Key Id="K1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp"><Issuer>I</Issuer>'
       b'<Data><Counter><PlainValue>5</PlainValue></Counter></Data></Key></KeyPackage></KeyContainer>')


def _elements(doc: bytes) -> list[str]:
    return [etree.QName(e).localname for e in etree.fromstring(doc).iter() if isinstance(e.tag, str)]


def test_byte_mutations_do_what_they_say():
    flipped, _ = fuzzing.apply_mutation(DOC, Mutation("flip", 10, 0x1F))
    assert len(flipped) == len(DOC) and [i for i in range(len(DOC)) if DOC[i] != flipped[i]] == [10]
    assert fuzzing.apply_mutation(DOC, Mutation("truncate", 20, 0))[0] == DOC[:20]
    assert fuzzing.apply_mutation(DOC, Mutation("delete", 5, 2))[0] == DOC[:5] + DOC[8:]
    assert fuzzing.apply_mutation(DOC, Mutation("insert", 3, 0, b"<&"))[0] == DOC[:3] + b"<&" + DOC[3:]
    assert fuzzing.apply_mutation(DOC, Mutation("duplicate", 4, 1))[0] == DOC[:6] + DOC[4:6] + DOC[6:]
    # positions wrap around the document, so any drawn integer applies
    assert fuzzing.apply_mutation(DOC, Mutation("truncate", len(DOC) + 7, 0))[0] == DOC[:7]
    assert fuzzing.apply_mutation(b"", Mutation("flip", 3, 1))[0] == b""


def test_element_mutations_do_what_they_say():
    before = _elements(DOC)
    deleted, what = fuzzing.apply_mutation(DOC, Mutation("delete-element", before.index("Issuer"), 0))
    assert "Issuer" not in _elements(deleted) and "delete KeyContainer/KeyPackage/Key/Issuer" in what
    doubled, _ = fuzzing.apply_mutation(DOC, Mutation("duplicate-element", before.index("Issuer"), 0))
    assert _elements(doubled).count("Issuer") == 2
    swapped, _ = fuzzing.apply_mutation(DOC, Mutation("swap-siblings", before.index("Issuer"), 0))
    assert _elements(swapped).index("Data") < _elements(swapped).index("Issuer")
    # set-text picks among leaves only: Issuer and PlainValue here
    value_index = fuzzing.CONFUSED_VALUES.index("-1")
    texted, what = fuzzing.apply_mutation(DOC, Mutation("set-text", 1, value_index))
    assert etree.fromstring(texted).findtext(f".//{{{NS}}}PlainValue") == "-1" and "PlainValue" in what
    attributed, _ = fuzzing.apply_mutation(DOC, Mutation("set-attribute", before.index("Key"), 0))
    key = etree.fromstring(attributed).find(f".//{{{NS}}}Key")
    assert key.get("Algorithm") == fuzzing.CONFUSED_VALUES[0]  # attribute 0 of (Algorithm, Id), value 0
    moved, _ = fuzzing.apply_mutation(DOC, Mutation("wrong-namespace", before.index("Counter"), 0))
    counter = etree.fromstring(moved).find(".//{urn:example:keyprov-lab:wrong}Counter")
    assert counter is not None


def test_element_mutations_skip_what_they_cannot_do():
    assert fuzzing.apply_mutation(b"<not xml", Mutation("set-text", 0, 0))[0] == b"<not xml"
    assert fuzzing.apply_mutation(DOC, Mutation("delete-element", 0, 0))[0] == DOC  # the root stays
    assert fuzzing.apply_mutation(DOC, Mutation("set-attribute", _elements(DOC).index("Issuer"), 0))[0] == DOC


@FEW
@given(fuzzing.mutation_plans(len(fuzzing.seed_documents())))
def test_plans_replay_and_describe_themselves(plan):
    seeds = fuzzing.seed_documents()
    mutant, recipe = fuzzing.apply_plan(plan, seeds)
    assert fuzzing.apply_plan(plan, seeds) == (mutant, recipe)
    assert recipe.startswith(f"seed {seeds[plan.seed].case_id}; 1. ")
    assert recipe.count(". ") >= len(plan.mutations)


def test_mutations_change_most_documents():
    """A mutator that mostly returns its input would test nothing."""
    seeds = fuzzing.seed_documents()
    changed = []

    @settings(max_examples=100, deadline=None, derandomize=True, database=None)
    @given(fuzzing.mutation_plans(len(seeds)))
    def collect(plan):
        changed.append(fuzzing.apply_plan(plan, seeds)[0] != seeds[plan.seed].document)

    collect()
    assert sum(changed) / len(changed) > 0.8


# --------------------------------------------------------------------------- campaigns
def _finding(category: str, value: int) -> Finding:
    return Finding(category, f"value {value}", value, str(value), abs(value))


def test_campaign_reports_every_category_with_its_smallest_example():
    campaign = Campaign(examples=300, budget_s=60)

    def prop(x: int) -> None:
        campaign.judge(x, lambda: _finding("big", x) if x >= 1000 else _finding("negative", x) if x < -5 else None)

    found = campaign.run(st.integers(), prop)
    assert [(f.category, f.example) for f in found] == [("big", 1000), ("negative", -6)]


def test_campaign_without_findings_runs_its_examples():
    campaign = Campaign(examples=50, budget_s=60)
    assert campaign.run(st.integers(), lambda x: campaign.judge(x, lambda: None)) == []
    assert campaign.evaluated >= 40 and campaign.runs == 1


def test_campaign_over_budget_calls_nothing():
    campaign = Campaign(examples=50, budget_s=-1)
    calls = []
    found = campaign.run(st.integers(), lambda x: campaign.judge(x, lambda: calls.append(x) or _finding("any", x)))
    assert found == [] and calls == [] and campaign.over_budget > 0


def test_campaign_lets_harness_errors_through():
    campaign = Campaign(examples=10, budget_s=60)

    def prop(x: int) -> None:
        raise fuzzing.Abort(AdapterGarbage("garbage", adapter="double"))

    with pytest.raises(AdapterGarbage):
        campaign.run(st.integers(), prop)


# --------------------------------------------------------------------------- judging helpers
def test_answers_that_are_findings_whatever_the_input():
    from suites.pskc.test_fuzz import _answer_finding

    fault = Fault("boom", adapter="a", operation="op", type="KeyError")
    assert _answer_finding(fault, "a")[:1] == ("fault KeyError",)
    assert _answer_finding(AdapterTimeout("slow", adapter="a"), "a")[0] == "hang"
    signal = AdapterCrash("process exited (code 1); stderr: ... AdapterCrash: pskctool --info killed by signal 11:",
                          adapter="a")
    assert _answer_finding(signal, "a")[:2] == ("crash", "a: pskctool --info killed by signal 11")
    assert _answer_finding(AdapterCrash("process exited (code -6) while answering", adapter="a"), "a")[0] == "crash"
    plumbing = _answer_finding(AdapterCrash("process exited (code 1): Traceback", adapter="a"), "a")
    assert plumbing[0] == "harness AdapterCrash" and plumbing[2] is not None


def test_binary_mutants_are_redacted_before_they_become_base64_evidence():
    from harness import evidence
    from suites.pskc.test_fuzz import _attach_document

    secret = bytes.fromhex("3132333435363738393031323334353637383930")
    mutant = b"<PlainValue>\xff" + base64.b64encode(secret) + b"</PlainValue>"
    recorder, token = evidence.open_recorder()
    try:
        evidence.secret(secret)
        _attach_document("mutant", mutant, reveal=False)
        _attach_document("kept", mutant, reveal=True)
    finally:
        evidence.close_recorder(token)
    redacted, kept = (base64.b64decode(item.content) for item in recorder.items)
    assert base64.b64encode(secret) not in redacted and b"fp:" in redacted and redacted.startswith(b"<PlainValue>\xff")
    assert kept == mutant


def test_compare_keys_judges_essential_fields_and_tolerates_dropped_metadata():
    from suites.pskc.test_fuzz import compare_keys

    want = [{"id": "K", "counter": 5, "issuer": "I", "key_usage": ["OTP", "CR"]}]
    assert compare_keys(want, [{"id": "K", "counter": 5, "key_usage": ["CR", "OTP"]}], [set(want[0])]) == ([], ["issuer"])
    problems, _ = compare_keys(want, [{"id": "K", "issuer": "J", "key_usage": ["OTP", "CR"]}], [set(want[0])])
    assert problems == [("counter", "key 0 counter: missing"), ("issuer", "key 0 issuer: 'J', expected 'I'")]
    assert compare_keys(want, [], [set(want[0])])[0][0][0] == "key-count"


# --------------------------------------------------------------------------- otp suite
def test_otp_reference_values_are_the_rfc_ones():
    """RFC 4226 Appendix D (counter 0: 755224), RFC 6238 Appendix B (59 s, SHA-1, 8 digits:
    94287082), RFC 6287 Appendix C.1 (OCRA-1:HOTP-SHA1-6:QN08, Q=00000000: 237653)."""
    from suites.pskc.test_otp import Check, reference_otp

    secret = "3132333435363738393031323334353637383930"
    assert reference_otp(Check("otp-generator.hotp", {"secret_hex": secret, "counter": 0, "digits": 6,
                                                      "algorithm": "sha1"}, "", ())) == "755224"
    assert reference_otp(Check("otp-generator.totp", {"secret_hex": secret, "time": 59, "step": 30, "t0": 0,
                                                      "digits": 8, "algorithm": "sha1"}, "", ())) == "94287082"
    assert reference_otp(Check("otp-generator.ocra", {"suite": "OCRA-1:HOTP-SHA1-6:QN08", "secret_hex": secret,
                                                      "question": "00000000"}, "", ())) == "237653"


def test_otp_keys_cover_the_three_profiles_with_their_parameters():
    from suites.pskc.test_otp import _checks, otp_keys

    keys = {k.case_id: k for k in otp_keys()}
    hotp = keys["interop-hotp#0:KPLAB-HOTP-0001"]
    assert [c.params["counter"] for c in _checks(hotp)] == [42, 43, 52] and _checks(hotp)[0].params["digits"] == 8
    totp = _checks(keys["interop-totp#0:KPLAB-TOTP-0001"])
    assert {(c.params["step"], c.params["t0"]) for c in totp} == {(30, 0)}
    ocra = _checks(keys["interop-ocra#0:KPLAB-OCRA-0001"])  # OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1, counter 7
    assert {c.params["counter"] for c in ocra} == {7, 8} and all(c.params["pin"] == "1234" for c in ocra)
    assert "rfc6030-figure4#0:12345678" not in keys  # no secret: nothing to compute
    assert not any(":123456781" in k for k in keys)  # the PIN key of Figure 5 is no OTP key


# --------------------------------------------------------------------------- the mutant judge
class FakeConsumer:
    """A consumer double: reads like the reference, except where ``behaviour`` says."""

    def __init__(self, behaviour):
        from types import SimpleNamespace

        self.name = "double"
        self.spec = SimpleNamespace(has=lambda capability: True)
        self.behaviour = behaviour

    def call(self, op, params, timeout_s=None):
        from harness.adapters.base import interpret_answer
        from harness.adapters.inprocess import InProcessTransport

        self.behaviour(base64.b64decode(params["document_b64"]))  # may raise AdapterTimeout at once
        answer = InProcessTransport(self.name, ReferencePskc(), default_timeout_s=None).request(op, params, None)
        return interpret_answer(self.name, op, answer)


def _judge(behaviour, examples=40):
    from suites.pskc.test_fuzz import MutantJudge

    seeds = fuzzing.seed_documents()[:3]  # plaintext figures 2, 4, 3
    campaign = Campaign(examples=examples, budget_s=60)
    judge = MutantJudge(campaign, FakeConsumer(behaviour), seeds)
    return campaign.run(fuzzing.mutation_plans(len(seeds)), judge), judge


def test_judge_passes_a_consumer_that_reads_like_the_reference():
    findings, judge = _judge(lambda document: None)
    assert findings == [] and judge.stats["accepted, agrees with the reference"] > 0 and judge.stats["refused"] > 0


def test_judge_reports_a_hang_with_a_small_mutant():
    def hang_without_issuer(document):
        if b"<Issuer>" not in document and b"<KeyPackage>" in document:
            raise AdapterTimeout("no answer", adapter="double")

    findings, _ = _judge(hang_without_issuer, examples=150)
    assert [f.category for f in findings] == ["hang"]
    assert b"<Issuer>" not in findings[0].example and findings[0].recipe.startswith("seed rfc6030-figure")


def test_judge_reports_a_silently_wrong_secret():
    from suites.pskc import test_fuzz

    original = test_fuzz._decode

    def tampering_decode(consumer, document, secrets):
        result = original(consumer, document, secrets)
        for key in result["keys"]:
            if key.get("secret_hex"):
                key["secret_hex"] = "00" + key["secret_hex"][2:]
        return result

    test_fuzz._decode = tampering_decode
    try:
        findings, _ = _judge(lambda document: None)
    finally:
        test_fuzz._decode = original
    assert [f.category for f in findings] == ["wrong-secret"]
