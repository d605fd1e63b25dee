"""DSKPP protocol suite, server under test (RFC 6063).

The lab's peer is the reference client engine, driven step by step (protocol_kit): every
variant and algorithm the server claims (``dskpp-server.endpoint``) provisions a key the
client can confirm and the server stores (``dskpp-server.key`` when offered); then the
refusals - each provoked by one defect in otherwise valid messages - must carry the
Sec. 3.3 status of the RFC in the PDU the RFC names, and no key.

Readings for statuses the RFC leaves open (docs/dskpp-interpretations.md D-11): a replayed
nonce, a reused or expired session and a message out of order have no status of their
own; any failure status is accepted (Sec. 3.3 "Abort ... for unspecified reasons" is the
reference's), but not Continue or Success.  A corrupted <EncryptedNonce> may surface as
InitializationFailed (R_C cannot be recovered) or as AuthenticationDataInvalid (the AD MAC
covers R_C, Sec. 3.4.1.2, so a server that recovers some other R_C fails the AD check).
"""

from __future__ import annotations

import time

import pytest

from harness import evidence
from harness.cases import NonConformance, case, require
from harness.errors import ProtocolError, Unsupported
from harness.roles.dskpp import ENCRYPTION, FOUR_PASS, KEY_TYPES, MAC, PROTECTIONS, TWO_PASS, capability
from reference.dskpp import codec
from reference.dskpp.authcode import format_authentication_code
from reference.dskpp.messages import (
    KeyProtectionOffer,
    KeyProvClientNonce,
    KeyProvServerFinished,
    KeyProvServerHello,
    ProtocolVariants,
    Status,
)
from reference.dskpp.negotiation import METHOD_ALGORITHMS
from reference.dskpp.store import MemoryTokenStore
from suites.dskpp import protocol_kit as kit

KPLAB_SUITE = "dskpp.protocol.server"
SUBJECT = "dskpp_server"
TWO_PASS_COMBOS = [(p, name) for p, uri in PROTECTIONS.items() for name, alg in ENCRYPTION.items()
                   if alg in METHOD_ALGORITHMS[uri]]
FAIL = kit.FAILURE_STATUSES


def _ac(server):  # noqa: ANN001, ANN202
    return server.issue().authentication_code


def _provision(server, spec, **kw):  # noqa: ANN001, ANN202
    client = kit.make_client(server, ac=kw.pop("ac", None) or _ac(server), **kw)
    result = kit.complete(server, client, trigger=kw.get("trigger"))
    return kit.provisioned(server, result, spec), client


