"""The reference KMIP server engine, sans-IO: request bytes in, response bytes out.

``KmipServerEngine(store, clock=..., random=...).handle(request) -> response`` never
raises.  Message handling (KMIP 1.4 §6-7, 2.1 §8-9):

* versions 1.0-1.4 and 2.0-2.1; the response carries the request's version.  A newer
  minor of a major we speak (1.5, 2.2) is answered as our highest minor of that major
  ("Servers ... SHALL support backward compatibility with versions of the protocol with
  the same major version", 1.4 §6.1; unknown fields of a different minor are ignored,
  1.4 §11.1).  Another major (0.x, 3.x) gets the 1.4 §11.1 "Protocol major version
  mismatch" answer: a header and one Batch Item without Operation, Operation Failed /
  Invalid Message, in the nearest version we speak (1.0 below, 2.1 above);
* bytes that are not a TTLV Request Message get the "Message cannot be parsed" answer of
  the same table (header + Batch Item without Operation, Invalid Message).  Its version is
  the request's when the bytes still show one at the standard place (offsets 24-55:
  Protocol Version Major / Minor), else 1.0, the version every KMIP client reads;
* batches: Batch Count must equal the number of Batch Items (else Invalid Message); each
  Unique Batch Item ID is echoed; Batch Error Continuation Option Stop (default) /
  Continue / Undo as 1.4 §11.43 says (Undo rolls the store back and marks the items done
  so far "Operation Undone"); the ID Placeholder lives for one message (1.4 §4);
* Maximum Response Size: when the response would be larger, every item that carries a
  payload fails with Response Too Large instead (1.4 §6.3, §11.1);
* a tag the request's version does not define (not in its tag table; 0x54xxxx extension
  tags excepted) fails its item with Invalid Field - 1.4 §11.1 "Same major & minor
  version, unknown field" - unless the request came in a newer minor we answer as an
  older one ("Ignore unknown fields");
* a Message Extension with Criticality Indicator True fails its item with Feature Not
  Supported (1.4 §11.1); Authentication is ignored (clients authenticate by their TLS
  certificate); asynchronous requests are answered synchronously (1.4 §6.7 "MAY").

Every failure carries Result Status Operation Failed, a Result Reason (per major
version, see :mod:`.failures`) and a Result Message.  Result Messages are kept ASCII
("§" is written "s."): a Text String is UTF-8 (1.4 §9.1.1.4), but PyKMIP 0.11's client
cannot decode non-ASCII text and would hide the refusal behind its own crash.  A whole
message is one store transaction.
"""

from __future__ import annotations

import os
import struct
import time
from dataclasses import dataclass

from harness.errors import ProtocolError

# Importing the operation modules registers their handlers.
from reference.kmip import operations_attributes, operations_objects, operations_server  # noqa: F401
from reference.kmip.context import HANDLERS, Clock, Context, Random
from reference.kmip.failures import Failure, KmipFailure
from reference.kmip.operations_server import version_item
from reference.kmip.store import ObjectStore
from reference.kmip.tags import tables_for
from reference.kmip.ttlv import Item, ItemType, decode, encode
from reference.kmip.vocab import BatchErrorContinuation, ResultStatus, Tag, enum_name, tag_name

T = ItemType
SUPPORTED_VERSIONS: tuple[tuple[int, int], ...] = ((2, 1), (2, 0), (1, 4), (1, 3), (1, 2), (1, 1), (1, 0))
FALLBACK_VERSION = (1, 0)
_PV_PROBE = struct.Struct(">IIiIIIiI")  # Major (tag|type, length, value, pad), then Minor alike


def _system_random(n: int) -> bytes:
    return os.urandom(n)


@dataclass
class _Request:
    version: tuple[int, int]
    items: tuple[Item, ...]
    continuation: int
    max_size: int | None
    exact_version: bool = True  # False: a newer minor served as ours (unknown fields ignored)


def _unknown_tag(item: Item, tables) -> int | None:
    """The first tag inside ``item`` that the version's tag table does not define."""
    if item.tag >> 16 == 0x42 and tables.tag(item.tag) is None:
        return item.tag
    if item.type is T.STRUCTURE:
        for child in item.items:
            found = _unknown_tag(child, tables)
            if found is not None:
                return found
    return None


