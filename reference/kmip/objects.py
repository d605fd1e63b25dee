"""Managed object structures (KMIP 1.4 §2.2, 2.1 §2): building, checking, reading keys.

The server stores the object structure a client registered as it came (so Get returns
"the key ... in the same format that was used when the key was registered", 1.4 §4.11)
and builds Symmetric Key structures for keys it creates (Key Format Type Raw).
"""

from __future__ import annotations

import hashlib

from reference.kmip.failures import Failure, KmipFailure
from reference.kmip.ttlv import Item, ItemType
from reference.kmip.vocab import HashingAlgorithm, KeyFormatType, ObjectType, Tag, enum_name

# Object Type -> tag of the object structure (1.4 §2.2 / 2.1 §2).
OBJECT_TAGS: dict[int, int] = {
    ObjectType.CERTIFICATE: Tag.CERTIFICATE,
    ObjectType.SYMMETRIC_KEY: Tag.SYMMETRIC_KEY,
    ObjectType.PUBLIC_KEY: Tag.PUBLIC_KEY,
    ObjectType.PRIVATE_KEY: Tag.PRIVATE_KEY,
    ObjectType.SPLIT_KEY: Tag.SPLIT_KEY,
    ObjectType.SECRET_DATA: Tag.SECRET_DATA,
    ObjectType.OPAQUE_OBJECT: Tag.OPAQUE_OBJECT,
    ObjectType.PGP_KEY: Tag.PGP_KEY,
    ObjectType.CERTIFICATE_REQUEST: Tag.CERTIFICATE_REQUEST,
}
# Objects whose payload is a Key Block (1.4 §2.1.3).
KEY_BLOCK_OBJECTS = frozenset({ObjectType.SYMMETRIC_KEY, ObjectType.PUBLIC_KEY, ObjectType.PRIVATE_KEY,
                               ObjectType.SPLIT_KEY, ObjectType.SECRET_DATA, ObjectType.PGP_KEY})
# Formats whose Key Material is the key's bytes as such (1.4 §2.1.4: Byte String).
_BYTE_FORMATS = frozenset({KeyFormatType.RAW, KeyFormatType.OPAQUE})


def symmetric_key(material: bytes, algorithm: int, length: int) -> Item:
    """A Symmetric Key with a Raw Key Block (1.4 §2.2.2, §2.1.3, §2.1.4)."""
    return Item.structure(Tag.SYMMETRIC_KEY, [
        Item.structure(Tag.KEY_BLOCK, [
            Item.enumeration(Tag.KEY_FORMAT_TYPE, KeyFormatType.RAW),
            Item.structure(Tag.KEY_VALUE, [Item.byte_string(Tag.KEY_MATERIAL, material)]),
            Item.enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, algorithm),
            Item.integer(Tag.CRYPTOGRAPHIC_LENGTH, length),
        ]),
    ])


def check_registered(object_type: int, obj: Item) -> None:
    """The object a Register request carries must be of the stated type (1.4 §11.4)."""
    wanted = OBJECT_TAGS.get(object_type)
    if wanted is None:
        raise KmipFailure(Failure.UNSUPPORTED_OBJECT_TYPE,
                          f"Object Type {enum_name('Object Type', object_type)} cannot be registered here")
    if obj.tag != wanted or obj.type is not ItemType.STRUCTURE:
        raise KmipFailure(Failure.INVALID_FIELD, "Object Type does not match the type of the object provided")
    if object_type in KEY_BLOCK_OBJECTS:
        block = obj.find(Tag.KEY_BLOCK)
        if block is None or block.type is not ItemType.STRUCTURE:
            raise KmipFailure(Failure.INVALID_MESSAGE, "the object has no Key Block")
        fmt = block.find(Tag.KEY_FORMAT_TYPE)
        if fmt is None or fmt.type is not ItemType.ENUMERATION:
            raise KmipFailure(Failure.INVALID_MESSAGE, "the Key Block has no Key Format Type")
        if block.find(Tag.KEY_VALUE) is None:
            raise KmipFailure(Failure.INVALID_MESSAGE, "the Key Block has no Key Value")


def key_block(obj: Item) -> Item | None:
    block = obj.find(Tag.KEY_BLOCK)
    return block if block is not None and block.type is ItemType.STRUCTURE else None


def block_attribute(obj: Item, tag: int) -> Item | None:
    """Cryptographic Algorithm / Length as the Key Block states them."""
    block = key_block(obj)
    return block.find(tag) if block is not None else None


