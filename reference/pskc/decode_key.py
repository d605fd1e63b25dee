"""<KeyPackage> and everything below it, RFC 6030 syntax (§4, §5; schema §11)."""

from __future__ import annotations

import base64
import binascii
import re

from lxml import etree

from .algorithms import KEY_USAGES, PIN_USAGE_MODES, VALUE_FORMATS, XML_NS
from .model import (
    AlgorithmParameters, ChallengeFormat, CryptoModuleInfo, DataValue, DeviceInfo, EncryptedValue,
    Key, KeyData, KeyPackage, PINPolicy, PlainValue, Policy, RawXML, ResponseFormat,
)
from .safexml import to_raw
from .xmlread import (
    SCHEMA, Ctx, check_order, parse_b64, parse_bool, parse_datetime, parse_encrypted, parse_int, text,
    unknown,
)

KEY_PACKAGE_ORDER = ("DeviceInfo", "CryptoModuleInfo", "Key", "Extensions")
DEVICE_ORDER = ("Manufacturer", "SerialNo", "Model", "IssueNo", "DeviceBinding", "StartDate",
                "ExpiryDate", "UserId", "Extensions")
KEY_ORDER = ("Issuer", "AlgorithmParameters", "KeyProfileId", "KeyReference", "FriendlyName", "Data",
             "UserId", "Policy", "Extensions")
POLICY_ORDER = ("StartDate", "ExpiryDate", "PINPolicy", "KeyUsage", "NumberOfTransactions")
DATA_ORDER = ("Secret", "Counter", "Time", "TimeInterval", "TimeDrift")
# <Data> child -> (model field, xs type of PlainValue)
DATA_ELEMENTS = {
    "Secret": ("secret", "base64Binary"),
    "Counter": ("counter", "long"),
    "Time": ("time", "int"),
    "TimeInterval": ("time_interval", "int"),
    "TimeDrift": ("time_drift", "int"),
}


def parse_key_package(ctx: Ctx, element: etree._Element) -> list[KeyPackage]:
    """One KeyPackage, or several when a file puts several <Key>s in one package."""
    check_order(ctx, element, KEY_PACKAGE_ORDER, "KeyPackage")
    device = crypto = None
    keys: list[Key] = []
    extensions: list[RawXML] = []
    for child in element:
        name = ctx.local(child)
        if name == "DeviceInfo" and device is None:
            device = parse_device_info(ctx, child)
        elif name == "CryptoModuleInfo" and crypto is None:
            crypto = parse_crypto_module(ctx, child)
        elif name == "Key":
            keys.append(parse_key(ctx, child))
        elif name == "Extensions":
            extensions.append(to_raw(child))
        elif name not in ("DeviceInfo", "CryptoModuleInfo"):
            extensions.append(unknown(ctx, child, "KeyPackage"))
    if len(keys) > 1:
        ctx.flag("pskc.several-keys-in-package",
                 f"{len(keys)} <Key> elements in one <KeyPackage>; split into one package each",
                 "RFC 6030 §3 item 2 (at most one key); §11 KeyPackageType", element)
    packages = [KeyPackage(device, crypto, key, tuple(extensions)) for key in keys or [None]]
    return packages


def string_field(ctx: Ctx, child: etree._Element) -> str | None:
    if len(child):
        ctx.flag("pskc.unexpected-children", f"<{etree.QName(child).localname}> should hold text only",
                 SCHEMA, child)
    return text(child)


def parse_device_info(ctx: Ctx, element: etree._Element) -> DeviceInfo:
    check_order(ctx, element, DEVICE_ORDER, "DeviceInfo")
    values: dict[str, object] = {}
    extensions: list[RawXML] = []
    names = {"Manufacturer": "manufacturer", "SerialNo": "serial_no", "Model": "model",
             "IssueNo": "issue_no", "DeviceBinding": "device_binding", "UserId": "user_id"}
    for child in element:
        name = ctx.local(child)
        if name in names:
            values.setdefault(names[name], string_field(ctx, child))
        elif name in ("StartDate", "ExpiryDate"):
            field = "start_date" if name == "StartDate" else "expiry_date"
            if text(child) is not None:
                values.setdefault(field, parse_datetime(ctx, child.text, child, f"DeviceInfo/{name}"))
        elif name == "Extensions":
            extensions.append(to_raw(child))
        else:
            extensions.append(unknown(ctx, child, "DeviceInfo"))
    manufacturer = values.get("manufacturer")
    if isinstance(manufacturer, str) and not manufacturer.startswith(("oath.", "iana.")):
        ctx.flag("pskc.manufacturer-prefix",
                 f"Manufacturer {manufacturer!r} lacks the 'oath.' or 'iana.' prefix", "RFC 6030 §4.3.1",
                 element, "note")
    return DeviceInfo(**values, extensions=tuple(extensions))  # type: ignore[arg-type]