class _MessageError(Exception):
    """The message as a whole is refused: answer with one Batch Item without Operation."""

    def __init__(self, failure: Failure, message: str, version: tuple[int, int]) -> None:
        super().__init__(message)
        self.failure, self.message, self.version = failure, message, version


class KmipServerEngine:
    def __init__(self, store: ObjectStore | None = None, *, clock: Clock = time.time, random: Random = _system_random,
                 vendor: str = "keyprov-lab reference KMIP server",
                 versions: tuple[tuple[int, int], ...] = SUPPORTED_VERSIONS) -> None:
        self.store = store if store is not None else ObjectStore()
        self.clock = clock
        self.random = random
        self.vendor = vendor
        self.versions = versions

    # ------------------------------------------------------------------ entry point
    def handle(self, request: bytes) -> bytes:
        """One response message for one request message; never raises."""
        now = int(self.clock())
        try:
            return self._handle(bytes(request), now)
        except Exception as exc:  # noqa: BLE001 - a reference server answers, whatever happens
            try:
                version = self._probe_version(bytes(request)) or FALLBACK_VERSION
            except Exception:  # noqa: BLE001 - not even bytes
                version = FALLBACK_VERSION
            return self._message_failure(version, now, Failure.GENERAL_FAILURE,
                                         f"internal server error ({type(exc).__name__})")

    def _handle(self, request: bytes, now: int) -> bytes:
        try:
            parsed = self._parse(request)
        except _MessageError as exc:
            return self._message_failure(exc.version, now, exc.failure, exc.message)
        with self.store.transaction():
            items = self._run_batch(parsed, now)
        response = self._response(parsed.version, now, items)
        if parsed.max_size is not None and len(response) > parsed.max_size:
            items = [self._too_large(i, parsed.max_size) for i in items]
            response = self._response(parsed.version, now, items)
        return response

    # ------------------------------------------------------------------ parsing
    def _probe_version(self, data: bytes) -> tuple[int, int] | None:
        """The Protocol Version at its standard offsets, if the bytes show one we speak."""
        if len(data) < 56:
            return None
        h1, _len1, major, _pad1, h3, _len3, minor, _pad3 = _PV_PROBE.unpack_from(data, 24)
        if h1 >> 8 == Tag.PROTOCOL_VERSION_MAJOR and h3 >> 8 == Tag.PROTOCOL_VERSION_MINOR:
            return self._negotiate((major, minor))
        return None

    def _negotiate(self, version: tuple[int, int]) -> tuple[int, int] | None:
        if version in self.versions:
            return version
        same_major = [v for v in self.versions if v[0] == version[0]]
        if same_major and version > max(same_major):
            return max(same_major)
        return None

    def _parse(self, data: bytes) -> _Request:
        guess = self._probe_version(data) or FALLBACK_VERSION
        try:
            message = decode(data)
        except ProtocolError as exc:
            raise _MessageError(Failure.INVALID_MESSAGE, f"message cannot be parsed: {exc}", guess) from None
        if message.tag != Tag.REQUEST_MESSAGE or message.type is not T.STRUCTURE:
            raise _MessageError(Failure.INVALID_MESSAGE, f"expected a Request Message, got {tag_name(message.tag)}", guess)
        headers = message.find_all(Tag.REQUEST_HEADER)
        if len(headers) != 1 or headers[0].type is not T.STRUCTURE or message.items[0] is not headers[0]:
            raise _MessageError(Failure.INVALID_MESSAGE, "a Request Message starts with exactly one Request Header", guess)
        header = headers[0]
        version = self._header_version(header, guess)
        ctx = Context(version, 0, self.store, self.random, self.versions)
        try:
            count = ctx.value(header, Tag.BATCH_COUNT, T.INTEGER, required=True)
            max_size = ctx.value(header, Tag.MAXIMUM_RESPONSE_SIZE, T.INTEGER)
            continuation = ctx.value(header, Tag.BATCH_ERROR_CONTINUATION_OPTION, T.ENUMERATION, BatchErrorContinuation.STOP)
            for tag in (Tag.BATCH_ORDER_OPTION, Tag.ASYNCHRONOUS_INDICATOR):
                ctx.field(header, tag, T.BOOLEAN)
            ctx.field(header, Tag.TIME_STAMP, T.DATE_TIME)
        except KmipFailure as exc:
            raise _MessageError(exc.failure, exc.message, version) from None
        items = message.items[1:]
        if any(i.tag != Tag.BATCH_ITEM for i in items):
            raise _MessageError(Failure.INVALID_MESSAGE, "a Request Message holds only the header and Batch Items", version)
        if count != len(items) or count < 1:
            raise _MessageError(Failure.INVALID_MESSAGE, f"Batch Count is {count} but the message holds {len(items)} Batch Items", version)
        if continuation not in (BatchErrorContinuation.STOP, BatchErrorContinuation.CONTINUE, BatchErrorContinuation.UNDO):
            raise _MessageError(Failure.INVALID_FIELD, f"unknown Batch Error Continuation Option {continuation}", version)
        exact = self._probe_exact(header)
        return _Request(version, items, int(continuation), max_size, exact)  # type: ignore[arg-type]

    def _probe_exact(self, header: Item) -> bool:
        pv = header.find(Tag.PROTOCOL_VERSION)
        asked = (int(pv.find(Tag.PROTOCOL_VERSION_MAJOR).value), int(pv.find(Tag.PROTOCOL_VERSION_MINOR).value))  # type: ignore[union-attr, arg-type]
        return asked in self.versions

    def _header_version(self, header: Item, guess: tuple[int, int]) -> tuple[int, int]:
        pvs = header.find_all(Tag.PROTOCOL_VERSION)
        if len(pvs) != 1 or pvs[0].type is not T.STRUCTURE:
            raise _MessageError(Failure.INVALID_MESSAGE, "the Request Header needs one Protocol Version", guess)
        major, minor = pvs[0].find(Tag.PROTOCOL_VERSION_MAJOR), pvs[0].find(Tag.PROTOCOL_VERSION_MINOR)
        if major is None or minor is None or major.type is not T.INTEGER or minor.type is not T.INTEGER:
            raise _MessageError(Failure.INVALID_MESSAGE, "Protocol Version needs Integer Major and Minor", guess)
        asked = (int(major.value), int(minor.value))  # type: ignore[arg-type]
        version = self._negotiate(asked)
        if version is None:
            nearest = min(self.versions) if asked < min(self.versions) else max(self.versions)
            raise _MessageError(Failure.INVALID_MESSAGE,
                                f"protocol version {asked[0]}.{asked[1]} is not supported (major version mismatch; "
                                f"supported: {', '.join(f'{a}.{b}' for a, b in self.versions)})", nearest)
        return version

    # ------------------------------------------------------------------ batches
    def _run_batch(self, req: _Request, now: int) -> list[Item]:
        ctx = Context(req.version, now, self.store, self.random, self.versions, vendor=self.vendor)
        done: list[tuple[Item, Item]] = []  # (request batch item, response batch item)
        undo = req.continuation == BatchErrorContinuation.UNDO
        try:
            with self.store.savepoint("batch"):
                for item in req.items:
                    response, failed = self._run_item(ctx, item, req.exact_version)
                    done.append((item, response))
                    if failed and req.continuation != BatchErrorContinuation.CONTINUE:
                        if undo:
                            raise _Undo()
                        break
        except _Undo:
            # 1.4 §11.43: "Batch items that had been processed have been undone and their
            # responses are returned with Undone result status."
            undone = [self._undone(r) for _, r in done[:-1]]
            return undone + [done[-1][1]]
        return [r for _, r in done]

    def _run_item(self, ctx: Context, item: Item, exact_version: bool = True) -> tuple[Item, bool]:
        op_items = item.find_all(Tag.OPERATION)
        ids = item.find_all(Tag.UNIQUE_BATCH_ITEM_ID)
        op = op_items[0] if len(op_items) == 1 and op_items[0].type is T.ENUMERATION else None
        batch_id = ids[0] if len(ids) == 1 and ids[0].type is T.BYTE_STRING else None
        try:
            if item.type is not T.STRUCTURE or op is None:
                raise KmipFailure(Failure.INVALID_MESSAGE, "a Batch Item needs one Operation (Enumeration)")
            if len(ids) > 1 or (ids and batch_id is None):
                raise KmipFailure(Failure.INVALID_MESSAGE, "Unique Batch Item ID must be one Byte String")
            for ext in item.find_all(Tag.MESSAGE_EXTENSION):
                critical = ext.find(Tag.CRITICALITY_INDICATOR)
                if critical is not None and critical.value is True:
                    raise KmipFailure(Failure.FEATURE_NOT_SUPPORTED, "critical Message Extension not understood (1.4 §11.1)")
            payloads = item.find_all(Tag.REQUEST_PAYLOAD)
            handler = HANDLERS.get(int(op.value))  # type: ignore[arg-type]
            if handler is None or ctx.version < handler[1]:
                raise KmipFailure(Failure.OPERATION_NOT_SUPPORTED,
                                  f"operation {enum_name('Operation', int(op.value))} is not supported in KMIP "  # type: ignore[arg-type]
                                  f"{ctx.version[0]}.{ctx.version[1]} by this server")
            if exact_version:
                unknown = _unknown_tag(item, tables_for(ctx.version))
                if unknown is not None:
                    raise KmipFailure(Failure.INVALID_FIELD, f"tag 0x{unknown:06X} is not defined in KMIP "
                                      f"{ctx.version[0]}.{ctx.version[1]} (1.4 s.11.1 unknown field)")
            if len(payloads) != 1 or payloads[0].type is not T.STRUCTURE:
                raise KmipFailure(Failure.INVALID_MESSAGE, "a Batch Item needs one Request Payload structure")
            result = handler[0](ctx, payloads[0])
        except KmipFailure as exc:
            return self._batch_item(op, batch_id, ResultStatus.OPERATION_FAILED, exc.failure.reason(ctx.version[0]),
                                    exc.message, None), True
        return self._batch_item(op, batch_id, ResultStatus.SUCCESS, None, None,
                                Item.structure(Tag.RESPONSE_PAYLOAD, result)), False

    # ------------------------------------------------------------------ responses
    @staticmethod
    def _batch_item(op: Item | None, batch_id: Item | None, status: int, reason: int | None,
                    message: str | None, payload: Item | None) -> Item:
        items = []
        if op is not None:
            items.append(Item.enumeration(Tag.OPERATION, int(op.value)))  # type: ignore[arg-type]
        if batch_id is not None:
            items.append(batch_id)
        items.append(Item.enumeration(Tag.RESULT_STATUS, status))
        if reason is not None:
            items.append(Item.enumeration(Tag.RESULT_REASON, reason))
        if message is not None:
            items.append(Item.text_string(Tag.RESULT_MESSAGE, _ascii(message)))
        if payload is not None:
            items.append(payload)
        return Item.structure(Tag.BATCH_ITEM, items)

    def _undone(self, response: Item) -> Item:
        kept = [c for c in response.items if c.tag in (Tag.OPERATION, Tag.UNIQUE_BATCH_ITEM_ID)]
        return Item.structure(Tag.BATCH_ITEM, kept + [Item.enumeration(Tag.RESULT_STATUS, ResultStatus.OPERATION_UNDONE)])

    def _too_large(self, response: Item, limit: int) -> Item:
        if response.find(Tag.RESPONSE_PAYLOAD) is None:
            return response
        kept = [c for c in response.items if c.tag in (Tag.OPERATION, Tag.UNIQUE_BATCH_ITEM_ID)]
        return Item.structure(Tag.BATCH_ITEM, kept + [
            Item.enumeration(Tag.RESULT_STATUS, ResultStatus.OPERATION_FAILED),
            Item.enumeration(Tag.RESULT_REASON, Failure.RESPONSE_TOO_LARGE.reason(1)),  # same value in 1.x and 2.x
            Item.text_string(Tag.RESULT_MESSAGE, f"response exceeds the Maximum Response Size of {limit} bytes"),
        ])

    def _response(self, version: tuple[int, int], now: int, items: list[Item]) -> bytes:
        header = Item.structure(Tag.RESPONSE_HEADER, [
            version_item(version),
            Item.date_time(Tag.TIME_STAMP, now),
            Item.integer(Tag.BATCH_COUNT, len(items)),
        ])
        return encode(Item.structure(Tag.RESPONSE_MESSAGE, [header, *items]))

    def _message_failure(self, version: tuple[int, int], now: int, failure: Failure, message: str) -> bytes:
        item = self._batch_item(None, None, ResultStatus.OPERATION_FAILED, failure.reason(version[0]), message[:1000], None)
        return self._response(version, now, [item])


def _ascii(text: str) -> str:
    return text.replace("\u00a7", "s.").encode("ascii", "replace").decode("ascii")


class _Undo(Exception):
    """Unwinds the batch savepoint (Batch Error Continuation Option Undo)."""


__all__ = ["KmipServerEngine", "SUPPORTED_VERSIONS", "FALLBACK_VERSION"]
