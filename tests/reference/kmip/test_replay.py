"""reference/kmip/replay.py against a scripted fake server.

The fake answers each request with the case's own expected response, its placeholders
filled with values of the fake's choosing (identifiers "srv-<n>-<case>", its own clock,
byte strings it makes up), and the request's protocol version in the header (the OASIS
response headers say so, but for one slip, see test_compare).  It also checks what the
runner sends: every $UNIQUE_IDENTIFIER_n of a request must arrive as the identifier the fake
returned for it.  A faithful server must pass every case; one changed field must fail at
exactly that field.
"""

from __future__ import annotations

import hashlib

from harness.errors import AdapterCrash
from reference.kmip import ttlv
from reference.kmip.compare import CaseState
from reference.kmip.placeholders import Placeholder, resolve_placeholders
from reference.kmip.replay import cleanup_requests, prepare_request, replay_case
from reference.kmip.ttlv import Item, ItemType
from reference.kmip.variations import T, enum_of

NOW = 1_700_000_000.0


class FakeServer:
    """Plays a case back; ``mutate(index, response_item) -> item`` alters one answer."""

    def __init__(self, case, mutate=None, clock=lambda: NOW):
        self.case, self.mutate, self.clock = case, mutate, clock
        self.turn = 0
        self.problems: list[str] = []
        self.ids: dict[str, str] = {}

    def value(self, ph: Placeholder, item_type: ItemType, tag: int) -> object:
        if ph.name == "NOW":
            seconds = int(self.clock()) + ph.offset
            return seconds * 1_000_000 if item_type is ItemType.DATE_TIME_EXTENDED else seconds
        if ph.name in ("UNIQUE_IDENTIFIER", "SHORT_UNIQUE_IDENTIFIER"):
            made = f"srv-{ph.index}-{self.case.name}"
            self.ids.setdefault(ph.text, made)
            return self.ids[ph.text] if item_type is ItemType.TEXT_STRING else self.ids[ph.text].encode()
        return hashlib.sha256(f"{self.case.name}{ph.text}".encode()).digest()[:16]

    def _check_request(self, template: Item, sent: Item) -> None:
        if template.type is ItemType.STRUCTURE:
            for a, b in zip(template.items, sent.items):
                self._check_request(a, b)
        elif isinstance(template.value, Placeholder) and template.value.text in self.ids:
            if sent.value != self.ids[template.value.text]:
                self.problems.append(f"exchange {self.turn}: {template.value.text} sent as {sent.value!r}")

    def __call__(self, data: bytes) -> bytes:
        exchange = self.case.exchanges[self.turn]
        sent = ttlv.decode(data)
        self._check_request(exchange.request, sent)
        answer = resolve_placeholders(exchange.response, self.value)
        version = sent.find(T.RequestHeader).find(T.ProtocolVersion)
        header = answer.find(T.ResponseHeader)
        header = Item.structure(header.tag, [version if c.tag == T.ProtocolVersion else c for c in header.items])
        answer = Item.structure(answer.tag, [header if c.tag == T.ResponseHeader else c for c in answer.items])
        if self.mutate is not None:
            answer = self.mutate(self.turn, answer)
        self.turn += 1
        return ttlv.encode(answer)


def by_name(cases, name):
    return next(c for c in cases if c.name == name)


def replace_leaf(item: Item, tag: int, new_value: object, *, nth: int = 0) -> Item:
    """``item`` with the ``nth`` leaf of ``tag`` (depth-first) set to ``new_value``."""
    count = [0]

    def walk(node: Item) -> Item:
        if node.type is ItemType.STRUCTURE:
            return Item(node.tag, node.type, tuple(walk(c) for c in node.items))
        if node.tag == tag:
            count[0] += 1
            if count[0] - 1 == nth:
                return Item(node.tag, node.type, new_value)
        return node

    return walk(item)


def test_a_faithful_server_passes_every_oasis_case(oasis_cases):
    failures = []
    for case in oasis_cases:
        fake = FakeServer(case)
        result = replay_case(case, fake, clock=lambda: NOW)
        if result.verdict != "pass" or fake.problems or fake.turn != len(case.exchanges):
            failures.append(f"{case.name}: {result.verdict} {result.detail} {fake.problems[:2]}")
    assert failures == []


def test_one_changed_attribute_fails_at_that_field(oasis_cases):
    state_enum = enum_of("State", "Active")
    for name, path in (
        ("SKLC-M-1-14", "ResponseMessage/BatchItem[0]/ResponsePayload/Attribute[State]/AttributeValue"),
        ("SKLC-M-1-21", "ResponseMessage/BatchItem[0]/ResponsePayload/Attributes/State"),
    ):
        case = by_name(oasis_cases, name)
        tag = T.AttributeValue if name.endswith("14") else ttlv_tag("State")

        def mutate(turn, answer, tag=tag):
            return replace_leaf(answer, tag, state_enum) if turn == 1 else answer

        result = replay_case(case, FakeServer(case, mutate), clock=lambda: NOW)
        assert result.verdict == "fail" and result.exchange == 1
        assert result.detail == f"exchange 1 (GetAttributes): {path}: expected PreActive, got Active"
        assert [r.outcome for r in result.records] == ["pass", "fail"]


