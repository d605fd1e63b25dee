"""OTP generators against the RFC test values (RFC 4226 App. D, RFC 6238 App. B, RFC 6287 App. C).

The expected OTPs are the RFCs' own printed values (vectors/otp), never ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from harness import evidence
from harness.cases import case, require
from harness.vectors import load_json


@dataclass(frozen=True)
class Vector:
    case_id: str
    data: dict[str, Any]

    def __repr__(self) -> str:  # reporters (Allure) print parameters: no secrets
        return f"Vector({self.case_id})"


def _vectors(name: str, key: str) -> list[Vector]:
    out = []
    for index, item in enumerate(load_json(f"otp/{name}")["vectors"]):
        out.append(Vector(f"{index:02d}-{item[key]}".replace(" ", "_").replace(":", "_"), item))
    return out


def _ocra_params(v: dict[str, Any]) -> dict[str, Any]:
    params = {"suite": v["suite"], "secret_hex": v["secret_hex"], "question": v["question"]}
    # The plain PIN; the generator hashes it with the suite's PSHA function.
    for name in ("counter", "pin", "session_hex", "timestamp"):
        if name in v:
            params[name] = v[name]
    return params


@case("hotp", spec="RFC 4226 §5.3, Appendix D", level="MUST")
@pytest.mark.parametrize("vector", _vectors("rfc4226-hotp.json", "counter"))
def test_hotp(otp_generator, vector):
    v = vector.data
    require(otp_generator, "otp.hotp", f"otp.hash.{v['algorithm']}")
    evidence.secret(bytes.fromhex(v["secret_hex"]))
    params = {k: v[k] for k in ("secret_hex", "counter", "digits", "algorithm")}
    got = otp_generator.call("otp-generator.hotp", params)["otp"]
    assert got == v["otp"], f"HOTP(counter={v['counter']}) = {got}, RFC 4226 Appendix D says {v['otp']}"


@case("totp", spec="RFC 6238 §4, Appendix B", level="MUST")
@pytest.mark.parametrize("vector", _vectors("rfc6238-totp.json", "time"))
def test_totp(otp_generator, vector):
    v = vector.data
    require(otp_generator, "otp.totp", f"otp.hash.{v['algorithm']}")
    evidence.secret(bytes.fromhex(v["secret_hex"]))
    params = {k: v[k] for k in ("secret_hex", "time", "step", "t0", "digits", "algorithm")}
    got = otp_generator.call("otp-generator.totp", params)["otp"]
    assert got == v["otp"], f"TOTP({v['algorithm']}, T={v['time']}) = {got}, RFC 6238 Appendix B says {v['otp']}"


@case("ocra", spec="RFC 6287 §5, Appendix C", level="MUST")
@pytest.mark.parametrize("vector", _vectors("rfc6287-ocra.json", "suite"))
def test_ocra(otp_generator, vector):
    v = vector.data
    require(otp_generator, "otp.ocra")
    evidence.secret(bytes.fromhex(v["secret_hex"]))
    got = otp_generator.call("otp-generator.ocra", _ocra_params(v))["otp"]
    assert got == v["otp"], f"OCRA {v['suite']} = {got}, RFC 6287 {v['section']} says {v['otp']}"
