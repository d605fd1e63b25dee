"""Message handling of the reference KMIP server (reference/kmip/server.py): headers,
versions, batches, Unique Batch Item IDs, Batch Error Continuation Option, Maximum Response
Size, unparseable input.  Expected reasons are quoted from KMIP 1.4 §11.1 / §11.43."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.kmip.server import SUPPORTED_VERSIONS
from reference.kmip.ttlv import Item, decode, encode
from reference.kmip.vocab import BatchErrorContinuation, ObjectType, Operation, QueryFunction, Tag
from tests.reference.kmip.server_helpers import (
    NOW,
    answer,
    batch_item,
    client,
    message,
    new_engine,
    outcome,
    results,
    version_of,
)


def _create_v14(name: str) -> Item:
    c = client(new_engine(), (1, 4))
    payload = c.create_payload("AES", 128, usage_mask=12, name=name)
    return batch_item(Operation.CREATE, *payload)


def test_response_header_carries_version_time_stamp_and_batch_count():
    engine = new_engine()
    response = answer(engine, message((1, 4), batch_item(Operation.QUERY, Item.enumeration(Tag.QUERY_FUNCTION, QueryFunction.OBJECTS))))
    head = response.find(Tag.RESPONSE_HEADER)
    # 1.4 §7.1 / 2.1 §8.5: Protocol Version, Time Stamp and Batch Count are required.
    assert version_of(response) == (1, 4)
    assert head.find(Tag.TIME_STAMP).value == NOW
    assert head.find(Tag.BATCH_COUNT).value == 1 == len(response.find_all(Tag.BATCH_ITEM))


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_answers_in_the_request_version(version):
    response = answer(new_engine(), message(version, batch_item(Operation.QUERY)))
    assert version_of(response) == version
    assert outcome(results(response)[0]) == ("Success", None)


@pytest.mark.parametrize("asked, answered", [((1, 7), (1, 4)), ((2, 5), (2, 1))])
def test_newer_minor_of_a_known_major_is_served_as_our_highest_minor(asked, answered):
    # 1.4 §6.1: "Servers ... SHALL support backward compatibility with versions of the
    # protocol with the same major version"; §11.1: different minor -> process normally.
    response = answer(new_engine(), message(asked, batch_item(Operation.QUERY)))
    assert version_of(response) == answered
    assert outcome(results(response)[0]) == ("Success", None)


@pytest.mark.parametrize("asked", [(3, 0), (0, 9), (9, 9)])
def test_major_version_mismatch_is_invalid_message_without_operation(asked):
    # 1.4 §11.1 Table 327: "Protocol major version mismatch | Response message containing a
    # header and a Batch Item without Operation, but with the Result Status field set to
    # Operation Failed | Invalid Message"
    response = answer(new_engine(), message(asked, batch_item(Operation.QUERY)))
    [item] = response.find_all(Tag.BATCH_ITEM)
    assert item.find(Tag.OPERATION) is None
    assert outcome(results(response)[0]) == ("Operation Failed", "Invalid Message")


@pytest.mark.parametrize("data", [b"", b"garbage", bytes(8), bytes(range(200)), b"\x42\x00\x78\x01\x00\x00\x00\x08"])
def test_unparseable_bytes_get_invalid_message(data):
    # 1.4 §11.1: "Message cannot be parsed | ... Batch Item without Operation ... Invalid Message"
    response = answer(new_engine(), data)
    assert version_of(response) == (1, 0)  # documented fallback when no version is readable
    [item] = response.find_all(Tag.BATCH_ITEM)
    assert item.find(Tag.OPERATION) is None
    assert outcome(results(response)[0]) == ("Operation Failed", "Invalid Message")


def test_unparseable_message_with_a_readable_version_is_answered_in_it():
    good = message((2, 1), batch_item(Operation.QUERY))
    broken = good[:-3] + b"\xff\xff\xff"  # padding of the last item is no longer zero
    response = answer(new_engine(), broken)
    assert version_of(response) == (2, 1)
    assert outcome(results(response)[0]) == ("Operation Failed", "Invalid Message")


def test_batch_count_must_match_the_items():
    response = answer(new_engine(), message((1, 4), batch_item(Operation.QUERY), count=2))
    assert outcome(results(response)[0]) == ("Operation Failed", "Invalid Message")


def test_duplicate_header_field_is_invalid_message():
    # 1.4 §11.1: "The same field is contained in a header/batch item/payload more than once"
    extra = (Item.integer(Tag.MAXIMUM_RESPONSE_SIZE, 4096), Item.integer(Tag.MAXIMUM_RESPONSE_SIZE, 4096))
    response = answer(new_engine(), message((1, 4), batch_item(Operation.QUERY), extra=extra))
    assert outcome(results(response)[0]) == ("Operation Failed", "Invalid Message")


def test_not_a_request_message():
    data = encode(Item.structure(Tag.RESPONSE_MESSAGE, []))
    assert outcome(results(answer(new_engine(), data))[0]) == ("Operation Failed", "Invalid Message")


def test_unknown_operation_is_operation_not_supported():
    item = Item.structure(Tag.BATCH_ITEM, [Item.enumeration(Tag.OPERATION, 0x7F),
                                           Item.structure(Tag.REQUEST_PAYLOAD, [])])
    [r] = results(answer(new_engine(), message((1, 4), item)))
    assert outcome(r) == ("Operation Failed", "Operation Not Supported")  # 1.4 §11.1
    assert r.operation == 0x7F  # the Operation is echoed (2.1 §8.6 "Yes, if specified in Request")


def test_operation_newer_than_the_request_version_is_not_supported():
    # Interop is a KMIP 2.x operation (2.1 §6.1.26); Discover Versions arrived in 1.1.
    interop = batch_item(Operation.INTEROP, Item.enumeration(Tag.INTEROP_FUNCTION, 1))
    assert outcome(results(answer(new_engine(), message((1, 4), interop)))[0]) == ("Operation Failed", "Operation Not Supported")
    assert outcome(results(answer(new_engine(), message((2, 1), interop)))[0]) == ("Success", None)
    dv = batch_item(Operation.DISCOVER_VERSIONS)
    assert outcome(results(answer(new_engine(), message((1, 0), dv)))[0]) == ("Operation Failed", "Operation Not Supported")


def test_missing_payload_and_missing_operation_are_invalid_message():
    no_payload = Item.structure(Tag.BATCH_ITEM, [Item.enumeration(Tag.OPERATION, Operation.QUERY)])
    no_operation = Item.structure(Tag.BATCH_ITEM, [Item.structure(Tag.REQUEST_PAYLOAD, [])])
    r = results(answer(new_engine(), message((1, 4), no_payload, no_operation, extra=(
        Item.enumeration(Tag.BATCH_ERROR_CONTINUATION_OPTION, BatchErrorContinuation.CONTINUE),))))
    assert [outcome(x) for x in r] == [("Operation Failed", "Invalid Message")] * 2


def test_critical_message_extension_is_feature_not_supported():
    ext = Item.structure(Tag.MESSAGE_EXTENSION, [Item.text_string(Tag.VENDOR_IDENTIFICATION, "acme"),
                                                 Item.boolean(Tag.CRITICALITY_INDICATOR, True),
                                                 Item.structure(0x42009C, [])])
    item = Item.structure(Tag.BATCH_ITEM, [Item.enumeration(Tag.OPERATION, Operation.QUERY),
                                           Item.structure(Tag.REQUEST_PAYLOAD, []), ext])
    assert outcome(results(answer(new_engine(), message((1, 4), item)))[0]) == ("Operation Failed", "Feature Not Supported")


# ----------------------------------------------------------------------------- batches
def test_unique_batch_item_ids_are_echoed_in_order():
    items = [batch_item(Operation.QUERY, batch_id=b"\x01\x02"), batch_item(Operation.QUERY, batch_id=b"zz")]
    r = results(answer(new_engine(), message((1, 4), *items)))
    assert [x.batch_id for x in r] == [b"\x01\x02", b"zz"]  # 1.4 §6.4 / 2.1 §9.21


def test_id_placeholder_links_batch_items_and_dies_with_the_message():
    engine = new_engine()
    r = results(answer(engine, message((1, 4), _create_v14("ph-1"), batch_item(Operation.ACTIVATE),
                                       batch_item(Operation.GET))))
    assert [outcome(x)[0] for x in r] == ["Success"] * 3
    uid = r[0].field(Tag.UNIQUE_IDENTIFIER)
    assert r[1].field(Tag.UNIQUE_IDENTIFIER) == uid == r[2].field(Tag.UNIQUE_IDENTIFIER)
    # "Once the batch of operations has been completed, the ID Placeholder value SHALL be
    # discarded" (1.4 §4): a later message without identifier finds nothing.
    [later] = results(answer(engine, message((1, 4), batch_item(Operation.GET))))
    assert outcome(later) == ("Operation Failed", "Item Not Found")


def _failing_batch(option: int | None) -> tuple:
    engine = new_engine()
    extra = (Item.enumeration(Tag.BATCH_ERROR_CONTINUATION_OPTION, option),) if option is not None else ()
    items = [_create_v14("batch-a"), batch_item(Operation.DESTROY, Item.text_string(Tag.UNIQUE_IDENTIFIER, "no-such-object")),
             batch_item(Operation.QUERY)]
    return engine, results(answer(engine, message((1, 4), *items, extra=extra)))


def test_stop_is_the_default_and_drops_the_rest():
    # 1.4 §11.43 Stop: "Responses to batch items that have not been processed are not returned."
    engine, r = _failing_batch(None)
    assert [outcome(x) for x in r] == [("Success", None), ("Operation Failed", "Item Not Found")]
    assert len(engine.store.all()) == 1  # the Create stays done


def test_continue_processes_every_item():
    engine, r = _failing_batch(BatchErrorContinuation.CONTINUE)
    assert [outcome(x) for x in r] == [("Success", None), ("Operation Failed", "Item Not Found"), ("Success", None)]


def test_undo_rolls_back_and_marks_processed_items_undone():
    # 1.4 §11.43 Undo: "Batch items that had been processed have been undone and their
    # responses are returned with Undone result status."
    engine, r = _failing_batch(BatchErrorContinuation.UNDO)
    assert [outcome(x) for x in r] == [("Operation Undone", None), ("Operation Failed", "Item Not Found")]
    assert engine.store.all() == []


def test_maximum_response_size():
    # OASIS MSGENC-*-M-1-14: Query with Maximum Response Size 256 -> Response Too Large.
    query = batch_item(Operation.QUERY, Item.enumeration(Tag.QUERY_FUNCTION, QueryFunction.OPERATIONS))
    small = results(answer(new_engine(), message((1, 4), query, extra=(Item.integer(Tag.MAXIMUM_RESPONSE_SIZE, 256),))))
    assert outcome(small[0]) == ("Operation Failed", "Response Too Large")
    big = results(answer(new_engine(), message((1, 4), query, extra=(Item.integer(Tag.MAXIMUM_RESPONSE_SIZE, 4096),))))
    assert outcome(big[0]) == ("Success", None)


def test_every_failure_has_status_reason_and_message():
    engine, r = _failing_batch(BatchErrorContinuation.CONTINUE)
    failed = [x for x in r if not x.ok]
    assert failed and all(x.reason is not None and x.message for x in failed)


def test_result_messages_are_ascii():
    # PyKMIP 0.11's client cannot decode non-ASCII text; our messages cite "s." instead of "§".
    engine = new_engine()
    c = client(engine)
    uid = c.create("AES", 128, usage_mask=12)
    c.activate(uid)
    [r] = results(answer(engine, message((1, 4), batch_item(Operation.DESTROY, Item.text_string(Tag.UNIQUE_IDENTIFIER, uid)))))
    assert r.message.isascii() and "1.4 s.3.22" in r.message


# ----------------------------------------------------------------------------- robustness
@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_never_raises_on_random_bytes(data):
    response = decode(new_engine().handle(data))
    assert response.tag == Tag.RESPONSE_MESSAGE


_VALID = message((1, 4), _create_v14("fuzz"), batch_item(Operation.GET_ATTRIBUTES), batch_item(Operation.QUERY))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_VALID) - 1), st.integers(0, 255)), min_size=1, max_size=6))
def test_never_raises_on_mutated_messages(flips):
    data = bytearray(_VALID)
    for pos, value in flips:
        data[pos] = value
    response = decode(new_engine().handle(bytes(data)))
    assert response.tag == Tag.RESPONSE_MESSAGE
    assert response.find(Tag.RESPONSE_HEADER) is not None


def test_object_type_unsupported_by_create():
    payload = [Item.enumeration(Tag.OBJECT_TYPE, ObjectType.SECRET_DATA), Item.structure(Tag.TEMPLATE_ATTRIBUTE, [])]
    [r] = results(answer(new_engine(), message((1, 4), batch_item(Operation.CREATE, *payload))))
    assert outcome(r) == ("Operation Failed", "Invalid Field")  # 1.4 §11.2 "Object Type is not recognized"


def test_unknown_tag_in_the_request_version_is_invalid_field():
    # 1.4 §11.1: "Same major & minor version, unknown field | ... | Invalid Field";
    # "Same major version, different minor versions; unknown fields ... Ignore".
    unknown = Item.text_string(0x42FFF0, "what is this")
    [r] = results(answer(new_engine(), message((1, 4), batch_item(Operation.DISCOVER_VERSIONS, unknown))))
    assert outcome(r) == ("Operation Failed", "Invalid Field")
    # Short Unique Identifier is a 2.x tag: unknown to a 1.4 message, known to a 2.1 one.
    two_x = Item.byte_string(0x420136, bytes(32))
    [r] = results(answer(new_engine(), message((1, 4), batch_item(Operation.QUERY, two_x))))
    assert outcome(r) == ("Operation Failed", "Invalid Field")
    [r] = results(answer(new_engine(), message((2, 1), batch_item(Operation.QUERY, two_x))))
    assert outcome(r) == ("Success", None)
    [r] = results(answer(new_engine(), message((1, 7), batch_item(Operation.DISCOVER_VERSIONS, unknown))))
    assert outcome(r) == ("Success", None)  # a newer minor: unknown fields ignored
