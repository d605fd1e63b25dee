"""The client's side of each pass (RFC 6063 §4.2.2-4.2.5 four-pass, §5.2.2-5.2.3 two-pass).

Every check of a response raises a ProtocolError child naming the element (``where``) and
the section (``spec``); nothing reaches the token store unless every MAC verified.  The
run's values (R_C, K octets, the agreed SAL, the key being replaced) live in
``client.run_state``, which the client clears when the run ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey, RSAPublicNumbers

from harness.errors import CryptoFailure, InputError, SchemaViolation, UnsupportedFeature
from reference.dskpp import codec, crypto, keypackage, userauth
from reference.dskpp.interpretation import PassphraseSource, PreviousMacKey, RenewalMacPrf, TriggeredClientNonceAd
from reference.dskpp.messages import (
    AuthenticationData,
    ClientInfo,
    DeviceIdentifierData,
    Extension,
    KeyInfo,
    KeyProtectionMethodUri,
    KeyProtectionOffer,
    KeyProvClientHello,
    KeyProvClientNonce,
    KeyProvServerFinished,
    KeyProvServerHello,
    Payload,
    ProtocolVariants,
    ServerInfo,
    parse_version,
)
from reference.dskpp.negotiation import (
    FOUR_PASS_SYMMETRIC,
    METHOD_ALGORITHMS,
    METHOD_DEFAULT_ALGORITHM,
    RSA_ALGORITHMS,
    canonical_encryption_uri,
)
from reference.dskpp.interpretation import TwoPassEncryptionChoice
from reference.dskpp.nonce_encryption import encrypt_nonce
from reference.dskpp.prf import prf_from_uri
from reference.dskpp.store import TokenKey
from reference.dskpp.transcript import message_hash, two_pass_nonce

if TYPE_CHECKING:
    from reference.dskpp.client import DskppClient

_S423, _S425, _S522, _S523 = "RFC 6063 §4.2.3", "RFC 6063 §4.2.5", "RFC 6063 §5.2.2", "RFC 6063 §5.2.3"


def _bad(message: str, spec: str, where: str) -> SchemaViolation:
    return SchemaViolation(message, status="Abort", spec=spec, where=where)


# ----------------------------------------------------------------------------- shared
def _client_info(client: "DskppClient") -> tuple[Extension, ...]:
    data = client.config.client_info
    return (ClientInfo(data),) if data is not None else ()


def _check_client_info_echo(client: "DskppClient", response: Any, spec_where: str) -> None:
    """Sec. 6.1: the server "MUST include it unmodified in the ... next server response"."""
    sent = client.config.client_info
    if sent is None:
        return
    echoed = [e.data for e in response.extensions if isinstance(e, ClientInfo)]
    if echoed != [sent]:
        raise _bad("ClientInfoType data not echoed unmodified", "RFC 6063 §6.1", f"{spec_where}/Extensions")


def _check_version(response: Any) -> None:
    if parse_version(response.version)[0] != 1:
        raise UnsupportedFeature("response of an unsupported DSKPP major version", status="UnsupportedVersion",
                                 spec="RFC 6063 §1.2", where=f"{type(response).__name__}/@Version")


def _trigger_fields(client: "DskppClient"):  # type: ignore[no-untyped-def]
    return client.trigger.message.trigger if client.trigger is not None else None


def _device(client: "DskppClient") -> DeviceIdentifierData | None:
    trigger = _trigger_fields(client)
    if trigger is not None and trigger.device_identifier_data is not None:
        return trigger.device_identifier_data  # Sec. 4.2.2: "MUST also include ... DeviceID"
    info = client.config.device_info
    return DeviceIdentifierData(device_id=info) if info is not None else None


def _key_id(client: "DskppClient", previous: TokenKey | None) -> bytes | None:
    trigger = _trigger_fields(client)
    if trigger is not None and trigger.key_id is not None:
        return trigger.key_id  # repeated exactly as the trigger gave it
    return previous.key_id.encode("utf-8") if previous is not None else None  # D-14


def _fresh_ad(client: "DskppClient", prf_uri: str, *, r_c: bytes, r_s: bytes | None, k_octets: bytes,
              iteration_count: int, nonce: bytes | None) -> AuthenticationData:
    ac = client.ac
    assert ac is not None
    url = client.server_url
    if url is None:
        raise InputError("URL_S is unknown: configure server_url (Sec. 3.4.1.2)", where="ClientConfig.server_url")
    return userauth.compute(prf_uri, client_id=ac.client_id, password=ac.password, server_url=url, r_c=r_c,
                            r_s=r_s, k_octets=k_octets, iteration_count=iteration_count, interp=client.interp,
                            nonce=nonce)


def _accept_key(client: "DskppClient", key: Any, previous: TokenKey | None, spec: str) -> str:
    """The Key Id to store under: renewal keeps the key's ID (App. A.5); a new key must not
    overwrite a stored one, which needs an authorizing MAC (Sec. 4.2.5, 5.2.3)."""
    key_id = key.id
    if previous is not None:
        if key_id != previous.key_id:
            raise _bad("a renewal must keep the key identifier", spec, "KeyContainer/Key/@Id")
    elif client.token_store.get_key(key_id) is not None:
        raise _bad("the key package would overwrite a stored key without server authentication", spec,
                   "KeyContainer/Key/@Id")
    return key_id


def _token_key(client: "DskppClient", key: Any, key_id: str, secret: bytes, k_mac: bytes, prf_uri: str,
               server_id: str | None) -> TokenKey:
    prf = prf_from_uri(prf_uri)
    return TokenKey(key_id=key_id, algorithm=key.algorithm, secret=secret, provisioned_at=client.clock(),
                    k_mac=crypto.mac_key(k_mac, prf, interp=client.interp), mac_algorithm=prf_uri,
                    server_id=server_id, attributes=keypackage.key_attributes(key))


def _previous_mac_key(client: "DskppClient", previous: TokenKey, spec: str) -> bytes:
    """K_MAC' (I-11)."""
    if client.interp.previous_mac_key is PreviousMacKey.REPLACED_K_TOKEN:
        return previous.secret
    if previous.k_mac is None:
        raise InputError("the key to renew has no stored K_MAC'", where="TokenKey.k_mac")
    return previous.k_mac


