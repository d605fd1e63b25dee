"""Adapter for privacyIDEA's PSKC importer, ``privacyidea.lib.importotp.parsePSKCdata``
(PyPI privacyidea): the pskc-consumer role.

privacyIDEA is heavy (Flask, SQLAlchemy, ~500 MB with its web assets) and pins a newer
cryptography through pyOpenSSL/webauthn, so it may live in its own environment.  The
adapter runs it out of process through ``shim_server`` and finds it, in order:

1. importable in the lab's own environment -> ``sys.executable -m harness.adapters.privacyidea``;
2. ``KPLAB_PRIVACYIDEA_PYTHON`` names an interpreter that can import it -> that
   interpreter, with PYTHONPATH pointing at this repository so it can import the adapter;
3. otherwise unavailable, with the reason.

parsePSKCdata needs no Flask app, database or config: it parses with BeautifulSoup and
decrypts with ``cryptography`` directly.  It returns ``({serial: token}, not_imported)``
where a token is ``{type, otpkey (hex), counter, timeStep, timeShift, otplen, hashlib,
description}`` (strings).  Mapped to KEY fields:

* the serial -> ``id``: it is the identifier privacyIDEA imports the key under, taken
  from DeviceInfo/SerialNo when there is one, else Key/@Id (Yubico "n:m" ids become
  UBOMn_m).  Two keys on one device therefore collide and only the last survives.
* ``type`` -> ``algorithm`` as the PSKC URN it stands for (privacyIDEA keeps only the
  last ':'-separated part of the Algorithm URI, lower-cased; "yubikey" is Yubico's URI);
* ``otpkey`` -> ``secret_hex``; for token types other than hotp/totp privacyIDEA keeps a
  decrypted secret as *text*, not hex: such a value is read as hex if it is hex (that is
  how privacyIDEA will use it) and otherwise withheld with a warning;
* ``description`` (DeviceInfo/Manufacturer) -> ``manufacturer``; ``otplen`` ->
  ``response_length``; ``counter`` -> ``counter``; ``timeStep`` -> ``time_interval``;
  ``timeShift`` -> ``time_drift``.  ``hashlib`` (the lower-cased <Suite> text, "sha1"
  when absent) has no KEY field; it and the other raw members except ``otpkey`` are kept
  under ``privacyidea`` in each key as evidence.

Answers: privacyIDEA's own ``TokenImportException`` is a refusal.  Serials returned as
not imported (its MAC check, which always computes HMAC-SHA1 whatever <MACMethod> says,
failed; in its default ``check_fail_hard`` mode that discards the whole file) are a
refusal too: privacyIDEA rejected the keys, only not by raising.  Any other exception
(KeyError on a <Key> without Id or Algorithm, AttributeError on a key without
<AlgorithmParameters>) is re-raised as it is: a fault of the library.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
import os
import re
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from harness.adapters.base import AdapterSpec, ShimTransportSpec, bundled_xfail
from harness.adapters.inprocess import operation
from harness.errors import InputError, ProtocolError, Unsupported

ADAPTER = "privacyidea"
MODULE = "harness.adapters.privacyidea"
PYTHON_VARIABLE = "KPLAB_PRIVACYIDEA_PYTHON"
NOT_INSTALLED = f"privacyIDEA not installed: pip install 'keyprov-lab[privacyidea]' or set {PYTHON_VARIABLE}"
REPO_ROOT = Path(__file__).resolve().parents[2]
PSKC_URN = "urn:ietf:params:xml:ns:keyprov:pskc:"
YUBICO_URI = "http://www.yubico.com/#yubikey-aes"
# Raw token members shown as evidence; otpkey (the secret) never is.
_EVIDENCE_MEMBERS = ("type", "description", "otplen", "hashlib", "counter", "timeStep", "timeShift")
_INT_MEMBERS = {"otplen": "response_length", "counter": "counter", "timeStep": "time_interval",
                "timeShift": "time_drift"}


def _scrub(message: str) -> str:
    # A UnicodeDecodeError of a decrypted secret names one of its bytes.
    return re.sub(r"byte 0x[0-9a-fA-F]{2}", "byte 0x??", message)


class PrivacyIdeaImporter:
    """The operation, run inside the shim process."""

    def __init__(self) -> None:
        # privacyIDEA logs call arguments (keys, passwords) at debug level; stderr is
        # evidence, so its loggers stay quiet.
        logging.getLogger("privacyidea").setLevel(logging.CRITICAL)

    @operation("kplab.version")
    def version(self, params: dict[str, Any]) -> dict[str, Any]:
        from importlib.metadata import version

        return {"version": version("privacyidea")}

    @operation("pskc-consumer.decode")
    def decode(self, params: dict[str, Any]) -> dict[str, Any]:
        from privacyidea.lib.error import TokenImportException
        from privacyidea.lib.importotp import parsePSKCdata

        data = _b64(params, "document_b64")
        if params.get("private_key_pem"):
            raise Unsupported("privacyIDEA's PSKC import has no asymmetric key transport", adapter=ADAPTER,
                              operation="pskc-consumer.decode")
        try:
            # What privacyIDEA's /token/load endpoint does before it calls the parser.
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("Unable to convert file contents. Binary data is not supported",
                                status="privacyidea.ParameterError") from None
        try:
            tokens, not_imported = parsePSKCdata(text, preshared_key_hex=params.get("key_hex") or None,
                                                 password=params.get("password"))
        except TokenImportException as exc:
            raise ProtocolError(_scrub(str(exc)), status="TokenImportException") from None
        if not_imported:
            serials = ", ".join(sorted(str(s) for s in not_imported))
            raise ProtocolError(f"privacyIDEA imported no tokens: parsePSKCdata returned serial(s) {serials} as not "
                                "imported (its HMAC-SHA1 check of ValueMAC failed)", status="privacyidea.not_imported")
        keys, warnings = [], []
        for serial, token in tokens.items():
            key, notes = _key(str(serial), token)
            keys.append(key)
            warnings += notes
        result: dict[str, Any] = {"keys": keys}
        if warnings:
            result["warnings"] = warnings
        return result


def _key(serial: str, token: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    key: dict[str, Any] = {"id": serial}
    notes: list[str] = []
    kind = str(token.get("type", ""))
    if kind == "yubikey":
        key["algorithm"] = YUBICO_URI
    elif re.fullmatch(r"[a-z0-9-]+", kind):
        key["algorithm"] = PSKC_URN + kind
    otpkey = token.get("otpkey")
    if isinstance(otpkey, str) and re.fullmatch(r"(?:[0-9a-fA-F]{2})+", otpkey):
        key["secret_hex"] = otpkey.lower()
    elif otpkey is not None:
        notes.append(f"key {serial}: privacyIDEA's otpkey is not hex "
                     f"(a decrypted {kind!r} secret kept as text); withheld")
    if token.get("description") is not None:
        key["manufacturer"] = str(token["description"])
    for member, field in _INT_MEMBERS.items():
        value = token.get(member)
        if value is None:
            continue
        try:
            key[field] = int(str(value).strip())
        except ValueError:
            notes.append(f"key {serial}: privacyIDEA's {member} {str(value)[:40]!r} is not an integer")
    key["privacyidea"] = {m: token[m] for m in _EVIDENCE_MEMBERS if m in token}
    return key, notes


def _b64(params: dict[str, Any], name: str) -> bytes:
    try:
        return base64.b64decode(params[name], validate=True)
    except (KeyError, TypeError, binascii.Error, ValueError):
        raise InputError(f"params.{name} must be base64") from None


# --------------------------------------------------------------------------- finding it
def _foreign_env() -> dict[str, str]:
    """PYTHONPATH that lets another interpreter import this repository's harness."""
    paths = [str(REPO_ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {"PYTHONPATH": os.pathsep.join(paths)}


@functools.lru_cache(maxsize=8)
def _foreign_problem(python: str) -> str | None:
    """Why ``python`` cannot run this adapter, or None (asked once per interpreter)."""
    where = f"{PYTHON_VARIABLE}={python}"
    if not (os.path.isfile(python) and os.access(python, os.X_OK)):
        return f"{where} is not an executable file"
    probe = ("import sys, importlib.util as u; "
             "sys.exit(3 if u.find_spec('privacyidea') is None"
             " else 4 if u.find_spec('harness.adapters.shim_server') is None else 0)")
    try:
        done = subprocess.run([python, "-c", probe], env={**os.environ, **_foreign_env()}, capture_output=True,
                              text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{where} did not run: {exc}"
    if done.returncode == 3:
        return f"{where} cannot import privacyidea (pip install privacyidea into that environment)"
    if done.returncode == 4:
        return f"{where} cannot import the lab's harness package from {REPO_ROOT}"
    if done.returncode != 0:
        return f"{where} failed (exit {done.returncode}): {done.stderr.strip()[-200:]}"
    return None


def _locate() -> tuple[ShimTransportSpec, str | None]:
    """The shim transport to use, and the interpreter to check first (None: the lab's)."""
    if find_spec("privacyidea") is not None:
        return ShimTransportSpec(command=(sys.executable, "-m", MODULE), timeout_s=30.0), None
    python = os.environ.get(PYTHON_VARIABLE, "").strip()
    if python:
        return ShimTransportSpec(command=(python, "-m", MODULE), timeout_s=30.0, env=_foreign_env()), python
    return ShimTransportSpec(command=(sys.executable, "-m", MODULE), timeout_s=30.0), ""


def adapter_spec() -> AdapterSpec:
    transport, foreign = _locate()
    version = ""
    if foreign is None:
        from importlib.metadata import version as dist_version

        version = dist_version("privacyidea")

    def check() -> str | None:
        if foreign is None:
            return None
        return _foreign_problem(foreign) if foreign else NOT_INSTALLED

    return AdapterSpec(
        name=ADAPTER,
        roles=frozenset({"pskc-consumer"}),
        # An importer does not choose the files it is given: it is held to all of PSKC's
        # symmetric protections and MACs, so its real limits (AES-128-CBC and HMAC-SHA1
        # only) show in the matrix as breaks, listed in suites/xfail/privacyidea.toml.
        capabilities=frozenset({"pskc.decode", "pskc.protect.psk.*", "pskc.protect.pbe.*", "pskc.mac.*",
                                "pskc.profile.*"}),
        transport=transport,
        description="privacyIDEA's PSKC importer (privacyidea.lib.importotp.parsePSKCdata), driven out of process"
        + (f" with {foreign}" if foreign else ""),
        version=version,
        third_party=True,
        check=check,
        xfail_file=bundled_xfail(ADAPTER),
    )


if __name__ == "__main__":
    from harness.adapters.shim_server import serve

    sys.exit(serve(PrivacyIdeaImporter()))
