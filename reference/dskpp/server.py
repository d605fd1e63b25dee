"""Reference DSKPP server engine (RFC 6063), sans-IO: bytes in, ServerOutcome out.

``DskppServer.handle(body)`` never raises.  It classifies the body (Sec. 7.2.4, D-10):

* not a DSKPP client message at all - empty, not XML that names a DSKPP client request,
  a root outside the DSKPP namespace, or a DSKPP *server* message (<KeyProvServerHello>,
  <KeyProvServerFinished>, <KeyProvTrigger>) - gets HTTP 400 and no body ("If a request is
  received that is not a DSKPP Client message, the DSKPP responder MUST return a 400");
* a DSKPP client request that cannot be read gets a well-formed response with the
  codec's status: MalformedRequest (not parseable, hostile, schema-invalid),
  UnknownRequest (a DSKPP-namespace root that is no PDU), UnknownCriticalExtension;
* a readable request is dispatched through the transition table of server_states.py to
  the four-pass (server_fourpass.py) or two-pass (server_twopass.py) handlers; every
  refusal is a ProtocolError whose status goes into the response;
* an unexpected internal error (a defect) gets HTTP 500 ("when the DSKPP processor reports
  an internal error", Sec. 7.2.4) and no body.

Which PDU carries a failure (D-9): <KeyProvServerFinished> for a <KeyProvClientNonce> and
for a hello that offers two-pass only or was negotiated to two-pass, otherwise
<KeyProvServerHello> (Sec. 4.2.3 "it will still send the message, but with a failure
status").  Every <KeyProvServerHello> carries a SessionID (Sec. 7.2.3 "MUST have").

Clock and randomness are injected: two servers with the same policy, store contents,
clock and random source answer the same bytes with the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from lxml import etree

from harness.errors import InputError, MalformedInput, ProtocolError, UnsafeInput
from reference.dskpp import codec, server_fourpass, server_twopass, userauth
from reference.dskpp.authcode import format_authentication_code, hex_field_from_user_input
from reference.dskpp.messages import (
    DSKPP_NS,
    MEDIA_TYPE,
    VERSION_1_0,
    DeviceIdentifierData,
    DeviceInfo,
    InitializationTrigger,
    KeyProvClientHello,
    KeyProvClientNonce,
    KeyProvServerFinished,
    KeyProvServerHello,
    KeyProvTrigger,
    Status,
)
from reference.dskpp.negotiation import offered_variants, negotiate
from reference.dskpp.policy import FOUR_PASS, ServerPolicy
from reference.dskpp.safexml import parse_xml
from reference.dskpp.server_common import (
    ProvisionedKeyInfo,
    Reply,
    RunContext,
    device_shared_key,
    new_session_id,
)
from reference.dskpp.server_states import CLIENT_REQUEST_ROOTS, ServerState, handler_for
from reference.dskpp.store import AuthenticationCodeRecord, ServerStore, SessionRecord
from reference.dskpp.userauth import TRIGGER_NONCE_LENGTH

_CLIENT_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(KeyProvClientHello|KeyProvClientNonce)[\s/>]")


@dataclass(frozen=True)
class ServerOutcome:
    http_status: int  # 200; 400 when the body is not a DSKPP client message; 500 on an internal error
    body: bytes  # the DSKPP response document (b"" with 400/500)
    status: Status | None  # the Status we answered
    session_id: str | None
    reason: str  # one log line: what happened and why; no secrets
    provisioned: ProvisionedKeyInfo | None = None
    content_type: str = MEDIA_TYPE


class DskppServer:
    def __init__(self, policy: ServerPolicy, store: ServerStore, *,
                 clock: Callable[[], datetime], random: Callable[[int], bytes]) -> None:
        self.policy = policy
        self.store = store
        self.clock = clock
        self.random = random
        self.interp = policy.interpretation
        self.session_timeout = timedelta(seconds=policy.session_timeout_s)

    # ------------------------------------------------------------------ handle
    def handle(self, body: bytes) -> ServerOutcome:
        """One HTTP POST body -> the response.  Never raises."""
        try:
            return self._handle(body)
        except Exception as exc:  # noqa: BLE001 - a defect must not take the server down
            return ServerOutcome(500, b"", None, None, f"internal error: {type(exc).__name__}")

    def _handle(self, body: bytes) -> ServerOutcome:
        if not isinstance(body, (bytes, bytearray)):
            return self._bad_request("body is not octets")
        body = bytes(body)
        try:
            root = parse_xml(body)
        except (MalformedInput, UnsafeInput) as exc:
            match = _CLIENT_ROOT.search(body[:4096])
            if match is None or DSKPP_NS.encode() not in body[:8192]:
                return self._bad_request(f"not a DSKPP client message ({exc.message})")
            pdu = KeyProvServerFinished if match.group(1) == b"KeyProvClientNonce" else KeyProvServerHello
            return self._failure(exc, RunContext(response_type=pdu), "unreadable request")
        qname = etree.QName(root)
        if qname.namespace != DSKPP_NS:
            return self._bad_request("root element is not in the DSKPP namespace")
        if qname.localname in codec.ROOT_TYPES and qname.localname not in CLIENT_REQUEST_ROOTS:
            return self._bad_request(f"<{qname.localname}> is a DSKPP message but not a client request")
        pdu = KeyProvServerFinished if qname.localname == "KeyProvClientNonce" else KeyProvServerHello
        ctx = RunContext(response_type=pdu)
        if pdu is KeyProvServerFinished:
            ctx.session_id = self._session_attribute(root)
        try:
            message = codec.decode_element(root)
        except ProtocolError as exc:
            return self._failure(exc, ctx, f"<{qname.localname}> refused")
        return self._dispatch(message, body, ctx)

    def _dispatch(self, message: object, raw: bytes, ctx: RunContext) -> ServerOutcome:
        state, session = self._state_for(message)
        name = handler_for(state, type(message))
        try:
            if name == "client_hello":
                assert isinstance(message, KeyProvClientHello)
                reply = self._client_hello(ctx, message, raw)
            elif name == "client_nonce":
                assert isinstance(message, KeyProvClientNonce) and session is not None
                reply = server_fourpass.server_finished(self, ctx, message, raw, session)
            elif name == "expired_session":
                assert session is not None
                self.store.delete_session(session.session_id)
                raise ProtocolError("the session has expired", status="Abort", spec="RFC 6063 §3.3, §7.2.3",
                                    where="KeyProvClientNonce/@SessionID")
            elif name == "unknown_session":
                raise ProtocolError("no open session has this SessionID (unknown, finished or failed run)",
                                    status="Abort", spec="RFC 6063 §3.3, §7.2.3", where="KeyProvClientNonce/@SessionID")
            else:  # not_a_client_message / not_allowed (unreachable after classification)
                return self._bad_request(f"{type(message).__name__} is not allowed in state {state.value}")
        except ProtocolError as exc:
            return self._failure(exc, ctx, f"{type(message).__name__} refused")
        body = reply.encoded if reply.encoded is not None else codec.encode(reply.message)  # type: ignore[arg-type]
        return ServerOutcome(200, body, reply.status, reply.session_id, reply.reason, reply.provisioned)

    def _state_for(self, message: object) -> tuple[ServerState, SessionRecord | None]:
        """The run's state for a request (server_states.py): from its session, if any."""
        if not isinstance(message, KeyProvClientNonce):
            return ServerState.AWAIT_CLIENT_HELLO, None
        session = self.store.get_session(message.session_id)
        if session is None:
            return ServerState.AWAIT_CLIENT_HELLO, None
        if self.clock() >= session.expires_at:
            return ServerState.SESSION_EXPIRED, session
        return ServerState.AWAIT_CLIENT_NONCE, session

    def _client_hello(self, ctx: RunContext, hello: KeyProvClientHello, raw: bytes) -> Reply:
        self.store.purge_expired_sessions(self.clock())  # opportunistic cleanup (Sec. 3.3)
        four_offered, kpml = offered_variants(hello)
        if kpml is not None and not (four_offered and self.policy.four_pass):
            ctx.response_type = KeyProvServerFinished
        agreement = negotiate(
            hello, self.policy,
            resolve_two_pass=lambda offer: server_twopass.resolve_offer(self, offer),
            four_pass_shared_key=lambda: device_shared_key(self, hello.device_identifier_data)
            or self.policy.four_pass_shared_key,
        )
        ctx.variant = agreement.variant
        if agreement.variant == FOUR_PASS:
            return server_fourpass.server_hello(self, ctx, hello, raw, agreement)
        return server_twopass.server_finished(self, ctx, hello, raw, agreement)

    # ------------------------------------------------------------------ responses
    @staticmethod
    def _session_attribute(root: etree._Element) -> str | None:
        value = root.get("SessionID")
        return value if value is not None and len(value) <= 128 else None

    @staticmethod
    def _bad_request(reason: str) -> ServerOutcome:
        return ServerOutcome(400, b"", None, None, f"HTTP 400: {reason} (RFC 6063 §7.2.4)")

    def _failure(self, exc: ProtocolError, ctx: RunContext, what: str) -> ServerOutcome:
        try:
            status = Status(exc.status)
        except ValueError:  # a status outside Sec. 3.3 (e.g. a pskc finding): the generic refusal
            status = Status.ABORT
        if ctx.response_type is KeyProvServerHello:
            session_id = ctx.session_id or new_session_id(self)  # Sec. 7.2.3: every ServerHello has one
            message: object = KeyProvServerHello(version=VERSION_1_0, status=status, session_id=session_id)
        else:
            session_id = ctx.session_id
            message = KeyProvServerFinished(version=VERSION_1_0, status=status, session_id=session_id)
        body = codec.encode(message)  # type: ignore[arg-type]
        where = f" at {exc.where}" if exc.where else ""
        spec = f" [{exc.spec}]" if exc.spec else ""
        reason = f"{what}: {status.value}: {exc.message}{where}{spec}"
        return ServerOutcome(200, body, status, session_id, reason)

    # ------------------------------------------------------------------ out of band
    def issue_authentication_code(self, client_id: str | None = None) -> str:
        """Create and store an AC; return the AC string (Sec. 3.2.1, 3.4.1.1 TLVs + checksum).

        ``client_id``: hexadecimal characters as they go in the TLV; other text is
        SASLprep'd and hex-encoded (Sec. 3.4.1.1).  None: random hex of the policy's length.
        """
        policy = self.policy
        if client_id is None:
            client_id = self.random((policy.ac_client_id_length + 1) // 2).hex().upper()[: policy.ac_client_id_length]
        elif not (client_id and all(c in "0123456789abcdefABCDEF" for c in client_id)):
            client_id = hex_field_from_user_input(client_id, text=True, interp=self.interp)
        password = self.random((policy.ac_password_length + 1) // 2).hex().upper()[: policy.ac_password_length]
        now = self.clock()
        expires = now + timedelta(seconds=policy.ac_lifetime_s) if policy.ac_lifetime_s is not None else None
        ac = format_authentication_code(client_id, password, with_checksum=True, interp=self.interp)
        self.store.put_authentication_code(AuthenticationCodeRecord(client_id, password, now, expires))
        return ac

    def trigger(self, *, client_id: str, server_url: str | None = None, key_id: bytes | None = None,
                device: DeviceInfo | None = None) -> bytes:
        """A <KeyProvTrigger> (Sec. 4.2.1) carrying AD for the AC of ``client_id`` (D-14).

        ``key_id``: the key to renew (UTF-8 of its Id); ``device``: the DeviceID to bind.
        The trigger is kept with the AC record: the hello must repeat its AD, DeviceID and
        KeyID.
        """
        record = self.store.get_authentication_code(client_id)
        if record is None:
            raise InputError("no Authentication Code was issued for this Client ID", where="trigger client_id")
        if record.used_at is not None:
            raise InputError("the Authentication Code was already used", where="trigger client_id")
        if key_id is not None:
            try:
                known = self.store.get_key(key_id.decode("utf-8")) is not None
            except UnicodeDecodeError:
                known = False
            if not known:
                raise InputError("key_id names no key provisioned by this server", where="trigger key_id")
        url = server_url or self.policy.server_urls[0]
        ad = userauth.trigger_ad(record, server_url=url, r_t=self.random(TRIGGER_NONCE_LENGTH),
                                 iteration_count=self.policy.ac_iteration_count, interp=self.interp)
        message = KeyProvTrigger(
            trigger=InitializationTrigger(
                authentication_data=ad, key_id=key_id, server_url=url,
                device_identifier_data=DeviceIdentifierData(device_id=device) if device is not None else None,
            ),
            version=VERSION_1_0,
        )
        document = codec.encode(message)
        self.store.put_authentication_code(
            AuthenticationCodeRecord(record.client_id, record.password, record.issued_at, record.expires_at,
                                     record.used_at, trigger_document=document)
        )
        return document


__all__ = ["DskppServer", "ServerOutcome", "ProvisionedKeyInfo"]
