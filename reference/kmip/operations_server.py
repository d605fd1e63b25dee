"""Server-level and cryptographic operations: Query, Discover Versions, Interop, Encrypt,
Decrypt (KMIP 1.4 §4.25, §4.26, §4.29, §4.30; 2.1 §6.1.40, §6.1.16, §6.1.26, §6.1.17,
§6.1.11)."""

from __future__ import annotations

from reference.kmip import crypto, objects
from reference.kmip.context import HANDLERS, Context, date, operation, set_single
from reference.kmip.failures import Failure, KmipFailure
from reference.kmip.store import ManagedObject
from reference.kmip.ttlv import Item, ItemType
from reference.kmip.vocab import ObjectType, Operation, QueryFunction, State, Tag, UsageLimitsUnit, UsageMask

T = ItemType

# Object types Register accepts (Create makes Symmetric Keys), with the version each appeared in.
_OBJECT_TYPES = (
    (ObjectType.CERTIFICATE, (1, 0)), (ObjectType.SYMMETRIC_KEY, (1, 0)), (ObjectType.PUBLIC_KEY, (1, 0)),
    (ObjectType.PRIVATE_KEY, (1, 0)), (ObjectType.SPLIT_KEY, (1, 0)), (ObjectType.SECRET_DATA, (1, 0)),
    (ObjectType.OPAQUE_OBJECT, (1, 0)), (ObjectType.PGP_KEY, (1, 2)), (ObjectType.CERTIFICATE_REQUEST, (2, 0)),
)


def operations_for(version: tuple[int, int]) -> list[int]:
    return sorted(op for op, (_, since) in HANDLERS.items() if version >= since)


@operation(Operation.QUERY)
def query(ctx: Context, payload: Item) -> list[Item]:
    functions = set()
    for f in payload.find_all(Tag.QUERY_FUNCTION):
        if f.type is not T.ENUMERATION:
            raise KmipFailure(Failure.INVALID_MESSAGE, "Query Function must be an Enumeration")
        functions.add(f.value)
    out: list[Item] = []
    # Response order follows the payload table (1.4 Table 239): Operation*, Object Type*,
    # Vendor Identification, Server Information; functions we have nothing for add nothing.
    if QueryFunction.OPERATIONS in functions:
        out += [Item.enumeration(Tag.OPERATION, op) for op in operations_for(ctx.version)]
    if QueryFunction.OBJECTS in functions:
        out += [Item.enumeration(Tag.OBJECT_TYPE, t) for t, since in _OBJECT_TYPES if ctx.version >= since]
    if QueryFunction.SERVER_INFORMATION in functions:
        out.append(Item.text_string(Tag.VENDOR_IDENTIFICATION, ctx.vendor))
        out.append(Item.structure(Tag.SERVER_INFORMATION, []))
    return out


@operation(Operation.DISCOVER_VERSIONS, since=(1, 1))
def discover_versions(ctx: Context, payload: Item) -> list[Item]:
    """1.4 §4.26: the versions both sides support, in the server's order of preference."""
    offered = []
    for pv in payload.find_all(Tag.PROTOCOL_VERSION):
        major = ctx.value(pv, Tag.PROTOCOL_VERSION_MAJOR, T.INTEGER, required=True)
        minor = ctx.value(pv, Tag.PROTOCOL_VERSION_MINOR, T.INTEGER, required=True)
        offered.append((major, minor))
    chosen = [v for v in ctx.server_versions if not offered or v in offered]
    return [version_item(v) for v in chosen]


def version_item(version: tuple[int, int]) -> Item:
    return Item.structure(Tag.PROTOCOL_VERSION, [Item.integer(Tag.PROTOCOL_VERSION_MAJOR, version[0]),
                                                 Item.integer(Tag.PROTOCOL_VERSION_MINOR, version[1])])


