"""K_PROV, MAC layouts and R_C encryption (RFC 6063 §3.4.3, 4.1.2, 4.2.3-4.2.5, 5.2.2)
against formulas written out independently and against other libraries."""

from __future__ import annotations

import hashlib
import os
import random

import pytest
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509 import load_der_x509_certificate

from harness.errors import CryptoFailure, SchemaViolation, UnsupportedFeature
from harness.vectors import load_json, vector_path
from reference.dskpp import codec, crypto
from reference.dskpp.crypto import (
    CbcPadding,
    Interpretation,
    KeyConfirmationInput,
    KProvLength,
    MissingServerId,
    NonceXorPrf,
    Prf,
    PublicKeyOctets,
    RenewalMacInput,
    SharedKeyOctets,
)
from reference.dskpp.messages import EncryptionAlgorithmUri as Enc

from .independent import PRF_AES, PRF_SHA256, independent_prf

VECTORS = load_json("dskpp/primitives.json")
URI = {Prf.AES_128: PRF_AES, Prf.SHA256: PRF_SHA256}


def seeded(seed: int):
    rnd = random.Random(seed)
    return lambda n: bytes(rnd.getrandbits(8) for _ in range(n))


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# ----------------------------------------------------------------------------- K_PROV
def test_k_prov_length_rfc_example():
    # Sec. 5.2.2: HOTP key of 20 octets with DSKPP-PRF-SHA256 -> K_PROV of 64 octets.
    assert crypto.k_prov_length(20, Prf.SHA256) == 64
    assert crypto.k_prov_length(16, Prf.AES_128) == 32
    assert crypto.k_prov_length(32, Prf.AES_128) == 64
    assert crypto.k_prov_length(20, Prf.SHA256, interp=Interpretation(k_prov_length=KProvLength.TWICE_TOKEN)) == 40


@pytest.mark.parametrize("prf", list(Prf))
def test_k_prov_derivation(prf):
    r_c, r_s, k = os.urandom(16), os.urandom(16), os.urandom(16)
    length = crypto.k_prov_length(20, prf)
    k_prov = crypto.derive_k_prov(prf, r_c=r_c, k_octets=k, r_s=r_s, length=length)
    assert k_prov == independent_prf(URI[prf], r_c, b"Key generation" + k + r_s, length)
    keys = crypto.split_k_prov(k_prov)
    assert keys.k_mac + keys.k_token == k_prov and len(keys.k_mac) == len(keys.k_token)
    assert crypto.token_key(keys.k_token, 20) == k_prov[length // 2 : length // 2 + 20]  # "first 20 bytes of K_TOKEN"
    assert keys.k_mac.hex() not in repr(keys) and keys.k_token.hex() not in repr(keys)


def test_mac_key_truncation():
    assert crypto.mac_key(bytes(range(32)), Prf.AES_128) == bytes(range(16))
    assert crypto.mac_key(bytes(range(32)), Prf.SHA256) == bytes(range(32))
    assert crypto.mac_key(bytes(range(40)), Prf.SHA256) == bytes(range(32))
    assert crypto.mac_key(bytes(range(40)), Prf.SHA256, interp=Interpretation(k_prov_length=KProvLength.TWICE_TOKEN)) == bytes(range(40))


def test_odd_k_prov_cannot_be_split():
    with pytest.raises(CryptoFailure):
        crypto.split_k_prov(bytes(33))


def test_example_certificate_key_octets():
    hello = codec.decode(vector_path("dskpp/rfc6063-appendix-b/B.3.1-KeyProvClientHello.xml").read_bytes())
    der = hello.supported_protocol_variants.two_pass[0].payload.key_info.x509_certificates[0]
    public = load_der_x509_certificate(der).public_key()
    spki = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert crypto.public_key_octets(certificate_der=der) == spki
    n = public.public_numbers().n
    assert crypto.public_key_octets(public, interp=Interpretation(public_key_octets=PublicKeyOctets.MODULUS)) == n.to_bytes(128, "big")
    assert crypto.public_key_octets(public, certificate_der=der, interp=Interpretation(public_key_octets=PublicKeyOctets.CERTIFICATE_DER)) == der
    pkcs1 = crypto.public_key_octets(public, interp=Interpretation(public_key_octets=PublicKeyOctets.PKCS1_DER))
    assert pkcs1 == public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1) and pkcs1 in spki


