"""User authentication: the Authentication Code (AC) and Authentication Data (AD).

RFC 6063 §3.4.1.1 (AC format: hexadecimal TLVs, CRC16 checksum, SASLprep of
non-hexadecimal user input) and Sec. 3.4.1.2 (K_AC by PBKDF2, the AD MAC).

The AC is user input (typed or taken from a trigger page), never a wire element, so a bad
AC raises ``InputError``; a wrong AD MAC is a protocol finding (``CryptoFailure`` with
status ``AuthenticationDataInvalid``).
"""

from __future__ import annotations

import hmac as _hmac
import stringprep
import unicodedata
from dataclasses import dataclass, field
from enum import Enum

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from harness.errors import CryptoFailure, InputError, ProtocolError
from reference.dskpp.interpretation import (
    DEFAULT_INTERPRETATION,
    AcFieldOctets,
    ChecksumFormat,
    ChecksumInput,
    Crc16Variant,
    Interpretation,
    Pbkdf2Prf,
)
from reference.dskpp.prf import Prf, dskpp_prf

_HEX = frozenset("0123456789abcdefABCDEF")
_SPEC_AC = "RFC 6063 §3.4.1.1"
_SPEC_AD = "RFC 6063 §3.4.1.2"

TLV_CLIENT_ID = 0x1
TLV_PASSWORD = 0x2
TLV_CHECKSUM = 0x3
AC_MAC_LENGTH = 16  # MAC = DSKPP-PRF(K_AC, ..., 16)
K_AC_LENGTH = 16  # K_AC = PBKDF2(..., 16)
MIN_ITERATIONS_PUBLIC_KEY = 100_000


# ----------------------------------------------------------------------------- CRC16
# (poly, init, reflected, xorout); the catalogue names are those of the CRC RevEng list.
_CRC16 = {
    Crc16Variant.ISO_HDLC: (0x1021, 0xFFFF, True, 0xFFFF),
    Crc16Variant.ARC: (0x8005, 0x0000, True, 0x0000),
    Crc16Variant.KERMIT: (0x1021, 0x0000, True, 0x0000),
    Crc16Variant.XMODEM: (0x1021, 0x0000, False, 0x0000),
    Crc16Variant.IBM_3740: (0x1021, 0xFFFF, False, 0x0000),
    Crc16Variant.MODBUS: (0x8005, 0xFFFF, True, 0x0000),
}


def crc16(data: bytes, variant: Crc16Variant = Crc16Variant.ISO_HDLC) -> int:
    """Bitwise CRC-16; ISO_HDLC is the ISO 3309 FCS-16 the RFC cites."""
    poly, crc, reflected, xorout = _CRC16[variant]
    if reflected:
        rpoly = int(f"{poly:016b}"[::-1], 2)
        for byte in data:
            crc ^= byte
            for _ in range(8):
                crc = (crc >> 1) ^ rpoly if crc & 1 else crc >> 1
    else:
        for byte in data:
            crc ^= byte << 8
            for _ in range(8):
                crc = ((crc << 1) ^ poly) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc ^ xorout


# ----------------------------------------------------------------------------- SASLprep
_PROHIBITED = (
    stringprep.in_table_c12,  # non-ASCII space
    stringprep.in_table_c21,  # ASCII control
    stringprep.in_table_c22,  # non-ASCII control
    stringprep.in_table_c3,  # private use
    stringprep.in_table_c4,  # non-character code points
    stringprep.in_table_c5,  # surrogates
    stringprep.in_table_c6,  # inappropriate for plain text
    stringprep.in_table_c7,  # inappropriate for canonical representation
    stringprep.in_table_c8,  # change display properties / deprecated
    stringprep.in_table_c9,  # tagging characters
)


def saslprep(text: str, *, allow_unassigned: bool = False) -> str:
    """RFC 4013 SASLprep: the RFC 3454 profile for user names and passwords.

    Unassigned code points (RFC 3454 Table A.1) are refused unless ``allow_unassigned``
    (RFC 3454 §7: "stored strings" refuse them, "queries" allow them).
    Errors never echo the input (it is a password); they name the position.
    """
    mapped = []
    for ch in text:
        if stringprep.in_table_b1(ch):  # RFC 4013 §2.1: commonly mapped to nothing
            continue
        mapped.append(" " if stringprep.in_table_c12(ch) else ch)  # non-ASCII space -> SPACE
    # Sec. 2.2: NFKC, with the Unicode 3.2 tables stringprep is defined on.
    prepared = unicodedata.ucd_3_2_0.normalize("NFKC", "".join(mapped))
    for pos, ch in enumerate(prepared):
        if any(table(ch) for table in _PROHIBITED):
            raise InputError("prohibited character (RFC 4013 §2.3)", where=f"SASLprep position {pos}")
        if not allow_unassigned and stringprep.in_table_a1(ch):
            raise InputError("unassigned code point (RFC 4013 §2.5)", where=f"SASLprep position {pos}")
    # Sec. 2.4 -> RFC 3454 §6 bidirectional rules.
    if any(stringprep.in_table_d1(ch) for ch in prepared):
        if any(stringprep.in_table_d2(ch) for ch in prepared):
            raise InputError("mixes right-to-left and left-to-right characters (RFC 3454 §6)", where="SASLprep")
        if not (stringprep.in_table_d1(prepared[0]) and stringprep.in_table_d1(prepared[-1])):
            raise InputError("right-to-left string must start and end with RandALCat (RFC 3454 §6)", where="SASLprep")
    return prepared


