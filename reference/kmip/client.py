"""Reference KMIP client: builds request messages (with batches), reads responses.

    with KmipClient.connect("127.0.0.1", 5696, ca=..., cert=..., key=..., version=(1, 4)) as c:
        uid = c.create("AES", 256, usage_mask=12, name="k1")
        c.activate(uid)
        key = c.get(uid).key_material

Single operations return their result or raise :class:`OperationFailed` (the server's
Result Status / Reason / Message).  ``batch()`` collects several operations into one
request message (Unique Batch Item IDs 1, 2, ...; the ID Placeholder links them) and
returns every item's :class:`BatchResult`.  1.x messages carry attributes as
Template-Attribute / Attribute structures, 2.x as Attributes (see :mod:`.attributes`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from harness.errors import KplabError, MalformedInput
from reference.kmip import attributes as attrs
from reference.kmip.net import TlsConnection
from reference.kmip.ttlv import Item, ItemType, decode, encode
from reference.kmip.vocab import (
    BatchErrorContinuation,
    ObjectType,
    Operation,
    QueryFunction,
    ResultStatus,
    Tag,
    enum_name,
    enum_value,
)

T = ItemType
Exchange = Callable[[bytes], bytes]


class OperationFailed(KplabError):
    """The server answered a batch item with a status other than Success."""

    def __init__(self, operation: str, status: str, reason: str | None, message: str) -> None:
        super().__init__(f"{operation}: {status}" + (f" / {reason}" if reason else "") + (f": {message}" if message else ""))
        self.operation, self.status, self.reason, self.result_message = operation, status, reason, message


@dataclass(frozen=True)
class BatchResult:
    operation: int | None
    status: int
    reason: int | None
    message: str
    payload: Item | None
    batch_id: bytes | None = None

    @property
    def ok(self) -> bool:
        return self.status == ResultStatus.SUCCESS

    @property
    def reason_name(self) -> str | None:
        return enum_name("Result Reason", self.reason) if self.reason is not None else None

    def raise_for_status(self) -> BatchResult:
        if not self.ok:
            op = enum_name("Operation", self.operation) if self.operation is not None else "(no operation)"
            raise OperationFailed(op, enum_name("Result Status", self.status), self.reason_name, self.message)
        return self

    def field(self, tag: int) -> Any:
        item = self.payload.find(tag) if self.payload is not None else None
        return item.value if item is not None else None

    def fields(self, tag: int) -> list[Any]:
        return [i.value for i in self.payload.find_all(tag)] if self.payload is not None else []


@dataclass(frozen=True)
class GetResult:
    object_type: int
    uid: str
    object: Item

    @property
    def key_material(self) -> bytes | None:
        from reference.kmip.objects import key_material

        return key_material(self.object)


@dataclass(frozen=True)
class Sealed:
    data: bytes
    iv: bytes | None
    tag: bytes | None


@dataclass
class Batch:
    """Operations for one request message; ``send()`` returns one BatchResult per item."""

    client: KmipClient
    continuation: int | None = None
    items: list[tuple[int, list[Item]]] = field(default_factory=list)

    def add(self, operation: int, payload: list[Item]) -> Batch:
        self.items.append((operation, payload))
        return self

    def send(self, timeout: float = 10.0) -> list[BatchResult]:
        return self.client.send_batch(self.items, continuation=self.continuation, timeout=timeout)


def _uid(uid: str | None) -> list[Item]:
    return [Item.text_string(Tag.UNIQUE_IDENTIFIER, uid)] if uid is not None else []


def _enum(table: str, value: int | str) -> int:
    return value if isinstance(value, int) else enum_value(table, value)


def attribute_value(name: str, value: Any) -> Item:
    """A Python value as the internal attribute item ("Name" takes a str; dates take ints)."""
    if isinstance(value, Item):
        return Item(attrs.BY_NAME[name].tag, value.type, value.value) if name in attrs.BY_NAME else value
    spec = attrs.BY_NAME.get(name)
    if spec is None:
        raise KplabError(f"no KMIP attribute named {name!r} in the catalogue; pass an Item")
    if name == "Name":
        return Item.structure(Tag.NAME, [Item.text_string(Tag.NAME_VALUE, value),
                                         Item.enumeration(Tag.NAME_TYPE, enum_value("Name Type", "Uninterpreted Text String"))])
    if spec.type is T.ENUMERATION:
        return Item.enumeration(spec.tag, _enum(name, value))
    return Item(spec.tag, spec.type, value)


class KmipClient:
    def __init__(self, exchange: Exchange, *, version: tuple[int, int] = (1, 4), close: Callable[[], None] | None = None) -> None:
        self._exchange = exchange
        self.version = version
        self._close = close

    @classmethod
    def connect(cls, host: str, port: int, *, ca: str | Path, cert: str | Path, key: str | Path,
                version: tuple[int, int] = (1, 4), timeout: float = 10.0) -> KmipClient:
        conn = TlsConnection(host, port, ca=ca, cert=cert, key=key, timeout=timeout)
        return cls(lambda data: conn.exchange(data, timeout), version=version, close=conn.close)

    def close(self) -> None:
        if self._close is not None:
            self._close()

    def __enter__(self) -> KmipClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def v2(self) -> bool:
        return self.version[0] >= 2

    # ------------------------------------------------------------------ messages
    def request_message(self, items: list[tuple[int, list[Item]]], *, continuation: int | None = None) -> bytes:
        header = [Item.structure(Tag.PROTOCOL_VERSION, [Item.integer(Tag.PROTOCOL_VERSION_MAJOR, self.version[0]),
                                                        Item.integer(Tag.PROTOCOL_VERSION_MINOR, self.version[1])])]
        if continuation is not None:
            header.append(Item.enumeration(Tag.BATCH_ERROR_CONTINUATION_OPTION, continuation))
        header.append(Item.integer(Tag.BATCH_COUNT, len(items)))
        batch = []
        for n, (op, payload) in enumerate(items, 1):
            fields = [Item.enumeration(Tag.OPERATION, op)]
            if len(items) > 1:  # 2.1 §8.3: REQUIRED if Batch Count > 1
                fields.append(Item.byte_string(Tag.UNIQUE_BATCH_ITEM_ID, bytes([n])))
            fields.append(Item.structure(Tag.REQUEST_PAYLOAD, payload))
            batch.append(Item.structure(Tag.BATCH_ITEM, fields))
        return encode(Item.structure(Tag.REQUEST_MESSAGE, [Item.structure(Tag.REQUEST_HEADER, header), *batch]))

    @staticmethod
    def parse_response(data: bytes) -> list[BatchResult]:
        message = decode(data)
        if message.tag != Tag.RESPONSE_MESSAGE or message.find(Tag.RESPONSE_HEADER) is None:
            raise MalformedInput("the server's answer is not a Response Message", status="Invalid Message")
        out = []
        for bi in message.find_all(Tag.BATCH_ITEM):
            op, status = bi.find(Tag.OPERATION), bi.find(Tag.RESULT_STATUS)
            reason, text = bi.find(Tag.RESULT_REASON), bi.find(Tag.RESULT_MESSAGE)
            batch_id = bi.find(Tag.UNIQUE_BATCH_ITEM_ID)
            if status is None:
                raise MalformedInput("a response Batch Item has no Result Status", status="Invalid Message")
            out.append(BatchResult(int(op.value) if op else None, int(status.value),  # type: ignore[arg-type]
                                   int(reason.value) if reason else None, str(text.value) if text else "",  # type: ignore[arg-type]
                                   bi.find(Tag.RESPONSE_PAYLOAD), bytes(batch_id.value) if batch_id else None))  # type: ignore[arg-type]
        return out

    def send_batch(self, items: list[tuple[int, list[Item]]], *, continuation: int | None = None,
                   timeout: float = 10.0) -> list[BatchResult]:
        return self.parse_response(self._exchange(self.request_message(items, continuation=continuation)))

    def batch(self, continuation: str | None = None) -> Batch:
        return Batch(self, _enum("Batch Error Continuation Option", continuation) if continuation else None)

    def _one(self, op: int, payload: list[Item]) -> BatchResult:
        results = self.send_batch([(op, payload)])
        if len(results) != 1:
            raise MalformedInput(f"expected 1 response Batch Item, got {len(results)}", status="Invalid Message")
        return results[0].raise_for_status()

    # ------------------------------------------------------------------ payload builders
    def attributes_payload(self, values: list[Item]) -> list[Item]:
        """Attributes for Create / Register / Locate in this client's version."""
        if self.v2:
            return [Item.structure(Tag.ATTRIBUTES, values)]
        return [attrs.to_v1(v, 0) for v in values]

    def template(self, values: list[Item]) -> list[Item]:
        if self.v2:
            return [Item.structure(Tag.ATTRIBUTES, values)]
        return [Item.structure(Tag.TEMPLATE_ATTRIBUTE, [attrs.to_v1(v, 0) for v in values])]

    def create_payload(self, algorithm: int | str, length: int, *, usage_mask: int | None = None, name: str | None = None,
                       extra: list[Item] = ()) -> list[Item]:  # type: ignore[assignment]
        values = [attribute_value("Cryptographic Algorithm", algorithm), attribute_value("Cryptographic Length", length)]
        if usage_mask is not None:
            values.append(attribute_value("Cryptographic Usage Mask", usage_mask))
        if name is not None:
            values.append(attribute_value("Name", name))
        return [Item.enumeration(Tag.OBJECT_TYPE, ObjectType.SYMMETRIC_KEY), *self.template(values + list(extra))]

    # ------------------------------------------------------------------ operations
    def discover_versions(self, versions: list[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
        payload = [Item.structure(Tag.PROTOCOL_VERSION, [Item.integer(Tag.PROTOCOL_VERSION_MAJOR, a),
                                                         Item.integer(Tag.PROTOCOL_VERSION_MINOR, b)]) for a, b in versions or []]
        result = self._one(Operation.DISCOVER_VERSIONS, payload)
        return [(int(pv.find(Tag.PROTOCOL_VERSION_MAJOR).value), int(pv.find(Tag.PROTOCOL_VERSION_MINOR).value))  # type: ignore[union-attr, arg-type]
                for pv in result.payload.find_all(Tag.PROTOCOL_VERSION)]  # type: ignore[union-attr]

    def query(self, functions: tuple[int, ...] = (QueryFunction.OPERATIONS, QueryFunction.OBJECTS)) -> BatchResult:
        return self._one(Operation.QUERY, [Item.enumeration(Tag.QUERY_FUNCTION, f) for f in functions])

    def create(self, algorithm: int | str, length: int, *, usage_mask: int | None = None, name: str | None = None,
               extra: list[Item] = ()) -> str:  # type: ignore[assignment]
        payload = self.create_payload(algorithm, length, usage_mask=usage_mask, name=name, extra=extra)
        return str(self._one(Operation.CREATE, payload).field(Tag.UNIQUE_IDENTIFIER))

    def register_symmetric_key(self, material: bytes, algorithm: int | str, length: int, *, usage_mask: int | None = None,
                               name: str | None = None, extra: list[Item] = ()) -> str:  # type: ignore[assignment]
        from reference.kmip.objects import symmetric_key

        values = []
        if usage_mask is not None:
            values.append(attribute_value("Cryptographic Usage Mask", usage_mask))
        if name is not None:
            values.append(attribute_value("Name", name))
        obj = symmetric_key(material, _enum("Cryptographic Algorithm", algorithm), length)
        payload = [Item.enumeration(Tag.OBJECT_TYPE, ObjectType.SYMMETRIC_KEY), *self.template(values + list(extra)), obj]
        return str(self._one(Operation.REGISTER, payload).field(Tag.UNIQUE_IDENTIFIER))

    def get(self, uid: str | None, *, key_format: int | str | None = None) -> GetResult:
        payload = _uid(uid)
        if key_format is not None:
            payload.append(Item.enumeration(Tag.KEY_FORMAT_TYPE, _enum("Key Format Type", key_format)))
        r = self._one(Operation.GET, payload)
        obj = next(c for c in r.payload.items if c.tag not in (Tag.OBJECT_TYPE, Tag.UNIQUE_IDENTIFIER))  # type: ignore[union-attr]
        return GetResult(int(r.field(Tag.OBJECT_TYPE)), str(r.field(Tag.UNIQUE_IDENTIFIER)), obj)

    def get_attributes(self, uid: str | None, names: list[str] | None = None) -> list[tuple[str, int, Item]]:
        """(attribute name, index, value) for each instance the server returned."""
        payload = _uid(uid)
        for name in names or []:
            if self.v2:
                payload.append(attrs.reference_v2(attrs.key_from_name(name, self.version)))
            else:
                payload.append(Item.text_string(Tag.ATTRIBUTE_NAME, name))
        r = self._one(Operation.GET_ATTRIBUTES, payload)
        return self._read_attributes(r.payload)  # type: ignore[arg-type]

    def _read_attributes(self, payload: Item) -> list[tuple[str, int, Item]]:
        out = []
        if self.v2:
            for container in payload.find_all(Tag.ATTRIBUTES):
                for v in container.items:
                    out.append((attrs.display_name(attrs.key_of(v)), 0, v))
        else:
            for a in payload.find_all(Tag.ATTRIBUTE):
                index = a.find(Tag.ATTRIBUTE_INDEX)
                value = a.find(Tag.ATTRIBUTE_VALUE)
                out.append((str(a.find(Tag.ATTRIBUTE_NAME).value), int(index.value) if index else 0, value))  # type: ignore[union-attr, arg-type]
        return out

    def get_attribute_list(self, uid: str | None) -> list[str]:
        r = self._one(Operation.GET_ATTRIBUTE_LIST, _uid(uid))
        if self.v2:
            return [attrs.display_name(attrs.key_from_reference(ref)) for ref in r.payload.find_all(Tag.ATTRIBUTE_REFERENCE)]  # type: ignore[union-attr]
        return [str(n) for n in r.fields(Tag.ATTRIBUTE_NAME)]

    def add_attribute(self, uid: str | None, name: str, value: Any) -> None:
        item = attribute_value(name, value)
        inner = [Item.structure(Tag.NEW_ATTRIBUTE, [item])] if self.v2 else [attrs.to_v1(item, 0)]
        self._one(Operation.ADD_ATTRIBUTE, _uid(uid) + inner)

    def modify_attribute(self, uid: str | None, name: str, value: Any, *, index: int | None = None,
                         current: Any = None) -> None:
        item = attribute_value(name, value)
        if self.v2:
            inner = ([Item.structure(Tag.CURRENT_ATTRIBUTE, [attribute_value(name, current)])] if current is not None else [])
            inner.append(Item.structure(Tag.NEW_ATTRIBUTE, [item]))
        else:
            a = attrs.to_v1(item, 0)
            if index:
                a = Item.structure(Tag.ATTRIBUTE, [a.items[0], Item.integer(Tag.ATTRIBUTE_INDEX, index), a.items[1]])
            inner = [a]
        self._one(Operation.MODIFY_ATTRIBUTE, _uid(uid) + inner)

    def delete_attribute(self, uid: str | None, name: str, *, index: int | None = None) -> None:
        if self.v2:
            inner = [attrs.reference_v2(attrs.key_from_name(name, self.version))]
        else:
            inner = [Item.text_string(Tag.ATTRIBUTE_NAME, name)]
            if index is not None:
                inner.append(Item.integer(Tag.ATTRIBUTE_INDEX, index))
        self._one(Operation.DELETE_ATTRIBUTE, _uid(uid) + inner)

    def activate(self, uid: str | None) -> str:
        return str(self._one(Operation.ACTIVATE, _uid(uid)).field(Tag.UNIQUE_IDENTIFIER))

    def revoke(self, uid: str | None, reason: int | str = "Unspecified", *, message: str | None = None,
               compromise_occurrence: int | None = None) -> str:
        rr = [Item.enumeration(Tag.REVOCATION_REASON_CODE, _enum("Revocation Reason Code", reason))]
        if message is not None:
            rr.append(Item.text_string(Tag.REVOCATION_MESSAGE, message))
        payload = _uid(uid) + [Item.structure(Tag.REVOCATION_REASON, rr)]
        if compromise_occurrence is not None:
            payload.append(Item.date_time(Tag.COMPROMISE_OCCURRENCE_DATE, compromise_occurrence))
        return str(self._one(Operation.REVOKE, payload).field(Tag.UNIQUE_IDENTIFIER))

    def destroy(self, uid: str | None) -> str:
        return str(self._one(Operation.DESTROY, _uid(uid)).field(Tag.UNIQUE_IDENTIFIER))

    def locate(self, criteria: list[tuple[str, Any]] = (), *, maximum_items: int | None = None,  # type: ignore[assignment]
               offset_items: int | None = None) -> list[str]:
        payload = []
        if maximum_items is not None:
            payload.append(Item.integer(Tag.MAXIMUM_ITEMS, maximum_items))
        if offset_items is not None:
            payload.append(Item.integer(Tag.OFFSET_ITEMS, offset_items))
        payload += self.attributes_payload([attribute_value(n, v) for n, v in criteria])
        return [str(u) for u in self._one(Operation.LOCATE, payload).fields(Tag.UNIQUE_IDENTIFIER)]

    def _crypto_payload(self, uid: str | None, data: bytes, mode: str | None, padding: str | None, iv: bytes | None,
                        tag_length: int | None, aad: bytes | None) -> list[Item]:
        params = []
        if mode is not None:
            params.append(Item.enumeration(Tag.BLOCK_CIPHER_MODE, _enum("Block Cipher Mode", mode)))
        if padding is not None:
            params.append(Item.enumeration(Tag.PADDING_METHOD, _enum("Padding Method", padding)))
        if tag_length is not None:
            params.append(Item.integer(Tag.TAG_LENGTH, tag_length))
        payload = _uid(uid)
        if params:
            payload.append(Item.structure(Tag.CRYPTOGRAPHIC_PARAMETERS, params))
        payload.append(Item.byte_string(Tag.DATA, data))
        if iv is not None:
            payload.append(Item.byte_string(Tag.IV_COUNTER_NONCE, iv))
        if aad is not None:
            payload.append(Item.byte_string(Tag.AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA, aad))
        return payload

    def encrypt(self, uid: str | None, data: bytes, *, mode: str | None = None, padding: str | None = None,
                iv: bytes | None = None, tag_length: int | None = None, aad: bytes | None = None) -> Sealed:
        r = self._one(Operation.ENCRYPT, self._crypto_payload(uid, data, mode, padding, iv, tag_length, aad))
        return Sealed(bytes(r.field(Tag.DATA)), r.field(Tag.IV_COUNTER_NONCE), r.field(Tag.AUTHENTICATED_ENCRYPTION_TAG))

    def decrypt(self, uid: str | None, data: bytes, *, mode: str | None = None, padding: str | None = None,
                iv: bytes | None = None, tag_length: int | None = None, aad: bytes | None = None,
                tag: bytes | None = None) -> bytes:
        payload = self._crypto_payload(uid, data, mode, padding, iv, tag_length, aad)
        if tag is not None:
            payload.append(Item.byte_string(Tag.AUTHENTICATED_ENCRYPTION_TAG, tag))
        return bytes(self._one(Operation.DECRYPT, payload).field(Tag.DATA))


__all__ = ["KmipClient", "OperationFailed", "BatchResult", "GetResult", "Sealed", "attribute_value", "BatchErrorContinuation"]
