"""DSKPP cryptography (RFC 6063), sans I/O: randomness is always passed in.

What lives here, with the sections it implements:

* DSKPP-PRF (Sec. 3.4.2, App. D) - from ``prf``; user authentication (Sec. 3.4.1) - from
  ``authcode``; the readings of ambiguous text - from ``interpretation``.  All re-exported.
* K_PROV = DSKPP-PRF(R_C, "Key generation" || K || R_S, dsLen) = K_MAC || K_TOKEN
  (Sec. 4.1.2), the Sec. 5.2.2 length and truncation rules, the octets of K.
* msg_hash (Sec. 3.4.3) and the MACs: key confirmation "MAC 1 computation" (Sec. 4.2.4,
  5.2.2), server authentication "MAC 2 computation" (Sec. 5.2.2), the four-pass renewal
  MAC of <KeyProvServerHello> (Sec. 4.2.3).
* Encryption of R_C (Sec. 4.2.3): RSAES-PKCS1-v1_5 and RSAES-OAEP under K_SERVER (the
  padding is built here from the injected random source, so an exchange replays; the
  private-key side uses ``cryptography``), and under K_SHARED the DSKPP-PRF XOR method,
  AES-128-CBC (the App. B.2.3-B.2.5 examples) and AES key wrap.

Every function takes ``interp`` where the RFC allows more than one reading.
"""

from __future__ import annotations

import hashlib
import hmac as _hmac
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.x509 import load_der_x509_certificate

