"""docs/examples/dskpp-client-template.{sh,toml}, the shell shim for a vendor's DSKPP
client, run end to end: the shipped description file is loaded with ``load_description``,
its commands pointed at a stand-in client (dskpp_template/vendor_provision.py: the
reference engine behind the template's command contract), and driven through
``open_adapter`` / ``DskppClientRole`` against the lab's peer (reference/dskpp/peer.py),
honest and misbehaving; the keys are compared with what the peer stored."""

from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path

import pytest

from harness.adapters.registry import load_description, open_adapter, probe
from harness.errors import Fault
from harness.roles.dskpp import DskppClientRole
from reference.dskpp.peer import PeerServer, Script
from reference.dskpp.policy import ServerPolicy

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE.parents[2] / "docs" / "examples" / "dskpp-client-template.toml"
STAND_IN = HERE / "dskpp_template" / "vendor_provision.py"
PSK = bytes(range(16, 32))

pytestmark = [
    pytest.mark.skipif(shutil.which("jq") is None, reason="jq not installed (Debian package jq); the template needs it"),
    pytest.mark.skipif(shutil.which("base64") is None, reason="base64 (coreutils) not installed"),
]


def template_adapter(token_db: Path, *options: str, keys: bool = True):  # noqa: ANN201
    spec = load_description(TEMPLATE)
    base = [sys.executable, str(STAND_IN), "--token-db", str(token_db), *options]
    env = {"VENDOR_PROVISION_COMMAND": " ".join([*base, "provision"])}
    if keys:
        env["VENDOR_KEYS_COMMAND"] = " ".join([*base, "keys"])
    transport = dataclasses.replace(spec.transport, env=env, timeout_s=60.0)
    return open_adapter(dataclasses.replace(spec, transport=transport))


@pytest.fixture(scope="module")
def peer():
    from cryptography.hazmat.primitives.asymmetric import rsa

    policy = ServerPolicy(rsa_private_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
                          shared_keys={"psk": PSK}, four_pass_shared_key="psk")
    with PeerServer(policy) as serving:
        yield serving


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    live = template_adapter(tmp_path_factory.mktemp("vendor") / "tokens.sqlite")
    yield DskppClientRole(live)
    live.close()


def test_description_loads_and_the_probe_passes(client):
    spec = load_description(TEMPLATE)
    assert spec.roles == {"dskpp-client"} and spec.has("dskpp.four-pass")
    assert probe(client.adapter).ok


def test_provisions_the_key_the_server_stored(peer, client):
    peer.configure()
    code, _ = peer.issue_ac()
    report = client.provision(url=peer.url, authentication_code=code)
    stored = peer.key(report.key_id)
    assert report.succeeded and report.stored
    assert report.fingerprint == stored["fingerprint"] and list(report.hotp) == stored["hotp"]
    assert {"key_id": report.key_id, "fingerprint": stored["fingerprint"]} in client.keys()


def test_two_pass_with_the_shared_key_file_and_a_trigger(peer, client):
    peer.configure()
    code, _ = peer.issue_ac()
    wrapped = client.provision(url=peer.url, authentication_code=code, variant="two-pass", protection="key-wrap",
                               shared_key_hex=PSK.hex(), shared_key_name="psk",
                               encryption_algorithms=["http://www.w3.org/2001/04/xmlenc#aes128-cbc"])
    assert wrapped.succeeded and peer.key(wrapped.key_id)["fingerprint"] == wrapped.fingerprint
    triggered = client.provision(url=peer.url, trigger_b64=peer.trigger())
    assert triggered.succeeded and triggered.stored


def test_a_refused_run_stores_nothing_and_says_why(peer, client):
    before = client.keys()
    peer.configure(Script("wrong-key-confirmation-mac"))
    code, _ = peer.issue_ac()
    report = client.provision(url=peer.url, authentication_code=code)
    assert report.status == "Error" and not report.stored and "MAC" in report.error
    assert client.keys() == before and peer.tampered == 1
    peer.configure()
    from reference.dskpp.authcode import format_authentication_code

    unknown = format_authentication_code("7E57AC00", "00112233445566778899", with_checksum=True)
    refused = client.provision(url=peer.url, authentication_code=unknown)
    assert refused.status == "AuthenticationDataInvalid" and not refused.stored


def test_stored_comes_from_the_key_list_not_the_clients_word(peer, tmp_path):
    """Without VENDOR_KEYS_COMMAND the template trusts status; with it, the list decides."""
    live = template_adapter(tmp_path / "tokens.sqlite", keys=False)
    try:
        role = DskppClientRole(live)
        peer.configure()
        code, _ = peer.issue_ac()
        assert role.provision(url=peer.url, authentication_code=code).stored
        with pytest.raises(Exception, match="no VENDOR_KEYS_COMMAND"):
            role.keys()
    finally:
        live.close()


def test_a_client_that_cannot_run_is_a_fault(peer, tmp_path):
    live = template_adapter(tmp_path / "tokens.sqlite", "--exit", "127")
    try:
        with pytest.raises(Fault, match="could not be run"):
            DskppClientRole(live).provision(url=peer.url, authentication_code="x")
    finally:
        live.close()


def test_the_shipped_placeholder_fails_the_probe_naming_the_variable():
    live = open_adapter(load_description(TEMPLATE))
    try:
        result = probe(live)
    finally:
        live.close()
    assert result.outcome == "crash" and "VENDOR_PROVISION_COMMAND" in result.detail