def test_shared_key_octets():
    assert crypto.shared_key_octets(b"k" * 16, key_name="Pre-shared-key-1") == b"k" * 16
    interp = Interpretation(shared_key_octets=SharedKeyOctets.KEY_NAME_UTF8)
    assert crypto.shared_key_octets(b"k" * 16, key_name="Pre-shared-key-1", interp=interp) == b"Pre-shared-key-1"


# ----------------------------------------------------------------------------- MACs
def test_message_hash_is_sha256_of_concatenation():
    msgs = [b"<a/>", b"<b/>", b"<c/>"]
    assert crypto.message_hash(msgs) == hashlib.sha256(b"<a/><b/><c/>").digest()


@pytest.mark.parametrize("prf", list(Prf))
def test_key_confirmation_four_pass(prf):
    k_mac, r_c = os.urandom(prf.mac_key_length), os.urandom(16)
    msg_hash = hashlib.sha256(b"hello" + b"server hello" + b"nonce").digest()
    got = crypto.key_confirmation_mac_four_pass(prf, k_mac, msg_hash=msg_hash, r_c=r_c)
    assert got == independent_prf(URI[prf], k_mac, b"MAC 1 computation" + msg_hash, 32)  # Sec. 4.2.4
    ctkip = Interpretation(key_confirmation_input=KeyConfirmationInput.NONCE_CTKIP)
    got = crypto.key_confirmation_mac_four_pass(prf, k_mac, msg_hash=msg_hash, r_c=r_c, interp=ctkip)
    assert got == independent_prf(URI[prf], k_mac, b"MAC 1 computation" + r_c, 16)


@pytest.mark.parametrize("prf", list(Prf))
def test_key_confirmation_two_pass(prf):
    k_mac, r = os.urandom(prf.mac_key_length), os.urandom(32)
    msg_hash = hashlib.sha256(b"client hello").digest()
    sid = "https://dskpp.example.com/\u00e9"
    got = crypto.key_confirmation_mac_two_pass(prf, k_mac, msg_hash=msg_hash, server_id=sid, r=r)
    assert got == independent_prf(URI[prf], k_mac, b"MAC 1 computation" + msg_hash + sid.encode("utf-8"), 32)  # Sec. 5.2.2
    ctkip = Interpretation(key_confirmation_input=KeyConfirmationInput.NONCE_CTKIP)
    got = crypto.key_confirmation_mac_two_pass(prf, k_mac, msg_hash=msg_hash, server_id=sid, r=r, interp=ctkip)
    assert got == independent_prf(URI[prf], k_mac, b"MAC 1 computation" + sid.encode() + r, 32)


def test_missing_server_id_readings():
    k_mac, msg_hash = os.urandom(32), os.urandom(32)
    with pytest.raises(SchemaViolation):
        crypto.key_confirmation_mac_two_pass(Prf.SHA256, k_mac, msg_hash=msg_hash, server_id=None)
    empty = Interpretation(missing_server_id=MissingServerId.EMPTY)
    got = crypto.key_confirmation_mac_two_pass(Prf.SHA256, k_mac, msg_hash=msg_hash, server_id=None, interp=empty)
    assert got == independent_prf(PRF_SHA256, k_mac, b"MAC 1 computation" + msg_hash, 32)


@pytest.mark.parametrize("prf", list(Prf))
def test_server_auth_mac_two_pass(prf):
    k_prev, r = os.urandom(16), os.urandom(20)
    got = crypto.server_auth_mac_two_pass(prf, k_prev, server_id="srv", r=r)
    expected_32 = independent_prf(URI[prf], k_prev, b"MAC 2 computation" + b"srv" + r, 32)
    assert got == expected_32[:16]  # default dsLen 16 (I-12)
    crypto.verify_server_auth_mac_two_pass(prf, k_prev, expected_32, server_id="srv", r=r)  # any length >= 16
    crypto.verify_server_auth_mac_two_pass(prf, k_prev, expected_32[:20], server_id="srv", r=r)
    for bad in (expected_32[:15], bytes(16)):
        with pytest.raises(CryptoFailure):
            crypto.verify_server_auth_mac_two_pass(prf, k_prev, bad, server_id="srv", r=r)


