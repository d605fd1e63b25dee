"""The privacyIDEA adapter (privacyidea.lib.importotp.parsePSKCdata), driven through the
registry and PskcConsumer.

The peer runs where the adapter finds it: the lab's environment, or the interpreter named
by KPLAB_PRIVACYIDEA_PYTHON (e.g. a venv with ``pip install privacyidea``); the peer tests
skip with the adapter's reason otherwise.  Expectations: the RFC 6030 text (figures in
../shared/specs/rfc6030-examples) and python-pskc 1.4's published results.  privacyIDEA's
real deviations are asserted as what it does, so a fix or a regression shows up.
"""

from __future__ import annotations

import io
import json
import os
import sys
from importlib.metadata import entry_points

import pytest

from harness.adapters import privacyidea
from harness.adapters.registry import open_adapter, probe
from harness.errors import AdapterUnavailable, Fault, Refused, Unsupported
from harness.roles.pskc import PskcConsumer
from harness.vectors import shared_dir

SHARED = shared_dir()
RFC_DIR = SHARED / "specs" / "rfc6030-examples" if SHARED else None
PEER_DIR = SHARED / "vectors-thirdparty" / "pskc" if SHARED else None
HOTP_URN = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"
RFC_SECRET_HEX = b"12345678901234567890".hex()  # RFC 6030 §6.1 / §6.2 ("OTP Secret")
FIGURE6_KEY_HEX = "12345678901234567890123456789012"  # RFC 6030 §6.1
FIGURE7_PASSWORD = "qwerty"  # RFC 6030 §6.2

REASON = privacyidea.adapter_spec().unavailable_reason()
needs_peer = pytest.mark.skipif(REASON is not None, reason=f"privacyIDEA unavailable: {REASON}")
needs_shared = pytest.mark.skipif(SHARED is None, reason="../shared (RFC figures, python-pskc vectors) is absent")


@pytest.fixture(scope="module")
def adapter():
    if REASON is not None:
        pytest.skip(f"privacyIDEA unavailable: {REASON}")
    live = open_adapter(privacyidea.adapter_spec())
    yield live
    live.close()


@pytest.fixture(scope="module")
def consumer(adapter):
    return PskcConsumer(adapter)


def rfc(figure: int) -> bytes:
    return (RFC_DIR / f"figure{figure}.xml").read_bytes()


def peer_file(name: str) -> bytes:
    return (PEER_DIR / name).read_bytes()


def fields(key: dict, *names: str) -> dict:
    return {n: key.get(n) for n in names}


# ---------------------------------------------------------------- finding privacyIDEA
def test_entry_point_gives_the_spec():
    (ep,) = entry_points(group="kplab.adapters", name="privacyidea")
    spec = ep.load()()
    assert (spec.name, spec.roles) == ("privacyidea", frozenset({"pskc-consumer"}))
    assert spec.transport.command[1:] == ("-m", "harness.adapters.privacyidea")


def test_not_installed_anywhere(monkeypatch):
    monkeypatch.setattr(privacyidea, "find_spec", lambda name: None)
    monkeypatch.delenv(privacyidea.PYTHON_VARIABLE, raising=False)
    spec = privacyidea.adapter_spec()
    assert spec.unavailable_reason() == (
        "privacyIDEA not installed: pip install 'keyprov-lab[privacyidea]' or set KPLAB_PRIVACYIDEA_PYTHON")
    with pytest.raises(AdapterUnavailable):
        open_adapter(spec)


def test_interpreter_from_the_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setattr(privacyidea, "find_spec", lambda name: None)
    missing = tmp_path / "no-python"
    monkeypatch.setenv(privacyidea.PYTHON_VARIABLE, str(missing))
    spec = privacyidea.adapter_spec()
    assert spec.transport.command == (str(missing), "-m", "harness.adapters.privacyidea")
    # The other interpreter imports the adapter from this repository.
    assert spec.transport.env["PYTHONPATH"].split(os.pathsep)[0] == str(privacyidea.REPO_ROOT)
    assert spec.unavailable_reason() == f"KPLAB_PRIVACYIDEA_PYTHON={missing} is not an executable file"


def test_interpreter_without_privacyidea_is_unavailable(monkeypatch):
    import importlib.util

    if importlib.util.find_spec("privacyidea") is not None:
        pytest.skip("the lab's own interpreter has privacyidea")
    monkeypatch.setattr(privacyidea, "find_spec", lambda name: None)
    monkeypatch.setenv(privacyidea.PYTHON_VARIABLE, sys.executable)
    privacyidea._foreign_problem.cache_clear()
    reason = privacyidea.adapter_spec().unavailable_reason()
    assert reason == f"KPLAB_PRIVACYIDEA_PYTHON={sys.executable} cannot import privacyidea " \
                     "(pip install privacyidea into that environment)"


# ---------------------------------------------------------------- the peer
@needs_peer
def test_probe_and_version(adapter):
    assert probe(adapter).outcome == "ok"
    assert adapter.call("kplab.version")["version"][:1].isdigit()


