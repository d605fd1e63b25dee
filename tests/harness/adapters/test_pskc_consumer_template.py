"""docs/examples/pskc-consumer-template.{sh,toml}, the shell shim for a vendor's PSKC
importer, run end to end: the shipped description file is loaded with
``load_description``, its VENDOR_IMPORT_COMMAND pointed at a stand-in importer
(pskc_template/vendor_import.py: python-pskc behind the template's command contract), and
driven through ``open_adapter`` / ``PskcConsumer`` against the RFC 6030 figures' stated
values."""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import shutil
import sys
from pathlib import Path

import pytest

from harness.adapters.registry import load_description, open_adapter, probe
from harness.errors import AdapterCrash, Fault, Refused, Unsupported
from harness.roles.pskc import PskcConsumer
from harness.vectors import shared_dir

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE.parents[2] / "docs" / "examples" / "pskc-consumer-template.toml"
STAND_IN = HERE / "pskc_template" / "vendor_import.py"
SHARED = shared_dir()
RFC_DIR = SHARED / "specs" / "rfc6030-examples" if SHARED else None
HOTP_URN = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"
RFC_SECRET_HEX = b"12345678901234567890".hex()  # RFC 6030 §6.1, §6.2

pytestmark = [
    pytest.mark.skipif(shutil.which("jq") is None,
                       reason="jq not installed (Debian package jq); the template needs it"),
    pytest.mark.skipif(shutil.which("base64") is None, reason="base64 (coreutils) not installed"),
]
needs_shared = pytest.mark.skipif(SHARED is None, reason="../shared (RFC 6030 figures) is absent")
needs_python_pskc = pytest.mark.skipif(importlib.util.find_spec("pskc") is None,
                                       reason="python-pskc not installed (keyprov-lab[peers]); the stand-in uses it")


def template_adapter(*options: str, version: bool = False):
    spec = load_description(TEMPLATE)
    env = {"VENDOR_IMPORT_COMMAND": " ".join([sys.executable, str(STAND_IN), *options])}
    if version:
        env["VENDOR_VERSION_COMMAND"] = f"{sys.executable} --version"
    transport = dataclasses.replace(spec.transport, env=env, timeout_s=20.0)
    return open_adapter(dataclasses.replace(spec, transport=transport))


@pytest.fixture(scope="module")
def adapter():
    live = template_adapter()
    yield live
    live.close()


@pytest.fixture(scope="module")
def consumer(adapter):
    return PskcConsumer(adapter)


def rfc(figure: int) -> bytes:
    return (RFC_DIR / f"figure{figure}.xml").read_bytes()


# ---------------------------------------------------------------- the shipped files
def test_shipped_description():
    spec = load_description(TEMPLATE)
    assert spec.name == "vendor-pskc-import" and spec.roles == frozenset({"pskc-consumer"})
    assert spec.transport.command == ("sh", "pskc-consumer-template.sh")
    assert (Path(spec.transport.cwd) / "pskc-consumer-template.sh").is_file()
    assert "VENDOR_IMPORT_COMMAND" in spec.transport.env


def test_placeholder_command_fails_the_probe_with_a_clear_message():
    live = open_adapter(load_description(TEMPLATE))
    try:
        result = probe(live)
    finally:
        live.close()
    assert result.outcome == "crash"
    assert "VENDOR_IMPORT_COMMAND" in result.detail and "not a runnable command" in result.detail


def test_probe_and_version():
    live = template_adapter(version=True)
    try:
        assert probe(live).outcome == "ok"
        assert live.call("kplab.version")["version"] == f"Python {sys.version.split()[0]}"
    finally:
        live.close()


def test_version_without_a_version_command_is_unsupported(adapter):
    with pytest.raises(Unsupported):
        adapter.call("kplab.version")


# ---------------------------------------------------------------- decode: RFC 6030 figures
@needs_shared
@needs_python_pskc
def test_figure2(consumer):
    # RFC 6030 Figure 2: Key Id 12345678, HOTP, Issuer-A, secret "1234".
    (key,) = consumer.decode(rfc(2))
    assert {k: key[k] for k in ("id", "algorithm", "issuer", "secret_hex")} == {
        "id": "12345678", "algorithm": HOTP_URN, "issuer": "Issuer-A", "secret_hex": b"1234".hex()}


