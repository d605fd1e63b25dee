"""reference/kmip/client.py: the reference client over loopback mutual TLS, against the
reference server and against PyKMIP 0.11's server (an independent implementation)."""

from __future__ import annotations

import pytest

from harness import tlscerts
from reference.kmip.client import KmipClient, OperationFailed
from reference.kmip.net import KmipTlsServer
from reference.kmip.server import KmipServerEngine
from reference.kmip.vocab import ObjectType, Operation, QueryFunction, State, Tag
from tests.reference.kmip.server_helpers import attribute_map


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    certs = tlscerts.generate(tmp_path_factory.mktemp("kmip-client"))
    with KmipTlsServer(KmipServerEngine(), certs.server_cert, certs.server_key, certs.ca) as srv:
        yield srv, certs


def _connect(srv, certs, version):
    return KmipClient.connect(srv.host, srv.port, ca=certs.ca, cert=certs.client_cert, key=certs.client_key, version=version)


@pytest.mark.parametrize("version", [(1, 0), (1, 4), (2, 0), (2, 1)], ids=lambda v: f"{v[0]}.{v[1]}")
def test_lifecycle_against_the_reference_server(reference, version):
    srv, certs = reference
    with _connect(srv, certs, version) as c:
        name = f"ref-client-{version[0]}{version[1]}"
        uid = c.create("AES", 256, usage_mask=12, name=name)
        key = c.get(uid).key_material
        assert key is not None and len(key) == 32
        assert c.locate([("Name", name)]) == [uid]
        c.activate(uid)
        assert attribute_map(c.get_attributes(uid, ["State"]))["State"] == [State.ACTIVE]
        c.add_attribute(uid, "Contact Information", "ops")
        c.modify_attribute(uid, "Contact Information", "ops-2")
        c.delete_attribute(uid, "Contact Information")
        c.revoke(uid, "Cessation of Operation")
        c.destroy(uid)
        with pytest.raises(OperationFailed):
            c.get(uid)
        assert srv.engine.store.get(uid).state == State.DESTROYED


def test_batch_with_id_placeholder(reference):
    srv, certs = reference
    with _connect(srv, certs, (1, 4)) as c:
        batch = c.batch()
        batch.add(Operation.CREATE, c.create_payload("AES", 128, usage_mask=12, name="batched"))
        batch.add(Operation.ACTIVATE, [])
        batch.add(Operation.GET, [])
        created, activated, got = batch.send()
        assert created.ok and activated.ok and got.ok
        assert [r.batch_id for r in (created, activated, got)] == [b"\x01", b"\x02", b"\x03"]
        uid = created.field(Tag.UNIQUE_IDENTIFIER)
        assert activated.field(Tag.UNIQUE_IDENTIFIER) == uid == got.field(Tag.UNIQUE_IDENTIFIER)


def test_encrypt_decrypt_and_discovery(reference):
    srv, certs = reference
    with _connect(srv, certs, (2, 1)) as c:
        assert (2, 1) in c.discover_versions()
        uid = c.register_symmetric_key(bytes(range(16)), "AES", 128, usage_mask=12)
        c.activate(uid)
        sealed = c.encrypt(uid, b"payload", mode="CBC", padding="PKCS5")
        assert c.decrypt(uid, sealed.data, mode="CBC", padding="PKCS5", iv=sealed.iv) == b"payload"
        r = c.query((QueryFunction.OBJECTS,))
        assert ObjectType.SYMMETRIC_KEY in r.fields(Tag.OBJECT_TYPE)


# ----------------------------------------------------------------------------- against PyKMIP's server
@pytest.fixture(scope="module")
def pykmip_server():
    pytest.importorskip("kmip")
    from harness.adapters.kmip import pykmip_server_spec
    from harness.adapters.registry import open_adapter
    from harness.roles.kmip import KmipServer

    adapter = open_adapter(pykmip_server_spec())  # ~1 s: PyKMIP with generated EC certificates
    try:
        yield KmipServer(adapter)
    finally:
        adapter.close()


@pytest.mark.parametrize("version", [(1, 2), (1, 4)], ids=["1.2", "1.4"])
def test_reference_client_against_pykmip_server(pykmip_server, version):
    tls = pykmip_server.tls
    with KmipClient.connect(tls.host, tls.port, ca=tls.ca, cert=tls.cert, key=tls.key, version=version) as c:
        assert (1, 4) in c.discover_versions()
        uid = c.create("AES", 128, usage_mask=12, name=f"to-pykmip-{version[1]}")
        assert len(c.get(uid).key_material) == 16
        assert attribute_map(c.get_attributes(uid, ["State"]))["State"] == [State.PRE_ACTIVE]
        assert uid in c.locate([("Name", f"to-pykmip-{version[1]}")])
        c.activate(uid)
        c.revoke(uid, "Key Compromise")
        c.destroy(uid)
        with pytest.raises(OperationFailed) as refused:
            c.get(uid)
        assert refused.value.status == "Operation Failed" and refused.value.reason  # PyKMIP: Item Not Found
