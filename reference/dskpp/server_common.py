"""Pieces both server variants use: failures, device and renewal checks, trigger data,
key octets, extension echo, identifiers and the atomic commit (RFC 6063 §3.3, 4.2, 5.2, 6).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

from harness.errors import InputError, ProtocolError
from harness.redaction import fingerprint
from reference.dskpp import codec, crypto
from reference.dskpp.interpretation import PreviousMacKey, RenewalMacPrf
from reference.dskpp.messages import (
    AuthenticationData,
    ClientInfo,
    DeviceIdentifierData,
    DeviceInfo,
    Extension,
    KeyProvClientHello,
    KeyProvServerHello,
    KeyProvTrigger,
    ServerInfo,
    Status,
)
from reference.dskpp.negotiation import Agreement, ProtectionKey
from reference.dskpp.prf import Prf, prf_from_uri
from reference.dskpp.store import KeyRecord, ProvisioningCommit

if TYPE_CHECKING:
    from reference.dskpp.server import DskppServer


def refuse(status: str, message: str, spec: str, where: str | None = None) -> ProtocolError:
    return ProtocolError(message, status=status, spec=spec, where=where)


@dataclass
class RunContext:
    """What an error response needs to know about the run so far (updated as it goes)."""

    response_type: type = KeyProvServerHello
    session_id: str | None = None
    variant: str | None = None


@dataclass(frozen=True)
class ProvisionedKeyInfo:
    """Non-secret description of a key (re-exported by reference.dskpp.server)."""

    key_id: str
    algorithm: str
    fingerprint: str  # harness.redaction.fingerprint(secret)


@dataclass(frozen=True)
class Reply:
    message: object  # the response PDU
    status: Status
    session_id: str | None
    reason: str
    provisioned: ProvisionedKeyInfo | None = None
    encoded: bytes | None = None  # the response as encoded (when the handler needed its octets)


# ----------------------------------------------------------------------------- devices
def device_label(info: DeviceInfo) -> str:
    """The key of ServerPolicy.device_keys: "Manufacturer:SerialNo"."""
    return f"{info.manufacturer or ''}:{info.serial_no or ''}"


def device_description(info: DeviceInfo | None) -> str | None:
    """Non-secret JSON description of an accepted <DeviceId> (KeyRecord.device)."""
    if info is None:
        return None
    values = {k: v for k, v in info.__dict__.items() if k != "extensions" and v is not None}
    return json.dumps(values, sort_keys=True, separators=(",", ":"))


def device_shared_key(server: "DskppServer", data: DeviceIdentifierData | None) -> str | None:
    """ds:KeyName of the unique key the server holds for the identified device, if any."""
    if data is None or data.device_id is None:
        return None
    return server.policy.device_keys.get(device_label(data.device_id))


def accept_device(server: "DskppServer", hello: KeyProvClientHello, key: ProtectionKey,
                  trigger: "TriggerInfo | None") -> DeviceInfo | None:
    """Sec. 4.2.2 / 5.2.2 / 10.2.2: a DeviceID is accepted only if the server sent it in the
    trigger, or holds a unique key for the device and that key is used in this run."""
    sent = hello.device_identifier_data
    if trigger is not None and trigger.device is not None and sent != trigger.device:
        raise refuse("AccessDenied", "DeviceID differs from the one of the trigger", "RFC 6063 §4.2.2",
                     "KeyProvClientHello/DeviceIdentifierData")
    if sent is None:
        return None
    if trigger is not None and trigger.device == sent:
        return sent.device_id
    device_key = device_shared_key(server, sent)
    if device_key is not None and key.kind == "shared" and key.name == device_key:
        return sent.device_id
    raise refuse(
        "AccessDenied", "DeviceID not accepted: not sent in a trigger, and no key of that device is used",
        "RFC 6063 §4.2.2, §10.2.2", "KeyProvClientHello/DeviceIdentifierData",
    )


def check_device_certificate(server: "DskppServer", key: ProtectionKey) -> None:
    """Device-certificate mode (Sec. 3.4.1.2 b., 5.2.2): with trusted issuers configured,
    key transport needs a certificate one of them issued, valid now."""
    issuers = server.policy.trusted_device_issuers
    if not issuers or key.kind != "client-rsa":
        return
    if key.certificate_der is None:
        raise refuse("AccessDenied", "key transport without a device certificate", "RFC 6063 §5.2.2",
                     "TwoPass/Payload/KeyInfo")
    now = server.clock()
    try:
        cert = x509.load_der_x509_certificate(key.certificate_der)
    except ValueError:
        cert = None
    if cert is not None and cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        for der in issuers:
            try:
                cert.verify_directly_issued_by(x509.load_der_x509_certificate(der))
                return
            except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
                continue
    raise refuse("AccessDenied", "device certificate is not issued by a trusted issuer or not valid now",
                 "RFC 6063 §5.2.2", "TwoPass/Payload/KeyInfo")


# ----------------------------------------------------------------------------- trigger
@dataclass(frozen=True)
class TriggerInfo:
    """What the last trigger for an AC carried (Sec. 4.2.1)."""

    document: bytes
    ad: AuthenticationData
    device: DeviceIdentifierData | None
    key_id: bytes | None
    server_url: str | None


def trigger_info(document: bytes | None) -> TriggerInfo | None:
    if document is None:
        return None
    message = codec.decode(document)  # our own document; re-checked anyway
    if not isinstance(message, KeyProvTrigger) or message.trigger is None:
        raise InputError("stored trigger is not a KeyProvTrigger", where="AuthenticationCodeRecord.trigger_document")
    t = message.trigger
    return TriggerInfo(document, t.authentication_data, t.device_identifier_data, t.key_id, t.server_url)


# ----------------------------------------------------------------------------- renewal
@dataclass(frozen=True)
class Renewal:
    key_id: str
    previous: KeyRecord


def renewal(server: "DskppServer", hello: KeyProvClientHello, trigger: TriggerInfo | None,
            client_id: str | None) -> Renewal | None:
    """The key a hello's <KeyID> asks to replace (Sec. 4.2.2, 5.2.2; App. A.5)."""
    if trigger is not None and trigger.key_id is not None and hello.key_id != trigger.key_id:
        raise refuse("AccessDenied", "KeyID differs from the one of the trigger", "RFC 6063 §4.2.2",
                     "KeyProvClientHello/KeyID")
    if hello.key_id is None:
        return None
    try:
        key_id = hello.key_id.decode("utf-8")  # D-14: KeyID octets = UTF-8 of the PSKC Key Id
    except UnicodeDecodeError:
        key_id = None
    previous = server.store.get_key(key_id) if key_id else None
    if previous is None:
        raise refuse("Abort", "KeyID names no key provisioned by this server", "RFC 6063 §4.2.2",
                     "KeyProvClientHello/KeyID")
    check_owner(server, previous, client_id)
    return Renewal(previous.key_id, previous)