def hex_field_from_user_input(
    value: str, *, text: bool, interp: Interpretation = DEFAULT_INTERPRETATION
) -> str:
    """The hexadecimal TLV value for a Client ID or Password the user entered.

    ``text=True``: the application lets users type other printable characters, so the
    input is SASLprep'd, UTF-8 encoded and written as uppercase hex (the RFC's
    "myclient!D" -> "6D79636C69656E742144" example).  ``text=False``: the input must
    already be hexadecimal characters and is kept as typed.
    """
    if text:
        return saslprep(value, allow_unassigned=interp.saslprep_allow_unassigned).encode("utf-8").hex().upper()
    if not value or not set(value) <= _HEX:
        raise InputError("value must be hexadecimal characters", where="Authentication Code field")
    return value


# ----------------------------------------------------------------------------- AC TLVs
@dataclass(frozen=True)
class AcTlv:
    """One Type-Length-Value triple; ``value`` is the hexadecimal character string."""

    type: int
    value: str = field(repr=False)

    @property
    def vendor_specific(self) -> bool:
        return self.type >= 0x8  # "the high bit MUST be set to indicate a vendor-specific type"

    def encode(self) -> str:
        return f"{self.type:X}{len(self.value):02X}{self.value}"


@dataclass(frozen=True)
class AuthenticationCode:
    """A parsed AC.  Secrets are kept out of repr()."""

    client_id: str
    password: str = field(repr=False)
    checksum: int | None = None
    tlvs: tuple[AcTlv, ...] = field(default=(), repr=False)


def _checksum_over(prefix: str, interp: Interpretation) -> int:
    if interp.checksum_input is ChecksumInput.AC_ASCII:
        data = prefix.encode("ascii")
    else:
        if len(prefix) % 2:
            raise InputError("odd number of hex characters before the checksum", where="AC checksum")
        data = bytes.fromhex(prefix)
    return crc16(data, interp.crc16)


def format_authentication_code(
    client_id: str,
    password: str,
    *,
    with_checksum: bool = False,
    extra: tuple[AcTlv, ...] = (),
    interp: Interpretation = DEFAULT_INTERPRETATION,
) -> str:
    """AC = ClientID TLV || Password TLV || extra TLVs [|| Checksum TLV over all before it]."""
    tlvs = (AcTlv(TLV_CLIENT_ID, client_id), AcTlv(TLV_PASSWORD, password), *extra)
    for tlv in tlvs:
        _check_tlv(tlv.type, tlv.value)
    text = "".join(t.encode() for t in tlvs)
    if with_checksum:
        crc = _checksum_over(text, interp)
        value = f"{crc:04X}" if interp.checksum_format is ChecksumFormat.FOUR_HEX_DIGITS else f"{crc:X}"
        text += AcTlv(TLV_CHECKSUM, value).encode()
    return text


def _check_tlv(tlv_type: int, value: str) -> None:
    if not 0 <= tlv_type <= 0xF:
        raise InputError("TLV type must be one hex character", where="AC")
    if len(value) > 255:
        raise InputError("TLV value longer than 255 characters", where="AC")
    if not set(value) <= _HEX:
        raise InputError("TLV value must be hexadecimal characters", where=f"AC TLV type {tlv_type:X}")
    if tlv_type in (TLV_CLIENT_ID, TLV_PASSWORD) and not value:
        raise InputError("Client ID and Password TLVs must not be empty", where=f"AC TLV type {tlv_type:X}")


