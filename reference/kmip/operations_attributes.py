"""Attribute operations: Get Attributes, Get Attribute List, Add / Modify / Delete Attribute.

KMIP 1.4 §4.12-§4.16 (Attribute structures with Attribute Index) and 2.1 §6.1.20,
§6.1.21, §6.1.2, §6.1.34, §6.1.13 (Attribute Reference, New / Current Attribute).
"""

from __future__ import annotations

from reference.kmip import attributes as attrs
from reference.kmip.context import Context, add_instance, all_keys, instances, operation
from reference.kmip.failures import Failure, KmipFailure
from reference.kmip.operations_objects import check_unique_names
from reference.kmip.store import Instance, ManagedObject
from reference.kmip.ttlv import Item, ItemType
from reference.kmip.vocab import Operation, Tag

T = ItemType


def _requested_keys(ctx: Context, payload: Item) -> list[attrs.AttrKey] | None:
    """The attributes a Get Attributes request names (None: all).  Names the server does
    not know are simply absent from the answer: "If a specified attribute does not exist
    (i.e., has no value), then it SHALL NOT be present in the returned response" (1.4 §4.12)."""
    keys: list[attrs.AttrKey] = []
    if ctx.v2:
        refs = payload.find_all(Tag.ATTRIBUTE_REFERENCE)
        if not refs:
            return None
        for ref in refs:
            try:
                key = attrs.key_from_reference(ref)
            except KmipFailure as exc:
                if exc.failure is Failure.INVALID_ATTRIBUTE:
                    continue
                raise
            if key in keys:
                raise KmipFailure(Failure.INVALID_MESSAGE, "the same Attribute Reference is present more than once (2.1 §6.1.20)")
            keys.append(key)
        return keys
    names = payload.find_all(Tag.ATTRIBUTE_NAME)
    if not names:
        return None
    seen = set()
    for name in names:
        if name.type is not T.TEXT_STRING:
            raise KmipFailure(Failure.INVALID_MESSAGE, "Attribute Name must be a Text String")
        if name.value in seen:
            raise KmipFailure(Failure.INVALID_MESSAGE, f"Attribute Name {name.value!r} is present more than once (1.4 §11.13)")
        seen.add(name.value)
        try:
            keys.append(attrs.key_from_name(str(name.value), ctx.version))
        except KmipFailure:
            continue
    return keys


@operation(Operation.GET_ATTRIBUTES)
def get_attributes(ctx: Context, payload: Item) -> list[Item]:
    mo = ctx.load(ctx.uid(payload))
    keys = _requested_keys(ctx, payload)
    if keys is None:
        keys = all_keys(mo)
    keys = [k for k in keys if attrs.visible(k, ctx.version)]
    found = [inst for key in keys for inst in sorted(instances(mo, key), key=lambda i: i.index)]
    uid = Item.text_string(Tag.UNIQUE_IDENTIFIER, mo.uid)
    if ctx.v2:
        return [uid, Item.structure(Tag.ATTRIBUTES, [i.item for i in found])]
    return [uid, *(attrs.to_v1(i.item, i.index) for i in found)]


@operation(Operation.GET_ATTRIBUTE_LIST)
def get_attribute_list(ctx: Context, payload: Item) -> list[Item]:
    mo = ctx.load(ctx.uid(payload))
    keys = [k for k in all_keys(mo) if attrs.visible(k, ctx.version)]
    uid = Item.text_string(Tag.UNIQUE_IDENTIFIER, mo.uid)
    if ctx.v2:
        return [uid, *(attrs.reference_v2(k) for k in keys)]
    return [uid, *(Item.text_string(Tag.ATTRIBUTE_NAME, attrs.display_name(k)) for k in keys)]


# ----------------------------------------------------------------------------- changes
def _store_change(ctx: Context, mo: ManagedObject) -> ManagedObject:
    # Changing Activation / Deactivation Date may move the state (1.4 §3.22 items 4, 6).
    return ctx.refresh(ctx.save(mo))


def _check_name(ctx: Context, mo: ManagedObject, value: Item, replacing: Instance | None = None) -> None:
    if value.tag == Tag.NAME:
        ignore = (mo.uid, replacing.item) if replacing is not None else None
        check_unique_names(ctx, [value], Failure.NON_UNIQUE_NAME, ignore)


@operation(Operation.ADD_ATTRIBUTE)
def add_attribute(ctx: Context, payload: Item) -> list[Item]:
    mo = ctx.load(ctx.uid(payload))
    if ctx.v2:
        container = ctx.field(payload, Tag.NEW_ATTRIBUTE, T.STRUCTURE, required=True)
        value = attrs.single_child(container, "New Attribute")  # type: ignore[arg-type]
    else:
        attribute = ctx.field(payload, Tag.ATTRIBUTE, T.STRUCTURE, required=True)
        value, index = attrs.from_v1(attribute, ctx.version)  # type: ignore[arg-type]
        if index is not None:
            raise KmipFailure(Failure.INDEX_IN_NEW_ATTRIBUTE, "Add Attribute SHALL NOT specify an Attribute Index (1.4 §4.14)")
    key = attrs.key_of(value)
    attrs.check_client_change(key, mo.state, adding=True)
    if instances(mo, key) and not attrs.is_multi(key):
        raise KmipFailure(Failure.SINGLE_VALUED, f"{attrs.display_name(key)} already has its single instance")
    _check_name(ctx, mo, value)
    mo, index = add_instance(mo, value)
    mo = _store_change(ctx, mo)
    uid = Item.text_string(Tag.UNIQUE_IDENTIFIER, mo.uid)
    return [uid] if ctx.v2 else [uid, attrs.to_v1(value, index)]


