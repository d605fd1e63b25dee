"""The vocabulary of the OASIS test-case comparison (reference/kmip/compare.py): tag and
enumeration numbers by XML name, the groups of fields KMIP Profiles 2.1 §4.1 lets vary,
and how a value is shown in a report line without key material.
"""

from __future__ import annotations

import dataclasses

from harness.redaction import fingerprint
from reference.kmip import textforms as tf
from reference.kmip.placeholders import Placeholder
from reference.kmip.tags import KmipTables, tables_for
from reference.kmip.ttlv import Item, ItemType, big_integer_bytes

NOW_TOLERANCE_S = 300.0
ID_PLACEHOLDERS = frozenset({"UNIQUE_IDENTIFIER", "SHORT_UNIQUE_IDENTIFIER"})


def tag_of(xml_name: str) -> int:
    """Tag number by XML name (values are the same in every KMIP version that has them)."""
    for version in ("2.1", "1.4"):
        info = tables_for(version).tag_by_xml_name(xml_name)
        if info is not None:
            return info.value
    raise KeyError(xml_name)


def enum_of(table: str, xml_name: str) -> int:
    for version in ("2.1", "1.4"):
        entry = tables_for(version).enumeration(table)
        value = entry.by_xml_name(xml_name) if entry is not None else None
        if value is not None:
            return value.value
    raise KeyError(f"{table}/{xml_name}")


_T = {name: tag_of(name) for name in (
    "ResponseMessage RequestHeader ResponseHeader ProtocolVersion TimeStamp BatchItem Operation ResultStatus "
    "ResultReason ResultMessage RequestPayload ResponsePayload UniqueIdentifier PrivateKeyUniqueIdentifier "
    "PublicKeyUniqueIdentifier LinkedObjectIdentifier UniqueBatchItemID AsynchronousCorrelationValue KeyMaterial "
    "KeyValue KeyBlock KeyWrappingData KeyFormatType Data SignatureData MACData IVCounterNonce "
    "AuthenticatedEncryptionTag Digest DigestValue HashingAlgorithm Attribute AttributeName AttributeValue "
    "AttributeIndex Attributes AttributeReference NameValue VendorIdentification ServerInformation "
    "ExtensionInformation ApplicationNamespace ObjectType ServerCorrelationValue ClientCorrelationValue "
    "MessageExtension LocatedItems RandomNumberGenerator TemplateAttribute PrivateKeyTemplateAttribute "
    "PublicKeyTemplateAttribute BatchErrorContinuationOption BatchOrderOption Password "
    "ShortUniqueIdentifier CorrelationValue ActivationDate ArchiveDate CompromiseDate CompromiseOccurrenceDate "
    "DeactivationDate DestroyDate InitialDate LastChangeDate ProtectStopDate ProcessStartDate ValidityDate "
    "OriginalCreationDate"
).split()}
T = dataclasses.make_dataclass("Tags", list(_T), frozen=True)(**_T)  # T.BatchItem, T.Data, ...

ID_TAGS = frozenset({T.UniqueIdentifier, T.PrivateKeyUniqueIdentifier, T.PublicKeyUniqueIdentifier,
                     T.LinkedObjectIdentifier, T.ShortUniqueIdentifier})
VALUE_FREE_TAGS = frozenset({T.UniqueBatchItemID, T.AsynchronousCorrelationValue, T.VendorIdentification,
                             T.CorrelationValue})
DATE_TAGS = frozenset({T.ActivationDate, T.ArchiveDate, T.CompromiseDate, T.CompromiseOccurrenceDate,
                       T.DeactivationDate, T.DestroyDate, T.InitialDate, T.LastChangeDate, T.ProtectStopDate,
                       T.ProcessStartDate, T.ValidityDate, T.OriginalCreationDate})
