"""reference.otp.totp against RFC 6238 Appendix B, §4.2, and the pyotp / oath peers."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime, timezone

import oath
import pyotp
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from harness.errors import InputError
from harness.vectors import load_json, shared_dir
from reference.otp.totp import time_step_counter, totp, totp_now

DOC = load_json("otp/rfc6238-totp.json")
VECTORS = DOC["vectors"]
IDS = [f"{v['time']}-{v['algorithm']}" for v in VECTORS]
SEED20 = bytes.fromhex("3132333435363738393031323334353637383930")
ALGORITHMS = ("sha1", "sha256", "sha512")


def test_vector_file_names_its_source():
    assert DOC["source"].startswith("RFC 6238 Appendix B")
    assert len(VECTORS) == 18
    assert all(v["rfc"] == "RFC 6238" and v["section"] == "Appendix B" for v in VECTORS)
    # Appendix A: seed (20 bytes) for SHA1, seed32 for SHA256, seed64 for SHA512.
    sizes = {v["algorithm"]: len(bytes.fromhex(v["secret_hex"])) for v in VECTORS}
    assert sizes == {"sha1": 20, "sha256": 32, "sha512": 64}


def test_vector_file_matches_rfc_text():
    shared = shared_dir()
    if shared is None or not (shared / "specs" / "rfc6238.txt").is_file():
        pytest.skip("../shared/specs/rfc6238.txt absent: cannot re-check the transcription")
    text = (shared / "specs" / "rfc6238.txt").read_text()
    flat = re.sub(r"\s+", "", text)
    for v in VECTORS:
        date = v["utc"].split()[0]
        row = rf"\|\s+{v['time']}\s+\|\s+{date}\s+\|\s+{v['t_hex']}\s+\|\s+{v['otp']}\s+\|\s+{v['algorithm'].upper()}\s+\|"
        assert re.search(row, text), v
        assert v["secret_hex"] in flat.replace('"+"', "")  # the seeds are split over Java lines


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_appendix_b_totp(v):
    secret = bytes.fromhex(v["secret_hex"])
    otp = totp(secret, v["time"], step=v["step"], t0=v["t0"], digits=v["digits"], algorithm=v["algorithm"])
    assert otp == v["otp"]


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_appendix_b_time_step_value(v):
    assert time_step_counter(v["time"], step=v["step"], t0=v["t0"]) == int(v["t_hex"], 16)


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_appendix_b_utc_column(v):
    # A check of the vector data: the table's UTC column is the same instant as its seconds.
    assert datetime.fromtimestamp(v["time"], timezone.utc).strftime("%Y-%m-%d %H:%M:%S") == v["utc"]


def test_section_4_2_floor_examples():
    # "with T0 = 0 and Time Step X = 30, T = 1 if the current Unix time is 59 seconds,
    # and T = 2 if the current Unix time is 60 seconds."
    assert time_step_counter(59) == 1
    assert time_step_counter(60) == 2


def test_t0_shifts_the_count():
    assert time_step_counter(1000, t0=1000) == 0
    assert time_step_counter(1000 + 59, t0=1000) == 1
    # Same T as the RFC's time 59 with T0 = 0, hence the RFC's value.
    assert totp(SEED20, 1000 + 59, t0=1000, digits=8) == "94287082"


def test_beyond_2038_needs_more_than_32_bits():
    # RFC 6238 §4.2: T larger than a 32-bit integer must work.
    assert time_step_counter(2**32 * 30 + 5) == 2**32


def test_clock_is_injected():
    assert totp_now(SEED20, lambda: 59, digits=8) == "94287082"
    assert totp_now(SEED20, lambda: 1111111109, digits=8) == "07081804"


@pytest.mark.parametrize(
    "time, kwargs, fragment",
    [
        (999, {"t0": 1000}, "before T0"),
        (0, {"t0": 1}, "before T0"),
        (59, {"step": 0}, "step must be in 1.."),
        (59, {"step": -30}, "step must be in 1.."),
        (59.5, {}, "time must be an integer"),
        (True, {}, "time must be an integer"),
        (59, {"t0": 0.0}, "t0 must be an integer"),
        (59, {"digits": 5}, "digits must be in 6..10"),
        (59, {"algorithm": "sha384"}, "hash algorithm must be one of"),
    ],
)
def test_invalid_inputs_are_refused(time, kwargs, fragment):
    with pytest.raises(InputError) as info:
        totp(SEED20, time, **kwargs)
    assert fragment in str(info.value)
    assert SEED20.hex() not in str(info.value)


# ---------------------------------------------------------------- independent peers
SETTINGS = settings(max_examples=150, deadline=None)
PYOTP_TIME_LIMIT = 253402300800  # pyotp refuses year 10000 and later


@SETTINGS
@given(
    secret=st.binary(min_size=14, max_size=64),
    time=st.integers(0, PYOTP_TIME_LIMIT - 1),
    step=st.integers(1, 120),  # pyotp's interval range
    digits=st.integers(6, 10),
    algorithm=st.sampled_from(ALGORITHMS),
)
def test_agrees_with_pyotp(secret, time, step, digits, algorithm):
    peer = pyotp.TOTP(base64.b32encode(secret).decode(), digits=digits, digest=getattr(hashlib, algorithm), interval=step)
    assert totp(secret, time, step=step, digits=digits, algorithm=algorithm) == peer.at(time)


@SETTINGS
@given(
    secret=st.binary(min_size=14, max_size=64),
    time=st.integers(0, PYOTP_TIME_LIMIT - 1),
    t0=st.integers(0, PYOTP_TIME_LIMIT - 1),
    step=st.integers(1, 120),
)
def test_t0_agrees_with_pyotp_at_shifted_time(secret, time, t0, step):
    # floor((time - T0) / X) (RFC 6238 §4.2) is pyotp's count at time - T0.
    assume(time >= t0)
    peer = pyotp.TOTP(base64.b32encode(secret).decode(), interval=step)
    assert totp(secret, time, step=step, t0=t0) == peer.at(time - t0)


@SETTINGS
@given(
    secret=st.binary(min_size=1, max_size=80),
    time=st.integers(0, 2**40),  # oath divides in floating point; keep it exact
    step=st.integers(1, 3600),
    digits=st.sampled_from([6, 7, 8]),
    algorithm=st.sampled_from(ALGORITHMS),
)
def test_agrees_with_oath(secret, time, step, digits, algorithm):
    expected = oath.totp(secret.hex(), format=f"dec{digits}", period=step, t=time, hash=getattr(hashlib, algorithm))
    assert totp(secret, time, step=step, digits=digits, algorithm=algorithm) == expected
