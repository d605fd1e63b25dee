"""Key wrap constructions: RFC test vectors, independent vectors, python-pskc cross-checks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import CryptoFailure
from reference.pskc import keywrap

pytestmark = pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")

K = bytes.fromhex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F")
D = bytes.fromhex("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F")

# RFC 3394 §4.1-§4.6 (KEK length, key data length, wrapped key).
RFC3394_VECTORS = [
    (16, 16, "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"),
    (24, 16, "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D"),
    (32, 16, "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7"),
    (24, 24, "031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2"),
    (32, 24, "A8F9BC1612C68B3FF6E6F4FBE30E71E4769C8B80A32CB8958CD5D17D6B254DA1"),
    (32, 32, "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"),
]

# Camellia key wrap (RFC 3657 = RFC 3394 with Camellia; the RFC prints no vectors).
# First: Bouncy Castle CamelliaTest "CamelliaWrap" vector.  Others: published by an
# independent RFC 3394-over-OpenSSL implementation (tc_key_wrap known-answer tests).
CAMELLIA_VECTORS = [
    (16, 16, "635D6AC46EEDEBD3A7F4A06421A4CBD1746B24795BA2F708"),
    (24, 16, "FE8F5C4E2164CDFE36233C9F898F93DF6E6F1D892D187742"),
    (32, 16, "B43E6793EE3B35B7698253B26BAD0CA2D5E7793C6F5DDD48"),
    (24, 24, "EA7B7515BDE2F268849FA2B4D96ADBACC8111073D463DA9FB5E7648F6DD2FE76"),
    (32, 24, "C7CB865E14A7DC00B339F9D9041ED4C3BA4E34EEDADD7A1C5F98534180CD59BE"),
    (32, 32, "96A502A1E0C12700EC01D9E9B3688D50B7AE25FBAE06DD18F0E30092AC1ABD5BC7575DA930DF1636"),
]

# RFC 5649 §6 (KEK, key, wrapped).
RFC5649_KEK = bytes.fromhex("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8")
RFC5649_VECTORS = [
    ("c37b7e6492584340bed12207808941155068f738", "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a"),
    ("466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f"),
]


@pytest.mark.parametrize("kek_len,data_len,wrapped", RFC3394_VECTORS)
def test_generic_rfc3394_matches_rfc3394_section4(kek_len, data_len, wrapped):
    assert keywrap.rfc3394_wrap("aes", K[:kek_len], D[:data_len]).hex().upper() == wrapped
    assert keywrap.rfc3394_unwrap("aes", K[:kek_len], bytes.fromhex(wrapped)) == D[:data_len]


@pytest.mark.parametrize("kek_len,data_len,wrapped", CAMELLIA_VECTORS)
def test_camellia_key_wrap_vectors(kek_len, data_len, wrapped):
    assert keywrap.rfc3394_wrap("camellia", K[:kek_len], D[:data_len]).hex().upper() == wrapped
    assert keywrap.rfc3394_unwrap("camellia", K[:kek_len], bytes.fromhex(wrapped)) == D[:data_len]


@pytest.mark.parametrize("key,wrapped", RFC5649_VECTORS)
def test_rfc5649_section6_vectors(key, wrapped):
    assert keywrap.rfc5649_wrap("aes", RFC5649_KEK, bytes.fromhex(key)).hex() == wrapped
    assert keywrap.rfc5649_unwrap("aes", RFC5649_KEK, bytes.fromhex(wrapped)).hex() == key


def test_unwrap_with_wrong_kek_fails_cleanly():
    wrapped = bytes.fromhex(RFC3394_VECTORS[0][2])
    with pytest.raises(CryptoFailure) as info:
        keywrap.rfc3394_unwrap("aes", bytes(16), wrapped)
    assert info.value.status == "pskc.keywrap-integrity"
    with pytest.raises(CryptoFailure):
        keywrap.rfc5649_unwrap("aes", bytes(24), bytes.fromhex(RFC5649_VECTORS[0][1]))


@pytest.mark.parametrize("bad", [b"", b"\x00" * 7, b"\x00" * 12])
def test_wrap_refuses_bad_lengths(bad):
    with pytest.raises(CryptoFailure):
        keywrap.rfc3394_wrap("aes", K[:16], bad)
    with pytest.raises(CryptoFailure):
        keywrap.rfc3394_unwrap("aes", K[:16], bad)


@settings(max_examples=25, deadline=None)
@given(kek=st.sampled_from([16, 24, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
       data=st.integers(1, 6).flatmap(lambda n: st.binary(min_size=8 * n, max_size=8 * n)))
def test_camellia_wrap_agrees_with_python_pskc(kek, data):
    aeskw = pytest.importorskip("pskc.crypto.aeskw")
    from reference.pskc.ciphers import Camellia

    theirs = aeskw.wrap(data, kek, pad=len(data) < 16 or None, algorithm=Camellia)
    if len(data) >= 16:
        assert keywrap.rfc3394_wrap("camellia", kek, data) == theirs
        assert keywrap.rfc3394_unwrap("camellia", kek, theirs) == data
    assert keywrap.rfc5649_unwrap("camellia", kek, aeskw.wrap(data, kek, pad=True, algorithm=Camellia)) == data
    assert aeskw.unwrap(keywrap.rfc5649_wrap("camellia", kek, data), kek, pad=True, algorithm=Camellia) == data


@settings(max_examples=25, deadline=None)
@given(kek=st.sampled_from([16, 24]).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
       data=st.integers(1, 4).flatmap(lambda n: st.binary(min_size=8 * n, max_size=8 * n)),
       iv=st.binary(min_size=8, max_size=8))
def test_rfc3217_tripledes_wrap_agrees_with_python_pskc(kek, data, iv):
    tripledeskw = pytest.importorskip("pskc.crypto.tripledeskw")
    if len(kek) == 16:
        kek = kek + kek[:8]  # python-pskc passes the key to cryptography as is
    ours = keywrap.rfc3217_wrap(kek, data, lambda n: iv)
    assert ours == tripledeskw.wrap(data, kek, iv)
    assert tripledeskw.unwrap(ours, kek) == data
    assert keywrap.rfc3217_unwrap(kek, ours) == data


def test_rfc3217_checksum_failure_is_detected():
    kek = bytes(range(24))
    wrapped = bytearray(keywrap.rfc3217_wrap(kek, bytes(range(24)), lambda n: b"\x01" * n))
    wrapped[5] ^= 0x40
    with pytest.raises(CryptoFailure) as info:
        keywrap.rfc3217_unwrap(kek, bytes(wrapped))
    assert info.value.status == "pskc.keywrap-integrity"
