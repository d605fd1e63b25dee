"""KMIP message handling: malformed TTLV, versions, unknown fields and operations, missing
and repeated fields, batches, and the object states (KMIP 1.4, the version both the
reference server and PyKMIP speak; a server without 1.4 is UNSUPPORTED).

Every case sends one message and requires (a) a KMIP Response Message, (b) the Result
Status / Result Reason the cited section names, and (c) that the server still answers a
fresh connection afterwards.  A server that closes the connection or stays silent where the
spec asks for a response fails the case.

Readings (KMIP 1.4):
* §11.1 "Message cannot be parsed" and "Protocol major version mismatch": a Response with
  a header and a Batch Item *without Operation*, Operation Failed / Invalid Message - the
  Operation's absence is checked too.
* §11.1 "Same major version, different minor versions ... process rest normally": a request
  of version 1.99 is answered normally (SHOULD: the row speaks of fields; §6.1 asks for
  backward compatibility within a major version).
* The value of padding bytes is not stated (§9.1.1.3 says only how many): non-zero padding
  may be refused (Invalid Message) or read; either way there must be a response.  Missing
  padding is a malformed message.
* An Operation value the spec does not define: §11.1 "Server does not support operation"
  -> Operation Not Supported.  An unknown tag of the same version: §11.1 -> Invalid Field.
* Get of a destroyed object: §11.12 "Object exists and is not a Template, but the server
  only has attributes for this object" -> Illegal Operation.  Destroy / Activate of a
  destroyed object: §11.22 "already destroyed" / §11.20 "not in Pre-Active state" ->
  Permission Denied.  Item Not Found is accepted in all three for a server that keeps no
  metadata of destroyed objects (§4.21: it "MAY be retained").
* Batch Error Continuation Option Continue: support is OPTIONAL (§6.13); a server that
  rejects the whole request makes the case UNSUPPORTED.
"""

from __future__ import annotations

import time
import uuid

import pytest

from harness import evidence
from harness.cases import case, nonconformance
from harness.errors import Unsupported
from reference.kmip.replay import cleanup_requests, redacted_xml
from suites.kmip import messages as m
from suites.kmip.messages import Answer, NotAResponse, read_answer

ANSWER_TIMEOUT_S = 5.0
V14 = "KMIP 1.4"


# --------------------------------------------------------------------------- helpers
def _server(kmip):  # type: ignore[no-untyped-def]
    if m.VERSION not in kmip.versions():
        raise Unsupported(f"{kmip.name} does not declare KMIP 1.4", adapter=kmip.name, operation="capability kmip.version.1.4")
    return kmip


def _send(conn, kmip, data: bytes, what: str) -> Answer:  # type: ignore[no-untyped-def]
    evidence.attach("text", f"{what}: request (hex)", data.hex())
    started = time.monotonic()
    raw = conn.send_raw(data, timeout_s=ANSWER_TIMEOUT_S)
    if raw is None:
        silent = time.monotonic() - started >= ANSWER_TIMEOUT_S - 0.1
        how = f"sent nothing within {ANSWER_TIMEOUT_S:g} s" if silent else "closed the connection"
        state = "still serves new connections" if kmip.alive() else "no longer answers"
        evidence.attach("text", "server log (tail)", kmip.log_tail())
        raise nonconformance(f"{what}: no response - the server {how} ({state}); KMIP 1.4 §11 asks for a response "
                             f"with a Result Status")
    try:
        answer = read_answer(raw)
    except NotAResponse as exc:
        raise nonconformance(f"{what}: the answer is {exc}") from None
    evidence.attach("file", f"{what}: response", redacted_xml(answer.item, m.VERSION), "application/xml")
    return answer


def _ask(kmip, data: bytes, what: str) -> Answer:  # type: ignore[no-untyped-def]
    conn = kmip.connect()
    try:
        return _send(conn, kmip, data, what)
    finally:
        conn.close()


def _still_serving(kmip) -> None:  # type: ignore[no-untyped-def]
    if not kmip.alive():
        evidence.attach("text", "server log (tail)", kmip.log_tail())
        raise nonconformance("the server no longer answers a Discover Versions on a new connection")


