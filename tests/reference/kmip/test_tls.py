"""reference/kmip/net.py: the mutual-TLS KMIP server and client connection on loopback."""

from __future__ import annotations

import socket
import ssl
import threading
import warnings

import pytest

from harness import tlscerts
from reference.kmip.net import KmipConnectionClosed, KmipConnectionTimeout, KmipTlsServer, TlsConnection, read_item
from reference.kmip.server import KmipServerEngine
from reference.kmip.ttlv import decode
from reference.kmip.vocab import Operation, Tag
from tests.reference.kmip.server_helpers import batch_item, message, outcome, results


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return tlscerts.generate(tmp_path_factory.mktemp("kmip-tls"))


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory):
    return tlscerts.generate(tmp_path_factory.mktemp("kmip-tls-other"))


@pytest.fixture
def server(certs):
    with KmipTlsServer(KmipServerEngine(), certs.server_cert, certs.server_key, certs.ca, idle_timeout=5) as srv:
        yield srv


def connect(server, certs, **kw):
    return TlsConnection(server.host, server.port, ca=certs.ca, cert=certs.client_cert, key=certs.client_key, **kw)


QUERY = message((1, 4), batch_item(Operation.QUERY))


def test_binds_loopback_and_answers_one_item_per_request(server, certs):
    assert server.host == "127.0.0.1"
    with connect(server, certs) as conn:
        for _ in range(3):  # several messages on one connection
            response = decode(conn.exchange(QUERY))
            assert response.tag == Tag.RESPONSE_MESSAGE
            assert outcome(results(response)[0]) == ("Success", None)


def test_tls_is_1_2_or_newer_and_mutual(server, certs):
    with connect(server, certs) as conn:
        assert conn.sock.version() in ("TLSv1.2", "TLSv1.3")
        assert conn.sock.getpeercert()["subjectAltName"]  # the server certificate carries SANs


def test_client_without_certificate_is_refused(server, certs):
    with pytest.raises(KmipConnectionClosed):
        with TlsConnection(server.host, server.port, ca=certs.ca, timeout=3) as conn:
            conn.exchange(QUERY, timeout=3)  # TLS 1.3 reports the missing certificate on first read


def test_client_certificate_from_another_ca_is_refused(server, certs, other_ca):
    with pytest.raises(KmipConnectionClosed):
        with TlsConnection(server.host, server.port, ca=certs.ca, cert=other_ca.client_cert, key=other_ca.client_key,
                           timeout=3) as conn:
            conn.exchange(QUERY, timeout=3)


def test_client_refuses_a_server_from_another_ca(server, other_ca):
    with pytest.raises(KmipConnectionClosed, match="handshake"):
        TlsConnection(server.host, server.port, ca=other_ca.ca, cert=other_ca.client_cert, key=other_ca.client_key, timeout=3)


def test_tls_1_1_is_refused(server, certs):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(str(certs.ca))
    ctx.load_cert_chain(str(certs.client_cert), str(certs.client_key))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
            ctx.minimum_version = ssl.TLSVersion.TLSv1
    except (ValueError, ssl.SSLError):
        pytest.skip("this OpenSSL cannot even offer TLS 1.1")
    with socket.create_connection((server.host, server.port), timeout=3) as raw:
        with pytest.raises((ssl.SSLError, OSError)):
            ctx.wrap_socket(raw, server_hostname=server.host)


def test_garbage_is_answered_then_that_connection_closed_and_service_continues(server, certs):
    with connect(server, certs) as conn:
        conn.send(b"\x00\x01\x02\x03\xff\xff\xff\xff")  # item type 0x03 with 4 GiB length: cannot be framed
        response = decode(conn.receive(timeout=3))
        assert outcome(results(response)[0]) == ("Operation Failed", "Invalid Message")
        with pytest.raises(KmipConnectionClosed):
            conn.receive(timeout=3)
    with connect(server, certs) as conn:  # the server keeps serving others
        assert outcome(results(decode(conn.exchange(QUERY)))[0]) == ("Success", None)


def test_framed_garbage_keeps_the_connection(server, certs):
    with connect(server, certs) as conn:
        # A well-framed item that is no Request Message: answered, connection stays.
        bogus = bytes.fromhex("420078010000001042000d0200000004") + bytes(8)
        assert outcome(results(decode(conn.exchange(bogus)))[0]) == ("Operation Failed", "Invalid Message")
        assert outcome(results(decode(conn.exchange(QUERY)))[0]) == ("Success", None)


def test_half_a_message_then_close_does_not_disturb_the_server(server, certs):
    with connect(server, certs) as conn:
        conn.send(QUERY[: len(QUERY) // 2])
    with connect(server, certs) as conn:
        assert outcome(results(decode(conn.exchange(QUERY)))[0]) == ("Success", None)


def test_concurrent_connections(server, certs):
    errors = []

    def worker(n: int) -> None:
        try:
            with connect(server, certs) as conn:
                for _ in range(5):
                    assert outcome(results(decode(conn.exchange(QUERY)))[0]) == ("Success", None)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors


def test_client_times_out_on_a_silent_server(certs):
    class Silent:
        def handle(self, data: bytes) -> bytes:
            return b""  # answers nothing

    with KmipTlsServer(Silent(), certs.server_cert, certs.server_key, certs.ca) as srv:
        with connect(srv, certs) as conn:
            with pytest.raises(KmipConnectionTimeout):
                conn.exchange(QUERY, timeout=0.5)


def test_connect_to_a_closed_port(certs):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(KmipConnectionClosed, match="cannot connect"):
        TlsConnection("127.0.0.1", port, ca=certs.ca, cert=certs.client_cert, key=certs.client_key, timeout=2)


def test_read_item_frames_by_the_header():
    a, b = socket.socketpair()
    with a, b:
        a.sendall(QUERY + QUERY[:8])
        assert read_item(b) == QUERY
        a.close()
        with pytest.raises(KmipConnectionClosed):
            read_item(b)
