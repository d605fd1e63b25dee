"""PyKMIP as an independent peer of the reference KMIP server engine, in process.

PyKMIP's ProxyKmipClient (pip package pykmip, kmip.pie / kmip.core.messages) builds every
request with its own encoders and parses every answer with its own decoders; only the
socket is replaced, by a stand-in that hands the bytes to ``KmipServerEngine.handle``.
So these tests check our messages against a second implementation of the KMIP codec and
message model, for KMIP 1.2 (PyKMIP's default), 1.4 and 2.0.
"""

from __future__ import annotations

import hashlib
import logging
import warnings

import pytest

pie_client = pytest.importorskip("kmip.pie.client")
from kmip.core import enums  # noqa: E402
from kmip.core.factories.attributes import AttributeFactory  # noqa: E402
from kmip.core.utils import BytearrayStream  # noqa: E402
from kmip.pie import objects as pie_objects  # noqa: E402
from kmip.pie.exceptions import KmipOperationFailure  # noqa: E402

from tests.reference.kmip.server_helpers import new_engine  # noqa: E402

VERSIONS = {"1.2": enums.KMIPVersion.KMIP_1_2, "1.4": enums.KMIPVersion.KMIP_1_4, "2.0": enums.KMIPVersion.KMIP_2_0}


class EngineSocket:
    """Stands in for PyKMIP's KMIPProtocol: write() runs the engine, read() returns its answer."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.answer = b""

    def write(self, data) -> None:
        self.answer = self.engine.handle(bytes(data))

    def read(self) -> BytearrayStream:
        return BytearrayStream(self.answer)


def pykmip(engine, version: str = "1.2"):
    logging.getLogger("kmip").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = pie_client.ProxyKmipClient(config_file="/dev/null", kmip_version=VERSIONS[version])
    c.proxy.protocol = EngineSocket(engine)
    c._is_open = True
    return c


@pytest.fixture(params=list(VERSIONS))
def version(request):
    return request.param


def test_create_get_attributes_lifecycle(version):
    engine = new_engine()
    c = pykmip(engine, version)
    uid = c.create(enums.CryptographicAlgorithm.AES, 256, name=f"pykmip-{version}",
                   cryptographic_usage_mask=[enums.CryptographicUsageMask.ENCRYPT, enums.CryptographicUsageMask.DECRYPT])
    key = c.get(uid)
    assert isinstance(key, pie_objects.SymmetricKey)
    assert key.cryptographic_algorithm == enums.CryptographicAlgorithm.AES and key.cryptographic_length == 256
    stored = engine.store.get(uid)
    digest = stored.value(0x420034).find(0x420035).value  # Digest / Digest Value (1.4 §3.17)
    assert hashlib.sha256(key.value).digest() == digest
    _, attributes = c.get_attributes(uid, ["State", "Cryptographic Usage Mask", "Name"])
    got = {a.attribute_name.value: a.attribute_value for a in attributes}
    assert got["State"].value == enums.State.PRE_ACTIVE
    assert got["Cryptographic Usage Mask"].value == 12
    assert got["Name"].name_value.value == f"pykmip-{version}"
    c.activate(uid)
    _, attributes = c.get_attributes(uid, ["State"])
    assert attributes[0].attribute_value.value == enums.State.ACTIVE
    c.revoke(enums.RevocationReasonCode.KEY_COMPROMISE, uid)
    c.destroy(uid)
    with pytest.raises(KmipOperationFailure) as refused:
        c.get(uid)
    expected = enums.ResultReason.ILLEGAL_OPERATION if version < "2" else enums.ResultReason.OBJECT_DESTROYED
    assert refused.value.reason == expected  # 1.4 §11.12 / 2.1 OASIS BL-M-8-21


def test_register_get_locate(version):
    engine = new_engine()
    c = pykmip(engine, version)
    material = bytes(range(100, 132))
    key = pie_objects.SymmetricKey(enums.CryptographicAlgorithm.AES, 256, material,
                                   [enums.CryptographicUsageMask.ENCRYPT], name=f"reg-{version}")
    uid = c.register(key)
    assert c.get(uid).value == material
    factory = AttributeFactory()
    assert c.locate(attributes=[factory.create_attribute(enums.AttributeType.NAME, f"reg-{version}")]) == [uid]
    assert c.locate(attributes=[factory.create_attribute(enums.AttributeType.NAME, "absent")]) == []
    names = c.get_attribute_list(uid)
    assert {"Cryptographic Algorithm", "Digest", "Name", "State", "Unique Identifier"} <= set(names)


def test_encrypt_decrypt_roundtrip_through_pykmip(version):
    engine = new_engine()
    c = pykmip(engine, version)
    key = pie_objects.SymmetricKey(enums.CryptographicAlgorithm.AES, 128, bytes(16),
                                   [enums.CryptographicUsageMask.ENCRYPT, enums.CryptographicUsageMask.DECRYPT])
    uid = c.register(key)
    c.activate(uid)
    params = {"block_cipher_mode": enums.BlockCipherMode.CBC, "padding_method": enums.PaddingMethod.PKCS5,
              "cryptographic_algorithm": enums.CryptographicAlgorithm.AES}
    cipher, iv = c.encrypt(b"attack at dawn", uid=uid, cryptographic_parameters=params)
    assert iv is not None and len(iv) == 16  # the server generated it
    assert c.decrypt(cipher, uid=uid, cryptographic_parameters=params, iv_counter_nonce=iv) == b"attack at dawn"


def test_discover_versions_and_query_through_pykmip():
    engine = new_engine()
    c = pykmip(engine, "1.2")
    result = c.proxy.discover_versions()
    assert [(v.major, v.minor) for v in result.protocol_versions] == [(2, 1), (2, 0), (1, 4), (1, 3), (1, 2), (1, 1), (1, 0)]
    query = c.proxy.query(query_functions=[enums.QueryFunction.QUERY_OPERATIONS, enums.QueryFunction.QUERY_OBJECTS])
    operations = {int(getattr(o.value, "value", o.value)) for o in query.operations}
    assert {op.value for op in (enums.Operation.CREATE, enums.Operation.GET, enums.Operation.LOCATE,
                                enums.Operation.DESTROY)} <= operations
    assert enums.ObjectType.SYMMETRIC_KEY.value in {int(getattr(o.value, "value", o.value)) for o in query.object_types}


def test_failures_reach_pykmip_with_status_and_reason(version):
    engine = new_engine()
    c = pykmip(engine, version)
    uid = c.create(enums.CryptographicAlgorithm.AES, 128)
    c.activate(uid)
    with pytest.raises(KmipOperationFailure) as refused:
        c.destroy(uid)  # Active: 1.4 §11.22 Permission Denied; 2.1 SKLC-M-2-21 Wrong Key Lifecycle State
    assert refused.value.status == enums.ResultStatus.OPERATION_FAILED
    expected = enums.ResultReason.PERMISSION_DENIED if version < "2" else enums.ResultReason.WRONG_KEY_LIFECYCLE_STATE
    assert refused.value.reason == expected
    assert refused.value.message  # a Result Message on every failure
