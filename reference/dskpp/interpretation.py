"""Every reading of an ambiguous RFC 6063 sentence, as a selectable option.

RFC 6063 leaves several byte layouts and algorithm choices open (see
docs/dskpp-interpretations.md, one section per field below).  The reference engine takes
one ``Interpretation``; its defaults are our chosen readings, and every alternative a
vendor could plausibly have taken is an enum member, so the lab can replay an exchange
under each reading and tell which one a vendor implemented.

Field ``n`` of ``Interpretation`` (in declaration order) is section ``I-<n>`` of the
interpretations document; tests/reference/dskpp/test_interpretation.py keeps them in step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from enum import Enum
from typing import Any

from harness.errors import InputError


class AesPrfKey(Enum):
    """I-1: DSKPP-PRF-AES ("prf-aes-128") given a key k longer than 16 octets."""

    TRUNCATE_TO_16 = "truncate-to-16"  # first 16 octets, as Sec. 5.2.2 truncates K_MAC
    AES_BY_KEY_LENGTH = "aes-by-key-length"  # 16/24/32 octets -> AES-128/192/256
    REQUIRE_16 = "require-16"  # anything but 16 octets is refused


class Sha256Block(Enum):
    """I-2: block length of DSKPP-PRF-SHA256 (App. D.3.2 says "bLen = 32 (normally, bLen = 16)")."""

    FULL_32 = "full-32"  # whole HMAC-SHA256 outputs ("no truncation is done on the HMAC output")
    TRUNCATED_16 = "truncated-16"  # each block cut to 16 octets, as the stray note suggests


class PublicKeyOctets(Enum):
    """I-3: the octets of K when K is a public key (K_SERVER, client/device key)."""

    SPKI_DER = "spki-der"  # DER SubjectPublicKeyInfo
    PKCS1_DER = "pkcs1-der"  # DER RSAPublicKey (modulus, exponent)
    MODULUS = "modulus"  # unsigned big-endian modulus, no leading zero octets
    CERTIFICATE_DER = "certificate-der"  # the DER X.509 certificate that carried the key


class SharedKeyOctets(Enum):
    """I-4: the octets of K when K is a pre-shared key (K_SHARED)."""

    RAW_KEY = "raw-key"  # the secret key octets themselves
    KEY_NAME_UTF8 = "key-name-utf8"  # the ds:KeyName that identifies it, UTF-8


class KProvLength(Enum):
    """I-5: four-pass dsLen for K_PROV (Sec. 4.1.2 leaves it open)."""

    TWICE_MAX_TOKEN_MAC = "twice-max-token-mac"  # Sec. 5.2.2 rule: 2 * max(token, MAC key)
    TWICE_TOKEN = "twice-token"  # K_MAC as long as K_TOKEN


class KeyConfirmationInput(Enum):
    """I-6: what the key confirmation MAC ("MAC 1 computation") covers."""

    MESSAGE_HASH = "message-hash"  # Sec. 4.2.4 / 5.2.2 formulas (msg_hash [|| ServerID])
    NONCE_CTKIP = "nonce-ctkip"  # Sec. 10.6.2 / App. C: R_C (4-pass), ServerID || R (2-pass)


class MessageHashInput(Enum):
    """I-7: which bytes of each message enter msg_hash (Sec. 3.4.3 c)."""

    RAW_BYTES = "raw-bytes"  # the octets of the HTTP body exactly as sent
    C14N = "c14n"  # Canonical XML 1.0 (inclusive, no comments) of the document
    EXC_C14N = "exc-c14n"  # Exclusive XML Canonicalization 1.0 of the document


class RenewalMacInput(Enum):
    """I-9: input s of the four-pass <KeyProvServerHello> <Mac> (Sec. 4.2.3 gives none)."""

    MAC2_RS = "mac2-rs"  # "MAC 2 computation" || R_S
    MAC2_R_RS = "mac2-r-rs"  # "MAC 2 computation" || [R ||] R_S
    CTKIP_MAC1_R_RS = "ctkip-mac1-r-rs"  # RFC 4758 §3.8.5: "MAC 1 computation" || [R ||] R_S


class RenewalMacPrf(Enum):
    """I-10: which PRF computes a renewal MAC when <Mac MacAlgorithm> names another one."""

    MAC_ATTRIBUTE = "mac-attribute"  # the Mac element's MacAlgorithm if present
    NEGOTIATED = "negotiated"  # always the negotiated <MacAlgorithm>


class PreviousMacKey(Enum):
    """I-11: K_MAC' of a renewal MAC (Sec. 4.2.3, 5.2.2 allow either; App. C.2 too)."""

    PREVIOUS_K_MAC = "previous-k-mac"  # the K_MAC of the run that provisioned the old key
    REPLACED_K_TOKEN = "replaced-k-token"  # the K_TOKEN being replaced