def ttlv_tag(name: str) -> int:
    from reference.kmip.variations import tag_of

    return tag_of(name)


def test_identifier_bound_in_one_response_must_come_back(oasis_cases):
    case = by_name(oasis_cases, "SKLC-M-1-14")
    result = replay_case(case, FakeServer(case, lambda turn, a: replace_leaf(a, T.UniqueIdentifier, "other")
                                          if turn == 2 else a), clock=lambda: NOW)
    assert result.verdict == "fail" and result.exchange == 2
    assert "UniqueIdentifier: expected $UNIQUE_IDENTIFIER_0 = 'srv-0-SKLC-M-1-14' (bound earlier), got 'other'" in result.detail


def test_operation_not_supported_is_unsupported_and_stops(oasis_cases):
    case = by_name(oasis_cases, "SKLC-M-1-14")

    def refuse(turn, answer):
        item = answer.find(T.BatchItem)
        failed = Item.structure(T.BatchItem, [item.find(T.Operation),
                                              Item.enumeration(T.ResultStatus, enum_of("Result Status", "OperationFailed")),
                                              Item.enumeration(T.ResultReason, enum_of("Result Reason", "OperationNotSupported"))])
        return Item.structure(answer.tag, [answer.find(T.ResponseHeader), failed])

    fake = FakeServer(case, refuse)
    result = replay_case(case, fake, clock=lambda: NOW)
    assert result.verdict == "unsupported" and result.exchange == 0 and fake.turn == 1


def test_a_version_the_server_does_not_declare_is_unsupported_without_traffic(oasis_cases):
    case = by_name(oasis_cases, "SKLC-M-1-21")
    fake = FakeServer(case)
    result = replay_case(case, fake, versions=((1, 0), (1, 4), (2, 0)))
    assert result.verdict == "unsupported" and fake.turn == 0 and "KMIP 2.1" in result.detail


def test_transport_failure_is_an_error_with_the_harness_exception(oasis_cases):
    case = by_name(oasis_cases, "SKLC-M-1-14")

    def closed(data):
        raise AdapterCrash("connection closed by peer", adapter="fake")

    result = replay_case(case, closed, clock=lambda: NOW)
    assert result.verdict == "error" and isinstance(result.error, AdapterCrash) and result.exchange == 0


def test_garbage_answer_fails_as_not_ttlv(oasis_cases):
    case = by_name(oasis_cases, "SKLC-M-1-14")
    result = replay_case(case, lambda data: b"HTTP/1.1 400 Bad Request\r\n\r\n", clock=lambda: NOW)
    assert result.verdict == "fail" and "not valid TTLV" in result.detail


def test_refused_interop_is_skipped(oasis_cases):
    case = by_name(oasis_cases, "BL-M-1-21")
    interop = enum_of("Operation", "Interop")

    def refuse_interop(turn, answer):
        item = answer.find(T.BatchItem)
        if item.find(T.Operation).value != interop:
            return answer
        failed = Item.structure(T.BatchItem, [item.find(T.Operation),
                                              Item.enumeration(T.ResultStatus, enum_of("Result Status", "OperationFailed")),
                                              Item.enumeration(T.ResultReason, enum_of("Result Reason", "OperationNotSupported"))])
        return Item.structure(answer.tag, [answer.find(T.ResponseHeader), failed])

    result = replay_case(case, FakeServer(case, refuse_interop), clock=lambda: NOW)
    assert result.verdict == "pass"
    outcomes = [r.outcome for r in result.records]
    assert outcomes[0] == "skipped" and outcomes[-1] == "skipped" and set(outcomes[1:-1]) == {"pass"}


def test_time_outside_tolerance_fails(oasis_cases):
    case = by_name(oasis_cases, "SKLC-M-1-14")
    result = replay_case(case, FakeServer(case, clock=lambda: NOW + 7200), clock=lambda: NOW)
    assert result.verdict == "fail" and "ResponseHeader/TimeStamp: expected $NOW" in result.detail


