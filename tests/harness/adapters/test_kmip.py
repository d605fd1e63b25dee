"""KMIP adapters (harness/adapters/kmip.py, pykmip_server.py, pykmip_client.py), the TLS
endpoint extension of harness/adapters/endpoint.py, and harness/roles/kmip.py."""

from __future__ import annotations

import socket
import sys
from types import SimpleNamespace

import pytest

from harness import tlscerts
from harness.adapters.base import Adapter, AdapterSpec, EndpointTransportSpec, InProcessTransportSpec
from harness.adapters.kmip import pykmip_client_spec, pykmip_server_spec, reference_server_spec
from harness.adapters.registry import discover_entry_points, open_adapter, probe
from harness.errors import AdapterCrash, AdapterGarbage, AdapterTimeout
from harness.roles.kmip import KmipClientRole, KmipServer, TlsMaterial
from reference.kmip.client import KmipClient
from reference.kmip.net import KmipTlsServer
from reference.kmip.server import KmipServerEngine
from reference.kmip.ttlv import decode
from reference.kmip.vocab import Operation, Tag

QUERY_14 = KmipClient(lambda b: b"", version=(1, 4)).request_message([(Operation.QUERY, [])])


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_entry_points_declare_roles_and_versions():
    specs = discover_entry_points()
    for name in ("reference-kmip-server", "pykmip-server", "pykmip-client"):
        assert name in specs, f"{name} entry point missing (pip install -e . ?)"
    assert specs["reference-kmip-server"].roles == {"kmip-server"} and not specs["reference-kmip-server"].third_party
    assert specs["pykmip-server"].roles == {"kmip-server"} and specs["pykmip-server"].third_party
    assert specs["pykmip-client"].roles == {"kmip-client"}
    assert all(specs["reference-kmip-server"].has(f"kmip.version.{v}") for v in ("1.0", "1.4", "2.0", "2.1"))
    assert specs["pykmip-server"].has("kmip.version.2.0") and not specs["pykmip-server"].has("kmip.version.2.1")


def test_query_bytes_are_a_kmip_request():
    message = decode(QUERY_14)
    assert message.tag == Tag.REQUEST_MESSAGE and message.find(Tag.BATCH_ITEM).find(Tag.OPERATION).value == Operation.QUERY


@pytest.fixture(scope="module")
def reference_adapter():
    adapter = open_adapter(reference_server_spec())  # kplab serve kmip in a subprocess
    yield adapter
    adapter.close()


def test_reference_server_adapter(reference_adapter):
    server = KmipServer(reference_adapter)
    assert server.versions() == ((1, 0), (1, 1), (1, 2), (1, 3), (1, 4), (2, 0), (2, 1))
    assert server.tls.host == "127.0.0.1" and server.tls.cert.name == "client.pem"
    assert server.alive()
    with server.connect() as conn:
        answer = decode(conn.exchange(QUERY_14))
        assert answer.tag == Tag.RESPONSE_MESSAGE
        garbage = conn.send_raw(b"\x00" * 8 + b"junk", timeout_s=3)
        assert garbage is not None and decode(garbage).tag == Tag.RESPONSE_MESSAGE
    assert server.alive()  # keeps serving after garbage
    assert probe(reference_adapter).outcome == "ok"
    assert "listening on kmip+tls://127.0.0.1" in server.log_tail()


def test_endpoint_close_stops_the_server_and_removes_its_folder():
    adapter = open_adapter(reference_server_spec())
    endpoint = adapter.endpoint
    port, workdir = endpoint.address[1], endpoint.workdir
    assert (workdir / "certs" / "ca.pem").is_file() and (workdir / "kmip.sqlite").is_file()
    adapter.close()
    assert not _port_open(port) and not workdir.exists()


def test_tcp_readiness_and_substitutions(tmp_path):
    toy = ("import socket, sys, pathlib, time\n"
           "pathlib.Path(sys.argv[2], 'seen-certs').write_text(sys.argv[3])\n"
           "time.sleep(0.3)\n"
           "s = socket.create_server(('127.0.0.1', int(sys.argv[1])))\n"
           "while True: s.accept()[0].close()\n")
    spec = AdapterSpec(name="toy-tls", roles=frozenset({"kmip-server"}), capabilities=frozenset(),
                       transport=EndpointTransportSpec(url="kmip+tls://{host}:{port}",
                                                       start=(sys.executable, "-c", toy, "{port}", "{workdir}", "{certs}"),
                                                       ready_timeout_s=15))
    adapter = open_adapter(spec)
    try:
        endpoint = adapter.endpoint
        assert (endpoint.workdir / "seen-certs").read_text() == str(endpoint.certs.folder)
        assert endpoint.certs.complete() and _port_open(endpoint.address[1])
    finally:
        adapter.close()


