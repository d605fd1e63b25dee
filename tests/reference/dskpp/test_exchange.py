"""End-to-end DSKPP runs in memory: client.run with post = server.handle (RFC 6063 §4, §5).

Every run checks the outcome against independent expectations: the key in the token
store equals the key in the server's store, and HOTP values computed from each side by
two different implementations (reference.otp and pyotp) match.  Selected runs recompute
K_PROV and the key confirmation MAC from the observed messages with the independent
DSKPP-PRF of independent.py, decrypting with ``cryptography`` / python-pskc directly.
"""

from __future__ import annotations

import base64
import hashlib
import io

import pyotp
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from lxml import etree

from reference.dskpp.messages import Status
from reference.dskpp.policy import ServerPolicy
from reference.dskpp.store import MemoryTokenStore
from reference.otp.hotp import hotp

from .engine_kit import AES_CBC, KW_AES, PRF_AES, PRF_SHA256, PSK, PSK_NAME, RSA_1_5, RSA_OAEP, SERVER_URL, Lab
from .independent import independent_prf

NS = {"dskpp": "urn:ietf:params:xml:ns:keyprov:dskpp", "pskc": "urn:ietf:params:xml:ns:keyprov:pskc",
      "xenc": "http://www.w3.org/2001/04/xmlenc#", "ds": "http://www.w3.org/2000/09/xmldsig#"}
KW_PAD = "http://www.w3.org/2009/xmlenc11#kw-aes-128-pad"


@pytest.fixture
def policy(server_key) -> ServerPolicy:
    return ServerPolicy(rsa_private_key=server_key, shared_keys={PSK_NAME: PSK}, four_pass_shared_key=PSK_NAME,
                        passphrase_wrap_iterations=1000)


def provision(lab: Lab, seed: int, tokens: MemoryTokenStore | None = None, *, trigger: bool = False, **config):
    """Issue an AC, run a client, return (result, token store, client)."""
    tokens = tokens if tokens is not None else MemoryTokenStore()
    ac, client_id = lab.issue()
    if trigger:
        document = lab.server.trigger(client_id=client_id)
        client = lab.client(seed, tokens, **config)
        result = lab.run(client, trigger=document)
    else:
        client = lab.client(seed, tokens, authentication_code=ac, **config)
        result = lab.run(client)
    return result, tokens, client


def assert_same_key(lab: Lab, tokens: MemoryTokenStore, result) -> None:
    assert result.status is Status.SUCCESS and result.key is not None
    token = tokens.get_key(result.key.key_id)
    server = lab.store.get_key(result.key.key_id)
    assert token is not None and server is not None
    assert token.secret == server.secret and len(token.secret) == 20
    assert token.algorithm == server.algorithm == "urn:ietf:params:xml:ns:keyprov:pskc:hotp"
    assert token.attributes == server.attributes
    assert token.k_mac == server.k_mac and token.mac_algorithm == server.mac_algorithm
    # HOTP from each side, by two implementations (RFC 4226).
    for counter in (0, 1, 7):
        server_otp = hotp(server.secret, counter, digits=6)
        client_otp = pyotp.HOTP(base64.b32encode(token.secret).decode(), digits=6).at(counter)
        assert server_otp == client_otp
    assert lab.outcomes[-1].provisioned.fingerprint == result.key.fingerprint


# ----------------------------------------------------------------------------- four-pass
FOUR_PASS_CASES = [
    (RSA_OAEP, PRF_AES), (RSA_OAEP, PRF_SHA256), (RSA_1_5, PRF_AES), (RSA_1_5, PRF_SHA256),
    (PRF_AES, PRF_AES), (PRF_AES, PRF_SHA256), (PRF_SHA256, PRF_AES), (PRF_SHA256, PRF_SHA256),
    (AES_CBC, PRF_SHA256), (KW_AES, PRF_AES),
]


