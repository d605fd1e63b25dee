"""Object operations: Create, Register, Get, Activate, Revoke, Destroy, Locate.

KMIP 1.4 §4.1, §4.3, §4.11, §4.19, §4.20, §4.21, §4.9 (2.1 §6.1.8, §6.1.43, §6.1.19,
§6.1.1, §6.1.44, §6.1.15, §6.1.28).  State changes go through :mod:`.lifecycle`.
"""

from __future__ import annotations

import hashlib
import uuid

from reference.kmip import attributes as attrs
from reference.kmip import objects
from reference.kmip.context import Context, add_instance, all_keys, date, instances, operation, set_single
from reference.kmip.failures import Failure, KmipFailure
from reference.kmip.lifecycle import DESTROYED_STATES, Event, advance_by_dates, initial_state, transition
from reference.kmip.store import Instance, ManagedObject
from reference.kmip.ttlv import Item, ItemType
from reference.kmip.vocab import (
    CryptographicAlgorithm,
    ObjectType,
    Operation,
    RevocationReasonCode,
    State,
    Tag,
    UsageMask,
    enum_name,
    enum_value,
)

T = ItemType
_AES_LENGTHS = frozenset({128, 192, 256})
_MAX_KEY_BITS = 4096
_COMPROMISE = frozenset({RevocationReasonCode.KEY_COMPROMISE, RevocationReasonCode.CA_COMPROMISE})
_DESTROYED_STORAGE = 0x4  # Storage Status Mask "Destroyed storage" (2.1 §12.3)


# ----------------------------------------------------------------------------- helpers
def new_uid(ctx: Context) -> str:
    """A version-4 UUID from the injected randomness (replayable)."""
    return str(uuid.UUID(bytes=ctx.random(16), version=4))


def _names_in_use(ctx: Context, names: list[Item], ignore: tuple[str, Item] | None = None) -> str | None:
    wanted = {str(n.find(Tag.NAME_VALUE).value) for n in names}  # type: ignore[union-attr]
    for other in ctx.store.all():
        if other.state in DESTROYED_STATES:
            # A destroyed object keeps its metadata for audit (1.4 §4.21) but no longer
            # holds its Name: a replacement key may take it (PyKMIP forgets destroyed
            # objects altogether; OASIS TL-M-2-14 and TL-M-2-21 reuse one name that way).
            continue
        for name in other.values(Tag.NAME):
            if ignore is not None and (other.uid, name) == ignore:
                continue  # the instance being replaced by Modify Attribute
            value = name.find(Tag.NAME_VALUE)
            if value is not None and value.value in wanted:
                return str(value.value)
    return None


def check_unique_names(ctx: Context, names: list[Item], failure: Failure, ignore: tuple[str, Item] | None = None) -> None:
    """1.4 §11.2/§11.4/§11.15/§11.16: a Name value may exist once on the server (also a
    second identical instance on the same object is refused: OASIS BL-M-8-21)."""
    clash = _names_in_use(ctx, names, ignore)
    if clash is not None:
        raise KmipFailure(failure, f"Name {clash!r} is already in use")


def _initial_instances(values: list[Item]) -> list[Instance]:
    out: list[Instance] = []
    counts: dict[attrs.AttrKey, int] = {}
    for value in values:
        attrs.check_initial(value)
        key = attrs.key_of(value)
        n = counts.get(key, 0)
        if n and not attrs.is_multi(key):
            raise KmipFailure(Failure.SINGLE_VALUED_NEW, f"{attrs.display_name(key)} may have one instance only")
        counts[key] = n + 1
        out.append(Instance(n, value))
    return out


