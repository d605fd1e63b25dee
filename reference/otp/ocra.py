"""RFC 6287 OCRA: OCRA = CryptoFunction(K, DataInput) (§5).

``parse_suite`` turns an OCRASuite string (§6) into a frozen ``OcraSuite``;
``data_input`` assembles DataInput = {OCRASuite | 00 | C | Q | P | S | T} (§5.1);
``ocra`` computes the response with HOTP-H-t dynamic truncation (§5.2, RFC 4226 §5.3).

Readings of the RFC that are not obvious (each is a decision; suites should treat inputs
that depend on them as ambiguous rather than as positive or negative cases):

1. Qualifier defaults.  §6.3 gives a default for each qualifier (Q: N08, P: SHA1,
   S: 064, T: 1M).  We read that as "the qualifier may be omitted": a bare ``Q``, ``P``,
   ``S`` or ``T`` element is accepted and takes the default.  The suite text itself is
   hashed verbatim, so "Q" and "QN08" still give different responses.  (The Appendix A
   code would ignore a bare ``P`` or ``S``; python-oath applies the defaults, as we do.)
2. Question length digits.  Table 2 says xx is 04-64 (two digits) but the §6.4 example
   ``QH8`` uses one digit.  We accept one or two digits with a value of 4..64.
3. Question length bound.  Q is "a 128-byte list of (concatenated) challenge
   question(s)" (§5.1) and the mutual modes (§7.2, §7.3.2) put two questions in it; the
   Appendix C.2 vectors use 16-character questions under ``QA08``.  One ``question``
   string is the whole Q content, so we allow 1..2*xx characters (2*64 always fits in
   128 bytes, numeric ones after conversion too).
4. Question encoding follows Appendix A/B exactly: N = the decimal number written in hex
   (leading zeros of the decimal string are lost, as with Java's BigInteger), H = the hex
   digits as given; both are then padded with '0' *nibbles* on the right to 256 nibbles,
   so an odd-length hex string is left-aligned (22222222 = 0x1531DCE -> 15 31 DC E0 ..).
   A = the ASCII bytes of the question, zero-padded on the right.  "Alphanumeric" is read
   as ASCII letters and digits only.
5. IC4 (§8.2: questions "MUST be at least t-byte values") is a requirement on whoever
   generates the challenge, and its unit is unclear: the C.1 vectors pair 6-digit output
   with 8-digit numeric questions that are 3 bytes after conversion.  Not enforced here.
6. S shorter than the suite's nnn is left-padded with zero bytes, as the Appendix A code
   does ("0" + sessionInformation); longer is refused.  S may be any length 001..512
   ("could agree to any length", §6.3); we require exactly three digits for nnn.
7. P given as a hash must be exactly the hash's length (Appendix A would left-pad a short
   value, which no hash can be).  A plain PIN is hashed as its UTF-8 bytes (Appendix B:
   SHA1("1234") = 7110eda4...).
8. Time step G: Table 3 (1-59 S, 1-59 M, 0-48 H).  §5.1 mentions days but Table 3 gives
   no notation for them, so none is accepted.  0H parses (Table 3 allows it) but no Unix
   time can be converted with it (``time_steps`` refuses).
9. Element order: the grammar "[C] | QFxx | [PH | Snnn | TG]" (§6.3) fixes the order, and
   the Appendix A code finds C only at the start; out-of-order or repeated elements are
   refused.  Plain-signature suites (no S) are not distinguishable from challenge-response
   ones, so S is not refused on that ground.
10. t = 0 ("no truncation ... the full HMAC value is used", §5.2) parses, but the RFC gives
   no textual form for the response; ``ocra`` refuses it with UnsupportedFeature and
   ``ocra_hmac`` gives the raw value.
11. Inputs the suite does not name (a counter for a suite without C, ...) are refused
   rather than ignored, so a mis-built case is caught.
12. Letters are upper case as in the RFC; ``ocra-1:hotp-sha1-6:qn08`` is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.errors import InputError, UnsupportedFeature
from reference.otp.crypto import digest_size, hash_digest, hmac_digest
from reference.otp.hotp import COUNTER_MAX, MAX_DIGITS, check_int, check_secret, dynamic_truncate, format_digits

SPEC = "RFC 6287"
QUESTION_BYTES = 128  # §5.1: Q is a 128-byte field
SESSION_MAX = 512  # §5.1: S is up to 512 bytes
OCRA_MIN_DIGITS = 4  # §5.2 Table 1: 0 (no truncation), 4-10
STATUS_UNSUPPORTED_VERSION = "UnsupportedVersion"
STATUS_UNSUPPORTED_TRUNCATION = "UnsupportedTruncation"

_HASHES = {"SHA1": "sha1", "SHA256": "sha256", "SHA512": "sha512"}
_UNIT_SECONDS = {"S": 1, "M": 60, "H": 3600}
_UNIT_RANGE = {"S": (1, 59), "M": (1, 59), "H": (0, 48)}  # §6.3 Table 3

_ALGORITHM_RE = re.compile(r"OCRA-([0-9]+)")
_CRYPTO_RE = re.compile(r"HOTP-(SHA1|SHA256|SHA512)-(0|[1-9][0-9]?)")
_ELEMENT_RES = (  # in the order §6.3 fixes
    ("C", re.compile(r"C")),
    ("Q", re.compile(r"Q(?:([ANH])([0-9]{1,2}))?")),
    ("P", re.compile(r"P(SHA1|SHA256|SHA512)?")),
    ("S", re.compile(r"S([0-9]{3})?")),
    ("T", re.compile(r"T(?:([0-9]{1,2})([SMH]))?")),
)
_QUESTION_RES = {
    "N": re.compile(r"[0-9]+"),
    "H": re.compile(r"[0-9A-Fa-f]+"),
    "A": re.compile(r"[0-9A-Za-z]+"),
}
_QUESTION_NAMES = {"N": "numeric", "H": "hexadecimal", "A": "alphanumeric"}


@dataclass(frozen=True)
class OcraSuite:
    """A parsed OCRASuite (RFC 6287 §6): <Algorithm>:<CryptoFunction>:<DataInput>."""

    text: str  # verbatim; it is the first part of DataInput (§5.1)
    version: int  # §6.1, only 1 is defined
    algorithm: str  # HMAC hash of the CryptoFunction (§5.2): sha1 | sha256 | sha512
    digits: int  # t of HOTP-H-t: 0 (no truncation) or 4..10
    counter: bool  # C present
    question_format: str  # F of QFxx: "A" | "N" | "H" (§6.3 Table 2)
    question_length: int  # xx: 4..64, the maximum length of one question
    pin_algorithm: str | None = None  # hash of PH: sha1 | sha256 | sha512
    session_length: int | None = None  # nnn of Snnn, in bytes
    time_step: int | None = None  # G of TG, in seconds (0 only for "0H")

    @property
    def question_max(self) -> int:
        """Longest accepted ``question`` string: two concatenated questions (reading 3)."""
        return 2 * self.question_length


def _suite_error(text: str, why: str) -> InputError:
    return InputError(f"invalid OCRASuite {text!r:.80}: {why}", where="OCRASuite")


def parse_suite(text: object) -> OcraSuite:
    """Parse an OCRASuite string (RFC 6287 §6.1-§6.3); InputError when it is not one."""
    if not isinstance(text, str):
        raise InputError(f"OCRASuite must be a string, not {type(text).__name__}", where="OCRASuite")
    parts = text.split(":")
    if len(parts) != 3:
        raise _suite_error(text, "expected <Algorithm>:<CryptoFunction>:<DataInput> (RFC 6287 §6)")
    algorithm, crypto, inputs = parts
    m = _ALGORITHM_RE.fullmatch(algorithm)
    if not m:
        raise _suite_error(text, f"Algorithm must be OCRA-v (RFC 6287 §6.1), got {algorithm!r:.20}")
    version = int(m.group(1))
    if version != 1:
        raise UnsupportedFeature(
            f"OCRA version {version} is not defined; RFC 6287 specifies version 1 only",
            status=STATUS_UNSUPPORTED_VERSION,
            spec=f"{SPEC} §6.1",
            where="OCRASuite",
        )
    m = _CRYPTO_RE.fullmatch(crypto)
    if not m:
        raise _suite_error(text, f"CryptoFunction must be HOTP-SHA1|SHA256|SHA512-t (RFC 6287 §5.2), got {crypto!r:.30}")
    digits = int(m.group(2))
    if digits != 0 and not OCRA_MIN_DIGITS <= digits <= MAX_DIGITS:
        raise _suite_error(text, f"truncation t must be 0 or 4-10 (RFC 6287 §5.2 Table 1), got {digits}")
    fields = _parse_data_input(text, inputs)
    return OcraSuite(text=text, version=version, algorithm=_HASHES[m.group(1)], digits=digits, **fields)


def _parse_data_input(text: str, inputs: str) -> dict[str, object]:
    fields: dict[str, object] = {"counter": False}
    position = 0  # index into _ELEMENT_RES of the next element allowed
    for element in inputs.split("-"):
        for index, (kind, pattern) in enumerate(_ELEMENT_RES):
            m = pattern.fullmatch(element)
            if m:
                break
        else:
            raise _suite_error(text, f"unknown DataInput element {element!r:.20} (RFC 6287 §6.3)")
        if index < position:
            raise _suite_error(text, f"DataInput element {element!r} repeated or out of the order C, Q, P, S, T (RFC 6287 §6.3)")
        position = index + 1
        if kind == "C":
            fields["counter"] = True
        elif kind == "Q":
            fmt, length = m.group(1) or "N", int(m.group(2) or 8)  # default N08, §6.3
            if not 4 <= length <= 64:
                raise _suite_error(text, f"challenge length xx must be 04-64 (RFC 6287 §6.3 Table 2), got {m.group(2)}")
            fields["question_format"], fields["question_length"] = fmt, length
        elif kind == "P":
            fields["pin_algorithm"] = _HASHES[m.group(1) or "SHA1"]  # default SHA1, §6.3
        elif kind == "S":
            length = int(m.group(1) or 64)  # default 064, §6.3
            if not 1 <= length <= SESSION_MAX:
                raise _suite_error(text, f"session length nnn must be 001-512 bytes (RFC 6287 §5.1), got {m.group(1)}")
            fields["session_length"] = length
        else:
            amount, unit = int(m.group(1) or 1), m.group(2) or "M"  # default 1M, §6.3
            low, high = _UNIT_RANGE[unit]
            if not low <= amount <= high:
                raise _suite_error(text, f"time step {amount}{unit} outside {low}-{high}{unit} (RFC 6287 §6.3 Table 3)")
            fields["time_step"] = amount * _UNIT_SECONDS[unit]
    if "question_format" not in fields:
        raise _suite_error(text, "DataInput must contain the challenge QFxx (mandatory, RFC 6287 §5.1, §6.3)")
    return fields


def _suite(suite: OcraSuite | str) -> OcraSuite:
    return suite if isinstance(suite, OcraSuite) else parse_suite(suite)


def question_bytes(suite: OcraSuite | str, question: object) -> bytes:
    """The 128-byte Q field for ``question`` (RFC 6287 §5.1; Appendix A/B encoding)."""
    suite = _suite(suite)
    fmt = suite.question_format
    if not isinstance(question, str):
        raise InputError(f"question must be a string, not {type(question).__name__}", where="question")
    if not question:
        raise InputError("question is empty; Q is mandatory (RFC 6287 §5.1)", where="question")
    if not _QUESTION_RES[fmt].fullmatch(question):
        raise InputError(
            f"question must be {_QUESTION_NAMES[fmt]} for Q{fmt}{suite.question_length:02d} (RFC 6287 §6.3 Table 2)",
            where="question",
        )
    if len(question) > suite.question_max:
        raise InputError(
            f"question has {len(question)} characters; Q{fmt}{suite.question_length:02d} allows "
            f"{suite.question_length} per question, {suite.question_max} for two concatenated "
            "questions (RFC 6287 §5.1, §7.2)",
            where="question",
        )
    if fmt == "A":
        raw = question.encode("ascii")
    else:
        nibbles = format(int(question), "X") if fmt == "N" else question
        raw = bytes.fromhex(nibbles + "0" * (len(nibbles) % 2))  # left-aligned nibbles
    return raw.ljust(QUESTION_BYTES, b"\0")


def hash_pin(suite: OcraSuite | str, pin: object) -> bytes:
    """P for a plain PIN/password: its UTF-8 bytes hashed with the suite's PH (§5.1)."""
    suite = _suite(suite)
    if suite.pin_algorithm is None:
        raise InputError("the suite has no P element; no PIN is used", where="pin")
    if not isinstance(pin, str):
        raise InputError(f"pin must be a string, not {type(pin).__name__}", where="pin")
    return hash_digest(suite.pin_algorithm, pin.encode("utf-8"))