@pytest.mark.parametrize(
    "reading,label,with_r",
    [
        (RenewalMacInput.MAC2_RS, b"MAC 2 computation", False),
        (RenewalMacInput.MAC2_R_RS, b"MAC 2 computation", True),
        (RenewalMacInput.CTKIP_MAC1_R_RS, b"MAC 1 computation", True),
    ],
)
def test_renewal_mac_four_pass_readings(reading, label, with_r):
    k_prev, r_s, r = os.urandom(16), os.urandom(16), os.urandom(16)
    got = crypto.renewal_mac_four_pass(Prf.AES_128, k_prev, r_s=r_s, r=r, interp=Interpretation(renewal_mac_input=reading))
    s = label + (r if with_r else b"") + r_s
    assert got == independent_prf(PRF_AES, k_prev, s, len(r_s))  # dsLen = len(R_S), Sec. 4.2.3


# ----------------------------------------------------------------------------- R_C encryption
@pytest.mark.parametrize("uri", [Enc.RSA_1_5.value, Enc.RSA_OAEP_MGF1P.value, Enc.RSA_OAEP_11.value])
def test_rsa_nonce_encryption_interoperates(rsa_key, uri):
    r_c = os.urandom(20)
    ct = crypto.encrypt_nonce(uri, r_c, key=rsa_key.public_key(), r_s=b"", rng=os.urandom)
    if uri == Enc.RSA_1_5.value:
        theirs = asym_padding.PKCS1v15()
    else:
        theirs = asym_padding.OAEP(mgf=asym_padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    assert rsa_key.decrypt(ct, theirs) == r_c  # cryptography decrypts ours
    assert crypto.decrypt_nonce(uri, rsa_key.public_key().encrypt(r_c, theirs), key=rsa_key, r_s=b"") == r_c


def test_rsa_v15_padding_layout_and_replay(rsa_key):
    r_c = os.urandom(16)
    ct1 = crypto.encrypt_nonce(Enc.RSA_1_5.value, r_c, key=rsa_key.public_key(), r_s=b"", rng=seeded(7))
    ct2 = crypto.encrypt_nonce(Enc.RSA_1_5.value, r_c, key=rsa_key.public_key(), r_s=b"", rng=seeded(7))
    ct3 = crypto.encrypt_nonce(Enc.RSA_1_5.value, r_c, key=rsa_key.public_key(), r_s=b"", rng=seeded(8))
    assert ct1 == ct2 != ct3  # randomness is injected: same source, same bytes
    priv = rsa_key.private_numbers()
    em = pow(int.from_bytes(ct1, "big"), priv.d, priv.public_numbers.n).to_bytes(256, "big")
    ps_end = em.index(b"\x00", 2)
    assert em[:2] == b"\x00\x02" and ps_end - 2 >= 8 and 0 not in em[2:ps_end] and em[ps_end + 1:] == r_c


def test_rsa_decrypt_garbage_fails_typed(rsa_key):
    oaep = Enc.RSA_OAEP_MGF1P.value
    with pytest.raises(CryptoFailure) as err:
        crypto.decrypt_nonce(oaep, os.urandom(256), key=rsa_key, r_s=b"")
    assert err.value.status == "InitializationFailed"


def test_rsa_1_5_underscore_spelling(rsa_key):
    r_c = os.urandom(16)
    with pytest.raises(UnsupportedFeature) as err:
        crypto.encrypt_nonce(Enc.RSA_1_5_UNDERSCORE.value, r_c, key=rsa_key.public_key(), r_s=b"", rng=os.urandom)
    assert err.value.status == "NoSupportedEncryptionAlgorithms"
    alias = Interpretation(accept_rsa_1_5_underscore=True)
    ct = crypto.encrypt_nonce(Enc.RSA_1_5_UNDERSCORE.value, r_c, key=rsa_key.public_key(), r_s=b"", rng=os.urandom, interp=alias)
    assert rsa_key.decrypt(ct, asym_padding.PKCS1v15()) == r_c


@pytest.mark.parametrize("prf", list(Prf))
def test_prf_xor_nonce_encryption(prf):
    # Sec. 4.2.3: DS = DSKPP-PRF(K_SHARED, "Encryption" || R_S, len(R_C)); E = DS ^ R_C
    k_shared, r_s, r_c = os.urandom(16), os.urandom(16), os.urandom(20)
    ct = crypto.encrypt_nonce(prf.value, r_c, key=k_shared, r_s=r_s, rng=os.urandom)
    ds = independent_prf(URI[prf], k_shared, b"Encryption" + r_s, len(r_c))
    assert ct == bytes(a ^ b for a, b in zip(ds, r_c))
    assert crypto.decrypt_nonce(prf.value, ct, key=k_shared, r_s=r_s) == r_c


def test_prf_xor_mac_algorithm_reading():
    k_shared, r_s, r_c = os.urandom(16), os.urandom(16), os.urandom(16)
    interp = Interpretation(nonce_xor_prf=NonceXorPrf.MAC_ALGORITHM)
    ct = crypto.encrypt_nonce(Prf.AES_128.value, r_c, key=k_shared, r_s=r_s, rng=os.urandom, mac_algorithm=Prf.SHA256.value, interp=interp)
    ds = independent_prf(PRF_SHA256, k_shared, b"Encryption" + r_s, 16)
    assert ct == bytes(a ^ b for a, b in zip(ds, r_c))


def test_aes_cbc_nonce_encryption():
    k_shared, r_c = os.urandom(16), os.urandom(32)
    ct = crypto.encrypt_nonce(Enc.AES128_CBC.value, r_c, key=k_shared, r_s=b"", rng=seeded(1))
    iv = seeded(1)(16)
    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(k_shared), modes.CBC(iv)).encryptor()
    assert ct == iv + enc.update(padder.update(r_c) + padder.finalize()) + enc.finalize()
    assert len(ct) == 64  # the size of the App. B.2.5 EncryptedNonce (fictitious values)
    assert crypto.decrypt_nonce(Enc.AES128_CBC.value, ct, key=k_shared, r_s=b"") == r_c