@needs_peer
@needs_shared
def test_figure3_imports_under_the_device_serial(consumer):
    (key,) = consumer.decode(rfc(3))
    # RFC 6030 Figure 3: Key Id 12345678 on device SerialNo 987654321.  privacyIDEA
    # imports the token under the SerialNo; the Key Id is not kept.
    assert key["id"] == "987654321"
    assert fields(key, "algorithm", "secret_hex", "counter", "response_length", "manufacturer") == {
        "algorithm": HOTP_URN, "secret_hex": RFC_SECRET_HEX, "counter": 0, "response_length": 8,
        "manufacturer": "Manufacturer"}
    assert key["privacyidea"]["hashlib"] == "sha1"  # no <Suite>: its default


@needs_peer
@needs_shared
def test_figure6_aes128_cbc_pre_shared_key(consumer):
    (key,) = consumer.decode(rfc(6), {"key_hex": FIGURE6_KEY_HEX})
    assert key["secret_hex"] == "3132333435363738393031323334353637383930"  # RFC 6030 §6.1


@needs_peer
@needs_shared
def test_figure7_pbkdf2_passphrase(consumer):
    (key,) = consumer.decode(rfc(7), {"password": FIGURE7_PASSWORD})
    assert key["secret_hex"] == RFC_SECRET_HEX  # RFC 6030 §6.2: OTP Secret 12345678901234567890


@needs_peer
@needs_shared
def test_wrong_pre_shared_key_is_refused(consumer):
    with pytest.raises(Refused) as info:
        consumer.decode(rfc(6), {"key_hex": "00" * 16})
    assert info.value.status == "TokenImportException"


@needs_peer
@needs_shared
def test_rsa_key_transport(consumer):
    # Figure 8 (rsa_1_5): privacyIDEA refuses the algorithm; with a private key the
    # adapter declines, privacyIDEA has no way to take one.
    with pytest.raises(Refused, match="only import PSKC files with AES128-CBC"):
        consumer.decode(rfc(8))
    with pytest.raises(Unsupported):
        consumer.decode(rfc(8), {"private_key_pem": "-----BEGIN PRIVATE KEY-----\n..."})


# ---------------------------------------------------------------- known breaks, as they are
@needs_peer
@needs_shared
def test_key_without_algorithm_parameters_crashes(consumer):
    # RFC 6030 Figure 2 has no <AlgorithmParameters>: AttributeError inside the parser.
    with pytest.raises(Fault) as info:
        consumer.decode(rfc(2))
    assert info.value.type == "AttributeError" and "responseformat" in str(info.value)


@needs_peer
@needs_shared
def test_key_without_id_crashes(consumer):
    # python-pskc's misc/policy.pskcxml has <Key>s without Id: KeyError.
    with pytest.raises(Fault) as info:
        consumer.decode(peer_file("misc/policy.pskcxml"))
    assert (info.value.type, str(info.value)) == ("KeyError", "'id'")


@needs_peer
@needs_shared
def test_two_keys_on_one_device_collide(consumer):
    # Figure 5: an HOTP key and its PIN key share DeviceInfo SerialNo 987654321; both are
    # imported under that serial and the later (the PIN key, "1234") replaces the HOTP key.
    keys = consumer.decode(rfc(5))
    assert [(k["id"], k["algorithm"], k["secret_hex"]) for k in keys] == [
        ("987654321", "urn:ietf:params:xml:ns:keyprov:pskc:pin", b"1234".hex())]
    # Figure 10: four keys, two on device 9999999: three come back.
    assert [k["id"] for k in consumer.decode(rfc(10))] == ["654321", "123456", "9999999"]


def _python_pskc_container(mac: str | None, algorithm: str = "aes128-cbc") -> bytes:
    pskc = pytest.importorskip("pskc", reason="python-pskc not installed (keyprov-lab[peers])")
    container = pskc.PSKC()
    container.add_key(id="KPLAB-1", serial="KPLAB-1", algorithm=HOTP_URN, secret=b"12345678901234567890",
                      counter=42, response_length=8)
    key = bytes.fromhex(FIGURE6_KEY_HEX + ("" if algorithm == "aes128-cbc" else FIGURE6_KEY_HEX))
    container.encryption.setup_preshared_key(key=key, algorithm=algorithm)
    if mac:
        container.mac.setup(algorithm=mac)
    out = io.BytesIO()
    container.write(out)
    return out.getvalue()


@needs_peer
def test_hmac_sha1_container_imports(consumer):
    (key,) = consumer.decode(_python_pskc_container("hmac-sha1"), {"key_hex": FIGURE6_KEY_HEX})
    assert fields(key, "id", "secret_hex", "counter", "response_length") == {
        "id": "KPLAB-1", "secret_hex": RFC_SECRET_HEX, "counter": 42, "response_length": 8}


