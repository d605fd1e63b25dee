"""DSKPP protocol suite, client under test (RFC 6063).

The lab's peer is reference/dskpp/peer.py: the reference server engine serving HTTP on a
loopback port, reconfigured per case.  It picks each variant and algorithm (its policy is
narrowed to the one under test, so the client must offer it), and it misbehaves on
purpose: a wrong key confirmation MAC, a wrong server authentication MAC, a response bound
to other nonces or another session, a key package without a key, a status where it does
not belong.  Whatever the client reports, its module must not change: ``provision`` must
say ``"stored": false`` and ``dskpp-client.keys`` must list the same keys as before
(Sec. 4.2.5, 5.2.3, 10.2.3: "a cryptographic module MUST NOT change its state ... until it
... successfully has processed that message, including validation of its MAC").

A client claims what it supports through capabilities (docs/adapters.md, "DSKPP roles"):
``dskpp.four-pass``, ``dskpp.two-pass.<protection>``, ``dskpp.encryption.<name>``,
``dskpp.mac.<name>``, ``dskpp.key-type.<name>``, ``dskpp.trigger``, ``dskpp.renewal``.
"""

from __future__ import annotations

import pytest

from harness import evidence
from harness.cases import NonConformance, case, require
from harness.errors import AdapterGarbage
from harness.roles.dskpp import ENCRYPTION, FOUR_PASS, KEY_TYPES, MAC, PROTECTIONS, TWO_PASS, capability
from reference.dskpp.negotiation import FOUR_PASS_SYMMETRIC, METHOD_ALGORITHMS
from reference.dskpp.peer import Script
from reference.dskpp.policy import KeyTypePolicy
from suites.dskpp.conftest import PEER_PSK_NAME

KPLAB_SUITE = "dskpp.protocol.client"
SUBJECT = "dskpp_client"
TWO_PASS_COMBOS = [(p, name) for p, uri in PROTECTIONS.items() for name, alg in ENCRYPTION.items()
                   if alg in METHOD_ALGORITHMS[uri]]


# ----------------------------------------------------------------------------- helpers
def _psk(peer) -> dict[str, str]:  # noqa: ANN001
    key = peer.policy.shared_keys[PEER_PSK_NAME]
    evidence.secret(key)
    return {"shared_key_hex": key.hex(), "shared_key_name": PEER_PSK_NAME}


def _protection(client) -> str:  # noqa: ANN001
    """The two-pass key protection a misbehaviour case uses: the first the client claims."""
    for protection in ("key-wrap", "key-transport", "passphrase"):
        if client.adapter.spec.has(capability("protection", protection)):
            return protection
    require(client.adapter, capability("variant", TWO_PASS))
    return "key-wrap"


def _params(peer, client, variant: str, protection: str | None = None, **extra):  # noqa: ANN001, ANN202
    require(client.adapter, capability("variant", variant) if variant == FOUR_PASS else capability("protection", protection))
    code, _ = peer.issue_ac(extra.pop("client_id", None))
    evidence.secret(code)
    params = {"url": peer.url, "authentication_code": code, "variant": variant, **_psk(peer), **extra}
    if variant == TWO_PASS:
        params["protection"] = protection
    return params


def _variant_params(peer, client, variant: str, **extra):  # noqa: ANN001, ANN202
    return _params(peer, client, variant, _protection(client) if variant == TWO_PASS else None, **extra)


