"""The client's state machine as an explicit transition table (RFC 6063 §4.2, 5.2, 10.2.6).

    INITIAL --first_request--> AWAIT_SERVER_HELLO (four-pass) | AWAIT_SERVER_FINISHED (two-pass)

    state                    response                 handler            next state
    AWAIT_SERVER_HELLO       KeyProvServerHello       server_hello       AWAIT_SERVER_FINISHED | DONE
    AWAIT_SERVER_HELLO       KeyProvServerFinished    early_finished     DONE (failure status only)
    AWAIT_SERVER_FINISHED    KeyProvServerFinished    server_finished    DONE
    AWAIT_SERVER_FINISHED    KeyProvServerHello       late_hello         DONE (failure status only)

Any other response (a request PDU, a trigger) is refused with a ProtocolError: "each
message is of a unique type" (Sec. 10.2.6).  A failure status may arrive in either
response PDU (D-9: servers answer a failed hello with <KeyProvServerHello> in four-pass and
with <KeyProvServerFinished> in two-pass); Continue is valid only in <KeyProvServerHello>
and Success only in <KeyProvServerFinished> (Sec. 3.3).  Any error moves to FAILED, where
the run's secrets are dropped (Sec. 3.3 "MUST delete any secret values").
"""

from __future__ import annotations

from enum import Enum

from reference.dskpp.messages import KeyProvServerFinished, KeyProvServerHello


class ClientState(Enum):
    INITIAL = "initial"
    AWAIT_SERVER_HELLO = "await-server-hello"
    AWAIT_SERVER_FINISHED = "await-server-finished"
    DONE = "done"
    FAILED = "failed"


TRANSITIONS: dict[tuple[ClientState, type], str] = {
    (ClientState.AWAIT_SERVER_HELLO, KeyProvServerHello): "server_hello",
    (ClientState.AWAIT_SERVER_HELLO, KeyProvServerFinished): "early_finished",
    (ClientState.AWAIT_SERVER_FINISHED, KeyProvServerFinished): "server_finished",
    (ClientState.AWAIT_SERVER_FINISHED, KeyProvServerHello): "late_hello",
}

AWAITING = (ClientState.AWAIT_SERVER_HELLO, ClientState.AWAIT_SERVER_FINISHED)


def handler_for(state: ClientState, message_type: type) -> str | None:
    return TRANSITIONS.get((state, message_type))


__all__ = ["ClientState", "TRANSITIONS", "AWAITING", "handler_for"]