def time_steps(unix_time: int, suite_or_step: OcraSuite | str | int) -> int:
    """T of RFC 6287 §5.1: whole time steps of G since the Unix epoch at ``unix_time``."""
    step = suite_or_step if isinstance(suite_or_step, int) else _suite(suite_or_step).time_step
    if step is None:
        raise InputError("the suite has no T element", where="timestamp")
    check_int(unix_time, "time", 0, 2**63 - 1, "Unix seconds since the epoch, RFC 6287 §5.1")
    if step <= 0:
        raise InputError("time step G is 0 (0H); no time-step count exists", where="OCRASuite")
    return unix_time // step


def _absent(name: str, value: object, element: str) -> None:
    if value is not None:
        raise InputError(f"{name} given but the suite has no {element} element (RFC 6287 §6.3)", where=name)


def data_input(
    suite: OcraSuite | str,
    *,
    question: str,
    counter: int | None = None,
    pin_hash: bytes | None = None,
    session: bytes | None = None,
    timestamp: int | None = None,
) -> bytes:
    """DataInput = {OCRASuite | 00 | C | Q | P | S | T} (RFC 6287 §5.1).

    ``pin_hash`` is P already hashed (see ``hash_pin()`` for a plain PIN); ``timestamp``
    is T, the number of time steps (see ``time_steps()``).
    """
    suite = _suite(suite)
    out = [suite.text.encode("ascii"), b"\0"]
    if suite.counter:
        if counter is None:
            raise InputError("the suite has C but no counter was given (RFC 6287 §5.1)", where="counter")
        out.append(check_int(counter, "counter", 0, COUNTER_MAX, "RFC 6287 §5.1: 8-byte counter").to_bytes(8, "big"))
    else:
        _absent("counter", counter, "C")
    out.append(question_bytes(suite, question))
    if suite.pin_algorithm is not None:
        if pin_hash is None:
            raise InputError("the suite has P but no PIN or PIN hash was given (RFC 6287 §5.1)", where="pin")
        expected = digest_size(suite.pin_algorithm)
        if not isinstance(pin_hash, (bytes, bytearray)) or len(pin_hash) != expected:
            got = len(pin_hash) if isinstance(pin_hash, (bytes, bytearray)) else type(pin_hash).__name__
            raise InputError(
                f"PIN hash must be {expected} bytes for P{suite.pin_algorithm.upper()}, got {got}",
                where="pin_hash",
            )
        out.append(bytes(pin_hash))
    else:
        _absent("pin", pin_hash, "P")
    if suite.session_length is not None:
        if session is None:
            raise InputError("the suite has S but no session information was given (RFC 6287 §5.1)", where="session")
        if not isinstance(session, (bytes, bytearray)) or len(session) > suite.session_length:
            got = len(session) if isinstance(session, (bytes, bytearray)) else type(session).__name__
            raise InputError(f"session information must be at most {suite.session_length} bytes, got {got}", where="session")
        out.append(bytes(session).rjust(suite.session_length, b"\0"))  # reading 6
    else:
        _absent("session", session, "S")
    if suite.time_step is not None:
        if timestamp is None:
            raise InputError("the suite has T but no timestamp was given (RFC 6287 §5.1)", where="timestamp")
        out.append(check_int(timestamp, "timestamp", 0, 2**64 - 1, "RFC 6287 §5.1: 8-byte T").to_bytes(8, "big"))
    else:
        _absent("timestamp", timestamp, "T")
    return b"".join(out)


