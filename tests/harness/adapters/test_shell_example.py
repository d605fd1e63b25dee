"""The worked example of docs/adapters.md, a POSIX shell shim around oathtool, driven
through the lab against the RFC 4226 / RFC 6238 printed test values."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.adapters.registry import load_description, open_adapter, probe
from harness.errors import Refused, Unsupported
from harness.vectors import load_json

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "oathtool-adapter.toml"

pytestmark = pytest.mark.skipif(shutil.which("oathtool") is None, reason="oathtool not installed (Debian package oathtool)")


@pytest.fixture(scope="module")
def adapter():
    live = open_adapter(load_description(EXAMPLE))
    yield live
    live.close()


def test_probe_answers_unsupported(adapter):
    assert probe(adapter).outcome == "ok"


@pytest.mark.parametrize("vector", load_json("otp/rfc4226-hotp.json")["vectors"], ids=lambda v: f"c{v['counter']}")
def test_hotp_matches_rfc4226(adapter, vector):
    params = {k: vector[k] for k in ("secret_hex", "counter", "digits", "algorithm")}
    assert adapter.call("otp-generator.hotp", params)["otp"] == vector["otp"]


@pytest.mark.parametrize("vector", load_json("otp/rfc6238-totp.json")["vectors"], ids=lambda v: f"{v['algorithm']}-{v['time']}")
def test_totp_matches_rfc6238(adapter, vector):
    params = {k: vector[k] for k in ("secret_hex", "time", "step", "t0", "digits", "algorithm")}
    assert adapter.call("otp-generator.totp", params)["otp"] == vector["otp"]


def test_bad_secret_is_a_refusal(adapter):
    with pytest.raises(Refused, match="hex"):
        adapter.call("otp-generator.hotp", {"secret_hex": "zz", "counter": 0, "digits": 6, "algorithm": "sha1"})


def test_hotp_with_sha256_is_unsupported(adapter):
    with pytest.raises(Unsupported):
        adapter.call("otp-generator.hotp", {"secret_hex": "00", "counter": 0, "digits": 6, "algorithm": "sha256"})
