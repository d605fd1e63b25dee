"""What an operation handler sees: the request's version, the clock, the store, the ID
Placeholder of the batch, and helpers to read payload fields strictly.

Handlers are registered with :func:`operation` and return the children of their Response
Payload; a failure is a :class:`~.failures.KmipFailure`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from reference.kmip import attributes as attrs
from reference.kmip.failures import Failure, KmipFailure
from reference.kmip.lifecycle import advance_by_dates
from reference.kmip.store import Instance, ManagedObject, ObjectStore
from reference.kmip.ttlv import Item, ItemType
from reference.kmip.vocab import Tag, tag_name

Clock = Callable[[], float]  # POSIX seconds
Random = Callable[[int], bytes]  # n random bytes
Handler = Callable[["Context", Item], "list[Item]"]

HANDLERS: dict[int, tuple[Handler, tuple[int, int]]] = {}


def operation(op: int, since: tuple[int, int] = (1, 0)) -> Callable[[Handler], Handler]:
    """Register a handler for Operation ``op`` (offered from protocol version ``since``)."""

    def register(fn: Handler) -> Handler:
        HANDLERS[op] = (fn, since)
        return fn

    return register


@dataclass
class Context:
    version: tuple[int, int]
    now: int
    store: ObjectStore
    random: Random
    server_versions: tuple[tuple[int, int], ...]
    placeholder: str | None = None  # the ID Placeholder (1.4 §4 intro; 2.1 §6.1 intro)
    vendor: str = "keyprov-lab"
    notes: list[str] = field(default_factory=list)

    @property
    def v2(self) -> bool:
        return self.version[0] >= 2

    # -- payload fields ----------------------------------------------------------------
    def field(self, payload: Item, tag: int, kind: ItemType, *, required: bool = False) -> Item | None:
        """The single ``tag`` field of ``payload``: repeated -> Invalid Message (1.4 §11.1),
        wrong type -> Invalid Message, missing and required -> Invalid Message."""
        found = payload.find_all(tag)
        if len(found) > 1:
            raise KmipFailure(Failure.INVALID_MESSAGE, f"{tag_name(tag)} is present more than once")
        if not found:
            if required:
                raise KmipFailure(Failure.INVALID_MESSAGE, f"required field {tag_name(tag)} is missing")
            return None
        if found[0].type is not kind:
            raise KmipFailure(Failure.INVALID_MESSAGE, f"{tag_name(tag)} must be a {kind.xml_name}, got {found[0].type.xml_name}")
        return found[0]

    def value(self, payload: Item, tag: int, kind: ItemType, default: object = None, *, required: bool = False):
        item = self.field(payload, tag, kind, required=required)
        return item.value if item is not None else default

    def uid(self, payload: Item) -> str:
        """The request's Unique Identifier, else the ID Placeholder."""
        given = self.value(payload, Tag.UNIQUE_IDENTIFIER, ItemType.TEXT_STRING)
        if given is not None:
            return str(given)
        if self.placeholder is None:
            raise KmipFailure(Failure.OBJECT_NOT_FOUND, "no Unique Identifier given and the ID Placeholder is empty")
        return self.placeholder

    # -- objects -----------------------------------------------------------------------
    def load(self, uid: str) -> ManagedObject:
        """The object, with the date-driven state transitions (1.4 §3.22 items 4, 6) applied."""
        obj = self.store.get(uid)
        if obj is None:
            raise KmipFailure(Failure.OBJECT_NOT_FOUND, f"no object with Unique Identifier {uid!r}")
        return self.refresh(obj)

    def refresh(self, obj: ManagedObject) -> ManagedObject:
        state = advance_by_dates(obj.state, date(obj, Tag.ACTIVATION_DATE), date(obj, Tag.DEACTIVATION_DATE), self.now)
        if state != obj.state:
            obj = self.store.put(obj.with_(state=state))
        return obj

    def save(self, obj: ManagedObject) -> ManagedObject:
        """Store a changed object, stamping Last Change Date (1.4 §3.38)."""
        return self.store.put(set_single(obj, Item.date_time(Tag.LAST_CHANGE_DATE, self.now)))


# ----------------------------------------------------------------------------- attribute helpers
def date(obj: ManagedObject, tag: int) -> int | None:
    item = obj.value(tag)
    return int(item.value) if item is not None else None  # type: ignore[arg-type]


def set_single(obj: ManagedObject, value: Item) -> ManagedObject:
    """Replace (or add) the instance of a single-instance attribute, index 0."""
    key = attrs.key_of(value)
    kept = tuple(i for i in obj.attributes if attrs.key_of(i.item) != key)
    return obj.with_(attributes=kept + (Instance(0, value),))


def add_instance(obj: ManagedObject, value: Item) -> tuple[ManagedObject, int]:
    """Add an instance with the next unused Attribute Index (indices never change, 1.4 §2.1.1)."""
    key = attrs.key_of(value)
    used = [i.index for i in obj.attributes if attrs.key_of(i.item) == key]
    index = max(used) + 1 if used else 0
    return obj.with_(attributes=obj.attributes + (Instance(index, value),)), index


def instances(obj: ManagedObject, key: attrs.AttrKey) -> list[Instance]:
    """Stored instances plus the fields kept outside (Unique Identifier, Object Type, State)."""
    if key == Tag.UNIQUE_IDENTIFIER:
        return [Instance(0, Item.text_string(Tag.UNIQUE_IDENTIFIER, obj.uid))]
    if key == Tag.OBJECT_TYPE:
        return [Instance(0, Item.enumeration(Tag.OBJECT_TYPE, obj.object_type))]
    if key == Tag.STATE:
        return [Instance(0, Item.enumeration(Tag.STATE, obj.state))]
    return [i for i in obj.attributes if attrs.key_of(i.item) == key]


def all_keys(obj: ManagedObject) -> list[attrs.AttrKey]:
    keys: list[attrs.AttrKey] = [Tag.UNIQUE_IDENTIFIER, Tag.OBJECT_TYPE, Tag.STATE]
    for inst in obj.attributes:
        key = attrs.key_of(inst.item)
        if key not in keys:
            keys.append(key)
    return sorted(keys, key=attrs.sort_key)