from harness.errors import CryptoFailure, InputError, SchemaViolation
from harness.redaction import fingerprint
from reference.dskpp.authcode import (  # noqa: F401  (re-exported public API)
    AcTlv,
    AuthenticationCode,
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
from reference.dskpp import interpretation as _interpretation
from reference.dskpp.interpretation import *  # noqa: F401,F403  (re-exported option enums)
from reference.dskpp.interpretation import (
    DEFAULT_INTERPRETATION,
    Interpretation,
    KeyConfirmationInput,
    KProvLength,
    MissingServerId,
    PublicKeyOctets,
    RenewalMacInput,
    SharedKeyOctets,
)
from reference.dskpp.nonce_encryption import LABEL_ENCRYPTION, RandomSource, decrypt_nonce, encrypt_nonce  # noqa: F401
from reference.dskpp.prf import MIN_KEY_LENGTH, Prf, dskpp_prf, prf_from_uri  # noqa: F401


LABEL_KEY_GENERATION = b"Key generation"
LABEL_MAC_1 = b"MAC 1 computation"
LABEL_MAC_2 = b"MAC 2 computation"
MIN_SERVER_AUTH_MAC_LENGTH = 16  # Sec. 5.2.2 "dsLen >= 16"


# ----------------------------------------------------------------------------- K octets
def public_key_octets(
    public_key: RSAPublicKey | None = None,
    *,
    certificate_der: bytes | None = None,
    interp: Interpretation = DEFAULT_INTERPRETATION,
) -> bytes:
    """The octets of K when K is a public key (reading I-3).

    Give the key, or the DER certificate carrying it (required for CERTIFICATE_DER).
    """
    reading = interp.public_key_octets
    if reading is PublicKeyOctets.CERTIFICATE_DER:
        if certificate_der is None:
            raise InputError("reading certificate-der needs the certificate", where="public_key_octets")
        return certificate_der
    if public_key is None:
        if certificate_der is None:
            raise InputError("need a public key or a certificate", where="public_key_octets")
        public_key = load_der_x509_certificate(certificate_der).public_key()  # type: ignore[assignment]
    if reading is PublicKeyOctets.SPKI_DER:
        return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if reading is PublicKeyOctets.PKCS1_DER:
        return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    n = public_key.public_numbers().n
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def shared_key_octets(
    key: bytes, *, key_name: str | None = None, interp: Interpretation = DEFAULT_INTERPRETATION
) -> bytes:
    """The octets of K when K is K_SHARED (reading I-4)."""
    if interp.shared_key_octets is SharedKeyOctets.RAW_KEY:
        return key
    if key_name is None:
        raise InputError("reading key-name-utf8 needs the ds:KeyName", where="shared_key_octets")
    return key_name.encode("utf-8")


# ----------------------------------------------------------------------------- K_PROV
@dataclass(frozen=True)
class ProvisioningKeys:
    """K_PROV split: K_MAC (first half) and K_TOKEN (second half).  Never in repr()."""

    k_mac: bytes = field(repr=False)
    k_token: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"ProvisioningKeys(k_mac={fingerprint(self.k_mac)}, k_token={fingerprint(self.k_token)})"


def k_prov_length(token_key_length: int, prf: Prf, *, interp: Interpretation = DEFAULT_INTERPRETATION) -> int:
    """dsLen of K_PROV: twice the greater of token and MAC key lengths (Sec. 5.2.2, I-5)."""
    if token_key_length < 1:
        raise InputError("token key length must be positive", where="k_prov_length")
    if interp.k_prov_length is KProvLength.TWICE_TOKEN:
        return 2 * token_key_length
    return 2 * max(token_key_length, prf.mac_key_length)


def derive_k_prov(
    prf: Prf, *, r_c: bytes, k_octets: bytes, r_s: bytes, length: int, interp: Interpretation = DEFAULT_INTERPRETATION
) -> bytes:
    """Four-pass K_PROV = DSKPP-PRF(R_C, "Key generation" || K || R_S, dsLen) (Sec. 4.1.2)."""
    return dskpp_prf(prf, r_c, LABEL_KEY_GENERATION + k_octets + r_s, length, interp=interp)


def split_k_prov(k_prov: bytes) -> ProvisioningKeys:
    """K_PROV = K_MAC || K_TOKEN, two halves of equal length (Sec. 4.1.2, 5.2.2)."""
    if not k_prov or len(k_prov) % 2:
        raise CryptoFailure(
            f"K_PROV of {len(k_prov)} octets cannot be split in equal halves",
            status="InitializationFailed", spec="RFC 6063 §5.2.2",
        )
    half = len(k_prov) // 2
    return ProvisioningKeys(k_prov[:half], k_prov[half:])


def token_key(k_token: bytes, key_length: int) -> bytes:
    """The actual token key: the first ``key_length`` octets of K_TOKEN (Sec. 5.2.2)."""
    if key_length > len(k_token):
        raise CryptoFailure("K_TOKEN shorter than the key type needs", status="InitializationFailed", spec="RFC 6063 §5.2.2")
    return k_token[:key_length]


def mac_key(k_mac: bytes, prf: Prf, *, interp: Interpretation = DEFAULT_INTERPRETATION) -> bytes:
    """The actual MAC key: K_MAC truncated to the MAC algorithm's key length (Sec. 5.2.2).

    Under reading I-5 TWICE_TOKEN, K_MAC is used whole (the truncation rule belongs to
    the Sec. 5.2.2 length rule that reading does not apply).
    """
    if interp.k_prov_length is KProvLength.TWICE_TOKEN:
        return k_mac
    return k_mac[: prf.mac_key_length]


# ----------------------------------------------------------------------------- MACs
def message_hash(messages: Sequence[bytes]) -> bytes:
    """msg_hash = SHA-256(msg_1 || ... || msg_n) (Sec. 3.4.3 c., d.).

    The caller chooses the sequence (no retransmissions, requests and responses
    alternating, the message being built excluded) and the bytes of each message
    (reading I-7, see codec.hash_input).
    """
    return hashlib.sha256(b"".join(messages)).digest()


def key_confirmation_mac_four_pass(
    prf: Prf,
    k_mac: bytes,
    *,
    msg_hash: bytes,
    r_c: bytes | None = None,
    interp: Interpretation = DEFAULT_INTERPRETATION,
) -> bytes:
    """MAC = DSKPP-PRF(K_MAC, "MAC 1 computation" || msg_hash, len(msg_hash)) (Sec. 4.2.4).

    Reading NONCE_CTKIP (I-6): "MAC 1 computation" || R_C, dsLen = len(R_C) (Sec. 10.6.2).
    """
    key = mac_key(k_mac, prf, interp=interp)
    if interp.key_confirmation_input is KeyConfirmationInput.NONCE_CTKIP:
        if r_c is None:
            raise InputError("reading nonce-ctkip needs R_C", where="key_confirmation_mac_four_pass")
        return dskpp_prf(prf, key, LABEL_MAC_1 + r_c, len(r_c), interp=interp)
    return dskpp_prf(prf, key, LABEL_MAC_1 + msg_hash, len(msg_hash), interp=interp)


def _server_id_octets(server_id: str | None, interp: Interpretation) -> bytes:
    if server_id is None:
        if interp.missing_server_id is MissingServerId.REJECT:
            raise SchemaViolation(
                "two-pass <KeyPackage> has no <ServerID> for the MAC computation",
                status="Abort", spec="RFC 6063 §5.2.2", where="KeyPackage/ServerID",
            )
        return b""
    return server_id.encode("utf-8")


def key_confirmation_mac_two_pass(
    prf: Prf,
    k_mac: bytes,
    *,
    msg_hash: bytes,
    server_id: str | None,
    r: bytes | None = None,
    interp: Interpretation = DEFAULT_INTERPRETATION,
) -> bytes:
    """MAC = DSKPP-PRF(K_MAC, "MAC 1 computation" || msg_hash || ServerID, len(msg_hash)).

    Sec. 5.2.2.  Reading NONCE_CTKIP (I-6, App. C.2): "MAC 1 computation" || ServerID || R,
    dsLen = len(R).
    """
    key = mac_key(k_mac, prf, interp=interp)
    sid = _server_id_octets(server_id, interp)
    if interp.key_confirmation_input is KeyConfirmationInput.NONCE_CTKIP:
        if r is None:
            raise InputError("reading nonce-ctkip needs R", where="key_confirmation_mac_two_pass")
        return dskpp_prf(prf, key, LABEL_MAC_1 + sid + r, len(r), interp=interp)
    return dskpp_prf(prf, key, LABEL_MAC_1 + msg_hash + sid, len(msg_hash), interp=interp)


def server_auth_mac_two_pass(
    prf: Prf,
    k_mac_previous: bytes,
    *,
    server_id: str | None,
    r: bytes,
    ds_len: int | None = None,
    interp: Interpretation = DEFAULT_INTERPRETATION,
) -> bytes:
    """MAC = DSKPP-PRF(K_MAC', "MAC 2 computation" || ServerID || R, dsLen >= 16) (Sec. 5.2.2).

    K_MAC' is the MAC key from before this run (or the K_TOKEN being replaced).
    ``ds_len`` defaults to interp.server_auth_mac_length (I-12).
    """
    ds_len = interp.server_auth_mac_length if ds_len is None else ds_len
    if ds_len < MIN_SERVER_AUTH_MAC_LENGTH:
        raise CryptoFailure("server authentication MAC shorter than 16 octets", status="Abort", spec="RFC 6063 §5.2.2")
    s = LABEL_MAC_2 + _server_id_octets(server_id, interp) + r
    return dskpp_prf(prf, k_mac_previous, s, ds_len, interp=interp)


def renewal_mac_four_pass(
    prf: Prf,
    k_mac_previous: bytes,
    *,
    r_s: bytes,
    r: bytes | None = None,
    interp: Interpretation = DEFAULT_INTERPRETATION,
) -> bytes:
    """The <KeyProvServerHello> <Mac> for key renewal (Sec. 4.2.3): k = K_MAC', dsLen = len(R_S).

    The RFC gives no s; reading I-9 chooses it.  ``r`` is the <ClientNonce> of the
    <KeyProvClientHello>, if the client sent one (used by the *_R_RS readings).
    """
    reading = interp.renewal_mac_input
    if reading is RenewalMacInput.MAC2_RS:
        s = LABEL_MAC_2 + r_s
    elif reading is RenewalMacInput.MAC2_R_RS:
        s = LABEL_MAC_2 + (r or b"") + r_s
    else:
        s = LABEL_MAC_1 + (r or b"") + r_s
    return dskpp_prf(prf, k_mac_previous, s, len(r_s), interp=interp)


def verify_mac(expected: bytes, received: bytes, *, status: str, spec: str, where: str) -> None:
    """Constant-time comparison; a mismatch is a CryptoFailure carrying ``status``."""
    if not _hmac.compare_digest(expected, received):
        raise CryptoFailure("MAC does not verify", status=status, spec=spec, where=where)


def verify_server_auth_mac_two_pass(
    prf: Prf,
    k_mac_previous: bytes,
    received: bytes,
    *,
    server_id: str | None,
    r: bytes,
    interp: Interpretation = DEFAULT_INTERPRETATION,
) -> None:
    """Accept any received length >= 16 ("at least 16", Sec. 5.2.2): the PRF is prefix-stable."""
    if len(received) < MIN_SERVER_AUTH_MAC_LENGTH:
        raise CryptoFailure(
            "server authentication MAC shorter than 16 octets",
            status="Abort", spec="RFC 6063 §5.2.2", where="AuthenticationData/Mac",
        )
    expected = server_auth_mac_two_pass(prf, k_mac_previous, server_id=server_id, r=r, ds_len=len(received), interp=interp)
    verify_mac(expected, received, status="Abort", spec="RFC 6063 §5.2.3", where="AuthenticationData/Mac")


__all__ = [
    # DSKPP-PRF (prf.py)
    "Prf", "prf_from_uri", "dskpp_prf", "MIN_KEY_LENGTH",
    # K, K_PROV
    "public_key_octets", "shared_key_octets", "ProvisioningKeys", "k_prov_length", "derive_k_prov",
    "split_k_prov", "token_key", "mac_key",
    # msg_hash and MACs
    "message_hash", "key_confirmation_mac_four_pass", "key_confirmation_mac_two_pass",
    "server_auth_mac_two_pass", "verify_server_auth_mac_two_pass", "renewal_mac_four_pass", "verify_mac",
    "LABEL_KEY_GENERATION", "LABEL_ENCRYPTION", "LABEL_MAC_1", "LABEL_MAC_2", "MIN_SERVER_AUTH_MAC_LENGTH",
    # R_C encryption (nonce_encryption.py)
    "RandomSource", "encrypt_nonce", "decrypt_nonce",
    # user authentication (authcode.py)
    "AcTlv", "AuthenticationCode", "SaltKeyKind", "crc16", "saslprep", "hex_field_from_user_input",
    "format_authentication_code", "parse_authentication_code", "check_iteration_count", "derive_k_ac",
    "authentication_code_mac", "verify_authentication_code_mac",
    # readings (interpretation.py)
    "Interpretation", "DEFAULT_INTERPRETATION",
    *_interpretation.__all__,
]
