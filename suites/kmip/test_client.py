"""KMIP client role: a kmip-client adapter (PyKMIP's ProxyKmipClient) against our
reference server, through the symmetric-key lifecycle.

The suite starts the reference server in this process (reference/kmip/server.py behind
reference/kmip/net.py, mutual TLS on a free loopback port, certificates from
harness/tlscerts.py) and asks the client, once per protocol version, to run

    discover versions, create, get, get attributes, activate, get attributes, locate,
    encrypt, decrypt, revoke, destroy, get (must be refused), register, get

Each case judges one step against an independent expectation: the server's own store
(the key the client Got is the key the server holds, the registered key is the suite's
random key, the state the server recorded), the spec's fixed values (Usage Mask bits,
the Discover Versions list), or plain AES (the ciphertext decrypts under the stored key
with pyca/cryptography).  Names are unique per run: the server enforces unique Names
(KMIP 1.4 §11.2), and PyKMIP names every registered key "Symmetric Key" by default.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from harness import evidence
from harness.cases import case, require
from harness.roles.kmip import KmipClientRole, StepOutcome, TlsMaterial
from reference.kmip import objects
from reference.kmip.failures import Failure
from reference.kmip.store import ManagedObject
from reference.kmip.vocab import ObjectType, RevocationReasonCode, State, Tag

VERSIONS = ("1.2", "1.4", "2.0")  # PyKMIP's default (1.2), the last 1.x, and 2.0
PLAINTEXT = b"keyprov-lab KMIP client role: 37 bytes"
ENCRYPT_DECRYPT = 0x4 | 0x8  # Cryptographic Usage Mask Encrypt | Decrypt (KMIP 1.4 §9.1.3.3.1)

pytestmark = pytest.mark.parametrize("kmip_version", VERSIONS)


@dataclass
class ReferenceServer:
    server: Any  # reference.kmip.net.KmipTlsServer
    tls: TlsMaterial

    def stored(self, uid: str | None) -> ManagedObject | None:
        return self.server.engine.store.get(uid) if uid else None


@pytest.fixture(scope="session")
def reference_kmip(tmp_path_factory: pytest.TempPathFactory):
    from harness import tlscerts
    from reference.kmip.net import KmipTlsServer
    from reference.kmip.server import KmipServerEngine

    certs = tlscerts.generate(tmp_path_factory.mktemp("kmip-client-role-certs"))
    server = KmipTlsServer(KmipServerEngine(), certs.server_cert, certs.server_key, certs.ca).start()
    try:
        yield ReferenceServer(server, TlsMaterial(server.host, server.port, certs.ca, certs.client_cert, certs.client_key))
    finally:
        server.stop()


@dataclass
class Run:
    name: str
    key: bytes  # the key the suite registers
    steps: dict[str, StepOutcome]


_runs: dict[tuple[str, str], Run | Exception] = {}


def _plan(version: str) -> tuple[str, bytes, list[tuple[str, Any]]]:
    name = f"kplab-client-{version}-{secrets.token_hex(4)}"
    key = os.urandom(16)
    return name, key, [
        ("discover", "discover_versions"),
        ("create", {"op": "create", "algorithm": "AES", "length": 256, "name": name, "usage": ["ENCRYPT", "DECRYPT"]}),
        ("get", "get"),
        ("attributes", "get_attributes"),
        ("activate", "activate"),
        ("attributes-active", {"op": "get_attributes", "names": ["State", "Activation Date"]}),
        ("locate", {"op": "locate", "name": name}),
        ("encrypt", {"op": "encrypt", "data_hex": PLAINTEXT.hex(), "mode": "CBC", "padding": "PKCS5"}),
        ("decrypt", {"op": "decrypt", "mode": "CBC", "padding": "PKCS5"}),
        ("revoke", {"op": "revoke", "reason": "CESSATION_OF_OPERATION"}),
        ("destroy", "destroy"),
        ("get-destroyed", "get"),
        ("register", {"op": "register", "key_hex": key.hex(), "algorithm": "AES", "name": name + "-registered"}),
        ("get-registered", "get"),
    ]


def lifecycle(client, server: ReferenceServer, version: str) -> Run:
    require(client, f"kmip.version.{version}", "kmip.client.lifecycle")
    slot = (client.name, version)
    if slot not in _runs:
        name, key, plan = _plan(version)
        try:
            outcomes = KmipClientRole(client).lifecycle(server.tls, [s for _, s in plan], version=version)
            _runs[slot] = Run(name, key, {label: o for (label, _), o in zip(plan, outcomes)})
        except Exception as exc:  # noqa: BLE001 - every case of this client/version reports it
            _runs[slot] = exc
    got = _runs[slot]
    if isinstance(got, Exception):
        raise got
    evidence.secret(got.key)
    lines = [f"{label}: {'ok' if o.ok else 'FAILED ' + o.failure}" for label, o in got.steps.items()]
    evidence.attach("text", "lifecycle steps", "\n".join(lines))
    return got


def step(run: Run, label: str) -> StepOutcome:
    outcome = run.steps.get(label)
    assert outcome is not None, f"the client reported no outcome for step {label}"
    return outcome


def succeeded(run: Run, label: str) -> StepOutcome:
    outcome = step(run, label)
    assert outcome.ok, f"{label} failed: {outcome.failure}"
    return outcome


def stored_key(server: ReferenceServer, uid: str | None) -> bytes:
    mo = server.stored(uid)
    assert mo is not None, f"the server holds no object {uid!r}"
    material = objects.key_material(mo.object) if mo.object is not None else None
    if material is None:  # destroyed since: the Digest kept in the store still identifies it
        raise AssertionError("the server no longer holds this key's material")
    evidence.secret(material)
    return material


_created_keys: dict[str, bytes] = {}


# ----------------------------------------------------------------------------- cases
@case("discover-versions", spec="KMIP 1.4 §4.26", level="MUST", subject="kmip_client")
def test_discover_versions(kmip_client, reference_kmip, kmip_version):
    run = lifecycle(kmip_client, reference_kmip, kmip_version)
    got = succeeded(run, "discover").data.get("versions")
    from reference.kmip.server import SUPPORTED_VERSIONS

    sent = [f"{a}.{b}" for a, b in SUPPORTED_VERSIONS]
    assert got == sent, f"the client read the server's versions as {got}, the server sent {sent}"


@case("create-symmetric-key", spec="KMIP 1.4 §4.1", level="MUST", subject="kmip_client")
def test_create(kmip_client, reference_kmip, kmip_version):
    run = lifecycle(kmip_client, reference_kmip, kmip_version)
    uid = succeeded(run, "create").uid
    mo = reference_kmip.stored(uid)
    assert mo is not None, f"Create reported Unique Identifier {uid!r}, which the server never issued"
    assert mo.object_type == ObjectType.SYMMETRIC_KEY, "the created object is not a Symmetric Key"
    algorithm, length = mo.value(Tag.CRYPTOGRAPHIC_ALGORITHM), mo.value(Tag.CRYPTOGRAPHIC_LENGTH)
    assert algorithm is not None and algorithm.value == 3, "Cryptographic Algorithm sent is not AES (1.4 §9.1.3.2.13: 3)"
    assert length is not None and length.value == 256, f"Cryptographic Length sent is {length and length.value}, asked 256"
    mask = mo.value(Tag.CRYPTOGRAPHIC_USAGE_MASK)
    assert mask is not None and mask.value == ENCRYPT_DECRYPT, f"Cryptographic Usage Mask sent is {mask and mask.value}, asked Encrypt|Decrypt (12)"
    names = [n.find(Tag.NAME_VALUE).value for n in mo.values(Tag.NAME)]  # type: ignore[union-attr]
    assert names == [run.name], f"Name sent is {names}, asked [{run.name!r}]"


@case("get-key-material", spec="KMIP 1.4 §4.11", level="MUST", subject="kmip_client")
def test_get(kmip_client, reference_kmip, kmip_version):
    run = lifecycle(kmip_client, reference_kmip, kmip_version)
    got = succeeded(run, "get")
    mo = reference_kmip.stored(got.uid)
    assert mo is not None, "Get reported an unknown Unique Identifier"
    digest = mo.value(Tag.DIGEST)  # 1.4 §3.17: SHA-256 of the Key Material, kept after Destroy
    assert digest is not None, "the server kept no Digest for the key"
    secret = bytes.fromhex(got.data.get("secret_hex", ""))
    evidence.secret(secret)
    import hashlib

    assert hashlib.sha256(secret).digest() == digest.find(Tag.DIGEST_VALUE).value, \
        "the key material the client returned differs from the key the server holds"  # type: ignore[union-attr]
    assert got.data.get("algorithm") == "AES" and got.data.get("length") == 256, \
        f"the client read the Key Block as {got.data.get('algorithm')}/{got.data.get('length')}, the server sent AES/256"


@case("get-attributes", spec="KMIP 1.4 §4.12", level="MUST", subject="kmip_client")
def test_get_attributes(kmip_client, reference_kmip, kmip_version):
    run = lifecycle(kmip_client, reference_kmip, kmip_version)
    values = succeeded(run, "attributes").data.get("attributes", {})
    expected = {"State": ["PRE_ACTIVE"], "Cryptographic Algorithm": ["AES"], "Cryptographic Length": [256],
                "Cryptographic Usage Mask": [ENCRYPT_DECRYPT], "Object Type": ["SYMMETRIC_KEY"],
                "Unique Identifier": [step(run, "create").uid]}
    problems = [f"{k}: {values.get(k)!r}, expected {v!r}" for k, v in expected.items() if values.get(k) != v]
    names = [n.get("name") if isinstance(n, dict) else n for n in values.get("Name", [])]
    if names != [run.name]:
        problems.append(f"Name: {names!r}, expected [{run.name!r}]")
    assert not problems, "; ".join(problems)


@case("activate", spec="KMIP 1.4 §4.19, §3.22", level="MUST", subject="kmip_client")
def test_activate(kmip_client, reference_kmip, kmip_version):
    run = lifecycle(kmip_client, reference_kmip, kmip_version)
    succeeded(run, "activate")
    state = succeeded(run, "attributes-active").data.get("attributes", {}).get("State")
    assert state == ["ACTIVE"], f"after Activate the client read State {state}, expected Active (1.4 §3.22 transition 4)"
    mo = reference_kmip.stored(step(run, "create").uid)
    assert mo is not None and mo.value(Tag.ACTIVATION_DATE) is not None, "the server recorded no Activation Date"


@case("locate-by-name", spec="KMIP 1.4 §4.9", level="MUST", subject="kmip_client")
def test_locate(kmip_client, reference_kmip, kmip_version):
    run = lifecycle(kmip_client, reference_kmip, kmip_version)
    uids = succeeded(run, "locate").data.get("uids")
    assert uids == [step(run, "create").uid], f"Locate by the unique Name returned {uids}"


@case("encrypt-decrypt", spec="KMIP 1.4 §4.29, §4.30", level="MUST", subject="kmip_client")
def test_encrypt_decrypt(kmip_client, reference_kmip, kmip_version):
    run = lifecycle(kmip_client, reference_kmip, kmip_version)
    sealed = succeeded(run, "encrypt").data
    mo = reference_kmip.stored(step(run, "create").uid)
    assert mo is not None
    # The key is destroyed by now; the Get step returned it and the Digest proves it is the same.
    secret = bytes.fromhex(step(run, "get").data.get("secret_hex", ""))
    evidence.secret(secret)
    iv = bytes.fromhex(sealed.get("iv_hex") or "")
    assert len(iv) == 16, "the client did not report the IV the server generated (1.4 §4.29 IV/Counter/Nonce)"
    decryptor = Cipher(algorithms.AES(secret), modes.CBC(iv)).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    clear = decryptor.update(bytes.fromhex(sealed["data_hex"])) + decryptor.finalize()
    assert unpadder.update(clear) + unpadder.finalize() == PLAINTEXT, "the ciphertext does not decrypt to the data sent"
    back = bytes.fromhex(succeeded(run, "decrypt").data.get("data_hex", ""))
    assert back == PLAINTEXT, "Decrypt did not return the original data"


@case("revoke", spec="KMIP 1.4 §4.20, §3.22", level="MUST", subject="kmip_client")
def test_revoke(kmip_client, reference_kmip, kmip_version):
    run = lifecycle(kmip_client, reference_kmip, kmip_version)
    succeeded(run, "revoke")
    mo = reference_kmip.stored(step(run, "create").uid)
    assert mo is not None
    reason = mo.value(Tag.REVOCATION_REASON)
    code = reason.find(Tag.REVOCATION_REASON_CODE) if reason is not None else None
    assert code is not None and code.value == RevocationReasonCode.CESSATION_OF_OPERATION, \
        "the Revocation Reason the server received is not Cessation of Operation"
    assert mo.value(Tag.DEACTIVATION_DATE) is not None, "Revoke (not compromise) did not deactivate the key (1.4 §4.20)"


@case("destroy", spec="KMIP 1.4 §4.21", level="MUST", subject="kmip_client")
def test_destroy(kmip_client, reference_kmip, kmip_version):
    run = lifecycle(kmip_client, reference_kmip, kmip_version)
    succeeded(run, "destroy")
    mo = reference_kmip.stored(step(run, "create").uid)
    assert mo is not None and mo.state == State.DESTROYED and mo.object is None, \
        "after Destroy the server still holds the key material"


@case("refusal-reported", spec="KMIP 1.4 §6.9-6.11, §11.12 (2.1 §6.1.19.1)", level="MUST", subject="kmip_client")
def test_refusal_reported(kmip_client, reference_kmip, kmip_version):
    run = lifecycle(kmip_client, reference_kmip, kmip_version)
    outcome = step(run, "get-destroyed")
    assert not outcome.ok, "Get of a destroyed key was reported as a success"
    assert outcome.error.get("type") == "operation-failed", f"the refusal surfaced as {outcome.failure}"
    major = int(kmip_version.split(".")[0])
    sent = Failure.KEY_MATERIAL_DESTROYED.reason_name(major).upper().replace(" ", "_")
    assert outcome.error.get("reason") == sent, f"the client reported Result Reason {outcome.error.get('reason')}, the server sent {sent}"


@case("register-symmetric-key", spec="KMIP 1.4 §4.3", level="MUST", subject="kmip_client")
def test_register(kmip_client, reference_kmip, kmip_version):
    run = lifecycle(kmip_client, reference_kmip, kmip_version)
    uid = succeeded(run, "register").uid
    assert stored_key(reference_kmip, uid) == run.key, "the server received different key material than the client registered"
    mo = reference_kmip.stored(uid)
    assert mo is not None and mo.object_type == ObjectType.SYMMETRIC_KEY


@case("get-registered-key", spec="KMIP 1.4 §4.11 (same format as registered)", level="MUST", subject="kmip_client")
def test_get_registered(kmip_client, reference_kmip, kmip_version):
    run = lifecycle(kmip_client, reference_kmip, kmip_version)
    got = succeeded(run, "get-registered")
    secret = bytes.fromhex(got.data.get("secret_hex", ""))
    evidence.secret(secret)
    assert got.uid == step(run, "register").uid, "Get returned a different object than the one registered"
    assert secret == run.key, "the key the client Got back differs from the key it registered"
    assert got.data.get("length") == 128, f"the client read Cryptographic Length {got.data.get('length')}, registered 128"
