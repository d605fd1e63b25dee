"""Helpers for the reference KMIP server tests: a replayable engine and message builders.

Expectations in the tests come from the spec (states, Result Reason names quoted from the
error tables), from PyKMIP's own message classes, from hashlib / pyca/cryptography, and
from the OASIS test cases - never from the engine's own output.
"""

from __future__ import annotations

import itertools
from typing import Any

from reference.kmip.client import BatchResult, KmipClient
from reference.kmip.server import KmipServerEngine
from reference.kmip.store import ObjectStore
from reference.kmip.ttlv import Item, decode, encode
from reference.kmip.vocab import Tag, enum_name

NOW = 1_700_000_000  # 2023-11-14T22:13:20Z


class Clock:
    def __init__(self, now: int = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return float(self.now)


def counter_random():
    """Deterministic 'randomness': the same engine run gives the same bytes."""
    counter = itertools.count(1)

    def random(n: int) -> bytes:
        seed = next(counter)
        return bytes((seed * 31 + i * 7) % 256 for i in range(n))

    return random


def new_engine(clock: Clock | None = None) -> KmipServerEngine:
    return KmipServerEngine(ObjectStore(), clock=clock or Clock(), random=counter_random())


def client(engine: KmipServerEngine, version: tuple[int, int] = (1, 4)) -> KmipClient:
    return KmipClient(engine.handle, version=version)


def header(version: tuple[int, int], count: int, *extra: Item) -> Item:
    return Item.structure(Tag.REQUEST_HEADER, [
        Item.structure(Tag.PROTOCOL_VERSION, [Item.integer(Tag.PROTOCOL_VERSION_MAJOR, version[0]),
                                              Item.integer(Tag.PROTOCOL_VERSION_MINOR, version[1])]),
        *extra,
        Item.integer(Tag.BATCH_COUNT, count),
    ])


def batch_item(op: int, *payload: Item, batch_id: bytes | None = None) -> Item:
    fields = [Item.enumeration(Tag.OPERATION, op)]
    if batch_id is not None:
        fields.append(Item.byte_string(Tag.UNIQUE_BATCH_ITEM_ID, batch_id))
    fields.append(Item.structure(Tag.REQUEST_PAYLOAD, list(payload)))
    return Item.structure(Tag.BATCH_ITEM, fields)


def message(version: tuple[int, int], *items: Item, extra: tuple[Item, ...] = (), count: int | None = None) -> bytes:
    return encode(Item.structure(Tag.REQUEST_MESSAGE, [header(version, len(items) if count is None else count, *extra), *items]))


def answer(engine: KmipServerEngine, data: bytes) -> Item:
    response = decode(engine.handle(data))
    assert response.tag == Tag.RESPONSE_MESSAGE
    return response


def results(response: Item) -> list[BatchResult]:
    return KmipClient.parse_response(encode(response))


def outcome(result: BatchResult) -> tuple[str, str | None]:
    """(Result Status name, Result Reason name) as the spec spells them."""
    return enum_name("Result Status", result.status), result.reason_name


def version_of(response: Item) -> tuple[int, int]:
    pv = response.find(Tag.RESPONSE_HEADER).find(Tag.PROTOCOL_VERSION)  # type: ignore[union-attr]
    return int(pv.find(Tag.PROTOCOL_VERSION_MAJOR).value), int(pv.find(Tag.PROTOCOL_VERSION_MINOR).value)  # type: ignore[union-attr, arg-type]


def attribute_map(pairs: list[tuple[str, int, Item]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, _index, item in pairs:
        out.setdefault(name, []).append(item.value if item.type.name != "STRUCTURE" else item)
    return out