# ----------------------------------------------------------------------------- four-pass
def _four_pass_offer(client: "DskppClient") -> tuple[str, ...]:
    """RSA algorithms always (the server supplies K_SERVER); symmetric ones only with K_SHARED."""
    cfg = client.config
    underscore = client.interp.accept_rsa_1_5_underscore
    offered = tuple(
        a for a in cfg.encryption_algorithms
        if canonical_encryption_uri(a, underscore) in RSA_ALGORITHMS
        or (a in FOUR_PASS_SYMMETRIC and cfg.shared_key is not None)
    )
    if not offered:
        raise InputError("no encryption algorithm usable for four-pass with this configuration",
                         where="ClientConfig.encryption_algorithms")
    return offered


def four_pass_hello(client: "DskppClient") -> bytes:
    """Pass 1 (Sec. 4.2.2): SAL, [AD, DeviceID, KeyID] as the trigger gave them."""
    cfg = client.config
    previous = client.previous_key()
    trigger = _trigger_fields(client)
    offered = _four_pass_offer(client)
    hello = KeyProvClientHello(
        version=cfg.version, supported_key_types=cfg.key_types, supported_encryption_algorithms=offered,
        supported_mac_algorithms=cfg.mac_algorithms, device_identifier_data=_device(client),
        key_id=_key_id(client, previous), supported_protocol_variants=ProtocolVariants(four_pass=True),
        supported_key_packages=cfg.key_package_formats,
        authentication_data=trigger.authentication_data if trigger is not None else None,
        extensions=_client_info(client),
    )
    client.run_state.update(previous=previous, offered_encryption=offered)
    return codec.encode(hello)


