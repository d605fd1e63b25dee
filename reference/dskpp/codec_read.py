"""Schema-valid DSKPP XML -> message model (used by codec.decode after validation).

Values follow the XML Schema whiteSpace facet of their type: xs:string (ClientID,
SessionID, DeviceInfo strings, Version) exactly as received; anyURI, dateTime, int,
boolean and base64Binary whitespace-collapsed (so the RFC's indented algorithm URIs and
dates read as their values).
"""

from __future__ import annotations

import base64
import re

from lxml import etree

from reference.dskpp.messages import (
    DS_NS,
    DSKPP_NS,
    XSI_NS,
    AuthenticationCodeMac,
    AuthenticationData,
    ClientInfo,
    DeviceIdentifierData,
    DeviceInfo,
    Extension,
    InitializationTrigger,
    KeyInfo,
    KeyPackage,
    KeyProtectionOffer,
    KeyProvClientHello,
    KeyProvClientNonce,
    KeyProvServerFinished,
    KeyProvServerHello,
    KeyProvTrigger,
    Mac,
    Payload,
    PlatformType,
    ProtocolVariants,
    RawXml,
    ServerInfo,
    Status,
    TokenPlatformInfo,
    UnknownExtension,
)

_XML_SPACE = re.compile(r"[ \t\r\n]+")


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _ns(el: etree._Element) -> str | None:
    return etree.QName(el).namespace


def collapse(text: str | None) -> str:
    """XML Schema whiteSpace="collapse" (only #x20 #x9 #xD #xA count as space)."""
    return _XML_SPACE.sub(" ", text or "").strip(" ")


def _string(el: etree._Element) -> str:
    return el.text or ""


def _b64(el: etree._Element) -> bytes:
    return base64.b64decode(_XML_SPACE.sub("", el.text or ""), validate=True)


def _raw(el: etree._Element) -> RawXml:
    return RawXml(etree.tostring(el, with_tail=False))


def _dskpp_children(el: etree._Element) -> list[tuple[str, etree._Element]]:
    """(local name, element) of children; non-DSKPP children are tagged '##other'."""
    return [(_local(c) if _ns(c) == DSKPP_NS else "##other", c) for c in el]


def _bool(value: str | None) -> bool | None:
    return None if value is None else collapse(value) in ("true", "1")


# ----------------------------------------------------------------------------- parts
_DEVICE_FIELDS = {
    "Manufacturer": "manufacturer", "SerialNo": "serial_no", "Model": "model", "IssueNo": "issue_no",
    "DeviceBinding": "device_binding", "UserId": "user_id",
}


def read_device_info(el: etree._Element) -> DeviceInfo:
    values: dict[str, object] = {}
    extensions = []
    for child in el:
        name = _local(child)
        if name in _DEVICE_FIELDS:
            values[_DEVICE_FIELDS[name]] = _string(child)
        elif name == "StartDate":
            values["start_date"] = collapse(child.text)
        elif name == "ExpiryDate":
            values["expiry_date"] = collapse(child.text)
        else:  # pskc:Extensions
            extensions.append(_raw(child))
    return DeviceInfo(**values, extensions=tuple(extensions))  # type: ignore[arg-type]


def read_device_identifier_data(el: etree._Element) -> DeviceIdentifierData:
    child = el[0]
    if _ns(child) == DSKPP_NS and _local(child) == "DeviceId":
        return DeviceIdentifierData(device_id=read_device_info(child))
    return DeviceIdentifierData(other=_raw(child))


def read_mac(el: etree._Element) -> Mac:
    algorithm = el.get("MacAlgorithm")
    return Mac(_b64(el), collapse(algorithm) if algorithm is not None else None)


def read_code_mac(el: etree._Element) -> AuthenticationCodeMac:
    nonce = iteration_count = mac = None
    for name, child in _dskpp_children(el):
        if name == "Nonce":
            nonce = _b64(child)
        elif name == "IterationCount":
            iteration_count = int(collapse(child.text))
        elif name == "Mac":
            mac = read_mac(child)
    if mac is None:  # the schema requires it; decode() maps this to a typed error
        raise ValueError("AuthenticationMacType without Mac")
    return AuthenticationCodeMac(mac=mac, nonce=nonce, iteration_count=iteration_count)


