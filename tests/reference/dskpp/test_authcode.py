"""User authentication (RFC 6063 §3.4.1): AC TLVs, CRC16, SASLprep, K_AC, the AD MAC."""

from __future__ import annotations

import hashlib
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import CryptoFailure, InputError, ProtocolError
from harness.vectors import load_json
from reference.dskpp.authcode import (
    AcTlv,
    SaltKeyKind,
    authentication_code_mac,
    check_iteration_count,
    crc16,
    derive_k_ac,
    format_authentication_code,
    hex_field_from_user_input,
    parse_authentication_code,
    saslprep,
    verify_authentication_code_mac,
)
from reference.dskpp.interpretation import (
    AcFieldOctets,
    ChecksumFormat,
    ChecksumInput,
    Crc16Variant,
    Interpretation,
    Pbkdf2Prf,
)
from reference.dskpp.prf import Prf

from .independent import PRF_AES, PRF_SHA256, ad_mac, independent_prf

VECTORS = load_json("dskpp/primitives.json")

# RFC 6063 §3.4.1.1, quoted values.
RFC_CLIENT_ID_TLV = "108AC00000A"
RFC_PASSWORD_TLV = "20A3582AF0C3E"
RFC_AC_WITHOUT_CHECKSUM = "108AC00000A20A3582AF0C3E"
RFC_AC_WITH_CHECKSUM = "108AC00000A20A3582AF0C3E3034D5"
RFC_SASL_AC = "1146D79636C69656E7421442126D5970617326237244"


# ----------------------------------------------------------------------------- TLVs
def test_rfc_tlv_examples():
    assert AcTlv(1, "AC00000A").encode() == RFC_CLIENT_ID_TLV
    assert AcTlv(2, "3582AF0C3E").encode() == RFC_PASSWORD_TLV
    assert format_authentication_code("AC00000A", "3582AF0C3E") == RFC_AC_WITHOUT_CHECKSUM


def test_rfc_saslprep_example():
    # "myclient!D" / "mYpas&#rD" -> UTF-8 -> hex (Sec. 3.4.1.1 worked example)
    client = hex_field_from_user_input("myclient!D", text=True)
    password = hex_field_from_user_input("mYpas&#rD", text=True)
    assert client == "6D79636C69656E742144" and password == "6D5970617326237244"
    assert format_authentication_code(client, password) == RFC_SASL_AC
    ac = parse_authentication_code(RFC_SASL_AC)
    assert (ac.client_id, ac.password, ac.checksum) == (client, password, None)


def test_hex_user_input_kept_as_typed():
    assert hex_field_from_user_input("3582af0C3E", text=False) == "3582af0C3E"
    with pytest.raises(InputError):
        hex_field_from_user_input("35G2", text=False)


@pytest.mark.parametrize("variant", list(Crc16Variant))
@pytest.mark.parametrize("reading", list(ChecksumInput))
def test_rfc_checksum_example_verifies_under_no_crc16(variant, reading):
    """The RFC's checksum ("4D5", also called 0x356) matches no catalogued CRC-16.

    Recorded in docs/dskpp-interpretations.md (I-20..I-22).  If this test ever fails, a
    reading reproduces the RFC's example and the interpretation should follow it.
    """
    interp = Interpretation(crc16=variant, checksum_input=reading)
    with pytest.raises(InputError, match="checksum"):
        parse_authentication_code(RFC_AC_WITH_CHECKSUM, interp=interp)
    for value in (0x356, 0x4D5):
        assert crc16(RFC_AC_WITHOUT_CHECKSUM.encode(), variant) != value
        assert crc16(bytes.fromhex(RFC_AC_WITHOUT_CHECKSUM), variant) != value


def test_rfc_checksum_example_structure():
    ac = parse_authentication_code(RFC_AC_WITH_CHECKSUM, verify_checksum=False)
    assert (ac.client_id, ac.password, ac.checksum) == ("AC00000A", "3582AF0C3E", 0x4D5)
    # The text's other spelling of the TLV, "334D5", does not parse (length "34").
    with pytest.raises(InputError):
        parse_authentication_code(RFC_AC_WITHOUT_CHECKSUM + "334D5", verify_checksum=False)


