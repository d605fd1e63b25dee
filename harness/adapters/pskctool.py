"""Adapter for pskctool (OATH Toolkit 2.6, Debian package pskctool): PSKC validator,
signer/verifier, and a consumer of plaintext containers.

pskctool is a front end to libpskc.  Each operation runs the binary once
(``subprocess.run`` with a timeout, the document on stdin), from an implementation class
that is itself served out of process through ``shim_server`` like python-pskc.  What the
tool really does, read from its source (pskctool.c, libpskc output.c / sign.c) and checked
against the binary (tests/harness/adapters/test_pskctool.py shows each point):

* ``--validate`` checks the document against libpskc's copy of the RFC 6030 schema
  (/usr/share/xml/pskc/pskc-schema.xsd) and prints ``OK`` or ``FAIL`` on stdout, always
  exiting 0; libxml2's schema messages go to stderr.  Only a document libpskc cannot
  parse at all (not XML, bad base64 in a PlainValue) exits 1.  Both are verdicts here:
  ``valid`` false with pskctool's messages.
* ``--info`` prints a human-readable summary (the labels of libpskc's output.c), parsed
  back into KEY fields below.  libpskc has no decryption: an <EncryptedValue> is skipped
  with "warning: parse error" on stderr (passed on as a result warning) and the key comes
  back without a secret.  A decode that is given a pre-shared key, password or private
  key is therefore declined (``Unsupported``).  libpskc reads numbers with strtoul-style
  parsing and dates with a fixed "Z" pattern: ``Counter`` "abc" becomes 0, a
  ``MinLength`` "FOUR" becomes 0, a date's UTC offset is dropped; all reported as given.
  NumberOfTransactions and CheckDigits are not printed, so never returned.
* ``--sign`` rebuilds the document from libpskc's parsed model (``pskc_build_xml``) and
  signs it enveloped with RSA-SHA1 / SHA-1 digest / exclusive C14N, a ``<Reference>``
  without ``URI`` and the certificate in ``<X509Data>``.  Whatever libpskc did not parse
  (EncryptionKey, MACMethod, encrypted secrets) is silently missing from the signed
  output; the stderr warning is passed on as a result warning.  Non-RSA keys fail.
* ``--verify`` prints ``OK``/``FAIL`` (exit 0) for a signature it could check, and exits
  1 ("verifying PSKC data: error returned from XMLSec library") when it could not (no
  Signature, certificate not trusted): both are ``valid`` false here.

Operations beyond docs/adapters.md's table: ``pskc-validator.sign``
{document_b64, private_key_pem, certificate_pem} -> {document_b64, warnings?} and
``pskc-validator.verify`` {document_b64, certificate_pem} -> {valid, messages}.  The key
member is ``private_key_pem`` (not ``key_pem``) because that is the name evidence
redaction knows as key material.

The ``--info`` text is line-oriented: a value that itself contains a newline continues
on the next line, which is how it is read back; a value containing a newline followed by
tabs and a known label would be misread (libpskc offers no machine-readable output).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

from harness.adapters.base import AdapterSpec, ShimTransportSpec, bundled_xfail
from harness.adapters.inprocess import operation
from harness.errors import AdapterCrash, AdapterGarbage, AdapterTimeout, InputError, ProtocolError, Unsupported

ADAPTER = "pskctool"
DEFAULT_BINARY = "/usr/bin/pskctool"
RUN_TIMEOUT_S = 20.0  # below the shim's 30 s, so a hang is reported as this call's fault
MAX_MESSAGES = 50


# --------------------------------------------------------------------------- --info text
def _date(text: str) -> str:
    # libpskc prints strftime("%Y-%m-%d %H:%M:%S") of the struct tm it parsed from an
    # xs:dateTime ending in "Z": the time is UTC.
    return text.strip().replace(" ", "T") + "Z"


def _b64_secret(text: str) -> str:
    return base64.b64decode(text.strip(), validate=True).hex()


_INT: Callable[[str], Any] = lambda text: int(text.strip())  # noqa: E731 - a table entry

# libpskc output.c labels (third indentation level) -> (KEY field, converter).
_KEY_LABELS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "Manufacturer": ("manufacturer", str),
    "SerialNo": ("serial", str),
    "Model": ("model", str),
    "IssueNo": ("issue_no", str),
    "DeviceBinding": ("device_binding", str),
    "Device StartDate": ("start_date", _date),
    "Device ExpiryDate": ("expiry_date", _date),
    "UserId": ("device_user_id", str),
    "Id": ("id", str),
    "FriendlyName": ("friendly_name", str),
    "Issuer": ("issuer", str),
    "Algorithm": ("algorithm", str),
    "Key User Id": ("user_id", str),
    "Key Profile Id": ("key_profile_id", str),
    "Key Reference": ("key_reference", str),
    "Key Secret (base64)": ("secret_hex", _b64_secret),
    "Key Counter": ("counter", _INT),
    "Key Time": ("time", _INT),
    "Key TimeInterval": ("time_interval", _INT),
    "Key TimeDrift": ("time_drift", _INT),
    "Key Usage": ("key_usage", lambda text: text.split()),
    "Policy StartDate": ("policy_start_date", _date),
    "Policy ExpiryDate": ("policy_expiry_date", _date),
    "PIN Policy Minimum Length": ("pin_min_length", _INT),
    "PIN Policy Maximum Length": ("pin_max_length", _INT),
    "PIN Policy PIN Key Id": ("pin_key_id", str),
    "PIN Policy PIN Encoding": ("pin_encoding", str),
    "PIN Policy PIN Usage Mode": ("pin_usage_mode", str),
    "PIN Policy PIN Max Failed Attempts": ("pin_max_failed_attempts", _INT),
    "Algorithm Parameters Suite": ("suite", str),
    "Challenge Format Encoding": ("challenge_encoding", str),
    "Challenge Format Min": ("challenge_min", _INT),
    "Challenge Format Max": ("challenge_max", _INT),
    "Response Format Length": ("response_length", _INT),
    "Response Format Encoding": ("response_encoding", str),
}
_PACKAGE_LABELS = {"CryptoModuleInfo Id": ("crypto_module", str)}
_CONTAINER_LABELS = {"Version", "Id", "Signed"}
_LINE = re.compile(r"^(\t{1,3})([^\t:][^:]*?):(?: (.*))?$")


def parse_info(text: str) -> list[dict[str, Any]]:
    """KEY dicts from ``pskctool --info`` output (one per KeyPackage, in order)."""
    keys: list[dict[str, Any]] = []
    raw: list[dict[str, str]] = []
    last: tuple[dict[str, str], str] | None = None  # where a continuation line goes
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or lines[0] != "Portable Symmetric Key Container (PSKC):":
        raise AdapterGarbage(f"pskctool --info printed an unexpected header: {lines[:1]!r:.80}", adapter=ADAPTER)
    for number, line in enumerate(lines[1:], start=2):
        match = _LINE.match(line)
        depth, label, value = (len(match.group(1)), match.group(2), match.group(3) or "") if match else (0, "", "")
        if depth == 1 and re.fullmatch(r"KeyPackage \d+", label) and not value:
            raw.append({})
            last = None
        elif depth == 1 and label in _CONTAINER_LABELS:
            last = ({label: value}, label)  # container attributes are not KEY fields
        elif depth == 2 and label in ("DeviceInfo", "Key") and not value:
            last = None
        elif raw and ((depth == 3 and label in _KEY_LABELS) or (depth == 2 and label in _PACKAGE_LABELS)):
            raw[-1][label] = value
            last = (raw[-1], label)
        elif last is not None:
            # libpskc prints element text verbatim: a value with a newline goes on.
            last[0][last[1]] += "\n" + line
        else:
            raise AdapterGarbage(f"pskctool --info output line {number} has an unknown form", adapter=ADAPTER)
    for entry in raw:
        key: dict[str, Any] = {}
        for label, value in entry.items():
            field, convert = _KEY_LABELS.get(label) or _PACKAGE_LABELS[label]
            try:
                key[field] = convert(value)
            except (ValueError, binascii.Error):
                problem = f"pskctool --info printed {label} in an unexpected form"
                raise AdapterGarbage(problem, adapter=ADAPTER) from None
        keys.append(key)
    return keys


# --------------------------------------------------------------------------- the tool
def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip()][:MAX_MESSAGES]


class PskctoolFailure(Exception):
    """pskctool failed in a way that is no answer about the document: a fault."""


def _failure(stderr: str) -> str:
    """pskctool's own error line (``pskctool: <what>: <libpskc error>``), else the last."""
    lines = _lines(stderr)
    own = [line for line in lines if line.startswith("pskctool: ")]
    return (own or lines or ["(no message)"])[-1]


