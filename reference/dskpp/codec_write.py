"""Message model -> DSKPP XML element tree (used by codec.encode).

Element order follows the schema sequences of RFC 6063 §8.2; the root declares the
prefixes the RFC uses (dskpp, pskc, ds, xenc) and xsi for extension types.  Raw parts are
re-inserted as they were received (with their own namespace declarations).
"""

from __future__ import annotations

import base64

from lxml import etree

from reference.dskpp.messages import (
    DS_NS,
    DSKPP_NS,
    PSKC_NS,
    XENC_NS,
    XSI_NS,
    AuthenticationCodeMac,
    AuthenticationData,
    ClientInfo,
    DeviceIdentifierData,
    DeviceInfo,
    Extension,
    KeyInfo,
    KeyPackage,
    KeyProvClientHello,
    KeyProvClientNonce,
    KeyProvServerFinished,
    KeyProvServerHello,
    KeyProvTrigger,
    Mac,
    Message,
    Payload,
    ProtocolVariants,
    UnknownExtension,
)

NSMAP = {"dskpp": DSKPP_NS, "pskc": PSKC_NS, "ds": DS_NS, "xenc": XENC_NS, "xsi": XSI_NS}


def _d(local: str) -> str:
    return f"{{{DSKPP_NS}}}{local}"


def _sub(parent: etree._Element, local: str, text: str | None = None, ns: str = DSKPP_NS) -> etree._Element:
    el = etree.SubElement(parent, f"{{{ns}}}{local}")
    if text is not None:
        el.text = text
    return el


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _bool(value: bool) -> str:
    return "true" if value else "false"


def write_device_info(parent: etree._Element, info: DeviceInfo) -> None:
    el = _sub(parent, "DeviceId")
    for local, value in (
        ("Manufacturer", info.manufacturer), ("SerialNo", info.serial_no), ("Model", info.model),
        ("IssueNo", info.issue_no), ("DeviceBinding", info.device_binding), ("StartDate", info.start_date),
        ("ExpiryDate", info.expiry_date), ("UserId", info.user_id),
    ):
        if value is not None:
            _sub(el, local, value, PSKC_NS)
    for ext in info.extensions:
        el.append(ext.element())


def write_device_identifier_data(parent: etree._Element, data: DeviceIdentifierData) -> None:
    el = _sub(parent, "DeviceIdentifierData")
    if data.device_id is not None:
        write_device_info(el, data.device_id)
    elif data.other is not None:
        el.append(data.other.element())


def write_mac(parent: etree._Element, mac: Mac, local: str = "Mac") -> None:
    el = _sub(parent, local, _b64(mac.value))
    if mac.algorithm is not None:
        el.set("MacAlgorithm", mac.algorithm)


def write_code_mac(parent: etree._Element, code_mac: AuthenticationCodeMac, local: str) -> None:
    el = _sub(parent, local)
    if code_mac.nonce is not None:
        _sub(el, "Nonce", _b64(code_mac.nonce))
    if code_mac.iteration_count is not None:
        _sub(el, "IterationCount", str(code_mac.iteration_count))
    write_mac(el, code_mac.mac)


def write_authentication_data(parent: etree._Element, data: AuthenticationData) -> None:
    el = _sub(parent, "AuthenticationData")
    if data.client_id is not None:
        _sub(el, "ClientID", data.client_id)
    if data.code_mac is not None:
        write_code_mac(el, data.code_mac, "AuthenticationCodeMac")
    elif data.other is not None:
        el.append(data.other.element())


def write_key_info(el: etree._Element, info: KeyInfo) -> None:
    if info.id is not None:
        el.set("Id", info.id)
    for child in info.children:
        el.append(child.element())


def write_payload(parent: etree._Element, payload: Payload) -> None:
    el = _sub(parent, "Payload")
    if payload.nonce is not None:
        _sub(el, "Nonce", _b64(payload.nonce))
    elif payload.key_info is not None:
        write_key_info(_sub(el, "KeyInfo", ns=DS_NS), payload.key_info)
    elif payload.other is not None:
        el.append(payload.other.element())


def write_protocol_variants(parent: etree._Element, variants: ProtocolVariants) -> None:
    el = _sub(parent, "SupportedProtocolVariants")
    if variants.four_pass:
        if variants.four_pass_content is not None:
            el.append(variants.four_pass_content.element())
        else:
            _sub(el, "FourPass")
    if variants.two_pass is not None:
        two = _sub(el, "TwoPass")
        for offer in variants.two_pass:
            _sub(two, "SupportedKeyProtectionMethod", offer.method)
            if offer.payload is not None:
                write_payload(two, offer.payload)


def write_extensions(parent: etree._Element, extensions: tuple[Extension, ...]) -> None:
    if not extensions:
        return
    el = _sub(parent, "Extensions")
    for ext in extensions:
        if isinstance(ext, UnknownExtension):
            el.append(ext.raw.element())
            continue
        item = _sub(el, "Extension")
        item.set(f"{{{XSI_NS}}}type", "dskpp:ClientInfoType" if isinstance(ext, ClientInfo) else "dskpp:ServerInfoType")
        if ext.critical is not None:
            item.set("Critical", _bool(ext.critical))
        _sub(item, "Data", _b64(ext.data))


def write_key_package(parent: etree._Element, package: KeyPackage) -> None:
    el = _sub(parent, "KeyPackage")
    if package.server_id is not None:
        _sub(el, "ServerID", package.server_id)
    if package.key_protection_method is not None:
        _sub(el, "KeyProtectionMethod", package.key_protection_method)
    if package.key_container is not None:
        el.append(package.key_container.element())
    elif package.other is not None:
        el.append(package.other.element())


