"""What both ends compute from the messages of a run: msg_hash and the two-pass nonce R.

msg_hash (RFC 6063 §3.4.3): SHA-256 over "all DSKPP Request and Response messages up to
but not including this message", retransmissions removed - four-pass: <KeyProvClientHello>,
<KeyProvServerHello>, <KeyProvClientNonce>; two-pass: <KeyProvClientHello>.  The bytes of
each message follow reading I-7, the trigger is included under I-8.

R (Sec. 5.2.2 "The DSKPP Client's random nonce (R_C), which was used by the client when
generating AD"): reading I-26 says where a server finds it.  After a trigger (D-15) the
AuthenticationCodeMac <Nonce> belongs to the trigger's AD, not to this run, so R is the
<ClientNonce> (except under I-26 ``auth-mac-nonce-only``, where the <Nonce> is R by
definition).
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.errors import SchemaViolation
from reference.dskpp import codec, crypto
from reference.dskpp.interpretation import Interpretation, TwoPassNonceSource
from reference.dskpp.messages import KeyProvClientHello


def message_hash(messages: Sequence[bytes], interp: Interpretation, *, trigger: bytes | None = None) -> bytes:
    """msg_hash of the run's messages in order (the trigger first under I-8)."""
    sequence = list(messages)
    if trigger is not None and interp.message_hash_includes_trigger:
        sequence.insert(0, trigger)
    return crypto.message_hash([codec.hash_input(m, interp.message_hash_input) for m in sequence])


def two_pass_nonce(hello: KeyProvClientHello, interp: Interpretation, *, triggered: bool) -> bytes:
    """R of a two-pass <KeyProvClientHello> (I-26, D-15); MalformedRequest when absent."""
    client_nonce = hello.client_nonce
    ad = hello.authentication_data
    mac_nonce = ad.code_mac.nonce if ad is not None and ad.code_mac is not None else None
    reading = interp.two_pass_nonce_source
    if reading is TwoPassNonceSource.AUTH_MAC_NONCE_ONLY:
        r = mac_nonce
    elif reading is TwoPassNonceSource.CLIENT_NONCE_ONLY or triggered:
        r = client_nonce
    else:
        if client_nonce is not None and mac_nonce is not None and client_nonce != mac_nonce:
            raise SchemaViolation(
                "<ClientNonce> and the AuthenticationCodeMac <Nonce> differ (reading I-26)",
                status="MalformedRequest", spec="RFC 6063 §5.2.2", where="KeyProvClientHello/ClientNonce",
            )
        r = client_nonce if client_nonce is not None else mac_nonce
    if r is None:
        raise SchemaViolation(
            "two-pass <KeyProvClientHello> carries no client nonce R (reading I-26)",
            status="MalformedRequest", spec="RFC 6063 §5.2.2", where="KeyProvClientHello/ClientNonce",
        )
    return r


__all__ = ["message_hash", "two_pass_nonce"]
