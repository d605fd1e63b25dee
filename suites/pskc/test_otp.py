"""OTPs from decoded PSKC keys: every HOTP, TOTP and OCRA key the reference codec decodes
from our PSKC documents must give, in every OTP generator, the OTP our reference
(reference/otp: RFC 4226, RFC 6238, RFC 6287; checked against the RFC test values by the
otp suite) computes from the same key.

Documents: the RFC 6030 figures (vectors/pskc/rfc6030, credentials from index.json); the
interop key specifications (vectors/pskc/interop-keys.json) as the reference writes them;
python-pskc's sample corpus from ../shared with the credentials recorded in
EXPECTED-python-pskc-1.4.json (as suites/pskc/test_import.py reads it).

Per key, with its own parameters (readings of RFC 6030 that are not obvious):

* HOTP: counters C, C+1 and C+10 where C is <Counter> (0 when absent); digits =
  <ResponseFormat Length> (6 when absent, RFC 4226 §5.3).  The hash is HMAC-SHA-1
  (RFC 4226 §5.2) unless <Suite> names SHA-256/SHA-512, as deployed files do.
* TOTP: fixed Unix times (RFC 6238 Appendix B: 59, 1234567890, 20000000000, the last
  one beyond 32 bits as §4.2 requires); X = <TimeInterval> (30 when absent); T0 = 0.
  RFC 6030 §4.1 defines <Time> as the time or "the number of time intervals passed from
  a specific start point", a state of the token, not T0 (RFC 6030 has no element for T0,
  RFC 6238 §4.1 defaults it to the Unix epoch); <TimeDrift> is a validation server's
  adjustment (§4.1) and plays no part in generating an OTP at a given time.
* OCRA: the suite from <Suite> or the Algorithm URI; two fixed challenges of the suite's
  format (never a leading zero or an odd number of hex digits, which are readings 4 of
  reference/otp/ocra.py); counter C and C+1 for suites with C; PIN "1234" for suites
  with P; a fixed session value for S; T from the fixed time 1234567890.

A generator that declines an operation, hash or digit count is UNSUPPORTED; refusing 9 or
10 digits (beyond RFC 4226 §5.3's "6-digit ... and possibly 7 and 8-digit") is treated
the same way.  Refusing a secret shorter than 128 bits is acceptable (RFC 4226 §4 R6
requires at least that; RFC 6030 Figure 2's 4-octet secret is one).  Any other refusal
or a different OTP fails.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from harness import evidence
from harness.cases import case, require
from harness.errors import Fault, InputError, ProtocolError, Refused, Unsupported
from harness.vectors import load_json, shared_dir, vector_path
from reference import pskc
from reference.otp import hotp as ref_hotp
from reference.otp import ocra as ref_ocra
from reference.otp import totp as ref_totp
from reference.pskc.adapter import from_role, to_role
from reference.pskc.profiles import ocra_suite, profile_for
from suites.pskc.corpus import SHARED_PSKC, shared_samples

TOTP_TIMES = (59, 1234567890, 20000000000)  # RFC 6238 Appendix B
OCRA_TIME = 1234567890
OCRA_PIN = "1234"  # RFC 6287 Appendix C uses the PIN 1234 too
OCRA_QUESTIONS = {"N": ("12345678", "98765432"), "A": ("SIG10000", "CLI22220"), "H": ("0A1B2C3D", "FEEDC0DE")}
RFC4226_DIGITS = range(6, 9)  # RFC 4226 §5.3: 6, "possibly 7 and 8"
MIN_SECRET_OCTETS = 16  # RFC 4226 §4 R6: "at least 128 bits"
_HASH = re.compile(r"SHA-?(1|256|512)\b", re.IGNORECASE)


@dataclass(frozen=True)
class OtpKey:
    case_id: str
    kind: str  # hotp | totp | ocra
    fields: dict[str, Any] = field(hash=False, compare=False)

    def __repr__(self) -> str:  # reporters print parameters: never the secret
        return f"OtpKey({self.case_id})"


# --------------------------------------------------------------------------- keys
def _keys_of(document_id: str, data: bytes, credentials: dict[str, Any]) -> list[OtpKey]:
    try:
        container = pskc.decode(data, **credentials)
    except (ProtocolError, InputError):
        return []  # not readable by the reference: the import suites report on it
    out = []
    for index, package in enumerate(container.key_packages):
        fields = to_role(pskc.decoded_fields(package))
        profile = profile_for(fields.get("algorithm"))
        if profile is None or profile.kind not in ("hotp", "totp", "ocra") or not fields.get("secret_hex"):
            continue
        label = fields.get("id") or f"key{index}"
        out.append(OtpKey(f"{document_id}#{index}:{label}", profile.kind, fields))
    return out


def _credentials(secrets: dict[str, str]) -> dict[str, Any]:
    if "key_hex" in secrets:
        return {"key": bytes.fromhex(secrets["key_hex"])}
    if "password" in secrets:
        return {"password": secrets["password"]}
    return {}


def _figure_keys() -> list[OtpKey]:
    out = []
    for vector in load_json("pskc/rfc6030/index.json")["vectors"]:
        if vector["result"] == "valid":
            data = vector_path(f"pskc/rfc6030/{vector['file']}").read_bytes()
            out += _keys_of(vector["id"], data, _credentials(vector["secrets"]))
    return out


def _interop_keys() -> list[OtpKey]:
    out = []
    for name, profile in load_json("pskc/interop-keys.json")["profiles"].items():
        document = pskc.encode(pskc.container_from_fields([from_role(profile["key"])]))
        out += _keys_of(f"interop-{name}", document, {})
    return out


def _corpus_keys() -> list[OtpKey]:
    root = shared_dir()
    if root is None or not (root / SHARED_PSKC / "EXPECTED-python-pskc-1.4.json").is_file():
        return []
    expected = json.loads((root / SHARED_PSKC / "EXPECTED-python-pskc-1.4.json").read_text(encoding="utf-8"))
    out = []
    for doc in shared_samples():
        entry = expected.get(doc.case_id.removeprefix("python-pskc:"))
        if not entry or entry.get("parse") != "ok" or str(entry.get("decrypted_with", "")).startswith("FAILED"):
            continue
        used = entry.get("decrypted_with")
        secrets: dict[str, str] = {}
        if isinstance(used, dict):
            secrets = {"key_hex": used["key"]} if "key" in used else {"password": used["password"]}
        out += _keys_of(doc.case_id, doc.read(), _credentials(secrets))
    return out


@functools.lru_cache(maxsize=1)
def otp_keys() -> tuple[OtpKey, ...]:
    return tuple(_figure_keys() + _interop_keys() + _corpus_keys())


# --------------------------------------------------------------------------- checks
@dataclass(frozen=True)
class Check:
    op: str
    params: dict[str, Any]
    label: str
    capabilities: tuple[str, ...]


def _hash_of(fields: dict[str, Any]) -> str:
    suite = fields.get("suite")
    if suite is None:
        return "sha1"
    found = _HASH.search(suite)
    if found is None:
        pytest.skip(f"<Suite> {suite!r} names no hash this lab can map to an OTP generator's algorithm")
    return "sha" + found.group(1)


def _checks(key: OtpKey) -> list[Check]:
    f = key.fields
    secret = f["secret_hex"]
    if key.kind in ("hotp", "totp") and f.get("response_encoding", "DECIMAL") != "DECIMAL":
        pytest.skip(f"ResponseFormat Encoding {f['response_encoding']}: OTP generators give decimal OTPs only")
    if key.kind == "hotp":
        algorithm, digits, counter = _hash_of(f), f.get("response_length", 6), f.get("counter", 0)
        caps = ("otp.hotp", f"otp.hash.{algorithm}")
        return [Check("otp-generator.hotp", {"secret_hex": secret, "counter": c, "digits": digits,
                                             "algorithm": algorithm},
                      f"HOTP-{algorithm.upper()} C={c} digits={digits}", caps)
                for c in (counter, counter + 1, counter + 10)]
    if key.kind == "totp":
        algorithm, digits, step = _hash_of(f), f.get("response_length", 6), f.get("time_interval", 30)
        caps = ("otp.totp", f"otp.hash.{algorithm}")
        return [Check("otp-generator.totp", {"secret_hex": secret, "time": t, "step": step, "t0": 0, "digits": digits,
                                             "algorithm": algorithm},
                      f"TOTP-{algorithm.upper()} time={t} X={step} digits={digits}", caps) for t in TOTP_TIMES]
    return _ocra_checks(key)


def _ocra_checks(key: OtpKey) -> list[Check]:
    f = key.fields
    text = ocra_suite(f.get("algorithm"), f.get("suite"))
    try:
        suite = ref_ocra.parse_suite(text)
    except (InputError, ProtocolError) as exc:
        pytest.skip(f"the reference refuses the OCRA suite {text!r}: {exc}")
    counters = (f.get("counter", 0), f.get("counter", 0) + 1) if suite.counter else (None,)
    checks = []
    for question in OCRA_QUESTIONS[suite.question_format]:
        # an odd number of hex digits is an ambiguous input (reading 4): keep H questions even
        length = suite.question_length if suite.question_format != "H" else suite.question_length // 2 * 2
        question = question[:length]
        for counter in counters:
            params: dict[str, Any] = {"suite": text, "secret_hex": f["secret_hex"], "question": question}
            if counter is not None:
                params["counter"] = counter
            if suite.pin_algorithm:
                params["pin"] = OCRA_PIN
            if suite.session_length:
                params["session_hex"] = bytes(i * 7 % 256 for i in range(suite.session_length)).hex()  # full nnn
            if suite.time_step:
                params["timestamp"] = ref_ocra.time_steps(OCRA_TIME, suite)
            shown = f"OCRA {text} Q={question}" + (f" C={counter}" if counter is not None else "")
            checks.append(Check("otp-generator.ocra", params, shown, ("otp.ocra",)))
    return checks


def reference_otp(check: Check) -> str:
    """The OTP our reference computes (InputError / UnsupportedFeature when it refuses)."""
    p = check.params
    secret = bytes.fromhex(p["secret_hex"])
    if check.op == "otp-generator.hotp":
        return ref_hotp.hotp(secret, p["counter"], digits=p["digits"], algorithm=p["algorithm"])
    if check.op == "otp-generator.totp":
        return ref_totp.totp(secret, p["time"], step=p["step"], t0=p["t0"], digits=p["digits"],
                             algorithm=p["algorithm"])
    return ref_ocra.ocra(secret, p["suite"], question=p["question"], counter=p.get("counter"), pin=p.get("pin"),
                         session=bytes.fromhex(p["session_hex"]) if "session_hex" in p else None,
                         timestamp=p.get("timestamp"))


@case("otp-matches-reference", spec="RFC 6030 §4.1 with RFC 4226 §5.3, RFC 6238 §4, RFC 6287 §5", level="MUST",
      subject="otp_generator")
@pytest.mark.parametrize("key", otp_keys(), ids=lambda k: k.case_id)
def test_otp_matches_reference(otp_generator, key):
    evidence.secret(bytes.fromhex(key.fields["secret_hex"]))
    checks = _checks(key)
    require(otp_generator, *checks[0].capabilities)
    try:
        expected = [reference_otp(c) for c in checks]
    except (InputError, ProtocolError) as exc:
        pytest.skip(f"the reference refuses this key's parameters: {exc}")
    rows, problems = [], []
    secret = bytes.fromhex(key.fields["secret_hex"])
    short_secret = len(secret) < MIN_SECRET_OCTETS
    for check, want in zip(checks, expected):
        digits = check.params.get("digits")
        try:
            got = otp_generator.call(check.op, check.params)["otp"]
        except Refused as exc:
            if digits is not None and digits not in RFC4226_DIGITS:
                raise Unsupported(f"{otp_generator.name} refuses {digits} digits, beyond RFC 4226 §5.3's 6-8: {exc}",
                                  adapter=otp_generator.name, operation=check.op) from None
            got = f"refused ({exc.status}): {exc}"
            if short_secret:  # RFC 4226 §4 R6: a conforming implementation may well refuse it
                rows.append({"check": check.label, "reference": want, otp_generator.name: got,
                             "judged": f"acceptable: a {len(secret)}-octet secret is below RFC 4226 §4 R6's 128 bits"})
                continue
        except Fault as exc:
            got = f"raised {exc.type}: {exc}"
        rows.append({"check": check.label, "reference": want, otp_generator.name: got})
        if got != want:
            problems.append(f"{check.label}: {got}, the reference computes {want}")
    evidence.attach("text", "OTPs", json.dumps(rows, indent=1), "application/json")
    assert not problems, f"{len(problems)} of {len(checks)} OTP(s) differ: " + "; ".join(problems[:4])
