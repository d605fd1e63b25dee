"""Typed, frozen message model of RFC 6063 (schema: Sec. 8.2).

One dataclass per PDU and per schema type that carries meaning.  Values are the XML
Schema values: base64Binary as bytes, anyURI/int/boolean/dateTime after whitespace
collapsing, xs:string exactly as received (Sec. 8.1: no trimming, exact comparison).
Algorithm URIs stay plain ``str`` in messages (a peer may offer any URI); the enums below
name the ones the RFC defines.

Parts this engine does not interpret are kept as ``RawXml`` (the element serialized with
its in-scope namespace declarations): PSKC key containers (reference/pskc owns them),
``##other`` wildcard content, ds:KeyInfo children and unknown non-critical extensions.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import Union

from lxml import etree

from harness.errors import InputError

DSKPP_NS = "urn:ietf:params:xml:ns:keyprov:dskpp"
PSKC_NS = "urn:ietf:params:xml:ns:keyprov:pskc"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XENC_NS = "http://www.w3.org/2001/04/xmlenc#"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
MEDIA_TYPE = "application/dskpp+xml"  # Sec. 7.2.1
VERSION_1_0 = "1.0"  # Sec. 1.2 / 12.5


class Status(str, Enum):
    """Sec. 3.3 status codes (schema type StatusCode; IANA registry Sec. 12.4)."""

    CONTINUE = "Continue"
    SUCCESS = "Success"
    ABORT = "Abort"
    ACCESS_DENIED = "AccessDenied"
    MALFORMED_REQUEST = "MalformedRequest"
    UNKNOWN_REQUEST = "UnknownRequest"
    UNKNOWN_CRITICAL_EXTENSION = "UnknownCriticalExtension"
    UNSUPPORTED_VERSION = "UnsupportedVersion"
    NO_SUPPORTED_KEY_TYPES = "NoSupportedKeyTypes"
    NO_SUPPORTED_ENCRYPTION_ALGORITHMS = "NoSupportedEncryptionAlgorithms"
    NO_SUPPORTED_MAC_ALGORITHMS = "NoSupportedMacAlgorithms"
    NO_PROTOCOL_VARIANTS = "NoProtocolVariants"
    NO_SUPPORTED_KEY_PACKAGES = "NoSupportedKeyPackages"
    AUTHENTICATION_DATA_MISSING = "AuthenticationDataMissing"
    AUTHENTICATION_DATA_INVALID = "AuthenticationDataInvalid"
    INITIALIZATION_FAILED = "InitializationFailed"
    PROVISIONING_PERIOD_EXPIRED = "ProvisioningPeriodExpired"

    @property
    def first_response_only(self) -> bool:
        """Sec. 3.3: "only valid in the DSKPP Server's first response message"."""
        return self in _FIRST_RESPONSE_ONLY


_FIRST_RESPONSE_ONLY = frozenset(
    {
        Status.UNSUPPORTED_VERSION,
        Status.NO_SUPPORTED_KEY_TYPES,
        Status.NO_SUPPORTED_ENCRYPTION_ALGORITHMS,
        Status.NO_SUPPORTED_MAC_ALGORITHMS,
        Status.NO_PROTOCOL_VARIANTS,
        Status.NO_SUPPORTED_KEY_PACKAGES,
    }
)


class PlatformType(str, Enum):
    """Schema type PlatformType (TokenPlatformInfo attributes)."""

    HARDWARE = "Hardware"
    SOFTWARE = "Software"
    UNSPECIFIED = "Unspecified"


class MacAlgorithmUri(str, Enum):
    """DSKPP-PRF realizations (Sec. 12.6.1/12.6.2; also R_C encryption URIs, App. D.2.1)."""

    PRF_AES_128 = "urn:ietf:params:xml:ns:keyprov:dskpp:prf-aes-128"
    PRF_SHA256 = "urn:ietf:params:xml:ns:keyprov:dskpp:prf-sha256"


class EncryptionAlgorithmUri(str, Enum):
    """Encryption algorithm URIs the RFC names or its examples use."""

    RSA_1_5 = "http://www.w3.org/2001/04/xmlenc#rsa-1_5"  # Sec. 5.1.1 (XMLENC)
    RSA_1_5_UNDERSCORE = "http://www.w3.org/2001/04/xmlenc#rsa_1_5"  # App. B.3.1/B.3.3 spelling
    RSA_OAEP_MGF1P = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"  # XMLENC RSA-OAEP
    RSA_OAEP_11 = "http://www.w3.org/2009/xmlenc11#rsa-oaep"  # XMLENC 1.1 RSA-OAEP
    AES128_CBC = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"  # Sec. 5.1.2, App. B.2.3
    KW_AES128 = "http://www.w3.org/2001/04/xmlenc#kw-aes128"  # RFC 3394
    KW_AES128_PAD = "http://www.w3.org/2009/xmlenc11#kw-aes-128-pad"  # RFC 5649 (Sec. 5.1.2 slip)
    PRF_AES_128 = MacAlgorithmUri.PRF_AES_128.value  # Sec. 4.2.3 XOR method, App. D.2.1
    PRF_SHA256 = MacAlgorithmUri.PRF_SHA256.value  # Sec. 4.2.3 XOR method, App. D.3.1


class KeyProtectionMethodUri(str, Enum):
    """Two-pass key protection methods (Sec. 5.1.1-5.1.3)."""

    TRANSPORT = "urn:ietf:params:xml:schema:keyprov:dskpp:transport"
    WRAP = "urn:ietf:params:xml:schema:keyprov:dskpp:wrap"
    PASSPHRASE_WRAP = "urn:ietf:params:xml:schema:keyprov:dskpp:passphrase-wrap"


class KeyPackageFormatUri(str, Enum):
    """Key container formats (Sec. 5, 12.7)."""

    PSKC = "urn:ietf:params:xml:ns:keyprov:dskpp:pskc-key-container"
    SKPC = "urn:ietf:params:xml:ns:keyprov:dskpp:skpc-key-container"
    PKCS12 = "urn:ietf:params:xml:ns:keyprov:dskpp:pkcs12-key-container"
    PKCS5_XML = "urn:ietf:params:xml:ns:keyprov:dskpp:pkcs5-xml-key-container"


_VERSION = re.compile(r"(\d{1,2})\.(\d{1,3})")


def parse_version(text: str) -> tuple[int, int]:
    """(major, minor) as separate integers; leading zeros ignored (Sec. 1.2)."""
    m = _VERSION.fullmatch(text)
    if not m:
        raise InputError("not a DSKPP version <major>.<minor>", where="Version")
    return int(m.group(1)), int(m.group(2))


# ----------------------------------------------------------------------------- raw XML
@dataclass(frozen=True, eq=False)
class RawXml:
    """An element kept uninterpreted: its serialization with in-scope namespaces.

    Equality and hashing use Exclusive C14N of the element, so the same content compares
    equal whatever namespace declarations its surrounding document happened to carry.
    """

    xml: bytes = field(repr=False)

    @cached_property
    def _canonical(self) -> bytes:
        return etree.tostring(self.element(), method="c14n", exclusive=True, with_comments=False)

    def element(self) -> etree._Element:
        """A fresh element (our own serialization, so no hostile-input limits needed)."""
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        return etree.fromstring(self.xml, parser)

    @property
    def tag(self) -> str:
        return self.element().tag

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RawXml) and self._canonical == other._canonical

    def __hash__(self) -> int:
        return hash(self._canonical)

    def __repr__(self) -> str:
        return f"RawXml({self.tag!r}, {len(self.xml)} bytes)"


# ----------------------------------------------------------------------------- parts
@dataclass(frozen=True)
class DeviceInfo:
    """pskc:DeviceInfoType, as used in <DeviceIdentifierData><DeviceId>."""

    manufacturer: str | None = None
    serial_no: str | None = None
    model: str | None = None
    issue_no: str | None = None
    device_binding: str | None = None
    start_date: str | None = None  # xs:dateTime lexical form, whitespace collapsed
    expiry_date: str | None = None
    user_id: str | None = None
    extensions: tuple[RawXml, ...] = ()


@dataclass(frozen=True)
class DeviceIdentifierData:
    """Choice: <DeviceId> or one element of another namespace."""

    device_id: DeviceInfo | None = None
    other: RawXml | None = None


@dataclass(frozen=True)
class TokenPlatformInfo:
    key_location: PlatformType | None = None
    algorithm_location: PlatformType | None = None


@dataclass(frozen=True)
class Mac:
    """MacType: base64 value with optional MacAlgorithm URI."""

    value: bytes
    algorithm: str | None = None


@dataclass(frozen=True)
class AuthenticationCodeMac:
    """AuthenticationMacType; also the server's <AuthenticationData> in ServerFinished."""

    mac: Mac
    nonce: bytes | None = None
    iteration_count: int | None = None