# ----------------------------------------------------------------------------- PyKMIP
def test_pykmip_server_adapter_starts_and_answers():
    pytest.importorskip("kmip")
    adapter = open_adapter(pykmip_server_spec())
    try:
        server = KmipServer(adapter)
        assert server.alive()
        assert (adapter.endpoint.workdir / "server.conf").read_text().count("auth_suite=TLS1.2") == 1
        assert "Starting connection service" in server.log_tail()  # PyKMIP's own server.log, copied
    finally:
        adapter.close()


@pytest.fixture(scope="module")
def inprocess_reference(tmp_path_factory):
    certs = tlscerts.generate(tmp_path_factory.mktemp("kmip-role"))
    with KmipTlsServer(KmipServerEngine(), certs.server_cert, certs.server_key, certs.ca) as srv:
        yield srv, TlsMaterial(srv.host, srv.port, certs.ca, certs.client_cert, certs.client_key)


def test_pykmip_client_shim_runs_the_lifecycle(inprocess_reference):
    pytest.importorskip("kmip")
    srv, tls = inprocess_reference
    adapter = open_adapter(pykmip_client_spec())
    try:
        steps = KmipClientRole(adapter).lifecycle(tls, ["discover_versions", {"op": "create", "name": "shim-1"}, "get",
                                                        "activate", {"op": "locate", "name": "shim-1"}, "destroy"])
        assert [(s.step, s.ok) for s in steps] == [("discover_versions", True), ("create", True), ("get", True),
                                                   ("activate", True), ("locate", True), ("destroy", False)]
        uid = steps[1].uid
        assert srv.engine.store.get(uid) is not None
        assert steps[4].data["uids"] == [uid]
        # Destroy of an Active key: 1.4 §11.22 Permission Denied, reported by the client as such.
        assert steps[5].error["type"] == "operation-failed" and steps[5].error["reason"] == "PERMISSION_DENIED"
    finally:
        adapter.close()


# ----------------------------------------------------------------------------- role errors
def _role_over(srv, certs) -> KmipServer:
    endpoint = SimpleNamespace(certs=certs, address=(srv.host, srv.port), log_tail=lambda limit=4000: "")
    spec = AdapterSpec(name="fake", roles=frozenset({"kmip-server"}), capabilities=frozenset({"kmip.version.1.4"}),
                       transport=InProcessTransportSpec(factory=lambda: None))
    return KmipServer(Adapter(spec, endpoint))  # type: ignore[arg-type]


class _Engine:
    def __init__(self, answer: bytes) -> None:
        self.answer = answer

    def handle(self, data: bytes) -> bytes:
        return self.answer


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return tlscerts.generate(tmp_path_factory.mktemp("kmip-role-errors"))


def test_silent_server_is_a_timeout(certs):
    with KmipTlsServer(_Engine(b""), certs.server_cert, certs.server_key, certs.ca) as srv:
        role = _role_over(srv, certs)
        with role.connect() as conn:
            with pytest.raises(AdapterTimeout):
                conn.exchange(QUERY_14, timeout_s=0.3)
        with role.connect() as conn:
            assert conn.send_raw(QUERY_14, timeout_s=0.3) is None
        assert not role.alive(timeout_s=0.3)


def test_unframeable_answer_is_garbage(certs):
    with KmipTlsServer(_Engine(b"\xff" * 16), certs.server_cert, certs.server_key, certs.ca) as srv:
        with _role_over(srv, certs).connect() as conn:
            with pytest.raises(AdapterGarbage):
                conn.exchange(QUERY_14, timeout_s=2)


def test_closed_connection_is_a_crash(certs):
    # Announce 64 bytes, send 8, then the server closes the connection (max_message 1 forces
    # the close path after answering b"" framing garbage): the client sees a lost connection.
    with KmipTlsServer(_Engine(QUERY_14[:8]), certs.server_cert, certs.server_key, certs.ca, max_message=1) as srv:
        with _role_over(srv, certs).connect() as conn:
            with pytest.raises(AdapterCrash):
                conn.exchange(QUERY_14, timeout_s=2)


def test_refused_connection_is_a_crash(certs):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    role = _role_over(SimpleNamespace(host="127.0.0.1", port=port), certs)
    with pytest.raises(AdapterCrash):
        role.connect(timeout_s=1)
    assert not role.alive(timeout_s=1)


def test_client_role_checks_the_answer_shape():
    class Fake:
        def request(self, op, params, timeout_s):
            return {"result": {"steps": [{"step": "create", "ok": "yes"}]}}

        def close(self):
            pass

    spec = AdapterSpec(name="bad-client", roles=frozenset({"kmip-client"}), capabilities=frozenset(),
                       transport=InProcessTransportSpec(factory=lambda: None))
    tls = TlsMaterial("127.0.0.1", 1, *(tlscerts.CertPaths.in_folder("/nonexistent").__dict__[k] for k in ("ca", "client_cert", "client_key")))
    with pytest.raises(AdapterGarbage):
        KmipClientRole(Adapter(spec, Fake())).lifecycle(tls)
