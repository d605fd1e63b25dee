"""Request builders and answer reading for the KMIP protocol and fuzz suites.

Built by hand from the KMIP 1.4 message tables (§7.1-§7.2, Tables 280-285), not with the
reference client, so the suites can also say things a well-behaved client never would.
KMIP 1.x carries attributes as Template-Attribute / Attribute structures (1.4 §2.1.1, §2.1.8).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import ProtocolError
from reference.kmip import ttlv
from reference.kmip.variations import enum_of, show_value, tag_of
from reference.kmip.tags import tables_for
from reference.kmip.ttlv import Item

VERSION = (1, 4)


def tag(name: str) -> int:
    return tag_of(name)


def enum(table: str, name: str) -> int:
    return enum_of(table, name)


def header(version: tuple[int, int] = VERSION, batch_count: int = 1, *, extra: list[Item] | tuple[Item, ...] = (),
           protocol: Item | None = None) -> Item:
    items = [protocol or protocol_version(version), *extra, Item.integer(tag("BatchCount"), batch_count)]
    return Item.structure(tag("RequestHeader"), items)


def protocol_version(version: tuple[int, int]) -> Item:
    return Item.structure(tag("ProtocolVersion"), [Item.integer(tag("ProtocolVersionMajor"), version[0]),
                                                   Item.integer(tag("ProtocolVersionMinor"), version[1])])


def batch_item(operation: str | int, payload: list[Item] | tuple[Item, ...] = (), *, batch_id: bytes | None = None) -> Item:
    op = enum("Operation", operation) if isinstance(operation, str) else operation
    items = [Item.enumeration(tag("Operation"), op)]
    if batch_id is not None:
        items.append(Item.byte_string(tag("UniqueBatchItemID"), batch_id))
    items.append(Item.structure(tag("RequestPayload"), list(payload)))
    return Item.structure(tag("BatchItem"), items)


def message(*items: Item, version: tuple[int, int] = VERSION, batch_count: int | None = None,
            header_extra: list[Item] | tuple[Item, ...] = ()) -> Item:
    count = len(items) if batch_count is None else batch_count
    return Item.structure(tag("RequestMessage"), [header(version, count, extra=header_extra), *items])


def uid(value: str) -> Item:
    return Item.text_string(tag("UniqueIdentifier"), value)


def attribute(name: str, value: Item) -> Item:
    return Item.structure(tag("Attribute"), [Item.text_string(tag("AttributeName"), name), value])


def create_aes_payload(name: str, length: int = 128) -> list[Item]:
    """Create of an AES key (1.4 §4.1) with Cryptographic Algorithm / Length / Usage Mask and a Name."""
    mask = Item.integer(tag("AttributeValue"), 0x04 | 0x08)  # Encrypt | Decrypt (1.4 §9.1.3.3.1)
    name_value = Item.structure(tag("AttributeValue"), [
        Item.text_string(tag("NameValue"), name),
        Item.enumeration(tag("NameType"), enum("Name Type", "UninterpretedTextString"))])
    template = Item.structure(tag("TemplateAttribute"), [
        attribute("Cryptographic Algorithm", Item.enumeration(tag("AttributeValue"), enum("Cryptographic Algorithm", "AES"))),
        attribute("Cryptographic Length", Item.integer(tag("AttributeValue"), length)),
        attribute("Cryptographic Usage Mask", mask),
        attribute("Name", name_value),
    ])
    return [Item.enumeration(tag("ObjectType"), enum("Object Type", "SymmetricKey")), template]


def create_aes(name: str) -> Item:
    return message(batch_item("Create", create_aes_payload(name)))


def single(operation: str, *payload: Item, version: tuple[int, int] = VERSION) -> Item:
    return message(batch_item(operation, payload), version=version)


def revoke_payload(identifier: str) -> list[Item]:
    reason = Item.structure(tag("RevocationReason"), [
        Item.enumeration(tag("RevocationReasonCode"), enum("Revocation Reason Code", "CessationOfOperation"))])
    return [uid(identifier), reason]


def encode(item: Item) -> bytes:
    return ttlv.encode(item)


# ----------------------------------------------------------------------------- answers
@dataclass(frozen=True)
class BatchAnswer:
    operation: str | None
    status: str | None
    reason: str | None
    message: str | None
    payload: Item | None

    def __str__(self) -> str:
        said = f"{self.status or 'no ResultStatus'}"
        if self.reason:
            said += f"/{self.reason}"
        if self.message:
            said += f" ({self.message[:120]!r})"
        return f"{self.operation or 'no Operation'}: {said}"


@dataclass(frozen=True)
class Answer:
    item: Item
    batch: tuple[BatchAnswer, ...]

    def __str__(self) -> str:
        return "; ".join(str(b) for b in self.batch) or "no batch item"


class NotAResponse(Exception):
    """The bytes are TTLV but not a Response Message of the expected shape, or not TTLV."""


def read_answer(data: bytes, version: tuple[int, int] = VERSION) -> Answer:
    """The response's batch items by name; NotAResponse when it is not a KMIP Response
    Message with a Response Header (1.4 §7.1 Table 281)."""
    try:
        item = ttlv.decode(data)
    except ProtocolError as exc:
        raise NotAResponse(f"not valid TTLV: {exc}") from None
    if item.tag != tag("ResponseMessage") or item.find(tag("ResponseHeader")) is None:
        raise NotAResponse(f"not a Response Message with a Response Header (root tag 0x{item.tag:06X})")
    tables = tables_for(version)
    out = []
    for b in item.find_all(tag("BatchItem")):
        def named(t: str) -> str | None:
            found = b.find(tag(t))
            return show_value(found, tables) if found is not None else None

        text = b.find(tag("ResultMessage"))
        out.append(BatchAnswer(named("Operation"), named("ResultStatus"), named("ResultReason"),
                               str(text.value) if text is not None else None, b.find(tag("ResponsePayload"))))
    return Answer(item, tuple(out))