def ocra_hmac(secret: bytes, suite: OcraSuite | str, **inputs: object) -> bytes:
    """HMAC-H(K, DataInput) before truncation; ``inputs`` as for ``ocra``."""
    suite = _suite(suite)
    secret = check_secret(secret)
    pin = inputs.pop("pin", None)
    if pin is not None:
        if inputs.get("pin_hash") is not None:
            raise InputError("give either a PIN or a PIN hash, not both", where="pin")
        inputs["pin_hash"] = hash_pin(suite, pin)
    return hmac_digest(suite.algorithm, secret, data_input(suite, **inputs))  # type: ignore[arg-type]


def ocra(
    secret: bytes,
    suite: OcraSuite | str,
    *,
    question: str,
    counter: int | None = None,
    pin: str | None = None,
    pin_hash: bytes | None = None,
    session: bytes | None = None,
    timestamp: int | None = None,
) -> str:
    """The OCRA response (RFC 6287 §5.2): HOTP-H-t truncation of HMAC-H(K, DataInput)."""
    suite = _suite(suite)
    if suite.digits == 0:
        raise UnsupportedFeature(
            "t = 0 (no truncation) has no defined textual response; use ocra_hmac()",
            status=STATUS_UNSUPPORTED_TRUNCATION,
            spec=f"{SPEC} §5.2",
            where="OCRASuite",
        )
    mac = ocra_hmac(
        secret, suite, question=question, counter=counter, pin=pin, pin_hash=pin_hash, session=session, timestamp=timestamp
    )
    return format_digits(dynamic_truncate(mac), suite.digits)
