"""Encryption of the client nonce R_C in four-pass DSKPP (RFC 6063 §4.2.3, 4.2.4).

The <EncryptionAlgorithm> of <KeyProvServerHello> selects the mechanism:

* K = K_SERVER (an RSA public key): "an RSA encryption scheme from PKCS #1 MAY be used"
  -> xmlenc#rsa-1_5 (RSAES-PKCS1-v1_5) or xmlenc#rsa-oaep-mgf1p / xmlenc11#rsa-oaep
  (RSAES-OAEP, SHA-1, MGF1-SHA-1, empty label: the XML Encryption defaults).  Padding is
  built here from the injected random source so an exchange replays byte for byte;
  decryption uses ``cryptography``'s private-key operations.
* K = K_SHARED: the DSKPP-PRF URIs select the Sec. 4.2.3 method (App. D.2.1/D.3.1:
  "When this URN is used to identify the encryption algorithm, the method for encryption
  of R_C values described in Section 4.2.4 [sic, 4.2.3] MUST be used"):
      DS = DSKPP-PRF(K_SHARED, "Encryption" || R_S, len(R_C)),  E = DS ^ R_C.
  The App. B.2.3-B.2.5 examples instead name xmlenc#aes128-cbc with a pre-shared key, so
  AES-128-CBC (IV || ciphertext, XML Encryption padding) is supported, and AES key wrap
  (RFC 3394 / RFC 5649) likewise, for the symmetric algorithms Sec. 9 f. lists.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_unwrap_with_padding,
    aes_key_wrap,
    aes_key_wrap_with_padding,
)

from harness.errors import CryptoFailure, InputError, UnsupportedFeature
from reference.dskpp.interpretation import DEFAULT_INTERPRETATION, CbcPadding, Interpretation, NonceXorPrf
from reference.dskpp.messages import EncryptionAlgorithmUri as Enc
from reference.dskpp.prf import Prf, dskpp_prf, prf_from_uri

RandomSource = Callable[[int], bytes]
LABEL_ENCRYPTION = b"Encryption"
_SPEC = "RFC 6063 §4.2.3"
_RSA_OAEP = (Enc.RSA_OAEP_MGF1P.value, Enc.RSA_OAEP_11.value)
_PRF_URIS = (Enc.PRF_AES_128.value, Enc.PRF_SHA256.value)


def _fail(message: str, status: str = "InitializationFailed") -> CryptoFailure:
    return CryptoFailure(message, status=status, spec=_SPEC, where="EncryptedNonce")


def _canonical_algorithm(algorithm: str, interp: Interpretation) -> str:
    if algorithm == Enc.RSA_1_5_UNDERSCORE.value and interp.accept_rsa_1_5_underscore:
        return Enc.RSA_1_5.value  # reading I-25: the App. B.3 spelling as an alias
    known = {e.value for e in Enc} - {Enc.RSA_1_5_UNDERSCORE.value}
    if algorithm not in known:
        raise UnsupportedFeature(
            "encryption algorithm not supported for R_C", status="NoSupportedEncryptionAlgorithms",
            spec=_SPEC, where="EncryptionAlgorithm",
        )
    return algorithm


# ----------------------------------------------------------------------------- RSA padding
def _mgf1_sha1(seed: bytes, length: int) -> bytes:
    out = b"".join(hashlib.sha1(seed + i.to_bytes(4, "big")).digest() for i in range(-(-length // 20)))
    return out[:length]


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def _eme_oaep_sha1(message: bytes, k: int, rng: RandomSource) -> bytes:
    """EME-OAEP encoding, RFC 8017 §7.1.1 step 2, SHA-1/MGF1-SHA-1, empty label."""
    h_len = 20
    if len(message) > k - 2 * h_len - 2:
        raise _fail("R_C too long for RSA-OAEP with this modulus")
    db = hashlib.sha1(b"").digest() + b"\x00" * (k - len(message) - 2 * h_len - 2) + b"\x01" + message
    seed = rng(h_len)
    masked_db = _xor(db, _mgf1_sha1(seed, k - h_len - 1))
    masked_seed = _xor(seed, _mgf1_sha1(masked_db, h_len))
    return b"\x00" + masked_seed + masked_db


def _eme_pkcs1_v15(message: bytes, k: int, rng: RandomSource) -> bytes:
    """EME-PKCS1-v1_5 encoding, RFC 8017 §7.2.1 step 2: 00 02 PS 00 M, PS nonzero."""
    if len(message) > k - 11:
        raise _fail("R_C too long for RSAES-PKCS1-v1_5 with this modulus")
    ps = b""
    for _ in range(64):  # a random source that keeps yielding zeros is broken
        if len(ps) >= k - len(message) - 3:
            break
        ps += bytes(b for b in rng(k - len(message) - 3 - len(ps)) if b)
    else:
        raise InputError("random source yields no nonzero octets", where="RSAES-PKCS1-v1_5")
    return b"\x00\x02" + ps + b"\x00" + message


def _rsa_public_operation(public_key: RSAPublicKey, em: bytes) -> bytes:
    numbers = public_key.public_numbers()
    k = (numbers.n.bit_length() + 7) // 8
    return pow(int.from_bytes(em, "big"), numbers.e, numbers.n).to_bytes(k, "big")


# ----------------------------------------------------------------------------- dispatch
def _xor_prf(algorithm: str, mac_algorithm: str | None, interp: Interpretation) -> Prf:
    if interp.nonce_xor_prf is NonceXorPrf.MAC_ALGORITHM:
        if mac_algorithm is None:
            raise InputError("reading mac-algorithm needs the negotiated MacAlgorithm", where="nonce encryption")
        return prf_from_uri(mac_algorithm)
    return prf_from_uri(algorithm, status="NoSupportedEncryptionAlgorithms")


def _aes_key(key: bytes) -> bytes:
    if len(key) != 16:
        raise _fail(f"AES-128 key must be 16 octets, K_SHARED has {len(key)}")
    return key


def encrypt_nonce(
    algorithm: str,
    r_c: bytes,
    *,
    key: RSAPublicKey | bytes,
    r_s: bytes,
    rng: RandomSource,
    mac_algorithm: str | None = None,
    interp: Interpretation = DEFAULT_INTERPRETATION,
) -> bytes:
    """E(K, R_C) for <EncryptedNonce>.  ``key``: K_SERVER public key or K_SHARED octets."""
    algorithm = _canonical_algorithm(algorithm, interp)
    if algorithm in (Enc.RSA_1_5.value, *_RSA_OAEP):
        if not isinstance(key, RSAPublicKey):
            raise InputError("RSA encryption of R_C needs the server's RSA public key", where="encrypt_nonce")
        k = (key.public_numbers().n.bit_length() + 7) // 8
        encode = _eme_pkcs1_v15 if algorithm == Enc.RSA_1_5.value else _eme_oaep_sha1
        return _rsa_public_operation(key, encode(r_c, k, rng))
    if not isinstance(key, bytes):
        raise InputError("symmetric encryption of R_C needs K_SHARED octets", where="encrypt_nonce")
    if algorithm in _PRF_URIS:
        ds = dskpp_prf(_xor_prf(algorithm, mac_algorithm, interp), key, LABEL_ENCRYPTION + r_s, len(r_c), interp=interp)
        return _xor(ds, r_c)
    if algorithm == Enc.AES128_CBC.value:
        iv = rng(16)
        pad = 16 - len(r_c) % 16
        enc = Cipher(algorithms.AES(_aes_key(key)), modes.CBC(iv)).encryptor()
        return iv + enc.update(r_c + bytes([pad]) * pad) + enc.finalize()
    if algorithm == Enc.KW_AES128.value:
        if len(r_c) % 8 or len(r_c) < 16:
            raise _fail("AES key wrap (RFC 3394) needs R_C of 16+ octets in 8-octet steps")
        return aes_key_wrap(_aes_key(key), r_c)
    return aes_key_wrap_with_padding(_aes_key(key), r_c)  # KW_AES128_PAD


def decrypt_nonce(
    algorithm: str,
    encrypted: bytes,
    *,
    key: RSAPrivateKey | bytes,
    r_s: bytes,
    mac_algorithm: str | None = None,
    interp: Interpretation = DEFAULT_INTERPRETATION,
) -> bytes:
    """R_C from <EncryptedNonce>; failures are CryptoFailure(InitializationFailed).

    Note: with OpenSSL's implicit rejection, a bad PKCS #1 v1.5 block decrypts to a
    pseudorandom message instead of failing; the key confirmation MAC then fails.
    """
    algorithm = _canonical_algorithm(algorithm, interp)
    try:
        if algorithm in (Enc.RSA_1_5.value, *_RSA_OAEP):
            if not isinstance(key, RSAPrivateKey):
                raise InputError("RSA decryption of R_C needs the server's private key", where="decrypt_nonce")
            if algorithm == Enc.RSA_1_5.value:
                return key.decrypt(encrypted, asym_padding.PKCS1v15())
            oaep = asym_padding.OAEP(mgf=asym_padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
            return key.decrypt(encrypted, oaep)
    except ValueError:
        raise _fail("RSA decryption of R_C failed") from None
    if not isinstance(key, bytes):
        raise InputError("symmetric decryption of R_C needs K_SHARED octets", where="decrypt_nonce")
    if algorithm in _PRF_URIS:
        if not encrypted:
            raise _fail("empty EncryptedNonce")
        ds = dskpp_prf(_xor_prf(algorithm, mac_algorithm, interp), key, LABEL_ENCRYPTION + r_s, len(encrypted), interp=interp)
        return _xor(ds, encrypted)
    if algorithm == Enc.AES128_CBC.value:
        return _cbc_decrypt(_aes_key(key), encrypted, interp.cbc_padding)
    try:
        if algorithm == Enc.KW_AES128.value:
            return aes_key_unwrap(_aes_key(key), encrypted)
        return aes_key_unwrap_with_padding(_aes_key(key), encrypted)
    except (InvalidUnwrap, ValueError):
        raise _fail("AES key unwrap of R_C failed") from None


def _cbc_decrypt(key: bytes, data: bytes, padding: CbcPadding) -> bytes:
    if len(data) < 32 or len(data) % 16:
        raise _fail("aes128-cbc EncryptedNonce must be IV plus whole blocks")
    dec = Cipher(algorithms.AES(key), modes.CBC(data[:16])).decryptor()
    plain = dec.update(data[16:]) + dec.finalize()
    pad = plain[-1]
    if not 1 <= pad <= 16:
        raise _fail("bad aes128-cbc padding")
    if padding is CbcPadding.PKCS7_STRICT and plain[-pad:] != bytes([pad]) * pad:
        raise _fail("bad aes128-cbc padding (strict PKCS #7 reading)")
    return plain[:-pad]
