"""TTLV structure-aware mutation of valid KMIP 1.4 requests (suites/kmip/test_fuzz.py).

* ``seed_messages()``: valid requests built from the KMIP 1.4 message tables (Discover
  Versions, Query, Get / Get Attributes of an unknown object, Locate by name, Create of an
  AES key, a two-item batch), smallest first so Hypothesis shrinks towards the simplest.
* A :class:`Plan` is a seed and one to three :class:`Mutation` s drawn as plain integers.
  Item-level mutations work on the item tree (items numbered depth-first, the Request
  Message itself excluded): ``delete``, ``duplicate``, ``swap`` (with the next sibling),
  ``retype`` (same tag, another type and a value of that type: type confusion),
  ``boundary`` (an extreme value of the item's own type: empty, 0, -1, maxima, 64 KiB
  strings) and ``wrap`` (the item inside a Structure of its own tag).  Byte-level ones work
  on the encoding: ``length`` (an item's length field set to 0, n-1, n+1, n+8, 2**31-1 or
  2**32-1), ``type-byte``, ``flip`` (one byte), ``truncate`` (cut the message inside).
  After every mutation the outer Request Message length is set to the bytes that follow
  its header, so the server always holds the whole message and owes an answer.
* :func:`apply_plan` returns the mutant bytes and a recipe a human can follow.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from hypothesis import strategies as st

from reference.kmip import ttlv
from reference.kmip.tags import tables_for
from reference.kmip.ttlv import Item, ItemType
from suites.kmip import messages as m

ITEM_OPS = ("delete", "duplicate", "swap", "retype", "boundary", "wrap")
BYTE_OPS = ("length", "type-byte", "flip", "truncate")
HEADER = 8
BIG_TEXT = "A" * 65536

# Extreme values per item type (KMIP 1.4 §9.1.1.4 value ranges).
BOUNDARY: dict[ItemType, tuple[object, ...]] = {
    ItemType.INTEGER: (0, -1, 2**31 - 1, -(2**31), 1),
    ItemType.LONG_INTEGER: (0, -1, 2**63 - 1, -(2**63)),
    ItemType.BIG_INTEGER: (0, -1, 2**1024, -(2**1024)),
    ItemType.ENUMERATION: (0, 2**32 - 1, 0x80000000, 0x7FFFFFFF),
    ItemType.BOOLEAN: (True, False),
    ItemType.TEXT_STRING: ("", BIG_TEXT, "\u202e\U0001F600", " ", "$NOW", "%s%n"),
    ItemType.BYTE_STRING: (b"", b"\x00" * 65536, b"\xff"),
    ItemType.DATE_TIME: (0, -1, 2**63 - 1, -(2**63)),
    ItemType.INTERVAL: (0, 2**32 - 1),
    ItemType.STRUCTURE: ((),),
}
LENGTHS = ("zero", "minus-one", "plus-one", "plus-eight", "int-max", "uint-max")


@dataclass(frozen=True)
class Mutation:
    op: str
    where: int  # item number or byte position, taken modulo what there is
    arg: int  # choice among the op's values


@dataclass(frozen=True)
class Plan:
    seed: int
    mutations: tuple[Mutation, ...]


@dataclass(frozen=True)
class Seed:
    name: str
    message: bytes


@functools.lru_cache(maxsize=1)
def seed_messages() -> tuple[Seed, ...]:
    uid = m.uid("kplab-fuzz-no-such-object")
    names = [m.Item.text_string(m.tag("AttributeName"), n) for n in ("State", "Cryptographic Length")]
    query = [m.Item.enumeration(m.tag("QueryFunction"), m.enum("Query Function", n)) for n in ("QueryOperations", "QueryObjects")]
    name = m.attribute("Name", m.Item.structure(m.tag("AttributeValue"), [
        m.Item.text_string(m.tag("NameValue"), "kplab-fuzz-locate"),
        m.Item.enumeration(m.tag("NameType"), m.enum("Name Type", "UninterpretedTextString"))]))
    seeds = [
        Seed("discover-versions", m.encode(m.single("DiscoverVersions"))),
        Seed("discover-versions-list", m.encode(m.single("DiscoverVersions", m.protocol_version((1, 4)),
                                                         m.protocol_version((1, 0))))),
        Seed("query", m.encode(m.single("Query", *query))),
        Seed("get", m.encode(m.single("Get", uid))),
        Seed("get-attributes", m.encode(m.single("GetAttributes", uid, *names))),
        Seed("locate", m.encode(m.single("Locate", name))),
        Seed("create", m.encode(m.create_aes("kplab-fuzz-create"))),
        Seed("batch", m.encode(m.message(m.batch_item("Get", [uid], batch_id=b"\x01"),
                                         m.batch_item("DiscoverVersions", [], batch_id=b"\x02")))),
    ]
    return tuple(sorted(seeds, key=lambda s: (len(s.message), s.name)))


# ----------------------------------------------------------------------------- item level
def _paths(item: Item, prefix: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
    """Depth-first paths (child indexes) of every item under ``item``."""
    out = []
    for i, child in enumerate(item.items):
        out.append(prefix + (i,))
        out.extend(_paths(child, prefix + (i,)))
    return out


def _at(item: Item, path: tuple[int, ...]) -> Item:
    for i in path:
        item = item.items[i]
    return item


def _edit(item: Item, path: tuple[int, ...], change) -> Item:  # type: ignore[no-untyped-def]
    """``item`` with the children list of the parent of ``path`` replaced by change(children, index)."""
    if len(path) == 1:
        return Item(item.tag, item.type, tuple(change(list(item.items), path[0])))
    children = list(item.items)
    children[path[0]] = _edit(children[path[0]], path[1:], change)
    return Item(item.tag, item.type, tuple(children))


def _name(tag: int) -> str:
    info = tables_for(m.VERSION).tag(tag)
    return info.xml_name if info is not None else f"0x{tag:06X}"


def _describe(value: object) -> str:
    text = repr(value)
    if len(text) <= 40:
        return text
    size = f"{len(value)} long" if isinstance(value, (str, bytes, tuple)) else f"{len(text)} digits"
    return f"{text[:30]}... ({size})"


def _retyped(item: Item, arg: int) -> tuple[Item, str]:
    kinds = [t for t in ItemType if t not in (item.type, ItemType.DATE_TIME_EXTENDED)]
    kind = kinds[arg % len(kinds)]
    values = BOUNDARY[kind]
    value = values[(arg // len(kinds)) % len(values)]
    return Item(item.tag, kind, value), f"{kind.xml_name} {_describe(value)}"


def apply_item_mutation(message: Item, mutation: Mutation) -> tuple[Item, str]:
    paths = _paths(message)
    if not paths:
        return message, f"{mutation.op}: nothing to mutate"
    path = paths[mutation.where % len(paths)]
    target = _at(message, path)
    where = "/".join(_name(_at(message, path[:k + 1]).tag) for k in range(len(path)))
    op = mutation.op
    if op == "delete":
        return _edit(message, path, lambda c, i: c[:i] + c[i + 1:]), f"delete {where}"
    if op == "duplicate":
        return _edit(message, path, lambda c, i: c[:i + 1] + [c[i]] + c[i + 1:]), f"duplicate {where}"
    if op == "swap":
        parent = _at(message, path[:-1])
        if path[-1] + 1 >= len(parent.items):
            return message, f"swap: {where} has no next sibling, skipped"
        return _edit(message, path, lambda c, i: c[:i] + [c[i + 1], c[i]] + c[i + 2:]), f"swap {where} with its next sibling"
    if op == "wrap":
        wrapped = Item.structure(target.tag, [target])
        return _edit(message, path, lambda c, i: c[:i] + [wrapped] + c[i + 1:]), f"wrap {where} in a Structure"
    if op == "retype":
        new, shown = _retyped(target, mutation.arg)
        return _edit(message, path, lambda c, i: c[:i] + [new] + c[i + 1:]), f"retype {where} as {shown}"
    values = BOUNDARY[target.type]
    value = values[mutation.arg % len(values)]
    new = Item(target.tag, target.type, value)
    return _edit(message, path, lambda c, i: c[:i] + [new] + c[i + 1:]), f"set {where} to {_describe(value)}"


# ----------------------------------------------------------------------------- byte level
def item_offsets(data: bytes) -> list[int]:
    """Offsets of every item header in a well-formed encoding, the outer one excluded."""
    out: list[int] = []

    def walk(start: int, end: int) -> None:
        pos = start
        while pos + HEADER <= end:
            kind, length = data[pos + 3], int.from_bytes(data[pos + 4:pos + 8], "big")
            out.append(pos)
            size = HEADER + length + (-length % 8)
            if kind == ItemType.STRUCTURE and pos + size <= end:
                walk(pos + HEADER, pos + HEADER + length)
            pos += size

    if len(data) >= HEADER:
        walk(HEADER, min(len(data), HEADER + int.from_bytes(data[4:8], "big")))
    return out


def relength(data: bytes) -> bytes:
    """Zero-padded to a multiple of eight, the outer length set to the bytes after the outer
    header: the server holds the whole message (a reader that rounds the length up to the
    padding never waits for bytes that do not come)."""
    if len(data) < HEADER:
        return data
    data = data + bytes(-len(data) % 8)
    return data[:4] + (len(data) - HEADER).to_bytes(4, "big") + data[HEADER:]


def apply_byte_mutation(data: bytes, mutation: Mutation) -> tuple[bytes, str]:
    offsets = item_offsets(data)
    op = mutation.op
    if op in ("length", "type-byte"):
        if not offsets:
            return data, f"{op}: no inner item, skipped"
        at = offsets[mutation.where % len(offsets)]
        tag = int.from_bytes(data[at:at + 3], "big")
        if op == "type-byte":
            kind = mutation.arg % 256
            return data[:at + 3] + bytes([kind]) + data[at + 4:], f"type byte of {_name(tag)} at {at} := 0x{kind:02X}"
        old = int.from_bytes(data[at + 4:at + 8], "big")
        choice = LENGTHS[mutation.arg % len(LENGTHS)]
        new = {"zero": 0, "minus-one": max(old - 1, 0), "plus-one": old + 1, "plus-eight": old + 8,
               "int-max": 2**31 - 1, "uint-max": 2**32 - 1}[choice] % 2**32
        return (data[:at + 4] + new.to_bytes(4, "big") + data[at + 8:],
                f"length of {_name(tag)} at {at} := {new} (was {old})")
    inner = len(data) - HEADER
    if inner <= 0:
        return data, f"{op}: empty message, skipped"
    pos = HEADER + mutation.where % inner
    if op == "flip":
        mask = 1 + mutation.arg % 255
        return data[:pos] + bytes([data[pos] ^ mask]) + data[pos + 1:], f"xor byte {pos} with 0x{mask:02x}"
    return data[:pos], f"truncate to {pos} bytes"


# ----------------------------------------------------------------------------- plans
def apply_plan(plan: Plan, seeds: tuple[Seed, ...]) -> tuple[bytes, str]:
    """The mutant (outer length consistent) and its recipe."""
    seed = seeds[plan.seed % len(seeds)]
    message = ttlv.decode(seed.message)
    steps = []
    item_level = [x for x in plan.mutations if x.op in ITEM_OPS]
    byte_level = [x for x in plan.mutations if x.op in BYTE_OPS]
    for mutation in item_level:
        message, step = apply_item_mutation(message, mutation)
        steps.append(step)
    data = ttlv.encode(message)
    for mutation in byte_level:
        data, step = apply_byte_mutation(data, mutation)
        steps.append(step)
    data = relength(data)
    return data, f"seed {seed.name}; " + "; ".join(f"{n}. {s}" for n, s in enumerate(steps, 1))


def mutations() -> st.SearchStrategy[Mutation]:
    return st.builds(Mutation, op=st.sampled_from(ITEM_OPS + BYTE_OPS), where=st.integers(0, 2**16),
                     arg=st.integers(0, 2**12))


def plans(seed_count: int, max_mutations: int = 3) -> st.SearchStrategy[Plan]:
    return st.builds(Plan, seed=st.integers(0, seed_count - 1),
                     mutations=st.lists(mutations(), min_size=1, max_size=max_mutations).map(tuple))