def _expect_failure(answer: Answer, reasons: tuple[str, ...], spec: str, *, item: int = 0,
                    without_operation: bool = False) -> None:
    if len(answer.batch) <= item:
        raise nonconformance(f"expected Operation Failed / {' or '.join(reasons)} ({spec}); the response has "
                             f"{len(answer.batch)} batch item(s): {answer}")
    got = answer.batch[item]
    if got.status != "OperationFailed" or got.reason not in reasons:
        raise nonconformance(f"expected Operation Failed / {' or '.join(reasons)} ({spec}), got {got}")
    if without_operation and got.operation is not None:
        raise nonconformance(f"{spec}: the failed Batch Item must come without Operation, got Operation {got.operation}")


def _replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    if data.count(old) != 1:
        raise RuntimeError("the suite's test message no longer has the expected layout")  # a suite bug: ERROR
    return data.replace(old, new)


def _relength(data: bytes) -> bytes:
    """Set the outer Request Message length to the bytes that follow its header."""
    return data[:4] + (len(data) - 8).to_bytes(4, "big") + data[8:]


def _discover() -> bytes:
    return m.encode(m.single("DiscoverVersions"))


def _head(tag_name: str, type_code: int, length: int) -> bytes:
    return m.tag(tag_name).to_bytes(3, "big") + bytes([type_code]) + length.to_bytes(4, "big")


class Objects:
    """Keys a case creates on the server, revoked and destroyed at the end."""

    def __init__(self, kmip) -> None:  # type: ignore[no-untyped-def]
        self.kmip, self.conn, self.ids = kmip, kmip.connect(), []

    def send(self, item, what: str) -> Answer:  # type: ignore[no-untyped-def]
        return _send(self.conn, self.kmip, m.encode(item), what)

    def create(self, label: str) -> str:
        name = f"kplab-protocol-{label}-{uuid.uuid4().hex[:8]}"
        answer = self.send(m.create_aes(name), "Create AES-128")
        first = answer.batch[0] if answer.batch else None
        ident = first.payload.find(m.tag("UniqueIdentifier")) if first and first.payload is not None else None
        if first is None or first.status != "Success" or ident is None:
            raise Unsupported(f"{self.kmip.name} does not create an AES-128 key: {answer}", adapter=self.kmip.name,
                              operation="Create")
        self.ids.append(str(ident.value))
        return str(ident.value)

    def step(self, operation: str, identifier: str, *payload) -> Answer:  # type: ignore[no-untyped-def]
        return self.send(m.single(operation, m.uid(identifier), *payload), operation)

    def must_succeed(self, answer: Answer, what: str) -> None:
        if not answer.batch or answer.batch[0].status != "Success":
            raise nonconformance(f"{what} of a fresh key failed: {answer}")

    def close(self) -> None:
        for message in cleanup_requests(tuple(self.ids), m.VERSION):
            try:
                self.conn.send_raw(message, timeout_s=ANSWER_TIMEOUT_S)
            except Exception:  # noqa: BLE001 - clean-up is best effort
                break
        self.conn.close()


@pytest.fixture
def objects(kmip):  # type: ignore[no-untyped-def]
    made = Objects(_server(kmip))
    yield made
    made.close()


# --------------------------------------------------------------------------- malformed TTLV
@case("malformed-ttlv", spec=f"{V14} §11.1 (Message cannot be parsed), §9.1.1", level="MUST", subject="kmip_server")
def test_malformed_ttlv(kmip):  # type: ignore[no-untyped-def]
    _server(kmip)
    data = _head("RequestMessage", 0x01, 16) + b"\xff" * 16
    _expect_failure(_ask(kmip, data, "garbage inside a Request Message"), ("InvalidMessage",),
                    f"{V14} §11.1 Message cannot be parsed", without_operation=True)
    _still_serving(kmip)


@case("wrong-length", spec=f"{V14} §9.1.1.3 Table 287, §11.1", level="MUST", subject="kmip_server")
def test_wrong_item_length(kmip):  # type: ignore[no-untyped-def]
    _server(kmip)
    data = _replace_once(_discover(), _head("BatchCount", 0x02, 4), _head("BatchCount", 0x02, 8))
    _expect_failure(_ask(kmip, data, "Integer Batch Count of length 8"), ("InvalidMessage",),
                    f"{V14} §9.1.1.3 (an Integer is 4 bytes) / §11.1")
    _still_serving(kmip)


@case("length-overrun", spec=f"{V14} §9.1.1.3, §11.1", level="MUST", subject="kmip_server")
def test_inner_length_overrun(kmip):  # type: ignore[no-untyped-def]
    _server(kmip)
    data = _discover()
    header_at = data.index(m.tag("RequestHeader").to_bytes(3, "big") + b"\x01")
    length = int.from_bytes(data[header_at + 4:header_at + 8], "big")
    data = data[:header_at + 4] + (length + 16).to_bytes(4, "big") + data[header_at + 8:]
    _expect_failure(_ask(kmip, data, "Request Header longer than its message"), ("InvalidMessage",),
                    f"{V14} §9.1.1.3 / §11.1 Message cannot be parsed")
    _still_serving(kmip)