def _expect_key(peer, client, report, spec: str) -> None:  # noqa: ANN001
    """A successful run: the client stored the key the peer stored."""
    evidence.attach("text", "client report", report.summary())
    if not report.succeeded:
        raise NonConformance(f"{client.name} did not complete a valid run: {report.summary()} ({spec})")
    if not report.stored:
        raise NonConformance(f"{client.name} reports Success but stored nothing ({spec})")
    stored = peer.key(report.key_id)
    if stored is None:
        raise NonConformance(f"{client.name} reports key {report.key_id}, which the peer never provisioned")
    if report.fingerprint is None and report.hotp is None:
        raise AdapterGarbage("a Success report needs fingerprint or hotp to compare the key", adapter=client.name)
    if report.fingerprint is not None and report.fingerprint != stored["fingerprint"]:
        raise NonConformance(f"{client.name} derived another key than the server ({report.fingerprint} vs "
                             f"{stored['fingerprint']}; {spec})")
    if report.hotp is not None and list(report.hotp) != stored["hotp"]:
        raise NonConformance(f"{client.name}'s key gives HOTP {list(report.hotp)}, the server's {stored['hotp']} ({spec})")
    listed = {k["key_id"]: k["fingerprint"] for k in client.keys()}
    if report.key_id not in listed:
        raise NonConformance(f"{client.name} reports key {report.key_id} stored, but its module does not list it")
    if report.fingerprint is not None and listed[report.key_id] != report.fingerprint:
        raise NonConformance(f"{client.name}'s module lists key {report.key_id} with another fingerprint than reported")


def _expect_nothing_stored(peer, client, before, report, spec: str) -> None:  # noqa: ANN001
    evidence.attach("text", "client report", report.summary())
    evidence.attach("text", "peer", f"misbehaviour {peer.script.misbehaviour}: {peer.tampered} response(s) altered")
    if peer.tampered == 0:
        raise NonConformance(f"{client.name} stopped before the altered message ({report.summary()}); a valid "
                             "run up to that point is required to judge this case")
    if report.succeeded:
        raise NonConformance(f"{client.name} reported Success on a run it MUST refuse ({spec})")
    if report.stored:
        raise NonConformance(f"{client.name} stored a key from a run it MUST refuse ({spec})")
    after = client.keys()
    if after != before:
        raise NonConformance(f"{client.name}'s module changed although the run failed ({spec}): "
                             f"{len(before)} keys before, {len(after)} after")


