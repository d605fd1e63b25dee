"""Two-pass server (RFC 6063 §5): <KeyProvClientHello> -> <KeyProvServerFinished>.

Sec. 5.2.2: the server authenticates the user with the hello's AD (K of the K_AC salt is
the key of the selected protection method, D-12), generates K_PROV at random
(K_PROV = K_MAC || K_TOKEN, dsLen per I-5), protects it with the selected method in a PSKC
key package (keypackage.py), computes the key confirmation MAC
    DSKPP-PRF(K_MAC, "MAC 1 computation" || msg_hash || ServerID, len(msg_hash))
and, when a key is renewed, the server authentication MAC
    DSKPP-PRF(K_MAC', "MAC 2 computation" || ServerID || R, dsLen >= 16)
sent as <AuthenticationData> (Sec. 5.2.3, 10.6.3).  The run is committed before the
response is returned.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey, RSAPublicNumbers

from harness.errors import ProtocolError
from harness.redaction import fingerprint
from reference import pskc
from reference.dskpp import codec, crypto, keypackage, server_auth, userauth
from reference.dskpp.authcode import SaltKeyKind
from reference.dskpp.interpretation import PassphraseSource
from reference.dskpp.messages import (
    VERSION_1_0,
    AuthenticationCodeMac,
    KeyPackage,
    KeyProtectionMethodUri,
    KeyProtectionOffer,
    KeyProvClientHello,
    KeyProvServerFinished,
    Mac,
    Status,
)
from reference.dskpp.negotiation import Agreement, ProtectionKey
from reference.dskpp.server_common import (
    ProvisionedKeyInfo,
    Reply,
    RunContext,
    accept_device,
    check_device_certificate,
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
    shared_key,
    token_key_length,
)
from reference.dskpp.store import KeyRecord, ProvisioningCommit, nonce_digest
from reference.dskpp.transcript import message_hash, two_pass_nonce

if TYPE_CHECKING:
    from reference.dskpp.server import DskppServer

MIN_RSA_BITS = 1024  # K_PROV (up to 64 octets here) must fit RSAES-PKCS1-v1_5 / OAEP
_KIND = {
    KeyProtectionMethodUri.TRANSPORT.value: SaltKeyKind.CLIENT_PUBLIC_KEY,
    KeyProtectionMethodUri.WRAP.value: SaltKeyKind.SHARED_KEY,
    KeyProtectionMethodUri.PASSPHRASE_WRAP.value: SaltKeyKind.PASSPHRASE_KEY,
}


# ----------------------------------------------------------------------------- KPML payloads
def _rsa_key(offer: KeyProtectionOffer) -> ProtectionKey | None:
    info = offer.payload.key_info if offer.payload is not None else None
    if info is None:
        return None
    try:
        certificates = info.x509_certificates
        if certificates:
            public = x509.load_der_x509_certificate(certificates[0]).public_key()
            der: bytes | None = certificates[0]
        else:
            numbers = info.rsa_public_numbers
            if numbers is None:
                return None
            public = RSAPublicNumbers(numbers[1], numbers[0]).public_key()
            der = None
    except (ValueError, TypeError):
        return None
    if not isinstance(public, RSAPublicKey) or public.key_size < MIN_RSA_BITS:
        return None
    return ProtectionKey("client-rsa", public_key=public, certificate_der=der)


def resolve_offer(server: "DskppServer", offer: KeyProtectionOffer) -> ProtectionKey | None:
    """The key an offered method's payload names, if this server can use it (Sec. 5.2.2)."""
    if offer.method == KeyProtectionMethodUri.TRANSPORT.value:
        return _rsa_key(offer)
    info = offer.payload.key_info if offer.payload is not None else None
    names = info.key_names if info is not None else ()
    if not names:  # key wrap: ds:KeyName RECOMMENDED; passphrase: "MUST be used"
        return None
    name = names[0]
    if offer.method == KeyProtectionMethodUri.WRAP.value:
        key = server.policy.shared_keys.get(name)
        return ProtectionKey("shared", name=name) if key is not None and len(key) == 16 else None
    if server.interp.passphrase_source is PassphraseSource.AC_PASSWORD:
        found = server.store.get_authentication_code(name) is not None
    else:
        found = name in server.policy.passphrases
    return ProtectionKey("passphrase", name=name) if found else None


def _passphrase(server: "DskppServer", key: ProtectionKey, client_id: str | None) -> str:
    """I-31: the AC password of the Client ID the KeyName carries, or a named passphrase."""
    assert key.name is not None
    if server.interp.passphrase_source is PassphraseSource.NAMED_PASSPHRASE:
        value = server.policy.passphrases.get(key.name)
    else:
        if client_id is not None and key.name != client_id:
            raise refuse("AuthenticationDataInvalid", "the passphrase KeyName must be the AD's Client ID",
                         "RFC 6063 §5.2.2", "TwoPass/Payload/KeyInfo/KeyName")
        record = server.store.get_authentication_code(key.name)
        value = record.password if record is not None else None
    if value is None:
        raise refuse("InitializationFailed", "the passphrase is no longer available", "RFC 6063 §5.1.3")
    return value


def _salt_key(server: "DskppServer", key: ProtectionKey, client_id: str | None) -> bytes:
    if key.kind == "passphrase":
        return userauth.passphrase_octets(_passphrase(server, key, client_id), server.interp)
    return k_octets(server, key)


