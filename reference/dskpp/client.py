"""Reference DSKPP client engine (RFC 6063), sans-IO: it builds request bodies and reads
response bodies; ``run`` drives one protocol run through a ``post`` callable.

The client plays both the DSKPP Client and the cryptographic module (Sec. 3.1): nonces,
R_C encryption, K_PROV, the MAC checks and the key store.  It commits a key to the
``TokenStore`` only after the key confirmation MAC (and, when a key is replaced, the
server authentication MAC) verified (Sec. 4.2.5, 5.2.3, 10.2.3).  Any failure raises a
ProtocolError child (with ``where`` and ``spec``) and stores nothing; a failure status from
the server returns ``ClientResult(status, None)``.  Client-side findings carry status
"Abort" unless a more specific Sec. 3.3 name fits (D-3: a client sends no status, so the
status names the finding).

Clock and randomness are injected: two clients with the same configuration, token store,
clock and random source send the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from harness.errors import InputError, SchemaViolation, UnsupportedFeature
from harness.redaction import fingerprint
from reference.dskpp import client_flows, codec
from reference.dskpp.authcode import AuthenticationCode, parse_authentication_code
from reference.dskpp.client_states import AWAITING, ClientState, handler_for
from reference.dskpp.interpretation import DEFAULT_INTERPRETATION, Interpretation
from reference.dskpp.messages import (
    DeviceInfo,
    KeyPackageFormatUri,
    KeyProtectionMethodUri,
    KeyProvServerFinished,
    KeyProvServerHello,
    KeyProvTrigger,
    MacAlgorithmUri,
    Status,
    parse_version,
)
from reference.dskpp.policy import DEFAULT_ENCRYPTION_ALGORITHMS, FOUR_PASS, HOTP_URI, TWO_PASS, default_key_length
from reference.dskpp.server_common import ProvisionedKeyInfo
from reference.dskpp.store import TokenKey, TokenStore

PROTECTIONS = {
    "key-transport": KeyProtectionMethodUri.TRANSPORT.value,
    "key-wrap": KeyProtectionMethodUri.WRAP.value,
    "passphrase": KeyProtectionMethodUri.PASSPHRASE_WRAP.value,
}


@dataclass(frozen=True)
class ClientConfig:
    variant: str = FOUR_PASS
    authentication_code: str | None = field(default=None, repr=False)  # AC as typed by the user
    protection: str | None = None  # two-pass: "key-transport" | "key-wrap" | "passphrase"
    shared_key: bytes | None = field(default=None, repr=False)  # K_SHARED
    shared_key_name: str | None = None
    passphrase: str | None = field(default=None, repr=False)
    rsa_private_key: RSAPrivateKey | None = field(default=None, repr=False)  # client/device key (key transport)
    key_types: tuple[str, ...] = (HOTP_URI,)
    encryption_algorithms: tuple[str, ...] = DEFAULT_ENCRYPTION_ALGORITHMS
    mac_algorithms: tuple[str, ...] = (MacAlgorithmUri.PRF_AES_128.value, MacAlgorithmUri.PRF_SHA256.value)
    renew_key_id: str | None = None
    device_info: DeviceInfo | None = None
    interpretation: Interpretation = DEFAULT_INTERPRETATION
    # ---- additions
    server_url: str | None = None  # URL_S (Sec. 3.4.1.2): the URL the binding posts to; else the trigger's
    certificate_der: bytes | None = None  # client/device certificate sent in the key transport payload
    server_public_key: RSAPublicKey | None = None  # pin for K_SERVER (Sec. 4.2.3 "SHOULD verify")
    key_lengths: Mapping[str, int] = field(default_factory=dict)  # key type -> token key octets (D-16)
    ac_iteration_count: int = 100_000  # public-key cases; the K_SHARED/passphrase two-pass cases use 1
    client_nonce_length: int = 32  # R_C / R octets
    key_package_formats: tuple[str, ...] = (KeyPackageFormatUri.PSKC.value,)
    client_info: bytes | None = None  # ClientInfoType extension data (Sec. 6.1)
    version: str = "1.0"
    authentication_code_checksum: bool = True  # verify the AC's Checksum TLV when present

    def __post_init__(self) -> None:
        def bad(message: str) -> InputError:
            return InputError(message, where="ClientConfig")

        if self.variant not in (FOUR_PASS, TWO_PASS):
            raise bad(f"variant must be {FOUR_PASS!r} or {TWO_PASS!r}")
        if self.variant == TWO_PASS and self.protection not in PROTECTIONS:
            raise bad(f"two-pass needs protection in {sorted(PROTECTIONS)}")
        if not self.key_types or not self.mac_algorithms or not self.encryption_algorithms:
            raise bad("key_types, encryption_algorithms and mac_algorithms must not be empty")
        for key_type in self.key_types:
            if self.token_key_length(key_type) is None:
                raise bad(f"no token key length known for key type {key_type!r}; give key_lengths")
        if not 16 <= self.client_nonce_length <= 256:
            raise bad("client_nonce_length must be 16..256")
        if self.ac_iteration_count < 1:
            raise bad("ac_iteration_count must be positive")

    def token_key_length(self, key_type: str) -> int | None:
        return self.key_lengths.get(key_type) or default_key_length(key_type)

    @property
    def protection_method(self) -> str | None:
        return PROTECTIONS.get(self.protection) if self.protection else None


@dataclass(frozen=True)
class NextRequest:
    body: bytes


@dataclass(frozen=True)
class ClientResult:
    status: Status  # the server's final status
    key: ProvisionedKeyInfo | None  # set only on Success, after commit_key


@dataclass(frozen=True)
class TriggerData:
    """What a <KeyProvTrigger> handed to the client (Sec. 4.2.1)."""

    document: bytes
    message: KeyProvTrigger


class DskppClient:
    """One protocol run."""

    def __init__(self, config: ClientConfig, token_store: TokenStore, *,
                 clock: Callable[[], datetime], random: Callable[[int], bytes]) -> None:
        self.config = config
        self.token_store = token_store
        self.clock = clock
        self.random = random
        self.interp = config.interpretation
        self.state = ClientState.INITIAL
        self.trigger: TriggerData | None = None
        self.ac: AuthenticationCode | None = None
        self.sent: list[bytes] = []  # requests as sent, responses as received (msg_hash, Sec. 3.4.3)
        self.run_state: dict[str, object] = {}  # this run's values, secrets included; cleared on failure

    @property
    def server_url(self) -> str | None:
        """URL_S: the configured URL, else the trigger's <ServerUrl> (D-5)."""
        if self.config.server_url is not None:
            return self.config.server_url
        if self.trigger is not None and self.trigger.message.trigger is not None:
            return self.trigger.message.trigger.server_url
        return None

    # ------------------------------------------------------------------ pass 1
    def first_request(self, trigger: bytes | None = None) -> bytes:
        """The <KeyProvClientHello> (Sec. 4.2.2 / 5.2.2), after a trigger if one is given."""
        if self.state is not ClientState.INITIAL:
            raise InputError("first_request is only valid once, at the start of a run", where="DskppClient")
        try:
            if trigger is not None:
                self.trigger = self._read_trigger(trigger)
            if self.config.authentication_code is not None:
                self.ac = parse_authentication_code(
                    self.config.authentication_code, verify_checksum=self.config.authentication_code_checksum,
                    interp=self.interp,
                )
            if self.config.variant == FOUR_PASS:
                body = client_flows.four_pass_hello(self)
                self.state = ClientState.AWAIT_SERVER_HELLO
            else:
                body = client_flows.two_pass_hello(self)
                self.state = ClientState.AWAIT_SERVER_FINISHED
        except Exception:
            self._fail()
            raise
        self.sent.append(body)
        return body

    def _read_trigger(self, document: bytes) -> TriggerData:
        message = codec.decode(document)
        if not isinstance(message, KeyProvTrigger) or message.trigger is None:
            raise SchemaViolation("not a <KeyProvTrigger> with an <InitializationTrigger>", status="UnknownRequest",
                                  spec="RFC 6063 §4.2.1", where="KeyProvTrigger")
        if message.version is not None and parse_version(message.version)[0] != 1:
            raise UnsupportedFeature("trigger of an unsupported DSKPP major version", status="UnsupportedVersion",
                                     spec="RFC 6063 §1.2", where="KeyProvTrigger/@Version")
        return TriggerData(document, message)

    # ------------------------------------------------------------------ passes 2 and 4
    def receive(self, body: bytes) -> NextRequest | ClientResult:
        """Read a response; the next request, or the run's result."""
        if self.state not in AWAITING:
            raise InputError(f"no response is expected in state {self.state.value}", where="DskppClient")
        try:
            return self._receive(body)
        except Exception:
            self._fail()
            raise

    def _receive(self, body: bytes) -> NextRequest | ClientResult:
        message = codec.decode(body)
        name = handler_for(self.state, type(message))
        if name is None:
            raise SchemaViolation(f"<{type(message).__name__}> is not a response this client awaits",
                                  status="UnknownRequest", spec="RFC 6063 §10.2.6", where=type(message).__name__)
        assert isinstance(message, (KeyProvServerHello, KeyProvServerFinished))
        final = self._final_status(message)
        if final is not None:
            self.state = ClientState.DONE
            self.run_state.clear()  # Sec. 3.3: terminate, delete the run's secrets
            return ClientResult(final, None)
        if name == "server_hello":
            assert isinstance(message, KeyProvServerHello)
            self.sent.append(body)
            request = client_flows.four_pass_client_nonce(self, message)
            self.sent.append(request)
            self.state = ClientState.AWAIT_SERVER_FINISHED
            return NextRequest(request)
        assert isinstance(message, KeyProvServerFinished)
        if self.config.variant == FOUR_PASS:
            key = client_flows.four_pass_finished(self, message)
        else:
            key = client_flows.two_pass_finished(self, message)
        self.token_store.commit_key(key)  # only now: every MAC verified
        self.state = ClientState.DONE
        self.run_state.clear()
        return ClientResult(Status.SUCCESS, ProvisionedKeyInfo(key.key_id, key.algorithm, fingerprint(key.secret)))

    def _final_status(self, message: KeyProvServerHello | KeyProvServerFinished) -> Status | None:
        """A failure status ends the run; Continue/Success in the wrong PDU is an error (Sec. 3.3)."""
        if message.status in (Status.CONTINUE, Status.SUCCESS):
            if message.status is Status.CONTINUE:
                valid = isinstance(message, KeyProvServerHello) and self.state is ClientState.AWAIT_SERVER_HELLO
            else:
                valid = isinstance(message, KeyProvServerFinished) and self.state is ClientState.AWAIT_SERVER_FINISHED
            if not valid:
                raise SchemaViolation(
                    f"status {message.status.value} is not valid in <{type(message).__name__}> here",
                    status="Abort", spec="RFC 6063 §3.3", where=f"{type(message).__name__}/@Status",
                )
            return None
        return message.status

    def _fail(self) -> None:
        self.state = ClientState.FAILED
        self.run_state.clear()  # Sec. 4.2.3/4.2.5: "delete any nonces, keys, and/or secrets"
        self.ac = None

    # ------------------------------------------------------------------ helpers for the flows
    def previous_key(self) -> TokenKey | None:
        """The token key being replaced (renewal), from the configuration or the trigger."""
        key_id = self.config.renew_key_id
        trigger = self.trigger.message.trigger if self.trigger is not None else None
        if trigger is not None and trigger.key_id is not None:
            try:
                triggered = trigger.key_id.decode("utf-8")
            except UnicodeDecodeError:
                raise InputError("the trigger's KeyID is not a key identifier", where="KeyProvTrigger/KeyID") from None
            if key_id is not None and key_id != triggered:
                raise InputError("renew_key_id differs from the trigger's KeyID", where="ClientConfig.renew_key_id")
            key_id = triggered
        if key_id is None:
            return None
        key = self.token_store.get_key(key_id)
        if key is None:
            raise InputError("the key to renew is not in the token store", where="renew_key_id")
        return key


def run(client: DskppClient, post: Callable[[bytes], bytes], trigger: bytes | None = None) -> ClientResult:
    """Drive one run: post(request_body) -> response_body (the binding does HTTP)."""
    outcome: NextRequest | ClientResult = NextRequest(client.first_request(trigger))
    while isinstance(outcome, NextRequest):
        outcome = client.receive(post(outcome.body))
    return outcome


__all__ = ["ClientConfig", "NextRequest", "ClientResult", "DskppClient", "run", "PROTECTIONS", "ProvisionedKeyInfo"]