class AcFieldOctets(Enum):
    """I-13/I-14: octets of AC->ClientID / AC->password inside MAC and PBKDF2 inputs."""

    HEX_STRING_ASCII = "hex-string-ascii"  # the TLV value's hex characters, ASCII
    HEX_DECODED = "hex-decoded"  # the octets the hex characters denote


class Pbkdf2Prf(Enum):
    """I-15: the PRF inside PBKDF2 for K_AC (PKCS #5 v2.0 default is HMAC-SHA-1)."""

    HMAC_SHA1 = "hmac-sha1"
    HMAC_SHA256 = "hmac-sha256"


class AcMacPrfDefault(Enum):
    """I-16: PRF for an AuthenticationCodeMac whose <Mac> has no MacAlgorithm."""

    DSKPP_PRF_AES = "dskpp-prf-aes"  # Sec. 3.4.1.2 points at DSKPP-PRF-AES
    NEGOTIATED = "negotiated"  # the run's MacAlgorithm (first offered in two-pass)


class MissingIterationCount(Enum):
    """I-17: an AuthenticationCodeMac without <IterationCount>."""

    RULE_VALUE = "rule-value"  # the count Sec. 3.4.1.2 mandates: 100,000, or 1
    REJECT = "reject"  # AuthenticationDataInvalid


class TriggerAdCheck(Enum):
    """I-18: how a server checks the AD that came from a <KeyProvTrigger>."""

    STORED_EQUALITY = "stored-equality"  # equal to the AD the web application passed (Sec. 4.2.1 step 6)
    RECOMPUTE = "recompute"  # Sec. 3.4.1.2 with R_C = the AuthenticationCodeMac <Nonce> (or empty)


class TriggeredClientNonceAd(Enum):
    """I-19: AD in a four-pass <KeyProvClientNonce> after a trigger (the client has AD, not AC)."""

    COPY_TRIGGER_AD = "copy-trigger-ad"
    OMIT = "omit"


class Crc16Variant(Enum):
    """I-20: the CRC16 of the AC Checksum TLV ("CRC16 algorithm [ISO3309]")."""

    ISO_HDLC = "iso-hdlc"  # ISO 3309 FCS-16 = CRC-16/IBM-SDLC, RFC 1662 App. C
    ARC = "arc"  # poly 0x8005 reflected, init 0 ("CRC-16" in many libraries)
    KERMIT = "kermit"  # poly 0x1021 reflected, init 0
    XMODEM = "xmodem"  # poly 0x1021, init 0
    IBM_3740 = "ibm-3740"  # poly 0x1021, init 0xFFFF ("CCITT-FALSE")
    MODBUS = "modbus"  # poly 0x8005 reflected, init 0xFFFF


class ChecksumInput(Enum):
    """I-21: what the AC checksum covers."""

    AC_ASCII = "ac-ascii"  # the typed characters before the Checksum TLV, ASCII
    AC_HEX_DECODED = "ac-hex-decoded"  # the octets those hex characters denote