@case("missing-padding", spec=f"{V14} §9.1.1.3 (padding to a multiple of eight bytes), §11.1", level="MUST",
      subject="kmip_server")
def test_missing_padding(kmip):  # type: ignore[no-untyped-def]
    _server(kmip)
    data = m.encode(m.single("GetAttributes", m.uid("abcde"), m.Item.text_string(m.tag("AttributeName"), "State")))
    text = _head("UniqueIdentifier", 0x07, 5) + b"abcde"
    # Cut the three padding bytes, so the Attribute Name that follows starts three bytes
    # early; every structure length stays, the bytes go to the end of the message so that
    # it still frames as a multiple of eight.
    data = _replace_once(data, text + b"\x00\x00\x00", text) + b"\x00\x00\x00"
    _expect_failure(_ask(kmip, data, "Text String without padding"), ("InvalidMessage",),
                    f"{V14} §9.1.1.3 / §11.1 Message cannot be parsed")
    _still_serving(kmip)


@case("nonzero-padding", spec=f"{V14} §9.1.1.3 (the padding bytes' value is not stated)", level="SHOULD",
      subject="kmip_server")
def test_nonzero_padding(kmip):  # type: ignore[no-untyped-def]
    _server(kmip)
    data = m.encode(m.single("Get", m.uid("abcde")))
    text = _head("UniqueIdentifier", 0x07, 5) + b"abcde"
    data = _replace_once(data, text + b"\x00\x00\x00", text + b"\xff\xff\xff")
    answer = _ask(kmip, data, "Text String padded with 0xFF")
    got = answer.batch[0] if answer.batch else None
    if got is None or got.status != "OperationFailed" or got.reason not in ("InvalidMessage", "ItemNotFound"):
        raise nonconformance(f"expected Invalid Message (padding refused) or Item Not Found (padding ignored, no such "
                             f"object), got {answer}")
    _still_serving(kmip)


@case("unknown-item-type", spec=f"{V14} §9.1.1.2 Table 286, §11.1", level="MUST", subject="kmip_server")
def test_unknown_item_type(kmip):  # type: ignore[no-untyped-def]
    _server(kmip)
    odd = _head("ProtocolVersion", 0x0C, 8) + b"\x00" * 8  # 0x0C: no such type (0x0B is KMIP 2.x)
    data = m.encode(m.single("DiscoverVersions"))
    payload = _head("RequestPayload", 0x01, 0)
    data = _relength(_replace_once(data, payload, _head("RequestPayload", 0x01, 16) + odd))
    _expect_failure(_ask(kmip, data, "item of type 0x0C"), ("InvalidMessage",),
                    f"{V14} §9.1.1.2 / §11.1 Message cannot be parsed")
    _still_serving(kmip)


# --------------------------------------------------------------------------- versions, fields, operations
@case("major-version-mismatch", spec=f"{V14} §11.1 (Protocol major version mismatch)", level="MUST", subject="kmip_server")
def test_major_version_mismatch(kmip):  # type: ignore[no-untyped-def]
    _server(kmip)
    data = m.encode(m.single("DiscoverVersions", version=(9, 0)))
    _expect_failure(_ask(kmip, data, "Discover Versions in KMIP 9.0"), ("InvalidMessage",),
                    f"{V14} §11.1 Protocol major version mismatch", without_operation=True)
    _still_serving(kmip)


@case("minor-version-newer", spec=f"{V14} §11.1 (same major, different minor: process normally), §6.1", level="SHOULD",
      subject="kmip_server")
def test_newer_minor_version(kmip):  # type: ignore[no-untyped-def]
    _server(kmip)
    answer = _ask(kmip, m.encode(m.single("DiscoverVersions", version=(1, 99))), "Discover Versions in KMIP 1.99")
    if not answer.batch or answer.batch[0].status != "Success":
        raise nonconformance(f"a KMIP 1.99 Discover Versions should be processed normally ({V14} §11.1), got {answer}")
    _still_serving(kmip)