def _algorithms(parent: etree._Element, local: str, uris: tuple[str, ...], item: str = "Algorithm") -> None:
    el = _sub(parent, local)
    for uri in uris:
        _sub(el, item, uri)


# ----------------------------------------------------------------------------- PDUs
def _root(local: str, version: str | None) -> etree._Element:
    root = etree.Element(_d(local), nsmap=NSMAP)
    if version is not None:
        root.set("Version", version)
    return root


def write_trigger(msg: KeyProvTrigger) -> etree._Element:
    root = _root("KeyProvTrigger", msg.version)
    if msg.trigger is None:
        if msg.other is not None:
            root.append(msg.other.element())
        return root
    t = msg.trigger
    el = _sub(root, "InitializationTrigger")
    if t.device_identifier_data is not None:
        write_device_identifier_data(el, t.device_identifier_data)
    if t.key_id is not None:
        _sub(el, "KeyID", _b64(t.key_id))
    if t.token_platform_info is not None:
        info = _sub(el, "TokenPlatformInfo")
        if t.token_platform_info.key_location is not None:
            info.set("KeyLocation", t.token_platform_info.key_location.value)
        if t.token_platform_info.algorithm_location is not None:
            info.set("AlgorithmLocation", t.token_platform_info.algorithm_location.value)
    write_authentication_data(el, t.authentication_data)
    if t.server_url is not None:
        _sub(el, "ServerUrl", t.server_url)
    if t.other is not None:
        el.append(t.other.element())
    return root


def write_client_hello(msg: KeyProvClientHello) -> etree._Element:
    root = _root("KeyProvClientHello", msg.version)
    if msg.device_identifier_data is not None:
        write_device_identifier_data(root, msg.device_identifier_data)
    if msg.key_id is not None:
        _sub(root, "KeyID", _b64(msg.key_id))
    if msg.client_nonce is not None:
        _sub(root, "ClientNonce", _b64(msg.client_nonce))
    _algorithms(root, "SupportedKeyTypes", msg.supported_key_types)
    _algorithms(root, "SupportedEncryptionAlgorithms", msg.supported_encryption_algorithms)
    _algorithms(root, "SupportedMacAlgorithms", msg.supported_mac_algorithms)
    if msg.supported_protocol_variants is not None:
        write_protocol_variants(root, msg.supported_protocol_variants)
    if msg.supported_key_packages:
        _algorithms(root, "SupportedKeyPackages", msg.supported_key_packages, "KeyPackageFormat")
    if msg.authentication_data is not None:
        write_authentication_data(root, msg.authentication_data)
    write_extensions(root, msg.extensions)
    return root


def _response_root(local: str, msg: KeyProvServerHello | KeyProvServerFinished) -> etree._Element:
    root = _root(local, msg.version)
    if msg.session_id is not None:
        root.set("SessionID", msg.session_id)
    root.set("Status", msg.status.value)
    return root


def write_server_hello(msg: KeyProvServerHello) -> etree._Element:
    root = _response_root("KeyProvServerHello", msg)
    if not msg.has_body:
        return root
    for name in ("encryption_algorithm", "mac_algorithm", "encryption_key", "key_package_format", "payload"):
        if getattr(msg, name) is None:  # the schema sequence is all-or-nothing
            raise ValueError(f"KeyProvServerHello with KeyType needs {name}")
    _sub(root, "KeyType", msg.key_type)
    _sub(root, "EncryptionAlgorithm", msg.encryption_algorithm)
    _sub(root, "MacAlgorithm", msg.mac_algorithm)
    write_key_info(_sub(root, "EncryptionKey"), msg.encryption_key)
    _sub(root, "KeyPackageFormat", msg.key_package_format)
    write_payload(root, msg.payload)
    write_extensions(root, msg.extensions)
    if msg.mac is not None:
        write_mac(root, msg.mac)
    return root


def write_client_nonce(msg: KeyProvClientNonce) -> etree._Element:
    root = _root("KeyProvClientNonce", msg.version)
    root.set("SessionID", msg.session_id)
    _sub(root, "EncryptedNonce", _b64(msg.encrypted_nonce))
    if msg.authentication_data is not None:
        write_authentication_data(root, msg.authentication_data)
    write_extensions(root, msg.extensions)
    return root


def write_server_finished(msg: KeyProvServerFinished) -> etree._Element:
    root = _response_root("KeyProvServerFinished", msg)
    if not msg.has_body:
        return root
    if msg.mac is None:  # the schema sequence is all-or-nothing
        raise ValueError("KeyProvServerFinished with KeyPackage needs Mac")
    write_key_package(root, msg.key_package)
    write_extensions(root, msg.extensions)
    write_mac(root, msg.mac)
    if msg.authentication_data is not None:
        write_code_mac(root, msg.authentication_data, "AuthenticationData")
    return root


_WRITERS = {
    KeyProvTrigger: write_trigger,
    KeyProvClientHello: write_client_hello,
    KeyProvServerHello: write_server_hello,
    KeyProvClientNonce: write_client_nonce,
    KeyProvServerFinished: write_server_finished,
}


def write_message(message: Message) -> etree._Element:
    writer = _WRITERS.get(type(message))
    if writer is None:
        raise TypeError(f"not a DSKPP message: {type(message).__name__}")
    return writer(message)
