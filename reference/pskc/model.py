"""The RFC 6030 data model as frozen dataclasses.

Absent optional elements are ``None`` (or an empty tuple); nothing is defaulted on
decode, so a document re-encodes to the same elements it came with.  Elements the model
does not interpret (``<Extensions>``, ``xs:any`` children, unknown children) are kept as
:class:`RawXML` so they survive a round trip.

Secrets (plain secret values, MAC keys) never show in ``repr``: they print as a
fingerprint (harness.redaction).  ``Finding`` lists are excluded from equality: they
describe how a document was written, not what it says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Union
from xml.etree import ElementTree

from harness.redaction import fingerprint

from .algorithms import KEY_USAGES

DATA_FIELDS = ("secret", "counter", "time", "time_interval", "time_drift")  # §4.1 <Data>


@dataclass(frozen=True)
class Finding:
    """Something a decoder noticed: a deviation from RFC 6030, a legacy form, a note.

    ``severity``: "deviation" (breaks a MUST or the schema; ``strict`` decoding refuses
    it), "legacy" (pre-RFC draft syntax; also refused by ``strict``), "note" (allowed but
    worth knowing, e.g. a non-canonical algorithm URI spelling).
    """

    code: str
    message: str
    spec: str
    severity: str = "deviation"
    where: str | None = None

    def __str__(self) -> str:
        at = f" ({self.where})" if self.where else ""
        return f"[{self.severity}] {self.code}: {self.message}{at} [{self.spec}]"


@lru_cache(maxsize=4096)
def _prefix_free(xml: bytes) -> str:
    # C14N 2.0 with prefix rewriting: namespace prefixes are a serialisation detail
    # (lxml may re-use a parent's prefix when the element is placed in a new tree).
    return ElementTree.canonicalize(xml_data=xml.decode("utf-8"), rewrite_prefixes=True)


@dataclass(frozen=True, eq=False)
class RawXML:
    """An element kept verbatim: exclusive XML canonical form (no comments).

    Equality ignores namespace prefixes (C14N 2.0 with prefix rewriting).
    """

    tag: str  # Clark notation {ns}local
    xml: bytes

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RawXML):
            return NotImplemented
        return self.tag == other.tag and (self.xml == other.xml or _prefix_free(self.xml) == _prefix_free(other.xml))

    def __hash__(self) -> int:
        return hash((self.tag, _prefix_free(self.xml)))

    def __repr__(self) -> str:
        # extension content can carry secrets (e.g. YubiKey lock codes): never print it
        return f"RawXML({self.tag!r}, {len(self.xml)} octets)"


# --------------------------------------------------------------------------- values
@dataclass(frozen=True)
class PlainValue:
    """<PlainValue>: bytes for <Secret>, int for the integer data elements."""

    value: bytes | int
    value_mac: bytes | None = None  # a <ValueMAC> next to a plain value (kept, unused)

    def __repr__(self) -> str:
        shown = fingerprint(self.value) if isinstance(self.value, bytes) else repr(self.value)
        return f"PlainValue({shown})"


@dataclass(frozen=True)
class EncryptedValue:
    """<EncryptedValue> (xenc:EncryptedDataType) plus the sibling <ValueMAC>.

    ``cipher_value`` is the decoded <CipherValue> exactly as carried: for CBC modes the
    IV is its first block (RFC 6030 §6.1, XML-Enc §5.2).
    """

    algorithm: str | None
    cipher_value: bytes
    value_mac: bytes | None = None
    id: str | None = None
    # Draft-era <EncryptionMethod Algorithm="...pkcs-5#pbes2"><EncryptionScheme .../>:
    # the outer URI is kept here, ``algorithm`` holds the scheme.
    outer_algorithm: str | None = None
    # xenc:OAEPparams / ds:DigestMethod inside EncryptionMethod (RSA-OAEP only)
    oaep_params: bytes | None = None
    oaep_digest: str | None = None

    def __repr__(self) -> str:
        return f"EncryptedValue({self.algorithm!r}, {len(self.cipher_value)} octets, mac={self.value_mac is not None})"


DataValue = Union[PlainValue, EncryptedValue]


@dataclass(frozen=True)
class KeyData:
    """<Data> (§4.1): each element a PlainValue or an EncryptedValue."""

    secret: DataValue | None = None
    counter: DataValue | None = None
    time: DataValue | None = None
    time_interval: DataValue | None = None
    time_drift: DataValue | None = None
    unknown: tuple[RawXML, ...] = ()  # xs:any ##other (RFC 6030 §11 KeyDataType)

    def values(self) -> dict[str, DataValue]:
        return {name: v for name in DATA_FIELDS if (v := getattr(self, name)) is not None}


# --------------------------------------------------------------------------- key parts
@dataclass(frozen=True)
class ChallengeFormat:
    """§4.3.4; ``check_digits`` None = attribute absent (schema default false)."""

    encoding: str | None  # required by the schema; None only when a file omits it
    min: int | None
    max: int | None
    check_digits: bool | None = None


@dataclass(frozen=True)
class ResponseFormat:
    encoding: str | None
    length: int | None
    check_digits: bool | None = None


@dataclass(frozen=True)
class AlgorithmParameters:
    suite: str | None = None
    challenge_format: ChallengeFormat | None = None
    response_format: ResponseFormat | None = None
    extensions: tuple[RawXML, ...] = ()


@dataclass(frozen=True)
class PINPolicy:
    """§5 <PINPolicy>; ``other_attributes`` holds anyAttribute ##other (name, value)."""

    pin_key_id: str | None = None
    pin_usage_mode: str | None = None
    max_failed_attempts: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    pin_encoding: str | None = None
    other_attributes: tuple[tuple[str, str], ...] = ()
    unknown: tuple[RawXML, ...] = ()  # child elements (the schema allows none)