def _new_object(ctx: Context, object_type: int, obj: Item, given: list[Item], *, generated: bool) -> ManagedObject:
    """A managed object with the client's attributes plus the ones the server sets."""
    check_unique_names(ctx, [v for v in given if v.tag == Tag.NAME], Failure.NON_UNIQUE_NAME_NEW)
    stored = _initial_instances(given)
    mo = ManagedObject(new_uid(ctx), object_type, State.PRE_ACTIVE, obj, tuple(stored))
    now = Item.date_time
    mo = set_single(mo, now(Tag.INITIAL_DATE, ctx.now))  # 1.4 §3.23
    mo = set_single(mo, now(Tag.LAST_CHANGE_DATE, ctx.now))  # §3.38
    # 2.1 §4.56: "SHOULD be generated as a SHA-256 hash of the Unique Identifier"
    mo = set_single(mo, Item.byte_string(Tag.SHORT_UNIQUE_IDENTIFIER, hashlib.sha256(mo.uid.encode()).digest()))
    if mo.value(Tag.FRESH) is None:
        mo = set_single(mo, Item.boolean(Tag.FRESH, True))  # §3.34 "SHALL be set to True when ... created"
    if generated and mo.value(Tag.RANDOM_NUMBER_GENERATOR) is None:
        # §3.44: mandatory for server-generated objects; the OS generator's details are
        # not known to us, so "the RNG Algorithm ... SHALL be set to Unspecified".
        mo = set_single(mo, Item.structure(Tag.RANDOM_NUMBER_GENERATOR, [
            Item.enumeration(Tag.RNG_ALGORITHM, enum_value("RNG Algorithm", "Unspecified"))]))
    digest = objects.digest(obj)
    if digest is not None:
        mo = add_instance(mo, digest)[0]  # §3.17
    if object_type in objects.KEY_BLOCK_OBJECTS:
        fmt = objects.block_attribute(obj, Tag.KEY_FORMAT_TYPE)
        if fmt is not None:  # 2.1 §4.26: the format the object is held in
            mo = set_single(mo, Item.enumeration(Tag.KEY_FORMAT_TYPE, int(fmt.value)))  # type: ignore[arg-type]
        if generated and mo.value(Tag.ORIGINAL_CREATION_DATE) is None:
            mo = set_single(mo, now(Tag.ORIGINAL_CREATION_DATE, ctx.now))  # §3.43 (generated by the server)
        sensitive = mo.value(Tag.SENSITIVE)
        extractable = mo.value(Tag.EXTRACTABLE)
        sens = bool(sensitive.value) if sensitive is not None else False  # §3.48 default False
        extr = bool(extractable.value) if extractable is not None else True  # §3.50 default True
        for tag, value in ((Tag.SENSITIVE, sens), (Tag.ALWAYS_SENSITIVE, sens),  # §3.49
                           (Tag.EXTRACTABLE, extr), (Tag.NEVER_EXTRACTABLE, not extr)):  # §3.51
            mo = set_single(mo, Item.boolean(tag, value))
    state = initial_state(date(mo, Tag.ACTIVATION_DATE), ctx.now)  # §3.22 transition 1
    state = advance_by_dates(state, date(mo, Tag.ACTIVATION_DATE), date(mo, Tag.DEACTIVATION_DATE), ctx.now)
    return ctx.store.put(mo.with_(state=state))


def _object_type(ctx: Context, payload: Item) -> int:
    return int(ctx.value(payload, Tag.OBJECT_TYPE, T.ENUMERATION, required=True))  # type: ignore[arg-type]


def _int_of(values: list[Item], tag: int) -> int | None:
    found = [v for v in values if v.tag == tag]
    return int(found[0].value) if found else None  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- Create
