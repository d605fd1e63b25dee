"""KMIP fuzzing: structure-aware mutants of valid KMIP 1.4 requests against a server.

Hypothesis draws plans (suites/kmip/fuzzing.py): a valid request, then one to three
mutations of its item tree (delete, duplicate, swap, type confusion, boundary values,
wrapping) or of its bytes (length fields up to 2**32-1, type bytes, flipped bytes,
truncation), with the outer length always consistent so the server holds the whole
message.  Each mutant goes on a fresh connection.  Accepted answers: a KMIP Response
Message (whatever its status), or the connection closed; afterwards the server must still
answer a Discover Versions on a new connection.

Findings (MUST, KMIP 1.4 §11.1: a message that "cannot be parsed" gets a response):
``hang`` (nothing within the time bound), ``crash`` (the server stops answering new
connections), ``garbage`` (the answer is not a Response Message), ``malformed-response`` (a
Response Message without Batch Item or Result Status, both REQUIRED by 1.4 Tables 281, 285).  Each is shrunk by
Hypothesis; the smallest reproducing message is attached as hex with its recipe.  The
campaign is deterministic (fixed seed) and sized by the profile.
"""

from __future__ import annotations

import json
import time
from collections import Counter

from harness import evidence
from harness.cases import case, nonconformance
from harness.errors import AdapterCrash, AdapterGarbage, AdapterTimeout, HarnessError, Unsupported
from suites.kmip import fuzzing
from suites.kmip.messages import VERSION, NotAResponse, read_answer
from suites.pskc.fuzzing import Abort, Campaign, Finding

BUDGETS = {  # (examples, seconds, per-mutant time bound) by profile
    "quick": (300, 30.0, 3.0),
    "full": (3000, 600.0, 5.0),
}


class MutantJudge:
    """Sends one mutant, classifies what the server does."""

    def __init__(self, campaign: Campaign, kmip, bound_s: float) -> None:  # type: ignore[no-untyped-def]
        self.campaign, self.kmip, self.bound_s = campaign, kmip, bound_s
        self.seeds = fuzzing.seed_messages()
        self.stats: Counter[str] = Counter()

    def __call__(self, plan: fuzzing.Plan) -> None:
        mutant, recipe = fuzzing.apply_plan(plan, self.seeds)
        self.campaign.judge(mutant, lambda: self._evaluate(mutant, recipe))

    def _finding(self, category: str, detail: str, mutant: bytes, recipe: str) -> Finding:
        return Finding(category, detail, mutant, recipe, len(mutant), (("mutant (hex)", mutant.hex(), "text/plain"),))

    def _evaluate(self, mutant: bytes, recipe: str) -> Finding | None:
        try:
            with evidence.suspended():
                conn = self.kmip.connect(timeout_s=self.bound_s)
        except (AdapterCrash, AdapterTimeout) as exc:  # the previous mutant was judged alive: the lab broke
            raise Abort(exc) from None
        started = time.monotonic()
        try:
            answer = conn.send_raw(mutant, timeout_s=self.bound_s)
        except AdapterGarbage as exc:
            self.stats["garbage"] += 1
            return self._finding("garbage", f"answer is not a TTLV item: {exc.message[:200]}", mutant, recipe)
        except HarnessError as exc:
            raise Abort(exc) from None
        finally:
            conn.close()
        elapsed = time.monotonic() - started
        if answer is not None:
            try:
                reply = read_answer(answer, VERSION)
            except NotAResponse as exc:
                self.stats["garbage"] += 1
                return self._finding("garbage", f"answer is {exc}", mutant, recipe)
            if not reply.batch or any(b.status is None for b in reply.batch):
                self.stats["malformed response"] += 1
                return self._finding("malformed-response", "a Response Message without Batch Item or without Result "
                                     "Status (KMIP 1.4 §7.1-§7.2 Tables 281, 285: both REQUIRED)", mutant, recipe)
            self.stats[f"response {reply.batch[0].status}/{reply.batch[0].reason}"] += 1
            return None
        if not self.kmip.alive(timeout_s=self.bound_s):
            self.stats["crash"] += 1
            return self._finding("crash", "after this message the server no longer answers a new connection",
                                 mutant, recipe)
        if elapsed >= self.bound_s - 0.05:
            self.stats["hang"] += 1
            return self._finding("hang", f"no answer and no close within {self.bound_s:g} s", mutant, recipe)
        self.stats["connection closed"] += 1
        return None


@case("mutated-requests", spec="KMIP 1.4 §11.1 (every message gets a Response; Message cannot be parsed -> "
      "Invalid Message), §9.1", level="MUST", subject="kmip_server")
def test_mutated_requests(kmip, kplab_profile):  # type: ignore[no-untyped-def]
    if VERSION not in kmip.versions():
        raise Unsupported(f"{kmip.name} does not declare KMIP 1.4", adapter=kmip.name, operation="capability kmip.version.1.4")
    examples, budget_s, bound_s = BUDGETS[kplab_profile]
    campaign = Campaign(examples, budget_s)
    judge = MutantJudge(campaign, kmip, bound_s)
    findings = campaign.run(fuzzing.plans(len(judge.seeds)), judge)
    summary = {"profile": kplab_profile, "mutants judged": campaign.evaluated, "hypothesis runs": campaign.runs,
               "seconds": round(campaign.elapsed_s, 1), "time bound per mutant (s)": bound_s,
               "not judged (over budget)": campaign.over_budget, "outcomes": dict(sorted(judge.stats.items())),
               "seeds": [s.name for s in judge.seeds]}
    evidence.attach("text", "campaign", json.dumps(summary, indent=1), "application/json")
    for finding in findings:
        evidence.attach("text", f"finding: {finding.category}",
                        f"{finding.detail}\nsmallest mutant ({finding.size} bytes): {finding.recipe}")
        for name, content, media_type in finding.attachments:
            evidence.attach("file", f"{finding.category}: {name}", content, media_type)
    if findings:
        evidence.attach("text", "server log (tail)", kmip.log_tail())
        raise nonconformance(f"{len(findings)} finding(s): " + "; ".join(
            f"[{f.category}] {f.detail} (smallest: {f.recipe})" for f in findings))
    if not kmip.alive():
        raise nonconformance("the server no longer answers after the campaign")