def _v2_target(ctx: Context, mo: ManagedObject, current: Item | None, key: attrs.AttrKey, *, modifying: bool) -> list[Instance]:
    present = instances(mo, key)
    if current is not None:
        wanted = attrs.single_child(current, "Current Attribute")
        if attrs.key_of(wanted) != key:
            raise KmipFailure(Failure.INVALID_FIELD, "Current Attribute and New Attribute name different attributes")
        match = [i for i in present if i.item == wanted]
        if not present:
            raise KmipFailure(Failure.ATTRIBUTE_NOT_FOUND_MODIFY if modifying else Failure.ATTRIBUTE_NOT_FOUND,
                              f"the object has no {attrs.display_name(key)}")
        if not match:
            raise KmipFailure(Failure.ATTRIBUTE_INSTANCE_NOT_FOUND, f"no {attrs.display_name(key)} instance has that value")
        return match[:1]
    if not present:
        raise KmipFailure(Failure.ATTRIBUTE_NOT_FOUND_MODIFY if modifying else Failure.ATTRIBUTE_NOT_FOUND,
                          f"the object has no {attrs.display_name(key)}")
    if modifying and len(present) > 1:
        raise KmipFailure(Failure.INVALID_FIELD, f"{attrs.display_name(key)} has several instances; give Current Attribute (2.1 §6.1.34)")
    return present


def _v1_target(mo: ManagedObject, key: attrs.AttrKey, index: int | None, *, modifying: bool) -> Instance:
    present = instances(mo, key)
    if not present:
        raise KmipFailure(Failure.ATTRIBUTE_NOT_FOUND_MODIFY if modifying else Failure.ATTRIBUTE_NOT_FOUND,
                          f"the object has no {attrs.display_name(key)}")
    wanted = index or 0  # "If no Attribute Index is specified ... assumed to be 0" (1.4 §4.15, §4.16)
    for inst in present:
        if inst.index == wanted:
            return inst
    raise KmipFailure(Failure.ATTRIBUTE_INSTANCE_NOT_FOUND, f"{attrs.display_name(key)} has no instance with index {wanted}")


def _replace(mo: ManagedObject, old: Instance, value: Item) -> ManagedObject:
    return mo.with_(attributes=tuple(Instance(i.index, value) if i == old else i for i in mo.attributes))


@operation(Operation.MODIFY_ATTRIBUTE)
def modify_attribute(ctx: Context, payload: Item) -> list[Item]:
    mo = ctx.load(ctx.uid(payload))
    if ctx.v2:
        container = ctx.field(payload, Tag.NEW_ATTRIBUTE, T.STRUCTURE, required=True)
        value = attrs.single_child(container, "New Attribute")  # type: ignore[arg-type]
        key = attrs.key_of(value)
        attrs.check_client_change(key, mo.state)
        target = _v2_target(ctx, mo, ctx.field(payload, Tag.CURRENT_ATTRIBUTE, T.STRUCTURE), key, modifying=True)[0]
    else:
        attribute = ctx.field(payload, Tag.ATTRIBUTE, T.STRUCTURE, required=True)
        value, index = attrs.from_v1(attribute, ctx.version)  # type: ignore[arg-type]
        key = attrs.key_of(value)
        attrs.check_client_change(key, mo.state)
        target = _v1_target(mo, key, index, modifying=True)
    _check_name(ctx, mo, value, replacing=target)
    mo = _store_change(ctx, _replace(mo, target, value))
    uid = Item.text_string(Tag.UNIQUE_IDENTIFIER, mo.uid)
    return [uid] if ctx.v2 else [uid, attrs.to_v1(value, target.index)]


@operation(Operation.DELETE_ATTRIBUTE)
def delete_attribute(ctx: Context, payload: Item) -> list[Item]:
    mo = ctx.load(ctx.uid(payload))
    if ctx.v2:
        current = ctx.field(payload, Tag.CURRENT_ATTRIBUTE, T.STRUCTURE)
        reference = payload.find(Tag.ATTRIBUTE_REFERENCE)
        if current is not None:
            key = attrs.key_of(attrs.single_child(current, "Current Attribute"))
        elif reference is not None:
            key = attrs.key_from_reference(reference)
        else:
            raise KmipFailure(Failure.INVALID_MESSAGE, "Delete Attribute needs Current Attribute or Attribute Reference")
        attrs.check_client_change(key, mo.state, deleting=True)
        # 2.1 §6.1.13: with only an Attribute Reference, all instances are deleted.
        targets = _v2_target(ctx, mo, current, key, modifying=False)
    else:
        name = ctx.value(payload, Tag.ATTRIBUTE_NAME, T.TEXT_STRING, required=True)
        index = ctx.value(payload, Tag.ATTRIBUTE_INDEX, T.INTEGER)
        key = attrs.key_from_name(str(name), ctx.version)
        attrs.check_client_change(key, mo.state, deleting=True)
        targets = [_v1_target(mo, key, index, modifying=False)]  # type: ignore[arg-type]
    mo = _store_change(ctx, mo.with_(attributes=tuple(i for i in mo.attributes if i not in targets)))
    uid = Item.text_string(Tag.UNIQUE_IDENTIFIER, mo.uid)
    return [uid] if ctx.v2 else [uid, attrs.to_v1(targets[0].item, targets[0].index)]