def _server_public_key(client: "DskppClient", info: KeyInfo) -> tuple[RSAPublicKey, bytes | None]:
    certificates = info.x509_certificates
    try:
        if certificates:
            public = x509.load_der_x509_certificate(certificates[0]).public_key()
        else:
            numbers = info.rsa_public_numbers
            if numbers is None:
                raise ValueError("no key")
            public = RSAPublicNumbers(numbers[1], numbers[0]).public_key()
    except ValueError:
        raise _bad("EncryptionKey carries no usable RSA public key", _S423, "KeyProvServerHello/EncryptionKey") from None
    if not isinstance(public, RSAPublicKey):
        raise _bad("EncryptionKey is not an RSA key", _S423, "KeyProvServerHello/EncryptionKey")
    pin = client.config.server_public_key
    if pin is not None:
        spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        if public.public_bytes(*spki) != pin.public_bytes(*spki):
            raise CryptoFailure("K_SERVER is not the configured server key", status="Abort",
                                spec=f"{_S423}; §4.1.1", where="KeyProvServerHello/EncryptionKey")
    return public, certificates[0] if certificates else None


def four_pass_client_nonce(client: "DskppClient", message: KeyProvServerHello) -> bytes:
    """Pass 3 (Sec. 4.2.3 "How the DSKPP Client uses this message", 4.2.4)."""
    cfg, interp, state = client.config, client.interp, client.run_state
    _check_version(message)
    where = "KeyProvServerHello"
    if message.session_id is None:
        raise _bad("<KeyProvServerHello> without SessionID", "RFC 6063 §7.2.3", f"{where}/@SessionID")
    if not message.has_body or message.payload is None or message.payload.nonce is None:
        raise _bad("Continue without the SAL and the nonce R_S", _S423, where)
    for value, offered, element in (
        (message.key_type, cfg.key_types, "KeyType"),
        (message.encryption_algorithm, state["offered_encryption"], "EncryptionAlgorithm"),
        (message.mac_algorithm, cfg.mac_algorithms, "MacAlgorithm"),
        (message.key_package_format, cfg.key_package_formats, "KeyPackageFormat"),
    ):
        if value not in offered:  # Sec. 4.2.3: "selected from the SAL that it received"
            raise _bad(f"{element} was not offered", _S423, f"{where}/{element}")
    r_s = message.payload.nonce
    algorithm = message.encryption_algorithm
    assert algorithm is not None and message.mac_algorithm is not None and message.encryption_key is not None
    if canonical_encryption_uri(algorithm, interp.accept_rsa_1_5_underscore) in RSA_ALGORITHMS:
        public, certificate = _server_public_key(client, message.encryption_key)
        encryption_key: Any = public
        k_octets = crypto.public_key_octets(public, certificate_der=certificate, interp=interp)
    else:
        names = message.encryption_key.key_names
        if cfg.shared_key is None or not names or (cfg.shared_key_name is not None and cfg.shared_key_name not in names):
            raise CryptoFailure("the server names a pre-shared key this client does not hold", status="Abort",
                                spec=_S423, where=f"{where}/EncryptionKey")
        encryption_key = cfg.shared_key
        k_octets = crypto.shared_key_octets(cfg.shared_key, key_name=names[0], interp=interp)
    previous = state["previous"]
    if previous is not None:
        _verify_renewal_mac(client, message, r_s, previous)
    _check_client_info_echo(client, message, where)
    r_c = client.random(cfg.client_nonce_length)
    encrypted = encrypt_nonce(algorithm, r_c, key=encryption_key, r_s=r_s, rng=client.random,
                              mac_algorithm=message.mac_algorithm, interp=interp)
    trigger = _trigger_fields(client)
    ad = None
    if trigger is not None:
        if interp.triggered_client_nonce_ad is TriggeredClientNonceAd.COPY_TRIGGER_AD:
            ad = trigger.authentication_data  # I-19
    elif client.ac is not None:  # Sec. 3.4.1.2 four-pass: R_C and R_S; no <Nonce> (R_C is secret)
        ad = _fresh_ad(client, message.mac_algorithm, r_c=r_c, r_s=r_s, k_octets=k_octets,
                       iteration_count=cfg.ac_iteration_count, nonce=None)
    echo = tuple(ServerInfo(e.data) for e in message.extensions if isinstance(e, ServerInfo))  # Sec. 6.2
    request = KeyProvClientNonce(version=cfg.version, session_id=message.session_id, encrypted_nonce=encrypted,
                                 authentication_data=ad, extensions=_client_info(client) + echo)
    state.update(session_id=message.session_id, key_type=message.key_type, mac_algorithm=message.mac_algorithm,
                 r_c=r_c, r_s=r_s, k_octets=k_octets)
    return codec.encode(request)


