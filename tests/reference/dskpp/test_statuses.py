"""Every RFC 6063 §3.3 status code, provoked against the reference server.

Each scenario returns the server's outcome for the provoking request; the test checks the
status, that the response is a well-formed DSKPP message of the expected PDU, and that no
key was committed unless the status is Success.  docs/dskpp-interpretations.md D-11 lists
where each status is produced.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from lxml import etree

from reference.dskpp import codec
from reference.dskpp.messages import (
    ClientInfo,
    DeviceIdentifierData,
    DeviceInfo,
    KeyProtectionOffer,
    KeyProvClientHello,
    KeyProvClientNonce,
    KeyProvServerFinished,
    KeyProvServerHello,
    Payload,
    ProtocolVariants,
    Status,
    UnknownExtension,
    KeyInfo,
    RawXml,
)
from reference.dskpp.policy import ServerPolicy
from reference.dskpp.server import ServerOutcome

from .engine_kit import AES_CBC, HOTP, PRF_AES, PSK, PSK_NAME, RSA_OAEP, Lab

PKCS12 = "urn:ietf:params:xml:ns:keyprov:dskpp:pkcs12-key-container"


def hello(**changes) -> KeyProvClientHello:
    base = KeyProvClientHello(
        version="1.0", supported_key_types=(HOTP,), supported_encryption_algorithms=(RSA_OAEP,),
        supported_mac_algorithms=(PRF_AES,), supported_protocol_variants=ProtocolVariants(four_pass=True),
    )
    return replace(base, **changes)


def send(lab: Lab, message) -> ServerOutcome:
    lab.post(codec.encode(message))
    return lab.outcomes[-1]


def four_pass_then(lab: Lab, *, seed: int = 5, ac: bool = True, tamper=None, **config) -> ServerOutcome:
    """A full four-pass client run whose ClientNonce may be altered; the last outcome."""
    code = lab.issue()[0] if ac else None
    client = lab.client(seed, authentication_code=code, **config)
    body = client.first_request()
    response = lab.post(body)
    nonce = client.receive(response).body
    lab.post(tamper(nonce) if tamper else nonce)
    return lab.outcomes[-1]


def _continue(lab):
    return send(lab, hello())


def _success(lab):
    return four_pass_then(lab)


def _abort(lab):  # a <KeyProvClientNonce> for a session the server does not have (D-11)
    return send(lab, KeyProvClientNonce(version="1.0", session_id="00" * 16, encrypted_nonce=b"\x01" * 256))


def _access_denied(lab):  # ServerPolicy.refused_client_ids (D-11)
    code, client_id = lab.issue()
    lab.server.policy = replace(lab.policy, refused_client_ids=(client_id,))
    client = lab.client(6, authentication_code=code, variant="two-pass", protection="key-wrap", shared_key=PSK,
                        shared_key_name=PSK_NAME)
    lab.run(client)
    return lab.outcomes[-1]


def _malformed(lab):  # schema-invalid: no <SupportedKeyTypes>
    body = codec.encode(hello())
    start = body.index(b"<dskpp:SupportedKeyTypes>")
    end = body.index(b"</dskpp:SupportedKeyTypes>") + len(b"</dskpp:SupportedKeyTypes>")
    lab.post(body[:start] + body[end:])
    return lab.outcomes[-1]


def _unknown_request(lab):
    lab.post(b'<dskpp:KeyProvClientGoodbye xmlns:dskpp="urn:ietf:params:xml:ns:keyprov:dskpp" Version="1.0"/>')
    return lab.outcomes[-1]


def _unknown_critical_extension(lab):
    ext = RawXml(b'<dskpp:Extension xmlns:dskpp="urn:ietf:params:xml:ns:keyprov:dskpp" '
                 b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:v="urn:vendor" '
                 b'xsi:type="v:FancyType" Critical="true"><v:Data>x</v:Data></dskpp:Extension>')
    message = hello(extensions=(UnknownExtension("{urn:vendor}FancyType", ext, critical=True),))
    lab.post(codec.encode(message, validate_schema=False))  # our encoder refuses to produce it
    return lab.outcomes[-1]


def _unsupported_version(lab):
    return send(lab, hello(version="2.0"))


def _no_key_types(lab):
    return send(lab, hello(supported_key_types=("http://www.rsa.com/rsalabs/otps/schemas/2005/09/otps-wst#SecurID-AES",)))


def _no_encryption(lab):  # only the XOR method, and this server has no K_SHARED for four-pass
    lab.server.policy = replace(lab.policy, four_pass_shared_key=None)
    return send(lab, hello(supported_encryption_algorithms=(PRF_AES,)))


def _no_mac(lab):
    return send(lab, hello(supported_mac_algorithms=("http://www.w3.org/2000/09/xmldsig#hmac-sha1",)))


def _no_variants(lab):  # two-pass only, to a server with two-pass disabled
    lab.server.policy = replace(lab.policy, two_pass_methods=())
    offer = KeyProtectionOffer("urn:ietf:params:xml:schema:keyprov:dskpp:wrap", Payload(key_info=KeyInfo.from_key_name(PSK_NAME)))
    return send(lab, hello(supported_protocol_variants=ProtocolVariants(two_pass=(offer,)), client_nonce=b"r" * 16))


def _no_key_packages(lab):
    return send(lab, hello(supported_key_packages=(PKCS12,)))


def _ad_missing(lab):  # four-pass without an AC: the ClientNonce carries no AD
    return four_pass_then(lab, ac=False)


def _ad_invalid(lab):  # an AC with the right Client ID and a wrong password
    code, client_id = lab.issue()
    from reference.dskpp.authcode import format_authentication_code

    wrong = format_authentication_code(client_id, "00000000DEADBEEF", with_checksum=True)
    client = lab.client(7, authentication_code=wrong)
    lab.run(client)
    return lab.outcomes[-1]


def _initialization_failed(lab):  # an EncryptedNonce that does not RSA-OAEP-decrypt
    def garble(body: bytes) -> bytes:
        root = etree.fromstring(body)
        node = root.find("{urn:ietf:params:xml:ns:keyprov:dskpp}EncryptedNonce")
        node.text = "AAAA" * 64
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    return four_pass_then(lab, tamper=garble)


def _expired(lab):  # the AC's provisioning period (ac_lifetime_s) has passed (App. A.4)
    code, _ = lab.issue()
    lab.clock.advance(lab.policy.ac_lifetime_s + 1)
    client = lab.client(8, authentication_code=code)
    lab.run(client)
    return lab.outcomes[-1]


SCENARIOS = {
    Status.CONTINUE: (_continue, KeyProvServerHello),
    Status.SUCCESS: (_success, KeyProvServerFinished),
    Status.ABORT: (_abort, KeyProvServerFinished),
    Status.ACCESS_DENIED: (_access_denied, KeyProvServerFinished),
    Status.MALFORMED_REQUEST: (_malformed, KeyProvServerHello),
    Status.UNKNOWN_REQUEST: (_unknown_request, KeyProvServerHello),
    Status.UNKNOWN_CRITICAL_EXTENSION: (_unknown_critical_extension, KeyProvServerHello),
    Status.UNSUPPORTED_VERSION: (_unsupported_version, KeyProvServerHello),
    Status.NO_SUPPORTED_KEY_TYPES: (_no_key_types, KeyProvServerHello),
    Status.NO_SUPPORTED_ENCRYPTION_ALGORITHMS: (_no_encryption, KeyProvServerHello),
    Status.NO_SUPPORTED_MAC_ALGORITHMS: (_no_mac, KeyProvServerHello),
    Status.NO_PROTOCOL_VARIANTS: (_no_variants, KeyProvServerFinished),
    Status.NO_SUPPORTED_KEY_PACKAGES: (_no_key_packages, KeyProvServerHello),
    Status.AUTHENTICATION_DATA_MISSING: (_ad_missing, KeyProvServerFinished),
    Status.AUTHENTICATION_DATA_INVALID: (_ad_invalid, KeyProvServerFinished),
    Status.INITIALIZATION_FAILED: (_initialization_failed, KeyProvServerFinished),
    Status.PROVISIONING_PERIOD_EXPIRED: (_expired, KeyProvServerFinished),
}


def test_every_status_has_a_scenario():
    assert set(SCENARIOS) == set(Status) and len(Status) == 17


@pytest.fixture
def lab(server_key) -> Lab:
    return Lab(ServerPolicy(rsa_private_key=server_key, shared_keys={PSK_NAME: PSK}, four_pass_shared_key=PSK_NAME))


@pytest.mark.parametrize("status", list(SCENARIOS), ids=[s.value for s in SCENARIOS])
def test_status_is_produced(lab, status):
    scenario, pdu = SCENARIOS[status]
    outcome = scenario(lab)
    assert outcome.http_status == 200, outcome.reason
    assert outcome.status is status, outcome.reason
    message = codec.decode(outcome.body)  # well-formed and schema-valid
    assert isinstance(message, pdu) and message.status is status
    if status is Status.SUCCESS:
        assert outcome.provisioned is not None and len(lab.store.list_keys()) == 1
    else:
        assert outcome.provisioned is None and lab.store.list_keys() == []
        assert status.value in outcome.reason
    if isinstance(message, KeyProvServerHello):
        assert message.session_id  # Sec. 7.2.3: every <KeyProvServerHello> has a SessionID
    if status.first_response_only:
        assert isinstance(message, (KeyProvServerHello, KeyProvServerFinished))


def test_two_pass_hello_without_ad_is_authentication_data_missing(lab):
    offer = KeyProtectionOffer("urn:ietf:params:xml:schema:keyprov:dskpp:wrap", Payload(key_info=KeyInfo.from_key_name(PSK_NAME)))
    outcome = send(lab, hello(supported_protocol_variants=ProtocolVariants(two_pass=(offer,)), client_nonce=b"r" * 16,
                              supported_encryption_algorithms=(AES_CBC,)))
    assert outcome.status is Status.AUTHENTICATION_DATA_MISSING
    assert isinstance(codec.decode(outcome.body), KeyProvServerFinished)  # two-pass failure PDU (D-9)


def test_reused_authentication_code_is_invalid(lab):
    code, _ = lab.issue()
    assert lab.run(lab.client(9, authentication_code=code)).status is Status.SUCCESS
    assert lab.run(lab.client(10, authentication_code=code)).status is Status.AUTHENTICATION_DATA_INVALID
    assert len(lab.store.list_keys()) == 1


def test_unknown_client_id_is_invalid(lab):
    from reference.dskpp.authcode import format_authentication_code

    code = format_authentication_code("ABCDEF01", "0011223344556677", with_checksum=True)
    assert lab.run(lab.client(11, authentication_code=code)).status is Status.AUTHENTICATION_DATA_INVALID


def test_device_id_without_trigger_or_device_key_is_access_denied(lab):
    device = DeviceInfo(manufacturer="TokenVendorAcme", serial_no="987654321")
    assert send(lab, hello(device_identifier_data=DeviceIdentifierData(device_id=device))).status is Status.ACCESS_DENIED


def test_device_id_with_its_own_key_is_accepted(lab):
    """Sec. 4.2.2: accepted when "the server has access to a unique key for the identified
    device and that key will be used in the protocol" (App. B.2.1/B.2.3 style)."""
    lab.server.policy = replace(lab.policy, device_keys={"TokenVendorAcme:987654321": PSK_NAME})
    device = DeviceInfo(manufacturer="TokenVendorAcme", serial_no="987654321")
    rsa_only = send(lab, hello(device_identifier_data=DeviceIdentifierData(device_id=device)))
    assert rsa_only.status is Status.ACCESS_DENIED  # K_SERVER is not the device's key
    code, _ = lab.issue()
    client = lab.client(12, authentication_code=code, device_info=device, shared_key=PSK, shared_key_name=PSK_NAME,
                        encryption_algorithms=("urn:ietf:params:xml:ns:keyprov:dskpp:prf-aes-128",))
    assert lab.run(client).status is Status.SUCCESS
    assert "987654321" in lab.store.list_keys()[0].device


