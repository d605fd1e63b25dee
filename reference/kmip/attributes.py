"""Attributes of managed objects: the catalogue, and their 1.x and 2.x wire forms.

Internally an attribute value is an :class:`Item` tagged by the attribute itself (the
KMIP 2.x form, e.g. ``Cryptographic Length`` = Integer 0x42002A), whatever version the
request used.  A vendor / custom attribute is the 2.x ``Attribute`` structure (Vendor
Identification, Attribute Name, Attribute Value; 2.1 §4.60); a KMIP 1.x custom attribute
``x-foo`` is Vendor Identification ``x`` + Attribute Name ``foo`` (2.1 §4.60: "x" and "y"
are reserved for referencing 1.x Custom Attributes), so both versions see one attribute.

Wire forms:

* 1.x: ``Attribute`` {Attribute Name (spec name), Attribute Index?, Attribute Value}
  (1.4 §2.1.1), inside ``Template-Attribute`` (1.4 §2.1.8) in Create/Register;
* 2.x: the value itself inside ``Attributes`` / ``New Attribute`` / ``Current
  Attribute`` (2.1 §5.1, §5.6, §5.7); referenced by ``Attribute Reference`` (2.1 §5.5).

The rules per attribute (who sets it, may a client change or delete it, how many
instances) are the "Attribute Rules" tables of KMIP 1.4 §3 (same in 2.1 §4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from reference.kmip.failures import Failure, KmipFailure
from reference.kmip.ttlv import Item, ItemType
from reference.kmip.tags import tables_for
from reference.kmip.vocab import State, Tag, tag_of

T = ItemType
AttrKey = Union[int, "tuple[str, str]"]  # a tag, or (vendor identification, attribute name)

ANY_STATE = None  # marker: modifiable in every state


@dataclass(frozen=True)
class AttrSpec:
    name: str
    type: ItemType
    multi: bool = False
    client_init: bool = False  # may be given in Create / Register
    client_modify: bool = False  # may be added / modified later (Add Attribute needs this too)
    modify_states: frozenset[int] | None = ANY_STATE
    client_delete: bool = False
    since: tuple[int, int] = (1, 0)

    @property
    def tag(self) -> int:
        return tag_of(self.name)


_PA, _AC = State.PRE_ACTIVE, State.ACTIVE


def _server(name: str, t: ItemType, since: tuple[int, int] = (1, 0), multi: bool = False) -> AttrSpec:
    return AttrSpec(name, t, multi=multi, since=since)


def _client(name: str, t: ItemType, multi: bool = False, delete: bool = True, since: tuple[int, int] = (1, 0)) -> AttrSpec:
    return AttrSpec(name, t, multi=multi, client_init=True, client_modify=True, client_delete=delete, since=since)


def _initial(name: str, t: ItemType, since: tuple[int, int] = (1, 0)) -> AttrSpec:
    return AttrSpec(name, t, client_init=True, since=since)


def _date(name: str, states: frozenset[int]) -> AttrSpec:
    return AttrSpec(name, T.DATE_TIME, client_init=True, client_modify=True, modify_states=states)


CATALOGUE: tuple[AttrSpec, ...] = (
    _server("Unique Identifier", T.TEXT_STRING),  # 1.4 §3.1
    _client("Name", T.STRUCTURE, multi=True),  # §3.2
    _server("Object Type", T.ENUMERATION),  # §3.3
    _initial("Cryptographic Algorithm", T.ENUMERATION),  # §3.4
    _initial("Cryptographic Length", T.INTEGER),  # §3.5
    _client("Cryptographic Parameters", T.STRUCTURE, multi=True),  # §3.6
    _initial("Cryptographic Domain Parameters", T.STRUCTURE),  # §3.7
    _server("Digest", T.STRUCTURE, multi=True),  # §3.17
    _initial("Operation Policy Name", T.TEXT_STRING),  # §3.18
    _initial("Cryptographic Usage Mask", T.INTEGER),  # §3.19
    _server("Lease Time", T.INTERVAL),  # §3.20
    _client("Usage Limits", T.STRUCTURE),  # §3.21
    _server("State", T.ENUMERATION),  # §3.22
    _server("Initial Date", T.DATE_TIME),  # §3.23
    _date("Activation Date", frozenset({_PA})),  # §3.24 "only while in Pre-Active state"
    _date("Process Start Date", frozenset({_PA, _AC})),  # §3.25
    _date("Protect Stop Date", frozenset({_PA, _AC})),  # §3.26
    _date("Deactivation Date", frozenset({_PA, _AC})),  # §3.27
    _server("Destroy Date", T.DATE_TIME),  # §3.28
    _server("Compromise Occurrence Date", T.DATE_TIME),  # §3.29
    _server("Compromise Date", T.DATE_TIME),  # §3.30
    _server("Revocation Reason", T.STRUCTURE),  # §3.31
    _server("Archive Date", T.DATE_TIME),  # §3.32
    _client("Object Group", T.TEXT_STRING, multi=True),  # §3.33
    _initial("Fresh", T.BOOLEAN),  # §3.34
    _client("Link", T.STRUCTURE, multi=True),  # §3.35
    _client("Application Specific Information", T.STRUCTURE, multi=True),  # §3.36
    _client("Contact Information", T.TEXT_STRING),  # §3.37
    _server("Last Change Date", T.DATE_TIME),  # §3.38
    _client("Alternative Name", T.STRUCTURE, multi=True, since=(1, 2)),  # §3.40
    _server("Key Value Present", T.BOOLEAN, since=(1, 2)),  # §3.41
    _client("Key Value Location", T.STRUCTURE, multi=True, since=(1, 2)),  # §3.42
    _initial("Original Creation Date", T.DATE_TIME, since=(1, 2)),  # §3.43
    _initial("Random Number Generator", T.STRUCTURE, since=(1, 3)),  # §3.44
    _client("PKCS#12 Friendly Name", T.TEXT_STRING, since=(1, 4)),  # §3.45
    _client("Description", T.TEXT_STRING, since=(1, 4)),  # §3.46
    _client("Comment", T.TEXT_STRING, since=(1, 4)),  # §3.47
    _client("Sensitive", T.BOOLEAN, delete=False, since=(1, 4)),  # §3.48
    _server("Always Sensitive", T.BOOLEAN, since=(1, 4)),  # §3.49
    _client("Extractable", T.BOOLEAN, delete=False, since=(1, 4)),  # §3.50
    _server("Never Extractable", T.BOOLEAN, since=(1, 4)),  # §3.51
    _server("Short Unique Identifier", T.BYTE_STRING, since=(2, 0)),  # 2.1 §4.56
    _server("Key Format Type", T.ENUMERATION, since=(2, 0)),  # 2.1 §4.26 (an attribute from 2.0 on)
)
BY_NAME = {a.name: a for a in CATALOGUE}
BY_TAG = {a.tag: a for a in CATALOGUE}
# Held in ManagedObject fields rather than as stored instances.
VIRTUAL = frozenset({Tag.UNIQUE_IDENTIFIER, Tag.OBJECT_TYPE, Tag.STATE})
# "All attributes" order (Get Attributes without names): identity first, then by name.
_FIRST = (Tag.UNIQUE_IDENTIFIER, Tag.OBJECT_TYPE, Tag.CRYPTOGRAPHIC_ALGORITHM, Tag.CRYPTOGRAPHIC_LENGTH)
CLIENT_VENDOR = "x"  # 1.4 §3.39: "x-" custom attributes are the client's, "y-" the server's
SERVER_VENDOR = "y"


def key_of(item: Item) -> AttrKey:
    if item.tag == Tag.ATTRIBUTE:
        vendor = item.find(Tag.VENDOR_IDENTIFICATION)
        name = item.find(Tag.ATTRIBUTE_NAME)
        return (str(vendor.value) if vendor else "", str(name.value) if name else "")
    return item.tag


def display_name(key: AttrKey) -> str:
    """The 1.x Attribute Name of ``key`` ("Cryptographic Length", "x-owner")."""
    if isinstance(key, tuple):
        return f"{key[0]}-{key[1]}"
    spec = BY_TAG.get(key)
    return spec.name if spec else f"0x{key:06X}"


def sort_key(key: AttrKey) -> tuple[int, str]:
    if not isinstance(key, tuple) and key in _FIRST:
        return (_FIRST.index(key), "")
    return (len(_FIRST), display_name(key))


def visible(key: AttrKey, version: tuple[int, int]) -> bool:
    """Whether an attribute existed in ``version`` (so a 1.0 client is not sent 1.4 names)."""
    if isinstance(key, tuple):
        return True
    spec = BY_TAG.get(key)
    return spec is not None and version >= spec.since


# ----------------------------------------------------------------------------- reading
def _bad(failure: Failure, message: str) -> KmipFailure:
    return KmipFailure(failure, message)


def key_from_name(name: str, version: tuple[int, int]) -> AttrKey:
    """A 1.x Attribute Name -> key; unknown names are Invalid Field / Invalid Attribute."""
    if len(name) > 2 and name[1] == "-" and name[0] in (CLIENT_VENDOR, SERVER_VENDOR):
        return (name[0], name[2:])
    spec = BY_NAME.get(name)
    if spec is None or version < spec.since:
        known = tables_for(version).tag_by_name(name) is not None
        raise _bad(Failure.INVALID_ATTRIBUTE,
                   f"attribute {name!r} is {'not supported by this server' if known else 'not a KMIP attribute'}")
    return spec.tag


def key_from_reference(item: Item) -> AttrKey:
    """A 2.x Attribute Reference (Enumeration holding a tag, or Vendor Identification + Name)."""
    if item.type is ItemType.ENUMERATION:
        if item.value not in BY_TAG:
            raise _bad(Failure.INVALID_ATTRIBUTE, f"attribute reference 0x{item.value:06X} is not supported")
        return int(item.value)  # type: ignore[arg-type]
    if item.type is ItemType.STRUCTURE:
        vendor, name = item.find(Tag.VENDOR_IDENTIFICATION), item.find(Tag.ATTRIBUTE_NAME)
        if vendor is None or name is None or vendor.type is not T.TEXT_STRING or name.type is not T.TEXT_STRING:
            raise _bad(Failure.INVALID_MESSAGE, "Attribute Reference needs Vendor Identification and Attribute Name")
        return (str(vendor.value), str(name.value))
    raise _bad(Failure.INVALID_MESSAGE, "Attribute Reference must be an Enumeration or a Structure")


def _checked(spec: AttrSpec, value: Item) -> Item:
    if value.type is not spec.type:
        raise _bad(Failure.INVALID_ATTRIBUTE_VALUE, f"{spec.name} must be a {spec.type.xml_name}, got {value.type.xml_name}")
    if spec.tag == Tag.NAME:
        name_value, name_type = value.find(Tag.NAME_VALUE), value.find(Tag.NAME_TYPE)
        if name_value is None or name_value.type is not T.TEXT_STRING or (
                name_type is not None and name_type.type is not T.ENUMERATION):
            raise _bad(Failure.INVALID_ATTRIBUTE_VALUE, "Name needs a Name Value (Text String) and a Name Type")
    return Item(spec.tag, value.type, value.value)


def from_v1(attribute: Item, version: tuple[int, int]) -> tuple[Item, int | None]:
    """A 1.x ``Attribute`` structure -> (internal value, Attribute Index or None)."""
    if attribute.tag != Tag.ATTRIBUTE or attribute.type is not T.STRUCTURE:
        raise _bad(Failure.INVALID_MESSAGE, "expected an Attribute structure")
    name, index, value = attribute.find(Tag.ATTRIBUTE_NAME), attribute.find(Tag.ATTRIBUTE_INDEX), attribute.find(Tag.ATTRIBUTE_VALUE)
    if name is None or name.type is not T.TEXT_STRING or value is None:
        raise _bad(Failure.INVALID_MESSAGE, "Attribute needs an Attribute Name (Text String) and an Attribute Value")
    if index is not None and (index.type is not T.INTEGER or int(index.value) < 0):  # type: ignore[arg-type]
        raise _bad(Failure.INVALID_FIELD, "Attribute Index must be a non-negative Integer")
    key = key_from_name(str(name.value), version)
    idx = int(index.value) if index is not None else None  # type: ignore[arg-type]
    if isinstance(key, tuple):
        return vendor_item(key, value), idx
    return _checked(BY_TAG[key], value), idx


def vendor_item(key: tuple[str, str], value: Item) -> Item:
    return Item.structure(Tag.ATTRIBUTE, [
        Item.text_string(Tag.VENDOR_IDENTIFICATION, key[0]),
        Item.text_string(Tag.ATTRIBUTE_NAME, key[1]),
        Item(Tag.ATTRIBUTE_VALUE, value.type, value.value),
    ])


def from_v2(value: Item) -> Item:
    """One attribute as 2.x writes it (a child of Attributes / New Attribute) -> internal value."""
    if value.tag == Tag.ATTRIBUTE:
        vendor, name, v = (value.find(t) for t in (Tag.VENDOR_IDENTIFICATION, Tag.ATTRIBUTE_NAME, Tag.ATTRIBUTE_VALUE))
        if vendor is None or name is None or v is None or vendor.type is not T.TEXT_STRING or name.type is not T.TEXT_STRING:
            raise _bad(Failure.INVALID_MESSAGE, "vendor Attribute needs Vendor Identification, Attribute Name, Attribute Value")
        return vendor_item((str(vendor.value), str(name.value)), v)
    spec = BY_TAG.get(value.tag)
    if spec is None:
        known = tables_for((2, 1)).tag(value.tag) is not None
        raise _bad(Failure.INVALID_ATTRIBUTE,
                   f"attribute 0x{value.tag:06X} is {'not supported by this server' if known else 'not a KMIP attribute'}")
    return _checked(spec, value)


def single_child(container: Item, what: str) -> Item:
    """The one attribute inside 2.x New Attribute / Current Attribute."""
    if container.type is not T.STRUCTURE or len(container.items) != 1:
        raise _bad(Failure.INVALID_MESSAGE, f"{what} must hold exactly one attribute")
    return from_v2(container.items[0])


def template_attributes(payload: Item, version: tuple[int, int]) -> list[Item]:
    """The attributes a Create / Register request gives (Template-Attribute 1.x, Attributes 2.x)."""
    values: list[Item] = []
    if version[0] < 2:
        for template in payload.find_all(Tag.TEMPLATE_ATTRIBUTE):
            if template.find(Tag.NAME) is not None:
                # 1.4 §2.1.8: Names in a Template-Attribute refer to Template objects; this
                # server holds none (Templates are deprecated, 1.4 §2.2.6).
                raise _bad(Failure.TEMPLATE_NOT_FOUND, "Template-Attribute names a template; no such template exists")
            for attribute in template.find_all(Tag.ATTRIBUTE):
                values.append(from_v1(attribute, version)[0])
    else:
        for attributes in payload.find_all(Tag.ATTRIBUTES):
            values.extend(from_v2(v) for v in attributes.items)
    return values


# ----------------------------------------------------------------------------- writing
def to_v1(value: Item, index: int) -> Item:
    """Internal value -> 1.x Attribute structure (index omitted when 0, 1.4 §2.1.1)."""
    key = key_of(value)
    inner = value.find(Tag.ATTRIBUTE_VALUE) if isinstance(key, tuple) else value
    assert inner is not None
    items = [Item.text_string(Tag.ATTRIBUTE_NAME, display_name(key))]
    if index:
        items.append(Item.integer(Tag.ATTRIBUTE_INDEX, index))
    items.append(Item(Tag.ATTRIBUTE_VALUE, inner.type, inner.value))
    return Item.structure(Tag.ATTRIBUTE, items)


def reference_v2(key: AttrKey) -> Item:
    if isinstance(key, tuple):
        return Item.structure(Tag.ATTRIBUTE_REFERENCE, [Item.text_string(Tag.VENDOR_IDENTIFICATION, key[0]),
                                                        Item.text_string(Tag.ATTRIBUTE_NAME, key[1])])
    return Item.enumeration(Tag.ATTRIBUTE_REFERENCE, key)


# ----------------------------------------------------------------------------- rules
def spec_of(key: AttrKey) -> AttrSpec | None:
    return None if isinstance(key, tuple) else BY_TAG.get(key)


def is_multi(key: AttrKey) -> bool:
    spec = spec_of(key)
    return True if spec is None else spec.multi  # custom attributes MAY repeat (1.4 §3.39)


def check_initial(value: Item) -> None:
    """A value a client gives in Create / Register: only client-settable attributes."""
    key = key_of(value)
    if isinstance(key, tuple):
        if key[0] == SERVER_VENDOR:
            raise _bad(Failure.INVALID_ATTRIBUTE, f"custom attribute {display_name(key)!r} is the server's (1.4 §3.39)")
        return
    spec = BY_TAG[key]
    if not spec.client_init:
        raise _bad(Failure.INVALID_ATTRIBUTE, f"{spec.name} is set by the server only (1.4 §3 attribute rules)")


def check_client_change(key: AttrKey, state: int, *, adding: bool = False, deleting: bool = False) -> None:
    """Add / Modify / Delete Attribute permission per the 1.4 §3 rules tables."""
    read_only = Failure.READ_ONLY_ADD if adding else Failure.READ_ONLY
    if isinstance(key, tuple):
        if key[0] == SERVER_VENDOR:
            raise _bad(read_only, f"custom attribute {display_name(key)!r} belongs to the server (1.4 §3.39)")
        return
    spec = BY_TAG.get(key)
    if spec is None:
        raise _bad(Failure.INVALID_ATTRIBUTE, f"attribute 0x{key:06X} is not supported")
    allowed = spec.client_delete if deleting else spec.client_modify
    if not allowed:
        raise _bad(read_only, f"{spec.name} may not be {'deleted' if deleting else 'changed'} by a client")
    if not deleting and spec.modify_states is not None and state not in spec.modify_states:
        raise _bad(Failure.WRONG_STATE, f"{spec.name} may only be changed in state(s) "
                   + ", ".join(State.name(s) for s in sorted(spec.modify_states)) + f", object is {State.name(state)}")