def parse_crypto_module(ctx: Ctx, element: etree._Element) -> CryptoModuleInfo:
    ident = None
    extensions: list[RawXML] = []
    for child in element:
        name = ctx.local(child)
        if name == "Id" and ident is None:
            ident = string_field(ctx, child)
        elif name == "Extensions":
            extensions.append(to_raw(child))
        else:
            extensions.append(unknown(ctx, child, "CryptoModuleInfo"))
    if ident is None:
        ctx.flag("pskc.crypto-module-without-id", "<CryptoModuleInfo> without <Id>", "RFC 6030 §4.3.2", element)
    return CryptoModuleInfo(ident, tuple(extensions))


def parse_key(ctx: Ctx, element: etree._Element) -> Key:
    check_order(ctx, element, KEY_ORDER, "Key")
    for attribute in element.attrib:
        if attribute not in ("Id", "Algorithm"):
            ctx.flag("pskc.unknown-attribute", f"unexpected attribute {attribute} on <Key>", SCHEMA, element)
    if element.get("Id") is None:
        ctx.flag("pskc.key-without-id", "<Key> without the required Id attribute", "RFC 6030 §4.1; §11 KeyType",
                 element)
    values: dict[str, object] = {}
    extensions: list[RawXML] = []
    unknowns: list[RawXML] = []
    strings = {"Issuer": "issuer", "KeyProfileId": "key_profile_id", "KeyReference": "key_reference",
               "UserId": "user_id"}
    for child in element:
        name = ctx.local(child)
        if name in strings:
            values.setdefault(strings[name], string_field(ctx, child))
        elif name == "FriendlyName" and "friendly_name" not in values:
            values["friendly_name"] = string_field(ctx, child)
            values["friendly_name_lang"] = child.get(f"{{{XML_NS}}}lang")
        elif name == "AlgorithmParameters" and "algorithm_parameters" not in values:
            values["algorithm_parameters"] = parse_algorithm_parameters(ctx, child)
        elif name == "Data" and "data" not in values:
            values["data"] = parse_data(ctx, child)
        elif name == "Policy" and "policy" not in values:
            values["policy"] = parse_policy(ctx, child)
        elif name == "Extensions":
            extensions.append(to_raw(child))
        elif name not in KEY_ORDER:
            unknowns.append(unknown(ctx, child, "Key"))
    return Key(id=element.get("Id"), algorithm=element.get("Algorithm"), extensions=tuple(extensions),
               unknown=tuple(unknowns), **values)  # type: ignore[arg-type]


def _format_attributes(ctx: Ctx, element: etree._Element, numeric: tuple[str, ...]) -> dict[str, object]:
    """Encoding, numeric attributes and CheckDigits of Challenge/ResponseFormat (§4.3.4)."""
    name = etree.QName(element).localname
    encoding = element.get("Encoding")
    if encoding is None:
        ctx.flag("pskc.missing-attribute", f"<{name}> without the required Encoding", "RFC 6030 §4.3.4", element)
    elif encoding not in VALUE_FORMATS:
        ctx.flag("pskc.unknown-encoding", f"<{name}> Encoding {encoding!r} is not a ValueFormatType value",
                 "RFC 6030 §4.3.4", element)
    out: dict[str, object] = {"encoding": encoding}
    for attribute in numeric:
        raw = element.get(attribute)
        if raw is None:
            ctx.flag("pskc.missing-attribute", f"<{name}> without the required {attribute}", "RFC 6030 §4.3.4",
                     element)
        out[attribute.lower()] = None if raw is None else parse_int(ctx, raw, "unsignedInt", element,
                                                                   f"{name}/@{attribute}")
    check = element.get("CheckDigits")
    if check is None and element.get("CheckDigit") is not None:
        # §4.3.4 prose says 'CheckDigit', the §11 schema says 'CheckDigits'.
        check = element.get("CheckDigit")
        ctx.flag("pskc.checkdigit-spelling", f"<{name}> uses 'CheckDigit'; the schema attribute is 'CheckDigits'",
                 "RFC 6030 §4.3.4 vs §11", element)
    out["check_digits"] = None if check is None else parse_bool(ctx, check, element, f"{name}/@CheckDigits")
    known = {"Encoding", "CheckDigits", "CheckDigit", *numeric}
    for attribute in element.attrib:
        if attribute not in known:
            ctx.flag("pskc.unknown-attribute", f"unexpected attribute {attribute} on <{name}>", SCHEMA, element)
    return out


