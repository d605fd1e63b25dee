"""harness/adapters/dskpp.py: the reference DSKPP server and client adapters.

The server adapter starts ``kplab serve dskpp`` once for the module; what it says about
the server (endpoint, ACs, stored keys) is checked against what the server does on the
wire, driven by the reference client in this process, and the HOTP values it reports are
checked with pyotp (an independent HOTP implementation).  The client adapter runs
against the in-process peer (reference/dskpp/peer.py)."""

from __future__ import annotations

import base64
import json
import os
import secrets
import sys
from pathlib import Path

import pytest

from harness.adapters.dskpp import (
    LEAKY_MODE_ENV,
    ReferenceDskppClient,
    ReferenceDskppServer,
    reference_client_spec,
    reference_server_spec,
)
from harness.adapters.registry import discover_entry_points, open_adapter, probe
from harness.errors import AdapterCrash, InputError, Refused
from harness.redaction import fingerprint
from harness.roles.dskpp import ENCRYPTION, DskppClientRole, DskppServerRole
from reference.dskpp import codec
from reference.dskpp.authcode import format_authentication_code, parse_authentication_code
from reference.dskpp.messages import KeyProvTrigger
from reference.dskpp.peer import PeerServer, Script
from reference.dskpp.policy import ServerPolicy

PSK = bytes(range(16))


def test_entry_points_declare_the_roles():
    specs = discover_entry_points()
    assert specs["reference-dskpp-server"].roles == {"dskpp-server"}
    assert specs["reference-dskpp-client"].roles == {"dskpp-client"}
    for name in ("reference-dskpp-server", "reference-dskpp-client"):
        spec = specs[name]
        assert not spec.third_party and spec.has("dskpp.four-pass") and spec.has("dskpp.encryption.rsa-oaep")


@pytest.fixture(scope="module")
def server_adapter():
    live = open_adapter(reference_server_spec({"session_timeout_s": 7}))
    yield live
    live.close()


@pytest.fixture
def server(server_adapter):
    role = DskppServerRole(server_adapter)
    yield role
    role.close()


def _run(endpoint, code, **config):  # noqa: ANN001, ANN202
    from datetime import datetime, timezone

    from reference.dskpp.client import ClientConfig, DskppClient, run
    from reference.dskpp.http_client import HttpPoster
    from reference.dskpp.store import MemoryTokenStore

    tokens = MemoryTokenStore()
    client = DskppClient(ClientConfig(authentication_code=code, server_url=endpoint.url, **config), tokens,
                         clock=lambda: datetime.now(timezone.utc), random=secrets.token_bytes)
    with HttpPoster(endpoint.url) as post:
        return run(client, post), tokens


def test_server_adapter_probe_and_endpoint(server_adapter, server):
    assert probe(server_adapter).ok
    endpoint = server.endpoint()
    assert endpoint.url.startswith("http://127.0.0.1:") and endpoint.session_timeout_s == 7
    assert set(endpoint.encryption_algorithms) == set(ENCRYPTION.values())
    assert endpoint.requires_authentication and len(endpoint.shared_key()[1]) == 16


def test_issued_codes_authenticate_and_the_key_lookup_matches_the_client(server):
    import pyotp

    endpoint = server.endpoint()
    issued = server.issue()
    assert parse_authentication_code(issued.authentication_code).client_id == issued.client_id
    name, psk = endpoint.shared_key()
    result, tokens = _run(endpoint, issued.authentication_code, variant="two-pass", protection="key-wrap",
                          shared_key=psk, shared_key_name=name)
    held = tokens.get_key(result.key.key_id)
    stored = server.key(result.key.key_id)
    assert stored["fingerprint"] == fingerprint(held.secret)
    reference = pyotp.HOTP(base64.b32encode(held.secret).decode())
    assert stored["hotp"] == [reference.at(c) for c in range(3)]
    assert server.key("no-such-key") is None


def test_issue_for_a_given_client_id_and_four_pass_with_the_shared_key(server):
    endpoint = server.endpoint()
    issued = server.issue("0A0B0C0D")
    assert issued.client_id == "0A0B0C0D"
    name, psk = endpoint.shared_key()
    result, _ = _run(endpoint, issued.authentication_code, shared_key=psk, shared_key_name=name,
                     encryption_algorithms=(ENCRYPTION["prf-aes-128"],))
    assert result.key is not None  # four-pass R_C under K_SHARED: the config's four_pass_shared_key works


def test_trigger_names_the_server_and_provisions(server):
    document = server.trigger()
    message = codec.decode(document)
    assert isinstance(message, KeyProvTrigger) and message.trigger.server_url == server.endpoint().url
    from datetime import datetime, timezone

    from reference.dskpp.client import ClientConfig, DskppClient, run
    from reference.dskpp.http_client import HttpPoster
    from reference.dskpp.store import MemoryTokenStore

    client = DskppClient(ClientConfig(), MemoryTokenStore(), clock=lambda: datetime.now(timezone.utc),
                         random=secrets.token_bytes)
    with HttpPoster(server.endpoint().url) as post:
        assert run(client, post, trigger=document).key is not None


def test_operations_refuse_bad_params(server_adapter):
    with pytest.raises(Refused):
        server_adapter.call("dskpp-server.key", {"key_id": 5})
    with pytest.raises(Refused):
        server_adapter.call("dskpp-server.issue-ac", {"client_id": 12})


