"""The reference OTP generator as an in-process adapter (role "otp-generator").

Operations (params and results are JSON; see reference.otp.params for the contract):

* ``otp-generator.hotp``  {secret_hex, counter, digits=6, algorithm="sha1"} -> {otp}
* ``otp-generator.totp``  {secret_hex, time, step=30, t0=0, digits=6, algorithm} -> {otp}
* ``otp-generator.ocra``  {suite, secret_hex, question, counter?, pin? | pin_hash_hex?,
  session_hex?, timestamp?} -> {otp}; ``timestamp`` is T, already in time steps.

Bad params and inputs the RFCs do not allow raise InputError / UnsupportedFeature, which
the in-process transport turns into clean refusals.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

from harness.adapters.base import AdapterSpec, InProcessTransportSpec
from harness.adapters.inprocess import operation
from reference.otp.hotp import hotp as compute_hotp
from reference.otp.ocra import ocra as compute_ocra
from reference.otp.totp import totp as compute_totp
from reference.otp.params import hotp_request, ocra_request, totp_request

NAME = "reference-otp"
CAPABILITIES = frozenset(
    {"otp.hotp", "otp.totp", "otp.ocra", "otp.hash.sha1", "otp.hash.sha256", "otp.hash.sha512"}
)


class ReferenceOtp:
    """Stateless: every call carries its counter / time, so every answer replays."""

    @operation("otp-generator.hotp")
    def hotp(self, params: dict[str, Any]) -> dict[str, Any]:
        r = hotp_request(params)
        return {"otp": compute_hotp(r.secret, r.counter, digits=r.digits, algorithm=r.algorithm)}

    @operation("otp-generator.totp")
    def totp(self, params: dict[str, Any]) -> dict[str, Any]:
        r = totp_request(params)
        otp = compute_totp(r.secret, r.time, step=r.step, t0=r.t0, digits=r.digits, algorithm=r.algorithm)
        return {"otp": otp}

    @operation("otp-generator.ocra")
    def ocra(self, params: dict[str, Any]) -> dict[str, Any]:
        r = ocra_request(params)
        otp = compute_ocra(
            r.secret,
            r.suite,
            question=r.question,
            counter=r.counter,
            pin=r.pin,
            pin_hash=r.pin_hash,
            session=r.session,
            timestamp=r.timestamp,
        )
        return {"otp": otp}


def _version() -> str:
    try:
        return metadata.version("keyprov-lab")
    except metadata.PackageNotFoundError:
        return ""


def adapter_spec() -> AdapterSpec:
    return AdapterSpec(
        name=NAME,
        roles=frozenset({"otp-generator"}),
        capabilities=CAPABILITIES,
        transport=InProcessTransportSpec(factory=ReferenceOtp),
        third_party=False,
        version=_version(),
        description="keyprov-lab reference OTP generator: HOTP (RFC 4226), TOTP (RFC 6238), OCRA (RFC 6287)",
    )
