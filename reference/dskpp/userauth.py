"""User Authentication Data (AD) in protocol runs: computing it (client, trigger) and
checking it (server).  RFC 6063 §3.2.1, 3.4.1.2, 4.2.1, 4.2.4, 5.2.2.

    MAC  = DSKPP-PRF(K_AC, AC->ClientID || URL_S || R_C || [R_S], 16)
    K_AC = PBKDF2(AC->password, R_C || K, iter_count, 16)

K is K_SERVER or K_SHARED (four-pass), the client's/device's public key, K_SHARED or
"a passphrase-derived key" (two-pass); ``k_octets`` gives its octets under readings
I-3, I-4, I-28.  The PRF is the <Mac MacAlgorithm> when present, else I-16.

Server-side statuses (Sec. 3.3; docs/dskpp-interpretations.md D-11): AD absent where
required -> AuthenticationDataMissing; no ClientID, an unknown Client ID, a MAC that does
not verify, a bad iteration count or an AC already used -> AuthenticationDataInvalid; a
Client ID the policy refuses -> AccessDenied; an AC past its lifetime (App. A.4
"Provisioning Time-Out Policy") -> ProvisioningPeriodExpired.

The trigger's AD (Sec. 4.2.1) is computed by the server's "web application" before any
R_C exists; our formula (D-14) takes a fresh 16-octet nonce R_T, sent as the
AuthenticationCodeMac <Nonce>, in place of R_C and leaves K empty:
    MAC = DSKPP-PRF-AES(PBKDF2(password, R_T, iter, 16), ClientID || URL_S || R_T, 16).
Only the server that issued it checks it (I-18), so only self-consistency matters.
"""

from __future__ import annotations

import hmac as _hmac
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from harness.errors import ProtocolError
from reference.dskpp import crypto
from reference.dskpp.authcode import MIN_ITERATIONS_PUBLIC_KEY, SaltKeyKind
from reference.dskpp.interpretation import (
    AcMacPrfDefault,
    Interpretation,
    MissingIterationCount,
    PassphraseSaltKey,
    TriggerAdCheck,
)
from reference.dskpp.messages import AuthenticationCodeMac, AuthenticationData, Mac, MacAlgorithmUri
from reference.dskpp.prf import prf_from_uri
from reference.dskpp.store import AuthenticationCodeRecord

_SPEC = "RFC 6063 §3.4.1.2"
TRIGGER_NONCE_LENGTH = 16


def _invalid(message: str, where: str = "AuthenticationData") -> ProtocolError:
    return ProtocolError(message, status="AuthenticationDataInvalid", spec=_SPEC, where=where)


# ----------------------------------------------------------------------------- K octets
def passphrase_octets(passphrase: str, interp: Interpretation) -> bytes:
    """I-28: K = UTF-8 of the SASLprep'd passphrase, or nothing."""
    if interp.passphrase_salt_key is PassphraseSaltKey.OMITTED:
        return b""
    return crypto.saslprep(passphrase, allow_unassigned=interp.saslprep_allow_unassigned).encode("utf-8")


def public_key_octets(public_key: RSAPublicKey | None, certificate_der: bytes | None, interp: Interpretation) -> bytes:
    return crypto.public_key_octets(public_key, certificate_der=certificate_der, interp=interp)


def rule_iteration_count(kind: SaltKeyKind, *, two_pass: bool) -> int:
    """Sec. 3.4.1.2: 1 in the two-pass K_SHARED / passphrase cases, else (at least) 100,000."""
    if two_pass and kind in (SaltKeyKind.SHARED_KEY, SaltKeyKind.PASSPHRASE_KEY):
        return 1
    return MIN_ITERATIONS_PUBLIC_KEY


# ----------------------------------------------------------------------------- compute
def compute(
    prf_uri: str,
    *,
    client_id: str,
    password: str,
    server_url: str,
    r_c: bytes,
    r_s: bytes | None,
    k_octets: bytes,
    iteration_count: int,
    interp: Interpretation,
    nonce: bytes | None = None,
) -> AuthenticationData:
    """AD for a message; ``nonce`` is what goes in <Nonce> (never the four-pass R_C)."""
    prf = prf_from_uri(prf_uri)
    k_ac = crypto.derive_k_ac(password, r_c=r_c, k_octets=k_octets, iteration_count=iteration_count, interp=interp)
    mac = crypto.authentication_code_mac(prf, k_ac, client_id=client_id, server_url=server_url, r_c=r_c, r_s=r_s,
                                         interp=interp)
    code_mac = AuthenticationCodeMac(mac=Mac(mac, prf_uri), nonce=nonce, iteration_count=iteration_count)
    return AuthenticationData(client_id=client_id, code_mac=code_mac)


def trigger_ad(record: AuthenticationCodeRecord, *, server_url: str, r_t: bytes, iteration_count: int,
               interp: Interpretation) -> AuthenticationData:
    """The AD a <KeyProvTrigger> carries (D-14)."""
    return compute(
        MacAlgorithmUri.PRF_AES_128.value, client_id=record.client_id, password=record.password,
        server_url=server_url, r_c=r_t, r_s=None, k_octets=b"", iteration_count=iteration_count, interp=interp,
        nonce=r_t,
    )


# ----------------------------------------------------------------------------- verify
@dataclass(frozen=True)
class AdContext:
    """What the server knows when it checks an AD."""

    kind: SaltKeyKind
    two_pass: bool
    r_c: bytes
    r_s: bytes | None
    k_octets: bytes
    negotiated_mac: str
    server_urls: tuple[str, ...]
    max_iterations: int