def test_close_stops_the_server_and_removes_its_folder():
    implementation = ReferenceDskppServer()
    url, folder, proc = implementation.url, implementation.workdir, implementation._proc
    implementation.close()
    assert proc.poll() is not None and not folder.exists()
    import httpx

    with pytest.raises(httpx.HTTPError):
        httpx.post(url, content=b"x", timeout=2)


def test_server_command_options_and_leaky_mode_environment(tmp_path):
    """``server_command`` replaces kplab serve dskpp (given the same arguments), and
    ``leaky_mode`` reaches the server process as KPLAB_DSKPP_LEAKY_MODE."""
    wrapper = tmp_path / "wrapper.py"
    seen = tmp_path / "seen.json"
    wrapper.write_text(
        "import json, os, sys\n"
        f"open({str(seen)!r}, 'w').write(json.dumps({{'env': os.environ.get({LEAKY_MODE_ENV!r}), 'argv': sys.argv[1:]}}))\n"
        "from harness.cli import main\n"
        "sys.exit(main(['serve', 'dskpp', *sys.argv[1:]]))\n", encoding="utf-8")
    implementation = ReferenceDskppServer({"server_command": [sys.executable, str(wrapper)], "leaky_mode": {"ns": 1000}})
    try:
        record = json.loads(seen.read_text())
        assert json.loads(record["env"]) == {"ns": 1000}
        assert "--ready-file" in record["argv"] and "--db" in record["argv"]
    finally:
        implementation.close()
    with pytest.raises(InputError):
        ReferenceDskppServer({"double": "no-colon"})


def test_a_server_that_dies_at_start_is_an_adapter_crash(tmp_path):
    with pytest.raises(AdapterCrash, match="exited"):
        ReferenceDskppServer({"server_command": [sys.executable, "-c", "import sys; sys.exit(4)"]})


# ----------------------------------------------------------------------------- client adapter
@pytest.fixture(scope="module")
def peer():
    from cryptography.hazmat.primitives.asymmetric import rsa

    policy = ServerPolicy(rsa_private_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
                          shared_keys={"psk": PSK}, four_pass_shared_key="psk")
    with PeerServer(policy) as serving:
        yield serving


@pytest.fixture
def client():
    live = open_adapter(reference_client_spec())
    yield DskppClientRole(live)
    live.close()


def test_client_adapter_provisions_and_lists_its_keys(peer, client):
    peer.configure()
    code, _ = peer.issue_ac()
    report = client.provision(url=peer.url, authentication_code=code)
    assert report.succeeded and report.stored
    stored = peer.key(report.key_id)
    assert (report.fingerprint, list(report.hotp)) == (stored["fingerprint"], stored["hotp"])
    assert client.keys() == [{"key_id": report.key_id, "fingerprint": report.fingerprint}]
    code, _ = peer.issue_ac()
    wrapped = client.provision(url=peer.url, authentication_code=code, variant="two-pass", protection="key-wrap",
                               shared_key_hex=PSK.hex(), shared_key_name="psk")
    assert wrapped.succeeded and len(client.keys()) == 2


def test_client_adapter_reports_refusals_and_stores_nothing(peer, client):
    peer.configure(Script("wrong-key-confirmation-mac"))
    code, _ = peer.issue_ac()
    report = client.provision(url=peer.url, authentication_code=code)
    assert report.status == "Error" and not report.stored and "MAC" in report.error
    peer.configure()
    unknown = format_authentication_code("7E57AC00", "00112233445566778899", with_checksum=True)
    wrong = client.provision(url=peer.url, authentication_code=unknown)
    assert wrong.status == "AuthenticationDataInvalid" and not wrong.stored
    assert client.keys() == []


def test_client_adapter_refuses_bad_params(peer, client):
    for params in ({"authentication_code": "x"}, {"url": peer.url}, {"url": peer.url, "authentication_code": "x",
                                                                     "shared_key_hex": "zz"}):
        with pytest.raises(Refused):
            client.adapter.call("dskpp-client.provision", params)


def test_client_stored_flag_comes_from_the_token_store(peer):
    """A module that commits before its checks (as a buggy client would) is reported as
    stored even though the run failed: the adapter looks at the store, not the engine."""
    implementation = ReferenceDskppClient()
    try:
        peer.configure(Script("wrong-key-confirmation-mac"))
        code, _ = peer.issue_ac()
        from reference.dskpp import client_flows

        real = client_flows.four_pass_finished

        def early(engine, message):  # noqa: ANN001, ANN202
            from harness.errors import CryptoFailure
            from reference.dskpp.store import TokenKey
            from datetime import datetime, timezone

            engine.token_store.commit_key(TokenKey("EARLY", "x", b"\x01" * 20, datetime.now(timezone.utc)))
            raise CryptoFailure("MAC does not verify", status="Abort")

        client_flows.four_pass_finished = early
        try:
            out = implementation.provision({"url": peer.url, "authentication_code": code})
        finally:
            client_flows.four_pass_finished = real
        assert out["status"] == "Error" and out["stored"] is True
    finally:
        implementation.close()
    assert not Path(implementation.workdir).exists() and os.sep in str(implementation.workdir)
