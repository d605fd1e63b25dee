"""Low-level key protection primitives for PSKC (RFC 6030 §6).

Symmetric: CBC (AES, Triple-DES, Camellia; IV prepended), key wrap (AES RFC 3394 via
``cryptography``, Camellia RFC 3657 and Triple-DES RFC 3217 via ``keywrap``).
Passphrase: PBKDF2 (PKCS #5 v2.0, RFC 6030 §6.2).  Asymmetric: RSA PKCS #1 v1.5 and
RSA-OAEP-MGF1P (XML-Enc §5.4, RFC 6030 §6.3).  MAC: HMAC-SHA1/224/256/384/512 (§6.1.1).

Nothing here logs or formats key material.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Callable

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from harness.errors import CryptoFailure, InputError, UnsupportedFeature

from . import keywrap
from .algorithms import DS_NS, MACAlgorithm, Cipher, prf_hash
from .ciphers import BLOCK_SIZE, cbc_decrypt, cbc_encrypt
from .model import PBKDF2Params

Rng = Callable[[int], bytes]


def check_key_length(cipher: Cipher, key: bytes, *, for_encoding: bool = False) -> None:
    if cipher.family != "rsa" and len(key) not in cipher.key_lengths:
        lengths = "/".join(str(n) for n in cipher.key_lengths)
        message = f"{cipher.name} needs a {lengths}-octet key, got {len(key)} octets"
        if for_encoding:
            raise InputError(message)
        raise CryptoFailure(message, status="pskc.wrong-key-length", spec=cipher.spec)


# --------------------------------------------------------------------------- symmetric
def decrypt_symmetric(cipher: Cipher, key: bytes, cipher_value: bytes, *,
                      iv: bytes | None = None, keyed: Any = None) -> tuple[bytes, str | None]:
    """(plaintext, note); note names a tolerated irregularity:

    "xmlenc-padding": CBC padding that is XML-Enc style, not PKCS #5 (RFC 6030 §6.4);
    "kw-rfc5649": RFC 5649 padded wrap under an RFC 3394 kw-* URI (python-pskc writes
    this for values that are not multiples of 8 octets).
    ``iv`` is only for producers that do not prepend the IV; ``keyed`` is a prebuilt
    ``ciphers.block_algorithm(cipher.block, key)`` reused across the values of a container.
    """
    check_key_length(cipher, key)
    if cipher.family == "cbc":
        plaintext, strict = cbc_decrypt(cipher.block, key, cipher_value, iv, keyed)
        return plaintext, None if strict else "xmlenc-padding"
    if cipher.family == "kwp":
        return keywrap.rfc5649_unwrap(cipher.block, key, cipher_value), None
    if cipher.block == "tripledes":
        return keywrap.rfc3217_unwrap(key, cipher_value), None
    try:
        if cipher.block == "aes":
            try:
                return aes_key_unwrap(key, cipher_value), None
            except (InvalidUnwrap, ValueError):
                raise CryptoFailure("AES key unwrap failed (wrong key or corrupted value)",
                                    status="pskc.keywrap-integrity", spec="RFC 3394 §2.2.3") from None
        return keywrap.rfc3394_unwrap("camellia", key, cipher_value), None
    except CryptoFailure as failure:
        try:
            return keywrap.rfc5649_unwrap(cipher.block, key, cipher_value), "kw-rfc5649"
        except CryptoFailure:
            raise failure from None


def encrypt_symmetric(cipher: Cipher, key: bytes, plaintext: bytes, rng: Rng) -> bytes:
    check_key_length(cipher, key, for_encoding=True)
    if cipher.family == "cbc":
        return cbc_encrypt(cipher.block, key, plaintext, rng(BLOCK_SIZE[cipher.block]))
    if cipher.family == "kwp":
        return keywrap.rfc5649_wrap(cipher.block, key, plaintext)
    if cipher.block == "tripledes":
        return keywrap.rfc3217_wrap(key, plaintext, rng)
    if len(plaintext) % 8 or len(plaintext) < 16:
        # RFC 6030 §6.1: KW-AES128 needs a multiple of 8 octets.  Padding (RFC 5649) is a
        # different algorithm with its own URI (kw-aes-128-pad), so refuse, don't pad.
        raise InputError(
            f"{cipher.name} can only wrap values of 16+ octets in multiples of 8 "
            f"(got {len(plaintext)}); use kw-aes-128-pad or a CBC algorithm (RFC 6030 §6.1)"
        )
    if cipher.block == "aes":
        return aes_key_wrap(key, plaintext)
    return keywrap.rfc3394_wrap("camellia", key, plaintext)


# --------------------------------------------------------------------------- RSA
def load_private_key(private_key: Any, password: bytes | None = None) -> rsa.RSAPrivateKey:
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key
    if isinstance(private_key, str):
        private_key = private_key.encode()
    if not isinstance(private_key, (bytes, bytearray)):
        raise InputError(f"private key must be an RSA key object or PEM/DER bytes, not {type(private_key).__name__}")
    loaders = (serialization.load_pem_private_key, serialization.load_der_private_key)
    for loader in loaders:
        try:
            key = loader(bytes(private_key), password=password)
        except (ValueError, TypeError):
            continue
        if isinstance(key, rsa.RSAPrivateKey):
            return key
        raise InputError("private key is not an RSA key (RFC 6030 §6.3 uses RSA)")
    raise InputError("private key is neither PEM nor DER (or needs a password)")


def load_certificate(certificate: Any) -> x509.Certificate:
    if isinstance(certificate, x509.Certificate):
        return certificate
    if isinstance(certificate, str):
        certificate = certificate.encode()
    if isinstance(certificate, (bytes, bytearray)):
        data = bytes(certificate)
        try:
            return x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)
        except ValueError:
            raise InputError("certificate is neither PEM nor DER X.509") from None
    raise InputError(f"certificate must be an X.509 certificate or PEM/DER bytes, not {type(certificate).__name__}")


_OAEP_DIGESTS = {"sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


def _oaep(digest_uri: str | None, label: bytes | None) -> padding.OAEP:
    # XML-Enc §5.4.2: rsa-oaep-mgf1p = MGF1 with SHA-1; DigestMethod default SHA-1.
    name = (digest_uri or DS_NS + "sha1").rsplit("#", 1)[-1].lower()
    if name not in _OAEP_DIGESTS:
        raise UnsupportedFeature(f"RSA-OAEP digest {digest_uri!r} not supported",
                                 status="pskc.unsupported-algorithm", spec="XML-Enc §5.4.2")
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=_OAEP_DIGESTS[name](), label=label or None)


def decrypt_rsa(cipher: Cipher, key: rsa.RSAPrivateKey, cipher_value: bytes, *,
                oaep_digest: str | None = None, oaep_params: bytes | None = None) -> bytes:
    try:
        if cipher.name == "rsa-1_5":
            return key.decrypt(cipher_value, padding.PKCS1v15())
        return key.decrypt(cipher_value, _oaep(oaep_digest, oaep_params))
    except (ValueError, InvalidTag):
        # One message for both, so the error does not act as a padding oracle.
        raise CryptoFailure("RSA decryption failed (wrong private key or corrupted value)",
                            status="pskc.rsa-decrypt", spec=cipher.spec) from None


def encrypt_rsa(cipher: Cipher, public_key: rsa.RSAPublicKey, plaintext: bytes) -> bytes:
    # OAEP / PKCS #1 randomness comes from OpenSSL: RSA output does not replay.
    if cipher.name == "rsa-1_5":
        return public_key.encrypt(plaintext, padding.PKCS1v15())
    return public_key.encrypt(plaintext, _oaep(None, None))


# --------------------------------------------------------------------------- PBKDF2
def derive_pbkdf2(password: str | bytes, params: PBKDF2Params, key_length: int) -> bytes:
    """PKCS #5 v2.0 PBKDF2 (RFC 6030 §6.2).  ``key_length`` used when params omit it."""
    hash_name = prf_hash(params.prf)
    if hash_name is None:
        raise UnsupportedFeature(f"PBKDF2 PRF {params.prf!r} not supported",
                                 status="pskc.unsupported-algorithm", spec="RFC 6030 §6.2; PKCS #5 v2.0")
    if isinstance(password, str):
        password = password.encode("utf-8")
    length = params.key_length or key_length
    if params.iteration_count < 1 or length < 1:
        raise CryptoFailure("PBKDF2 iteration count and key length must be positive",
                            status="pskc.bad-derivation", spec="RFC 6030 §6.2")
    return hashlib.pbkdf2_hmac(hash_name, password, params.salt, params.iteration_count, length)


# --------------------------------------------------------------------------- MAC
def compute_mac(mac: MACAlgorithm, key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, mac.hash_name).digest()


def mac_matches(mac: MACAlgorithm, key: bytes, data: bytes, expected: bytes) -> bool:
    return hmac.compare_digest(compute_mac(mac, key, data), expected)
