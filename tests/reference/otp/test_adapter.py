"""The reference-otp adapter driven through the registry with RFC vectors."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from harness.adapters.base import InProcessTransportSpec
from harness.adapters.registry import open_adapter, probe
from harness.errors import Refused, Unsupported
from harness.vectors import load_json
from reference.otp.adapter import ReferenceOtp, adapter_spec

HOTP = load_json("otp/rfc4226-hotp.json")["vectors"]
TOTP = load_json("otp/rfc6238-totp.json")["vectors"]
OCRA = load_json("otp/rfc6287-ocra.json")["vectors"]
SECRET_HEX = "3132333435363738393031323334353637383930"


@pytest.fixture(scope="module")
def adapter():
    a = open_adapter(adapter_spec())
    yield a
    a.close()


def ocra_params(v: dict, *, plain_pin: bool = False) -> dict:
    params = {"suite": v["suite"], "secret_hex": v["secret_hex"], "question": v["question"]}
    if "counter" in v:
        params["counter"] = v["counter"]
    if "pin_hash_hex" in v:
        if plain_pin:
            params["pin"] = v["pin"]
        else:
            params["pin_hash_hex"] = v["pin_hash_hex"]
    if "timestamp" in v:
        params["timestamp"] = v["timestamp"]
    return params


def test_entry_point_gives_the_spec():
    (ep,) = entry_points(group="kplab.adapters", name="reference-otp")
    spec = ep.load()()
    assert spec.name == "reference-otp"


def test_spec():
    spec = adapter_spec()
    assert spec.roles == frozenset({"otp-generator"})
    assert spec.capabilities == frozenset(
        {"otp.hotp", "otp.totp", "otp.ocra", "otp.hash.sha1", "otp.hash.sha256", "otp.hash.sha512"}
    )
    assert spec.third_party is False
    assert isinstance(spec.transport, InProcessTransportSpec) and spec.transport.factory is ReferenceOtp
    assert spec.version and spec.description
    assert spec.unavailable_reason() is None


def test_probe_answers_unsupported(adapter):
    assert probe(adapter).outcome == "ok"


@pytest.mark.parametrize("v", HOTP, ids=lambda v: f"count{v['counter']}")
def test_hotp_rfc4226(adapter, v):
    params = {"secret_hex": v["secret_hex"], "counter": v["counter"], "digits": v["digits"], "algorithm": v["algorithm"]}
    assert adapter.call("otp-generator.hotp", params) == {"otp": v["otp"]}


@pytest.mark.parametrize("v", TOTP, ids=lambda v: f"{v['time']}-{v['algorithm']}")
def test_totp_rfc6238(adapter, v):
    params = {k: v[k] for k in ("secret_hex", "time", "step", "t0", "digits", "algorithm")}
    assert adapter.call("otp-generator.totp", params) == {"otp": v["otp"]}


@pytest.mark.parametrize("v", OCRA, ids=lambda v: f"{v['suite']}-{v.get('role', '')}-{v['question']}-{v.get('counter', '')}")
def test_ocra_rfc6287(adapter, v):
    assert adapter.call("otp-generator.ocra", ocra_params(v)) == {"otp": v["otp"]}
    if "pin" in v:
        assert adapter.call("otp-generator.ocra", ocra_params(v, plain_pin=True)) == {"otp": v["otp"]}


def test_defaults_are_the_rfc_defaults(adapter):
    # digits 6, SHA-1 (RFC 4226); X = 30, T0 = 0 (RFC 6238 §4.1): count 1 is time 59.
    assert adapter.call("otp-generator.hotp", {"secret_hex": SECRET_HEX, "counter": 1}) == {"otp": "287082"}
    assert adapter.call("otp-generator.totp", {"secret_hex": SECRET_HEX, "time": 59}) == {"otp": "287082"}


@pytest.mark.parametrize(
    "op, params, status, fragment",
    [
        ("otp-generator.hotp", {"secret_hex": SECRET_HEX}, "InputError", "missing param(s) counter"),
        ("otp-generator.hotp", {"secret_hex": SECRET_HEX, "counter": 1, "window": 3}, "InputError", "unknown param(s) window"),
        ("otp-generator.hotp", {"secret_hex": SECRET_HEX[:-1], "counter": 1}, "InputError", "secret_hex is not valid hex"),
        ("otp-generator.hotp", {"secret_hex": "zz" + SECRET_HEX, "counter": 1}, "InputError", "secret_hex is not valid hex"),
        ("otp-generator.hotp", {"secret_hex": SECRET_HEX, "counter": "1"}, "InputError", "counter must be an integer"),
        ("otp-generator.hotp", {"secret_hex": SECRET_HEX, "counter": -1}, "InputError", "counter must be in 0.."),
        ("otp-generator.hotp", {"secret_hex": SECRET_HEX, "counter": 1, "digits": 4}, "InputError", "digits must be in 6..10"),
        ("otp-generator.hotp", {"secret_hex": SECRET_HEX, "counter": 1, "algorithm": "md5"}, "InputError", "algorithm must be one of"),
        ("otp-generator.hotp", {"secret_hex": "", "counter": 1}, "InputError", "secret is empty"),
        ("otp-generator.totp", {"secret_hex": SECRET_HEX, "time": 10, "t0": 30}, "InputError", "before T0"),
        ("otp-generator.totp", {"secret_hex": SECRET_HEX, "time": 10.5}, "InputError", "time must be an integer"),
        ("otp-generator.totp", {"secret_hex": SECRET_HEX, "time": 10, "step": 0}, "InputError", "step must be in 1.."),
        ("otp-generator.ocra", {"suite": "OCRA-1:HOTP-SHA1-6:QN08", "secret_hex": SECRET_HEX, "question": "1", "pin": "1", "pin_hash_hex": "00"}, "InputError", "pin or pin_hash_hex, not both"),
        ("otp-generator.ocra", {"suite": "OCRA-1:HOTP-SHA1-6:XX", "secret_hex": SECRET_HEX, "question": "1"}, "InputError", "unknown DataInput element"),
        ("otp-generator.ocra", {"suite": "OCRA-2:HOTP-SHA1-6:QN08", "secret_hex": SECRET_HEX, "question": "1"}, "UnsupportedVersion", "version 2"),
        ("otp-generator.ocra", {"suite": "OCRA-1:HOTP-SHA1-0:QN08", "secret_hex": SECRET_HEX, "question": "1"}, "UnsupportedTruncation", "no truncation"),
        ("otp-generator.ocra", {"suite": "OCRA-1:HOTP-SHA1-6:C-QN08", "secret_hex": SECRET_HEX, "question": "1"}, "InputError", "no counter"),
        ("otp-generator.ocra", {"suite": "OCRA-1:HOTP-SHA1-6:QN08-S064", "secret_hex": SECRET_HEX, "question": "1", "session_hex": "0"}, "InputError", "session_hex is not valid hex"),
    ],
)
def test_bad_params_are_refused(adapter, op, params, status, fragment):
    with pytest.raises(Refused) as info:
        adapter.call(op, params)
    assert info.value.status == status
    assert fragment in str(info.value)
    assert SECRET_HEX not in str(info.value) and SECRET_HEX[:-1] not in str(info.value)


def test_unknown_operation_is_unsupported(adapter):
    with pytest.raises(Unsupported):
        adapter.call("otp-generator.verify", {"secret_hex": SECRET_HEX})