def test_client_info_is_echoed_and_server_info_required_back(lab):
    lab.server.policy = replace(lab.policy, server_info=b"server-state-1")
    outcome = send(lab, hello(extensions=(ClientInfo(b"client-data"),)))
    message = codec.decode(outcome.body)
    assert outcome.status is Status.CONTINUE
    assert ClientInfo(b"client-data") in message.extensions  # Sec. 6.1
    assert any(getattr(e, "data", None) == b"server-state-1" for e in message.extensions)
    # A client that drops the ServerInfo echo (Sec. 6.2) is refused.
    code, _ = lab.issue()
    client = lab.client(13, authentication_code=code)
    body = client.first_request()
    nonce = client.receive(lab.post(body)).body
    assert b"ServerInfoType" in nonce
    root = etree.fromstring(nonce)
    for ext in root.iter("{urn:ietf:params:xml:ns:keyprov:dskpp}Extensions"):
        root.remove(ext)
    lab.post(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    assert lab.outcomes[-1].status is Status.ABORT and lab.store.list_keys() == []


def test_replayed_client_nonce_after_success_is_abort(lab):
    code, _ = lab.issue()
    client = lab.client(14, authentication_code=code)
    body = client.first_request()
    nonce = client.receive(lab.post(body)).body
    assert lab.server.handle(nonce).status is Status.SUCCESS
    again = lab.server.handle(nonce)  # the session is gone: unknown SessionID
    assert again.status is Status.ABORT and len(lab.store.list_keys()) == 1


def test_replayed_encrypted_nonce_in_a_new_session_is_abort(lab):
    """R_C replayed into another session: same R_C digest (RSA decrypts to it) -> Abort."""
    code, _ = lab.issue()
    client = lab.client(15, authentication_code=code)
    nonce = client.receive(lab.post(client.first_request())).body
    assert lab.server.handle(nonce).status is Status.SUCCESS
    session = codec.decode(lab.server.handle(codec.encode(hello())).body).session_id
    old = codec.decode(nonce)
    replayed = lab.server.handle(codec.encode(replace(old, session_id=session)))
    assert replayed.status is Status.ABORT and "replay" in replayed.reason
    assert lab.store.get_session(session) is None  # the run ended


def test_expired_session_is_abort_and_removed(lab):
    code, _ = lab.issue()
    client = lab.client(16, authentication_code=code)
    nonce = client.receive(lab.post(client.first_request())).body
    session_id = codec.decode(nonce).session_id
    lab.clock.advance(lab.policy.session_timeout_s)
    outcome = lab.server.handle(nonce)
    assert outcome.status is Status.ABORT and "expired" in outcome.reason
    assert lab.store.get_session(session_id) is None and lab.store.list_keys() == []


def _flip_ad_mac(body: bytes) -> bytes:
    root = etree.fromstring(body)
    mac = root.find(".//{urn:ietf:params:xml:ns:keyprov:dskpp}AuthenticationCodeMac/{urn:ietf:params:xml:ns:keyprov:dskpp}Mac")
    value = bytearray(__import__("base64").b64decode(mac.text))
    value[0] ^= 1
    mac.text = __import__("base64").b64encode(bytes(value)).decode()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_failure_in_pass_four_ends_the_session(lab):
    code, client_id = lab.issue()
    client = lab.client(17, authentication_code=code)
    nonce = client.receive(lab.post(client.first_request())).body
    session_id = codec.decode(nonce).session_id
    outcome = lab.server.handle(_flip_ad_mac(nonce))
    assert outcome.status is Status.AUTHENTICATION_DATA_INVALID
    assert lab.store.get_session(session_id) is None  # Sec. 3.3: the run is over
    assert lab.server.handle(nonce).status is Status.ABORT  # even the genuine request finds no session
    assert lab.store.list_keys() == [] and lab.store.get_authentication_code(client_id).used_at is None


def test_untrusted_device_certificate_is_access_denied(server_key, device_key, device_certificate, ca_certificate,
                                                       ca_key):
    from .engine_kit import self_signed

    policy = ServerPolicy(rsa_private_key=server_key, trusted_device_issuers=(ca_certificate,))
    lab = Lab(policy)
    code, _ = lab.issue()
    good = lab.client(18, authentication_code=code, variant="two-pass", protection="key-transport",
                      rsa_private_key=device_key, certificate_der=device_certificate)
    assert lab.run(good).status is Status.SUCCESS
    code, _ = lab.issue()
    rogue = self_signed(device_key, "Token 987654321")  # self-signed: not from the trusted CA
    bad = lab.client(19, authentication_code=code, variant="two-pass", protection="key-transport",
                     rsa_private_key=device_key, certificate_der=rogue)
    assert lab.run(bad).status is Status.ACCESS_DENIED
    code, _ = lab.issue()
    bare = lab.client(20, authentication_code=code, variant="two-pass", protection="key-transport",
                      rsa_private_key=device_key)
    assert lab.run(bare).status is Status.ACCESS_DENIED
    assert len(lab.store.list_keys()) == 1


def test_pass_through_mode_accepts_any_device_without_ad(server_key):
    """require_authentication=False: no AD needed (Sec. 3.2.1 authentication left to another layer)."""
    lab = Lab(ServerPolicy(rsa_private_key=server_key, require_authentication=False))
    result = lab.run(lab.client(21))
    assert result.status is Status.SUCCESS
    assert lab.store.list_keys()[0].client_id is None


@pytest.mark.parametrize("config", [{}, {"variant": "two-pass", "protection": "key-wrap", "shared_key": PSK,
                                         "shared_key_name": PSK_NAME}], ids=["four-pass", "two-pass"])
def test_renewing_another_clients_key(lab, config):
    """D-18: renewal needs the AC of the key's Client ID, unless the policy allows
    re-assignment (App. A.6, recycled devices)."""
    from reference.dskpp.store import MemoryTokenStore

    tokens = MemoryTokenStore()
    first = lab.run(lab.client(30, tokens, authentication_code=lab.issue()[0], **config))
    key_id = first.key.key_id
    stranger = lab.client(31, tokens, authentication_code=lab.issue()[0], renew_key_id=key_id, **config)
    assert lab.run(stranger).status is Status.ACCESS_DENIED
    owner = lab.store.get_key(key_id).client_id
    assert lab.run(lab.client(32, tokens, authentication_code=lab.issue(owner)[0], renew_key_id=key_id,
                              **config)).status is Status.SUCCESS
    lab.server.policy = replace(lab.policy, renewal_requires_owner=False)
    recycled = lab.client(33, tokens, authentication_code=lab.issue()[0], renew_key_id=key_id, **config)
    assert lab.run(recycled).status is Status.SUCCESS
    assert lab.store.get_key(key_id).client_id != owner and len(lab.store.list_keys()) == 1