@pytest.mark.parametrize(("encryption", "mac"), FOUR_PASS_CASES)
def test_four_pass(policy, encryption, mac):
    lab = Lab(policy)
    shared = {} if encryption in (RSA_OAEP, RSA_1_5) else {"shared_key": PSK, "shared_key_name": PSK_NAME}
    result, tokens, _ = provision(lab, 11, encryption_algorithms=(encryption,), mac_algorithms=(mac,), **shared)
    assert_same_key(lab, tokens, result)
    hello = etree.fromstring(lab.outcomes[0].body)
    assert hello.findtext("dskpp:EncryptionAlgorithm", namespaces=NS).strip() == encryption
    assert hello.findtext("dskpp:MacAlgorithm", namespaces=NS).strip() == mac
    assert [o.status for o in lab.outcomes] == [Status.CONTINUE, Status.SUCCESS]
    # The AC that authenticated the run is consumed (single use).
    client_id = lab.store.list_keys()[0].client_id
    assert lab.store.get_authentication_code(client_id).used_at == lab.clock()


def _mac_of(document: bytes) -> bytes:
    root = etree.fromstring(document)
    return base64.b64decode("".join(root.findtext("dskpp:Mac", namespaces=NS).split()))


@pytest.mark.parametrize("mac", [PRF_SHA256, PRF_AES])
def test_four_pass_recomputed_independently(policy, server_key, mac):
    """Sec. 4.1.2 and 4.2.4 recomputed from the wire with independent code."""
    lab = Lab(policy)
    result, tokens, client = provision(lab, 12, encryption_algorithms=(RSA_OAEP,), mac_algorithms=(mac,))
    assert result.status is Status.SUCCESS
    hello, server_hello, client_nonce = client.sent
    server_hello_root = etree.fromstring(server_hello)
    r_s = base64.b64decode(server_hello_root.findtext("dskpp:Payload/dskpp:Nonce", namespaces=NS))
    encrypted = base64.b64decode(etree.fromstring(client_nonce).findtext("dskpp:EncryptedNonce", namespaces=NS))
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    r_c = server_key.decrypt(encrypted, oaep)
    spki = server_key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)  # I-3
    # I-5: dsLen = 2 * max(20, MAC key length); I-1: AES keyed with the first 16 octets of R_C.
    mac_key_length = 32 if mac == PRF_SHA256 else 16
    ds_len = 2 * max(20, mac_key_length)
    prf_key = r_c if mac == PRF_SHA256 else r_c[:16]
    k_prov = independent_prf(mac, prf_key, b"Key generation" + spki + r_s, ds_len)
    k_mac, k_token = k_prov[: ds_len // 2], k_prov[ds_len // 2:]
    assert tokens.list_keys()[0].secret == k_token[:20] == lab.store.list_keys()[0].secret
    msg_hash = hashlib.sha256(hello + server_hello + client_nonce).digest()  # Sec. 3.4.3, I-7 raw bytes
    expected = independent_prf(mac, k_mac[:mac_key_length], b"MAC 1 computation" + msg_hash, 32)
    assert _mac_of(lab.outcomes[1].body) == expected


def test_four_pass_shared_key_recomputed_independently(policy):
    """The Sec. 4.2.3 XOR method: R_C = E xor DSKPP-PRF(K_SHARED, "Encryption" || R_S, len)."""
    lab = Lab(policy)
    result, tokens, client = provision(lab, 13, encryption_algorithms=(PRF_SHA256,), mac_algorithms=(PRF_SHA256,),
                                       shared_key=PSK, shared_key_name=PSK_NAME)
    assert result.status is Status.SUCCESS
    hello, server_hello, client_nonce = client.sent
    r_s = base64.b64decode(etree.fromstring(server_hello).findtext("dskpp:Payload/dskpp:Nonce", namespaces=NS))
    encrypted = base64.b64decode(etree.fromstring(client_nonce).findtext("dskpp:EncryptedNonce", namespaces=NS))
    ds = independent_prf(PRF_SHA256, PSK, b"Encryption" + r_s, len(encrypted))
    r_c = bytes(a ^ b for a, b in zip(encrypted, ds))
    k_prov = independent_prf(PRF_SHA256, r_c, b"Key generation" + PSK + r_s, 64)  # I-4: K = the key octets
    assert tokens.list_keys()[0].secret == k_prov[32:52]


# ----------------------------------------------------------------------------- two-pass
TWO_PASS_CASES = [
    ("key-transport", RSA_OAEP, PRF_SHA256), ("key-transport", RSA_1_5, PRF_AES),
    ("key-wrap", AES_CBC, PRF_SHA256), ("key-wrap", KW_AES, PRF_AES), ("key-wrap", KW_PAD, PRF_SHA256),
    ("passphrase", AES_CBC, PRF_AES), ("passphrase", KW_AES, PRF_SHA256),
]


@pytest.mark.parametrize(("protection", "encryption", "mac"), TWO_PASS_CASES)
def test_two_pass(policy, device_key, protection, encryption, mac):
    lab = Lab(policy)
    extra = {"key-transport": {"rsa_private_key": device_key},
             "key-wrap": {"shared_key": PSK, "shared_key_name": PSK_NAME}, "passphrase": {}}[protection]
    result, tokens, _ = provision(lab, 21, variant="two-pass", protection=protection,
                                  encryption_algorithms=(encryption,), mac_algorithms=(mac,), **extra)
    assert_same_key(lab, tokens, result)
    assert len(lab.outcomes) == 1
    finished = etree.fromstring(lab.outcomes[0].body)
    methods = finished.xpath(".//xenc:EncryptionMethod/@Algorithm", namespaces=NS)
    assert methods and set(methods) <= {encryption}


def _python_pskc_secret(container: etree._Element, **credentials) -> bytes:
    """Open our <dskpp:KeyContainer> with python-pskc (an independent PSKC implementation)."""
    import pskc as python_pskc  # python-pskc

    container.tag = "{urn:ietf:params:xml:ns:keyprov:pskc}KeyContainer"
    document = python_pskc.PSKC(io.BytesIO(etree.tostring(container)))
    if "key" in credentials:
        document.encryption.key = credentials["key"]
    if "passphrase" in credentials:
        document.encryption.derive_key(credentials["passphrase"])
    return document.keys[0].secret


@pytest.mark.parametrize("protection", ["key-wrap", "passphrase"])
def test_two_pass_recomputed_independently(policy, protection):
    """K_PROV opened by python-pskc; the Sec. 5.2.2 key confirmation MAC recomputed."""
    lab = Lab(policy)
    extra = {"shared_key": PSK, "shared_key_name": PSK_NAME} if protection == "key-wrap" else {}
    result, tokens, client = provision(lab, 22, variant="two-pass", protection=protection,
                                       encryption_algorithms=(AES_CBC,), mac_algorithms=(PRF_SHA256,), **extra)
    assert result.status is Status.SUCCESS
    finished = etree.fromstring(lab.outcomes[0].body)
    container = finished.find("dskpp:KeyPackage/dskpp:KeyContainer", namespaces=NS)
    if protection == "key-wrap":
        k_prov = _python_pskc_secret(container, key=PSK)
    else:  # I-31: the passphrase is the AC password, ds:KeyName the Client ID
        code = lab.store.list_keys()[0].client_id
        k_prov = _python_pskc_secret(container, passphrase=lab.store.get_authentication_code(code).password)
    assert len(k_prov) == 64  # Sec. 5.2.2 example: HOTP 20 octets with DSKPP-PRF-SHA256
    k_mac, k_token = k_prov[:32], k_prov[32:]
    assert tokens.list_keys()[0].secret == k_token[:20]
    hello = client.sent[0]
    r = base64.b64decode(etree.fromstring(hello).findtext("dskpp:ClientNonce", namespaces=NS))
    server_id = finished.findtext("dskpp:KeyPackage/dskpp:ServerID", namespaces=NS).encode()
    msg_hash = hashlib.sha256(hello).digest()
    expected = independent_prf(PRF_SHA256, k_mac, b"MAC 1 computation" + msg_hash + server_id, 32)
    assert _mac_of(lab.outcomes[0].body) == expected


def test_two_pass_key_transport_opened_with_cryptography(policy, device_key):
    lab = Lab(policy)
    result, tokens, _ = provision(lab, 23, variant="two-pass", protection="key-transport",
                                  rsa_private_key=device_key, encryption_algorithms=(RSA_OAEP,))
    assert result.status is Status.SUCCESS
    finished = etree.fromstring(lab.outcomes[0].body)
    cipher_value = finished.findtext(".//pskc:Secret/pskc:EncryptedValue/xenc:CipherData/xenc:CipherValue",
                                     namespaces=NS)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    k_prov = device_key.decrypt(base64.b64decode(cipher_value), oaep)
    half = len(k_prov) // 2
    assert tokens.list_keys()[0].secret == k_prov[half:half + 20]


def test_two_pass_key_wrap_cbc_opened_with_cryptography(policy):
    lab = Lab(policy)
    result, tokens, _ = provision(lab, 24, variant="two-pass", protection="key-wrap", shared_key=PSK,
                                  shared_key_name=PSK_NAME, encryption_algorithms=(AES_CBC,), mac_algorithms=(PRF_AES,))
    finished = etree.fromstring(lab.outcomes[0].body)
    data = base64.b64decode(finished.findtext(".//pskc:Secret//xenc:CipherValue", namespaces=NS))
    decryptor = Cipher(algorithms.AES(PSK), modes.CBC(data[:16])).decryptor()
    plain = decryptor.update(data[16:]) + decryptor.finalize()
    k_prov = plain[: -plain[-1]]
    assert len(k_prov) == 40  # 2 * max(20, 16)
    assert tokens.list_keys()[0].secret == k_prov[20:40]


# ----------------------------------------------------------------------------- trigger
@pytest.mark.parametrize("config", [
    {},
    {"encryption_algorithms": (PRF_AES,), "shared_key": PSK, "shared_key_name": PSK_NAME},
    {"variant": "two-pass", "protection": "key-wrap", "shared_key": PSK, "shared_key_name": PSK_NAME},
    {"variant": "two-pass", "protection": "key-transport"},
], ids=["four-pass-rsa", "four-pass-shared", "two-pass-wrap", "two-pass-transport"])
def test_after_trigger(policy, device_key, config):
    lab = Lab(policy)
    if config.get("protection") == "key-transport":
        config = {**config, "rsa_private_key": device_key}
    result, tokens, client = provision(lab, 31, trigger=True, server_url=None, **config)
    assert_same_key(lab, tokens, result)
    # The hello repeats the trigger's AD (Sec. 4.2.2), and URL_S came from the trigger.
    trigger_ad = etree.fromstring(client.trigger.document).find(".//dskpp:AuthenticationData", namespaces=NS)
    hello_ad = etree.fromstring(client.sent[0]).find("dskpp:AuthenticationData", namespaces=NS)
    assert etree.tostring(trigger_ad, method="c14n", exclusive=True) == etree.tostring(
        hello_ad, method="c14n", exclusive=True)
    assert client.server_url == SERVER_URL
    assert lab.store.get_key(result.key.key_id).client_id is not None


def test_two_pass_passphrase_after_trigger_asks_for_the_ac_password(policy):
    lab = Lab(policy)
    _, client_id = lab.issue()
    password = lab.store.get_authentication_code(client_id).password
    document = lab.server.trigger(client_id=client_id)
    tokens = MemoryTokenStore()
    client = lab.client(32, tokens, variant="two-pass", protection="passphrase", passphrase=password)
    result = lab.run(client, trigger=document)
    assert_same_key(lab, tokens, result)


# ----------------------------------------------------------------------------- renewal
@pytest.mark.parametrize("config", [
    {},
    {"encryption_algorithms": (PRF_SHA256,), "mac_algorithms": (PRF_SHA256,), "shared_key": PSK,
     "shared_key_name": PSK_NAME},
    {"variant": "two-pass", "protection": "key-wrap", "shared_key": PSK, "shared_key_name": PSK_NAME},
    {"variant": "two-pass", "protection": "passphrase", "mac_algorithms": (PRF_SHA256,)},
], ids=["four-pass-rsa", "four-pass-shared", "two-pass-wrap", "two-pass-passphrase"])
@pytest.mark.parametrize("by_trigger", [False, True], ids=["renew_key_id", "trigger-keyid"])
def test_key_renewal(policy, config, by_trigger):
    lab = Lab(policy)
    first, tokens, _ = provision(lab, 41, **config)
    assert first.status is Status.SUCCESS
    key_id = first.key.key_id
    old_secret = tokens.get_key(key_id).secret
    client_id = lab.store.get_key(key_id).client_id
    ac, _ = lab.issue(client_id)  # the first AC is used up; the user registers again
    if by_trigger:
        document = lab.server.trigger(client_id=client_id, key_id=key_id.encode())
        if config.get("protection") == "passphrase":  # the trigger carries AD only (I-31)
            config = {**config, "passphrase": lab.store.get_authentication_code(client_id).password}
        client = lab.client(42, tokens, **config)
        result = lab.run(client, trigger=document)
    else:
        client = lab.client(42, tokens, authentication_code=ac, renew_key_id=key_id, **config)
        result = lab.run(client)
    assert_same_key(lab, tokens, result)
    assert result.key.key_id == key_id  # App. A.5: the key ID stays
    assert tokens.get_key(key_id).secret != old_secret
    assert len(tokens.list_keys()) == 1 and len(lab.store.list_keys()) == 1
    response = lab.outcomes[-2 if config.get("variant") != "two-pass" else -1].body
    if config.get("variant") == "two-pass":  # Sec. 5.2.3: server authentication MAC as AD
        assert etree.fromstring(response).find("dskpp:AuthenticationData/dskpp:Mac", namespaces=NS) is not None
    else:  # Sec. 4.2.3: the MAC in <KeyProvServerHello>
        assert etree.fromstring(response).find("dskpp:Mac", namespaces=NS) is not None


def test_renewal_mac_recomputed_independently(policy):
    """Four-pass renewal MAC under the default readings I-9..I-11:
    DSKPP-PRF(previous K_MAC, "MAC 2 computation" || R_S, len(R_S))."""
    lab = Lab(policy)
    first, tokens, _ = provision(lab, 43, mac_algorithms=(PRF_SHA256,))
    key_id = first.key.key_id
    previous_k_mac = tokens.get_key(key_id).k_mac
    ac, _ = lab.issue(lab.store.get_key(key_id).client_id)
    client = lab.client(44, tokens, authentication_code=ac, renew_key_id=key_id, mac_algorithms=(PRF_SHA256,))
    assert lab.run(client).status is Status.SUCCESS
    server_hello = etree.fromstring(client.sent[1])
    r_s = base64.b64decode(server_hello.findtext("dskpp:Payload/dskpp:Nonce", namespaces=NS))
    mac = server_hello.find("dskpp:Mac", namespaces=NS)
    assert mac.get("MacAlgorithm") == PRF_SHA256
    expected = independent_prf(PRF_SHA256, previous_k_mac, b"MAC 2 computation" + r_s, len(r_s))
    assert base64.b64decode(mac.text) == expected


# ----------------------------------------------------------------------------- replay
@pytest.mark.parametrize("config", [
    {"encryption_algorithms": (RSA_OAEP,)},
    {"variant": "two-pass", "protection": "key-transport"},
    {"variant": "two-pass", "protection": "key-wrap", "shared_key": PSK, "shared_key_name": PSK_NAME},
], ids=["four-pass-oaep", "two-pass-transport", "two-pass-wrap"])
def test_same_seed_and_clock_replay_byte_for_byte(policy, device_key, config):
    if config.get("protection") == "key-transport":
        config = {**config, "rsa_private_key": device_key, "encryption_algorithms": (RSA_1_5,)}

    def exchange() -> list[bytes]:
        lab = Lab(policy, seed=7)
        _, _, client = provision(lab, 51, **config)
        return list(client.sent) + [o.body for o in lab.outcomes]

    first, second = exchange(), exchange()
    assert first == second and all(first)


def test_different_seeds_give_different_keys(policy):
    a, tokens_a, _ = provision(Lab(policy, seed=1), 61)
    b, tokens_b, _ = provision(Lab(policy, seed=2), 62)
    assert tokens_a.list_keys()[0].secret != tokens_b.list_keys()[0].secret