CRYPTO_OUTPUT_TAGS = frozenset({T.Data, T.SignatureData, T.MACData, T.IVCounterNonce, T.AuthenticatedEncryptionTag})
KEY_TAGS = frozenset({T.KeyMaterial, T.KeyValue})
OPAQUE_STRUCTURES = frozenset({T.ServerInformation, T.RandomNumberGenerator})
IGNORED_TAGS = frozenset({T.ResultMessage, T.ServerCorrelationValue, T.ClientCorrelationValue})
QUERY_IGNORED_TAGS = frozenset({T.ExtensionInformation, T.ApplicationNamespace, T.Operation, T.ObjectType})
EXTRA_TAGS = frozenset({T.MessageExtension, T.TemplateAttribute, T.PrivateKeyTemplateAttribute,
                        T.PublicKeyTemplateAttribute, T.Attribute})
# Byte strings that are never key material: shown in hex.
PUBLIC_BYTES = frozenset({T.UniqueBatchItemID, T.AsynchronousCorrelationValue, T.IVCounterNonce, T.DigestValue,
                          T.SignatureData, T.MACData, T.AuthenticatedEncryptionTag, T.ShortUniqueIdentifier,
                          T.CorrelationValue, T.ServerCorrelationValue})

SUCCESS = enum_of("Result Status", "Success")
STOP = enum_of("Batch Error Continuation Option", "Stop")
UNSUPPORTED_REASONS = frozenset(enum_of("Result Reason", n) for n in (
    "OperationNotSupported", "FeatureNotSupported", "ApplicationNamespaceNotSupported", "KeyFormatTypeNotSupported",
    "KeyCompressionTypeNotSupported", "KeyWrapTypeNotSupported", "UnsupportedAttribute",
    "UnsupportedCryptographicParameters", "UnsupportedProtocolVersion"))
OPS = {n: enum_of("Operation", n) for n in (
    "Create", "CreateKeyPair", "Register", "ReKey", "ReKeyKeyPair", "DeriveKey", "Certify", "ReCertify",
    "JoinSplitKey", "CreateSplitKey", "Locate", "Query", "DiscoverVersions", "GetAttributeList", "Encrypt", "Sign",
    "MAC", "RNGRetrieve", "Get")}
GENERATING_OPS = frozenset(OPS[n] for n in ("Create", "CreateKeyPair", "ReKey", "ReKeyKeyPair", "DeriveKey",
                                            "Certify", "ReCertify", "JoinSplitKey", "CreateSplitKey"))
VARIABLE_OUTPUT_OPS = frozenset(OPS[n] for n in ("Encrypt", "Sign", "MAC", "RNGRetrieve"))
ASYMMETRIC_TYPES = frozenset(enum_of("Object Type", n) for n in ("PublicKey", "PrivateKey", "Certificate"))


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def show_value(item: Item, tables: KmipTables, hint: int | None = None) -> str:
    """One value for a report line, never key material."""
    t, v = item.type, item.value
    if t is ItemType.STRUCTURE:
        return "a structure"
    if isinstance(v, Placeholder):
        return v.text
    if t is ItemType.BYTE_STRING:
        effective = hint if item.tag == T.AttributeValue and hint is not None else item.tag
        if effective in PUBLIC_BYTES:
            text = v.hex()  # type: ignore[union-attr]
            return clip(text, 64) + (f" ({len(v)} bytes)" if len(text) > 64 else "")  # type: ignore[arg-type]
        return f"<{len(v)} bytes {fingerprint(v)}>"  # type: ignore[arg-type]
    if t is ItemType.BIG_INTEGER:
        raw = big_integer_bytes(v)  # type: ignore[arg-type]
        return f"<Big Integer of {len(raw)} bytes {fingerprint(raw)}>"
    if t is ItemType.TEXT_STRING:
        if item.tag == T.Password:
            return f"<password {fingerprint(v)}>"  # type: ignore[arg-type]
        return repr(clip(v, 120))  # type: ignore[arg-type]
    if t is ItemType.BOOLEAN:
        return "true" if v else "false"
    if t is ItemType.DATE_TIME:
        return tf.format_datetime(v)  # type: ignore[arg-type]
    enum_table, mask_table = tf.value_tables(tables, item.tag, hint)
    if t is ItemType.ENUMERATION:
        return tf.format_enumeration(v, enum_table)  # type: ignore[arg-type]
    if t is ItemType.INTEGER and mask_table is not None:
        return f"{v} ({tf.format_mask(v, mask_table, ' ') or '0'})"  # type: ignore[arg-type]
    return str(v)
