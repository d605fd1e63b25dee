"""The flat, JSON-able key view used across the lab, and its inverse."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import InputError
from reference import pskc
from reference.pskc.algorithms import KEY_USAGES, PIN_USAGE_MODES, VALUE_FORMATS


def test_figure3_flat_fields(figure):
    # values as RFC 6030 §4.3 Figure 3 states them
    assert pskc.decoded_fields(pskc.decode(figure(3)).key_packages[0]) == {
        "id": "12345678", "algorithm": "urn:ietf:params:xml:ns:keyprov:pskc:hotp", "issuer": "Issuer",
        "user_id": "UID=jsmith,DC=example-bank,DC=net", "secret_hex": b"12345678901234567890".hex(), "counter": 0,
        "response_encoding": "DECIMAL", "response_length": 8, "manufacturer": "Manufacturer",
        "serial": "987654321", "device_user_id": "DC=example-bank,DC=net", "crypto_module_id": "CM_ID_001",
    }


def test_figure5_pin_policy_and_figure10_dates(figure):
    hotp = pskc.decoded_fields(pskc.decode(figure(5)).key_packages[0])
    assert hotp["pin_policy"] == {"pin_key_id": "123456781", "pin_usage_mode": "Local", "min_length": 4,
                                  "max_length": 4, "pin_encoding": "DECIMAL"}
    assert hotp["key_usage"] == ["OTP"]
    bulk = pskc.decoded_fields(pskc.decode(figure(10)).key_packages[0])
    assert (bulk["start_date"], bulk["expiry_date"]) == ("2006-05-01T00:00:00Z", "2006-05-31T00:00:00Z")


def test_encrypted_values_are_listed_not_shown(figure):
    fields = pskc.decoded_fields(pskc.decode(figure(6)).key_packages[0])
    assert fields["encrypted_fields"] == ["secret"] and "secret_hex" not in fields and fields["counter"] == 0
    json.dumps(fields)


def test_container_fields(figure):
    summary = pskc.container_fields(pskc.decode(figure(7)))
    assert summary == {
        "dialect": "rfc6030", "version": "1.0",
        "encryption_algorithms": ["http://www.w3.org/2001/04/xmlenc#aes128-cbc"],
        "key_derivation": "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2",
        "key_names": ["My Password 1"], "mac_algorithm": "http://www.w3.org/2000/09/xmldsig#hmac-sha1",
        "signed": False, "key_packages": 1,
    }


# ------------------------------------------------------------------ the inverse
_words = st.text(string.ascii_letters + string.digits + " .,=-_:", min_size=1, max_size=12).map(str.strip).filter(bool)
_dates = st.datetimes().map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}Z")
_u32 = st.integers(0, 2**32 - 1)
_i32 = st.integers(-(2**31), 2**31 - 1)
flat_keys = st.fixed_dictionaries({}, optional={
    "id": _words, "algorithm": st.sampled_from(["urn:ietf:params:xml:ns:keyprov:pskc:hotp", "urn:x:totp"]),
    "issuer": _words, "key_profile_id": _words, "key_reference": _words, "friendly_name": _words,
    "user_id": _words, "secret_hex": st.binary(max_size=32).map(bytes.hex),
    "counter": st.integers(0, 2**63 - 1), "time": _i32, "time_interval": _i32, "time_drift": _i32,
    "suite": _words, "challenge_encoding": st.sampled_from(VALUE_FORMATS), "challenge_min": _u32,
    "challenge_max": _u32, "challenge_check_digits": st.booleans(),
    "response_encoding": st.sampled_from(VALUE_FORMATS), "response_length": _u32,
    "response_check_digits": st.booleans(), "start_date": _dates, "expiry_date": _dates,
    "key_usage": st.lists(st.sampled_from(KEY_USAGES), min_size=1, max_size=3),
    "number_of_transactions": st.integers(0, 10**9),
    "pin_policy": st.fixed_dictionaries({}, optional={
        "pin_key_id": _words, "pin_usage_mode": st.sampled_from(PIN_USAGE_MODES), "max_failed_attempts": _u32,
        "min_length": _u32, "max_length": _u32, "pin_encoding": st.sampled_from(VALUE_FORMATS)}),
    "manufacturer": _words, "serial": _words, "model": _words, "issue_no": _words, "device_binding": _words,
    "device_user_id": _words, "device_start_date": _dates, "device_expiry_date": _dates,
    "crypto_module_id": _words,
})


@settings(max_examples=150, deadline=None)
@given(st.lists(flat_keys, min_size=1, max_size=3))
def test_container_from_fields_is_the_inverse_through_a_document(keys):
    container = pskc.container_from_fields(keys)
    assert [pskc.decoded_fields(p) for p in container.key_packages] == keys
    document = pskc.encode(container)
    assert [pskc.decoded_fields(p) for p in pskc.decode(document).key_packages] == keys


@pytest.mark.parametrize("keys,message", [
    ([{"colour": "red"}], "unknown field"),
    ([{"counter": "7"}], "counter must be an integer"),
    ([{"counter": True}], "counter must be an integer"),
    ([{"secret_hex": "zz"}], "secret_hex is not hexadecimal"),
    ([{"start_date": "2006-05-01"}], "start_date"),
    ([{"key_usage": "OTP"}], "key_usage must be a list"),
    ([{"pin_policy": {"colour": 1}}], "pin_policy"),
    ([{"encrypted_fields": ["secret"]}], "encrypted_fields"),
    ({"id": "1"}, "list of key dicts"),
    (["not a dict"], "expected an object"),
])
def test_bad_flat_input_is_an_input_error_naming_the_key(keys, message):
    with pytest.raises(InputError, match=message) as info:
        pskc.container_from_fields(keys)
    if isinstance(keys, list) and keys and isinstance(keys[0], dict):
        assert "keys[0]" in str(info.value)
