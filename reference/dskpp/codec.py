"""XML <-> message model for RFC 6063, validated against the RFC's schema (Sec. 8.2).

``decode(bytes) -> Message``: hardened parse (safexml), unknown root -> UnknownRequest,
extension rules (Sec. 6), schema validation, then the typed model.  Every failure is a
``ProtocolError`` child with ``status`` (the Sec. 3.3 status it maps to) and ``where``.

``encode(Message) -> bytes``: UTF-8 XML with an XML declaration, validated against the
schema unless ``validate=False`` (fuzzing); an unencodable model raises ``InputError``.

``hash_input(raw, reading)``: the bytes of one message that enter msg_hash (I-7).
"""

from __future__ import annotations

import copy

from lxml import etree

from harness.errors import InputError, ProtocolError, SchemaViolation, UnsupportedFeature
from reference.dskpp import codec_read, codec_write
from reference.dskpp.interpretation import MessageHashInput
from reference.dskpp.messages import DSKPP_NS, XSI_NS, Message
from reference.dskpp.safexml import DEFAULT_LIMITS, Limits, parse_xml, validate

ROOT_TYPES = {
    "KeyProvTrigger": codec_read.read_trigger,
    "KeyProvClientHello": codec_read.read_client_hello,
    "KeyProvServerHello": codec_read.read_server_hello,
    "KeyProvClientNonce": codec_read.read_client_nonce,
    "KeyProvServerFinished": codec_read.read_server_finished,
}
KNOWN_EXTENSION_TYPES = {f"{{{DSKPP_NS}}}ClientInfoType", f"{{{DSKPP_NS}}}ServerInfoType"}
# Sec. 6.1 / 6.2 (with the echo rules): where each known extension may appear.
_ALLOWED_EXTENSIONS = {
    f"{{{DSKPP_NS}}}ClientInfoType": {"KeyProvClientHello", "KeyProvClientNonce", "KeyProvServerHello", "KeyProvServerFinished"},
    f"{{{DSKPP_NS}}}ServerInfoType": {"KeyProvServerHello", "KeyProvClientNonce"},
}


def _where(el: etree._Element) -> str:
    return f"line {el.sourceline}: {etree.QName(el).localname}"


def extension_type(el: etree._Element) -> str | None:
    """The xsi:type of an <Extension> in Clark notation, None when absent."""
    value = el.get(f"{{{XSI_NS}}}type")
    if value is None:
        return None
    value = value.strip()
    prefix, _, local = value.rpartition(":")
    namespace = el.nsmap.get(prefix or None)
    if namespace is None:
        raise SchemaViolation(
            "xsi:type uses an undeclared prefix", status="MalformedRequest", spec="RFC 6063 §6", where=_where(el)
        )
    return f"{{{namespace}}}{local}"


def is_critical(el: etree._Element) -> bool | None:
    value = el.get("Critical")
    return None if value is None else value.strip() in ("true", "1")


def _screen_extensions(root: etree._Element) -> etree._Element:
    """Apply Sec. 6; return the tree to validate (unknown non-critical extensions removed).

    An unknown extension marked Critical -> UnknownCriticalExtension.  Unknown
    non-critical ones are disregarded ("a receiving party is always free to disregard
    any (non-critical) extensions"); they cannot be schema-validated (their xsi:type is
    not in our schema), so they are removed from the copy that is validated.
    """
    pdu = etree.QName(root).localname
    unknown = []
    for ext in root.iter(f"{{{DSKPP_NS}}}Extension"):
        type_name = extension_type(ext)
        if type_name is None:
            continue  # the schema reports the missing xsi:type (abstract type)
        if type_name in KNOWN_EXTENSION_TYPES:
            spec = "RFC 6063 §6.1" if type_name.endswith("ClientInfoType") else "RFC 6063 §6.2"
            if is_critical(ext):
                raise SchemaViolation(
                    "ClientInfoType/ServerInfoType MUST NOT be marked Critical",
                    status="MalformedRequest", spec=spec, where=_where(ext),
                )
            if pdu not in _ALLOWED_EXTENSIONS[type_name]:
                raise SchemaViolation(
                    f"{etree.QName(type_name).localname} is not valid in {pdu}",
                    status="MalformedRequest", spec=spec, where=_where(ext),
                )
            continue
        if is_critical(ext):
            raise UnsupportedFeature(
                "extension marked Critical is not understood",
                status="UnknownCriticalExtension", spec="RFC 6063 §6", where=_where(ext),
            )
        unknown.append(ext)
    if not unknown:
        return root
    screened = copy.deepcopy(root)  # keeps source lines for error locations
    for ext in list(screened.iter(f"{{{DSKPP_NS}}}Extension")):
        if extension_type(ext) not in KNOWN_EXTENSION_TYPES and extension_type(ext) is not None:
            parent = ext.getparent()
            parent.remove(ext)
            if len(parent) == 0:
                parent.getparent().remove(parent)
    return screened


def decode_element(root: etree._Element, *, validate_schema: bool = True) -> Message:
    """Message from an already safely parsed root element."""
    qname = etree.QName(root)
    if qname.namespace != DSKPP_NS or qname.localname not in ROOT_TYPES:
        # Sec. 3.3 UnknownRequest; Sec. 7.2.4 answers a non-DSKPP body with HTTP 400.
        what = "root element is not in the DSKPP namespace" if qname.namespace != DSKPP_NS else "unknown DSKPP message"
        raise SchemaViolation(what, status="UnknownRequest", spec="RFC 6063 §3.3", where=_where(root))
    checked = _screen_extensions(root)
    if validate_schema:
        validate(checked)
    try:
        return ROOT_TYPES[qname.localname](root)
    except ProtocolError:
        raise
    except (ValueError, TypeError, KeyError, IndexError) as exc:  # a reader gap is still a typed error
        raise SchemaViolation(
            f"cannot read message: {type(exc).__name__}", status="MalformedRequest", spec="RFC 6063 §8.2", where=_where(root)
        ) from None


def decode(data: bytes, *, limits: Limits = DEFAULT_LIMITS, validate_schema: bool = True) -> Message:
    """Parse, check and validate one DSKPP message."""
    return decode_element(parse_xml(data, limits=limits), validate_schema=validate_schema)


def encode(message: Message, *, validate_schema: bool = True, xml_declaration: bool = True) -> bytes:
    """Serialize a message; with ``validate_schema`` the output is checked against the XSD."""
    try:
        root = codec_write.write_message(message)
    except (TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"message cannot be encoded: {exc}", where=type(message).__name__) from None
    data = etree.tostring(root, xml_declaration=xml_declaration, encoding="UTF-8")
    if validate_schema:
        try:
            validate(_screen_extensions(root))
        except ProtocolError as exc:
            raise InputError(f"encoded message is not schema-valid: {exc.message}", where=exc.where) from None
    return data


def hash_input(raw: bytes, reading: MessageHashInput = MessageHashInput.RAW_BYTES, *, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The octets of one message for msg_hash (Sec. 3.4.3 c., reading I-7)."""
    if reading is MessageHashInput.RAW_BYTES:
        return bytes(raw)
    root = parse_xml(raw, limits=limits, keep_comments_and_pis=True)
    exclusive = reading is MessageHashInput.EXC_C14N
    return etree.tostring(root.getroottree(), method="c14n", exclusive=exclusive, with_comments=False)