def _verify_renewal_mac(client: "DskppClient", message: KeyProvServerHello, r_s: bytes, previous: TokenKey) -> None:
    """Sec. 4.2.3: "the DSKPP Client MUST verify the MAC provided in <KeyProvServerHello>"."""
    where = "KeyProvServerHello/Mac"
    if message.mac is None:
        raise CryptoFailure("a key is renewed but the server sent no MAC", status="Abort", spec=_S423, where=where)
    prf_uri = message.mac_algorithm
    if client.interp.renewal_mac_prf is RenewalMacPrf.MAC_ATTRIBUTE and message.mac.algorithm is not None:
        prf_uri = message.mac.algorithm  # I-10
    assert prf_uri is not None
    prf = prf_from_uri(prf_uri, status="Abort", where=where)
    expected = crypto.renewal_mac_four_pass(prf, _previous_mac_key(client, previous, _S423), r_s=r_s, r=None,
                                            interp=client.interp)
    crypto.verify_mac(expected, message.mac.value, status="Abort", spec=_S423, where=where)


def four_pass_finished(client: "DskppClient", message: KeyProvServerFinished) -> TokenKey:
    """Pass 4 (Sec. 4.2.5): verify the key confirmation MAC, then derive K_TOKEN."""
    cfg, interp, state = client.config, client.interp, client.run_state
    where = "KeyProvServerFinished"
    _check_version(message)
    if message.session_id != state["session_id"]:
        raise _bad("SessionID differs from the session of this run", "RFC 6063 §7.2.3", f"{where}/@SessionID")
    if not message.has_body or message.mac is None:
        raise _bad("Success without key package and MAC", _S425, where)
    mac_uri = state["mac_algorithm"]
    if message.mac.algorithm is not None and message.mac.algorithm != mac_uri:
        raise _bad("the MAC algorithm is not the one of <KeyProvServerHello>", _S425, f"{where}/Mac")
    _check_client_info_echo(client, message, where)
    prf = prf_from_uri(mac_uri)
    length = cfg.token_key_length(state["key_type"])
    assert length is not None
    k_prov = crypto.derive_k_prov(prf, r_c=state["r_c"], k_octets=state["k_octets"], r_s=state["r_s"],
                                  length=crypto.k_prov_length(length, prf, interp=interp), interp=interp)
    keys = crypto.split_k_prov(k_prov)
    trigger = client.trigger.document if client.trigger is not None else None
    msg_hash = message_hash(client.sent[:3], interp, trigger=trigger)
    expected = crypto.key_confirmation_mac_four_pass(prf, keys.k_mac, msg_hash=msg_hash, r_c=state["r_c"],
                                                     interp=interp)
    crypto.verify_mac(expected, message.mac.value, status="Abort", spec=_S425, where=f"{where}/Mac")
    package = message.key_package
    assert package is not None
    if package.key_container is None:
        raise _bad("key package is not a PSKC KeyContainer", _S425, f"{where}/KeyPackage")
    key = keypackage.read_container(package.key_container, spec=_S425)
    if keypackage.secret_of(key, _S425) is not None:
        raise _bad("a four-pass key package must not carry the key (Sec. 4.2.4)", _S425, "KeyContainer/Key/Data/Secret")
    if key.algorithm != state["key_type"]:
        raise _bad("the key's Algorithm is not the negotiated KeyType", _S425, "KeyContainer/Key/@Algorithm")
    key_id = _accept_key(client, key, state["previous"], _S425)
    return _token_key(client, key, key_id, crypto.token_key(keys.k_token, length), keys.k_mac, mac_uri,
                      package.server_id)