# ----------------------------------------------------------------------------- variants and algorithms
@case("four-pass-encryption", spec="RFC 6063 §4.2.3, §4.2.4; §9 e., g.", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("encryption", list(ENCRYPTION))
def test_four_pass_encryption(server, encryption):
    """Every R_C encryption algorithm the server claims works in four-pass."""
    _provision(server, "RFC 6063 §4.2.3-4.2.5", encryption=ENCRYPTION[encryption])


@case("four-pass-mac", spec="RFC 6063 §4.2.3, §4.2.5; §9 d., h.; App. D", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("mac", list(MAC))
def test_four_pass_mac(server, mac):
    endpoint = server.endpoint()
    encryption = kit.four_pass_encryptions(endpoint, server.name)[0]
    _provision(server, "RFC 6063 §4.2.5", mac=MAC[mac], encryption=encryption)


@case("two-pass", spec="RFC 6063 §5.1, §5.2.2, §5.2.3; §9 f., g., i.", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("protection,encryption", TWO_PASS_COMBOS, ids=[f"{p}-{e}" for p, e in TWO_PASS_COMBOS])
def test_two_pass(server, protection, encryption):
    """Every key protection method and algorithm the server claims works in two-pass."""
    _provision(server, "RFC 6063 §5.2.3", variant=TWO_PASS, protection=protection, encryption=ENCRYPTION[encryption])


@case("two-pass-mac", spec="RFC 6063 §5.2.2, §5.2.3; §9 h.; App. D", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("mac", list(MAC))
def test_two_pass_mac(server, mac):
    _provision(server, "RFC 6063 §5.2.3", variant=TWO_PASS, mac=MAC[mac])


@case("key-type", spec="RFC 6063 §4.2.2, §4.2.3 (KeyType); RFC 6030 §10", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("key_type", list(KEY_TYPES))
def test_key_type(server, key_type):
    endpoint = server.endpoint()
    variant = FOUR_PASS if FOUR_PASS in endpoint.variants else TWO_PASS
    key, _ = _provision(server, "RFC 6063 §4.2.3", variant=variant, key_type=KEY_TYPES[key_type])
    if key.algorithm != KEY_TYPES[key_type]:
        raise NonConformance(f"the key package names algorithm {key.algorithm}, not the negotiated {KEY_TYPES[key_type]}")


@case("key-confirmation", spec="RFC 6063 §4.2.5, §5.2.3, §10.6.2", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("variant", [FOUR_PASS, TWO_PASS])
def test_key_confirmation(server, variant):
    """The key confirmation MAC verifies (the lab's client checks it over msg_hash, Sec. 3.4.3)
    and the server holds the very key the client derived."""
    kit.need(variant in server.endpoint().variants, server.name, f"the {variant} variant")
    client = kit.make_client(server, ac=_ac(server), variant=variant)
    result = kit.complete(server, client)
    key = kit.provisioned(server, result, "RFC 6063 §4.2.5" if variant == FOUR_PASS else "RFC 6063 §5.2.3")
    try:
        stored = server.key(key.key_id)
    except Unsupported:
        stored = None  # the MAC alone confirms the key then
    if stored is not None and stored.get("hotp") is not None:
        from reference.otp.hotp import hotp

        held = client.tokens.get_key(key.key_id)
        if stored["hotp"] != [hotp(held.secret, c, digits=len(stored["hotp"][0])) for c in range(3)]:
            raise NonConformance(f"{server.name}'s key gives other HOTP values than the confirmed key (RFC 4226)")
    evidence.attach("text", "key confirmation", f"MAC verified by the reference client; key {key.key_id} {key.fingerprint}")


@case("client-info-echo", spec="RFC 6063 §6.1", level="MUST", subject=SUBJECT)
def test_client_info_echo(server):
    """ClientInfoType data comes back unmodified in the next response (the client checks)."""
    _provision(server, "RFC 6063 §6.1", variant=FOUR_PASS if FOUR_PASS in server.endpoint().variants else TWO_PASS,
               client_info=b"keyprov-lab client info \x00\x01")


@case("trigger", spec="RFC 6063 §3.2.3, §4.2.1, §4.2.2", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("variant", [FOUR_PASS, TWO_PASS])
def test_trigger(server, variant):
    require(server.adapter, capability("trigger", "trigger"))
    kit.need(variant in server.endpoint().variants, server.name, f"the {variant} variant")
    trigger = server.trigger()
    evidence.attach("file", "trigger.xml", trigger, "application/xml")
    client = kit.make_client(server, ac=None, variant=variant)
    kit.provisioned(server, kit.complete(server, client, trigger=trigger), "RFC 6063 §4.2.1")


@case("renewal", spec="RFC 6063 §4.2.2, §4.2.3 (MAC), §5.2.2, §5.2.3; App. A.5", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("variant", [FOUR_PASS, TWO_PASS])
def test_renewal(server, variant):
    """A key is replaced under its KeyID; the server authenticates itself with K_MAC'."""
    require(server.adapter, capability("renewal", "renewal"))
    kit.need(variant in server.endpoint().variants, server.name, f"the {variant} variant")
    first = server.issue()
    tokens = MemoryTokenStore()
    old, _ = _provision(server, "RFC 6063 §4.2.5", ac=first.authentication_code, variant=variant, tokens=tokens)
    again = server.issue(first.client_id)
    kit.need(again.client_id == first.client_id, server.name, "a second AC for the key owner's Client ID")
    new, _ = _provision(server, "RFC 6063 §4.2.5", ac=again.authentication_code, variant=variant, tokens=tokens,
                        renew_key_id=old.key_id)
    if new.key_id != old.key_id:
        raise NonConformance(f"the renewed key has id {new.key_id}, not {old.key_id} (App. A.5: the key ID stays)")
    if new.fingerprint == old.fingerprint:
        raise NonConformance("renewal delivered the same key again")


@case("negotiation", spec="RFC 6063 §4.2.2, §4.2.3 (\"selected from the SAL that it received\")", level="MUST",
      subject=SUBJECT)
def test_negotiation_to_a_common_algorithm(server):
    """Unknown entries first in every SAL list: the server picks entries it supports."""
    client = kit.make_client(server, ac=_ac(server))
    hello = client.engine.first_request()
    message = codec.decode(hello)
    offered = kit.rewrite(
        hello, supported_key_types=(kit.UNKNOWN["key-type"], *message.supported_key_types),
        supported_encryption_algorithms=(kit.UNKNOWN["encryption"], *message.supported_encryption_algorithms),
        supported_mac_algorithms=(kit.UNKNOWN["mac"], *message.supported_mac_algorithms),
        supported_key_packages=(kit.UNKNOWN["key-package"], *message.supported_key_packages),
    )
    client.engine.sent[0] = offered  # msg_hash covers the hello as sent (Sec. 3.4.3)
    answer = server.post(offered)
    reply = kit.dskpp_answer(server, answer)
    if not isinstance(reply, KeyProvServerHello) or reply.status is not Status.CONTINUE:
        raise NonConformance(f"{server.name} answered {type(reply).__name__} {reply.status.value} although every list "
                             "held an entry it claims (RFC 6063 §4.2.2)")
    chosen = (reply.key_type, reply.encryption_algorithm, reply.mac_algorithm, reply.key_package_format)
    if any(c in kit.UNKNOWN.values() for c in chosen):
        raise NonConformance(f"{server.name} selected an entry it cannot support: {chosen}")
    try:
        following = client.engine.receive(answer.body)
        last = server.post(following.body)
        kit.dskpp_answer(server, last)
        result = client.engine.receive(last.body)
    except ProtocolError as exc:
        raise NonConformance(f"the run after negotiation failed: {exc.status}: {exc}") from None
    kit.provisioned(server, result, "RFC 6063 §4.2.5")


# ----------------------------------------------------------------------------- refusals: first response
def _first_hello(server, **config):  # noqa: ANN001, ANN202
    """A valid first hello and the PDU a refusal of it comes in: four-pass when claimed
    (Sec. 4.2.3: <KeyProvServerHello> "with a failure status"), else two-pass with a valid
    AD (Sec. 5.2.3: <KeyProvServerFinished>), so only the defect under test is wrong."""
    if FOUR_PASS in server.endpoint().variants:
        return kit.make_client(server, ac=None, **config).engine.first_request(), KeyProvServerHello
    client = kit.make_client(server, ac=_ac(server), variant=TWO_PASS, **config)
    return client.engine.first_request(), KeyProvServerFinished


@case("unsupported-version", spec="RFC 6063 §3.3 (UnsupportedVersion), §1.2, §4.2.3", level="MUST", subject=SUBJECT)
def test_unsupported_version(server):
    hello, pdu = _first_hello(server, version="2.0")
    kit.expect_refusal(server, server.post(hello), {"UnsupportedVersion"}, pdu, "RFC 6063 §3.3, §4.2.3")


NO_COMMON = {
    "key-type": ("NoSupportedKeyTypes", {"supported_key_types": (kit.UNKNOWN["key-type"],)}),
    "encryption": ("NoSupportedEncryptionAlgorithms", {"supported_encryption_algorithms": (kit.UNKNOWN["encryption"],)}),
    "mac": ("NoSupportedMacAlgorithms", {"supported_mac_algorithms": (kit.UNKNOWN["mac"],)}),
    "key-package": ("NoSupportedKeyPackages", {"supported_key_packages": (kit.UNKNOWN["key-package"],)}),
    "variant": ("NoProtocolVariants", {}),
}


@case("no-common-algorithm", spec="RFC 6063 §3.3, §4.2.2, §4.2.3, §5.2.2", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("element", list(NO_COMMON))
def test_no_common_algorithm(server, element):
    """A SAL list with nothing the server supports gets that list's Sec. 3.3 status."""
    status, changes = NO_COMMON[element]
    hello, pdu = _first_hello(server)
    if element == "variant":  # two-pass only, with a key protection method nobody knows
        offer = KeyProtectionOffer(kit.UNKNOWN["protection"], None)
        changes = {"supported_protocol_variants": ProtocolVariants(two_pass=(offer,)), "client_nonce": b"\x5a" * 32}
        pdu = None  # which PDU answers a hello offering no usable variant is not said (D-9)
    answer = server.post(kit.rewrite(hello, **changes))
    kit.expect_refusal(server, answer, {status}, pdu, f"RFC 6063 §3.3 ({status})")


@case("unknown-critical-extension", spec="RFC 6063 §3.3 (UnknownCriticalExtension), §6", level="MUST", subject=SUBJECT)
def test_unknown_critical_extension(server):
    hello, pdu = _first_hello(server)
    if pdu is KeyProvServerFinished:  # a two-pass hello the server cannot interpret: either PDU (D-9, D-10)
        pdu = None
    answer = server.post(kit.with_critical_extension(hello))
    kit.expect_refusal(server, answer, {"UnknownCriticalExtension"}, pdu, "RFC 6063 §3.3, §6")


# ----------------------------------------------------------------------------- refusals: user authentication
def _four_pass_until_nonce(server, client):  # noqa: ANN001, ANN202
    """Hello and ServerHello; the <KeyProvClientNonce> the client would send."""
    answer = server.post(client.engine.first_request())
    reply = kit.dskpp_answer(server, answer)
    if not isinstance(reply, KeyProvServerHello) or reply.status is not Status.CONTINUE:
        raise NonConformance(f"{server.name} answered {reply.status.value} to a valid four-pass hello (RFC 6063 §4.2.3)")
    try:
        return client.engine.receive(answer.body).body
    except ProtocolError as exc:
        raise NonConformance(f"the lab's client refused {server.name}'s <KeyProvServerHello>: {exc}") from None


@case("bad-authentication-data", spec="RFC 6063 §3.3 (AuthenticationDataInvalid), §3.4.1.2, §4.2.4, §5.2.2",
      level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("variant", [FOUR_PASS, TWO_PASS])
def test_bad_authentication_data(server, variant):
    """One bit of the AD MAC flipped: the server MUST authenticate the user with AD."""
    kit.need(server.endpoint().requires_authentication, server.name, "user authentication (Sec. 3.2.1, §9 c.)")
    kit.need(variant in server.endpoint().variants, server.name, f"the {variant} variant")
    client = kit.make_client(server, ac=_ac(server), variant=variant)
    if variant == FOUR_PASS:
        body = kit.flip_ad_mac(_four_pass_until_nonce(server, client))
    else:
        body = kit.flip_ad_mac(client.engine.first_request())
    kit.expect_refusal(server, server.post(body), {"AuthenticationDataInvalid"}, KeyProvServerFinished,
                       "RFC 6063 §3.3, §4.2.4" if variant == FOUR_PASS else "RFC 6063 §3.3, §5.2.2")


@case("wrong-authentication-code", spec="RFC 6063 §3.3 (AuthenticationDataInvalid), §3.2.1, §3.4.1", level="MUST",
      subject=SUBJECT)
@pytest.mark.parametrize("variant", [FOUR_PASS, TWO_PASS])
def test_wrong_authentication_code(server, variant):
    """An AC with the issued Client ID but another password."""
    kit.need(server.endpoint().requires_authentication, server.name, "user authentication")
    kit.need(variant in server.endpoint().variants, server.name, f"the {variant} variant")
    issued = server.issue()
    from reference.dskpp.authcode import parse_authentication_code

    password = parse_authentication_code(issued.authentication_code, verify_checksum=False).password
    other = "".join("0123456789ABCDEF"[("0123456789ABCDEF".index(c.upper()) + 1) % 16] for c in password)
    wrong = format_authentication_code(issued.client_id, other, with_checksum=True)
    evidence.secret(wrong)
    client = kit.make_client(server, ac=wrong, variant=variant)
    body = _four_pass_until_nonce(server, client) if variant == FOUR_PASS else client.engine.first_request()
    kit.expect_refusal(server, server.post(body), {"AuthenticationDataInvalid"}, KeyProvServerFinished,
                       "RFC 6063 §3.3, §3.4.1.2")


@case("missing-authentication-data", spec="RFC 6063 §3.3 (AuthenticationDataMissing), §4.2.4, §5.2.2", level="MUST",
      subject=SUBJECT)
@pytest.mark.parametrize("variant", [FOUR_PASS, TWO_PASS])
def test_missing_authentication_data(server, variant):
    kit.need(server.endpoint().requires_authentication, server.name, "user authentication")
    kit.need(variant in server.endpoint().variants, server.name, f"the {variant} variant")
    if variant == FOUR_PASS:
        client = kit.make_client(server, ac=None)
        body = _four_pass_until_nonce(server, client)
    else:
        protection = kit.default_protection(server.endpoint(), server.name)
        kit.need(protection != "passphrase", server.name, "two-pass key wrap or key transport")
        body = kit.make_client(server, ac=None, variant=TWO_PASS, protection=protection).engine.first_request()
    kit.expect_refusal(server, server.post(body), {"AuthenticationDataMissing"}, KeyProvServerFinished,
                       "RFC 6063 §3.3, §4.2.4" if variant == FOUR_PASS else "RFC 6063 §3.3, §5.2.2")


# ----------------------------------------------------------------------------- refusals: replays, sessions, order
@case("replayed-nonce", spec="RFC 6063 §10.2.5, §3.3 (Abort); reading D-19", level="SHOULD", subject=SUBJECT)
@pytest.mark.parametrize("variant", [FOUR_PASS, TWO_PASS])
def test_replayed_nonce(server, variant):
    """A second run, valid in every other respect (fresh AC, fresh session), reuses the
    client nonce of a completed run: R_C (four-pass) or R (two-pass)."""
    kit.need(variant in server.endpoint().variants, server.name, f"the {variant} variant")
    kw = {"variant": variant}
    if variant == FOUR_PASS:  # RSA: the same R_C gives the same <EncryptedNonce> octets
        rsa = [a for a in kit.four_pass_encryptions(server.endpoint(), server.name) if "rsa" in a]
        kw["encryption"] = rsa[0] if rsa else None
    first = kit.make_client(server, ac=_ac(server), **kw)
    key = kit.provisioned(server, kit.complete(server, first), "RFC 6063 §4.2.5")
    replay = kit.make_client(server, ac=_ac(server), random=first.random.replay(), **kw)
    if variant == FOUR_PASS:
        body = _four_pass_until_nonce(server, replay)
        pdu = KeyProvServerFinished
    else:
        body = replay.engine.first_request()
        pdu = KeyProvServerFinished
    kit.expect_refusal(server, server.post(body), FAIL, pdu, "RFC 6063 §10.2.5 (a nonce is single use; D-19)")
    kit.check_server_key(server, key.key_id, key.fingerprint)  # the first key is untouched


@case("reused-session", spec="RFC 6063 §3.3 (\"MUST immediately terminate\"; identifiers \"MUST NOT be reused\"), "
      "§7.2.3", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("after", ["success", "failure"])
def test_reused_session(server, after):
    """The <KeyProvClientNonce> of a finished run sent again."""
    kit.need(FOUR_PASS in server.endpoint().variants, server.name, "the four-pass variant")
    client = kit.make_client(server, ac=_ac(server))
    nonce = _four_pass_until_nonce(server, client)
    if after == "success":
        first = kit.dskpp_answer(server, server.post(nonce))
        if first.status is not Status.SUCCESS:
            raise NonConformance(f"{server.name} refused a valid <KeyProvClientNonce> with {first.status.value}")
    else:
        kit.expect_refusal(server, server.post(kit.flip_ad_mac(nonce)), FAIL, KeyProvServerFinished, "RFC 6063 §4.2.4")
    kit.expect_refusal(server, server.post(nonce), FAIL, KeyProvServerFinished, "RFC 6063 §3.3")


@case("expired-session", spec="RFC 6063 §3.3 (Abort), §7.2.3; server's session lifetime", level="SHOULD",
      subject=SUBJECT)
def test_expired_session(server, kplab_profile):
    endpoint = server.endpoint()
    kit.need(FOUR_PASS in endpoint.variants, server.name, "the four-pass variant")
    limit = 15.0 if kplab_profile == "quick" else 330.0
    kit.need(endpoint.session_timeout_s is not None and endpoint.session_timeout_s <= limit, server.name,
             f"a session lifetime (endpoint session_timeout_s) of at most {limit:g}s for this profile")
    client = kit.make_client(server, ac=_ac(server))
    nonce = _four_pass_until_nonce(server, client)
    time.sleep(endpoint.session_timeout_s + 0.5)
    kit.expect_refusal(server, server.post(nonce), FAIL, KeyProvServerFinished, "RFC 6063 §3.3 (an expired session)")


@case("out-of-order", spec="RFC 6063 §10.2.6, §7.2.3, §7.2.4", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("order", ["nonce-unknown-session", "nonce-after-two-pass", "server-message"])
def test_out_of_order(server, order):
    endpoint = server.endpoint()
    if order == "server-message":  # Sec. 7.2.4: "not a DSKPP Client message" -> 400
        body = codec.encode(KeyProvServerHello(version="1.0", status=Status.ABORT, session_id="0" * 32))
        answer = server.post(body)
        evidence.attach("text", "verdict", f"HTTP {answer.status_code}")
        if answer.status_code != 400:
            raise NonConformance(f"{server.name} answered HTTP {answer.status_code} to a <KeyProvServerHello>; RFC 6063 "
                                 "§7.2.4: a request that is not a DSKPP Client message MUST get 400")
        return
    if order == "nonce-unknown-session":
        session = "6b706c61622d6e657665722d69737375"  # never issued
    else:
        kit.need(TWO_PASS in endpoint.variants, server.name, "the two-pass variant")
        client = kit.make_client(server, ac=_ac(server), variant=TWO_PASS)
        answer = server.post(client.engine.first_request())
        finished = kit.dskpp_answer(server, answer)
        kit.need(finished.session_id, server.name, "a SessionID in two-pass responses")
        session = finished.session_id
    stray = KeyProvClientNonce(version="1.0", session_id=session, encrypted_nonce=b"\x42" * 256)
    kit.expect_refusal(server, server.post(codec.encode(stray)), FAIL, KeyProvServerFinished,
                       "RFC 6063 §10.2.6 (each message is of a unique type), §7.2.3")


@case("corrupted-encrypted-nonce", spec="RFC 6063 §3.3 (InitializationFailed), §4.2.4", level="MUST", subject=SUBJECT)
def test_corrupted_encrypted_nonce(server):
    endpoint = server.endpoint()
    usable = kit.four_pass_encryptions(endpoint, server.name)
    rsa = [a for a in usable if a in (ENCRYPTION["rsa-oaep"], ENCRYPTION["rsa-oaep-11"])] or list(usable)
    client = kit.make_client(server, ac=_ac(server), encryption=rsa[0])
    body = kit.corrupt_encrypted_nonce(_four_pass_until_nonce(server, client))
    kit.expect_refusal(server, server.post(body), {"InitializationFailed", "AuthenticationDataInvalid"},
                       KeyProvServerFinished, "RFC 6063 §3.3 (InitializationFailed), §4.2.4")


@case("claims", spec="RFC 6063 §9", level="INFO", subject=SUBJECT)
def test_claims(server):
    """What the server claims, and which claims the lab has no case for (unknown URIs)."""
    endpoint = server.endpoint()
    known = set(ENCRYPTION.values()) | set(MAC.values()) | set(KEY_TYPES.values())
    claimed = [*endpoint.encryption_algorithms, *endpoint.mac_algorithms, *endpoint.key_types]
    lines = [f"variants: {', '.join(endpoint.variants)}",
             f"two-pass protections: {', '.join(endpoint.two_pass_protections) or '-'}",
             f"user authentication required: {endpoint.requires_authentication}"]
    lines += [f"claimed, exercised: {uri}" for uri in claimed if uri in known]
    lines += [f"claimed, no case in this lab: {uri}" for uri in claimed if uri not in known]
    for name, required in (("four-pass", "§9 a."), ("two-pass", "§9 b.")):
        if name not in endpoint.variants:
            lines.append(f"note: the {name} variant is not claimed; RFC 6063 {required} requires servers to implement it")
    evidence.attach("text", "claims", "\n".join(lines))
