"""Hypothesis strategies and mutators for the PSKC fuzz suite (suites/pskc/test_fuzz.py).

* ``containers()`` draws lists of flat KEY specs (harness.roles.pskc) that the reference
  model accepts: HOTP/TOTP/OCRA profiles, secrets of 16..64 octets, counters and times over
  their schema ranges (RFC 6030 §11: Counter xs:long, Time/TimeInterval/TimeDrift xs:int),
  ids of a plain character set and optional metadata whose text is any XML 1.0 character
  (markup characters included) without leading or trailing white space.
* ``seed_documents()`` are the valid documents mutation starts from: the RFC 6030 figures
  (vectors/pskc/rfc6030) and containers the reference codec writes from the interop key
  specifications with a fixed random source, so every run mutates the same bytes.
* ``mutation_plans()`` draws a seed and one to three byte- or element-level mutations as
  plain integers and choices, so Hypothesis shrinks a failing plan towards the first
  (smallest) seed and the simplest mutations.  ``apply_plan`` turns a plan into the mutant
  and a recipe a human can follow.
"""

from __future__ import annotations

import base64
import copy
import functools
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hypothesis import strategies as st
from lxml import etree

from harness.roles.pskc import Protection
from harness.vectors import load_json, vector_path

HOTP_URN = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"
TOTP_URN = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
OCRA_URN = "urn:ietf:params:xml:ns:keyprov:pskc:ocra"
ALGORITHMS = {"hotp": HOTP_URN, "totp": TOTP_URN, "ocra": OCRA_URN}
PROFILES = ("hotp", "totp", "ocra")  # capability pskc.profile.<name>
# RFC 6287 Appendix C suites (vectors/otp/rfc6287-ocra.json).
OCRA_SUITES = (
    "OCRA-1:HOTP-SHA1-6:QN08", "OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1", "OCRA-1:HOTP-SHA256-8:QN08-PSHA1",
    "OCRA-1:HOTP-SHA512-8:C-QN08", "OCRA-1:HOTP-SHA512-8:QN08-T1M", "OCRA-1:HOTP-SHA256-8:QA08",
    "OCRA-1:HOTP-SHA512-8:QA08", "OCRA-1:HOTP-SHA512-8:QA08-PSHA1", "OCRA-1:HOTP-SHA512-8:QA10-T1M",
)
KEY_USAGES = ("OTP", "CR", "Encrypt", "Integrity", "Verify", "Unlock", "Decrypt", "KeyWrap", "Unwrap", "Derive",
              "Generate")  # RFC 6030 §11 KeyUsageType
# What decides the OTP a key produces: a consumer must read these exactly.
ESSENTIAL_FIELDS = ("id", "algorithm", "secret_hex", "counter", "time", "time_interval", "time_drift",
                    "response_length", "response_encoding", "suite")
TEXT_FIELDS = ("issuer", "manufacturer", "serial", "model", "issue_no", "friendly_name", "user_id", "key_profile_id")
DATE_FIELDS = ("start_date", "expiry_date", "policy_start_date", "policy_expiry_date")
ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:"
INT_MAX = 2**31 - 1  # xs:int
LONG_MAX = 2**63 - 1  # xs:long

# --------------------------------------------------------------------------- key specs
# XML 1.0 characters (§2.2) minus controls; surrogates and non-characters are not characters.
_XML_TEXT = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Cn"))


def _text(max_size: int = 40) -> st.SearchStrategy[str]:
    # xs:string keeps white space, but leading/trailing blanks are where importers
    # legitimately trim; a metadata value is what a human typed, so none at the ends.
    return st.text(_XML_TEXT, min_size=1, max_size=max_size).filter(lambda s: s == s.strip())


def _date() -> st.SearchStrategy[str]:
    moments = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2999, 12, 31, 23, 59, 59))
    return moments.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))


def key_ids() -> st.SearchStrategy[str]:
    return st.text(ID_ALPHABET, min_size=1, max_size=24)


def _metadata() -> st.SearchStrategy[dict[str, Any]]:
    optional: dict[str, st.SearchStrategy[Any]] = {name: _text() for name in TEXT_FIELDS}
    optional.update({name: _date() for name in DATE_FIELDS})
    optional["key_usage"] = st.lists(st.sampled_from(KEY_USAGES), min_size=1, max_size=3, unique=True)
    optional["number_of_transactions"] = st.integers(0, 2**32)
    return st.fixed_dictionaries({}, optional=optional)


