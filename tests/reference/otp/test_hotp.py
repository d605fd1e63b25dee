"""reference.otp.hotp against RFC 4226 Appendix D, §5.4, and the pyotp / oath peers."""

from __future__ import annotations

import re

import oath
import pyotp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import InputError
from harness.vectors import load_json, shared_dir
from reference.otp.hotp import dynamic_truncate, format_digits, hotp, hotp_hmac

DOC = load_json("otp/rfc4226-hotp.json")
VECTORS = DOC["vectors"]
IDS = [f"count{v['counter']}" for v in VECTORS]
RFC_SECRET = bytes.fromhex("3132333435363738393031323334353637383930")
ALGORITHMS = ("sha1", "sha256", "sha512")


def test_vector_file_names_its_source():
    assert DOC["source"] == "RFC 4226 Appendix D"
    assert len(VECTORS) == 10
    assert all(v["rfc"] == "RFC 4226" and v["section"] == "Appendix D" for v in VECTORS)


def test_vector_file_matches_rfc_text():
    shared = shared_dir()
    if shared is None or not (shared / "specs" / "rfc4226.txt").is_file():
        pytest.skip("../shared/specs/rfc4226.txt absent: cannot re-check the transcription")
    text = (shared / "specs" / "rfc4226.txt").read_text()
    assert "Secret = 0x" + VECTORS[0]["secret_hex"] in text
    for v in VECTORS:
        assert re.search(rf"^\s+{v['counter']}\s+{v['hmac_hex']}$", text, re.M), v
        short = v["truncated_hex"].lstrip("0")
        assert re.search(rf"^\s+{v['counter']}\s+{short}\s+{v['truncated_decimal']}\s+{v['otp']}$", text, re.M), v


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_appendix_d_hmac(v):
    assert hotp_hmac(bytes.fromhex(v["secret_hex"]), v["counter"]).hex() == v["hmac_hex"]


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_appendix_d_truncation(v):
    snum = dynamic_truncate(bytes.fromhex(v["hmac_hex"]))
    assert snum == v["truncated_decimal"]
    assert f"{snum:08x}" == v["truncated_hex"]


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_appendix_d_hotp(v):
    assert hotp(bytes.fromhex(v["secret_hex"]), v["counter"], digits=v["digits"], algorithm=v["algorithm"]) == v["otp"]


@pytest.mark.parametrize("digits", [7, 8, 9, 10])
@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_more_digits_are_snum_mod_10_power(v, digits):
    # RFC 4226 §5.3 step 3 and Appendix E.1, applied to the RFC's own Snum column.
    expected = str(v["truncated_decimal"] % 10**digits).zfill(digits)
    assert hotp(bytes.fromhex(v["secret_hex"]), v["counter"], digits=digits) == expected


def test_section_5_4_worked_example():
    mac = bytes.fromhex("1f8698690e02ca16618550ef7f19da8e945b555a")
    assert dynamic_truncate(mac) == 0x50EF7F19
    assert format_digits(dynamic_truncate(mac), 6) == "872921"


def test_truncation_masks_the_sign_bit():
    # offset 0 (last byte ends in 0), first byte 0xff: the top bit must be dropped.
    mac = bytes.fromhex("ffffffff") + bytes(15) + b"\x00"
    assert dynamic_truncate(mac) == 0x7FFFFFFF


def test_counter_is_8_byte_big_endian():
    # The largest counter is accepted and distinct from its 32-bit truncation.
    assert hotp(RFC_SECRET, 2**64 - 1) != hotp(RFC_SECRET, 2**32 - 1)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"digits": 5}, "digits must be in 6..10"),
        ({"digits": 11}, "digits must be in 6..10"),
        ({"digits": True}, "digits must be an integer"),
        ({"digits": "6"}, "digits must be an integer"),
        ({"counter": -1}, "counter must be in 0..18446744073709551615"),
        ({"counter": 2**64}, "counter must be in 0..18446744073709551615"),
        ({"counter": 1.0}, "counter must be an integer"),
        ({"counter": True}, "counter must be an integer"),
        ({"secret": b""}, "secret is empty"),
        ({"secret": "3132"}, "secret must be bytes"),
        ({"algorithm": "md5"}, "hash algorithm must be one of sha1, sha256, sha512"),
        ({"algorithm": "SHA1"}, "hash algorithm must be one of"),
    ],
)
def test_invalid_inputs_are_refused(kwargs, fragment):
    args = {"secret": RFC_SECRET, "counter": 0, "digits": 6, "algorithm": "sha1", **kwargs}
    with pytest.raises(InputError) as info:
        hotp(args.pop("secret"), args.pop("counter"), **args)
    assert fragment in str(info.value)
    assert RFC_SECRET.hex() not in str(info.value)


# ---------------------------------------------------------------- independent peers
SETTINGS = settings(max_examples=150, deadline=None)


@SETTINGS
@given(
    secret=st.binary(min_size=14, max_size=64),  # pyotp refuses secrets under 112 bits
    counter=st.integers(0, 2**64 - 1),
    digits=st.integers(6, 10),
    algorithm=st.sampled_from(ALGORITHMS),
)
def test_agrees_with_pyotp(secret, counter, digits, algorithm):
    import base64
    import hashlib

    peer = pyotp.HOTP(base64.b32encode(secret).decode(), digits=digits, digest=getattr(hashlib, algorithm))
    assert hotp(secret, counter, digits=digits, algorithm=algorithm) == peer.at(counter)


@SETTINGS
@given(
    secret=st.binary(min_size=1, max_size=80),
    counter=st.integers(0, 2**64 - 1),
    digits=st.sampled_from([6, 7, 8]),  # oath's dec formats
    algorithm=st.sampled_from(ALGORITHMS),
)
def test_agrees_with_oath(secret, counter, digits, algorithm):
    import hashlib

    expected = oath.hotp(secret.hex(), counter, format=f"dec{digits}", hash=getattr(hashlib, algorithm))
    assert hotp(secret, counter, digits=digits, algorithm=algorithm) == expected