def check_owner(server: "DskppServer", previous: KeyRecord, client_id: str | None) -> None:
    """D-18: a key is renewed by the Client ID it was provisioned for, unless the policy
    allows re-assignment (App. A.6, recycled devices)."""
    if not server.policy.renewal_requires_owner or client_id is None or previous.client_id is None:
        return
    if previous.client_id != client_id:
        raise refuse("AccessDenied", "the key to renew belongs to another client", "RFC 6063 §4.2.2; App. A.5",
                     "KeyProvClientHello/KeyID")


def previous_mac_key(server: "DskppServer", previous: KeyRecord) -> bytes:
    """K_MAC' (I-11): the stored K_MAC of the replaced key, or its K_TOKEN."""
    if server.interp.previous_mac_key is PreviousMacKey.REPLACED_K_TOKEN:
        return previous.secret
    if previous.k_mac is None:
        raise refuse("Abort", "no K_MAC' is stored for the key to renew", "RFC 6063 §4.2.3", "KeyID")
    return previous.k_mac


def renewal_prf(server: "DskppServer", previous: KeyRecord, negotiated: str) -> str:
    """I-10: the old key's MAC algorithm (sent as <Mac MacAlgorithm>), or the negotiated one."""
    if server.interp.renewal_mac_prf is RenewalMacPrf.MAC_ATTRIBUTE and previous.mac_algorithm:
        return previous.mac_algorithm
    return negotiated