@st.composite
def key_specs(draw: st.DrawFn, profiles: tuple[str, ...] = PROFILES) -> dict[str, Any]:
    """One flat KEY spec of one of ``profiles`` (hotp, totp, ocra)."""
    profile = draw(st.sampled_from(profiles))
    spec: dict[str, Any] = {
        "id": draw(key_ids()),
        "algorithm": ALGORITHMS[profile],
        "secret_hex": draw(st.binary(min_size=16, max_size=64)).hex(),
    }
    if profile == "hotp":  # RFC 6030 §10.1: Counter, ResponseFormat DECIMAL 6..9
        spec["counter"] = draw(st.integers(0, LONG_MAX))
        spec["response_length"] = draw(st.integers(6, 9))
        spec["response_encoding"] = "DECIMAL"
    elif profile == "totp":
        spec["time"] = draw(st.integers(0, INT_MAX))
        spec["time_interval"] = draw(st.integers(1, INT_MAX))
        spec["time_drift"] = draw(st.integers(-INT_MAX - 1, INT_MAX))
        spec["response_length"] = draw(st.integers(6, 8))
        spec["response_encoding"] = "DECIMAL"
    else:
        suite = draw(st.sampled_from(OCRA_SUITES))
        spec["suite"] = suite
        if ":C-" in suite:
            spec["counter"] = draw(st.integers(0, LONG_MAX))
    spec.update(draw(_metadata()))
    return spec


def containers(profiles: tuple[str, ...] = PROFILES, max_keys: int = 3) -> st.SearchStrategy[list[dict[str, Any]]]:
    """The keys of one container: 1..max_keys specs with distinct ids (RFC 6030 §4.1)."""
    return st.lists(key_specs(profiles), min_size=1, max_size=max_keys, unique_by=lambda k: k["id"])


# --------------------------------------------------------------------------- seeds
@dataclass(frozen=True)
class Seed:
    case_id: str
    document: bytes
    secrets: dict[str, str]  # consumer credentials (key_hex / password)
    capabilities: tuple[str, ...]  # what a consumer must declare to be handed it
    key_secrets: tuple[str, ...]  # the genuine secrets (hex) the document carries

    def __repr__(self) -> str:
        return f"Seed({self.case_id})"


def _figure_seeds() -> list[Seed]:
    out = []
    for vector in load_json("pskc/rfc6030/index.json")["vectors"]:
        if vector["result"] != "valid":
            continue
        flags = vector["flags"]
        caps: tuple[str, ...] = ()
        if flags[0] in ("psk", "pbe"):
            caps = tuple(Protection(flags[0], flags[1], flags[2]).capabilities())
        document = vector_path(f"pskc/rfc6030/{vector['file']}").read_bytes()
        caps += _profile_capabilities(document)
        # index.json lists the secrets the RFC's text states; Figure 10's are only printed
        # in the figure, so plaintext ones are read straight off it (not by our codec).
        secrets = _printed_secrets(document) or tuple(k["secret_hex"] for k in vector["expected"] if "secret_hex" in k)
        out.append(Seed(vector["id"], document, dict(vector["secrets"]), caps, secrets))
    return out


def _profile_capabilities(document: bytes) -> tuple[str, ...]:
    """pskc.profile.<kind> for every key algorithm in the document (RFC 6030 §10)."""
    from reference.pskc.profiles import profile_for

    ns = "{urn:ietf:params:xml:ns:keyprov:pskc}"
    kinds = {profile_for(k.get("Algorithm")) for k in etree.fromstring(document, _PARSER).iterfind(f".//{ns}Key")}
    return tuple(sorted(f"pskc.profile.{p.kind}" for p in kinds if p is not None))


def _printed_secrets(document: bytes) -> tuple[str, ...]:
    ns = "{urn:ietf:params:xml:ns:keyprov:pskc}"
    values = etree.fromstring(document, _PARSER).iterfind(f".//{ns}Secret/{ns}PlainValue")
    return tuple(base64.b64decode("".join(v.text.split())).hex() for v in values)