# ----------------------------------------------------------------------------- the run
def server_finished(server: "DskppServer", ctx: RunContext, hello: KeyProvClientHello, raw: bytes,
                    agreement: Agreement) -> Reply:
    ctx.response_type = KeyProvServerFinished
    ctx.session_id = new_session_id(server)  # two-pass has no session; the ID names the run in logs
    policy, interp = server.policy, server.interp
    key, method = agreement.key, agreement.method
    assert method is not None
    ad = hello.authentication_data
    record = info = None
    issued = server_auth.issued_trigger(server, ad) if ad is not None else None
    triggered = False
    if ad is not None and issued is not None:
        try:
            record = server_auth.authenticate_trigger(server, ad, issued)
            info, triggered = issued[1], True
        except ProtocolError as exc:
            if exc.status != "AuthenticationDataInvalid":
                raise
            record = None  # not the trigger's AD: a fresh one, checked below
    r = two_pass_nonce(hello, interp, triggered=triggered)
    if ad is None:
        if policy.require_authentication:  # Sec. 5.2.2 "This message MUST send ... AD"
            raise refuse("AuthenticationDataMissing", "this server requires Authentication Data",
                         "RFC 6063 §5.2.2", "KeyProvClientHello/AuthenticationData")
    elif record is None:
        claimed = ad.client_id
        ad_ctx = server_auth.ad_context(server, kind=_KIND[method], two_pass=True, r_c=r, r_s=None,
                                        k_octets=_salt_key(server, key, claimed), negotiated_mac=agreement.mac_algorithm)
        record = server_auth.authenticate_fresh(server, ad, ad_ctx)
    client_id = record.client_id if record is not None else None
    if server.store.nonce_used(nonce_digest(r)):
        raise refuse("Abort", "the client nonce R was used in an earlier run (replay)", "RFC 6063 §10.2.5",
                     "KeyProvClientHello/ClientNonce")
    device = accept_device(server, hello, key, info)
    check_device_certificate(server, key)
    renewed = renewal(server, hello, info, client_id)

    prf = mac_prf(agreement)
    length = token_key_length(server, agreement)
    k_prov = server.random(crypto.k_prov_length(length, prf, interp=interp))  # "randomly generated solely by the server"
    keys = crypto.split_k_prov(k_prov)
    secret = crypto.token_key(keys.k_token, length)
    key_id = renewed.key_id if renewed else new_key_id(server)
    key_type = policy.key_type(agreement.key_type)
    assert key_type is not None
    model = keypackage.key_model(key_id, key_type, policy.server_id, k_prov)
    pskc_device = keypackage.pskc_device(device)
    cipher = keypackage.PSKC_CIPHER[agreement.encryption_algorithm]
    if key.kind == "client-rsa":
        assert key.public_key is not None and hello.supported_protocol_variants is not None
        offer = next(o for o in hello.supported_protocol_variants.two_pass or () if o.method == method)
        assert offer.payload is not None and offer.payload.key_info is not None
        container = keypackage.two_pass_transported(model, pskc_device, algorithm=agreement.encryption_algorithm,
                                                    public_key=key.public_key, key_info=offer.payload.key_info,
                                                    rng=server.random)
    elif key.kind == "shared":
        protection = pskc.PreSharedKey(shared_key(server, key.name), cipher, key.name)
        container = keypackage.two_pass_wrapped(model, pskc_device, protection=protection, rng=server.random)
    else:
        protection = pskc.Passphrase(_passphrase(server, key, client_id), cipher,
                                     iterations=policy.passphrase_wrap_iterations, master_key_name=key.name)
        container = keypackage.two_pass_wrapped(model, pskc_device, protection=protection, rng=server.random)

    trigger = info.document if triggered and info is not None else None
    msg_hash = message_hash([raw], interp, trigger=trigger)
    mac = crypto.key_confirmation_mac_two_pass(prf, keys.k_mac, msg_hash=msg_hash, server_id=policy.server_id,
                                               r=r, interp=interp)
    server_auth_mac = None
    if renewed is not None:  # Sec. 5.2.3 / 10.6.3: replacing a key needs server authentication
        value = crypto.server_auth_mac_two_pass(prf, previous_mac_key(server, renewed.previous),
                                                server_id=policy.server_id, r=r, interp=interp)
        server_auth_mac = AuthenticationCodeMac(mac=Mac(value, agreement.mac_algorithm))
    response = KeyProvServerFinished(
        version=VERSION_1_0, status=Status.SUCCESS, session_id=ctx.session_id,
        key_package=KeyPackage(server_id=policy.server_id, key_protection_method=method, key_container=container),
        extensions=echo_client_info(hello.extensions), mac=Mac(mac, agreement.mac_algorithm),
        authentication_data=server_auth_mac,
    )
    body = codec.encode(response)
    now = server.clock()
    stored = KeyRecord(
        key_id=key_id, algorithm=agreement.key_type, secret=secret, provisioned_at=now,
        k_mac=crypto.mac_key(keys.k_mac, prf, interp=interp), mac_algorithm=agreement.mac_algorithm,
        client_id=client_id, device=device_description(device), attributes=keypackage.key_attributes(model),
    )
    commit(server, ProvisioningCommit(stored, now, client_id=client_id, nonces=(nonce_digest(r),)))
    what = "renewed" if renewed else "provisioned"
    reason = (f"two-pass finished: Success ({what} key {key_id}, {agreement.key_type}, method {method}, "
              f"{agreement.encryption_algorithm}, client {client_id or '-'})")
    return Reply(response, Status.SUCCESS, ctx.session_id, reason,
                 provisioned=ProvisionedKeyInfo(key_id, agreement.key_type, fingerprint(secret)), encoded=body)


__all__ = ["server_finished", "resolve_offer"]
