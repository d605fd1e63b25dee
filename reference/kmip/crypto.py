"""AES for the Encrypt and Decrypt operations (KMIP 1.4 §4.29/§4.30, 2.1 §6.1.17/§6.1.11).

Modes CBC, ECB, CTR and GCM (pyca/cryptography), Padding Method None or PKCS5 for the
block modes.  Parameters follow the Cryptographic Parameters structure (1.4 §3.6):
``Tag Length`` is in bytes, ``IV Length`` in bits.  Randomness is injected (the engine's
``random``), so a replayed exchange produces the same IV.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from reference.kmip.failures import Failure, KmipFailure
from reference.kmip.vocab import BlockCipherMode, CryptographicAlgorithm, PaddingMethod, enum_name

_BLOCK = 16
# GCM tag lengths NIST SP 800-38D §5.2.1.2 allows (bytes).
_GCM_TAG_LENGTHS = frozenset({4, 8, 12, 13, 14, 15, 16})


@dataclass(frozen=True)
class CipherSpec:
    algorithm: int | None
    mode: int | None
    padding: int | None = None
    tag_length: int | None = None  # bytes
    iv_length: int | None = None  # bits
    random_iv: bool | None = None


@dataclass(frozen=True)
class Sealed:
    data: bytes
    iv: bytes | None  # the IV the server generated (returned to the client), else None
    tag: bytes | None  # GCM authentication tag


def _unsupported(message: str) -> KmipFailure:
    return KmipFailure(Failure.UNSUPPORTED_CRYPTOGRAPHIC_PARAMETERS, message)


def _check(spec: CipherSpec, key: bytes) -> int:
    if spec.algorithm is not None and spec.algorithm != CryptographicAlgorithm.AES:
        raise _unsupported(f"Cryptographic Algorithm {enum_name('Cryptographic Algorithm', spec.algorithm)} is not supported (AES only)")
    if len(key) not in (16, 24, 32):
        raise KmipFailure(Failure.CRYPTOGRAPHIC_FAILURE, f"an AES key must be 128, 192 or 256 bits, this one has {len(key) * 8}")
    if spec.mode is None:
        raise KmipFailure(Failure.BAD_CRYPTOGRAPHIC_PARAMETERS, "no Block Cipher Mode given (request or key attribute)")
    if spec.mode not in (BlockCipherMode.CBC, BlockCipherMode.ECB, BlockCipherMode.CTR, BlockCipherMode.GCM):
        raise _unsupported(f"Block Cipher Mode {enum_name('Block Cipher Mode', spec.mode)} is not supported")
    padding = spec.padding if spec.padding is not None else PaddingMethod.NONE
    if padding not in (PaddingMethod.NONE, PaddingMethod.PKCS5):
        raise _unsupported(f"Padding Method {enum_name('Padding Method', padding)} is not supported")
    if padding == PaddingMethod.PKCS5 and spec.mode not in (BlockCipherMode.CBC, BlockCipherMode.ECB):
        raise KmipFailure(Failure.BAD_CRYPTOGRAPHIC_PARAMETERS, "PKCS5 padding applies to CBC and ECB only")
    if spec.mode == BlockCipherMode.GCM:
        if spec.tag_length is None or spec.tag_length not in _GCM_TAG_LENGTHS:
            # OASIS CS-BC-M-GCM-1-14 and -21 expect General Failure for Tag Length 1 and 32.
            raise KmipFailure(Failure.GENERAL_FAILURE,
                              f"GCM Tag Length must be one of {sorted(_GCM_TAG_LENGTHS)} bytes, got {spec.tag_length}")
    return padding


def _iv_size(spec: CipherSpec) -> int:
    if spec.mode == BlockCipherMode.GCM:
        return (spec.iv_length // 8) if spec.iv_length else 12
    return _BLOCK


def _mode(spec: CipherSpec, iv: bytes | None, tag: bytes | None = None) -> modes.Mode:
    try:
        if spec.mode == BlockCipherMode.ECB:
            return modes.ECB()
        if spec.mode == BlockCipherMode.CBC:
            return modes.CBC(iv)
        if spec.mode == BlockCipherMode.CTR:
            return modes.CTR(iv)
        return modes.GCM(iv, tag, min_tag_length=len(tag) if tag is not None else 16)
    except ValueError as exc:
        raise KmipFailure(Failure.BAD_CRYPTOGRAPHIC_PARAMETERS, f"bad IV/Counter/Nonce: {exc}") from None


def encrypt(key: bytes, spec: CipherSpec, data: bytes, iv: bytes | None, aad: bytes | None,
            random: Callable[[int], bytes]) -> Sealed:
    padding = _check(spec, key)
    generated = None
    if spec.mode != BlockCipherMode.ECB and iv is None:
        # 1.4 §3.6 Random IV: the server generates the IV; we do so too when the client
        # sent none (an IV-less CBC/CTR/GCM request cannot mean "no IV").
        iv = generated = random(_iv_size(spec))
    if padding == PaddingMethod.PKCS5:
        padder = sym_padding.PKCS7(128).padder()
        data = padder.update(data) + padder.finalize()
    elif spec.mode in (BlockCipherMode.CBC, BlockCipherMode.ECB) and len(data) % _BLOCK:
        raise KmipFailure(Failure.CRYPTOGRAPHIC_FAILURE, "data is not a multiple of the block size and Padding Method is None")
    encryptor = Cipher(algorithms.AES(key), _mode(spec, iv)).encryptor()
    if spec.mode == BlockCipherMode.GCM and aad:
        encryptor.authenticate_additional_data(aad)
    out = encryptor.update(data) + encryptor.finalize()
    tag = encryptor.tag[: spec.tag_length] if spec.mode == BlockCipherMode.GCM else None  # type: ignore[attr-defined]
    return Sealed(out, generated, tag)


def decrypt(key: bytes, spec: CipherSpec, data: bytes, iv: bytes | None, aad: bytes | None, tag: bytes | None) -> bytes:
    padding = _check(spec, key)
    if spec.mode != BlockCipherMode.ECB and iv is None:
        raise KmipFailure(Failure.MISSING_IV, "IV/Counter/Nonce is required to decrypt in this mode")
    if spec.mode == BlockCipherMode.GCM:
        if tag is None:
            raise KmipFailure(Failure.INVALID_MESSAGE, "GCM decryption needs the Authenticated Encryption Tag")
        if len(tag) != spec.tag_length:
            raise KmipFailure(Failure.CRYPTOGRAPHIC_FAILURE, "Authenticated Encryption Tag length differs from Tag Length")
    elif spec.mode in (BlockCipherMode.CBC, BlockCipherMode.ECB) and len(data) % _BLOCK:
        raise KmipFailure(Failure.CRYPTOGRAPHIC_FAILURE, "ciphertext is not a multiple of the block size")
    decryptor = Cipher(algorithms.AES(key), _mode(spec, iv, tag)).decryptor()
    if spec.mode == BlockCipherMode.GCM and aad:
        decryptor.authenticate_additional_data(aad)
    try:
        out = decryptor.update(data) + decryptor.finalize()
    except InvalidTag:
        raise KmipFailure(Failure.CRYPTOGRAPHIC_FAILURE, "authentication tag does not verify") from None
    if padding == PaddingMethod.PKCS5:
        unpadder = sym_padding.PKCS7(128).unpadder()
        try:
            out = unpadder.update(out) + unpadder.finalize()
        except ValueError:
            raise KmipFailure(Failure.CRYPTOGRAPHIC_FAILURE, "PKCS5 padding is invalid") from None
    return out