def test_aes_cbc_xmlenc_padding_reading():
    # XML Encryption Sec. 5.2: padding octets are arbitrary, only the last gives the count.
    k_shared, iv, r_c = os.urandom(16), os.urandom(16), os.urandom(16)
    plain = r_c + b"\x99" * 15 + b"\x10"
    enc = Cipher(algorithms.AES(k_shared), modes.CBC(iv)).encryptor()
    ct = iv + enc.update(plain) + enc.finalize()
    assert crypto.decrypt_nonce(Enc.AES128_CBC.value, ct, key=k_shared, r_s=b"") == r_c
    with pytest.raises(CryptoFailure):
        crypto.decrypt_nonce(Enc.AES128_CBC.value, ct, key=k_shared, r_s=b"", interp=Interpretation(cbc_padding=CbcPadding.PKCS7_STRICT))


def test_key_wrap_rfc3394_vector():
    kw = VECTORS["aes_key_wrap"]
    kek, data, ct = (bytes.fromhex(kw[n]) for n in ("kek", "key_data", "ciphertext"))
    assert crypto.encrypt_nonce(Enc.KW_AES128.value, data, key=kek, r_s=b"", rng=os.urandom) == ct
    assert crypto.decrypt_nonce(Enc.KW_AES128.value, ct, key=kek, r_s=b"") == data
    with pytest.raises(CryptoFailure):
        crypto.decrypt_nonce(Enc.KW_AES128.value, ct[:-1] + bytes([ct[-1] ^ 1]), key=kek, r_s=b"")


def test_key_wrap_with_padding_round_trip():
    kek, r_c = os.urandom(16), os.urandom(20)
    ct = crypto.encrypt_nonce(Enc.KW_AES128_PAD.value, r_c, key=kek, r_s=b"", rng=os.urandom)
    assert len(ct) == 32 and crypto.decrypt_nonce(Enc.KW_AES128_PAD.value, ct, key=kek, r_s=b"") == r_c


def test_unknown_encryption_algorithm():
    with pytest.raises(UnsupportedFeature) as err:
        crypto.encrypt_nonce("http://www.w3.org/2001/04/xmlenc#tripledes-cbc", bytes(16), key=bytes(16), r_s=b"", rng=os.urandom)
    assert err.value.status == "NoSupportedEncryptionAlgorithms"