def test_server_replaced_literal_is_sent_back_in_later_requests(oasis_cases):
    # CS-BC-M-13-14: the Encrypt response shows literal Data / IV; the key is registered, the IV
    # chosen by the server, so Data may differ (Profiles 2.1 §4.1.1 item 8); the Decrypt request
    # then says $DATA_0 / $IV_COUNTER_NONCE: it must carry what the server returned.
    case = by_name(oasis_cases, "CS-BC-M-13-14")
    encrypt = next(i for i, ex in enumerate(case.exchanges)
                   if ex.request.find(T.BatchItem).find(T.Operation).value == enum_of("Operation", "Encrypt"))
    server_data = bytes(range(32))
    sent = {}

    def mutate(turn, answer):
        return replace_leaf(answer, T.Data, server_data) if turn == encrypt else answer

    fake = FakeServer(case, mutate)
    original = fake.__call__

    def spy(data):
        if fake.turn == encrypt + 1:
            sent["data"] = ttlv.decode(data).find(T.BatchItem).find(T.RequestPayload).find(T.Data).value
        return original(data)

    result = replay_case(case, spy, clock=lambda: NOW)
    assert result.verdict == "pass", result.detail
    assert sent["data"] == server_data


def test_evidence_xml_never_carries_key_material(oasis_cases):
    case = by_name(oasis_cases, "CS-AC-M-1-14")  # registers a private key
    result = replay_case(case, FakeServer(case), clock=lambda: NOW)
    assert result.secrets
    text = "".join(r.request_xml + (r.response_xml or "") + r.expected_xml for r in result.records)
    for secret in result.secrets:
        assert secret.hex() not in text and secret.hex().upper() not in text
    assert "redacted" in text


def test_prepare_request_fills_now_bound_ids_and_latest_values():
    from reference.kmip.xml_encoding import from_xml

    template = from_xml('<RequestMessage><BatchItem><RequestPayload>'
                        '<UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/>'
                        '<Data type="ByteString" value="$DATA_0"/>'
                        '<ActivationDate type="DateTime" value="$NOW-3600"/>'
                        '</RequestPayload></BatchItem></RequestMessage>', version=(1, 4))
    state = CaseState(bound={"$UNIQUE_IDENTIFIER_0": (ItemType.TEXT_STRING, "id-7")},
                      latest={(T.Data, ItemType.BYTE_STRING): b"\x01\x02"})
    payload = prepare_request(template, state, NOW).find(T.BatchItem).find(T.RequestPayload)
    assert [c.value for c in payload.items] == ["id-7", b"\x01\x02", int(NOW) - 3600]
    assert int(NOW) - 3600 in state.request_times


def test_cleanup_revokes_then_destroys_each_object():
    (message,) = cleanup_requests(("obj-1",), (2, 1))
    decoded = ttlv.decode(message)
    ops = [b.find(T.Operation).value for b in decoded.find_all(T.BatchItem)]
    assert ops == [enum_of("Operation", "Revoke"), enum_of("Operation", "Destroy")]
    assert all(b.find(T.RequestPayload).find(T.UniqueIdentifier).value == "obj-1" for b in decoded.find_all(T.BatchItem))


class RejectsUndo(FakeServer):
    """Does not support Batch Error Continuation Option Undo: rejects such requests as a
    whole (KMIP 1.4 §6.13 permits exactly that); ``broken`` also spoils the answer to the
    request resent without it."""

    def __init__(self, case, broken=False):
        super().__init__(case)
        self.broken = broken
        self.rejected = 0

    def __call__(self, data: bytes) -> bytes:
        sent = ttlv.decode(data)
        if sent.find(T.RequestHeader).find(T.BatchErrorContinuationOption) is not None:
            self.rejected += 1
            header = Item.structure(T.ResponseHeader, [sent.find(T.RequestHeader).find(T.ProtocolVersion),
                                                       Item.date_time(T.TimeStamp, int(NOW)),
                                                       Item.integer(ttlv_tag("BatchCount"), 1)])
            failed = Item.structure(T.BatchItem, [
                Item.enumeration(T.ResultStatus, enum_of("Result Status", "OperationFailed")),
                Item.enumeration(T.ResultReason, enum_of("Result Reason", "InvalidMessage"))])
            return ttlv.encode(Item.structure(ttlv_tag("ResponseMessage"), [header, failed]))
        if self.broken:
            self.mutate = lambda turn, a: replace_leaf(a, ttlv_tag("CryptographicLength"), 1)
        return super().__call__(data)


def test_rejected_optional_batch_option_is_resent_without_it_and_unsupported(oasis_cases):
    case = by_name(oasis_cases, "AX-M-1-14")  # Batch Error Continuation Option Undo, Batch Order Option
    fake = RejectsUndo(case)
    result = replay_case(case, fake, clock=lambda: NOW)
    with_option = [ex.index for ex in case.exchanges
                   if ex.request.find(T.RequestHeader).find(T.BatchErrorContinuationOption) is not None]
    assert with_option and fake.rejected == len(with_option) and not fake.problems
    assert fake.turn == len(case.exchanges)
    assert result.verdict == "unsupported" and "OPTIONAL batch options left out" in result.detail
    outcomes = [(r.index, r.outcome) for r in result.records]
    assert [i for i, o in outcomes if o == "rejected"] == with_option
    assert {o for _, o in outcomes} == {"rejected", "pass"}