@dataclass(frozen=True)
class AuthenticationData:
    """AuthenticationDataType: [ClientID], then AuthenticationCodeMac or ##other."""

    client_id: str | None = None
    code_mac: AuthenticationCodeMac | None = None
    other: RawXml | None = None


@dataclass(frozen=True)
class KeyInfo:
    """ds:KeyInfoType content.  ``children`` are the ds:KeyInfo child elements."""

    children: tuple[RawXml, ...] = ()
    id: str | None = None

    @classmethod
    def from_key_name(cls, name: str) -> "KeyInfo":
        el = etree.Element(f"{{{DS_NS}}}KeyName", nsmap={"ds": DS_NS})
        el.text = name
        return cls((RawXml(etree.tostring(el)),))

    @classmethod
    def from_certificate(cls, der: bytes) -> "KeyInfo":
        data = etree.Element(f"{{{DS_NS}}}X509Data", nsmap={"ds": DS_NS})
        etree.SubElement(data, f"{{{DS_NS}}}X509Certificate").text = base64.b64encode(der).decode()
        return cls((RawXml(etree.tostring(data)),))

    @classmethod
    def from_rsa_public_numbers(cls, modulus: int, exponent: int) -> "KeyInfo":
        def b64(n: int) -> str:
            return base64.b64encode(n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big")).decode()

        value = etree.Element(f"{{{DS_NS}}}KeyValue", nsmap={"ds": DS_NS})
        rsa = etree.SubElement(value, f"{{{DS_NS}}}RSAKeyValue")
        etree.SubElement(rsa, f"{{{DS_NS}}}Modulus").text = b64(modulus)
        etree.SubElement(rsa, f"{{{DS_NS}}}Exponent").text = b64(exponent)
        return cls((RawXml(etree.tostring(value)),))

    def _texts(self, local: str) -> list[str]:
        out = []
        for child in self.children:
            el = child.element()
            for node in el.iter(f"{{{DS_NS}}}{local}"):
                out.append("".join(node.itertext()))
        return out

    @property
    def key_names(self) -> tuple[str, ...]:
        return tuple(self._texts("KeyName"))

    @property
    def x509_certificates(self) -> tuple[bytes, ...]:
        return tuple(base64.b64decode("".join(t.split())) for t in self._texts("X509Certificate"))

    @property
    def rsa_public_numbers(self) -> tuple[int, int] | None:
        """(modulus, exponent) of a <ds:KeyValue><ds:RSAKeyValue>, if present."""
        mods, exps = self._texts("Modulus"), self._texts("Exponent")
        if not mods or not exps:
            return None
        as_int = lambda t: int.from_bytes(base64.b64decode("".join(t.split())), "big")  # noqa: E731
        return as_int(mods[0]), as_int(exps[0])


@dataclass(frozen=True)
class Payload:
    """PayloadType: a <Nonce> or one element of another namespace (often ds:KeyInfo)."""

    nonce: bytes | None = None
    key_info: KeyInfo | None = None  # the ##other element when it is ds:KeyInfo
    other: RawXml | None = None  # any other ##other element


@dataclass(frozen=True)
class KeyProtectionOffer:
    """One SupportedKeyProtectionMethod with its optional Payload (KPML entry)."""

    method: str
    payload: Payload | None = None


@dataclass(frozen=True)
class ProtocolVariants:
    """SupportedProtocolVariants: <FourPass/> and/or <TwoPass> with the KPML."""

    four_pass: bool = False
    two_pass: tuple[KeyProtectionOffer, ...] | None = None  # None: no <TwoPass>
    four_pass_content: RawXml | None = None  # FourPass is xs:anyType; kept if non-empty


@dataclass(frozen=True)
class ClientInfo:
    """ClientInfoType extension (Sec. 6.1); MUST NOT be Critical."""

    data: bytes
    critical: bool | None = None


@dataclass(frozen=True)
class ServerInfo:
    """ServerInfoType extension (Sec. 6.2); MUST NOT be Critical."""

    data: bytes
    critical: bool | None = None


@dataclass(frozen=True)
class UnknownExtension:
    """A non-critical extension of a type we do not know; disregarded (Sec. 6)."""

    type_name: str  # Clark notation {namespace}local of its xsi:type
    raw: RawXml
    critical: bool | None = None


Extension = Union[ClientInfo, ServerInfo, UnknownExtension]


@dataclass(frozen=True)
class KeyPackage:
    """KeyPackageType; the container itself is kept raw (reference/pskc interprets it)."""

    server_id: str | None = None
    key_protection_method: str | None = None
    key_container: RawXml | None = None  # <dskpp:KeyContainer> (pskc:KeyContainerType)
    other: RawXml | None = None  # ##other alternative


# ----------------------------------------------------------------------------- PDUs
@dataclass(frozen=True)
class InitializationTrigger:
    authentication_data: AuthenticationData
    device_identifier_data: DeviceIdentifierData | None = None
    key_id: bytes | None = None
    token_platform_info: TokenPlatformInfo | None = None
    server_url: str | None = None
    other: RawXml | None = None


@dataclass(frozen=True)
class KeyProvTrigger:
    """<KeyProvTrigger> (Sec. 4.2.1); Version is optional here."""

    trigger: InitializationTrigger | None = None
    other: RawXml | None = None
    version: str | None = None


@dataclass(frozen=True)
class KeyProvClientHello:
    """<KeyProvClientHello> (Sec. 4.2.2 four-pass, 5.2.2 two-pass)."""

    version: str
    supported_key_types: tuple[str, ...]
    supported_encryption_algorithms: tuple[str, ...]
    supported_mac_algorithms: tuple[str, ...]
    device_identifier_data: DeviceIdentifierData | None = None
    key_id: bytes | None = None
    client_nonce: bytes | None = None
    supported_protocol_variants: ProtocolVariants | None = None
    supported_key_packages: tuple[str, ...] = ()  # empty: element absent
    authentication_data: AuthenticationData | None = None
    extensions: tuple[Extension, ...] = ()


@dataclass(frozen=True)
class KeyProvServerHello:
    """<KeyProvServerHello> (Sec. 4.2.3).  The body is all-or-nothing (schema sequence)."""

    version: str
    status: Status
    session_id: str | None = None
    key_type: str | None = None
    encryption_algorithm: str | None = None
    mac_algorithm: str | None = None
    encryption_key: KeyInfo | None = None
    key_package_format: str | None = None
    payload: Payload | None = None
    extensions: tuple[Extension, ...] = ()
    mac: Mac | None = None

    @property
    def has_body(self) -> bool:
        return self.key_type is not None


@dataclass(frozen=True)
class KeyProvClientNonce:
    """<KeyProvClientNonce> (Sec. 4.2.4)."""

    version: str
    session_id: str
    encrypted_nonce: bytes
    authentication_data: AuthenticationData | None = None
    extensions: tuple[Extension, ...] = ()


@dataclass(frozen=True)
class KeyProvServerFinished:
    """<KeyProvServerFinished> (Sec. 4.2.5, 5.2.3).  Body all-or-nothing."""

    version: str
    status: Status
    session_id: str | None = None
    key_package: KeyPackage | None = None
    extensions: tuple[Extension, ...] = ()
    mac: Mac | None = None
    authentication_data: AuthenticationCodeMac | None = None  # server auth MAC (MAC 2)

    @property
    def has_body(self) -> bool:
        return self.key_package is not None


Message = Union[KeyProvTrigger, KeyProvClientHello, KeyProvServerHello, KeyProvClientNonce, KeyProvServerFinished]
REQUEST_TYPES = (KeyProvClientHello, KeyProvClientNonce)
RESPONSE_TYPES = (KeyProvServerHello, KeyProvServerFinished)