@needs_shared
@needs_python_pskc
def test_figure10_four_keys(consumer):
    keys = consumer.decode(rfc(10))
    assert [(k["id"], k["serial"]) for k in keys] == [
        ("1", "654321"), ("2", "123456"), ("3", "9999999"), ("4", "9999999")]


@needs_shared
@needs_python_pskc
def test_figure6_key_reaches_the_importer_as_a_file(consumer):
    (key,) = consumer.decode(rfc(6), {"key_hex": "12345678901234567890123456789012"})  # RFC 6030 §6.1
    assert key["secret_hex"] == RFC_SECRET_HEX


@needs_shared
@needs_python_pskc
def test_figure7_password_reaches_the_importer_as_a_file(consumer):
    (key,) = consumer.decode(rfc(7), {"password": "qwerty"})  # RFC 6030 §6.2
    assert key["secret_hex"] == RFC_SECRET_HEX


@needs_python_pskc
def test_password_with_shell_and_json_metacharacters(consumer):
    import pskc

    password = 'p"a\\s $(echo x) `id` wörd\n'
    container = pskc.PSKC()
    container.add_key(id="K1", algorithm=HOTP_URN, secret=b"12345678901234567890")
    container.encryption.setup_pbkdf2(password, algorithm="aes128-cbc", iterations=1000)
    container.mac.setup(algorithm="hmac-sha1")
    out = io.BytesIO()
    container.write(out)
    (key,) = consumer.decode(out.getvalue(), {"password": password})
    assert key["secret_hex"] == RFC_SECRET_HEX


# ---------------------------------------------------------------- the four answers
@needs_shared
@needs_python_pskc
def test_importer_refusal_is_a_refusal_with_its_stderr(consumer):
    with pytest.raises(Refused) as info:
        consumer.decode(rfc(6), {"key_hex": "00" * 16})
    assert info.value.status == "vendor exit 1"
    assert str(info.value).startswith("import failed: ")


@needs_python_pskc
def test_not_xml_is_refused(consumer):
    with pytest.raises(Refused):
        consumer.decode(b"<InValidXML></InValidCloseTag>")


def test_bad_base64_document_is_refused(adapter):
    with pytest.raises(Refused, match="document_b64 must be base64"):
        adapter.call("pskc-consumer.decode", {"document_b64": "%%%"})


@pytest.mark.parametrize("option, answer, detail", [
    ("--garbage", Fault, "VendorOutput"),
    ("--abort", Fault, "VendorSignal"),
    ("--exit=125", Refused, "vendor exit 125"),
    ("--exit=126", Fault, "VendorNotRunnable"),
])
def test_importer_misbehaviour(option, answer, detail):
    live = template_adapter(option)
    try:
        with pytest.raises(answer) as info:
            live.call("pskc-consumer.decode", {"document_b64": "PHgvPg=="})
        assert detail == (info.value.type if answer is Fault else info.value.status)
        # The shim survives: the next call is answered by the same process.
        with pytest.raises(Unsupported):
            live.call("kplab.no-such-operation", {})
    finally:
        live.close()


def test_a_dead_shim_is_a_harness_error_not_an_answer(tmp_path):
    # Without jq on PATH the template cannot run: the lab sees the process exit.
    spec = load_description(TEMPLATE)
    env = {"VENDOR_IMPORT_COMMAND": f"{sys.executable} {STAND_IN}", "PATH": str(tmp_path)}
    sh = shutil.which("sh")
    transport = dataclasses.replace(spec.transport, command=(sh, "pskc-consumer-template.sh"), env=env)
    live = open_adapter(dataclasses.replace(spec, transport=transport))
    try:
        with pytest.raises(AdapterCrash, match="jq not found"):
            live.call("pskc-consumer.decode", {"document_b64": "PHgvPg=="})
    finally:
        live.close()