def _refusal(stderr: str, returncode: int) -> ProtocolError:
    """pskctool refused the input: ``pskctool: <doing what>: <libpskc error text>``."""
    message = _failure(stderr)
    parts = message.split(": ", 2)
    status = f"libpskc: {parts[2]}" if len(parts) == 3 and parts[0] == "pskctool" else f"pskctool exit {returncode}"
    return ProtocolError(message, status=status)


class Pskctool:
    """The operations, run inside the shim process."""

    def __init__(self, binary: str | None = None, timeout_s: float = RUN_TIMEOUT_S) -> None:
        self.binary = binary or _binary() or DEFAULT_BINARY
        self.timeout_s = timeout_s

    def _run(self, args: list[str], document: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
        try:
            done = subprocess.run(
                ["pskctool", *args],  # argv[0] is the name pskctool prefixes its errors with
                executable=self.binary,
                input=document if document is not None else b"",
                capture_output=True,
                timeout=self.timeout_s,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired:
            problem = f"pskctool {args[0]} did not finish within {self.timeout_s:g}s"
            raise AdapterTimeout(problem, adapter=ADAPTER) from None
        except OSError as exc:
            raise AdapterCrash(f"cannot run pskctool: {exc}", adapter=ADAPTER) from None
        if done.returncode < 0:
            stderr = done.stderr.decode("utf-8", "replace")
            problem = f"pskctool {args[0]} killed by signal {-done.returncode}: {stderr[-300:]}"
            raise AdapterCrash(problem, adapter=ADAPTER)
        return done

    @staticmethod
    def _text(data: bytes) -> str:
        return data.decode("utf-8", "replace")

    def _verdict(self, done: subprocess.CompletedProcess[bytes], *rejections: str) -> dict[str, Any]:
        """OK / FAIL on stdout; or exit 1 with one of ``rejections`` (pskctool's own
        failure texts that mean the document is not accepted) as valid false."""
        out, err = self._text(done.stdout).strip(), self._text(done.stderr)
        if done.returncode == 0 and out in ("OK", "FAIL"):
            return {"valid": out == "OK", "messages": _lines(err)}
        failure = _failure(err)
        if done.returncode == 1 and any(failure.startswith(f"pskctool: {what}: ") for what in rejections):
            return {"valid": False, "messages": _lines(err) + [f"pskctool exit status {done.returncode}"]}
        # Anything else is the tool failing (e.g. libpskc cannot load its schema).
        raise PskctoolFailure(f"pskctool exit {done.returncode}, stdout {out[:60]!r}: {failure}")

    @operation("kplab.version")
    def version(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"version": _version(self.binary)}

    @operation("pskc-validator.validate")
    def validate(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._verdict(self._run(["--validate"], _b64(params, "document_b64")), "parsing PSKC data")

    @operation("pskc-validator.verify")
    def verify(self, params: dict[str, Any]) -> dict[str, Any]:
        document = _b64(params, "document_b64")
        certificate = _pem(params, "certificate_pem")
        with tempfile.TemporaryDirectory(prefix="kplab-pskctool-") as folder:
            crt = _private_file(folder, "trusted.crt", certificate)
            done = self._run(["--verify", f"--verify-crt={crt}"], document)
        # "verifying PSKC data: error returned from XMLSec library" is how pskctool says
        # it could not check the signature (none present, certificate not trusted).
        return self._verdict(done, "parsing PSKC data", "verifying PSKC data")

    @operation("pskc-validator.sign")
    def sign(self, params: dict[str, Any]) -> dict[str, Any]:
        document = _b64(params, "document_b64")
        if "key_pem" in params and "private_key_pem" not in params:
            raise InputError("the signing key goes in params.private_key_pem (a member name evidence redaction knows)")
        key, certificate = _pem(params, "private_key_pem"), _pem(params, "certificate_pem")
        with tempfile.TemporaryDirectory(prefix="kplab-pskctool-") as folder:
            key_file = _private_file(folder, "signer.key", key)
            crt_file = _private_file(folder, "signer.crt", certificate)
            done = self._run(["--sign", f"--sign-key={key_file}", f"--sign-crt={crt_file}"], document)
        err = self._text(done.stderr)
        if done.returncode != 0:
            raise _refusal(err, done.returncode)
        result: dict[str, Any] = {"document_b64": base64.b64encode(done.stdout).decode("ascii")}
        warnings = [line for line in _lines(err) if line.startswith("warning:")]
        if warnings:
            result["warnings"] = warnings
        return result

    @operation("pskc-consumer.decode")
    def decode(self, params: dict[str, Any]) -> dict[str, Any]:
        document = _b64(params, "document_b64")
        for secret in ("key_hex", "password", "private_key_pem"):
            if params.get(secret):
                raise Unsupported("pskctool cannot decrypt: libpskc reads PlainValue only and skips EncryptedValue",
                                  adapter=ADAPTER, operation="pskc-consumer.decode")
        done = self._run(["--info"], document)
        err = self._text(done.stderr)
        if done.returncode != 0:
            raise _refusal(err, done.returncode)
        result: dict[str, Any] = {"keys": parse_info(self._text(done.stdout))}
        warnings = [line for line in _lines(err) if line.startswith("warning:")]
        if warnings:
            result["warnings"] = warnings
        return result


# --------------------------------------------------------------------------- helpers
def _b64(params: dict[str, Any], name: str) -> bytes:
    try:
        return base64.b64decode(params[name], validate=True)
    except (KeyError, TypeError, binascii.Error, ValueError):
        raise InputError(f"params.{name} must be base64") from None


def _pem(params: dict[str, Any], name: str) -> bytes:
    value = params.get(name)
    if not isinstance(value, str) or "-----BEGIN " not in value:
        raise InputError(f"params.{name} must be a PEM string")
    return value.encode("ascii", "replace")


def _private_file(folder: str, name: str, data: bytes) -> str:
    path = Path(folder) / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return str(path)


def _binary() -> str | None:
    if os.access(DEFAULT_BINARY, os.X_OK):
        return DEFAULT_BINARY
    return shutil.which("pskctool")


def _version(binary: str | None = None) -> str:
    binary = binary or _binary()
    if binary is None:
        return ""
    try:
        done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    first = done.stdout.splitlines()[0] if done.stdout else ""  # "pskctool (OATH Toolkit) 2.6.7"
    return first.rsplit(" ", 1)[-1] if done.returncode == 0 and first else ""


def _check() -> str | None:
    if _binary() is None:
        return "pskctool not installed (Debian package pskctool)"
    return None


def adapter_spec() -> AdapterSpec:
    return AdapterSpec(
        name=ADAPTER,
        roles=frozenset({"pskc-validator", "pskc-consumer"}),
        capabilities=frozenset({"pskc.decode", "pskc.validate", "pskc.sign", "pskc.verify", "pskc.profile.*"}),
        transport=ShimTransportSpec(command=(sys.executable, "-m", "harness.adapters.pskctool"), timeout_s=30.0),
        description="pskctool (OATH Toolkit, libpskc): XSD validation, RSA-SHA1 signing and verification, "
        "plaintext containers only (no decryption)",
        version=_version(),
        third_party=True,
        check=_check,
        xfail_file=bundled_xfail("pskctool"),
    )


if __name__ == "__main__":
    from harness.adapters.shim_server import serve

    sys.exit(serve(Pskctool()))