class ChecksumFormat(Enum):
    """I-22: how the CRC value is written in the Checksum TLV."""

    FOUR_HEX_DIGITS = "four-hex-digits"  # "04D5"
    MINIMAL_HEX = "minimal-hex"  # "4D5", as the RFC's example


class NonceXorPrf(Enum):
    """I-23: which PRF realization drives the Sec. 4.2.3 XOR encryption of R_C."""

    ENCRYPTION_ALGORITHM = "encryption-algorithm"  # the PRF URI given as EncryptionAlgorithm
    MAC_ALGORITHM = "mac-algorithm"  # the negotiated MacAlgorithm


class CbcPadding(Enum):
    """I-24: padding check when decrypting aes128-cbc (XML Encryption Sec. 5.2)."""

    XMLENC = "xmlenc"  # only the last octet (pad length 1..16) is checked
    PKCS7_STRICT = "pkcs7-strict"  # every pad octet must equal the pad length


class TwoPassNonceSource(Enum):
    """I-26: where a two-pass server finds R (R_C) of the <KeyProvClientHello>."""

    CLIENT_NONCE_ELSE_AUTH_MAC = "client-nonce-else-auth-mac"
    CLIENT_NONCE_ONLY = "client-nonce-only"  # <ClientNonce> (Sec. 5.2.2, schema)
    AUTH_MAC_NONCE_ONLY = "auth-mac-nonce-only"  # <AuthenticationCodeMac><Nonce> (App. B.3)


class PassphraseSaltKey(Enum):
    """I-28: K in the K_AC salt R_C || K when K is "a passphrase-derived key"."""

    PASSPHRASE_OCTETS = "passphrase-octets"  # UTF-8 of the (SASLprep'd) passphrase
    OMITTED = "omitted"  # salt = R_C alone


class MissingServerId(Enum):
    """I-29: two-pass MAC computation when <KeyPackage> has no <ServerID>."""

    REJECT = "reject"  # Sec. 5.2.2: the server MUST include it
    EMPTY = "empty"  # as the App. B.3 examples (which omit it): ServerID = ""


class TwoPassEncryptionChoice(Enum):
    """I-30: how a two-pass server picks the algorithm that protects K_PROV."""

    OFFERED = "offered"  # from <SupportedEncryptionAlgorithms>, fitting the method (Sec. 5.2.2)
    METHOD_DEFAULT = "method-default"  # the method's mandatory algorithm whatever was offered (App. B.3.3)


class PassphraseSource(Enum):
    """I-31: the passphrase of the two-pass passphrase-based key wrap and its <ds:KeyName>."""

    AC_PASSWORD = "ac-password"  # KeyName = AC ClientID, passphrase = AC password (Sec. 5.2.2, 10.6.5)
    NAMED_PASSPHRASE = "named-passphrase"  # KeyName names a separately agreed passphrase (App. B.3.3)


