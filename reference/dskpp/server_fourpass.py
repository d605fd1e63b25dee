"""Four-pass server (RFC 6063 §4): <KeyProvServerHello> and <KeyProvServerFinished>.

Pass 2 (Sec. 4.2.3): after negotiation, the server sends its SAL, R_S, the key K that
will encrypt R_C (K_SERVER as a certificate or RSA key value, or K_SHARED by ds:KeyName)
and, when a key is renewed, the MAC under K_MAC' (readings I-9..I-11); the session is
stored.  A four-pass hello can carry AD only when a trigger preceded it (the AD formula
needs R_S, Sec. 3.4.1.2), so an AD there is the trigger's (D-13).

Pass 4 (Sec. 4.2.4, 4.2.5): the server decrypts R_C (before checking AD: the AD MAC
itself covers R_C, although Sec. 4.2.4 lists "authenticate the user" first; D-13),
authenticates the user, derives K_PROV = DSKPP-PRF(R_C, "Key generation" || K || R_S,
dsLen) = K_MAC || K_TOKEN (Sec. 4.1.2, dsLen per I-5), builds the key package without the
key, commits, and sends the key confirmation MAC over msg_hash (Sec. 3.4.3, 4.2.4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from harness.errors import ProtocolError
from harness.redaction import fingerprint
from reference.dskpp import codec, crypto, keypackage, server_auth, userauth
from reference.dskpp.authcode import SaltKeyKind
from reference.dskpp.interpretation import TriggeredClientNonceAd
from reference.dskpp.messages import (
    VERSION_1_0,
    KeyInfo,
    KeyPackage,
    KeyProvClientHello,
    KeyProvClientNonce,
    KeyProvServerFinished,
    KeyProvServerHello,
    Mac,
    Payload,
    ServerInfo,
    Status,
    parse_version,
)
from reference.dskpp.negotiation import Agreement, ProtectionKey
from reference.dskpp.prf import prf_from_uri
from reference.dskpp.server_common import (
    ProvisionedKeyInfo,
    Reply,
    RunContext,
    accept_device,
    check_owner,
    commit,
    device_description,
    echo_client_info,
    k_octets,
    mac_prf,
    new_key_id,
    new_session_id,
    previous_mac_key,
    refuse,
    renewal,
    renewal_prf,
    server_info_echo,
    shared_key,
    token_key_length,
)
from reference.dskpp.session_state import FourPassSession
from reference.dskpp.store import KeyRecord, ProvisioningCommit, SessionRecord, nonce_digest
from reference.dskpp.transcript import message_hash

if TYPE_CHECKING:
    from reference.dskpp.server import DskppServer


def _encryption_key_info(server: "DskppServer", agreement: Agreement) -> KeyInfo:
    if agreement.key.kind == "shared":
        assert agreement.key.name is not None
        return KeyInfo.from_key_name(agreement.key.name)
    if server.policy.rsa_certificate_der is not None:
        return KeyInfo.from_certificate(server.policy.rsa_certificate_der)
    assert server.policy.rsa_private_key is not None
    numbers = server.policy.rsa_private_key.public_key().public_numbers()
    return KeyInfo.from_rsa_public_numbers(numbers.n, numbers.e)


def server_hello(server: "DskppServer", ctx: RunContext, hello: KeyProvClientHello, raw: bytes,
                 agreement: Agreement) -> Reply:
    """Pass 2 (Sec. 4.2.3)."""
    ctx.response_type = KeyProvServerHello
    ctx.session_id = new_session_id(server)
    record = info = None
    if hello.authentication_data is not None:  # only a trigger's AD can be here (D-13)
        issued = server_auth.issued_trigger(server, hello.authentication_data)
        record = server_auth.authenticate_trigger(server, hello.authentication_data, issued)
        info = issued[1] if issued else None
    device = accept_device(server, hello, agreement.key, info)
    renewed = renewal(server, hello, info, record.client_id if record else None)
    r_s = server.random(server.policy.server_nonce_length)
    mac = None
    if renewed is not None:  # Sec. 4.2.3: "A MAC MUST be present if a key is being renewed"
        prf_uri = renewal_prf(server, renewed.previous, agreement.mac_algorithm)
        value = crypto.renewal_mac_four_pass(prf_from_uri(prf_uri), previous_mac_key(server, renewed.previous),
                                             r_s=r_s, r=hello.client_nonce, interp=server.interp)
        mac = Mac(value, prf_uri)
    extensions = echo_client_info(hello.extensions)
    if server.policy.server_info is not None:
        extensions += (ServerInfo(server.policy.server_info),)
    response = KeyProvServerHello(
        version=VERSION_1_0, status=Status.CONTINUE, session_id=ctx.session_id, key_type=agreement.key_type,
        encryption_algorithm=agreement.encryption_algorithm, mac_algorithm=agreement.mac_algorithm,
        encryption_key=_encryption_key_info(server, agreement), key_package_format=agreement.key_package_format,
        payload=Payload(nonce=r_s), extensions=extensions, mac=mac,
    )
    body = codec.encode(response)
    state = FourPassSession(
        version=hello.version, key_type=agreement.key_type, encryption_algorithm=agreement.encryption_algorithm,
        mac_algorithm=agreement.mac_algorithm, key_package_format=agreement.key_package_format,
        key_kind=agreement.key.kind, key_name=agreement.key.name, r_s=r_s, hello=raw, server_hello=body,
        trigger_client_id=record.client_id if record else None,
        renew_key_id=renewed.key_id if renewed else None, device=device, server_info=server.policy.server_info,
    )
    now = server.clock()
    server.store.put_session(SessionRecord(ctx.session_id, now, now + server.session_timeout, state.to_json()))
    what = "renewal of " + renewed.key_id if renewed else "new key"
    reason = (f"four-pass hello: Continue ({what}; key type {agreement.key_type}, encryption "
              f"{agreement.encryption_algorithm}, MAC {agreement.mac_algorithm})")
    return Reply(response, Status.CONTINUE, ctx.session_id, reason, encoded=body)


def _check_client_nonce_ad(server: "DskppServer", state: FourPassSession, message: KeyProvClientNonce) -> str | None:
    """Trigger-authenticated runs (I-19); returns the Client ID, or None if AD is still due."""
    ad = message.authentication_data
    if state.trigger_client_id is None:
        return None
    hello = codec.decode(state.hello)
    assert isinstance(hello, KeyProvClientHello)
    if ad is None:
        if server.interp.triggered_client_nonce_ad is TriggeredClientNonceAd.COPY_TRIGGER_AD:
            raise refuse("AuthenticationDataMissing", "the trigger's AD must be repeated (reading I-19)",
                         "RFC 6063 §4.2.4", "KeyProvClientNonce/AuthenticationData")
        return state.trigger_client_id
    if ad != hello.authentication_data:
        raise refuse("AuthenticationDataInvalid", "AD differs from the trigger AD of the hello",
                      "RFC 6063 §4.2.4", "KeyProvClientNonce/AuthenticationData")
    return state.trigger_client_id


def server_finished(server: "DskppServer", ctx: RunContext, message: KeyProvClientNonce, raw: bytes,
                    session: SessionRecord) -> Reply:
    """Pass 4 (Sec. 4.2.4, 4.2.5).  Any failure ends the run: the session is deleted."""
    ctx.response_type = KeyProvServerFinished
    ctx.session_id = session.session_id
    try:
        return _server_finished(server, message, raw, session)
    except ProtocolError:
        server.store.delete_session(session.session_id)  # Sec. 3.3: terminate, delete secrets
        raise


def _decrypt_r_c(server: "DskppServer", state: FourPassSession, message: KeyProvClientNonce) -> bytes:
    """R_C from <EncryptedNonce> under K (Sec. 4.2.3 / 4.2.4); refuses short and replayed nonces."""
    decryption_key: RSAPrivateKey | bytes
    if state.key_kind == "server-rsa":
        if server.policy.rsa_private_key is None:
            raise refuse("InitializationFailed", "K_SERVER is no longer configured", "RFC 6063 §4.2.4")
        decryption_key = server.policy.rsa_private_key
    else:
        decryption_key = shared_key(server, state.key_name)
    r_c = crypto.decrypt_nonce(state.encryption_algorithm, message.encrypted_nonce, key=decryption_key,
                               r_s=state.r_s, mac_algorithm=state.mac_algorithm, interp=server.interp)
    if len(r_c) < crypto.MIN_KEY_LENGTH:  # R_C is the DSKPP-PRF key k (Sec. 3.4.2: >= 16 octets)
        raise refuse("InitializationFailed", "R_C shorter than 16 octets", "RFC 6063 §3.4.2, §4.1.2", "EncryptedNonce")
    if server.store.nonce_used(nonce_digest(r_c)):
        raise refuse("Abort", "R_C was used in an earlier run (replay)", "RFC 6063 §10.2.5", "EncryptedNonce")
    return r_c


def _authenticate(server: "DskppServer", state: FourPassSession, message: KeyProvClientNonce, *, r_c: bytes,
                  k: bytes) -> str | None:
    """The Client ID of the run (Sec. 4.2.4 "MUST use AD to authenticate the user"), or None
    in pass-through mode; also the renewal ownership check (D-18)."""
    client_id = _check_client_nonce_ad(server, state, message)
    ad = message.authentication_data
    if client_id is None and ad is not None:
        kind = SaltKeyKind.SERVER_PUBLIC_KEY if state.key_kind == "server-rsa" else SaltKeyKind.SHARED_KEY
        ctx = server_auth.ad_context(server, kind=kind, two_pass=False, r_c=r_c, r_s=state.r_s, k_octets=k,
                                     negotiated_mac=state.mac_algorithm)
        client_id = server_auth.authenticate_fresh(server, ad, ctx).client_id
    elif client_id is not None:  # the AC may have expired or been used since the hello
        userauth.check_record(server_auth.lookup(server, client_id), server.clock())
    if state.renew_key_id is not None:  # the user is known only now (no AD in a non-triggered hello)
        previous = server.store.get_key(state.renew_key_id)
        if previous is None:
            raise refuse("Abort", "the key to renew no longer exists", "RFC 6063 §4.2.2", "KeyProvClientHello/KeyID")
        check_owner(server, previous, client_id)
    return client_id


def _server_finished(server: "DskppServer", message: KeyProvClientNonce, raw: bytes,
                     session: SessionRecord) -> Reply:
    state = FourPassSession.from_json(session.state)
    policy, interp = server.policy, server.interp
    if parse_version(message.version)[0] != parse_version(state.version)[0]:
        raise refuse("Abort", "version differs from the hello's", "RFC 6063 §1.2, §3.3", "KeyProvClientNonce/@Version")
    if state.server_info is not None and server_info_echo(message.extensions) != state.server_info:
        raise refuse("Abort", "ServerInfoType data not echoed unmodified", "RFC 6063 §6.2",
                     "KeyProvClientNonce/Extensions")
    if (state.trigger_client_id is None and message.authentication_data is None
            and policy.require_authentication):
        raise refuse("AuthenticationDataMissing", "this server requires Authentication Data",
                     "RFC 6063 §4.2.4", "KeyProvClientNonce/AuthenticationData")
    r_c = _decrypt_r_c(server, state, message)
    k = k_octets(server, _key(state))  # "Key generation" || K || R_S and the K_AC salt (I-3, I-4)
    client_id = _authenticate(server, state, message, r_c=r_c, k=k)
    agreement = _agreement(state)
    prf = mac_prf(agreement)
    length = token_key_length(server, agreement)
    k_prov = crypto.derive_k_prov(prf, r_c=r_c, k_octets=k, r_s=state.r_s,
                                  length=crypto.k_prov_length(length, prf, interp=interp), interp=interp)
    keys = crypto.split_k_prov(k_prov)
    secret = crypto.token_key(keys.k_token, length)
    key_id = state.renew_key_id or new_key_id(server)
    key_type = policy.key_type(state.key_type)
    assert key_type is not None
    key = keypackage.key_model(key_id, key_type, policy.server_id, None)
    container = keypackage.four_pass_container(key, keypackage.pskc_device(state.device))
    trigger = _trigger_document(server, state)
    msg_hash = message_hash([state.hello, state.server_hello, raw], interp, trigger=trigger)
    mac = crypto.key_confirmation_mac_four_pass(prf, keys.k_mac, msg_hash=msg_hash, r_c=r_c, interp=interp)
    response = KeyProvServerFinished(
        version=VERSION_1_0, status=Status.SUCCESS, session_id=session.session_id,
        key_package=KeyPackage(server_id=policy.server_id, key_container=container),
        extensions=echo_client_info(message.extensions), mac=Mac(mac, state.mac_algorithm),
    )
    body = codec.encode(response)
    now = server.clock()
    record = KeyRecord(
        key_id=key_id, algorithm=state.key_type, secret=secret, provisioned_at=now,
        k_mac=crypto.mac_key(keys.k_mac, prf, interp=interp), mac_algorithm=state.mac_algorithm,
        client_id=client_id, device=device_description(state.device), attributes=keypackage.key_attributes(key),
    )
    commit(server, ProvisioningCommit(record, now, session_id=session.session_id, client_id=client_id,
                                      nonces=(nonce_digest(r_c),)))
    info = ProvisionedKeyInfo(key_id, state.key_type, fingerprint(secret))
    what = "renewed" if state.renew_key_id else "provisioned"
    reason = f"four-pass finished: Success ({what} key {key_id}, {state.key_type}, client {client_id or '-'})"
    return Reply(response, Status.SUCCESS, session.session_id, reason, provisioned=info, encoded=body)


def _key(state: FourPassSession) -> ProtectionKey:
    return ProtectionKey(state.key_kind, name=state.key_name)


def _agreement(state: FourPassSession) -> Agreement:
    return Agreement("four-pass", state.key_type, state.encryption_algorithm, state.mac_algorithm,
                     state.key_package_format, _key(state))


def _trigger_document(server: "DskppServer", state: FourPassSession) -> bytes | None:
    if state.trigger_client_id is None or not server.interp.message_hash_includes_trigger:
        return None
    record = server.store.get_authentication_code(state.trigger_client_id)
    return record.trigger_document if record else None


__all__ = ["server_hello", "server_finished"]