def key_material(obj: Item | None) -> bytes | None:
    """The plain key bytes of a Key Block object, or None (destroyed, wrapped, structured)."""
    if obj is None:
        return None
    block = key_block(obj)
    if block is None or block.find(Tag.KEY_WRAPPING_DATA) is not None:
        return None
    value, fmt = block.find(Tag.KEY_VALUE), block.find(Tag.KEY_FORMAT_TYPE)
    if value is None or value.type is not ItemType.STRUCTURE or fmt is None:
        return None
    material = value.find(Tag.KEY_MATERIAL)
    if material is None:
        return None
    if fmt.value in _BYTE_FORMATS and material.type is ItemType.BYTE_STRING:
        return bytes(material.value)  # type: ignore[arg-type]
    if fmt.value == KeyFormatType.TRANSPARENT_SYMMETRIC_KEY and material.type is ItemType.STRUCTURE:
        key = material.find(Tag.KEY)
        return bytes(key.value) if key is not None and key.type is ItemType.BYTE_STRING else None  # type: ignore[arg-type]
    return None


def digest(obj: Item) -> Item | None:
    """The mandatory SHA-256 Digest attribute (1.4 §3.17), or None without material.

    "If the Key Material is a Byte String, then the Digest Value SHALL be calculated on
    this Byte String. If [it] is a structure, ... on the TTLV-encoded Key Material";
    certificates hash the Certificate Value, opaque objects the Opaque Data Value.
    """
    from reference.kmip.ttlv import encode

    fmt: int | None = None
    block = key_block(obj)
    if block is not None:
        value, fmt_item = block.find(Tag.KEY_VALUE), block.find(Tag.KEY_FORMAT_TYPE)
        material = value.find(Tag.KEY_MATERIAL) if value is not None and value.type is ItemType.STRUCTURE else None
        if material is None or block.find(Tag.KEY_WRAPPING_DATA) is not None:
            return None
        data = bytes(material.value) if material.type is ItemType.BYTE_STRING else encode(material)  # type: ignore[arg-type]
        fmt = int(fmt_item.value) if fmt_item is not None else None  # type: ignore[arg-type]
    else:
        inner = obj.find(Tag.CERTIFICATE_VALUE) or obj.find(Tag.OPAQUE_DATA_VALUE)
        if inner is None or inner.type is not ItemType.BYTE_STRING:
            return None
        data = bytes(inner.value)  # type: ignore[arg-type]
    items = [Item.enumeration(Tag.HASHING_ALGORITHM, HashingAlgorithm.SHA_256),
             Item.byte_string(Tag.DIGEST_VALUE, hashlib.sha256(data).digest())]
    if fmt is not None:
        items.append(Item.enumeration(Tag.KEY_FORMAT_TYPE, fmt))
    return Item.structure(Tag.DIGEST, items)


def in_format(obj: Item, object_type: int, wanted: int | None) -> Item:
    """``obj`` in Key Format Type ``wanted`` (None: as stored).

    Symmetric keys convert between Raw and Transparent Symmetric Key (1.4 §2.1.7.1); any
    other conversion is refused with Key Format Type Not Supported (1.4 §11.12).
    """
    block = key_block(obj)
    if wanted is None or block is None:
        if wanted is not None:
            raise KmipFailure(Failure.KEY_FORMAT_NOT_SUPPORTED, "this object has no Key Block to format")
        return obj
    current = block.find(Tag.KEY_FORMAT_TYPE)
    if current is not None and current.value == wanted:
        return obj
    material = key_material(obj)
    convertible = {KeyFormatType.RAW, KeyFormatType.TRANSPARENT_SYMMETRIC_KEY}
    if object_type != ObjectType.SYMMETRIC_KEY or material is None or wanted not in convertible:
        raise KmipFailure(Failure.KEY_FORMAT_NOT_SUPPORTED,
                          f"cannot provide this object as {enum_name('Key Format Type', wanted)}")
    if wanted == KeyFormatType.RAW:
        new_material = Item.byte_string(Tag.KEY_MATERIAL, material)
    else:
        new_material = Item.structure(Tag.KEY_MATERIAL, [Item.byte_string(Tag.KEY, material)])
    children = []
    for child in block.items:
        if child.tag == Tag.KEY_FORMAT_TYPE:
            child = Item.enumeration(Tag.KEY_FORMAT_TYPE, wanted)
        elif child.tag == Tag.KEY_VALUE:
            child = Item.structure(Tag.KEY_VALUE, [new_material, *(c for c in child.items if c.tag != Tag.KEY_MATERIAL)])
        children.append(child)
    return Item.structure(obj.tag, [Item.structure(Tag.KEY_BLOCK, children) if c.tag == Tag.KEY_BLOCK else c
                                    for c in obj.items])
