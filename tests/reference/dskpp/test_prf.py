"""DSKPP-PRF (RFC 6063 §3.4.2, App. D) against published primitive vectors and a second,
independently written implementation."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives import cmac, hashes
from cryptography.hazmat.primitives import hmac as c_hmac
from cryptography.hazmat.primitives.ciphers import algorithms
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import CryptoFailure, InputError, UnsupportedFeature
from harness.vectors import load_json
from reference.dskpp.interpretation import AesPrfKey, Interpretation
from reference.dskpp.prf import Prf, dskpp_prf, prf_from_uri

from .independent import PRF_AES, PRF_SHA256, cmac_subkeys, independent_prf, rfc4493_cmac

VECTORS = load_json("dskpp/primitives.json")


# ----------------------------------------------------------------------------- primitives
@pytest.mark.parametrize("case", VECTORS["aes_cmac"]["cases"], ids=lambda c: c["name"])
def test_rfc4493_vectors_cryptography_cmac(case):
    c = cmac.CMAC(algorithms.AES(bytes.fromhex(VECTORS["aes_cmac"]["key"])))
    c.update(bytes.fromhex(case["message"]))
    assert c.finalize().hex() == case["mac"]


@pytest.mark.parametrize("case", VECTORS["aes_cmac"]["cases"], ids=lambda c: c["name"])
def test_rfc4493_vectors_independent_cmac(case):
    key = bytes.fromhex(VECTORS["aes_cmac"]["key"])
    assert rfc4493_cmac(key, bytes.fromhex(case["message"])).hex() == case["mac"]


def test_rfc4493_subkeys_independent_cmac():
    sub = VECTORS["aes_cmac"]["subkeys"]
    l_value, k1, k2 = cmac_subkeys(bytes.fromhex(VECTORS["aes_cmac"]["key"]))
    assert (l_value.hex(), k1.hex(), k2.hex()) == (sub["aes_128_key_0"], sub["k1"], sub["k2"])


@pytest.mark.parametrize("case", VECTORS["hmac_sha256"]["cases"], ids=lambda c: c["name"])
def test_rfc4231_vectors(case):
    key, data = bytes.fromhex(case["key"]), bytes.fromhex(case["data"])
    h = c_hmac.HMAC(key, hashes.SHA256())
    h.update(data)
    got = h.finalize()
    std = hmac.new(key, data, hashlib.sha256).digest()
    n = case.get("truncated_to", 32)
    assert got[:n].hex() == case["mac"] and std[:n].hex() == case["mac"]


# ----------------------------------------------------------------------------- DSKPP-PRF
def test_uris_are_the_registered_ones():
    # Sec. 12.6.1 / 12.6.2
    assert prf_from_uri("urn:ietf:params:xml:ns:keyprov:dskpp:prf-aes-128") is Prf.AES_128
    assert prf_from_uri("urn:ietf:params:xml:ns:keyprov:dskpp:prf-sha256") is Prf.SHA256
    with pytest.raises(UnsupportedFeature) as err:
        prf_from_uri("urn:ietf:params:xml:ns:keyprov:dskpp:prf-sha1")
    assert err.value.status == "NoSupportedMacAlgorithms"


def test_d23_example_single_cmac_block():
    # App. D.2.3: dsLen = 16 -> DS = B1 = CMAC-AES(k, INT(1) || s)
    k, s = bytes(range(16)), b"example"
    assert dskpp_prf(Prf.AES_128, k, s, 16) == rfc4493_cmac(k, b"\x00\x00\x00\x01" + s)


def test_d33_example_first_16_octets_of_hmac():
    # App. D.3.3: sLen = 256, dsLen = 16 -> first 16 octets of HMAC-SHA256(k, INT(1) || s)
    k, s = b"\x42" * 32, bytes(range(128)) * 2
    assert dskpp_prf(Prf.SHA256, k, s, 16) == hmac.new(k, b"\x00\x00\x00\x01" + s, hashlib.sha256).digest()[:16]


@settings(max_examples=150, deadline=None)
@given(k=st.binary(min_size=16, max_size=16), s=st.binary(max_size=120), ds_len=st.integers(1, 90))
def test_prf_aes_matches_independent(k, s, ds_len):
    assert dskpp_prf(Prf.AES_128, k, s, ds_len) == independent_prf(PRF_AES, k, s, ds_len)


@settings(max_examples=150, deadline=None)
@given(k=st.binary(min_size=16, max_size=80), s=st.binary(max_size=120), ds_len=st.integers(1, 140))
def test_prf_sha256_matches_independent(k, s, ds_len):
    assert dskpp_prf(Prf.SHA256, k, s, ds_len) == independent_prf(PRF_SHA256, k, s, ds_len)


@settings(max_examples=50, deadline=None)
@given(k=st.binary(min_size=16, max_size=16), s=st.binary(max_size=40), a=st.integers(1, 70), b=st.integers(1, 70))
def test_shorter_output_is_prefix_of_longer(k, s, a, b):
    for prf in Prf:
        short, long_ = sorted((a, b))
        assert dskpp_prf(prf, k, s, long_)[:short] == dskpp_prf(prf, k, s, short)


@pytest.mark.parametrize("prf", list(Prf))
def test_key_shorter_than_16_octets_is_refused(prf):
    # Sec. 3.4.2: "the secret key k MUST be at least 16 octets long"
    with pytest.raises(CryptoFailure) as err:
        dskpp_prf(prf, bytes(15), b"s", 16)
    assert err.value.spec == "RFC 6063 §3.4.2"


def test_nonpositive_ds_len_is_refused():
    with pytest.raises(InputError):
        dskpp_prf(Prf.SHA256, bytes(16), b"s", 0)


def test_aes_long_key_readings():
    k = bytes(range(32))
    s = b"Key generation"
    truncated = dskpp_prf(Prf.AES_128, k, s, 20)
    assert truncated == independent_prf(PRF_AES, k[:16], s, 20)
    by_length = dskpp_prf(Prf.AES_128, k, s, 20, interp=Interpretation(aes_prf_key=AesPrfKey.AES_BY_KEY_LENGTH))
    # AES-256-CMAC of INT(1)||s, from cryptography's CMAC as the second opinion
    c = cmac.CMAC(algorithms.AES(k))
    c.update(b"\x00\x00\x00\x01" + s)
    assert by_length[:16] == c.finalize()
    assert by_length != truncated
    with pytest.raises(CryptoFailure):
        dskpp_prf(Prf.AES_128, k, s, 20, interp=Interpretation(aes_prf_key=AesPrfKey.REQUIRE_16))
    with pytest.raises(CryptoFailure):  # 20 octets is no AES key length
        dskpp_prf(Prf.AES_128, bytes(20), s, 20, interp=Interpretation(aes_prf_key=AesPrfKey.AES_BY_KEY_LENGTH))


def test_sha256_truncated_block_reading():
    from reference.dskpp.interpretation import Sha256Block

    k, s = bytes(range(32)), b"x"
    got = dskpp_prf(Prf.SHA256, k, s, 40, interp=Interpretation(prf_sha256_block=Sha256Block.TRUNCATED_16))
    blocks = [hmac.new(k, i.to_bytes(4, "big") + s, hashlib.sha256).digest()[:16] for i in (1, 2, 3)]
    assert got == b"".join(blocks)[:40]
    assert got[:16] == dskpp_prf(Prf.SHA256, k, s, 16)  # the readings agree up to 16 octets
    assert got != dskpp_prf(Prf.SHA256, k, s, 40)