@pytest.mark.parametrize("fmt,width", [(ChecksumFormat.FOUR_HEX_DIGITS, 4), (ChecksumFormat.MINIMAL_HEX, None)])
def test_checksum_round_trip(fmt, width):
    interp = Interpretation(checksum_format=fmt)
    text = format_authentication_code("AC00000A", "3582AF0C3E", with_checksum=True, interp=interp)
    expected = crc16(RFC_AC_WITHOUT_CHECKSUM.encode(), Crc16Variant.ISO_HDLC)
    value = f"{expected:04X}" if width else f"{expected:X}"
    assert text == RFC_AC_WITHOUT_CHECKSUM + "3" + f"{len(value):02X}" + value
    assert parse_authentication_code(text).checksum == expected
    typo = text.replace("3582", "3583")
    with pytest.raises(InputError, match="mistyped"):
        parse_authentication_code(typo)


@pytest.mark.parametrize(
    "bad",
    [
        "",  # no TLVs
        "108AC00000A",  # password missing
        "20A3582AF0C3E",  # client id missing
        "108AC00000A20A3582AF0C3",  # truncated value
        "10",  # truncated header
        "108AC00000A108AC00000A20A3582AF0C3E",  # duplicate client id
        "108AC00000A20A3582AF0C3E400",  # reserved type 4
        "108AC0000ZZ20A3582AF0C3E",  # value not hex
        "10020A3582AF0C3E",  # empty client id
        RFC_AC_WITH_CHECKSUM + "800",  # checksum not last
    ],
)
def test_malformed_ac(bad):
    with pytest.raises(InputError):
        parse_authentication_code(bad, verify_checksum=False)


def test_vendor_tlv_kept():
    text = format_authentication_code("AC00000A", "3582AF0C3E", extra=(AcTlv(0x9, "ABCD"), AcTlv(0xF, "")))
    ac = parse_authentication_code(text)
    assert [t.type for t in ac.tlvs] == [1, 2, 9, 15] and ac.tlvs[2].vendor_specific


def test_repr_hides_password():
    ac = parse_authentication_code(RFC_AC_WITHOUT_CHECKSUM)
    assert "3582AF0C3E" not in repr(ac)


# ----------------------------------------------------------------------------- CRC16
CATALOGUE_CHECKS = {  # CRC RevEng catalogue check values over ASCII "123456789"
    Crc16Variant.ISO_HDLC: 0x906E,
    Crc16Variant.ARC: 0xBB3D,
    Crc16Variant.KERMIT: 0x2189,
    Crc16Variant.XMODEM: 0x31C3,
    Crc16Variant.IBM_3740: 0x29B1,
    Crc16Variant.MODBUS: 0x4B37,
}


@pytest.mark.parametrize("variant", list(Crc16Variant))
def test_crc16_catalogue_check_values(variant):
    assert crc16(b"123456789", variant) == CATALOGUE_CHECKS[variant]


def test_iso_hdlc_check_value_from_vectors():
    check = VECTORS["fcs16"]["catalogue_check"]
    assert crc16(bytes.fromhex(check["data"]), Crc16Variant.ISO_HDLC) == int(check["crc"], 16)


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=64))
def test_iso_hdlc_is_the_rfc1662_fcs16(data):
    # RFC 1662 App. C.2: the complemented FCS, appended least significant octet first,
    # makes the running FCS (without the final complement) equal PPPGOODFCS16.
    good = int(VECTORS["fcs16"]["good_final_fcs"], 16)
    fcs = crc16(data, Crc16Variant.ISO_HDLC)
    assert crc16(data + fcs.to_bytes(2, "little"), Crc16Variant.ISO_HDLC) ^ 0xFFFF == good


# ----------------------------------------------------------------------------- SASLprep
@pytest.mark.parametrize(
    "given_,expected",
    [
        ("I\u00adX", "IX"),  # RFC 4013 §3 #1: SOFT HYPHEN mapped to nothing
        ("user", "user"),  # #2
        ("USER", "USER"),  # #3: case preserved
        ("\u00aa", "a"),  # #4: NFKC
        ("\u2168", "IX"),  # #5: NFKC
        ("a\u00a0b", "a b"),  # Sec. 2.1: non-ASCII space -> SPACE
    ],
)
def test_rfc4013_examples(given_, expected):
    assert saslprep(given_) == expected


@pytest.mark.parametrize("bad", ["\u0007", "\u0627\u0031", "a\ue000", "\U000e0001x"])
def test_rfc4013_errors(bad):
    # #6 prohibited control, #7 bidi check; private use; tagging character
    with pytest.raises(InputError):
        saslprep(bad)


def test_unassigned_code_points():
    unassigned = "\u0221"  # unassigned in Unicode 3.2 (RFC 3454 Table A.1)
    with pytest.raises(InputError):
        saslprep(unassigned)
    assert saslprep(unassigned, allow_unassigned=True) == unassigned


