"""A scriptable, misbehaving reference DSKPP server: the peer of client-under-test cases.

``PeerServer`` wraps the reference ``DskppServer`` (same sans-IO ``handle(body) ->
ServerOutcome``, so ``http_server.create_app`` serves it) and can alter what it answers,
after the engine did its honest work (the key is committed server side as usual):

=========================  =================================================================
misbehaviour               what the client receives instead of the honest response
=========================  =================================================================
none                       the honest response
wrong-key-confirmation-mac the Success <KeyProvServerFinished> with one bit of <Mac> flipped
                           (Sec. 4.2.5 / 5.2.3: the client MUST verify it)
wrong-server-auth-mac      when a key is renewed, the peer acts as an impostor that lacks K_MAC':
                           the engine computes the server authentication MAC - four-pass
                           <KeyProvServerHello><Mac> (Sec. 4.2.3), two-pass
                           <KeyProvServerFinished><AuthenticationData> (Sec. 5.2.3, 10.6.3) -
                           with a random K_MAC', so the transcript stays consistent and only
                           that MAC is wrong (a bit flipped in transit would also break
                           msg_hash and be caught by key confirmation instead)
mismatched-nonce           the Success <KeyProvServerFinished> of this peer's previous run of the
                           same variant (SessionID set to the current one): valid, but bound to
                           other nonces and another msg_hash (Sec. 10.2.5)
mismatched-session         the <KeyProvServerFinished> with another SessionID (Sec. 7.2.3)
malformed-key-package      the Success <KeyProvServerFinished> with the <pskc:Key> removed from
                           its PSKC container: still schema-valid, but it carries no key
unexpected-status          ``status_target`` "finished": the Success <KeyProvServerFinished>,
                           body and valid MAC kept, with Status ``status`` (default Continue,
                           Sec. 3.3 "cannot be sent in the server's final message"); "hello": the
                           Continue <KeyProvServerHello> with Status ``status`` (default Success)
=========================  =================================================================

What to choose (variant, algorithms, key types) is the ``ServerPolicy`` given to
``configure``: restricting its lists makes the peer pick exactly that.  Every request and
every response as sent is kept (``exchanges``) for schema checks; ``tampered`` counts the
responses altered since the last ``configure``, so a case can tell "refused the bad
message" from "never got that far".
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from lxml import etree

from harness.redaction import fingerprint
from reference.dskpp.messages import DSKPP_NS, PSKC_NS, Status
from reference.dskpp.policy import ServerPolicy
from reference.dskpp.server import DskppServer, ServerOutcome
from reference.dskpp.store import MemoryServerStore, ServerStore

MISBEHAVIOURS = ("none", "wrong-key-confirmation-mac", "wrong-server-auth-mac", "mismatched-nonce",
                 "mismatched-session", "malformed-key-package", "unexpected-status")
FOUR_PASS, TWO_PASS = "four-pass", "two-pass"


def _d(local: str) -> str:
    return f"{{{DSKPP_NS}}}{local}"


@dataclass(frozen=True)
class Script:
    """How the peer misbehaves until the next ``configure``."""

    misbehaviour: str = "none"
    status: str | None = None  # unexpected-status: the Status to send
    status_target: str = "finished"  # unexpected-status: "finished" or "hello"

    def __post_init__(self) -> None:
        if self.misbehaviour not in MISBEHAVIOURS:
            raise ValueError(f"misbehaviour must be one of {MISBEHAVIOURS}")
        if self.status_target not in ("finished", "hello"):
            raise ValueError("status_target must be 'finished' or 'hello'")
        if self.status is not None:
            Status(self.status)  # a Sec. 3.3 code (schema type StatusCode)


@dataclass(frozen=True)
class Exchange:
    request: bytes
    response: bytes  # as sent to the client (after any tampering)
    http_status: int
    status: str | None
    tampered: bool


# ----------------------------------------------------------------------------- XML surgery
def _parse(body: bytes) -> etree._Element:
    # Our own engine's output: no hostile-input limits needed.
    return etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))


def _serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _flip_first_bit(el: etree._Element) -> None:
    value = bytearray(base64.b64decode("".join((el.text or "").split())))
    value[0] ^= 0x01
    el.text = base64.b64encode(bytes(value)).decode("ascii")


def flip_mac(body: bytes, path: str) -> bytes | None:
    """``body`` with one bit of the base64 element at ``path`` (dskpp: prefix) flipped."""
    root = _parse(body)
    el = root.find(path, {"dskpp": DSKPP_NS})
    if el is None or not (el.text or "").strip():
        return None
    _flip_first_bit(el)
    return _serialize(root)


def set_attribute(body: bytes, name: str, value: str) -> bytes:
    root = _parse(body)
    root.set(name, value)
    return _serialize(root)


def strip_keys(body: bytes) -> bytes | None:
    """The response with every <pskc:Key> removed from its key package."""
    root = _parse(body)
    keys = root.findall(f"{_d('KeyPackage')}/{_d('KeyContainer')}/{{{PSKC_NS}}}KeyPackage/{{{PSKC_NS}}}Key")
    if not keys:
        return None
    for key in keys:
        key.getparent().remove(key)
    return _serialize(root)


def _root_name(body: bytes) -> str | None:
    try:
        return etree.QName(_parse(body)).localname
    except etree.XMLSyntaxError:
        return None


# ----------------------------------------------------------------------------- the peer
class PeerServer:
    """The reference server engine with scripted misbehaviour; ``handle`` never raises."""

    def __init__(self, policy: ServerPolicy, store: ServerStore | None = None, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 random: Callable[[int], bytes] = secrets.token_bytes) -> None:
        self.base_policy = policy
        self.store = store if store is not None else MemoryServerStore()
        self.clock, self.random = clock, random
        self._lock = threading.RLock()
        self.exchanges: list[Exchange] = []
        self._last_success: dict[str, bytes] = {}
        self.url: str | None = None
        self._thread: Any = None
        self.configure()

    # ------------------------------------------------------------------ set-up
    def configure(self, script: Script | str = "none", **policy_changes: Any) -> "PeerServer":
        """A fresh engine with the base policy changed by ``policy_changes``; keys, ACs and
        sessions stay in the store.  Resets ``tampered``."""
        if isinstance(script, str):
            script = Script(script)
        with self._lock:
            self.policy = replace(self.base_policy, **policy_changes)
            self.engine = DskppServer(self.policy, self.store, clock=self.clock, random=self.random)
            self.script = script
            self.tampered = 0
        return self

    def serve(self, host: str = "127.0.0.1") -> str:
        """Serve over HTTP on a free loopback port (http_server); the URL becomes URL_S."""
        from reference.dskpp.http_server import ServerThread, create_app

        thread = ServerThread(host=host, port=0)
        self.url = thread.url
        with self._lock:
            self.base_policy = replace(self.base_policy, server_urls=(thread.url,))
            self.policy = replace(self.policy, server_urls=(thread.url,))
            self.engine = DskppServer(self.policy, self.store, clock=self.clock, random=self.random)
        thread.app = create_app(self)
        self._thread = thread.start()
        return thread.url

    def close(self) -> None:
        if self._thread is not None:
            self._thread.stop()
            self._thread = None

    def __enter__(self) -> "PeerServer":
        if self._thread is None:
            self.serve()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ------------------------------------------------------------------ out of band
    def issue_ac(self, client_id: str | None = None) -> tuple[str, str]:
        """(AC, Client ID) of a fresh Authentication Code (Sec. 3.2.1)."""
        from reference.dskpp.authcode import parse_authentication_code

        with self._lock:
            code = self.engine.issue_authentication_code(client_id)
        return code, parse_authentication_code(code).client_id

    def trigger(self, client_id: str | None = None, key_id: str | None = None) -> bytes:
        """A <KeyProvTrigger> (Sec. 4.2.1) for a fresh AC; its ServerUrl is this peer."""
        _, client_id = self.issue_ac(client_id)
        with self._lock:
            return self.engine.trigger(client_id=client_id, server_url=self.url,
                                       key_id=key_id.encode("utf-8") if key_id is not None else None)

    def key(self, key_id: str) -> dict[str, Any] | None:
        """What the peer stored: id, algorithm, fingerprint and HOTP at counters 0-2."""
        from reference.otp.hotp import hotp

        record = self.store.get_key(key_id)
        if record is None:
            return None
        return {"key_id": record.key_id, "algorithm": record.algorithm, "fingerprint": fingerprint(record.secret),
                "hotp": [hotp(record.secret, c) for c in range(3)], "client_id": record.client_id}

    # ------------------------------------------------------------------ protocol
    def handle(self, body: bytes) -> ServerOutcome:
        with self._lock:
            request = bytes(body) if isinstance(body, (bytes, bytearray)) else b""
            undo = self._impostor(request) if self.script.misbehaviour == "wrong-server-auth-mac" else None
            try:
                outcome = self.engine.handle(body)
            finally:
                if undo is not None:
                    undo()
            answer = outcome.body
            changed = None
            if undo is not None and outcome.status in (Status.CONTINUE, Status.SUCCESS):
                self.tampered += 1
            if outcome.http_status == 200 and answer:
                try:
                    changed = self._tamper(request, answer, outcome)
                except Exception:  # noqa: BLE001 - a tampering defect must not take the peer down
                    changed = None
            if outcome.status is Status.SUCCESS:
                self._last_success[self._variant(request)] = answer
            if changed is not None:
                self.tampered += 1
                outcome = replace(outcome, body=changed, reason=f"{outcome.reason} [peer: {self.script.misbehaviour}]")
            self.exchanges.append(Exchange(request, outcome.body, outcome.http_status,
                                           outcome.status.value if outcome.status else None, changed is not None))
            return outcome

    def _impostor(self, request: bytes) -> Callable[[], None] | None:
        """For a hello renewing a stored key: store a random K_MAC' for it until the
        engine answered; returns how to put the genuine record back."""
        from reference.dskpp import codec
        from reference.dskpp.messages import KeyProvClientHello
        from reference.dskpp.store import ProvisioningCommit

        try:
            hello = codec.decode(request)
        except Exception:  # noqa: BLE001 - not a readable hello: nothing to impersonate
            return None
        if not isinstance(hello, KeyProvClientHello) or hello.key_id is None:
            return None
        try:
            genuine = self.store.get_key(hello.key_id.decode("utf-8"))
        except UnicodeDecodeError:
            return None
        if genuine is None or genuine.k_mac is None:
            return None
        impostor = replace(genuine, k_mac=self.random(len(genuine.k_mac)))
        self.store.commit_provisioning(ProvisioningCommit(impostor, self.clock()))

        def undo() -> None:
            if self.store.get_key(genuine.key_id) == impostor:  # not replaced by a renewal meanwhile
                self.store.commit_provisioning(ProvisioningCommit(genuine, self.clock()))
        return undo

    @staticmethod
    def _variant(request: bytes) -> str:
        return FOUR_PASS if _root_name(request) == "KeyProvClientNonce" else TWO_PASS

    def _tamper(self, request: bytes, answer: bytes, outcome: ServerOutcome) -> bytes | None:
        kind = self.script.misbehaviour
        response = _root_name(answer)
        finished = response == "KeyProvServerFinished" and outcome.status is Status.SUCCESS
        hello = response == "KeyProvServerHello" and outcome.status is Status.CONTINUE
        if kind == "wrong-key-confirmation-mac" and finished:
            return flip_mac(answer, "dskpp:Mac")
        if kind == "mismatched-nonce" and finished:
            previous = self._last_success.get(self._variant(request))
            if previous is None or previous == answer:
                return None
            session = _parse(answer).get("SessionID")
            return set_attribute(previous, "SessionID", session) if session is not None else previous
        if kind == "mismatched-session" and finished:
            return set_attribute(answer, "SessionID", self.random(16).hex())
        if kind == "malformed-key-package" and finished:
            return strip_keys(answer)
        if kind == "unexpected-status":
            if self.script.status_target == "finished" and finished:
                return set_attribute(answer, "Status", self.script.status or Status.CONTINUE.value)
            if self.script.status_target == "hello" and hello:
                return set_attribute(answer, "Status", self.script.status or Status.SUCCESS.value)
        return None

    def requests(self, root: str | None = None) -> list[bytes]:
        """Requests received (optionally only those whose root element is ``root``)."""
        with self._lock:
            return [e.request for e in self.exchanges if root is None or _root_name(e.request) == root]


__all__ = ["PeerServer", "Script", "Exchange", "MISBEHAVIOURS", "flip_mac", "set_attribute", "strip_keys"]
