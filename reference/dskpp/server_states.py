"""The server's state machine as an explicit transition table (RFC 6063 §4.2, 5.2, 7.2).

A run's state lives in the store: no session means a <KeyProvClientHello> may start a run;
an open session (four-pass, after <KeyProvServerHello> with Continue) awaits its
<KeyProvClientNonce>; a session past its timeout is expired; a run that finished (Success
or a failure status, Sec. 3.3 "MUST immediately terminate") has no session any more, so
its SessionID is unknown from then on and is never reused (random 128-bit identifiers).

    state                    message                  handler                 next state
    AWAIT_CLIENT_HELLO       KeyProvClientHello       client_hello            AWAIT_CLIENT_NONCE (four-pass
                                                                              Continue) | FINISHED
    AWAIT_CLIENT_HELLO       KeyProvClientNonce       unknown_session         FINISHED (Abort)
    AWAIT_CLIENT_NONCE       KeyProvClientNonce       client_nonce            FINISHED
    SESSION_EXPIRED          KeyProvClientNonce       expired_session         FINISHED (Abort)
    any                      KeyProvServerHello,      not_a_client_message    unchanged (HTTP 400,
                             KeyProvServerFinished,                           Sec. 7.2.4)
                             KeyProvTrigger

A <KeyProvClientHello> cannot name a session (the schema gives it no SessionID), so it
always starts a new run; message reordering within a run (Sec. 10.2.6) therefore shows as
a <KeyProvClientNonce> for a session that is not awaiting one.  Statuses:
docs/dskpp-interpretations.md D-9 and D-11.
"""

from __future__ import annotations

from enum import Enum

from reference.dskpp.messages import (
    KeyProvClientHello,
    KeyProvClientNonce,
    KeyProvServerFinished,
    KeyProvServerHello,
    KeyProvTrigger,
)


class ServerState(Enum):
    AWAIT_CLIENT_HELLO = "await-client-hello"  # no run: a hello starts one
    AWAIT_CLIENT_NONCE = "await-client-nonce"  # four-pass session open
    SESSION_EXPIRED = "session-expired"  # open session past session_timeout_s
    FINISHED = "finished"  # terminal (the session is gone)


TRANSITIONS: dict[tuple[ServerState, type], str] = {
    (ServerState.AWAIT_CLIENT_HELLO, KeyProvClientHello): "client_hello",
    (ServerState.AWAIT_CLIENT_HELLO, KeyProvClientNonce): "unknown_session",
    (ServerState.AWAIT_CLIENT_NONCE, KeyProvClientNonce): "client_nonce",
    (ServerState.SESSION_EXPIRED, KeyProvClientNonce): "expired_session",
}
for _state in ServerState:
    for _type in (KeyProvServerHello, KeyProvServerFinished, KeyProvTrigger):
        TRANSITIONS[(_state, _type)] = "not_a_client_message"

CLIENT_REQUEST_ROOTS = ("KeyProvClientHello", "KeyProvClientNonce")


def handler_for(state: ServerState, message_type: type) -> str:
    """The handler name for (state, message type); anything unlisted is refused."""
    return TRANSITIONS.get((state, message_type), "not_allowed")


__all__ = ["ServerState", "TRANSITIONS", "handler_for", "CLIENT_REQUEST_ROOTS"]
