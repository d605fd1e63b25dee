"""The pyotp / oath / oathtool peer adapters, driven through the registry with RFC vectors."""

from __future__ import annotations

import importlib.util
import shutil
import stat
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from harness.adapters import otp_peers
from harness.adapters.otp_peers import OathtoolPeer, oath_spec, oathtool_spec, pyotp_spec
from harness.adapters.registry import open_adapter, probe
from harness.errors import AdapterCrash, AdapterGarbage, AdapterTimeout, AdapterUnavailable, Fault, InputError, Refused, Unsupported
from harness.vectors import load_json
from reference.otp.totp import totp as reference_totp

HOTP = load_json("otp/rfc4226-hotp.json")["vectors"]
TOTP = load_json("otp/rfc6238-totp.json")["vectors"]
OCRA = load_json("otp/rfc6287-ocra.json")["vectors"]
SECRET_HEX = "3132333435363738393031323334353637383930"
SPECS = {"pyotp": pyotp_spec, "oath": oath_spec, "oathtool": oathtool_spec}
OPS = {"otp.hotp": "otp-generator.hotp", "otp.totp": "otp-generator.totp", "otp.ocra": "otp-generator.ocra"}
# One RFC case per operation, for the capability checks.
SAMPLE = {
    "otp-generator.hotp": ({"secret_hex": SECRET_HEX, "counter": 1}, "287082"),
    "otp-generator.totp": ({"secret_hex": SECRET_HEX, "time": 59, "digits": 8}, "94287082"),
    "otp-generator.ocra": ({"suite": "OCRA-1:HOTP-SHA1-6:QN08", "secret_hex": SECRET_HEX, "question": "00000000"}, "237653"),
}


@pytest.fixture(scope="module", params=sorted(SPECS))
def peer(request):
    spec = SPECS[request.param]()
    reason = spec.unavailable_reason()
    if reason:
        pytest.skip(reason)
    adapter = open_adapter(spec)
    yield adapter
    adapter.close()


def _open(name: str):
    spec = SPECS[name]()
    reason = spec.unavailable_reason()
    if reason:
        pytest.skip(reason)
    return open_adapter(spec)


@pytest.fixture(scope="module")
def oath_peer():
    adapter = _open("oath")
    yield adapter
    adapter.close()


# ---------------------------------------------------------------- specs
@pytest.mark.parametrize("name", sorted(SPECS))
def test_entry_point_gives_the_spec(name):
    (ep,) = entry_points(group="kplab.adapters", name=name)
    spec = ep.load()()
    assert spec.name == name
    assert spec.roles == frozenset({"otp-generator"})
    assert spec.third_party is True
    assert spec.description


@pytest.mark.parametrize(
    "name, capabilities",
    [
        ("pyotp", {"otp.hotp", "otp.totp"}),
        ("oath", {"otp.hotp", "otp.totp", "otp.ocra"}),
        ("oathtool", {"otp.hotp", "otp.totp"}),
    ],
)
def test_declared_operations(name, capabilities):
    caps = SPECS[name]().capabilities
    assert {c for c in caps if c in OPS} == capabilities
    assert {"otp.hash.sha1", "otp.hash.sha256", "otp.hash.sha512"} <= caps


def test_versions_come_from_the_peers():
    from importlib.metadata import version

    if importlib.util.find_spec("pyotp"):
        assert pyotp_spec().version == version("pyotp")
    if importlib.util.find_spec("oath"):
        assert oath_spec().version == version("oath")
    if shutil.which("oathtool"):
        assert oathtool_spec().version[:1].isdigit()


def test_missing_binary_is_reported(monkeypatch):
    monkeypatch.setattr(otp_peers.shutil, "which", lambda name: None)
    spec = oathtool_spec()
    assert spec.unavailable_reason() == "oathtool not installed (Debian package oathtool)"
    assert spec.version == ""
    with pytest.raises(AdapterUnavailable):
        open_adapter(spec)


@pytest.mark.parametrize("name, module", [("pyotp", "pyotp"), ("oath", "oath")])
def test_missing_package_is_reported(monkeypatch, name, module):
    real = importlib.util.find_spec
    monkeypatch.setattr(otp_peers.importlib.util, "find_spec", lambda m, *a: None if m == module else real(m, *a))
    reason = SPECS[name]().unavailable_reason()
    assert reason and reason.startswith(f"{module} not installed")


# ---------------------------------------------------------------- every peer
def test_probe_answers_unsupported(peer):
    assert probe(peer).outcome == "ok"


