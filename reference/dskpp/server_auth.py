"""Server-side user authentication within a run (RFC 6063 §3.2.1, 3.4.1.2, 4.2.1-4.2.4, 5.2.2).

Two ways an AD reaches the server: copied from a <KeyProvTrigger> the server issued
(checked under reading I-18), or computed by the client from the AC it holds (checked by
recomputing Sec. 3.4.1.2 with the stored password).  Statuses: userauth's docstring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.errors import ProtocolError
from reference.dskpp import userauth
from reference.dskpp.messages import AuthenticationData
from reference.dskpp.server_common import TriggerInfo, refuse, trigger_info
from reference.dskpp.store import AuthenticationCodeRecord

if TYPE_CHECKING:
    from reference.dskpp.server import DskppServer


def lookup(server: "DskppServer", client_id: str) -> AuthenticationCodeRecord | None:
    """The AC record of a Client ID; a Client ID the policy refuses -> AccessDenied."""
    if client_id in server.policy.refused_client_ids:
        raise refuse("AccessDenied", "this Client ID is not authorized to contact this server",
                     "RFC 6063 §3.3", "AuthenticationData/ClientID")
    return server.store.get_authentication_code(client_id)


def issued_trigger(server: "DskppServer", ad: AuthenticationData) -> tuple[AuthenticationCodeRecord, TriggerInfo] | None:
    """The AC record and its last trigger, when one was issued for the AD's Client ID."""
    client_id, _ = userauth.code_mac_of(ad)
    record = lookup(server, client_id)
    if record is None or record.trigger_document is None:
        return None
    info = trigger_info(record.trigger_document)
    assert info is not None
    return record, info


def authenticate_trigger(server: "DskppServer", ad: AuthenticationData,
                         issued: tuple[AuthenticationCodeRecord, TriggerInfo] | None) -> AuthenticationCodeRecord:
    """The AD is the one of the trigger issued for its Client ID (I-18), and the AC is usable."""
    if issued is None:
        raise refuse("AuthenticationDataInvalid", "no trigger was issued for this Client ID",
                     "RFC 6063 §4.2.1", "AuthenticationData/ClientID")
    record, info = issued
    try:
        userauth.verify_trigger_ad(ad, info.ad, record, server_url=info.server_url or server.policy.server_urls[0],
                                   interp=server.interp)
    except ProtocolError as exc:
        if exc.status != "AuthenticationDataInvalid":  # e.g. an unknown PRF URI while recomputing
            raise refuse("AuthenticationDataInvalid", "trigger AD does not verify", "RFC 6063 §4.2.1",
                         "AuthenticationCodeMac") from None
        raise
    return userauth.check_record(record, server.clock())


def authenticate_fresh(server: "DskppServer", ad: AuthenticationData, ctx: userauth.AdContext) -> AuthenticationCodeRecord:
    """An AD the client computed from its AC (Sec. 3.4.1.2)."""
    client_id, _ = userauth.code_mac_of(ad)
    record = lookup(server, client_id)
    if record is None:
        raise refuse("AuthenticationDataInvalid", "no Authentication Code was issued for this Client ID",
                     "RFC 6063 §3.4.1.2", "AuthenticationData/ClientID")
    userauth.verify(ad, record, ctx, server.interp)
    return userauth.check_record(record, server.clock())


def ad_context(server: "DskppServer", **values) -> userauth.AdContext:  # type: ignore[no-untyped-def]
    return userauth.AdContext(server_urls=server.policy.server_urls,
                              max_iterations=max(server.policy.ac_iteration_count, 1_000_000), **values)


__all__ = ["lookup", "issued_trigger", "authenticate_trigger", "authenticate_fresh", "ad_context"]