def test_resent_request_still_judged_field_by_field(oasis_cases):
    case = by_name(oasis_cases, "AX-M-1-14")
    result = replay_case(case, RejectsUndo(case, broken=True), clock=lambda: NOW)
    assert result.verdict == "fail" and "request resent without the OPTIONAL" in result.detail
    assert "CryptographicLength" in result.detail


def _plain_leaves(item: Item, path: tuple[int, ...] = (), parents: tuple[int, ...] = ()):
    """Leaves no permitted variation covers: Enumerations, Integers, Booleans, and Text
    Strings other than identifiers / names, outside the structures whose content may vary."""
    for i, child in enumerate(item.items):
        if child.tag in _MAY_VARY_INSIDE:
            continue
        if child.type is ItemType.STRUCTURE:
            yield from _plain_leaves(child, path + (i,), parents + (child.tag,))
            continue
        if isinstance(child.value, Placeholder) or child.tag in _MAY_VARY:
            continue
        text_ok = child.type is ItemType.TEXT_STRING and child.tag not in (T.AttributeValue, ttlv_tag("AttributeName"))
        if child.type in (ItemType.ENUMERATION, ItemType.INTEGER, ItemType.BOOLEAN) or text_ok:
            yield path + (i,), child


def _changed(leaf: Item) -> Item:
    value = {ItemType.ENUMERATION: lambda v: v ^ 0x7F, ItemType.INTEGER: lambda v: v + 1,
             ItemType.BOOLEAN: lambda v: not v, ItemType.TEXT_STRING: lambda v: v + "-changed"}[leaf.type](leaf.value)
    return Item(leaf.tag, leaf.type, value)


def _replace_at(item: Item, path: tuple[int, ...], new: Item) -> Item:
    if not path:
        return new
    children = list(item.items)
    children[path[0]] = _replace_at(children[path[0]], path[1:], new)
    return Item(item.tag, item.type, tuple(children))


# What the permitted variations let vary (Profiles 2.1 §4.1.1 items 1-21, response variations).
_MAY_VARY = {ttlv_tag(n) for n in (
    "KeyFormatType", "HashingAlgorithm", "Operation", "ObjectType", "UniqueIdentifier", "PrivateKeyUniqueIdentifier",
    "PublicKeyUniqueIdentifier", "LinkedObjectIdentifier", "VendorIdentification", "NameValue", "ResultMessage",
    "ClientCorrelationValue", "ServerCorrelationValue")}
_MAY_VARY_INSIDE = {ttlv_tag(n) for n in ("ServerInformation", "RandomNumberGenerator", "ExtensionInformation",
                                           "ApplicationNamespace", "KeyMaterial")}


def test_every_case_fails_when_one_plain_response_value_changes(oasis_cases):
    """No tolerance swallows a plain wrong value: in each case, the first response-payload
    value no permitted variation covers is changed; the replay must fail in that exchange."""
    checked, missed = 0, []
    for case in oasis_cases:
        target = None
        for ex in case.exchanges:
            for b, batch_item in enumerate(ex.response.find_all(T.BatchItem)):
                payload = batch_item.find(ttlv_tag("ResponsePayload"))
                leaves = list(_plain_leaves(payload)) if payload is not None else []
                if leaves:
                    target = (ex.index, b, *leaves[0])
                    break
            if target:
                break
        if target is None:
            continue
        turn, b, path, leaf = target

        def mutate(t, answer, turn=turn, b=b, path=path, leaf=leaf):
            if t != turn:
                return answer
            items = list(answer.items)
            positions = [i for i, c in enumerate(items) if c.tag == T.BatchItem]
            batch_item = items[positions[b]]
            p_index = next(i for i, c in enumerate(batch_item.items) if c.tag == ttlv_tag("ResponsePayload"))
            parts = list(batch_item.items)
            parts[p_index] = _replace_at(batch_item.items[p_index], path, _changed(leaf))
            items[positions[b]] = Item(batch_item.tag, batch_item.type, tuple(parts))
            return Item(answer.tag, answer.type, tuple(items))

        result = replay_case(case, FakeServer(case, mutate), clock=lambda: NOW)
        checked += 1
        if result.verdict != "fail" or result.exchange != turn:
            missed.append(f"{case.name}: {result.verdict} at {result.exchange} (changed exchange {turn}) {result.detail}")
    assert missed == [] and checked >= 60  # cases whose responses carry such a value at all