def test_declared_capabilities_work_and_others_are_unsupported(peer):
    for capability, op in OPS.items():
        params, otp = SAMPLE[op]
        if peer.spec.has(capability):
            assert peer.call(op, params) == {"otp": otp}, op
        else:
            with pytest.raises(Unsupported):
                peer.call(op, params)


@pytest.mark.parametrize("v", HOTP, ids=lambda v: f"count{v['counter']}")
def test_hotp_rfc4226(peer, v):
    params = {"secret_hex": v["secret_hex"], "counter": v["counter"], "digits": v["digits"], "algorithm": v["algorithm"]}
    assert peer.call("otp-generator.hotp", params) == {"otp": v["otp"]}


@pytest.mark.parametrize("v", TOTP, ids=lambda v: f"{v['time']}-{v['algorithm']}")
def test_totp_rfc6238(peer, v):
    params = {k: v[k] for k in ("secret_hex", "time", "step", "t0", "digits", "algorithm")}
    assert peer.call("otp-generator.totp", params) == {"otp": v["otp"]}


def test_bad_params_are_refused_before_the_peer(peer):
    with pytest.raises(Refused) as info:
        peer.call("otp-generator.hotp", {"secret_hex": "zz" + SECRET_HEX, "counter": 1})
    assert "secret_hex is not valid hex" in str(info.value)
    assert SECRET_HEX not in str(info.value)


# ---------------------------------------------------------------- per peer
def test_oath_ocra_rfc6287(oath_peer):
    for v in OCRA:
        params = {"suite": v["suite"], "secret_hex": v["secret_hex"], "question": v["question"]}
        for key in ("counter", "pin", "timestamp"):
            if key in v:
                params[key] = v[key]
        assert oath_peer.call("otp-generator.ocra", params) == {"otp": v["otp"]}, v


def test_oath_ocra_pin_hash(oath_peer):
    # python-oath <= 1.4.5 reads hashlib.sha1.digest_size, which does not exist, when given
    # a PIN digest: the peer blows up.  The adapter must report that as the peer's fault.
    v = next(v for v in OCRA if "pin_hash_hex" in v)
    params = {k: v[k] for k in ("suite", "secret_hex", "question", "pin_hash_hex") if k in v}
    params.update({k: v[k] for k in ("counter", "timestamp") if k in v})
    try:
        answer = oath_peer.call("otp-generator.ocra", params)
    except Fault as exc:
        assert exc.type == "AttributeError"
    else:
        assert answer == {"otp": v["otp"]}


def test_oath_refusal_names_the_peer(oath_peer):
    with pytest.raises(Refused) as info:
        oath_peer.call("otp-generator.ocra", {"suite": "OCRA-2:HOTP-SHA1-6:QN08", "secret_hex": SECRET_HEX, "question": "1"})
    assert str(info.value).startswith("oath: refused: ValueError")


@pytest.mark.parametrize(
    "name, op, params",
    [
        ("pyotp", "otp-generator.totp", {"secret_hex": SECRET_HEX, "time": 59, "t0": 1}),
        ("oath", "otp-generator.totp", {"secret_hex": SECRET_HEX, "time": 59, "t0": 1}),
        ("oath", "otp-generator.hotp", {"secret_hex": SECRET_HEX, "counter": 1, "digits": 9}),
        ("oath", "otp-generator.totp", {"secret_hex": SECRET_HEX, "time": 59, "digits": 10}),
        ("oathtool", "otp-generator.hotp", {"secret_hex": SECRET_HEX, "counter": 1, "algorithm": "sha256"}),
        ("oathtool", "otp-generator.ocra", SAMPLE["otp-generator.ocra"][0]),
        ("pyotp", "otp-generator.ocra", SAMPLE["otp-generator.ocra"][0]),
    ],
)
def test_what_a_peer_cannot_express_is_unsupported(name, op, params):
    adapter = _open(name)
    with pytest.raises(Unsupported):
        adapter.call(op, params)


@pytest.mark.parametrize(
    "name, params, fragment",
    [
        ("pyotp", {"secret_hex": SECRET_HEX, "counter": 1, "digits": 5}, "pyotp: refused: ValueError: digits must be between 6 and 10"),
        ("pyotp", {"secret_hex": "3132", "counter": 1}, "pyotp: refused: ValueError"),
        ("oath", {"secret_hex": SECRET_HEX, "counter": 1, "digits": 5}, "oath: refused: ValueError: unknown format"),
        ("oathtool", {"secret_hex": SECRET_HEX, "counter": 1, "digits": 9}, "oathtool: refused (exit 1)"),
    ],
)
def test_peer_refusals(name, params, fragment):
    adapter = _open(name)
    with pytest.raises(Refused) as info:
        adapter.call("otp-generator.hotp", params)
    assert fragment in str(info.value)


