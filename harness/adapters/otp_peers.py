"""Third-party OTP generators as otp-generator adapters: pyotp, python-oath, oathtool.

Each wrapper parses params with the same contract as the reference
(``reference.otp.params``: shape only), maps them onto the peer's own API and otherwise
lets the peer decide: a value the peer rejects with its own error (ValueError for the two
Python libraries, a nonzero exit for oathtool) is a clean refusal; anything else it
raises is a fault of the peer.  What a peer's API cannot express at all is declined with
``Unsupported`` (the case outcome is UNSUPPORTED, not a finding):

=========  =====================================  ===========================================
peer       supports                               declines
=========  =====================================  ===========================================
pyotp      HOTP, TOTP; SHA-1/256/512; digits 6-10  OCRA; TOTP with T0 != 0 (no T0 parameter)
oath       HOTP, TOTP, OCRA; SHA-1/256/512         HOTP/TOTP with 9 or 10 digits (formats are
                                                   dec4/6/7/8); TOTP with T0 != 0
oathtool   HOTP (SHA-1), TOTP (SHA-1/256/512)      HOTP with SHA-256/512 (no option); OCRA
=========  =====================================  ===========================================

Peer messages are passed on with this call's secrets redacted (python-oath, for one,
puts a PIN digest into its error text).
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import importlib.util
import os
import shutil
import subprocess
from importlib import metadata
from typing import Any, Callable

from harness.adapters.base import AdapterSpec, InProcessTransportSpec, bundled_xfail
from harness.adapters.inprocess import operation
from harness.errors import AdapterCrash, AdapterGarbage, AdapterTimeout, InputError, Unsupported
from harness.redaction import fingerprint, redact_text
from reference.otp.params import hotp_request, ocra_request, totp_request

ROLE = "otp-generator"
HOTP_OP = "otp-generator.hotp"
TOTP_OP = "otp-generator.totp"
OCRA_OP = "otp-generator.ocra"
ALL_HASHES = frozenset({"otp.hash.sha1", "otp.hash.sha256", "otp.hash.sha512"})
OATHTOOL_TIMEOUT_S = 10.0


# --------------------------------------------------------------------------- helpers
def _redact(text: str, secrets: tuple[bytes | None, ...]) -> str:
    found = [s for s in secrets if s]
    for secret in found:  # repr spellings (b'...') are not among redaction.spellings
        text = text.replace(repr(secret), fingerprint(secret))
    return redact_text(text, found)


def _refusal(peer: str, exc: BaseException, *secrets: bytes | None) -> InputError:
    """The peer rejected the input with its own error: a clean refusal, secrets redacted."""
    return InputError(f"refused: {type(exc).__name__}: {_redact(str(exc), secrets)}", where=peer)


def _module_check(module: str, hint: str) -> Callable[[], str | None]:
    def check() -> str | None:
        return None if importlib.util.find_spec(module) is not None else f"{module} not installed ({hint})"

    return check


def _dist_version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return ""


def _hash(algorithm: str) -> Callable[..., Any]:
    return getattr(hashlib, algorithm)  # the contract allows sha1/sha256/sha512 only


# --------------------------------------------------------------------------- pyotp
class PyotpPeer:
    """pyotp: secrets are base32 strings; no T0, no OCRA."""

    def __init__(self) -> None:
        self._pyotp = importlib.import_module("pyotp")

    @staticmethod
    def _base32(secret: bytes) -> str:
        return base64.b32encode(secret).decode("ascii")

    @operation(HOTP_OP)
    def hotp(self, params: dict[str, Any]) -> dict[str, Any]:
        r = hotp_request(params)
        try:
            gen = self._pyotp.HOTP(self._base32(r.secret), digits=r.digits, digest=_hash(r.algorithm))
            return {"otp": gen.at(r.counter)}
        except ValueError as exc:
            raise _refusal("pyotp", exc, r.secret) from None

    @operation(TOTP_OP)
    def totp(self, params: dict[str, Any]) -> dict[str, Any]:
        r = totp_request(params)
        if r.t0 != 0:
            raise Unsupported("pyotp.TOTP has no T0 (start time) parameter", adapter="pyotp", operation=TOTP_OP)
        try:
            gen = self._pyotp.TOTP(self._base32(r.secret), digits=r.digits, digest=_hash(r.algorithm), interval=r.step)
            return {"otp": gen.at(r.time)}
        except ValueError as exc:
            raise _refusal("pyotp", exc, r.secret) from None


def pyotp_spec() -> AdapterSpec:
    return AdapterSpec(
        name="pyotp",
        roles=frozenset({ROLE}),
        capabilities=frozenset({"otp.hotp", "otp.totp"}) | ALL_HASHES,
        transport=InProcessTransportSpec(factory=PyotpPeer),
        third_party=True,
        version=_dist_version("pyotp"),
        description="pyotp (PyPI): HOTP and TOTP, digits 6-10, SHA-1/256/512; no T0, no OCRA",
        check=_module_check("pyotp", "pip install pyotp, or keyprov-lab[peers]"),
        xfail_file=bundled_xfail("pyotp"),
    )


# --------------------------------------------------------------------------- oath
class OathPeer:
    """python-oath (``import oath``): hex-string keys, ``format='decN'`` outputs, OCRA."""

    FORMATS_UNAVAILABLE = (9, 10)  # RFC 4226 E.1 / RFC 6287 allow them; oath.hotp has no format

    def __init__(self) -> None:
        self._oath = importlib.import_module("oath")

    def _format(self, digits: int, op: str) -> str:
        if digits in self.FORMATS_UNAVAILABLE:
            raise Unsupported(f"oath has no dec{digits} output format (dec4/6/7/8 only)", adapter="oath", operation=op)
        return f"dec{digits}"  # anything else oath itself refuses ("unknown format")

    @operation(HOTP_OP)
    def hotp(self, params: dict[str, Any]) -> dict[str, Any]:
        r = hotp_request(params)
        fmt = self._format(r.digits, HOTP_OP)
        try:
            return {"otp": self._oath.hotp(r.secret.hex(), r.counter, format=fmt, hash=_hash(r.algorithm))}
        except ValueError as exc:
            raise _refusal("oath", exc, r.secret) from None

    @operation(TOTP_OP)
    def totp(self, params: dict[str, Any]) -> dict[str, Any]:
        r = totp_request(params)
        if r.t0 != 0:
            raise Unsupported("oath.totp has no T0 (start time) parameter", adapter="oath", operation=TOTP_OP)
        fmt = self._format(r.digits, TOTP_OP)
        try:
            otp = self._oath.totp(r.secret.hex(), format=fmt, period=r.step, t=r.time, hash=_hash(r.algorithm))
        except ValueError as exc:
            raise _refusal("oath", exc, r.secret) from None
        return {"otp": otp}

    @operation(OCRA_OP)
    def ocra(self, params: dict[str, Any]) -> dict[str, Any]:
        r = ocra_request(params)
        secrets = (r.secret, r.pin_hash, r.pin.encode("utf-8") if r.pin else None)
        try:
            suite = self._oath.str2ocrasuite(r.suite)
            kwargs: dict[str, Any] = {}
            if r.counter is not None:
                kwargs["C"] = r.counter
            # oath takes two concatenated questions (mutual modes, RFC 6287 §7.2) as Qsc,
            # which doubles its length limit; one question as Q.
            limit = suite.data_input.Q[1] if suite.data_input.Q else None
            kwargs["Qsc" if limit is not None and len(r.question) > limit else "Q"] = r.question
            if r.pin is not None:
                kwargs["P"] = r.pin
            if r.pin_hash is not None:
                kwargs["P_digest"] = r.pin_hash
            if r.session is not None:
                kwargs["S"] = r.session
            if r.timestamp is not None:
                kwargs["T_precomputed"] = r.timestamp
            return {"otp": suite(r.secret, **kwargs)}
        except ValueError as exc:
            raise _refusal("oath", exc, *secrets) from None


def oath_spec() -> AdapterSpec:
    return AdapterSpec(
        name="oath",
        roles=frozenset({ROLE}),
        capabilities=frozenset({"otp.hotp", "otp.totp", "otp.ocra"}) | ALL_HASHES,
        transport=InProcessTransportSpec(factory=OathPeer),
        third_party=True,
        version=_dist_version("oath"),
        description="python-oath (PyPI 'oath'): HOTP/TOTP (dec4/6/7/8, no T0) and OCRA, SHA-1/256/512",
        check=_module_check("oath", "pip install oath, or keyprov-lab[peers]"),
    )


# --------------------------------------------------------------------------- oathtool
class OathtoolPeer:
    """oathtool (OATH Toolkit) driven as a subprocess.

    The key goes in as hex on stdin (KEY '-'), never on the command line where other
    users could read it.  Every value is passed in ``--option=value`` form so negative
    numbers reach oathtool as values, not as options.
    """

    def __init__(self, binary: str | None = None, timeout_s: float = OATHTOOL_TIMEOUT_S) -> None:
        self.binary = binary or shutil.which("oathtool") or "oathtool"
        self.timeout_s = timeout_s

    def _run(self, args: list[str], secret: bytes) -> str:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
        try:
            done = subprocess.run(
                [self.binary, *args, "-"],
                input=secret.hex() + "\n",
                capture_output=True,
                text=True,
                timeout=self.timeout_s,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise AdapterTimeout(f"oathtool did not answer within {self.timeout_s:g}s", adapter="oathtool") from None
        except OSError as exc:
            raise AdapterCrash(f"cannot run oathtool: {exc}", adapter="oathtool") from None
        stderr = _redact(done.stderr.strip(), (secret,))
        if done.returncode < 0:
            raise AdapterCrash(f"oathtool killed by signal {-done.returncode}: {stderr:.300}", adapter="oathtool")
        if done.returncode != 0:
            raise InputError(f"refused (exit {done.returncode}): {stderr:.300}", where="oathtool")
        out = done.stdout.strip()
        if not out.isdigit() or not out.isascii():
            raise AdapterGarbage(f"oathtool printed {_redact(out, (secret,))!r:.100}, not an OTP", adapter="oathtool")
        return out

    @operation(HOTP_OP)
    def hotp(self, params: dict[str, Any]) -> dict[str, Any]:
        r = hotp_request(params)
        if r.algorithm != "sha1":
            raise Unsupported("oathtool --hotp has no hash option (HMAC-SHA-1 only)", adapter="oathtool", operation=HOTP_OP)
        return {"otp": self._run(["--hotp", f"--counter={r.counter}", f"--digits={r.digits}"], r.secret)}

    @operation(TOTP_OP)
    def totp(self, params: dict[str, Any]) -> dict[str, Any]:
        r = totp_request(params)
        args = [
            f"--totp={r.algorithm.upper()}",
            f"--now=@{r.time}",
            f"--start-time=@{r.t0}",
            f"--time-step-size={r.step}s",
            f"--digits={r.digits}",
        ]
        return {"otp": self._run(args, r.secret)}


def _oathtool_version() -> str:
    binary = shutil.which("oathtool")
    if binary is None:
        return ""
    try:
        done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    first = done.stdout.splitlines()[0] if done.stdout else ""
    return first.rsplit(" ", 1)[-1] if done.returncode == 0 and first else ""


def _oathtool_check() -> str | None:
    if shutil.which("oathtool") is None:
        return "oathtool not installed (Debian package oathtool)"
    return None


def oathtool_spec() -> AdapterSpec:
    return AdapterSpec(
        name="oathtool",
        roles=frozenset({ROLE}),
        capabilities=frozenset({"otp.hotp", "otp.totp"}) | ALL_HASHES,
        transport=InProcessTransportSpec(factory=OathtoolPeer),
        third_party=True,
        version=_oathtool_version(),
        description="oathtool (OATH Toolkit CLI): HOTP with SHA-1, TOTP with SHA-1/256/512 (--totp=MODE), "
        "digits 6-8; no OCRA",
        check=_oathtool_check,
    )