def _prf_uri(mac: Mac, negotiated: str, interp: Interpretation) -> str:
    if mac.algorithm is not None:
        return mac.algorithm
    if interp.ac_mac_default_prf is AcMacPrfDefault.NEGOTIATED:
        return negotiated
    return MacAlgorithmUri.PRF_AES_128.value  # I-16


def check_record(record: AuthenticationCodeRecord | None, now: datetime) -> AuthenticationCodeRecord:
    """The AC exists, is within its provisioning period and unused (after the MAC verified)."""
    if record is None:
        raise _invalid("no Authentication Code was issued for this Client ID", "AuthenticationData/ClientID")
    if record.expires_at is not None and now >= record.expires_at:
        raise ProtocolError("the Authentication Code has expired", status="ProvisioningPeriodExpired",
                            spec="RFC 6063 §3.3; App. A.4", where="AuthenticationData/ClientID")
    if record.used_at is not None:
        raise _invalid("the Authentication Code was already used (single use)", "AuthenticationData/ClientID")
    return record


def code_mac_of(ad: AuthenticationData) -> tuple[str, AuthenticationCodeMac]:
    """(ClientID, AuthenticationCodeMac) or AuthenticationDataInvalid."""
    if ad.client_id is None:
        raise _invalid("AuthenticationData without ClientID", "AuthenticationData/ClientID")
    if ad.code_mac is None:
        raise _invalid("AuthenticationData in a form other than AuthenticationCodeMac is not supported",
                       "AuthenticationData")
    return ad.client_id, ad.code_mac


def verify(ad: AuthenticationData, record: AuthenticationCodeRecord, ctx: AdContext, interp: Interpretation) -> None:
    """Sec. 3.4.1.2 recomputed from the stored AC; any mismatch -> AuthenticationDataInvalid."""
    _client_id, code_mac = code_mac_of(ad)
    count = code_mac.iteration_count
    if count is None:
        if interp.missing_iteration_count is MissingIterationCount.REJECT:
            raise _invalid("AuthenticationCodeMac without IterationCount (reading I-17 reject)",
                           "AuthenticationCodeMac/IterationCount")
        count = rule_iteration_count(ctx.kind, two_pass=ctx.two_pass)
    crypto.check_iteration_count(count, ctx.kind, two_pass=ctx.two_pass)
    if count > ctx.max_iterations:  # the client chooses the server's PBKDF2 work: bounded
        raise _invalid(f"iteration count {count} exceeds this server's limit", "AuthenticationCodeMac/IterationCount")
    try:
        prf = prf_from_uri(_prf_uri(code_mac.mac, ctx.negotiated_mac, interp))
    except ProtocolError:
        raise _invalid("AuthenticationCodeMac names an unknown MAC algorithm", "AuthenticationCodeMac/Mac") from None
    k_ac = crypto.derive_k_ac(record.password, r_c=ctx.r_c, k_octets=ctx.k_octets, iteration_count=count,
                              interp=interp)
    for url in ctx.server_urls:  # URL_S: the URL the client used (D-5), any of ours
        expected = crypto.authentication_code_mac(prf, k_ac, client_id=record.client_id, server_url=url,
                                                  r_c=ctx.r_c, r_s=ctx.r_s, interp=interp)
        if _hmac.compare_digest(expected, code_mac.mac.value):
            return
    raise _invalid("AuthenticationCodeMac does not verify", "AuthenticationCodeMac/Mac")


def verify_trigger_ad(ad: AuthenticationData, issued: AuthenticationData, record: AuthenticationCodeRecord, *,
                      server_url: str, interp: Interpretation) -> None:
    """I-18: the hello repeats the trigger's AD (equality), or it is recomputed."""
    _, received = code_mac_of(ad)
    _, sent = code_mac_of(issued)
    if ad.client_id != issued.client_id:
        raise _invalid("AD does not belong to the issued trigger", "AuthenticationData/ClientID")
    if interp.trigger_ad_check is TriggerAdCheck.STORED_EQUALITY:
        same = (received.nonce == sent.nonce and received.iteration_count == sent.iteration_count
                and received.mac.algorithm == sent.mac.algorithm)
        if same and _hmac.compare_digest(received.mac.value, sent.mac.value):
            return
        raise _invalid("AD differs from the AD of the trigger", "AuthenticationCodeMac")
    count = received.iteration_count if received.iteration_count is not None else MIN_ITERATIONS_PUBLIC_KEY
    if count > max(MIN_ITERATIONS_PUBLIC_KEY, sent.iteration_count or 0):
        raise _invalid("iteration count exceeds the trigger's", "AuthenticationCodeMac/IterationCount")
    recomputed = compute(
        received.mac.algorithm or MacAlgorithmUri.PRF_AES_128.value, client_id=record.client_id,
        password=record.password, server_url=server_url, r_c=received.nonce or b"", r_s=None, k_octets=b"",
        iteration_count=count, interp=interp,
    )
    assert recomputed.code_mac is not None
    if not _hmac.compare_digest(recomputed.code_mac.mac.value, received.mac.value):
        raise _invalid("trigger AD does not verify (reading I-18 recompute)", "AuthenticationCodeMac/Mac")


__all__ = [
    "AdContext", "compute", "trigger_ad", "verify", "verify_trigger_ad", "check_record", "code_mac_of",
    "passphrase_octets", "public_key_octets", "rule_iteration_count", "TRIGGER_NONCE_LENGTH",
]