# ----------------------------------------------------------------------------- two-pass
def _two_pass_key(client: "DskppClient", method: str) -> tuple[KeyInfo, bytes, int, dict[str, Any]]:
    """(payload KeyInfo, K octets for the K_AC salt, iteration count, credentials to open the package)."""
    cfg, interp = client.config, client.interp
    if method == KeyProtectionMethodUri.TRANSPORT.value:
        if cfg.rsa_private_key is None:
            raise InputError("key transport needs the client's RSA private key", where="ClientConfig.rsa_private_key")
        public = cfg.rsa_private_key.public_key()
        if cfg.certificate_der is not None:
            info = KeyInfo.from_certificate(cfg.certificate_der)
        else:
            numbers = public.public_numbers()
            info = KeyInfo.from_rsa_public_numbers(numbers.n, numbers.e)
        k = crypto.public_key_octets(public, certificate_der=cfg.certificate_der, interp=interp)
        return info, k, cfg.ac_iteration_count, {"private_key": cfg.rsa_private_key}
    if method == KeyProtectionMethodUri.WRAP.value:
        if cfg.shared_key is None or cfg.shared_key_name is None:
            raise InputError("key wrap needs shared_key and shared_key_name", where="ClientConfig.shared_key")
        k = crypto.shared_key_octets(cfg.shared_key, key_name=cfg.shared_key_name, interp=interp)
        return KeyInfo.from_key_name(cfg.shared_key_name), k, 1, {"key": cfg.shared_key}
    if interp.passphrase_source is PassphraseSource.AC_PASSWORD:  # I-31
        trigger = _trigger_fields(client)
        name = client.ac.client_id if client.ac is not None else (
            trigger.authentication_data.client_id if trigger is not None else None)
        passphrase = client.ac.password if client.ac is not None else cfg.passphrase
    else:
        name, passphrase = cfg.shared_key_name, cfg.passphrase
    if name is None or passphrase is None:
        raise InputError("passphrase-based key wrap needs the passphrase and its name (reading I-31)",
                         where="ClientConfig.passphrase")
    k = userauth.passphrase_octets(passphrase, interp)
    return KeyInfo.from_key_name(name), k, 1, {"password": passphrase}


def two_pass_hello(client: "DskppClient") -> bytes:
    """The two-pass <KeyProvClientHello> (Sec. 5.2.2): SAL, AD, R_C, [DeviceID], [KeyID], KPML."""
    cfg, interp = client.config, client.interp
    method = cfg.protection_method
    assert method is not None
    previous = client.previous_key()
    info, k_octets, count, credentials = _two_pass_key(client, method)
    fitting = METHOD_ALGORITHMS[method]
    offered = tuple(a for a in cfg.encryption_algorithms if canonical_encryption_uri(
        a, interp.accept_rsa_1_5_underscore) in fitting)
    if not offered:
        raise InputError("no offered encryption algorithm fits the key protection method",
                         where="ClientConfig.encryption_algorithms")
    r = client.random(cfg.client_nonce_length)
    trigger = _trigger_fields(client)
    if trigger is not None:
        ad: AuthenticationData | None = trigger.authentication_data
    elif client.ac is not None:  # two-pass: no R_S; R travels in <ClientNonce> and <Nonce> (App. B.3)
        ad = _fresh_ad(client, cfg.mac_algorithms[0], r_c=r, r_s=None, k_octets=k_octets, iteration_count=count,
                       nonce=r)
    else:
        ad = None
    hello = KeyProvClientHello(
        version=cfg.version, supported_key_types=cfg.key_types, supported_encryption_algorithms=offered,
        supported_mac_algorithms=cfg.mac_algorithms, device_identifier_data=_device(client),
        key_id=_key_id(client, previous), client_nonce=r,
        supported_protocol_variants=ProtocolVariants(two_pass=(KeyProtectionOffer(method, Payload(key_info=info)),)),
        supported_key_packages=cfg.key_package_formats, authentication_data=ad, extensions=_client_info(client),
    )
    client.run_state.update(previous=previous, method=method, credentials=credentials, offered_encryption=offered,
                            r=two_pass_nonce(hello, interp, triggered=trigger is not None))
    return codec.encode(hello)