def read_authentication_data(el: etree._Element) -> AuthenticationData:
    client_id = code_mac = other = None
    for name, child in _dskpp_children(el):
        if name == "ClientID":
            client_id = _string(child)
        elif name == "AuthenticationCodeMac":
            code_mac = read_code_mac(child)
        else:
            other = _raw(child)
    return AuthenticationData(client_id=client_id, code_mac=code_mac, other=other)


def read_key_info(el: etree._Element) -> KeyInfo:
    return KeyInfo(children=tuple(_raw(c) for c in el), id=el.get("Id"))


def read_payload(el: etree._Element) -> Payload:
    child = el[0]
    if _ns(child) == DSKPP_NS and _local(child) == "Nonce":
        return Payload(nonce=_b64(child))
    if _ns(child) == DS_NS and _local(child) == "KeyInfo":
        return Payload(key_info=read_key_info(child))
    return Payload(other=_raw(child))


def read_protocol_variants(el: etree._Element) -> ProtocolVariants:
    four_pass = False
    four_pass_content = None
    offers: list[KeyProtectionOffer] | None = None
    for name, child in _dskpp_children(el):
        if name == "FourPass":
            four_pass = True
            if len(child) or collapse(child.text) or child.attrib:
                four_pass_content = _raw(child)
        elif name == "TwoPass":
            offers = []
            for sub_name, sub in _dskpp_children(child):
                if sub_name == "SupportedKeyProtectionMethod":
                    offers.append(KeyProtectionOffer(method=collapse(sub.text)))
                elif sub_name == "Payload":
                    offers[-1] = KeyProtectionOffer(offers[-1].method, read_payload(sub))
    return ProtocolVariants(four_pass, None if offers is None else tuple(offers), four_pass_content)


def read_extensions(el: etree._Element) -> tuple[Extension, ...]:
    out: list[Extension] = []
    for ext in el:
        value = ext.get(f"{{{XSI_NS}}}type", "").strip()
        prefix, _, local = value.rpartition(":")
        type_name = f"{{{ext.nsmap.get(prefix or None)}}}{local}"
        critical = _bool(ext.get("Critical"))
        if type_name in (f"{{{DSKPP_NS}}}ClientInfoType", f"{{{DSKPP_NS}}}ServerInfoType"):
            data = _b64(ext.find(f"{{{DSKPP_NS}}}Data"))
            cls = ClientInfo if local == "ClientInfoType" else ServerInfo
            out.append(cls(data=data, critical=critical))
        else:
            out.append(UnknownExtension(type_name=type_name, raw=_raw(ext), critical=critical))
    return tuple(out)


def read_key_package(el: etree._Element) -> KeyPackage:
    values: dict[str, object] = {}
    for name, child in _dskpp_children(el):
        if name == "ServerID":
            values["server_id"] = collapse(child.text)
        elif name == "KeyProtectionMethod":
            values["key_protection_method"] = collapse(child.text)
        elif name == "KeyContainer":
            values["key_container"] = _raw(child)
        else:
            values["other"] = _raw(child)
    return KeyPackage(**values)  # type: ignore[arg-type]


def _algorithms(el: etree._Element) -> tuple[str, ...]:
    return tuple(collapse(c.text) for c in el)


