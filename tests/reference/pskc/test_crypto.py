"""Protection primitives against RFC 6030 stated values and python-pskc."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import CryptoFailure, InputError
from reference.pskc import crypto
from reference.pskc.algorithms import CIPHERS, MAC_ALGORITHMS, lookup_cipher, lookup_mac
from reference.pskc.ciphers import cbc_decrypt, cbc_encrypt
from reference.pskc.model import PBKDF2Params

pytestmark = pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")

# RFC 6030 §6.1 (Figure 6 text and figure)
FIG6_KEY = bytes.fromhex("12345678901234567890123456789012")
FIG6_MAC_KEY = bytes.fromhex("1122334455667788990011223344556677889900")
FIG6_SECRET = bytes.fromhex("3132333435363738393031323334353637383930")
FIG6_SECRET_IV = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
FIG6_MAC_IV = bytes.fromhex("11223344556677889900112233445566")
FIG6_SECRET_CV = base64.b64decode("AAECAwQFBgcICQoLDA0OD+cIHItlB3Wra1DUpxVvOx2lef1VmNPCMl8jwZqIUqGv")
FIG6_MACKEY_CV = base64.b64decode("ESIzRFVmd4iZABEiM0RVZgKn6WjLaTC1sbeBMSvIhRejN9vJa2BOlSaMrR7I5wSX")
FIG6_VALUE_MAC = base64.b64decode("Su+NvtQfmvfJzF6bmQiJqoLRExc=")


def test_pbkdf2_reproduces_rfc6030_section_6_2():
    # Password qwerty, salt 0x123eff3c4a72129c, 1000 iterations -> 0x651e63cd...
    params = PBKDF2Params(salt=bytes.fromhex("123eff3c4a72129c"), iteration_count=1000, key_length=16)
    assert crypto.derive_pbkdf2("qwerty", params, 16).hex() == "651e63cd57008476af1ff6422cd02e41"


def test_pbkdf2_key_length_defaults_to_the_cipher_and_prf_is_honoured():
    params = PBKDF2Params(salt=b"salt", iteration_count=2)
    assert len(crypto.derive_pbkdf2("pw", params, 24)) == 24
    sha256 = PBKDF2Params(salt=b"salt", iteration_count=2, key_length=16,
                          prf="http://www.w3.org/2001/04/xmldsig-more#hmac-sha256")
    assert crypto.derive_pbkdf2("pw", sha256, 16) != crypto.derive_pbkdf2("pw", PBKDF2Params(b"salt", 2, 16), 16)


def test_cbc_reproduces_figure6_cipher_values():
    assert cbc_encrypt("aes", FIG6_KEY, FIG6_SECRET, FIG6_SECRET_IV) == FIG6_SECRET_CV
    assert cbc_encrypt("aes", FIG6_KEY, FIG6_MAC_KEY, FIG6_MAC_IV) == FIG6_MACKEY_CV
    assert cbc_decrypt("aes", FIG6_KEY, FIG6_SECRET_CV) == (FIG6_SECRET, True)


def test_value_mac_is_hmac_over_iv_and_ciphertext_figure6():
    hmac_sha1 = MAC_ALGORITHMS["hmac-sha1"]
    assert crypto.compute_mac(hmac_sha1, FIG6_MAC_KEY, FIG6_SECRET_CV) == FIG6_VALUE_MAC
    assert crypto.compute_mac(hmac_sha1, FIG6_MAC_KEY, FIG6_SECRET_CV[16:]) != FIG6_VALUE_MAC


def test_xmlenc_padding_is_accepted_and_reported():
    # XML-Enc §5.2: only the last padding octet is significant.
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    iv = bytes(16)
    body = b"0123456789" + b"\xaa\xbb\xcc\xdd\xee\x06"
    enc = Cipher(algorithms.AES(FIG6_KEY), modes.CBC(iv)).encryptor()
    value = iv + enc.update(body) + enc.finalize()
    assert cbc_decrypt("aes", FIG6_KEY, value) == (b"0123456789", False)


def test_bad_padding_and_bad_lengths_are_crypto_failures():
    with pytest.raises(CryptoFailure) as info:
        cbc_decrypt("aes", bytes(16), FIG6_SECRET_CV)
    assert info.value.status in ("pskc.bad-padding",)
    with pytest.raises(CryptoFailure):
        cbc_decrypt("aes", FIG6_KEY, FIG6_SECRET_CV[:20])


def test_wrong_key_length_is_reported_without_key_material():
    with pytest.raises(CryptoFailure) as info:
        crypto.decrypt_symmetric(CIPHERS["aes256-cbc"], FIG6_KEY, FIG6_SECRET_CV)
    assert info.value.status == "pskc.wrong-key-length"
    assert FIG6_KEY.hex() not in str(info.value)
    with pytest.raises(InputError):
        crypto.encrypt_symmetric(CIPHERS["kw-aes128"], bytes(15), bytes(16), lambda n: bytes(n))


def test_kw_aes_refuses_unaligned_values_instead_of_padding():
    with pytest.raises(InputError, match="kw-aes-128-pad"):
        crypto.encrypt_symmetric(CIPHERS["kw-aes128"], bytes(16), FIG6_SECRET, lambda n: bytes(n))
    padded = crypto.encrypt_symmetric(CIPHERS["kw-aes-128-pad"], bytes(16), FIG6_SECRET, lambda n: bytes(n))
    assert crypto.decrypt_symmetric(CIPHERS["kw-aes-128-pad"], bytes(16), padded) == (FIG6_SECRET, None)


@pytest.mark.parametrize("uri,name,canonical", [
    ("http://www.w3.org/2001/04/xmlenc#aes128-cbc", "aes128-cbc", True),
    ("http://www.w3.org/2001/04/xmldsig-more#camellia128", "camellia128-cbc", False),  # RFC 6030 §6.1 table
    ("http://www.w3.org/2001/04/xmlenc#camellia256-cbc", "camellia256-cbc", False),  # python-pskc tests
    ("http://www.w3.org/2001/04/xmlenc#rsa_1_5", "rsa-1_5", False),  # RFC 6030 Figure 8
    ("http://www.w3.org/2001/04/xmlenc#unknown", None, False),
])
def test_cipher_uri_lookup(uri, name, canonical):
    cipher, is_canonical = lookup_cipher(uri)
    assert (cipher.name if cipher else None) == name
    assert is_canonical is canonical


def test_mac_uri_lookup():
    assert lookup_mac("http://www.w3.org/2000/09/xmldsig#hmac-sha1") == (MAC_ALGORITHMS["hmac-sha1"], True)
    assert lookup_mac("HMAC-SHA1")[0] is MAC_ALGORITHMS["hmac-sha1"]
    assert lookup_mac("http://www.w3.org/2000/09/xmldsig#hmac-zha9") == (None, False)


@pytest.mark.parametrize("name", ["rsa-1_5", "rsa-oaep-mgf1p"])
def test_rsa_transport_both_algorithms(name, rsa_identity):
    _, _, private = rsa_identity
    cipher = CIPHERS[name]
    # independent encryption with cryptography's primitives, per XML-Enc §5.4
    pad = padding.PKCS1v15() if name == "rsa-1_5" else padding.OAEP(
        mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    value = private.public_key().encrypt(FIG6_SECRET, pad)
    assert crypto.decrypt_rsa(cipher, private, value) == FIG6_SECRET
    assert crypto.decrypt_rsa(cipher, private, crypto.encrypt_rsa(cipher, private.public_key(), FIG6_SECRET)) == \
        FIG6_SECRET
    other = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(CryptoFailure) as info:
        crypto.decrypt_rsa(cipher, other, value)
    assert str(info.value) == "RSA decryption failed (wrong private key or corrupted value)"


def test_private_key_loading_errors_are_input_errors(rsa_identity):
    key_pem, cert_pem, private = rsa_identity
    assert crypto.load_private_key(key_pem).private_numbers() == private.private_numbers()
    with pytest.raises(InputError):
        crypto.load_private_key(b"not a key")
    with pytest.raises(InputError):
        crypto.load_certificate(b"not a certificate")
    assert crypto.load_certificate(cert_pem).public_key().public_numbers() == private.public_key().public_numbers()


SYMMETRIC = [n for n, c in CIPHERS.items() if c.family in ("cbc", "kw")]


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(SYMMETRIC), data=st.data())
def test_symmetric_ciphers_agree_with_python_pskc(name, data):
    encryption = pytest.importorskip("pskc.encryption")
    cipher = CIPHERS[name]
    key = data.draw(st.binary(min_size=cipher.key_lengths[0], max_size=cipher.key_lengths[0]))
    if cipher.family == "kw":
        plaintext = data.draw(st.integers(2, 5).flatmap(lambda n: st.binary(min_size=8 * n, max_size=8 * n)))
    else:
        plaintext = data.draw(st.binary(min_size=1, max_size=70))
    rng = lambda n: bytes(range(n))  # noqa: E731
    ours = crypto.encrypt_symmetric(cipher, key, plaintext, rng)
    assert encryption.decrypt(cipher.uri, key, ours) == plaintext
    theirs = encryption.encrypt(cipher.uri, key, plaintext)
    assert crypto.decrypt_symmetric(cipher, key, theirs)[0] == plaintext
    if cipher.family == "cbc":  # same IV -> same bytes
        block = 8 if cipher.block == "tripledes" else 16
        assert ours == encryption.encrypt(cipher.uri, key, plaintext, iv=bytes(range(block)))
    elif cipher.block != "tripledes":  # RFC 3394 is deterministic (RFC 3217 is not)
        assert ours == theirs


@pytest.mark.parametrize("name", list(MAC_ALGORITHMS))
def test_hmac_algorithms_agree_with_python_pskc(name):
    mac = pytest.importorskip("pskc.mac")
    algorithm = MAC_ALGORITHMS[name]
    assert crypto.compute_mac(algorithm, FIG6_MAC_KEY, FIG6_SECRET_CV) == mac.mac(algorithm.uri, FIG6_MAC_KEY,
                                                                                  FIG6_SECRET_CV)
    assert len(crypto.compute_mac(algorithm, b"k", b"v")) == algorithm.digest_size