def _interop_protections() -> list[Protection]:
    data = load_json("pskc/protections.json")
    keys = data["psk_keys_hex"]
    return [
        Protection("none"),
        Protection("psk", "aes128-cbc", "hmac-sha256", key_hex=keys["16"], key_name="Pre-shared-key"),
        Protection("pbe", "aes256-cbc", "hmac-sha1", password=data["password"], iterations=data["pbkdf2_iterations"],
                   salt_hex=data["pbkdf2_salt_hex"], key_name="Passphrase1"),
        Protection("psk", "kw-aes128", None, key_hex=keys["16"], key_name="Pre-shared-key"),
    ]


def _reference_seeds() -> list[Seed]:
    from reference import pskc
    from reference.pskc.adapter import from_role, protection_of

    profiles = load_json("pskc/interop-keys.json")["profiles"]
    none, psk, pbe, keywrap = _interop_protections()
    plan = [("hotp", [profiles["hotp"]["key"]], psk), ("totp", [profiles["totp"]["key"]], pbe),
            ("ocra", [profiles["ocra"]["key"]], keywrap), ("bulk", [p["key"] for p in profiles.values()], none)]
    out = []
    for index, (name, keys, protection) in enumerate(plan):
        container = pskc.container_from_fields([from_role(k) for k in keys])
        chosen, mac = protection_of(protection.producer_params())
        rng = random.Random(6030 + index).randbytes  # fixed: the seed bytes replay
        document = pskc.encode(container, protection=chosen, mac=mac, rng=rng) if chosen else pskc.encode(container)
        caps = tuple(protection.capabilities()) + _profile_capabilities(document)
        out.append(Seed(f"reference:{name}+{protection.case_id}", document, protection.consumer_params(), caps,
                        tuple(k["secret_hex"] for k in keys)))
    return out


@functools.lru_cache(maxsize=1)
def seed_documents() -> tuple[Seed, ...]:
    """Every seed, smallest first (Hypothesis shrinks a plan towards seed 0)."""
    return tuple(sorted(_figure_seeds() + _reference_seeds(), key=lambda s: (len(s.document), s.case_id)))


# --------------------------------------------------------------------------- mutations
BYTE_OPS = ("truncate", "delete", "flip", "insert", "duplicate")
ELEMENT_OPS = ("set-text", "delete-element", "duplicate-element", "swap-siblings", "set-attribute", "wrong-namespace")
LONG_TEXT = "A" * 100_000
# Type-confused values for element text and attributes.
CONFUSED_VALUES = (
    "", "-1", "99999999999999999999999999999999", "18446744073709551616", "-9223372036854775809", "2147483648",
    " 7 ", "+7", "0x1F", "1e309", "NaN", "true", "not base64!", "====", "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA",
    "2026-02-30T25:61:61Z", "\u202e\U0001F600\u00ff", LONG_TEXT, "A" * 4097 + "=",
)
# Byte strings worth inserting besides random bytes: markup that changes the document's structure.
INSERT_TOKENS = (b"<", b">", b"&", b"&amp;", b"&#0;", b"]]>", b"\x00", b"\xff\xfe", b"</", b"<x/>", b'"',
                 b"<!DOCTYPE x [<!ENTITY e \"z\">]>", b"&e;", b"<?pi x?>", b"<!-- -->", b"\xc3")
WRONG_NAMESPACES = ("urn:example:keyprov-lab:wrong", "")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@dataclass(frozen=True)
class Mutation:
    op: str
    where: int  # byte position or element index, taken modulo the document's size
    arg: int  # length, xor mask, attribute/value/namespace choice
    data: bytes = b""  # bytes to insert


@dataclass(frozen=True)
class Plan:
    seed: int
    mutations: tuple[Mutation, ...]


def _show(value: str | bytes) -> str:
    return f"{value[:40]!r}... ({len(value)} long)" if len(value) > 40 else repr(value)


def _byte_mutation(doc: bytes, m: Mutation) -> tuple[bytes, str]:
    if not doc and m.op != "insert":
        return doc, f"{m.op}: empty document, nothing to do"
    pos = m.where % (len(doc) + (1 if m.op == "insert" else 0))
    if m.op == "truncate":
        return doc[:pos], f"truncate to {pos} bytes"
    if m.op == "delete":
        n = 1 + m.arg % 64
        return doc[:pos] + doc[pos + n:], f"delete {n} bytes at {pos}"
    if m.op == "flip":
        mask = 1 + m.arg % 255
        return doc[:pos] + bytes([doc[pos] ^ mask]) + doc[pos + 1:], f"xor byte {pos} with 0x{mask:02x}"
    if m.op == "insert":
        return doc[:pos] + m.data + doc[pos:], f"insert {_show(m.data)} at {pos}"
    n = 1 + m.arg % 64
    piece = doc[pos:pos + n]
    return doc[:pos + n] + piece + doc[pos + n:], f"duplicate {len(piece)} bytes at {pos}"