def parse_algorithm_parameters(ctx: Ctx, element: etree._Element) -> AlgorithmParameters:
    suite = challenge = response = None
    extensions: list[RawXML] = []
    for child in element:
        name = ctx.local(child)
        if name == "Suite" and suite is None:
            suite = string_field(ctx, child)
        elif name == "ChallengeFormat" and challenge is None:
            challenge = ChallengeFormat(**_format_attributes(ctx, child, ("Min", "Max")))  # type: ignore[arg-type]
        elif name == "ResponseFormat" and response is None:
            response = ResponseFormat(**_format_attributes(ctx, child, ("Length",)))  # type: ignore[arg-type]
        elif name == "Extensions":
            extensions.append(to_raw(child))
        else:
            extensions.append(unknown(ctx, child, "AlgorithmParameters"))
    if sum(x is not None for x in (suite, challenge, response)) > 1:
        # Schema (§11) makes AlgorithmParametersType an xs:choice; §4.3.4 lists the three
        # as children without excluding each other, and OCRA needs them together.
        ctx.flag("pskc.algorithm-parameters-choice",
                 "several of Suite/ChallengeFormat/ResponseFormat: valid per §4.3.4 prose, invalid per the "
                 "§11 schema (xs:choice)", "RFC 6030 §4.3.4 vs §11", element, "note")
    return AlgorithmParameters(suite, challenge, response, tuple(extensions))


def _plain_integer(ctx: Ctx, raw: str, kind: str, element: etree._Element, what: str) -> int:
    if re.fullmatch(r"\s*[+-]?[0-9]+\s*", raw):
        return parse_int(ctx, raw, kind, element, what)
    # python-pskc reads base64 here (ASCII digits, else big-endian octets); so do we, flagged.
    try:
        octets = base64.b64decode(re.sub(r"\s+", "", raw), validate=True)
    except (binascii.Error, ValueError):
        octets = b""
    if not octets:
        raise ctx.violation(f"{what}: {raw.strip()[:40]!r} is not an xs:{kind}", element, "pskc.not-integer")
    ctx.flag("pskc.integer-as-base64", f"{what} is base64, not an xs:{kind} literal", SCHEMA, element)
    return int(octets) if octets.isdigit() else int.from_bytes(octets, "big")


def parse_data_value(ctx: Ctx, element: etree._Element, name: str) -> DataValue | None:
    field, kind = DATA_ELEMENTS[name]
    plain: bytes | int | None = None
    encrypted: EncryptedValue | None = None
    mac: bytes | None = None
    seen_plain = False
    for child in element:
        local = ctx.local(child)
        if local == "PlainValue" and not seen_plain:
            seen_plain = True
            raw = child.text or ""
            if kind == "base64Binary":
                plain = parse_b64(ctx, raw, child, f"{name}/PlainValue")
            elif raw.strip():
                plain = _plain_integer(ctx, raw, kind, child, f"{name}/PlainValue")
        elif local == "EncryptedValue" and encrypted is None:
            encrypted = parse_encrypted(ctx, child, f"{name}/EncryptedValue")
        elif local == "ValueMAC" and mac is None:
            mac = parse_b64(ctx, child.text, child, f"{name}/ValueMAC")
        else:
            unknown(ctx, child, name)
    if seen_plain and encrypted is not None:
        ctx.flag("pskc.plain-and-encrypted", f"<{name}> has both PlainValue and EncryptedValue; PlainValue used",
                 "RFC 6030 §11 binaryDataType (xs:choice)", element)
    if plain is not None:
        return PlainValue(plain, mac)
    if encrypted is not None:
        return EncryptedValue(**{**encrypted.__dict__, "value_mac": mac})
    ctx.flag("pskc.empty-data", f"<{name}> carries no value", "RFC 6030 §4.1; §11", element)
    return None