def _check_package_algorithms(client: "DskppClient", raw: Any, method: str) -> None:
    """I-30: the container's algorithm is one we offered (or the method default)."""
    allowed = {canonical_encryption_uri(a, client.interp.accept_rsa_1_5_underscore)
               for a in client.run_state["offered_encryption"]}
    if client.interp.two_pass_encryption_choice is TwoPassEncryptionChoice.METHOD_DEFAULT:
        allowed.add(METHOD_DEFAULT_ALGORITHM[method])
    used = keypackage.container_algorithms(raw, spec=_S523)
    if not used or not used <= allowed:
        raise _bad("the key package is not protected with an offered algorithm (reading I-30)", _S523,
                   "KeyContainer/.../EncryptionMethod")


def two_pass_finished(client: "DskppClient", message: KeyProvServerFinished) -> TokenKey:
    """Sec. 5.2.3: open K_PROV, verify MAC (and server AD when renewing), derive K_TOKEN."""
    cfg, interp, state = client.config, client.interp, client.run_state
    where = "KeyProvServerFinished"
    _check_version(message)
    if not message.has_body or message.mac is None or message.key_package is None:
        raise _bad("Success without key package and MAC", _S523, where)
    # Two-pass has no <KeyProvServerHello>: the MAC names its algorithm, else our first choice (D-23).
    mac_uri = message.mac.algorithm or cfg.mac_algorithms[0]
    if mac_uri not in cfg.mac_algorithms:
        raise _bad("the MAC algorithm was not offered", _S522, f"{where}/Mac")
    package = message.key_package
    method = state["method"]
    if package.key_protection_method is not None and package.key_protection_method != method:
        raise _bad("the key package names another key protection method", _S522, f"{where}/KeyPackage")
    if package.key_container is None:
        raise _bad("key package is not a PSKC KeyContainer", _S523, f"{where}/KeyPackage")
    _check_client_info_echo(client, message, where)
    _check_package_algorithms(client, package.key_container, method)
    key = keypackage.read_container(package.key_container, spec=_S523, **state["credentials"])
    k_prov = keypackage.secret_of(key, _S523)
    if k_prov is None:
        raise _bad("the key package carries no K_PROV", _S523, "KeyContainer/Key/Data/Secret")
    prf = prf_from_uri(mac_uri)
    length = cfg.token_key_length(key.algorithm or "")
    if key.algorithm not in cfg.key_types or length is None:
        raise _bad("the key's Algorithm was not offered", _S523, "KeyContainer/Key/@Algorithm")
    if len(k_prov) != crypto.k_prov_length(length, prf, interp=interp):
        raise _bad("K_PROV has not the length Sec. 5.2.2 requires (reading I-5)", _S522, "KeyContainer/Key/Data/Secret")
    keys = crypto.split_k_prov(k_prov)
    trigger = client.trigger.document if client.trigger is not None else None
    msg_hash = message_hash(client.sent[:1], interp, trigger=trigger)
    expected = crypto.key_confirmation_mac_two_pass(prf, keys.k_mac, msg_hash=msg_hash, server_id=package.server_id,
                                                    r=state["r"], interp=interp)
    crypto.verify_mac(expected, message.mac.value, status="Abort", spec=_S523, where=f"{where}/Mac")
    previous = state["previous"]
    if previous is not None:  # Sec. 5.2.3 / 10.6.3: "MUST authenticate the server"
        server_ad = message.authentication_data
        if server_ad is None:
            raise CryptoFailure("a key is replaced but the server sent no authentication MAC", status="Abort",
                                spec=_S523, where=f"{where}/AuthenticationData")
        if server_ad.mac.algorithm is not None and server_ad.mac.algorithm != mac_uri:
            raise _bad("the server authentication MAC uses another algorithm", _S522, f"{where}/AuthenticationData")
        crypto.verify_server_auth_mac_two_pass(prf, _previous_mac_key(client, previous, _S523), server_ad.mac.value,
                                               server_id=package.server_id, r=state["r"], interp=interp)
    key_id = _accept_key(client, key, previous, _S523)
    return _token_key(client, key, key_id, crypto.token_key(keys.k_token, length), keys.k_mac, mac_uri,
                      package.server_id)


__all__ = ["four_pass_hello", "four_pass_client_nonce", "four_pass_finished", "two_pass_hello", "two_pass_finished"]