def test_saslprep_error_does_not_echo_input():
    with pytest.raises(InputError) as err:
        saslprep("secret\u0007word")
    assert "secret" not in str(err.value)


# ----------------------------------------------------------------------------- K_AC, AD
@pytest.mark.parametrize("case", VECTORS["pbkdf2_hmac_sha1"]["cases"], ids=lambda c: str(c["iterations"]))
def test_pbkdf2_rfc6070_vectors(case):
    # The PBKDF2 primitive under K_AC: cryptography vs RFC 6070 (dkLen as given).
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    dk = bytes.fromhex(case["dk"])
    kdf = PBKDF2HMAC(hashes.SHA1(), len(dk), bytes.fromhex(case["salt"]), case["iterations"])
    assert kdf.derive(bytes.fromhex(case["password"])) == dk


def test_k_ac_default_reading():
    r_c, k = os.urandom(32), os.urandom(16)
    got = derive_k_ac("3582AF0C3E", r_c=r_c, k_octets=k, iteration_count=1)
    assert got == hashlib.pbkdf2_hmac("sha1", b"3582AF0C3E", r_c + k, 1, 16)


def test_k_ac_alternative_readings():
    r_c, k = os.urandom(32), os.urandom(16)
    interp = Interpretation(ac_password_octets=AcFieldOctets.HEX_DECODED, pbkdf2_prf=Pbkdf2Prf.HMAC_SHA256)
    got = derive_k_ac("3582AF0C3E", r_c=r_c, k_octets=k, iteration_count=3, interp=interp)
    assert got == hashlib.pbkdf2_hmac("sha256", bytes.fromhex("3582AF0C3E"), r_c + k, 3, 16)


@pytest.mark.parametrize("prf,uri", [(Prf.AES_128, PRF_AES), (Prf.SHA256, PRF_SHA256)])
@pytest.mark.parametrize("four_pass", [True, False])
def test_ad_mac_layout(prf, uri, four_pass):
    r_c, r_s, k = os.urandom(32), os.urandom(16), os.urandom(16)
    url = "https://keyprovservice.example.com/dskpp"
    k_ac = derive_k_ac("3582AF0C3E", r_c=r_c, k_octets=k, iteration_count=1)
    mac = authentication_code_mac(prf, k_ac, client_id="AC00000A", server_url=url, r_c=r_c, r_s=r_s if four_pass else None)
    assert len(mac) == 16
    assert mac == ad_mac(uri, "3582AF0C3E", "AC00000A", url, r_c, k, 1, r_s if four_pass else None)
    verify_authentication_code_mac(mac, mac)
    with pytest.raises(CryptoFailure) as err:
        verify_authentication_code_mac(mac, bytes(16))
    assert err.value.status == "AuthenticationDataInvalid"


def test_ad_mac_client_id_hex_decoded_reading():
    r_c, k_ac = os.urandom(16), os.urandom(16)
    interp = Interpretation(ac_client_id_octets=AcFieldOctets.HEX_DECODED)
    mac = authentication_code_mac(Prf.SHA256, k_ac, client_id="AC00000A", server_url="u", r_c=r_c, interp=interp)
    assert mac == independent_prf(PRF_SHA256, k_ac, bytes.fromhex("AC00000A") + b"u" + r_c, 16)


def test_iteration_count_rules():
    # Sec. 3.4.1.2: >= 100,000, except exactly 1 for two-pass K_SHARED / passphrase keys.
    check_iteration_count(100_000, SaltKeyKind.SERVER_PUBLIC_KEY, two_pass=False)
    check_iteration_count(100_000, SaltKeyKind.SHARED_KEY, two_pass=False)
    check_iteration_count(1, SaltKeyKind.SHARED_KEY, two_pass=True)
    check_iteration_count(1, SaltKeyKind.PASSPHRASE_KEY, two_pass=True)
    for count, kind, two_pass in [
        (512, SaltKeyKind.SERVER_PUBLIC_KEY, False),  # the App. B.1 trigger's value
        (99_999, SaltKeyKind.CLIENT_PUBLIC_KEY, True),
        (1, SaltKeyKind.SHARED_KEY, False),
        (2, SaltKeyKind.SHARED_KEY, True),
    ]:
        with pytest.raises(ProtocolError) as err:
            check_iteration_count(count, kind, two_pass=two_pass)
        assert err.value.status == "AuthenticationDataInvalid"
