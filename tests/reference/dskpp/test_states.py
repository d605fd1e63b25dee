"""The transition tables (server_states.py, client_states.py) say what their docstrings say,
and the engines follow them (RFC 6063 §4.2, 5.2, 7.2.4, 10.2.6)."""

from __future__ import annotations

import inspect

from reference.dskpp import server as server_module
from reference.dskpp.client_states import TRANSITIONS as CLIENT_TRANSITIONS
from reference.dskpp.client_states import ClientState
from reference.dskpp.client_states import handler_for as client_handler
from reference.dskpp.messages import (
    KeyProvClientHello,
    KeyProvClientNonce,
    KeyProvServerFinished,
    KeyProvServerHello,
    KeyProvTrigger,
)
from reference.dskpp.server_states import ServerState, handler_for


def test_server_table():
    assert handler_for(ServerState.AWAIT_CLIENT_HELLO, KeyProvClientHello) == "client_hello"
    assert handler_for(ServerState.AWAIT_CLIENT_HELLO, KeyProvClientNonce) == "unknown_session"
    assert handler_for(ServerState.AWAIT_CLIENT_NONCE, KeyProvClientNonce) == "client_nonce"
    assert handler_for(ServerState.SESSION_EXPIRED, KeyProvClientNonce) == "expired_session"
    for state in ServerState:
        for pdu in (KeyProvServerHello, KeyProvServerFinished, KeyProvTrigger):
            assert handler_for(state, pdu) == "not_a_client_message"
    assert handler_for(ServerState.FINISHED, KeyProvClientNonce) == "not_allowed"
    assert handler_for(ServerState.AWAIT_CLIENT_NONCE, KeyProvClientHello) == "not_allowed"


def test_every_server_handler_name_is_dispatched():
    source = inspect.getsource(server_module.DskppServer._dispatch)
    from reference.dskpp.server_states import TRANSITIONS

    for name in set(TRANSITIONS.values()) - {"not_a_client_message"}:
        assert f'"{name}"' in source, name


def test_client_table():
    assert CLIENT_TRANSITIONS == {
        (ClientState.AWAIT_SERVER_HELLO, KeyProvServerHello): "server_hello",
        (ClientState.AWAIT_SERVER_HELLO, KeyProvServerFinished): "early_finished",
        (ClientState.AWAIT_SERVER_FINISHED, KeyProvServerFinished): "server_finished",
        (ClientState.AWAIT_SERVER_FINISHED, KeyProvServerHello): "late_hello",
    }
    for state in (ClientState.INITIAL, ClientState.DONE, ClientState.FAILED):
        assert client_handler(state, KeyProvServerHello) is None
    assert client_handler(ClientState.AWAIT_SERVER_HELLO, KeyProvClientHello) is None
    assert client_handler(ClientState.AWAIT_SERVER_FINISHED, KeyProvTrigger) is None
