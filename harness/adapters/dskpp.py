"""The reference DSKPP adapters: ``reference-dskpp-server`` and ``reference-dskpp-client``.

reference-dskpp-server (role ``dskpp-server``): an in-process adapter object that starts
``kplab serve dskpp`` as a subprocess on a free loopback port, with a private temporary
folder holding its SQLite store and policy (both variants, every key protection method,
HOTP and TOTP, every encryption and MAC algorithm of the engine, a fresh 16-octet
pre-shared key that also serves four-pass, a passphrase, user authentication required).
It issues Authentication Codes and triggers by opening the same store (SQLite WAL allows
a second connection while the server runs) with a ``DskppServer`` of the same policy,
and answers ``dskpp-server.key`` from that store (fingerprint and HOTP values, never the
key).  Options (``AdapterSpec.options``, or ``reference_server_spec(options)``):

* ``session_timeout_s`` (default 5): four-pass session lifetime, short so the
  expired-session case need not wait long; ``ac_lifetime_s`` likewise (default 86400);
* ``leaky_mode``: given to the server process as environment variable
  ``KPLAB_DSKPP_LEAKY_MODE`` (JSON) for the timing suite's test-only leak;
* ``double`` = ``"FILE:BUG"``: start ``python FILE BUG <serve arguments>`` instead of
  ``kplab serve dskpp`` (test doubles with planted bugs, tests/harness/doubles/);
* ``server_command``: any other command list, given the same ``kplab serve dskpp``
  arguments (``--host --port --db --config --ready-file --log-file``).

reference-dskpp-client (role ``dskpp-client``): the reference client engine over
``HttpPoster`` with a SQLite token store in a private temporary folder and one RSA device
key (made on first use) for two-pass key transport.  ``provision`` reports ``stored`` from
the token store itself (before/after), not from the engine's word.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Mapping

from harness.adapters.base import AdapterSpec, InProcessTransportSpec
from harness.adapters.inprocess import operation
from harness.errors import AdapterCrash, AdapterTimeout, HarnessError, InputError, ProtocolError
from harness.redaction import fingerprint
from harness.roles.dskpp import ENCRYPTION, KEY_TYPES, MAC, PROTECTIONS, VARIANTS

LEAKY_MODE_ENV = "KPLAB_DSKPP_LEAKY_MODE"
SERVER_ID = "urn:keyprov-lab:reference-dskpp-server"
PSK_NAME = "kplab-psk-1"
PASSPHRASE_NAME = "kplab-passphrase-1"
READY_TIMEOUT_S = 60.0
SERVER_CAPABILITIES = frozenset({
    "dskpp.four-pass", *(f"dskpp.two-pass.{p}" for p in PROTECTIONS), "dskpp.encryption.*", "dskpp.mac.*",
    "dskpp.key-type.hotp", "dskpp.key-type.totp", "dskpp.trigger", "dskpp.renewal",
})
CLIENT_CAPABILITIES = SERVER_CAPABILITIES


def _version() -> str:
    try:
        return version("keyprov-lab")
    except PackageNotFoundError:
        return ""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _hotp_values(secret: bytes, attributes: str) -> list[str]:
    from reference.otp.hotp import hotp

    try:
        digits = int(json.loads(attributes or "{}").get("digits") or 6)
    except (ValueError, TypeError):
        digits = 6
    return [hotp(secret, counter, digits=digits) for counter in range(3)]


def _toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


# ----------------------------------------------------------------------------- server
class ReferenceDskppServer:
    """``kplab serve dskpp`` in a subprocess, plus the out-of-band operations."""

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options = dict(options or {})
        self.workdir = Path(tempfile.mkdtemp(prefix="kplab-dskpp-server-"))
        self.db = self.workdir / "server.sqlite"
        self.config = self.workdir / "policy.toml"
        self.log = self.workdir / "server.log"
        self._psk = secrets.token_bytes(16)
        self._passphrase = secrets.token_hex(12)
        self._proc: subprocess.Popen[bytes] | None = None
        self._store: Any = None
        try:
            self.config.write_text(self._policy_toml(), encoding="utf-8")
            self.url = self._start()
            self._open_issuer()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ start and stop
    def _policy_toml(self) -> str:
        timeout = int(self.options.get("session_timeout_s", 5))
        lifetime = int(self.options.get("ac_lifetime_s", 86_400))
        encryption = ", ".join(_toml_string(uri) for uri in ENCRYPTION.values())
        mac = ", ".join(_toml_string(uri) for uri in MAC.values())
        return "\n".join([
            f"server_id = {_toml_string(SERVER_ID)}",
            "[variants]",
            "four_pass = true",
            f"two_pass = [{', '.join(_toml_string(p) for p in PROTECTIONS)}]",
            "[algorithms]",
            "key_types = [",
            f"  {{ uri = {_toml_string(KEY_TYPES['hotp'])}, key_length = 20, digits = 6 }},",
            f"  {{ uri = {_toml_string(KEY_TYPES['totp'])}, key_length = 20, digits = 6, time_interval = 30 }},",
            "]",
            f"encryption = [{encryption}]",
            f"mac = [{mac}]",
            "[keys]",
            f"shared = {{ {_toml_string(PSK_NAME)} = {_toml_string(self._psk.hex())} }}",
            f"passphrases = {{ {_toml_string(PASSPHRASE_NAME)} = {_toml_string(self._passphrase)} }}",
            f"four_pass_shared_key = {_toml_string(PSK_NAME)}",
            "[authentication]",
            "required = true",
            f"ac_lifetime_s = {lifetime}",
            "[sessions]",
            f"timeout_s = {timeout}",
            "",
        ])

    def _command(self) -> list[str]:
        if "server_command" in self.options:
            command = self.options["server_command"]
            if not isinstance(command, list) or not command or not all(isinstance(c, str) for c in command):
                raise InputError("option server_command must be a command list", where="reference-dskpp-server")
            base = list(command)
        elif "double" in self.options:
            file, _, bug = str(self.options["double"]).rpartition(":")
            if not file or not bug:
                raise InputError("option double must be 'FILE:BUG'", where="reference-dskpp-server")
            base = [sys.executable, file, bug]
        else:
            base = [sys.executable, "-m", "harness.cli", "serve", "dskpp"]
        ready = self.workdir / "ready"
        return base + ["--host", "127.0.0.1", "--port", "0", "--db", str(self.db), "--config", str(self.config),
                       "--ready-file", str(ready), "--log-file", str(self.log)]

    def _start(self) -> str:
        env = dict(os.environ)
        if "leaky_mode" in self.options:
            env[LEAKY_MODE_ENV] = json.dumps(self.options["leaky_mode"])
        ready = self.workdir / "ready"
        output = open(self.workdir / "server.out", "wb")  # noqa: SIM115 - the child writes to it
        try:
            # Same process group as the adapter: when a shim running this adapter is killed
            # with its group (harness.adapters.shim), the server goes too.
            self._proc = subprocess.Popen(self._command(), stdin=subprocess.DEVNULL, stdout=output, stderr=output,
                                          env=env)
        finally:
            output.close()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if ready.is_file():
                url = ready.read_text(encoding="utf-8").strip()
                if url:
                    return url
            if self._proc.poll() is not None:
                raise AdapterCrash(f"kplab serve dskpp exited with code {self._proc.returncode}: {self.log_tail()}",
                                   adapter="reference-dskpp-server")
            time.sleep(0.05)
        raise AdapterTimeout(f"kplab serve dskpp not ready after {READY_TIMEOUT_S:g}s: {self.log_tail()}",
                             adapter="reference-dskpp-server")

    def _open_issuer(self) -> None:
        from reference.dskpp.config import load_policy
        from reference.dskpp.server import DskppServer
        from reference.dskpp.store_sqlite import SqliteServerStore

        self.policy = load_policy(self.config)
        self._store = SqliteServerStore(self.db)
        self._issuer = DskppServer(self.policy, self._store, clock=_now, random=secrets.token_bytes)

    def log_tail(self, limit: int = 3000) -> str:
        text = ""
        for name in ("server.out", "server.log"):
            try:
                text += (self.workdir / name).read_text(encoding="utf-8", errors="replace")
            except OSError:
                pass
        return text[-limit:]

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        if self._store is not None:
            self._store.close()
            self._store = None
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _alive(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            code = self._proc.returncode if self._proc is not None else None
            raise AdapterCrash(f"the server process is gone (exit {code}): {self.log_tail()}",
                               adapter="reference-dskpp-server")

    # ------------------------------------------------------------------ operations
    @operation("kplab.version")
    def version(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"version": _version()}

    @operation("dskpp-server.endpoint")
    def endpoint(self, params: dict[str, Any]) -> dict[str, Any]:
        self._alive()
        policy = self.policy
        protections = [name for name, uri in PROTECTIONS.items() if uri in policy.two_pass_methods]
        variants = [v for v, on in zip(VARIANTS, (policy.four_pass, bool(protections))) if on]
        return {
            "url": self.url, "variants": variants, "two_pass_protections": protections,
            "encryption_algorithms": list(policy.encryption_algorithms), "mac_algorithms": list(policy.mac_algorithms),
            "key_types": [k.uri for k in policy.key_types],
            "shared_keys": {name: key.hex() for name, key in policy.shared_keys.items()},
            "passphrases": dict(policy.passphrases),
            "requires_authentication": policy.require_authentication,
            "session_timeout_s": policy.session_timeout_s,
        }

    @operation("dskpp-server.issue-ac")
    def issue_ac(self, params: dict[str, Any]) -> dict[str, Any]:
        self._alive()
        from reference.dskpp.authcode import parse_authentication_code

        client_id = params.get("client_id")
        if client_id is not None and not isinstance(client_id, str):
            raise InputError("client_id must be a string", where="dskpp-server.issue-ac")
        code = self._issuer.issue_authentication_code(client_id)
        return {"authentication_code": code, "client_id": parse_authentication_code(code).client_id}

    @operation("dskpp-server.trigger")
    def trigger(self, params: dict[str, Any]) -> dict[str, Any]:
        """A <KeyProvTrigger> (Sec. 4.2.1) for a fresh AC of ``client_id`` (random when absent)."""
        self._alive()
        from reference.dskpp.authcode import parse_authentication_code

        key_id = params.get("key_id")
        client_id = parse_authentication_code(self._issuer.issue_authentication_code(params.get("client_id"))).client_id
        document = self._issuer.trigger(client_id=client_id, server_url=self.url,
                                        key_id=key_id.encode("utf-8") if isinstance(key_id, str) else None)
        return {"trigger_b64": base64.b64encode(document).decode("ascii"), "client_id": client_id}

    @operation("dskpp-server.key")
    def key(self, params: dict[str, Any]) -> dict[str, Any]:
        key_id = params.get("key_id")
        if not isinstance(key_id, str):
            raise InputError("key_id must be a string", where="dskpp-server.key")
        record = self._store.get_key(key_id)
        if record is None:
            raise ProtocolError("the server holds no key with this id", status="UnknownKey", where="dskpp-server.key")
        return {"key_id": record.key_id, "algorithm": record.algorithm, "fingerprint": fingerprint(record.secret),
                "hotp": _hotp_values(record.secret, record.attributes)}


def reference_server_spec(options: Mapping[str, Any] | None = None, *, name: str = "reference-dskpp-server") -> AdapterSpec:
    chosen = dict(options or {})
    return AdapterSpec(
        name=name,
        roles=frozenset({"dskpp-server"}),
        capabilities=SERVER_CAPABILITIES,
        transport=InProcessTransportSpec(factory=lambda: ReferenceDskppServer(chosen)),
        description="keyprov-lab reference DSKPP server (kplab serve dskpp in a subprocess, SQLite store, loopback)",
        version=_version(),
        third_party=False,
        options=chosen,
    )


# ----------------------------------------------------------------------------- client
class ReferenceDskppClient:
    """The reference client engine with a SQLite token store (its cryptographic module)."""

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        from reference.dskpp.store_sqlite import SqliteTokenStore

        self.options = dict(options or {})
        self.workdir = Path(tempfile.mkdtemp(prefix="kplab-dskpp-client-"))
        self.tokens = SqliteTokenStore(self.workdir / "tokens.sqlite")
        self._device_key: Any = None

    def close(self) -> None:
        self.tokens.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _snapshot(self) -> dict[str, str]:
        return {k.key_id: fingerprint(k.secret) for k in self.tokens.list_keys()}

    def _device(self) -> Any:
        if self._device_key is None:
            from cryptography.hazmat.primitives.asymmetric import rsa

            self._device_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return self._device_key

    def _config(self, params: dict[str, Any]) -> Any:
        from reference.dskpp.client import ClientConfig

        def text(name: str) -> str | None:
            value = params.get(name)
            if value is not None and not isinstance(value, str):
                raise InputError(f"{name} must be a string", where="dskpp-client.provision")
            return value

        def uris(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
            value = params.get(name)
            if value is None:
                return default
            if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
                raise InputError(f"{name} must be a non-empty list of URIs", where="dskpp-client.provision")
            return tuple(value)

        url = text("url")
        if not url:
            raise InputError("url is required", where="dskpp-client.provision")
        kw: dict[str, Any] = {"variant": text("variant") or "four-pass", "authentication_code": text("authentication_code"),
                              "server_url": url, "renew_key_id": text("renew_key_id"),
                              "key_types": (KEY_TYPES["hotp"], KEY_TYPES["totp"]),
                              "encryption_algorithms": uris("encryption_algorithms", tuple(ENCRYPTION.values())),
                              "mac_algorithms": uris("mac_algorithms", tuple(MAC.values()))}
        shared = text("shared_key_hex")
        if shared is not None:
            try:
                kw["shared_key"] = bytes.fromhex(shared)
            except ValueError:
                raise InputError("shared_key_hex is not hex", where="dskpp-client.provision") from None
            kw["shared_key_name"] = text("shared_key_name")
        if kw["variant"] == "two-pass":
            kw["protection"] = text("protection") or "key-transport"
            kw["passphrase"] = text("passphrase")
            if kw["protection"] == "passphrase" and text("shared_key_name") is not None:
                kw["shared_key_name"] = text("shared_key_name")  # the passphrase's name (reading I-31 alternative)
            if kw["protection"] == "key-transport":
                kw["rsa_private_key"] = self._device()
        return ClientConfig(**kw)

    @operation("kplab.version")
    def version(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"version": _version()}

    @operation("dskpp-client.provision")
    def provision(self, params: dict[str, Any]) -> dict[str, Any]:
        from reference.dskpp.client import DskppClient, run
        from reference.dskpp.http_client import HttpPoster

        config = self._config(params)
        trigger = None
        if params.get("trigger_b64") is not None:
            try:
                trigger = base64.b64decode(str(params["trigger_b64"]), validate=True)
            except (binascii.Error, ValueError):
                raise InputError("trigger_b64 is not base64", where="dskpp-client.provision") from None
        if config.authentication_code is None and trigger is None:
            raise InputError("give authentication_code or trigger_b64 (RFC 6063 §3.2)", where="dskpp-client.provision")
        before = self._snapshot()
        client = DskppClient(config, self.tokens, clock=_now, random=secrets.token_bytes)
        out: dict[str, Any]
        try:
            with HttpPoster(config.server_url, timeout_s=30.0, peer="dskpp server under the suite") as post:
                result = run(client, post, trigger)
        except HarnessError:
            raise  # the server could not be reached: the lab's problem, not the client's
        except ProtocolError as exc:
            spec = f" [{exc.spec}]" if exc.spec else ""
            out = {"status": "Error", "error": f"{exc.status}: {exc}{spec}"}
        else:
            out = {"status": result.status.value}
            if result.key is not None:
                stored = self.tokens.get_key(result.key.key_id)
                out.update(key_id=result.key.key_id, fingerprint=result.key.fingerprint)
                if stored is not None:
                    out["hotp"] = _hotp_values(stored.secret, stored.attributes)
        out["stored"] = self._snapshot() != before
        return out

    @operation("dskpp-client.keys")
    def keys(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"keys": [{"key_id": key_id, "fingerprint": fp} for key_id, fp in sorted(self._snapshot().items())]}


def reference_client_spec(options: Mapping[str, Any] | None = None, *, name: str = "reference-dskpp-client") -> AdapterSpec:
    chosen = dict(options or {})
    return AdapterSpec(
        name=name,
        roles=frozenset({"dskpp-client"}),
        capabilities=CLIENT_CAPABILITIES,
        transport=InProcessTransportSpec(factory=lambda: ReferenceDskppClient(chosen)),
        description="keyprov-lab reference DSKPP client (in-process engine over httpx, SQLite token store)",
        version=_version(),
        third_party=False,
        options=chosen,
    )


__all__ = ["ReferenceDskppServer", "ReferenceDskppClient", "reference_server_spec", "reference_client_spec",
           "LEAKY_MODE_ENV", "PSK_NAME"]