@operation(Operation.INTEROP, since=(2, 0))
def interop(ctx: Context, payload: Item) -> list[Item]:
    """2.1 §6.1.26: Begin / End / Reset of a test case; this server keeps no per-test state."""
    ctx.field(payload, Tag.INTEROP_FUNCTION, T.ENUMERATION, required=True)
    return []


# ----------------------------------------------------------------------------- Encrypt / Decrypt
def _params(ctx: Context, mo: ManagedObject, payload: Item) -> crypto.CipherSpec:
    """Cryptographic Parameters of the request, else of the key (1.4 §4.29 "If omitted ...
    the Cryptographic Parameters associated with the key")."""
    given = ctx.field(payload, Tag.CRYPTOGRAPHIC_PARAMETERS, T.STRUCTURE)
    params = given if given is not None else mo.value(Tag.CRYPTOGRAPHIC_PARAMETERS)
    algorithm = mo.value(Tag.CRYPTOGRAPHIC_ALGORITHM)

    def field(tag: int, kind: ItemType) -> object:
        return ctx.value(params, tag, kind) if params is not None else None

    return crypto.CipherSpec(
        algorithm=int(algorithm.value) if algorithm is not None else None,  # type: ignore[arg-type]
        mode=field(Tag.BLOCK_CIPHER_MODE, T.ENUMERATION),  # type: ignore[arg-type]
        padding=field(Tag.PADDING_METHOD, T.ENUMERATION),  # type: ignore[arg-type]
        tag_length=field(Tag.TAG_LENGTH, T.INTEGER),  # type: ignore[arg-type]
        iv_length=field(Tag.IV_LENGTH, T.INTEGER),  # type: ignore[arg-type]
        random_iv=field(Tag.RANDOM_IV, T.BOOLEAN),  # type: ignore[arg-type]
    )


def _usable_key(ctx: Context, payload: Item, mask_bit: int, what: str) -> tuple[ManagedObject, bytes]:
    mo = ctx.load(ctx.uid(payload))
    if mo.object_type in (ObjectType.PUBLIC_KEY, ObjectType.PRIVATE_KEY):
        # A valid request this server does not implement (asymmetric cryptography).
        raise KmipFailure(Failure.UNSUPPORTED_CRYPTOGRAPHIC_PARAMETERS, f"{what} with asymmetric keys is not supported")
    if mo.object_type != ObjectType.SYMMETRIC_KEY:
        raise KmipFailure(Failure.INVALID_OBJECT_TYPE, f"{what} needs a Symmetric Key")
    # 1.4 §3.22: only an Active object may be used; Deactivated/Compromised keys "SHOULD
    # only be used to process ... when special permission is granted" - we grant none.
    if mo.state != State.ACTIVE:
        raise KmipFailure(Failure.WRONG_STATE, f"{what} needs an Active key, this one is {State.name(mo.state)}")
    mask = mo.value(Tag.CRYPTOGRAPHIC_USAGE_MASK)
    if mask is None or not int(mask.value) & mask_bit:  # type: ignore[arg-type]
        raise KmipFailure(Failure.INCOMPATIBLE_USAGE_MASK, f"the key's Cryptographic Usage Mask does not allow {what} (1.4 §3.19)")
    if mask_bit == UsageMask.ENCRYPT:
        stop = date(mo, Tag.PROTECT_STOP_DATE)
        if stop is not None and ctx.now > stop:  # 1.4 §3.26
            raise KmipFailure(Failure.WRONG_STATE, "the Protect Stop Date has passed: the key no longer protects data")
    else:
        start = date(mo, Tag.PROCESS_START_DATE)
        if start is not None and ctx.now < start:  # 1.4 §3.25
            raise KmipFailure(Failure.WRONG_STATE, "the Process Start Date has not been reached")
    material = objects.key_material(mo.object)
    if material is None:
        raise KmipFailure(Failure.KEY_VALUE_NOT_PRESENT, "the key material is not available in plain form")
    return mo, material