@dataclass(frozen=True)
class Policy:
    start_date: datetime | None = None
    expiry_date: datetime | None = None
    pin_policy: PINPolicy | None = None
    key_usage: tuple[str, ...] = ()
    number_of_transactions: int | None = None
    unknown: tuple[RawXML, ...] = ()  # xs:any ##other and anything not understood

    @property
    def usage_permitted(self) -> bool:
        """RFC 6030 §5: anything in <Policy> not understood => key usage not permitted."""
        if self.unknown or any(u not in KEY_USAGES for u in self.key_usage):
            return False
        pin = self.pin_policy
        return pin is None or not (pin.unknown or pin.other_attributes)


@dataclass(frozen=True)
class Key:
    """<Key> (§4.1).  ``id`` is required by the schema but real files omit it."""

    id: str | None = None
    algorithm: str | None = None
    issuer: str | None = None
    algorithm_parameters: AlgorithmParameters | None = None
    key_profile_id: str | None = None
    key_reference: str | None = None
    friendly_name: str | None = None
    friendly_name_lang: str | None = None  # xml:lang on <FriendlyName> (§4.1)
    data: KeyData | None = None
    user_id: str | None = None
    policy: Policy | None = None
    extensions: tuple[RawXML, ...] = ()
    unknown: tuple[RawXML, ...] = ()


@dataclass(frozen=True)
class DeviceInfo:
    """§4.3.1."""

    manufacturer: str | None = None
    serial_no: str | None = None
    model: str | None = None
    issue_no: str | None = None
    device_binding: str | None = None
    start_date: datetime | None = None
    expiry_date: datetime | None = None
    user_id: str | None = None
    extensions: tuple[RawXML, ...] = ()


@dataclass(frozen=True)
class CryptoModuleInfo:
    """§4.3.2."""

    id: str | None
    extensions: tuple[RawXML, ...] = ()


@dataclass(frozen=True)
class KeyPackage:
    """§3: at most one key and the device / crypto module it belongs to."""

    device_info: DeviceInfo | None = None
    crypto_module_info: CryptoModuleInfo | None = None
    key: Key | None = None
    extensions: tuple[RawXML, ...] = ()
    findings: tuple[Finding, ...] = field(default=(), compare=False, repr=False)


# --------------------------------------------------------------------------- protection
@dataclass(frozen=True)
class PBKDF2Params:
    """PKCS #5 PBKDF2-params (RFC 6030 §6.2).  ``prf`` None = default HMAC-SHA1."""

    salt: bytes
    iteration_count: int
    key_length: int | None = None
    prf: str | None = None


@dataclass(frozen=True)
class DerivedKey:
    """xenc11:DerivedKey (RFC 6030 §6.2)."""

    algorithm: str | None  # KeyDerivationMethod/@Algorithm
    pbkdf2: PBKDF2Params | None = None
    reference_uris: tuple[str, ...] = ()  # xenc:ReferenceList/DataReference/@URI
    master_key_name: str | None = None
    derived_key_name: str | None = None
    id: str | None = None
    type: str | None = None


@dataclass(frozen=True)
class EncryptionKey:
    """<EncryptionKey> (ds:KeyInfoType): §6.1 KeyName, §6.2 DerivedKey, §6.3 X509Data."""

    key_names: tuple[str, ...] = ()
    derived_key: DerivedKey | None = None
    x509_certificates: tuple[bytes, ...] = ()  # DER
    id: str | None = None
    unknown: tuple[RawXML, ...] = ()


@dataclass(frozen=True)
class MACMethod:
    """<MACMethod> (§6.1.1).  After decryption ``mac_key`` holds the plain MAC key."""

    algorithm: str | None
    encrypted_mac_key: EncryptedValue | None = None
    mac_key_reference: str | None = None
    mac_key: bytes | None = field(default=None, repr=False)
    unknown: tuple[RawXML, ...] = ()


@dataclass(frozen=True)
class Signature:
    """An XML signature over the container (§7), described and kept verbatim."""

    raw: RawXML
    canonicalization_method: str | None = None
    signature_method: str | None = None
    digest_methods: tuple[str, ...] = ()
    reference_uris: tuple[str, ...] = ()
    certificates: tuple[bytes, ...] = ()  # DER, from KeyInfo/X509Data


@dataclass(frozen=True)
class KeyContainer:
    """<KeyContainer> (§4).  ``dialect`` is "rfc6030" or the draft a legacy file follows."""

    key_packages: tuple[KeyPackage, ...] = ()
    version: str | None = "1.0"
    id: str | None = None
    encryption_key: EncryptionKey | None = None
    mac_method: MACMethod | None = None
    signature: Signature | None = None
    extensions: tuple[RawXML, ...] = ()
    dialect: str = field(default="rfc6030", compare=False)
    findings: tuple[Finding, ...] = field(default=(), compare=False, repr=False)

    def all_findings(self) -> tuple[Finding, ...]:
        return self.findings + tuple(f for p in self.key_packages for f in p.findings)

    @property
    def keys(self) -> tuple[Key, ...]:
        return tuple(p.key for p in self.key_packages if p.key is not None)

    @property
    def is_encrypted(self) -> bool:
        """True while any data value is still an EncryptedValue."""
        return any(
            isinstance(v, EncryptedValue)
            for k in self.keys
            if k.data is not None
            for v in k.data.values().values()
        )