@case("unknown-tag", spec=f"{V14} §11.1 (same major & minor version, unknown field)", level="MUST", subject="kmip_server")
def test_unknown_tag(kmip):  # type: ignore[no-untyped-def]
    _server(kmip)
    unknown = m.Item.text_string(0x42FFF0, "what is this")
    data = m.encode(m.single("DiscoverVersions", unknown))
    _expect_failure(_ask(kmip, data, "payload with tag 0x42FFF0"), ("InvalidField",),
                    f"{V14} §11.1 Same major & minor version, unknown field")
    _still_serving(kmip)


@case("unknown-operation", spec=f"{V14} §11.1 (Server does not support operation)", level="MUST", subject="kmip_server")
def test_unknown_operation(kmip):  # type: ignore[no-untyped-def]
    _server(kmip)
    data = m.encode(m.message(m.batch_item(0x0000009F)))
    _expect_failure(_ask(kmip, data, "Operation 0x0000009F"), ("OperationNotSupported",),
                    f"{V14} §11.1 Server does not support operation")
    _still_serving(kmip)


@case("missing-required-field", spec=f"{V14} §7.2 Tables 282-283, §11.1", level="MUST", subject="kmip_server")
@pytest.mark.parametrize("missing", ["operation", "batch-count", "object-type"])
def test_missing_required_field(kmip, missing):  # type: ignore[no-untyped-def]
    _server(kmip)
    if missing == "operation":  # Table 283: Operation is REQUIRED
        item = m.batch_item("DiscoverVersions")
        item = m.Item.structure(item.tag, [c for c in item.items if c.tag != m.tag("Operation")])
        data = m.encode(m.message(item))
    elif missing == "batch-count":  # Table 282 / §6.14: Batch Count is REQUIRED
        full = m.message(m.batch_item("DiscoverVersions"))
        header = full.find(m.tag("RequestHeader"))
        header = m.Item.structure(header.tag, [c for c in header.items if c.tag != m.tag("BatchCount")])
        data = m.encode(m.Item.structure(full.tag, [header if c.tag == header.tag else c for c in full.items]))
    else:  # §4.1 Create: Object Type is REQUIRED
        payload = [c for c in m.create_aes_payload(f"kplab-protocol-{uuid.uuid4().hex[:8]}")
                   if c.tag != m.tag("ObjectType")]
        data = m.encode(m.message(m.batch_item("Create", payload)))
    _expect_failure(_ask(kmip, data, f"request without {missing}"), ("InvalidMessage",),
                    f"{V14} §11.1 Error parsing batch item or payload / Message cannot be parsed")
    _still_serving(kmip)


@case("duplicate-field", spec=f"{V14} §11.1 (the same field more than once)", level="MUST", subject="kmip_server")
def test_duplicate_field(kmip):  # type: ignore[no-untyped-def]
    _server(kmip)
    data = m.encode(m.single("Destroy", m.uid("kplab-no-such-object"), m.uid("kplab-no-such-object")))
    _expect_failure(_ask(kmip, data, "Destroy with two Unique Identifiers"), ("InvalidMessage",),
                    f"{V14} §11.1 The same field is contained in a payload more than once")
    _still_serving(kmip)


@case("get-unknown-object", spec=f"{V14} §11.12 (Object does not exist)", level="MUST", subject="kmip_server")
def test_get_unknown_object(kmip):  # type: ignore[no-untyped-def]
    _server(kmip)
    answer = _ask(kmip, m.encode(m.single("Get", m.uid(f"kplab-no-such-object-{uuid.uuid4().hex}"))), "Get")
    _expect_failure(answer, ("ItemNotFound",), f"{V14} §11.12 Object does not exist")
    _still_serving(kmip)


# --------------------------------------------------------------------------- batches
def _failing_then_fine(option: str | None) -> bytes:
    extra = [m.Item.enumeration(m.tag("BatchErrorContinuationOption"), m.enum("Batch Error Continuation Option", option))] \
        if option else []
    return m.encode(m.message(
        m.batch_item("Get", [m.uid(f"kplab-no-such-object-{uuid.uuid4().hex}")], batch_id=b"\x01"),
        m.batch_item("DiscoverVersions", [], batch_id=b"\x02"),
        header_extra=extra))


@case("batch-count-mismatch", spec=f"{V14} §6.14, §11.1", level="MUST", subject="kmip_server")
def test_batch_count_mismatch(kmip):  # type: ignore[no-untyped-def]
    _server(kmip)
    data = m.encode(m.message(m.batch_item("DiscoverVersions"), batch_count=2))
    _expect_failure(_ask(kmip, data, "Batch Count 2 with one Batch Item"), ("InvalidMessage",),
                    f"{V14} §6.14 Batch Count = number of Batch Items / §11.1")
    _still_serving(kmip)