@needs_peer
def test_hmac_sha256_container_is_not_imported(consumer):
    # RFC 6030 §6.1.1 lets <MACMethod> name the algorithm; privacyIDEA always computes
    # HMAC-SHA1, finds a mismatch and returns the key as "not imported" (no exception;
    # /token/load answers n_imported 0).  The adapter reports that as a refusal.
    with pytest.raises(Refused) as info:
        consumer.decode(_python_pskc_container("hmac-sha256"), {"key_hex": FIGURE6_KEY_HEX})
    assert info.value.status == "privacyidea.not_imported"
    assert "KPLAB-1" in str(info.value)


@needs_peer
def test_only_aes128_cbc_is_accepted(consumer):
    with pytest.raises(Refused, match="only import PSKC files with AES128-CBC"):
        consumer.decode(_python_pskc_container("hmac-sha1", "aes256-cbc"), {"key_hex": FIGURE6_KEY_HEX * 2})


# ---------------------------------------------------------------- against python-pskc 1.4
def _peer_expectations() -> dict:
    if PEER_DIR is None:
        return {}
    return json.loads((PEER_DIR / "EXPECTED-python-pskc-1.4.json").read_text())


EXPECTED = _peer_expectations()


def _secrets(name: str) -> dict:
    used = EXPECTED[name].get("decrypted_with") or {}
    return {"key_hex": used["key"]} if "key" in used else {"password": used["password"]} if "password" in used else {}


@needs_peer
@needs_shared
@pytest.mark.parametrize("name", ["feitian/20120919-test001-4282.xml", "feitian/file1.pskcxml",
                                  "multiotp/pskc-hotp-aes.txt", "multiotp/pskc-hotp-pbe.txt",
                                  "multiotp/pskc-totp-aes.txt", "multiotp/pskc-totp-pbe.txt"])
def test_secrets_match_python_pskc(consumer, name):
    keys = consumer.decode(peer_file(name), _secrets(name))
    # These files put the same value in Key/@Id and DeviceInfo/SerialNo.
    assert [(k["id"], k["secret_hex"], k["algorithm"]) for k in keys] == [
        (e["id"], e["secret"], e["algorithm"]) for e in EXPECTED[name]["keys"]]


@needs_peer
@needs_shared
def test_encrypted_counter_is_taken_as_its_ciphertext(adapter):
    # multiotp/pskc-hotp-aes.txt encrypts <Counter>; python-pskc decrypts it to 0.
    # privacyIDEA reads the element's text (CipherValue + ValueMAC) as the counter.
    name = "multiotp/pskc-hotp-aes.txt"
    assert [e["counter"] for e in EXPECTED[name]["keys"]] == [0, 0]
    import base64

    result = adapter.call("pskc-consumer.decode", {"document_b64": base64.b64encode(peer_file(name)).decode(),
                                                   **_secrets(name)})
    assert all("counter" not in k for k in result["keys"])
    assert all(not k["privacyidea"]["counter"].isdigit() for k in result["keys"])
    assert len(result["warnings"]) == 2 and all("counter" in w and "not an integer" in w for w in result["warnings"])


@needs_peer
@needs_shared
def test_yubico_ids_become_privacyidea_serials(consumer):
    keys = consumer.decode(peer_file("yubico/example2.pskcxml"))
    # python-pskc: Ids "283598:1" and "283598:2"; privacyIDEA names them UBAM<serial>_<slot>.
    assert [e["id"] for e in EXPECTED["yubico/example2.pskcxml"]["keys"]] == ["283598:1", "283598:2"]
    assert [k["id"] for k in keys] == ["UBAM283598_1", "UBAM283598_2"]
    assert [k["secret_hex"] for k in keys] == [e["secret"] for e in EXPECTED["yubico/example2.pskcxml"]["keys"]]


@needs_peer
@needs_shared
def test_encrypted_non_otp_secret_is_decoded_as_text(consumer):
    # For token types other than hotp/totp privacyIDEA keeps a decrypted secret as text:
    # an OCRA secret that is not UTF-8 fails, and the failure is its own refusal.  The
    # message must not show the secret's byte.
    name = "multiotp/tokens_ocra_aes.pskc"
    with pytest.raises(Refused) as info:
        consumer.decode(peer_file(name), _secrets(name))
    assert "can't decode byte 0x??" in str(info.value)


@needs_peer
@needs_shared
def test_keys_without_algorithm_attribute_crash(consumer):
    # python-pskc's encryption/*.pskcxml keys carry no Algorithm: KeyError.
    name = "encryption/aes128-cbc.pskcxml"
    with pytest.raises(Fault) as info:
        consumer.decode(peer_file(name), _secrets(name))
    assert (info.value.type, str(info.value)) == ("KeyError", "'algorithm'")


@needs_peer
@needs_shared
def test_draft_namespace_files_import_nothing_silently(consumer):
    name = "draft-ietf-keyprov-pskc-02/figure2.pskcxml"
    assert len(EXPECTED[name]["keys"]) == 1
    assert consumer.decode(peer_file(name)) == []


@needs_peer
@needs_shared
def test_not_xml_is_refused(consumer):
    with pytest.raises(Refused, match="No KeyContainer found"):
        consumer.decode(peer_file("invalid/notxml.pskcxml"))