# ----------------------------------------------------------------------------- keys
def k_octets(server: "DskppServer", key: ProtectionKey) -> bytes:
    """The octets of K (I-3, I-4) for "Key generation" || K || R_S and the K_AC salt."""
    interp = server.interp
    if key.kind == "server-rsa":
        private = server.policy.rsa_private_key
        if private is None:
            raise refuse("InitializationFailed", "K_SERVER is no longer configured", "RFC 6063 §4.2.4")
        return crypto.public_key_octets(private.public_key(), certificate_der=server.policy.rsa_certificate_der,
                                        interp=interp)
    if key.kind == "client-rsa":
        return crypto.public_key_octets(key.public_key, certificate_der=key.certificate_der, interp=interp)
    return crypto.shared_key_octets(shared_key(server, key.name), key_name=key.name, interp=interp)


def shared_key(server: "DskppServer", name: str | None) -> bytes:
    value = server.policy.shared_keys.get(name) if name is not None else None
    if value is None:
        raise refuse("InitializationFailed", "the pre-shared key is no longer configured", "RFC 6063 §4.2.4")
    return value


def token_key_length(server: "DskppServer", agreement: Agreement) -> int:
    key_type = server.policy.key_type(agreement.key_type)
    assert key_type is not None  # negotiation picked it from the policy
    return key_type.key_length


def mac_prf(agreement: Agreement) -> Prf:
    return prf_from_uri(agreement.mac_algorithm)


# ----------------------------------------------------------------------------- extensions
def echo_client_info(request_extensions: tuple[Extension, ...]) -> tuple[Extension, ...]:
    """Sec. 6.1: ClientInfoType data goes back unmodified in the next server response."""
    return tuple(ClientInfo(e.data) for e in request_extensions if isinstance(e, ClientInfo))


def server_info_echo(request_extensions: tuple[Extension, ...]) -> bytes | None:
    return next((e.data for e in request_extensions if isinstance(e, ServerInfo)), None)


# ----------------------------------------------------------------------------- ids, commit
def new_session_id(server: "DskppServer") -> str:
    return server.random(16).hex()


def new_key_id(server: "DskppServer") -> str:
    """A fresh PSKC Key Id, never one of a stored key (App. A.1 "assigns a unique key ID")."""
    for _ in range(8):
        key_id = server.random(8).hex().upper()
        if server.store.get_key(key_id) is None:
            return key_id
    raise refuse("InitializationFailed", "could not draw an unused key identifier", "RFC 6063 App. A.1")


def commit(server: "DskppServer", record: ProvisioningCommit) -> None:
    """Write the run atomically; store failures become InitializationFailed (D-11)."""
    try:
        server.store.commit_provisioning(record)
    except ProtocolError:  # NonceReplayed, AuthenticationCodeUsed: their own statuses
        raise
    except Exception as exc:  # noqa: BLE001 - any store failure: the client SHOULD retry (Sec. 3.3)
        raise refuse("InitializationFailed", f"the key could not be stored ({type(exc).__name__})",
                     "RFC 6063 §3.3") from None


def key_fingerprint(secret: bytes) -> str:
    return fingerprint(secret)


__all__ = [
    "RunContext", "Reply", "ProvisionedKeyInfo", "refuse", "device_label", "device_description", "accept_device",
    "check_device_certificate", "TriggerInfo", "trigger_info", "Renewal", "renewal", "check_owner", "previous_mac_key",
    "renewal_prf", "k_octets", "shared_key", "token_key_length", "mac_prf", "echo_client_info",
    "server_info_echo", "new_session_id", "new_key_id", "commit", "key_fingerprint",
]
