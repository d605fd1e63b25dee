"""Replay an OASIS KMIP test case against a server, sans I/O.

:func:`replay_case` is handed an ``exchange(request_bytes) -> response_bytes`` callable
(one connection, one TTLV message each way) and, for every request/response pair of the
case, in order:

1. fills the request: ``$NOW±n`` from the injected clock; placeholders bound from earlier
   responses ($UNIQUE_IDENTIFIER_n ...); an unbound server-output placeholder ($DATA_0,
   $IV_COUNTER_NONCE, ...) with the value the server last returned under that tag (the
   OASIS files sometimes show a literal in the response and use the placeholder only in
   the next request, see the README of the vectors); an unbound identifier with a typed
   dummy; and a literal that an earlier expected response showed but the server legitimately
   replaced (a tolerated variation, see :mod:`.compare`) with the server's value;
2. TTLV-encodes it, exchanges it, decodes the answer strictly in the case's version;
3. compares it with :func:`.compare.compare_response`.

Verdicts: ``pass``; ``fail`` with the first differing field (or the answer is not TTLV);
``unsupported`` (the server does not support the case's protocol version, or answers a
"not supported" reason, see :mod:`.compare`); ``error`` when the exchange itself failed
(connection closed, no answer: ``error`` holds the harness exception, the caller decides
whether that is the server's fault).  The run stops at the first exchange that does not
pass, since later steps depend on earlier ones.

OPTIONAL batch options (KMIP 1.4 §6.12 Batch Order Option, §6.13 Batch Error Continuation
Option): "if the server does not support the feature ... the entire request SHALL be
rejected".  When a request using them is rejected as a whole, it is sent again without
them; if that is accepted, the case goes on with that answer (judged field by field) and
can at best end ``unsupported``; if it fails the same way, the options were not the cause
and the first answer is judged as it is.

Interop (Profiles 2.1 §4.1.2 items 7-9: a test MAY be preceded by Interop Begin and
followed by Interop End, "use of the Operation Interop is optional"): when the server
refuses an Interop request, the pair is recorded as ``skipped`` and the case goes on.

Evidence: every exchange keeps its request, response and expected response as KMIP XML
(:mod:`.xml_encoding`); byte strings other than public ones (IVs, digests, signatures,
identifiers) and Big Integers are replaced by their fingerprint unless ``reveal``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from harness.errors import InputError, KplabError, ProtocolError
from harness.redaction import fingerprint
from reference.kmip import ttlv
from reference.kmip.compare import CaseState, Difference, compare_response
from reference.kmip.variations import ID_PLACEHOLDERS, NOW_TOLERANCE_S, PUBLIC_BYTES, SUCCESS, T, enum_of, tag_of
from reference.kmip.placeholders import Placeholder, typed_dummy
from reference.kmip.tags import tables_for
from reference.kmip.testcases import OasisCase
from reference.kmip.ttlv import Item, ItemType, big_integer_bytes
from reference.kmip.xml_encoding import to_xml_element

Exchange = Callable[[bytes], bytes]
INTEROP = enum_of("Operation", "Interop")
_KEY_CONTAINERS = frozenset({T.KeyMaterial, T.KeyValue})


@dataclass(frozen=True)
class ExchangeRecord:
    """One request/response pair as it happened."""

    index: int
    operations: tuple[str, ...]
    outcome: str  # pass | fail | unsupported | error | skipped | rejected (resent without optional options)
    detail: str
    seconds: float
    request_xml: str
    response_xml: str | None
    expected_xml: str

    @property
    def label(self) -> str:
        return f"exchange {self.index} ({', '.join(self.operations) or 'no operation'})"


@dataclass(frozen=True)
class ReplayResult:
    case: str
    verdict: str  # pass | fail | unsupported | error
    detail: str  # "" on pass; else "exchange N (Op): <path>: <what>"
    exchange: int | None  # index of the exchange that decided a non-pass verdict
    records: tuple[ExchangeRecord, ...]
    secrets: frozenset[bytes] = field(default=frozenset(), repr=False)  # key material met (for redaction)
    error: KplabError | None = None  # the transport failure behind an "error" verdict
    difference: Difference | None = None
    version: tuple[int, int] = (1, 4)
    created: tuple[str, ...] = ()  # identifiers the server returned for the case's objects
    generated: frozenset[str] = frozenset()  # of those, the objects the server generated


def replay_case(
    case: OasisCase,
    exchange: Exchange,
    *,
    clock: Callable[[], float] = time.time,
    versions: tuple[tuple[int, int], ...] | None = None,
    tolerance_s: float = NOW_TOLERANCE_S,
    reveal: bool = False,
    generated: frozenset[str] = frozenset(),
) -> ReplayResult:
    """Run every exchange of ``case`` through ``exchange``; see the module text.
    ``generated``: identifiers of objects the server generated in an earlier case this
    one builds on (their key material may vary as in the case that created them)."""
    if versions is not None and case.version not in versions:
        have = ", ".join(f"{a}.{b}" for a, b in versions) or "none"
        return ReplayResult(case.name, "unsupported", f"server does not support KMIP {case.version_text} (declares {have})",
                            None, (), version=case.version)
    tables = tables_for(case.version)
    state = CaseState(generated=set(generated))
    records: list[ExchangeRecord] = []
    secrets: set[bytes] = set()
    optional_notes: list[str] = []  # OPTIONAL header features the server rejected (requests resent without)

    def xml(item: Item) -> str:
        return redacted_xml(item, case.version, reveal=reveal)

    def finish(verdict: str, index: int | None, detail: str, **extra: object) -> ReplayResult:
        created = tuple(sorted({str(v) for (t, v) in (state.bound[k] for k in state.bound if _is_id(k))}
                               | state.generated))
        return ReplayResult(case.name, verdict, detail, index, tuple(records), frozenset(secrets),  # type: ignore[arg-type]
                            version=case.version, created=created, generated=frozenset(state.generated), **extra)

    for ex in case.exchanges:
        request = prepare_request(ex.request, state, clock())
        operations = tuple(_operation_names(request, tables))
        label = f"exchange {ex.index} ({', '.join(operations) or 'no operation'})"
        _collect_secrets(request, secrets)

        def record(outcome: str, detail: str, seconds: float, actual: Item | None, sent: Item = request) -> None:
            records.append(ExchangeRecord(ex.index, operations, outcome, detail, seconds, xml(sent),
                                          xml(actual) if actual is not None else None, xml(ex.response)))

        sent = _send(request, exchange, clock, case.version)
        if sent.error is not None:
            record(sent.verdict, str(sent.error), sent.seconds, None)
            return finish(sent.verdict, ex.index, f"{label}: {sent.message}", error=sent.error)
        if sent.answer is None:
            record("fail", sent.message, sent.seconds, None)
            return finish("fail", ex.index, f"{label}: {sent.message}")
        actual = sent.answer
        _collect_secrets(actual, secrets)
        before = state.copy()
        diff = compare_response(ex.response, actual, state, request=request, version=case.version,
                                window=sent.window, tolerance_s=tolerance_s)
        if diff is not None and diff.optional_feature:
            # KMIP 1.4 §6.12/§6.13: a server without the feature rejects the whole request, as
            # permitted.  Resend without it and judge that answer instead (the rest of the case
            # builds on it); the case can then at best be "unsupported".
            stripped = _without_optional_options(request)
            resent = _send(stripped, exchange, clock, case.version)
            state.restore(before)
            note = diff.detail.split(" (support OPTIONAL")[0].replace("the server rejects the whole request that uses ", "")
            same_failure = resent.answer is not None and _failure_summary(resent.answer) == _failure_summary(actual)
            if resent.answer is not None and not same_failure:
                record("rejected", diff.detail, sent.seconds, actual)
                request, actual = stripped, resent.answer
                _collect_secrets(actual, secrets)
                diff = compare_response(ex.response, actual, state, request=request, version=case.version,
                                        window=resent.window, tolerance_s=tolerance_s, optional_rule=False)
                optional_notes.append(f"{label}: rejects {note}")
                if diff is not None:
                    diff = Difference(diff.path, f"{diff.detail} [request resent without the OPTIONAL {note}, "
                                                 f"which the server rejects as a whole]", diff.unsupported)
            else:
                diff = compare_response(ex.response, actual, state, request=request, version=case.version,
                                        window=sent.window, tolerance_s=tolerance_s, optional_rule=False)
        outcome, detail = "pass", ""
        if diff is not None:
            outcome, detail = ("unsupported" if diff.unsupported else "fail"), f"{label}: {diff}"
            if operations and all(op == "Interop" for op in operations) and _failed(actual):
                outcome, detail = "skipped", f"{label}: server refuses Interop (optional, Profiles 2.1 §4.1.2 items 7-9)"
            elif ex.index == 0 and _failed(actual) and (got := _header_version(actual)) and got[0] != case.version[0]:
                # KMIP 1.4 §11.1: "Protocol major version mismatch" -> a failure (in a version of
                # the server's choice): the server does not speak this major version.
                outcome = "unsupported"
                detail = (f"{label}: server answers a KMIP {case.version_text} request with a failure in KMIP "
                          f"{got[0]}.{got[1]} (major version not supported): {diff}")
        record(outcome, detail, sent.seconds, actual, request)
        if outcome in ("fail", "unsupported"):
            return finish(outcome, ex.index, detail, difference=diff)
    if optional_notes:
        return finish("unsupported", None, "passes with the OPTIONAL batch options left out, which the server "
                                           "rejects (KMIP 1.4 §6.12/§6.13): " + "; ".join(optional_notes))
    return finish("pass", None, "")


@dataclass(frozen=True)
class _Sent:
    answer: Item | None  # the decoded response
    window: tuple[float, float]
    message: str = ""  # why there is no answer
    error: KplabError | None = None  # transport failure ("error") or unencodable request
    verdict: str = "error"

    @property
    def seconds(self) -> float:
        return self.window[1] - self.window[0]


def _send(request: Item, exchange: Exchange, clock: Callable[[], float], version: tuple[int, int]) -> _Sent:
    try:
        wire = ttlv.encode(request)
    except InputError as exc:  # a case we cannot send: our problem, not the server's
        return _Sent(None, (0.0, 0.0), f"request cannot be encoded: {exc}", exc)
    started = clock()
    try:
        reply = exchange(wire)
    except KplabError as exc:
        return _Sent(None, (started, clock()), str(exc), exc)
    ended = clock()
    try:
        return _Sent(ttlv.decode(reply, version=version), (started, ended))
    except ProtocolError as exc:
        return _Sent(None, (started, ended), f"the response is not valid TTLV ({exc}; {len(reply)} bytes)")


def _without_optional_options(request: Item) -> Item:
    header = request.find(T.RequestHeader)
    if header is None:
        return request
    stripped = Item.structure(header.tag, [c for c in header.items
                                           if c.tag not in (T.BatchErrorContinuationOption, T.BatchOrderOption)])
    return Item.structure(request.tag, [stripped if c.tag == T.RequestHeader else c for c in request.items])


def _is_id(placeholder_text: str) -> bool:
    return Placeholder(placeholder_text).name in ID_PLACEHOLDERS and "SHORT" not in placeholder_text


def cleanup_requests(identifiers: tuple[str, ...], version: tuple[int, int]) -> list[bytes]:
    """One TTLV request per object: Revoke (Cessation of Operation) then Destroy, batch error
    option Continue, so a Pre-Active object (Revoke may fail) is destroyed all the same."""
    tag = tag_of
    header = Item.structure(tag("RequestHeader"), [
        Item.structure(tag("ProtocolVersion"), [Item.integer(tag("ProtocolVersionMajor"), version[0]),
                                                Item.integer(tag("ProtocolVersionMinor"), version[1])]),
        Item.enumeration(tag("BatchErrorContinuationOption"), enum_of("Batch Error Continuation Option", "Continue")),
        Item.integer(tag("BatchCount"), 2),
    ])
    out = []
    for identifier in identifiers:
        uid = Item.text_string(tag("UniqueIdentifier"), identifier)
        reason = Item.structure(tag("RevocationReason"), [
            Item.enumeration(tag("RevocationReasonCode"), enum_of("Revocation Reason Code", "CessationOfOperation"))])
        revoke = Item.structure(T.BatchItem, [Item.enumeration(T.Operation, enum_of("Operation", "Revoke")),
                                              Item.structure(tag("RequestPayload"), [uid, reason])])
        destroy = Item.structure(T.BatchItem, [Item.enumeration(T.Operation, enum_of("Operation", "Destroy")),
                                               Item.structure(tag("RequestPayload"), [uid])])
        out.append(ttlv.encode(Item.structure(tag("RequestMessage"), [header, revoke, destroy])))
    return out


def prepare_request(template: Item, state: CaseState, now: float) -> Item:
    """The request to send: placeholders and replaced literals filled in (see the module
    text); records the Date-Time values sent in ``state.request_times``."""

    def fill(item: Item) -> Item:
        if item.type is ItemType.STRUCTURE:
            children = tuple(fill(c) for c in item.items)
            return item if children == item.value else Item(item.tag, item.type, children)
        value = item.value
        if isinstance(value, Placeholder):
            value = _resolve(value, item.type, item.tag, state, now)
        else:
            key = (item.type, value)
            if item.type in (ItemType.BYTE_STRING, ItemType.TEXT_STRING) and key in state.aliases:
                value = state.aliases[key]
        if item.type is ItemType.DATE_TIME:
            state.request_times.add(value)  # type: ignore[arg-type]
        return item if value is item.value else Item(item.tag, item.type, value)

    return fill(template)


def _resolve(ph: Placeholder, item_type: ItemType, tag: int, state: CaseState, now: float) -> object:
    if ph.name == "NOW":
        seconds = int(now) + ph.offset
        return seconds * 1_000_000 if item_type is ItemType.DATE_TIME_EXTENDED else seconds
    bound = state.bound.get(ph.text)
    if bound is not None and bound[0] is item_type:
        return bound[1]
    if ph.name not in ID_PLACEHOLDERS:
        latest = state.latest.get((tag, item_type))
        if latest is not None:
            return latest
    return typed_dummy(ph, item_type, tag, now=int(now))


def _operation_names(message: Item, tables: object) -> list[str]:
    table = tables.enumeration("Operation")  # type: ignore[attr-defined]
    names = []
    for batch_item in message.find_all(T.BatchItem):
        op = batch_item.find(T.Operation)
        if op is not None and isinstance(op.value, int):
            entry = table.by_value(op.value) if table is not None else None
            names.append(entry.xml_name if entry is not None else f"0x{op.value:08X}")
    return names


def _failed(message: Item) -> bool:
    return any((s := b.find(T.ResultStatus)) is None or s.value != SUCCESS for b in message.find_all(T.BatchItem))


def _failure_summary(message: Item) -> list[tuple[object, object]]:
    """(Result Status, Result Reason) of every batch item: "failed the same way"."""
    return [tuple(None if (x := b.find(tag)) is None else x.value for tag in (T.ResultStatus, T.ResultReason))
            for b in message.find_all(T.BatchItem)]  # type: ignore[misc]


def _header_version(message: Item) -> tuple[int, int] | None:
    header = message.find(T.ResponseHeader)
    version = header.find(T.ProtocolVersion) if header is not None else None
    if version is None or len(version.items) < 2:
        return None
    major, minor = version.items[0].value, version.items[1].value
    return (major, minor) if isinstance(major, int) and isinstance(minor, int) else None


def _collect_secrets(item: Item, out: set[bytes], inside_key: bool = False) -> None:
    """Key material (byte strings and Big Integers under Key Material / Key Value)."""
    inside_key = inside_key or item.tag in _KEY_CONTAINERS
    if item.type is ItemType.STRUCTURE:
        for child in item.items:
            _collect_secrets(child, out, inside_key)
    elif inside_key and isinstance(item.value, bytes) and len(item.value) >= 8:
        out.add(item.value)
    elif inside_key and item.type is ItemType.BIG_INTEGER and isinstance(item.value, int):
        out.add(big_integer_bytes(item.value))


def redacted_xml(item: Item, version: tuple[int, int], *, reveal: bool = False) -> str:
    """KMIP XML of ``item`` with non-public byte strings and Big Integers fingerprinted."""
    from lxml import etree

    try:
        root = to_xml_element(item, version=version)
    except (InputError, ValueError) as exc:
        return f"<!-- not representable as KMIP XML: {exc} -->"
    if not reveal:
        _redact(item, root)
    return etree.tostring(root, encoding="unicode", pretty_print=True)


def _redact(item: Item, element: object) -> None:
    if item.type is ItemType.STRUCTURE:
        for child, child_element in zip(item.items, element):  # type: ignore[call-overload]
            _redact(child, child_element)
        return
    value = item.value
    if isinstance(value, Placeholder):
        return
    if item.type is ItemType.BYTE_STRING and item.tag not in PUBLIC_BYTES:
        element.set("value", f"{fingerprint(value)} ({len(value)} bytes, redacted)")  # type: ignore[attr-defined,arg-type]
    elif item.type is ItemType.BIG_INTEGER:
        raw = big_integer_bytes(value)  # type: ignore[arg-type]
        element.set("value", f"{fingerprint(raw)} ({len(raw)} bytes, redacted)")  # type: ignore[attr-defined]
    elif item.type is ItemType.TEXT_STRING and item.tag == T.Password:
        element.set("value", f"{fingerprint(value)} (redacted)")  # type: ignore[attr-defined,arg-type]