def _path(element: etree._Element) -> str:
    names = [etree.QName(e).localname for e in reversed(list(element.iterancestors()))]
    return "/".join(names + [etree.QName(element).localname])


def _element_mutation(doc: bytes, m: Mutation) -> tuple[bytes, str]:
    try:
        root = etree.fromstring(doc, _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return doc, f"{m.op}: not XML any more, skipped"
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    if m.op == "set-text":  # values live in leaves; text in a container element is mixed content
        elements = [e for e in elements if not any(isinstance(c.tag, str) for c in e)]
    element = elements[m.where % len(elements)]
    where = _path(element)
    parent = element.getparent()
    value = CONFUSED_VALUES[m.arg % len(CONFUSED_VALUES)]
    if m.op == "set-text":
        element.text = value
        what = f"text of {where} := {_show(value)}"
    elif m.op == "set-attribute":
        if not element.attrib:
            return doc, f"set-attribute: {where} has no attribute, skipped"
        name = sorted(element.attrib)[m.arg % len(element.attrib)]
        value = CONFUSED_VALUES[(m.arg // len(element.attrib)) % len(CONFUSED_VALUES)]
        element.set(name, value)
        what = f"attribute {where}/@{etree.QName(name).localname} := {_show(value)}"
    elif m.op == "wrong-namespace":
        namespace = WRONG_NAMESPACES[m.arg % len(WRONG_NAMESPACES)]
        local = etree.QName(element).localname
        element.tag = f"{{{namespace}}}{local}" if namespace else local
        what = f"namespace of {where} := {namespace or '(none)'!r}"
    elif parent is None:
        return doc, f"{m.op}: {where} is the root, skipped"
    elif m.op == "delete-element":
        parent.remove(element)
        what = f"delete {where}"
    elif m.op == "duplicate-element":
        element.addnext(copy.deepcopy(element))
        what = f"duplicate {where}"
    else:
        sibling = element.getnext()
        while sibling is not None and not isinstance(sibling.tag, str):
            sibling = sibling.getnext()
        if sibling is None:
            return doc, f"swap-siblings: {where} has no next sibling, skipped"
        sibling.addnext(element)
        what = f"swap {where} with its next sibling {etree.QName(sibling).localname}"
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8"), what


def apply_mutation(doc: bytes, mutation: Mutation) -> tuple[bytes, str]:
    if mutation.op in BYTE_OPS:
        return _byte_mutation(doc, mutation)
    return _element_mutation(doc, mutation)


def apply_plan(plan: Plan, seeds: tuple[Seed, ...]) -> tuple[bytes, str]:
    """The mutant and its recipe ("seed X; 1. ...; 2. ...")."""
    seed = seeds[plan.seed % len(seeds)]
    doc, steps = seed.document, []
    for number, mutation in enumerate(plan.mutations, 1):
        doc, step = apply_mutation(doc, mutation)
        steps.append(f"{number}. {step}")
    return doc, f"seed {seed.case_id}; " + "; ".join(steps)


def mutations() -> st.SearchStrategy[Mutation]:
    payload = st.one_of(st.sampled_from(INSERT_TOKENS), st.binary(min_size=1, max_size=8))
    return st.builds(Mutation, op=st.sampled_from(ELEMENT_OPS + BYTE_OPS), where=st.integers(0, 2**20),
                     arg=st.integers(0, 2**16), data=payload)


def mutation_plans(seed_count: int, max_mutations: int = 3) -> st.SearchStrategy[Plan]:
    return st.builds(Plan, seed=st.integers(0, seed_count - 1),
                     mutations=st.lists(mutations(), min_size=1, max_size=max_mutations).map(tuple))


# --------------------------------------------------------------------------- campaigns
@dataclass
class Finding:
    """One kind of misbehaviour (``category``) with the smallest example that shows it."""

    category: str  # "fault ValueError", "hang", "crash", "wrong-secret", "field counter", ...
    detail: str  # one line for the report; never key material
    example: Any  # the input (mutant bytes or key specs)
    recipe: str  # how the input was built
    size: int  # of the example; the smallest one is kept
    attachments: tuple[tuple[str, Any, str], ...] = ()  # (name, content, media type) for evidence
    harness_error: BaseException | None = None  # set when the lab, not the implementation, failed

    @property
    def is_harness(self) -> bool:
        return self.harness_error is not None


class FindingRaised(Exception):
    """Raised inside the Hypothesis property so it shrinks; one subclass per category, so
    Hypothesis reports (and shrinks) each category as a distinct bug."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(f"{finding.category}: {finding.detail}")
        self.finding = finding


_FINDING_TYPES: dict[str, type[FindingRaised]] = {}


def _finding_type(category: str) -> type[FindingRaised]:
    if category not in _FINDING_TYPES:
        slug = "".join(c if c.isalnum() else "_" for c in category)
        _FINDING_TYPES[category] = type(f"Finding_{slug}", (FindingRaised,), {})
    return _FINDING_TYPES[category]


class Abort(BaseException):
    """Stops a campaign at once (Hypothesis lets BaseException through unshrunk): a harness
    error such as an adapter talking garbage is the lab's problem, not a bug to minimise."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class Campaign:
    """Runs a Hypothesis property under a time budget and keeps, per finding category, the
    smallest failing example seen (while generating and while Hypothesis shrinks).

    Hypothesis stops generating soon after its first failure, so a campaign is a series of
    runs: each raises only for categories not seen before, shrinks the new one(s), and the
    next run goes on past them; it ends when a run finds nothing new (or the budget is
    spent).  Verdicts are cached by the example's key, and an example first met after the
    deadline counts as passing without calling any adapter; so a replay always gives the
    same verdict (no Flaky errors) and an over-budget campaign winds down quickly.
    """

    MAX_RUNS = 12

    def __init__(self, examples: int, budget_s: float) -> None:
        import time

        self._clock = time.monotonic
        self.examples = examples
        self.deadline = self._clock() + budget_s
        self.started = self._clock()
        self.cache: dict[Any, Finding | None] = {}
        self.smallest: dict[str, Finding] = {}
        self.evaluated = 0
        self.over_budget = 0
        self.runs = 0
        self._known: set[str] = set()  # categories already reported: no longer raised

    def judge(self, key: Any, evaluate: Any) -> None:
        """``evaluate()`` -> Finding | None, once per key; raises the finding's exception."""
        if key in self.cache:
            found = self.cache[key]
        elif self._clock() > self.deadline:
            self.over_budget += 1
            return
        else:
            self.evaluated += 1
            found = self.cache[key] = evaluate()
            if found is not None:
                kept = self.smallest.get(found.category)
                if kept is None or found.size < kept.size:
                    self.smallest[found.category] = found
        if found is not None and found.category not in self._known:
            raise _finding_type(found.category)(found)

    def run(self, strategy: st.SearchStrategy[Any], prop: Any) -> list[Finding]:
        """Run ``prop(example)`` over ``strategy``; the findings, by category."""
        from hypothesis import HealthCheck, Phase, Verbosity, given, settings

        @settings(max_examples=self.examples, derandomize=True, database=None, deadline=None,
                  report_multiple_bugs=True, phases=(Phase.generate, Phase.shrink), verbosity=Verbosity.quiet,
                  suppress_health_check=list(HealthCheck))
        @given(strategy)
        def campaign(example: Any) -> None:
            prop(example)

        while self.runs < self.MAX_RUNS:
            self.runs += 1
            self._known = set(self.smallest)
            try:
                campaign()
            except Abort as stop:
                raise stop.error from None
            except FindingRaised:
                pass
            except BaseExceptionGroup as group:
                stops = [e for e in group.exceptions if isinstance(e, Abort)]
                if stops:
                    raise stops[0].error from None
                if not all(isinstance(e, FindingRaised) for e in group.exceptions):
                    raise
            if set(self.smallest) == self._known or self._clock() > self.deadline:
                break
        return [self.smallest[c] for c in sorted(self.smallest)]

    @property
    def elapsed_s(self) -> float:
        return self._clock() - self.started