# ----------------------------------------------------------------------------- the peer picks
@case("four-pass-encryption", spec="RFC 6063 §4.2.3, §4.2.4; §9 e., g.", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("encryption", list(ENCRYPTION))
def test_four_pass_encryption(peer, client, encryption):
    uri = ENCRYPTION[encryption]
    require(client.adapter, capability("encryption", uri))
    peer.configure(encryption_algorithms=(uri,))
    params = _params(peer, client, FOUR_PASS, encryption_algorithms=[uri])
    if uri not in FOUR_PASS_SYMMETRIC:
        params.pop("shared_key_hex"), params.pop("shared_key_name")
    _expect_key(peer, client, client.provision(**params), "RFC 6063 §4.2.5")


@case("four-pass-mac", spec="RFC 6063 §4.2.3, §4.2.5; §9 d., h.; App. D", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("mac", list(MAC))
def test_four_pass_mac(peer, client, mac):
    require(client.adapter, capability("mac", MAC[mac]))
    peer.configure(mac_algorithms=(MAC[mac],))
    _expect_key(peer, client, client.provision(**_params(peer, client, FOUR_PASS)), "RFC 6063 §4.2.5")


@case("two-pass", spec="RFC 6063 §5.1, §5.2.2, §5.2.3; §9 f., g., i.", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("protection,encryption", TWO_PASS_COMBOS, ids=[f"{p}-{e}" for p, e in TWO_PASS_COMBOS])
def test_two_pass(peer, client, protection, encryption):
    uri = ENCRYPTION[encryption]
    require(client.adapter, capability("encryption", uri))
    peer.configure(encryption_algorithms=(uri,), two_pass_methods=(PROTECTIONS[protection],), four_pass=False)
    _expect_key(peer, client, client.provision(**_params(peer, client, TWO_PASS, protection)), "RFC 6063 §5.2.3")


@case("two-pass-mac", spec="RFC 6063 §5.2.2, §5.2.3; §9 h.; App. D", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("mac", list(MAC))
def test_two_pass_mac(peer, client, mac):
    require(client.adapter, capability("mac", MAC[mac]))
    peer.configure(mac_algorithms=(MAC[mac],), four_pass=False)
    _expect_key(peer, client, client.provision(**_variant_params(peer, client, TWO_PASS, mac_algorithms=[MAC[mac]])),
                "RFC 6063 §5.2.3")


@case("key-type", spec="RFC 6063 §4.2.3 (KeyType), §4.2.5; RFC 6030 §10", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("key_type", list(KEY_TYPES))
def test_key_type(peer, client, key_type):
    uri = KEY_TYPES[key_type]
    require(client.adapter, capability("key-type", uri))
    policy = KeyTypePolicy(uri) if key_type == "hotp" else KeyTypePolicy(uri, counter=None, time_interval=30)
    peer.configure(key_types=(policy,))
    variant = FOUR_PASS if client.adapter.spec.has(capability("variant", FOUR_PASS)) else TWO_PASS
    report = client.provision(**_variant_params(peer, client, variant))
    _expect_key(peer, client, report, "RFC 6063 §4.2.5")
    if peer.key(report.key_id)["algorithm"] != uri:
        raise AssertionError("the peer provisioned another key type (suite bug)")


@case("trigger", spec="RFC 6063 §3.2.3, §4.2.1, §4.2.2", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("variant", [FOUR_PASS, TWO_PASS])
def test_trigger(peer, client, variant):
    require(client.adapter, capability("trigger", "trigger"))
    peer.configure()
    trigger = peer.trigger()
    evidence.attach("file", "trigger.xml", trigger, "application/xml")
    params = _variant_params(peer, client, variant, trigger_b64=trigger)
    params.pop("authentication_code")  # the trigger carries the AD (Sec. 4.2.1)
    _expect_key(peer, client, client.provision(**params), "RFC 6063 §4.2.1-4.2.5")


@case("renewal", spec="RFC 6063 §4.2.2, §4.2.3, §5.2.2, §5.2.3; App. A.5", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("variant", [FOUR_PASS, TWO_PASS])
def test_renewal(peer, client, variant):
    require(client.adapter, capability("renewal", "renewal"))
    peer.configure()
    first = client.provision(**_variant_params(peer, client, variant))
    _expect_key(peer, client, first, "RFC 6063 §4.2.5")
    owner = peer.key(first.key_id)["client_id"]
    again = client.provision(**_variant_params(peer, client, variant, client_id=owner, renew_key_id=first.key_id))
    _expect_key(peer, client, again, "RFC 6063 §4.2.3, §5.2.3")
    if again.key_id != first.key_id:
        raise NonConformance(f"the renewed key is stored as {again.key_id}, not {first.key_id} (App. A.5)")


@case("server-refusal", spec="RFC 6063 §3.3 (\"MUST immediately terminate\")", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("variant", [FOUR_PASS, TWO_PASS])
def test_server_refusal(peer, client, variant):
    """The peer refuses (the AC names an unknown Client ID): nothing is stored, and the
    client says why (Sec. 3.3 "the DSKPP Client SHOULD present an appropriate error")."""
    from reference.dskpp.authcode import format_authentication_code

    peer.configure()
    params = _variant_params(peer, client, variant)
    params["authentication_code"] = format_authentication_code("7E57AC00", "00112233445566778899", with_checksum=True)
    before = client.keys()
    report = client.provision(**params)
    evidence.attach("text", "client report", report.summary())
    if report.succeeded or report.stored or client.keys() != before:
        raise NonConformance(f"{client.name} stored or reported a key after the server refused ({report.summary()})")
    if report.status not in ("AuthenticationDataInvalid", "Error"):
        raise NonConformance(f"{client.name} reports {report.status}; the server answered AuthenticationDataInvalid")


# ----------------------------------------------------------------------------- the peer misbehaves
def _misbehaving_run(peer, client, variant: str, script: Script, spec: str, *, renew: bool = False,
                     baseline: bool = False) -> None:  # noqa: ANN001
    peer.configure()
    extra: dict = {}
    if renew or baseline:  # a genuine run first: the key to renew / the response to replay
        first = client.provision(**_variant_params(peer, client, variant))
        _expect_key(peer, client, first, spec)
        if renew:
            extra = {"client_id": peer.key(first.key_id)["client_id"], "renew_key_id": first.key_id}
    before = client.keys()
    peer.configure(script)
    report = client.provision(**_variant_params(peer, client, variant, **extra))
    _expect_nothing_stored(peer, client, before, report, spec)


@case("wrong-key-confirmation-mac", spec="RFC 6063 §4.2.5, §5.2.3, §10.2.3", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("variant", [FOUR_PASS, TWO_PASS])
def test_wrong_key_confirmation_mac(peer, client, variant):
    _misbehaving_run(peer, client, variant, Script("wrong-key-confirmation-mac"),
                     "RFC 6063 §4.2.5" if variant == FOUR_PASS else "RFC 6063 §5.2.3")


@case("wrong-server-auth-mac", spec="RFC 6063 §4.2.3 (MAC), §5.2.3, §10.6.3", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("variant", [FOUR_PASS, TWO_PASS])
def test_wrong_server_auth_mac(peer, client, variant):
    """A key renewal whose server authentication MAC is wrong: the key MUST NOT be replaced."""
    require(client.adapter, capability("renewal", "renewal"))
    _misbehaving_run(peer, client, variant, Script("wrong-server-auth-mac"),
                     "RFC 6063 §4.2.3" if variant == FOUR_PASS else "RFC 6063 §5.2.3", renew=True)


@case("mismatched-nonce", spec="RFC 6063 §10.2.5, §4.2.5, §5.2.3", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("variant", [FOUR_PASS, TWO_PASS])
def test_mismatched_nonce(peer, client, variant):
    """The final message of an earlier run (other nonces, other msg_hash) is replayed."""
    _misbehaving_run(peer, client, variant, Script("mismatched-nonce"), "RFC 6063 §10.2.5", baseline=True)


@case("mismatched-session", spec="RFC 6063 §7.2.3", level="MUST", subject=SUBJECT)
def test_mismatched_session(peer, client):
    _misbehaving_run(peer, client, FOUR_PASS, Script("mismatched-session"), "RFC 6063 §7.2.3")


@case("malformed-key-package", spec="RFC 6063 §4.2.5, §5.2.3; RFC 6030 §4", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("variant", [FOUR_PASS, TWO_PASS])
def test_malformed_key_package(peer, client, variant):
    _misbehaving_run(peer, client, variant, Script("malformed-key-package"), "RFC 6063 §4.2.5, §5.2.3")


UNEXPECTED = {
    "four-pass-finished-continue": (FOUR_PASS, Script("unexpected-status", "Continue", "finished")),
    "four-pass-finished-abort": (FOUR_PASS, Script("unexpected-status", "Abort", "finished")),
    "four-pass-hello-success": (FOUR_PASS, Script("unexpected-status", "Success", "hello")),
    "two-pass-finished-continue": (TWO_PASS, Script("unexpected-status", "Continue", "finished")),
    "two-pass-finished-abort": (TWO_PASS, Script("unexpected-status", "Abort", "finished")),
}


@case("unexpected-status", spec="RFC 6063 §3.3 (Continue, Success), §4.2.5, §5.2.3", level="MUST", subject=SUBJECT)
@pytest.mark.parametrize("where", list(UNEXPECTED))
def test_unexpected_status(peer, client, where):
    """A status where it does not belong - the key package and MAC otherwise valid."""
    variant, script = UNEXPECTED[where]
    _misbehaving_run(peer, client, variant, script, "RFC 6063 §3.3")