def parse_data(ctx: Ctx, element: etree._Element) -> KeyData:
    check_order(ctx, element, DATA_ORDER, "Data")
    values: dict[str, DataValue | None] = {}
    unknowns: list[RawXML] = []
    for child in element:
        name = ctx.local(child)
        if name in DATA_ELEMENTS:
            field = DATA_ELEMENTS[name][0]
            if field not in values:
                values[field] = parse_data_value(ctx, child, name)
        else:
            # xs:any namespace="##other": fine in another namespace, a violation in ours.
            unknowns.append(unknown(ctx, child, "Data", allowed=name is None))
    return KeyData(**values, unknown=tuple(unknowns))  # type: ignore[arg-type]


def parse_pin_policy(ctx: Ctx, element: etree._Element) -> PINPolicy:
    known = ("PINKeyId", "PINUsageMode", "MaxFailedAttempts", "MinLength", "MaxLength", "PINEncoding")
    numbers = {}
    for attribute, field in (("MaxFailedAttempts", "max_failed_attempts"), ("MinLength", "min_length"),
                             ("MaxLength", "max_length")):
        raw = element.get(attribute)
        numbers[field] = None if raw is None else parse_int(ctx, raw, "unsignedInt", element,
                                                            f"PINPolicy/@{attribute}")
    mode, encoding = element.get("PINUsageMode"), element.get("PINEncoding")
    if mode is None:
        ctx.flag("pskc.pin-usage-mode-missing", "PINPolicy without PINUsageMode ('mandatory attribute')",
                 "RFC 6030 §5", element)
    elif mode not in PIN_USAGE_MODES:
        ctx.flag("pskc.unknown-pin-usage-mode", f"PINUsageMode {mode!r} is not defined", "RFC 6030 §5", element)
    if encoding is not None and encoding not in VALUE_FORMATS:
        ctx.flag("pskc.unknown-encoding", f"PINEncoding {encoding!r} is not a ValueFormatType value",
                 "RFC 6030 §5", element)
    others = []
    for attribute, value in element.attrib.items():
        if attribute in known:
            continue
        others.append((attribute, value))
        if not attribute.startswith("{"):  # anyAttribute namespace="##other" only
            ctx.flag("pskc.unknown-attribute", f"unexpected attribute {attribute} on <PINPolicy>", SCHEMA, element)
    children = tuple(unknown(ctx, child, "PINPolicy") for child in element)
    if others or children:
        ctx.flag("pskc.policy-not-understood", "PINPolicy carries content not understood: key usage not permitted",
                 "RFC 6030 §5", element, "note")
    return PINPolicy(pin_key_id=element.get("PINKeyId"), pin_usage_mode=mode, pin_encoding=encoding,
                     other_attributes=tuple(others), unknown=children, **numbers)


def parse_policy(ctx: Ctx, element: etree._Element) -> Policy:
    check_order(ctx, element, POLICY_ORDER, "Policy")
    values: dict[str, object] = {}
    usages: list[str] = []
    unknowns: list[RawXML] = []
    for child in element:
        name = ctx.local(child)
        if name in ("StartDate", "ExpiryDate"):
            field = "start_date" if name == "StartDate" else "expiry_date"
            if field not in values and text(child) is not None:
                values[field] = parse_datetime(ctx, child.text, child, f"Policy/{name}")
        elif name == "PINPolicy" and "pin_policy" not in values:
            values["pin_policy"] = parse_pin_policy(ctx, child)
        elif name == "KeyUsage":
            usage = text(child) or ""
            if usage not in KEY_USAGES:
                ctx.flag("pskc.unknown-key-usage", f"KeyUsage {usage!r} is not registered: usage not permitted",
                         "RFC 6030 §5, §12.6", child)
            usages.append(usage)
        elif name == "NumberOfTransactions" and "number_of_transactions" not in values:
            values["number_of_transactions"] = parse_int(ctx, text(child) or "", "nonNegativeInteger", child,
                                                         "Policy/NumberOfTransactions")
        elif name not in POLICY_ORDER:
            unknowns.append(unknown(ctx, child, "Policy", allowed=name is None))
            ctx.flag("pskc.policy-not-understood", f"<Policy> child {child.tag} not understood: key usage "
                     "not permitted", "RFC 6030 §5", child, "note")
    return Policy(key_usage=tuple(usages), unknown=tuple(unknowns), **values)  # type: ignore[arg-type]