@dataclass(frozen=True)
class Interpretation:
    """One consistent reading of RFC 6063.  Defaults are the reference's readings."""

    aes_prf_key: AesPrfKey = AesPrfKey.TRUNCATE_TO_16
    prf_sha256_block: Sha256Block = Sha256Block.FULL_32
    public_key_octets: PublicKeyOctets = PublicKeyOctets.SPKI_DER
    shared_key_octets: SharedKeyOctets = SharedKeyOctets.RAW_KEY
    k_prov_length: KProvLength = KProvLength.TWICE_MAX_TOKEN_MAC
    key_confirmation_input: KeyConfirmationInput = KeyConfirmationInput.MESSAGE_HASH
    message_hash_input: MessageHashInput = MessageHashInput.RAW_BYTES
    message_hash_includes_trigger: bool = False  # I-8
    renewal_mac_input: RenewalMacInput = RenewalMacInput.MAC2_RS
    renewal_mac_prf: RenewalMacPrf = RenewalMacPrf.MAC_ATTRIBUTE
    previous_mac_key: PreviousMacKey = PreviousMacKey.PREVIOUS_K_MAC
    server_auth_mac_length: int = 16  # I-12: dsLen of "MAC 2 computation" we send
    ac_client_id_octets: AcFieldOctets = AcFieldOctets.HEX_STRING_ASCII
    ac_password_octets: AcFieldOctets = AcFieldOctets.HEX_STRING_ASCII
    pbkdf2_prf: Pbkdf2Prf = Pbkdf2Prf.HMAC_SHA1
    ac_mac_default_prf: AcMacPrfDefault = AcMacPrfDefault.DSKPP_PRF_AES
    missing_iteration_count: MissingIterationCount = MissingIterationCount.RULE_VALUE
    trigger_ad_check: TriggerAdCheck = TriggerAdCheck.STORED_EQUALITY
    triggered_client_nonce_ad: TriggeredClientNonceAd = TriggeredClientNonceAd.COPY_TRIGGER_AD
    crc16: Crc16Variant = Crc16Variant.ISO_HDLC
    checksum_input: ChecksumInput = ChecksumInput.AC_ASCII
    checksum_format: ChecksumFormat = ChecksumFormat.FOUR_HEX_DIGITS
    nonce_xor_prf: NonceXorPrf = NonceXorPrf.ENCRYPTION_ALGORITHM
    cbc_padding: CbcPadding = CbcPadding.XMLENC
    accept_rsa_1_5_underscore: bool = False  # I-25: "xmlenc#rsa_1_5" of App. B.3
    two_pass_nonce_source: TwoPassNonceSource = TwoPassNonceSource.CLIENT_NONCE_ELSE_AUTH_MAC
    saslprep_allow_unassigned: bool = False  # I-27: RFC 3454 §7 "stored strings"
    passphrase_salt_key: PassphraseSaltKey = PassphraseSaltKey.PASSPHRASE_OCTETS
    missing_server_id: MissingServerId = MissingServerId.REJECT
    two_pass_encryption_choice: TwoPassEncryptionChoice = TwoPassEncryptionChoice.OFFERED
    passphrase_source: PassphraseSource = PassphraseSource.AC_PASSWORD

    def __post_init__(self) -> None:
        # Sec. 5.2.2: "dsLen MUST be set to at least 16".
        if self.server_auth_mac_length < 16:
            raise InputError(
                "server_auth_mac_length must be >= 16 (RFC 6063 §5.2.2)", where="Interpretation"
            )

    def as_dict(self) -> dict[str, Any]:
        """Plain values (enum values, bools, ints) for reports and evidence."""
        out = {}
        for name, value in asdict(self).items():
            out[name] = value.value if isinstance(value, Enum) else value
        return out

    def differences(self) -> dict[str, Any]:
        """The options that differ from the reference's default readings."""
        default = Interpretation()
        return {
            f.name: self.as_dict()[f.name]
            for f in fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }


DEFAULT_INTERPRETATION = Interpretation()

__all__ = [
    "AesPrfKey",
    "Sha256Block",
    "PublicKeyOctets",
    "SharedKeyOctets",
    "KProvLength",
    "KeyConfirmationInput",
    "MessageHashInput",
    "RenewalMacInput",
    "RenewalMacPrf",
    "PreviousMacKey",
    "AcFieldOctets",
    "Pbkdf2Prf",
    "AcMacPrfDefault",
    "MissingIterationCount",
    "TriggerAdCheck",
    "TriggeredClientNonceAd",
    "Crc16Variant",
    "ChecksumInput",
    "ChecksumFormat",
    "NonceXorPrf",
    "CbcPadding",
    "TwoPassNonceSource",
    "PassphraseSaltKey",
    "MissingServerId",
    "TwoPassEncryptionChoice",
    "PassphraseSource",
    "DEFAULT_INTERPRETATION",
]
