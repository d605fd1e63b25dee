"""The KMIP fuzz suite's machinery: mutations change requests the way their recipe says,
every mutant frames as a complete message, and the judge tells a response, a clean close,
a hang, a crash and garbage apart (with scripted fake servers, not real ones)."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings

from harness.errors import AdapterGarbage
from reference.kmip import ttlv
from reference.kmip.ttlv import ItemType
from suites.kmip import fuzzing, messages as m
from suites.kmip.fuzzing import Mutation, Plan
from suites.kmip.test_fuzz import MutantJudge
from suites.pskc.fuzzing import Campaign

FEW = settings(max_examples=200, deadline=None, derandomize=True, database=None,
               suppress_health_check=[HealthCheck.too_slow])
SEEDS = fuzzing.seed_messages()


def seed_index(name: str) -> int:
    return next(i for i, s in enumerate(SEEDS) if s.name == name)


@FEW
@given(fuzzing.plans(len(SEEDS)))
def test_every_mutant_frames_as_one_complete_message(plan):
    data, recipe = fuzzing.apply_plan(plan, SEEDS)
    assert len(data) % 8 == 0 and int.from_bytes(data[4:8], "big") == len(data) - 8, recipe
    assert recipe.startswith("seed ")


def test_seeds_are_valid_requests_smallest_first():
    for seed in SEEDS:
        assert ttlv.decode(seed.message).tag == m.tag("RequestMessage")
    assert [len(s.message) for s in SEEDS] == sorted(len(s.message) for s in SEEDS)


def test_item_offsets_match_the_encoding():
    data = SEEDS[seed_index("get")].message
    offsets = fuzzing.item_offsets(data)
    # RequestHeader, ProtocolVersion, Major, Minor, BatchCount, BatchItem, Operation, RequestPayload, UniqueIdentifier
    assert [int.from_bytes(data[o:o + 3], "big") for o in offsets] == [m.tag(n) for n in (
        "RequestHeader", "ProtocolVersion", "ProtocolVersionMajor", "ProtocolVersionMinor", "BatchCount", "BatchItem",
        "Operation", "RequestPayload", "UniqueIdentifier")]


def mutate(seed: str, *mutations: Mutation) -> tuple[bytes, str]:
    return fuzzing.apply_plan(Plan(seed_index(seed), mutations), SEEDS)


def test_delete_duplicate_swap_and_retype_do_what_they_say():
    data, recipe = mutate("get", Mutation("delete", 8, 0))  # item 8 = UniqueIdentifier
    payload = ttlv.decode(data).find(m.tag("BatchItem")).find(m.tag("RequestPayload"))
    assert payload.items == () and recipe.endswith("delete BatchItem/RequestPayload/UniqueIdentifier")
    data, _ = mutate("get", Mutation("duplicate", 8, 0))
    assert len(ttlv.decode(data).find(m.tag("BatchItem")).find(m.tag("RequestPayload")).items) == 2
    data, recipe = mutate("get", Mutation("swap", 6, 0))  # Operation <-> RequestPayload
    tags = [c.tag for c in ttlv.decode(data).find(m.tag("BatchItem")).items]
    assert tags == [m.tag("RequestPayload"), m.tag("Operation")] and "swap" in recipe
    data, recipe = mutate("get", Mutation("retype", 4, 0))  # BatchCount Integer -> another type
    count = ttlv.decode(data).find(m.tag("RequestHeader")).find(m.tag("BatchCount"))
    assert count.type is not ItemType.INTEGER and "retype RequestHeader/BatchCount as" in recipe


def test_length_mutation_sets_the_field_and_keeps_the_outer_frame():
    data, recipe = mutate("get", Mutation("length", 8, fuzzing.LENGTHS.index("uint-max")))
    at = fuzzing.item_offsets(SEEDS[seed_index("get")].message)[8]
    assert data[at + 4:at + 8] == b"\xff\xff\xff\xff" and "4294967295" in recipe
    assert int.from_bytes(data[4:8], "big") == len(data) - 8


def test_truncation_is_padded_and_reframed():
    data, recipe = mutate("get", Mutation("truncate", 13, 0))
    assert recipe.endswith("truncate to 21 bytes") and len(data) == 24 and data[21:] == b"\x00\x00\x00"


# --------------------------------------------------------------------------- the judge
class FakeConn:
    def __init__(self, server):
        self.server = server

    def send_raw(self, data, *, timeout_s):
        return self.server.answer(data, timeout_s)

    def close(self):
        pass


class FakeServer:
    """A server that answers Invalid Message, except where ``behaviour(data)`` says
    "close", "hang", "die" or "garbage"."""

    name = "fake"

    def __init__(self, behaviour):
        self.behaviour, self.dead = behaviour, False

    def connect(self, timeout_s=10.0):
        return FakeConn(self)

    def alive(self, timeout_s=5.0):
        return not self.dead

    def answer(self, data, timeout_s):
        what = self.behaviour(data)
        if what == "close":
            return None
        if what == "hang":
            time.sleep(timeout_s)
            return None
        if what == "die":
            self.dead = True
            return None
        if what == "garbage":
            raise AdapterGarbage("not TTLV", adapter="fake")
        if what == "not-a-response":
            return ttlv.encode(m.single("DiscoverVersions"))
        if what == "empty-response":
            header = m.Item.structure(m.tag("ResponseHeader"), [m.protocol_version((1, 4)),
                                                                m.Item.date_time(m.tag("TimeStamp"), 0),
                                                                m.Item.integer(m.tag("BatchCount"), 0)])
            return ttlv.encode(m.Item.structure(m.tag("ResponseMessage"), [header]))
        header = m.Item.structure(m.tag("ResponseHeader"), [m.protocol_version((1, 4)),
                                                            m.Item.date_time(m.tag("TimeStamp"), 0),
                                                            m.Item.integer(m.tag("BatchCount"), 1)])
        item = m.Item.structure(m.tag("BatchItem"), [
            m.Item.enumeration(m.tag("ResultStatus"), m.enum("Result Status", "OperationFailed")),
            m.Item.enumeration(m.tag("ResultReason"), m.enum("Result Reason", "InvalidMessage"))])
        return ttlv.encode(m.Item.structure(m.tag("ResponseMessage"), [header, item]))


def judge_one(server, data, bound=0.2):
    judge = MutantJudge(Campaign(1, 10.0), server, bound)
    return judge._evaluate(data, "recipe"), judge.stats


def test_judge_classifies_answers():
    data = SEEDS[0].message
    assert judge_one(FakeServer(lambda d: "answer"), data) == (None, {"response OperationFailed/InvalidMessage": 1})
    assert judge_one(FakeServer(lambda d: "close"), data) == (None, {"connection closed": 1})
    for behaviour, category in (("hang", "hang"), ("die", "crash"), ("garbage", "garbage"), ("not-a-response", "garbage"),
                                ("empty-response", "malformed-response")):
        finding, _ = judge_one(FakeServer(lambda d, b=behaviour: b), data)
        assert finding.category == category and finding.attachments[0][1] == data.hex()


def test_campaign_shrinks_a_hang_to_a_small_reproducer():
    # The fake hangs whenever an item declares a length of 2**32-1: the minimal plan is one
    # "length" mutation of the smallest seed.
    def behaviour(data):
        return "hang" if b"\xff\xff\xff\xff" in data[8:] else "answer"

    campaign = Campaign(300, 60.0)
    judge = MutantJudge(campaign, FakeServer(behaviour), 0.05)
    findings = campaign.run(fuzzing.plans(len(SEEDS)), judge)
    assert [f.category for f in findings] == ["hang"]
    assert findings[0].recipe.startswith(f"seed {SEEDS[0].name}; 1. ") and findings[0].recipe.count(". ") <= 3
    assert b"\xff\xff\xff\xff" in findings[0].example