def parse_authentication_code(
    text: str, *, verify_checksum: bool = True, interp: Interpretation = DEFAULT_INTERPRETATION
) -> AuthenticationCode:
    """Split an AC into TLVs; a Checksum TLV must be last and is verified by default.

    Types 4-7 are "left for later revisions" and refused; types 8-F are vendor TLVs and
    kept.  The checksum value is compared as a number, so both "04D5" and "4D5" match.
    """
    tlvs: list[AcTlv] = []
    pos = 0
    checksum_at = None
    while pos < len(text):
        where = f"AC character {pos}"
        head = text[pos : pos + 3]
        if len(head) < 3 or not set(head) <= _HEX:
            raise InputError("truncated or non-hexadecimal TLV header", where=where)
        tlv_type, length = int(head[0], 16), int(head[1:3], 16)
        value = text[pos + 3 : pos + 3 + length]
        if len(value) != length:
            raise InputError("TLV value shorter than its length field", where=where)
        if checksum_at is not None:
            raise InputError("Checksum TLV must be the last TLV", where=where)
        if 0x4 <= tlv_type <= 0x7:
            raise InputError(f"TLV type {tlv_type:X} is reserved for later revisions", where=where)
        if tlv_type in (TLV_CLIENT_ID, TLV_PASSWORD, TLV_CHECKSUM) and any(t.type == tlv_type for t in tlvs):
            raise InputError(f"duplicate TLV type {tlv_type:X}", where=where)
        _check_tlv(tlv_type, value)
        if tlv_type == TLV_CHECKSUM:
            checksum_at = pos
        tlvs.append(AcTlv(tlv_type, value))
        pos += 3 + length
    by_type = {t.type: t.value for t in tlvs}
    if TLV_CLIENT_ID not in by_type or TLV_PASSWORD not in by_type:
        raise InputError("AC lacks the mandatory Client ID or Password TLV", where="AC")
    checksum = None
    if checksum_at is not None:
        if not by_type[TLV_CHECKSUM]:
            raise InputError("empty Checksum TLV", where="AC")
        checksum = int(by_type[TLV_CHECKSUM], 16)
        if verify_checksum and checksum != _checksum_over(text[:checksum_at], interp):
            raise InputError("checksum does not match: the AC was mistyped", where="AC Checksum TLV")
    return AuthenticationCode(by_type[TLV_CLIENT_ID], by_type[TLV_PASSWORD], checksum, tuple(tlvs))


# ----------------------------------------------------------------------------- AD
class SaltKeyKind(Enum):
    """Which K enters the K_AC salt (Sec. 3.4.1.2 list a./b.)."""

    SERVER_PUBLIC_KEY = "server-public-key"  # four-pass K_SERVER
    CLIENT_PUBLIC_KEY = "client-public-key"  # two-pass client or device public key
    SHARED_KEY = "shared-key"  # K_SHARED (four-pass or two-pass)
    PASSPHRASE_KEY = "passphrase-key"  # two-pass passphrase-derived key


def check_iteration_count(count: int, kind: SaltKeyKind, *, two_pass: bool) -> None:
    """Sec. 3.4.1.2: >= 100,000, except exactly 1 in the two-pass K_SHARED/passphrase cases."""
    exact_one = two_pass and kind in (SaltKeyKind.SHARED_KEY, SaltKeyKind.PASSPHRASE_KEY)
    if exact_one and count != 1:
        raise ProtocolError(
            f"iteration count {count} where the RFC requires 1",
            status="AuthenticationDataInvalid", spec=_SPEC_AD, where="AuthenticationCodeMac/IterationCount",
        )
    if not exact_one and count < MIN_ITERATIONS_PUBLIC_KEY:
        raise ProtocolError(
            f"iteration count {count} is below the required 100,000",
            status="AuthenticationDataInvalid", spec=_SPEC_AD, where="AuthenticationCodeMac/IterationCount",
        )


def field_octets(value: str, reading: AcFieldOctets) -> bytes:
    """The octets of an AC field value under reading I-13/I-14."""
    if reading is AcFieldOctets.HEX_STRING_ASCII:
        return value.encode("ascii")
    if len(value) % 2:
        raise InputError("odd number of hex characters cannot be decoded", where="AC field")
    return bytes.fromhex(value)


def derive_k_ac(
    password: str,
    *,
    r_c: bytes,
    k_octets: bytes,
    iteration_count: int,
    interp: Interpretation = DEFAULT_INTERPRETATION,
) -> bytes:
    """K_AC = PBKDF2(AC->password, R_C || K, iter_count, 16)."""
    if iteration_count < 1:
        raise InputError("PBKDF2 iteration count must be positive", where="derive_k_ac")
    algorithm = hashes.SHA1() if interp.pbkdf2_prf is Pbkdf2Prf.HMAC_SHA1 else hashes.SHA256()
    kdf = PBKDF2HMAC(algorithm=algorithm, length=K_AC_LENGTH, salt=r_c + k_octets, iterations=iteration_count)
    return kdf.derive(field_octets(password, interp.ac_password_octets))


def authentication_code_mac(
    prf: Prf,
    k_ac: bytes,
    *,
    client_id: str,
    server_url: str,
    r_c: bytes,
    r_s: bytes | None = None,
    interp: Interpretation = DEFAULT_INTERPRETATION,
) -> bytes:
    """MAC = DSKPP-PRF(K_AC, AC->ClientID || URL_S || R_C || [R_S], 16).

    Four-pass passes R_S; two-pass passes ``r_s=None`` (the client has no R_S).
    URL_S is the URL the client uses to contact the server, UTF-8.
    """
    s = field_octets(client_id, interp.ac_client_id_octets) + server_url.encode("utf-8") + r_c
    if r_s is not None:
        s += r_s
    return dskpp_prf(prf, k_ac, s, AC_MAC_LENGTH, interp=interp)


def verify_authentication_code_mac(expected: bytes, received: bytes) -> None:
    """Constant-time comparison; a mismatch maps to AuthenticationDataInvalid."""
    if not _hmac.compare_digest(expected, received):
        raise CryptoFailure(
            "AuthenticationCodeMac does not verify",
            status="AuthenticationDataInvalid", spec=_SPEC_AD, where="AuthenticationCodeMac/Mac",
        )