@operation(Operation.CREATE)
def create(ctx: Context, payload: Item) -> list[Item]:
    """1.4 §4.1: generate a new symmetric key (the only object type Create makes)."""
    object_type = _object_type(ctx, payload)
    if object_type != ObjectType.SYMMETRIC_KEY:
        raise KmipFailure(Failure.UNSUPPORTED_OBJECT_TYPE,
                          f"Create makes Symmetric Keys only, not {enum_name('Object Type', object_type)}")
    given = attrs.template_attributes(payload, ctx.version)
    algorithm = _int_of(given, Tag.CRYPTOGRAPHIC_ALGORITHM)
    length = _int_of(given, Tag.CRYPTOGRAPHIC_LENGTH)
    if algorithm is None or length is None:
        raise KmipFailure(Failure.INVALID_FIELD, "Create needs Cryptographic Algorithm and Cryptographic Length")
    if algorithm == CryptographicAlgorithm.AES and length not in _AES_LENGTHS:
        raise KmipFailure(Failure.INVALID_ATTRIBUTE_VALUE, f"AES keys are 128, 192 or 256 bits, not {length}")
    if length <= 0 or length % 8 or length > _MAX_KEY_BITS:
        raise KmipFailure(Failure.INVALID_ATTRIBUTE_VALUE, f"Cryptographic Length {length} is not a whole number of bytes up to {_MAX_KEY_BITS}")
    if _int_of(given, Tag.CRYPTOGRAPHIC_USAGE_MASK) is None:
        # §3.19 "SHALL always have a value", initially set by server or client: our policy
        # for a symmetric key without a mask is Encrypt | Decrypt.
        given.append(Item.integer(Tag.CRYPTOGRAPHIC_USAGE_MASK, UsageMask.ENCRYPT | UsageMask.DECRYPT))
    material = ctx.random(length // 8)
    mo = _new_object(ctx, object_type, objects.symmetric_key(material, algorithm, length), given, generated=True)
    ctx.placeholder = mo.uid
    return [Item.enumeration(Tag.OBJECT_TYPE, object_type), Item.text_string(Tag.UNIQUE_IDENTIFIER, mo.uid)]


# ----------------------------------------------------------------------------- Register
@operation(Operation.REGISTER)
def register(ctx: Context, payload: Item) -> list[Item]:
    object_type = _object_type(ctx, payload)
    if object_type == ObjectType.TEMPLATE:
        raise KmipFailure(Failure.UNSUPPORTED_OBJECT_TYPE, "Template objects (deprecated, 1.4 §2.2.6) are not supported")
    candidates = [c for c in payload.items if c.tag in objects.OBJECT_TAGS.values() or c.tag == Tag.TEMPLATE]
    if len(candidates) != 1:
        raise KmipFailure(Failure.INVALID_MESSAGE, "Register needs exactly one managed object in the payload")
    obj = candidates[0]
    objects.check_registered(object_type, obj)
    given = attrs.template_attributes(payload, ctx.version)
    for tag in (Tag.CRYPTOGRAPHIC_ALGORITHM, Tag.CRYPTOGRAPHIC_LENGTH):
        from_block = objects.block_attribute(obj, tag)
        stated = [v for v in given if v.tag == tag]
        if from_block is not None and stated and stated[0].value != from_block.value:
            raise KmipFailure(Failure.INVALID_FIELD, f"{attrs.display_name(tag)} differs between the attributes and the Key Block")
        if from_block is not None and not stated and from_block.type is attrs.BY_TAG[tag].type:
            given.append(Item(tag, from_block.type, from_block.value))
    mo = _new_object(ctx, object_type, obj, given, generated=False)
    ctx.placeholder = mo.uid
    return [Item.text_string(Tag.UNIQUE_IDENTIFIER, mo.uid)]


# ----------------------------------------------------------------------------- Get
@operation(Operation.GET)
def get(ctx: Context, payload: Item) -> list[Item]:
    mo = ctx.load(ctx.uid(payload))
    if payload.find(Tag.KEY_WRAPPING_SPECIFICATION) is not None:
        raise KmipFailure(Failure.FEATURE_NOT_SUPPORTED, "key wrapping is not supported by this server")
    fmt = ctx.value(payload, Tag.KEY_FORMAT_TYPE, T.ENUMERATION)
    if ctx.field(payload, Tag.KEY_COMPRESSION_TYPE, T.ENUMERATION) is not None and mo.object_type == ObjectType.SYMMETRIC_KEY:
        raise KmipFailure(Failure.FEATURE_NOT_SUPPORTED, "Key Compression Type applies to elliptic curve keys only")
    if mo.state in DESTROYED_STATES or mo.object is None:
        raise KmipFailure(Failure.KEY_MATERIAL_DESTROYED, "the object has been destroyed; only its attributes remain")
    sensitive, extractable = mo.value(Tag.SENSITIVE), mo.value(Tag.EXTRACTABLE)
    if extractable is not None and extractable.value is False:
        raise KmipFailure(Failure.NOT_EXTRACTABLE, "the object is not Extractable (1.4 §3.50)")
    if sensitive is not None and sensitive.value is True:
        raise KmipFailure(Failure.SENSITIVE, "a Sensitive object is only served wrapped (1.4 §3.48); wrapping is not supported")
    obj = objects.in_format(mo.object, mo.object_type, int(fmt) if fmt is not None else None)  # type: ignore[arg-type]
    fresh = mo.value(Tag.FRESH)
    if fresh is not None and fresh.value is True:  # §3.34 "False as soon as ... served to a client"
        ctx.store.put(set_single(mo, Item.boolean(Tag.FRESH, False)))
    return [Item.enumeration(Tag.OBJECT_TYPE, mo.object_type), Item.text_string(Tag.UNIQUE_IDENTIFIER, mo.uid), obj]


# ----------------------------------------------------------------------------- state changes
def _uid_response(mo: ManagedObject) -> list[Item]:
    return [Item.text_string(Tag.UNIQUE_IDENTIFIER, mo.uid)]


@operation(Operation.ACTIVATE)
def activate(ctx: Context, payload: Item) -> list[Item]:
    """1.4 §4.19: Pre-Active -> Active, Activation Date := now."""
    mo = ctx.load(ctx.uid(payload))
    state = transition(mo.state, Event.ACTIVATE)
    mo = set_single(mo.with_(state=state), Item.date_time(Tag.ACTIVATION_DATE, ctx.now))
    return _uid_response(ctx.save(mo))


@operation(Operation.REVOKE)
def revoke(ctx: Context, payload: Item) -> list[Item]:
    """1.4 §4.20: compromise -> Compromised (+ Compromise Date); otherwise Deactivated."""
    mo = ctx.load(ctx.uid(payload))
    reason = ctx.field(payload, Tag.REVOCATION_REASON, T.STRUCTURE, required=True)
    assert reason is not None
    code = ctx.value(reason, Tag.REVOCATION_REASON_CODE, T.ENUMERATION, required=True)
    if enum_name("Revocation Reason Code", int(code)).startswith("0x"):  # type: ignore[arg-type]
        raise KmipFailure(Failure.INVALID_FIELD, f"Revocation Reason Code 0x{code:08X} is not recognized (1.4 §11.21)")
    occurrence = ctx.field(payload, Tag.COMPROMISE_OCCURRENCE_DATE, T.DATE_TIME)
    compromised = code in _COMPROMISE
    if occurrence is not None and not compromised:
        raise KmipFailure(Failure.INVALID_FIELD, "Compromise Occurrence Date SHALL NOT be given for this Revocation Reason (1.4 §4.20)")
    mo = mo.with_(state=transition(mo.state, Event.REVOKE_COMPROMISE if compromised else Event.REVOKE_OTHER))
    mo = set_single(mo, Item.structure(Tag.REVOCATION_REASON, reason.items))
    if compromised:
        mo = set_single(mo, Item.date_time(Tag.COMPROMISE_DATE, ctx.now))
        when = int(occurrence.value) if occurrence is not None else date(mo, Tag.INITIAL_DATE)  # type: ignore[arg-type]
        if when is not None:  # "SHOULD be set to the Initial Date" when not provided
            mo = set_single(mo, Item.date_time(Tag.COMPROMISE_OCCURRENCE_DATE, when))
    else:
        mo = set_single(mo, Item.date_time(Tag.DEACTIVATION_DATE, ctx.now))
    return _uid_response(ctx.save(mo))


@operation(Operation.DESTROY)
def destroy(ctx: Context, payload: Item) -> list[Item]:
    """1.4 §4.21: the key material goes, the metadata stays (Destroy Date set)."""
    mo = ctx.load(ctx.uid(payload))
    state = transition(mo.state, Event.DESTROY)
    mo = set_single(mo.with_(state=state, object=None), Item.date_time(Tag.DESTROY_DATE, ctx.now))
    return _uid_response(ctx.save(mo))


# ----------------------------------------------------------------------------- Locate
def _structure_matches(wanted: Item, have: Item) -> bool:
    """Structures match when every field given in the request matches (1.4 §4.9)."""
    if wanted.type is not T.STRUCTURE:
        return wanted.type is have.type and wanted.value == have.value
    if have.type is not T.STRUCTURE:
        return False
    return all(any(_structure_matches(w, h) for h in have.find_all(w.tag)) for w in wanted.items)


def _matches(mo: ManagedObject, key: attrs.AttrKey, wanted: list[Item]) -> bool:
    have = [i.item for i in instances(mo, key)]
    if not have:
        return False
    first = wanted[0]
    if first.type is T.DATE_TIME and len(wanted) == 2:  # a range, limits included
        low, high = sorted(int(w.value) for w in wanted)  # type: ignore[arg-type]
        return any(low <= int(h.value) <= high for h in have)  # type: ignore[arg-type]
    if key == Tag.CRYPTOGRAPHIC_USAGE_MASK:  # requested bits must all be set
        mask = int(first.value)  # type: ignore[arg-type]
        return any(int(h.value) & mask == mask for h in have)  # type: ignore[arg-type]
    return all(any(_structure_matches(w, h) for h in have) for w in wanted)


@operation(Operation.LOCATE)
def locate(ctx: Context, payload: Item) -> list[Item]:
    maximum = ctx.value(payload, Tag.MAXIMUM_ITEMS, T.INTEGER)
    offset = ctx.value(payload, Tag.OFFSET_ITEMS, T.INTEGER, 0)
    storage = ctx.value(payload, Tag.STORAGE_STATUS_MASK, T.INTEGER, 1)
    if (maximum is not None and maximum < 0) or offset < 0:  # type: ignore[operator]
        raise KmipFailure(Failure.INVALID_FIELD, "Maximum Items and Offset Items must not be negative")
    if ctx.v2:
        values = [attrs.from_v2(v) for a in payload.find_all(Tag.ATTRIBUTES) for v in a.items]
    else:
        values = [attrs.from_v1(a, ctx.version)[0] for a in payload.find_all(Tag.ATTRIBUTE)]
    criteria: dict[attrs.AttrKey, list[Item]] = {}
    for value in values:
        criteria.setdefault(attrs.key_of(value), []).append(value)
    # Destroyed objects keep their metadata here; they are searched when the request asks
    # for them: a State criterion, or Storage Status Mask "Destroyed storage" (2.x).
    want_destroyed = bool(storage & _DESTROYED_STORAGE) or Tag.STATE in criteria  # type: ignore[operator]
    found = []
    for mo in ctx.store.all():  # most recently created first
        mo = ctx.refresh(mo)
        if mo.state in DESTROYED_STATES and not want_destroyed:
            continue
        if all(_matches(mo, key, wanted) for key, wanted in criteria.items()):
            found.append(mo.uid)
    page = found[offset:]  # type: ignore[misc]
    if maximum is not None:
        page = page[:maximum]
    # 1.4 §4.9: one returned -> the ID Placeholder; several matched -> emptied.  (None
    # returned empties it too, so a batched Get cannot act on an older object.)
    ctx.placeholder = page[0] if len(page) == 1 else None
    out = []
    if ctx.version >= (1, 3) and (maximum is not None or offset):
        out.append(Item.integer(Tag.LOCATED_ITEMS, len(found)))
    out += [Item.text_string(Tag.UNIQUE_IDENTIFIER, uid) for uid in page]
    return out


__all__ = ["new_uid", "check_unique_names", "all_keys"]