def _consume_usage(ctx: Context, mo: ManagedObject, nbytes: int) -> None:
    """Usage Limits (1.4 §3.21): the server counts down Usage Limits Count for each use
    that applies protection (Unit Byte: bytes of Data; Unit Object: one per operation)."""
    limits = mo.value(Tag.USAGE_LIMITS)
    if limits is None:
        return
    total = ctx.value(limits, Tag.USAGE_LIMITS_TOTAL, T.LONG_INTEGER)
    count = ctx.value(limits, Tag.USAGE_LIMITS_COUNT, T.LONG_INTEGER, total)
    unit = ctx.value(limits, Tag.USAGE_LIMITS_UNIT, T.ENUMERATION)
    if count is None:
        return
    need = nbytes if unit == UsageLimitsUnit.BYTE else 1
    if need > count:  # type: ignore[operator]
        raise KmipFailure(Failure.USAGE_LIMIT_EXCEEDED, f"the key's Usage Limits allow {count} more, this use needs {need}")
    fields = [Item.long_integer(Tag.USAGE_LIMITS_TOTAL, int(total if total is not None else count)),  # type: ignore[arg-type]
              Item.long_integer(Tag.USAGE_LIMITS_COUNT, int(count) - need)]  # type: ignore[arg-type]
    if unit is not None:
        fields.append(Item.enumeration(Tag.USAGE_LIMITS_UNIT, int(unit)))  # type: ignore[arg-type]
    ctx.store.put(set_single(mo, Item.structure(Tag.USAGE_LIMITS, fields)))


def _streaming(ctx: Context, payload: Item) -> None:
    for tag in (Tag.CORRELATION_VALUE, Tag.INIT_INDICATOR, Tag.FINAL_INDICATOR):
        if payload.find(tag) is not None:
            raise KmipFailure(Failure.FEATURE_NOT_SUPPORTED, "streaming cryptographic operations are not supported")


@operation(Operation.ENCRYPT, since=(1, 2))
def encrypt(ctx: Context, payload: Item) -> list[Item]:
    mo, key = _usable_key(ctx, payload, UsageMask.ENCRYPT, "Encrypt")
    _streaming(ctx, payload)
    data = ctx.value(payload, Tag.DATA, T.BYTE_STRING, required=True)
    iv = ctx.value(payload, Tag.IV_COUNTER_NONCE, T.BYTE_STRING)
    aad = ctx.value(payload, Tag.AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA, T.BYTE_STRING)
    _consume_usage(ctx, mo, len(data))  # type: ignore[arg-type]
    sealed = crypto.encrypt(key, _params(ctx, mo, payload), data, iv, aad, ctx.random)  # type: ignore[arg-type]
    out = [Item.text_string(Tag.UNIQUE_IDENTIFIER, mo.uid), Item.byte_string(Tag.DATA, sealed.data)]
    if sealed.iv is not None:
        out.append(Item.byte_string(Tag.IV_COUNTER_NONCE, sealed.iv))
    if sealed.tag is not None:
        out.append(Item.byte_string(Tag.AUTHENTICATED_ENCRYPTION_TAG, sealed.tag))
    return out


@operation(Operation.DECRYPT, since=(1, 2))
def decrypt(ctx: Context, payload: Item) -> list[Item]:
    mo, key = _usable_key(ctx, payload, UsageMask.DECRYPT, "Decrypt")
    _streaming(ctx, payload)
    data = ctx.value(payload, Tag.DATA, T.BYTE_STRING, required=True)
    iv = ctx.value(payload, Tag.IV_COUNTER_NONCE, T.BYTE_STRING)
    aad = ctx.value(payload, Tag.AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA, T.BYTE_STRING)
    tag = ctx.value(payload, Tag.AUTHENTICATED_ENCRYPTION_TAG, T.BYTE_STRING)
    plain = crypto.decrypt(key, _params(ctx, mo, payload), data, iv, aad, tag)  # type: ignore[arg-type]
    return [Item.text_string(Tag.UNIQUE_IDENTIFIER, mo.uid), Item.byte_string(Tag.DATA, plain)]