def test_oathtool_t0():
    # T0 = 1000, time = 1059: T = 1, the RFC 6238 Appendix B value for time 59.
    adapter = _open("oathtool")
    params = {"secret_hex": SECRET_HEX, "time": 1059, "t0": 1000, "digits": 8}
    assert adapter.call("otp-generator.totp", params) == {"otp": "94287082"}


@settings(max_examples=30, deadline=None)
@given(
    secret=st.binary(min_size=1, max_size=64),
    time=st.integers(0, 2**34),
    t0=st.integers(0, 2**34),
    step=st.integers(1, 600),
    digits=st.sampled_from([6, 7, 8]),
    algorithm=st.sampled_from(["sha1", "sha256", "sha512"]),
)
def test_reference_totp_agrees_with_oathtool(secret, time, t0, step, digits, algorithm):
    # oathtool is the one peer with a T0 parameter, so it cross-checks ours.
    if shutil.which("oathtool") is None:
        pytest.skip("oathtool not installed (Debian package oathtool)")
    assume(time >= t0)
    answer = OathtoolPeer().totp(
        {"secret_hex": secret.hex(), "time": time, "t0": t0, "step": step, "digits": digits, "algorithm": algorithm}
    )
    assert answer == {"otp": reference_totp(secret, time, step=step, t0=t0, digits=digits, algorithm=algorithm)}


# ---------------------------------------------------------------- oathtool as a process
def _fake_oathtool(tmp_path: Path, body: str) -> str:
    script = tmp_path / "oathtool"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


HOTP_PARAMS = {"secret_hex": SECRET_HEX, "counter": 1}


def test_oathtool_key_goes_on_stdin_not_argv(tmp_path):
    argv, stdin = tmp_path / "argv", tmp_path / "stdin"
    binary = _fake_oathtool(tmp_path, f'echo "$@" > {argv}; cat > {stdin}; echo 123456')
    assert OathtoolPeer(binary).hotp(HOTP_PARAMS) == {"otp": "123456"}
    assert SECRET_HEX not in argv.read_text()
    assert argv.read_text().split() == ["--hotp", "--counter=1", "--digits=6", "-"]
    assert stdin.read_text().strip() == SECRET_HEX


def test_oathtool_negative_values_are_not_options(tmp_path):
    argv = tmp_path / "argv"
    binary = _fake_oathtool(tmp_path, f'echo "$@" > {argv}; echo 123456')
    OathtoolPeer(binary).totp({"secret_hex": SECRET_HEX, "time": -5, "t0": -30, "step": 30})
    assert argv.read_text().split() == [
        "--totp=SHA1", "--now=@-5", "--start-time=@-30", "--time-step-size=30s", "--digits=6", "-"
    ]


def test_oathtool_nonzero_exit_is_a_refusal_without_the_secret(tmp_path):
    binary = _fake_oathtool(tmp_path, f'echo "bad key {SECRET_HEX}" >&2; exit 3')
    with pytest.raises(InputError) as info:
        OathtoolPeer(binary).hotp(HOTP_PARAMS)
    assert "refused (exit 3): bad key fp:" in str(info.value)
    assert SECRET_HEX not in str(info.value)


def test_oathtool_hang_is_a_timeout(tmp_path):
    binary = _fake_oathtool(tmp_path, "exec sleep 5")
    with pytest.raises(AdapterTimeout):
        OathtoolPeer(binary, timeout_s=0.3).hotp(HOTP_PARAMS)


def test_oathtool_signal_is_a_crash(tmp_path):
    binary = _fake_oathtool(tmp_path, "kill -9 $$")
    with pytest.raises(AdapterCrash, match="signal 9"):
        OathtoolPeer(binary).hotp(HOTP_PARAMS)


def test_oathtool_missing_binary_is_a_crash(tmp_path):
    with pytest.raises(AdapterCrash, match="cannot run oathtool"):
        OathtoolPeer(str(tmp_path / "nope")).hotp(HOTP_PARAMS)


@pytest.mark.parametrize("output", ["", "12a456", "123456\n654321", "１２３４５６"])
def test_oathtool_garbage_output(tmp_path, output):
    binary = _fake_oathtool(tmp_path, f"printf '%s' '{output}'")
    with pytest.raises(AdapterGarbage):
        OathtoolPeer(binary).hotp(HOTP_PARAMS)