@case("batch-stop", spec=f"{V14} §6.13 (Stop is the default), §11.43", level="MUST", subject="kmip_server")
def test_batch_error_stop(kmip):  # type: ignore[no-untyped-def]
    _server(kmip)
    answer = _ask(kmip, _failing_then_fine(None), "[Get unknown object, Discover Versions], default option Stop")
    _expect_failure(answer, ("ItemNotFound",), f"{V14} §11.12")
    if len(answer.batch) != 1:
        raise nonconformance(f"with Stop, the item after the failed one is not processed and not returned "
                             f"({V14} §11.43); got {len(answer.batch)} batch items: {answer}")
    _still_serving(kmip)


@case("batch-continue", spec=f"{V14} §6.13 (Continue), §11.43", level="SHOULD", subject="kmip_server")
def test_batch_error_continue(kmip):  # type: ignore[no-untyped-def]
    _server(kmip)
    answer = _ask(kmip, _failing_then_fine("Continue"), "[Get unknown object, Discover Versions], option Continue")
    if len(answer.batch) == 1 and answer.batch[0].operation is None and answer.batch[0].status == "OperationFailed":
        raise Unsupported(f"rejects Batch Error Continuation Option Continue ({answer}); support is OPTIONAL "
                          f"({V14} §6.13)", adapter=kmip.name, operation="Batch Error Continuation Option Continue")
    _expect_failure(answer, ("ItemNotFound",), f"{V14} §11.12")
    if len(answer.batch) != 2 or answer.batch[1].status != "Success":
        raise nonconformance(f"with Continue, the item after the failed one is processed and returned normally "
                             f"({V14} §11.43); got {answer}")
    _still_serving(kmip)


# --------------------------------------------------------------------------- object states
@case("activate-twice", spec=f"{V14} §11.20 (Object is not in Pre-Active state)", level="MUST", subject="kmip_server")
def test_activate_twice(kmip, objects):  # type: ignore[no-untyped-def]
    key = objects.create("activate-twice")
    objects.must_succeed(objects.step("Activate", key), "Activate")
    _expect_failure(objects.step("Activate", key), ("PermissionDenied",), f"{V14} §11.20 Object is not in Pre-Active state")
    _still_serving(kmip)


@case("destroy-active", spec=f"{V14} §11.22 (not in Pre-Active, Deactivated or Compromised state)", level="MUST",
      subject="kmip_server")
def test_destroy_active_key(kmip, objects):  # type: ignore[no-untyped-def]
    key = objects.create("destroy-active")
    objects.must_succeed(objects.step("Activate", key), "Activate")
    _expect_failure(objects.step("Destroy", key), ("PermissionDenied",),
                    f"{V14} §11.22 Object is not in Pre-Active, Deactivated or Compromised state")
    got = objects.step("Get", key)
    if not got.batch or got.batch[0].status != "Success":
        raise nonconformance(f"the refused Destroy must leave the active key usable, but Get fails: {got}")
    _still_serving(kmip)


# Item Not Found throughout for a server that keeps nothing of a destroyed object (§4.21:
# the metadata "MAY be retained").
DESTROYED_REASONS = {
    "Get": (("IllegalOperation", "ItemNotFound"), "§11.12 (the server only has attributes for this object)"),
    "Activate": (("PermissionDenied", "ItemNotFound"), "§11.20 (Object is not in Pre-Active state)"),
    "Destroy": (("PermissionDenied", "ItemNotFound"), "§11.22 (Object exists, but has already been destroyed)"),
}


@case("use-destroyed", spec=f"{V14} §4.21 Destroy, §11.12 / §11.20 / §11.22", level="MUST", subject="kmip_server")
@pytest.mark.parametrize("operation", ["Get", "Activate", "Destroy"])
def test_operations_on_destroyed_key(kmip, objects, operation):  # type: ignore[no-untyped-def]
    key = objects.create(f"destroyed-{operation.lower()}")
    objects.must_succeed(objects.step("Destroy", key), "Destroy")
    answer = objects.step(operation, key)
    reasons, spec = DESTROYED_REASONS[operation]
    _expect_failure(answer, reasons, f"{V14} {spec}")
    if operation == "Get" and answer.batch[0].payload is not None \
            and answer.batch[0].payload.find(m.tag("SymmetricKey")) is not None:
        raise nonconformance("Get of a destroyed key returned a Symmetric Key")
    _still_serving(kmip)