# ----------------------------------------------------------------------------- PDUs
def read_trigger(root: etree._Element) -> KeyProvTrigger:
    child = root[0]
    if not (_ns(child) == DSKPP_NS and _local(child) == "InitializationTrigger"):
        return KeyProvTrigger(other=_raw(child), version=root.get("Version"))
    values: dict[str, object] = {}
    for name, sub in _dskpp_children(child):
        if name == "DeviceIdentifierData":
            values["device_identifier_data"] = read_device_identifier_data(sub)
        elif name == "KeyID":
            values["key_id"] = _b64(sub)
        elif name == "TokenPlatformInfo":
            key_loc, alg_loc = sub.get("KeyLocation"), sub.get("AlgorithmLocation")
            values["token_platform_info"] = TokenPlatformInfo(
                PlatformType(key_loc) if key_loc is not None else None,
                PlatformType(alg_loc) if alg_loc is not None else None,
            )
        elif name == "AuthenticationData":
            values["authentication_data"] = read_authentication_data(sub)
        elif name == "ServerUrl":
            values["server_url"] = collapse(sub.text)
        else:
            values["other"] = _raw(sub)
    return KeyProvTrigger(trigger=InitializationTrigger(**values), version=root.get("Version"))  # type: ignore[arg-type]


def read_client_hello(root: etree._Element) -> KeyProvClientHello:
    values: dict[str, object] = {}
    for name, child in _dskpp_children(root):
        if name == "DeviceIdentifierData":
            values["device_identifier_data"] = read_device_identifier_data(child)
        elif name == "KeyID":
            values["key_id"] = _b64(child)
        elif name == "ClientNonce":
            values["client_nonce"] = _b64(child)
        elif name == "SupportedKeyTypes":
            values["supported_key_types"] = _algorithms(child)
        elif name == "SupportedEncryptionAlgorithms":
            values["supported_encryption_algorithms"] = _algorithms(child)
        elif name == "SupportedMacAlgorithms":
            values["supported_mac_algorithms"] = _algorithms(child)
        elif name == "SupportedProtocolVariants":
            values["supported_protocol_variants"] = read_protocol_variants(child)
        elif name == "SupportedKeyPackages":
            values["supported_key_packages"] = _algorithms(child)
        elif name == "AuthenticationData":
            values["authentication_data"] = read_authentication_data(child)
        elif name == "Extensions":
            values["extensions"] = read_extensions(child)
    return KeyProvClientHello(version=root.get("Version"), **values)  # type: ignore[arg-type]


def read_server_hello(root: etree._Element) -> KeyProvServerHello:
    values: dict[str, object] = {}
    for name, child in _dskpp_children(root):
        if name in ("KeyType", "EncryptionAlgorithm", "MacAlgorithm", "KeyPackageFormat"):
            key = {"KeyType": "key_type", "EncryptionAlgorithm": "encryption_algorithm",
                   "MacAlgorithm": "mac_algorithm", "KeyPackageFormat": "key_package_format"}[name]
            values[key] = collapse(child.text)
        elif name == "EncryptionKey":
            values["encryption_key"] = read_key_info(child)
        elif name == "Payload":
            values["payload"] = read_payload(child)
        elif name == "Extensions":
            values["extensions"] = read_extensions(child)
        elif name == "Mac":
            values["mac"] = read_mac(child)
    return KeyProvServerHello(
        version=root.get("Version"), status=Status(root.get("Status")), session_id=root.get("SessionID"), **values  # type: ignore[arg-type]
    )


def read_client_nonce(root: etree._Element) -> KeyProvClientNonce:
    values: dict[str, object] = {}
    for name, child in _dskpp_children(root):
        if name == "EncryptedNonce":
            values["encrypted_nonce"] = _b64(child)
        elif name == "AuthenticationData":
            values["authentication_data"] = read_authentication_data(child)
        elif name == "Extensions":
            values["extensions"] = read_extensions(child)
    return KeyProvClientNonce(version=root.get("Version"), session_id=root.get("SessionID"), **values)  # type: ignore[arg-type]


def read_server_finished(root: etree._Element) -> KeyProvServerFinished:
    values: dict[str, object] = {}
    for name, child in _dskpp_children(root):
        if name == "KeyPackage":
            values["key_package"] = read_key_package(child)
        elif name == "Extensions":
            values["extensions"] = read_extensions(child)
        elif name == "Mac":
            values["mac"] = read_mac(child)
        elif name == "AuthenticationData":
            values["authentication_data"] = read_code_mac(child)
    return KeyProvServerFinished(
        version=root.get("Version"), status=Status(root.get("Status")), session_id=root.get("SessionID"), **values  # type: ignore[arg-type]
    )

