"""Typed interfaces of the DSKPP roles (contract: docs/adapters.md, "DSKPP roles").

* :class:`DskppServerRole` wraps a ``dskpp-server`` adapter: ``endpoint()`` says where the
  server listens and what it claims (variants, algorithms, its pre-shared keys),
  ``issue_ac()`` gets a fresh Authentication Code, ``post()`` sends one raw HTTP POST of
  ``application/dskpp+xml`` (RFC 6063 §7.2), ``key()`` asks what the server stored.
* :class:`DskppClientRole` drives a ``dskpp-client`` adapter: ``provision()`` runs the
  client under test against a URL the suite gives it, ``keys()`` lists what its
  cryptographic module holds.

A server adapter answers the operations ``dskpp-server.endpoint`` / ``issue-ac`` /
``key`` / ``trigger``.  A network endpoint adapter (a vendor's URL, no JSON operations)
is described by its ``[options]`` instead (``docs/adapters.md``): the claims as keys of
the same names, and an AC source, one of ``ac_command`` (a command printing the AC, or a
JSON object with ``authentication_code`` and ``client_id``), ``ac_url`` (POST of
``{"client_id"?}`` answered the same way) or ``ac_file`` (one AC per line, used in order).

Everything an adapter returns is shape-checked here (AdapterGarbage); transport failures
of ``post`` are AdapterCrash / AdapterTimeout, never findings.
"""

from __future__ import annotations

import base64
import binascii
import json
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from harness import evidence
from harness.adapters.base import Adapter
from harness.errors import AdapterCrash, AdapterGarbage, AdapterTimeout, AdapterUnavailable, InputError, Refused, Unsupported
from reference.dskpp.messages import EncryptionAlgorithmUri as Enc
from reference.dskpp.messages import MEDIA_TYPE, KeyProtectionMethodUri, MacAlgorithmUri

FOUR_PASS, TWO_PASS = "four-pass", "two-pass"
VARIANTS = (FOUR_PASS, TWO_PASS)
PROTECTIONS = {  # provision "protection" values -> KPML method URIs (Sec. 5.1)
    "key-transport": KeyProtectionMethodUri.TRANSPORT.value,
    "key-wrap": KeyProtectionMethodUri.WRAP.value,
    "passphrase": KeyProtectionMethodUri.PASSPHRASE_WRAP.value,
}
ENCRYPTION = {  # capability short name -> URI
    "rsa-oaep": Enc.RSA_OAEP_MGF1P.value,
    "rsa-oaep-11": Enc.RSA_OAEP_11.value,
    "rsa-1_5": Enc.RSA_1_5.value,
    "prf-aes-128": Enc.PRF_AES_128.value,
    "prf-sha256": Enc.PRF_SHA256.value,
    "aes128-cbc": Enc.AES128_CBC.value,
    "kw-aes128": Enc.KW_AES128.value,
    "kw-aes128-pad": Enc.KW_AES128_PAD.value,
}
MAC = {"prf-aes-128": MacAlgorithmUri.PRF_AES_128.value, "prf-sha256": MacAlgorithmUri.PRF_SHA256.value}
KEY_TYPES = {"hotp": "urn:ietf:params:xml:ns:keyprov:pskc:hotp", "totp": "urn:ietf:params:xml:ns:keyprov:pskc#totp"}
MAX_RECORDED_EXCHANGES = 24  # per role object (one case): request and answer files as evidence
SHORT_NAMES = {uri: name for table in (ENCRYPTION, MAC, KEY_TYPES) for name, uri in table.items()}


def short_name(uri: str) -> str:
    return SHORT_NAMES.get(uri, uri)


def capability(kind: str, value: str) -> str:
    """Capability strings of the DSKPP roles: ``dskpp.four-pass``, ``dskpp.two-pass.key-wrap``,
    ``dskpp.encryption.rsa-oaep``, ``dskpp.mac.prf-sha256``, ``dskpp.key-type.totp``,
    ``dskpp.trigger``, ``dskpp.renewal``."""
    if kind == "variant":
        return f"dskpp.{value}"
    if kind == "protection":
        return f"dskpp.two-pass.{value}"
    if kind in ("encryption", "mac", "key-type"):
        return f"dskpp.{kind}.{short_name(value)}"
    return f"dskpp.{value}"


# ----------------------------------------------------------------------------- checks
def _want(data: Mapping[str, Any], name: str, kind: type | tuple[type, ...], adapter: str, *, optional: bool = False,
          default: Any = None) -> Any:
    if name not in data or data[name] is None:
        if optional:
            return default
        raise AdapterGarbage(f"result has no {name}", adapter=adapter)
    value = data[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise AdapterGarbage(f"{name} has the wrong type ({type(value).__name__})", adapter=adapter)
    return value


def _strings(data: Mapping[str, Any], name: str, adapter: str, *, optional: bool = False) -> tuple[str, ...]:
    value = _want(data, name, list, adapter, optional=optional, default=[])
    if not all(isinstance(v, str) for v in value):
        raise AdapterGarbage(f"{name} must be a list of strings", adapter=adapter)
    return tuple(value)


def _string_map(data: Mapping[str, Any], name: str, adapter: str) -> dict[str, str]:
    value = _want(data, name, dict, adapter, optional=True, default={})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise AdapterGarbage(f"{name} must map names to strings", adapter=adapter)
    return dict(value)


def _hotp(data: Mapping[str, Any], adapter: str) -> tuple[str, ...] | None:
    value = data.get("hotp")
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 3 or not all(isinstance(v, str) and v.isdigit() for v in value):
        raise AdapterGarbage("hotp must be three strings of digits (HOTP at counters 0, 1, 2)", adapter=adapter)
    return tuple(value)


# ----------------------------------------------------------------------------- server role
@dataclass(frozen=True)
class ServerEndpoint:
    """Where a DSKPP server listens and what it claims (``dskpp-server.endpoint``)."""

    url: str
    variants: tuple[str, ...]
    two_pass_protections: tuple[str, ...]
    encryption_algorithms: tuple[str, ...]
    mac_algorithms: tuple[str, ...]
    key_types: tuple[str, ...]
    shared_keys: Mapping[str, str] = field(default_factory=dict, repr=False)  # ds:KeyName -> hex
    passphrases: Mapping[str, str] = field(default_factory=dict, repr=False)
    requires_authentication: bool = True
    session_timeout_s: float | None = None  # optional extra: how long a four-pass session lives

    @classmethod
    def from_result(cls, data: Mapping[str, Any], adapter: str) -> "ServerEndpoint":
        url = _want(data, "url", str, adapter)
        if not url.startswith(("http://", "https://")):
            raise AdapterGarbage("endpoint url must be http:// or https://", adapter=adapter)
        variants = _strings(data, "variants", adapter)
        if not variants or set(variants) - set(VARIANTS):
            raise AdapterGarbage(f"variants must be a non-empty subset of {VARIANTS}", adapter=adapter)
        protections = _strings(data, "two_pass_protections", adapter, optional=True)
        if set(protections) - set(PROTECTIONS):
            raise AdapterGarbage(f"two_pass_protections must be among {sorted(PROTECTIONS)}", adapter=adapter)
        shared = _string_map(data, "shared_keys", adapter)
        for name, value in shared.items():
            try:
                bytes.fromhex(value)
            except ValueError:
                raise AdapterGarbage(f"shared key {name!r} is not hex", adapter=adapter) from None
            evidence.secret(bytes.fromhex(value))
        passphrases = _string_map(data, "passphrases", adapter)
        for value in passphrases.values():
            evidence.secret(value)
        timeout = _want(data, "session_timeout_s", (int, float), adapter, optional=True)
        return cls(
            url=url, variants=variants, two_pass_protections=protections,
            encryption_algorithms=_strings(data, "encryption_algorithms", adapter),
            mac_algorithms=_strings(data, "mac_algorithms", adapter),
            key_types=_strings(data, "key_types", adapter),
            shared_keys=shared, passphrases=passphrases,
            requires_authentication=bool(_want(data, "requires_authentication", bool, adapter, optional=True,
                                               default=True)),
            session_timeout_s=float(timeout) if timeout is not None else None,
        )

    def shared_key(self) -> tuple[str, bytes] | None:
        """A pre-shared key for the lab's client: the first of 16 octets (it fits every
        algorithm, Sec. 4.2.3 / 5.1.2), else the first."""
        if not self.shared_keys:
            return None
        items = [(name, bytes.fromhex(value)) for name, value in self.shared_keys.items()]
        return next((item for item in items if len(item[1]) == 16), items[0])


@dataclass(frozen=True)
class HttpAnswer:
    status_code: int
    content_type: str  # media type without parameters, lower case
    body: bytes
    elapsed_s: float

    @property
    def is_dskpp(self) -> bool:
        """§7.2.4: a DSKPP answer is 200 with application/dskpp+xml."""
        return self.status_code == 200 and self.content_type == MEDIA_TYPE


@dataclass(frozen=True)
class IssuedCode:
    authentication_code: str = field(repr=False)
    client_id: str


class DskppServerRole:
    """Wraps the Adapter the ``dskpp_server`` fixture yields."""

    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter
        self.name = adapter.name
        self._endpoint: ServerEndpoint | None = None
        self._http: httpx.Client | None = None
        self.exchanges = 0

    # ------------------------------------------------------------------ operations
    def endpoint(self) -> ServerEndpoint:
        if self._endpoint is None:
            try:
                data = self.adapter.call("dskpp-server.endpoint", {})
            except Unsupported:
                data = self._endpoint_from_options()
            self._endpoint = ServerEndpoint.from_result(data, self.name)
        return self._endpoint

    def issue(self, client_id: str | None = None) -> IssuedCode:
        """A fresh AC (Sec. 3.2.1) with the Client ID it carries."""
        params = {"client_id": client_id} if client_id is not None else {}
        try:
            data = self.adapter.call("dskpp-server.issue-ac", params)
        except Unsupported:
            data = _AcSource.for_adapter(self.adapter).issue(client_id)
        code = _want(data, "authentication_code", str, self.name)
        evidence.secret(code)
        returned = data.get("client_id")
        if returned is None:
            returned = _client_id_of(code, self.name)
        if not isinstance(returned, str) or not returned:
            raise AdapterGarbage("issue-ac client_id must be a non-empty string", adapter=self.name)
        return IssuedCode(code, returned)

    def issue_ac(self, client_id: str | None = None) -> str:
        return self.issue(client_id).authentication_code

    def trigger(self, client_id: str | None = None, key_id: str | None = None) -> bytes:
        """A <KeyProvTrigger> the server issued (optional operation; Unsupported when absent)."""
        params = {k: v for k, v in (("client_id", client_id), ("key_id", key_id)) if v is not None}
        data = self.adapter.call("dskpp-server.trigger", params)
        try:
            return base64.b64decode(_want(data, "trigger_b64", str, self.name), validate=True)
        except (binascii.Error, ValueError):
            raise AdapterGarbage("trigger_b64 is not base64", adapter=self.name) from None

    def key(self, key_id: str) -> dict[str, Any] | None:
        """What the server stored under ``key_id``; None when it holds no such key.
        Raises Unsupported when the adapter cannot say (the operation is optional)."""
        try:
            data = self.adapter.call("dskpp-server.key", {"key_id": key_id})
        except Refused as exc:
            if exc.status == "UnknownKey":
                return None
            raise
        out = {"key_id": _want(data, "key_id", str, self.name), "algorithm": _want(data, "algorithm", str, self.name),
               "fingerprint": _want(data, "fingerprint", str, self.name)}
        hotp = _hotp(data, self.name)
        if hotp is not None:
            out["hotp"] = list(hotp)
        return out

    # ------------------------------------------------------------------ HTTP
    def post(self, body: bytes, *, timeout_s: float = 10.0, content_type: str = MEDIA_TYPE,
             record: bool = True) -> HttpAnswer:
        """One raw POST to the endpoint (Sec. 7.2.3); redirects followed (Sec. 7.2.4)."""
        url = self.endpoint().url
        if self._http is None:
            self._http = httpx.Client(follow_redirects=True, max_redirects=5)
        headers = {"Content-Type": content_type, "Accept": MEDIA_TYPE, "Cache-Control": "no-cache, no-store",
                   "Pragma": "no-cache"}
        started = time.perf_counter()
        try:
            response = self._http.post(url, content=body, headers=headers, timeout=timeout_s)
        except httpx.TimeoutException:
            raise AdapterTimeout(f"no answer from {url} within {timeout_s:g}s", adapter=self.name) from None
        except httpx.HTTPError as exc:
            raise AdapterCrash(f"POST {url} failed: {type(exc).__name__}: {exc}", adapter=self.name) from None
        elapsed = time.perf_counter() - started
        media = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        answer = HttpAnswer(response.status_code, media, response.content, elapsed)
        self.exchanges += 1
        n = self.exchanges
        if record and n <= MAX_RECORDED_EXCHANGES:
            evidence.attach("file", f"{n:02d}-request.xml", body, "application/xml")
            evidence.attach("file", f"{n:02d}-answer-http-{answer.status_code}.xml", answer.body or b"(empty body)",
                            "application/xml")
        elif record and n == MAX_RECORDED_EXCHANGES + 1:  # campaigns (fuzz, timing) post thousands
            evidence.attach("text", "further exchanges", f"exchanges after the first {MAX_RECORDED_EXCHANGES} of this "
                            "case are not kept as evidence")
        return answer

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    # ------------------------------------------------------------------ option-described endpoints
    def _endpoint_from_options(self) -> dict[str, Any]:
        endpoint = self.adapter.endpoint
        url = getattr(endpoint, "url", None)
        options = dict(self.adapter.spec.options)
        if not isinstance(url, str):
            raise Unsupported(f"{self.name} answers no dskpp-server.endpoint and is not a network endpoint",
                              adapter=self.name, operation="dskpp-server.endpoint")
        data: dict[str, Any] = {"url": url}
        for name in ("variants", "two_pass_protections", "encryption_algorithms", "mac_algorithms", "key_types",
                     "shared_keys", "passphrases", "requires_authentication", "session_timeout_s"):
            if name in options:
                data[name] = options[name]
        data.setdefault("variants", list(VARIANTS))
        data.setdefault("encryption_algorithms", [])
        data.setdefault("mac_algorithms", list(MAC.values()))
        data.setdefault("key_types", [KEY_TYPES["hotp"]])
        return data


def _client_id_of(code: str, adapter: str) -> str:
    from reference.dskpp.authcode import parse_authentication_code

    try:
        return parse_authentication_code(code, verify_checksum=False).client_id
    except InputError as exc:
        raise AdapterGarbage(f"the issued AC has no readable Client ID TLV (RFC 6063 §3.4.1.1): {exc.message}",
                             adapter=adapter) from None


class _AcSource:
    """ACs for an endpoint adapter from its options: ac_command, ac_url or ac_file."""

    _files: dict[tuple[str, str], int] = {}  # (adapter, file) -> lines used, for this process
    _lock = threading.Lock()

    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter
        self.options = adapter.spec.options
        source = adapter.spec.source
        self.base = Path(source.removeprefix("description file ")).resolve().parent \
            if source.startswith("description file ") else Path.cwd()

    @classmethod
    def for_adapter(cls, adapter: Adapter) -> "_AcSource":
        return cls(adapter)

    def issue(self, client_id: str | None) -> dict[str, Any]:
        name = self.adapter.name
        if "ac_command" in self.options:
            command = self.options["ac_command"]
            if not isinstance(command, list) or not command or not all(isinstance(c, str) for c in command):
                raise AdapterGarbage("option ac_command must be a command list", adapter=name)
            argv = [part.replace("{client_id}", client_id or "") for part in command]
            try:
                done = subprocess.run(argv, capture_output=True, timeout=30, cwd=self.base, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise AdapterUnavailable(f"ac_command failed to run: {exc}", adapter=name) from None
            if done.returncode != 0:
                raise AdapterCrash(f"ac_command exited {done.returncode}: {done.stderr[-300:]!r}", adapter=name)
            return self._parse(done.stdout.decode("utf-8", "replace"))
        if "ac_url" in self.options:
            try:
                response = httpx.post(str(self.options["ac_url"]), json={"client_id": client_id} if client_id else {},
                                      timeout=30)
            except httpx.HTTPError as exc:
                raise AdapterUnavailable(f"ac_url failed: {type(exc).__name__}", adapter=name) from None
            if response.status_code != 200:
                raise AdapterCrash(f"ac_url answered HTTP {response.status_code}", adapter=name)
            return self._parse(response.text)
        if "ac_file" in self.options:
            path = (self.base / str(self.options["ac_file"])).resolve()
            try:
                lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            except OSError as exc:
                raise AdapterUnavailable(f"cannot read ac_file {path}: {exc.strerror}", adapter=name) from None
            with self._lock:
                used = self._files.get((name, str(path)), 0)
                if used >= len(lines):
                    raise AdapterUnavailable(f"ac_file {path} has no unused AC left ({len(lines)} used)", adapter=name)
                self._files[(name, str(path))] = used + 1
            return self._parse(lines[used])
        raise Unsupported(f"{name} has no way to issue an Authentication Code (operation dskpp-server.issue-ac, "
                          "or option ac_command / ac_url / ac_file)", adapter=name, operation="dskpp-server.issue-ac")

    def _parse(self, text: str) -> dict[str, Any]:
        text = text.strip()
        if text.startswith("{"):
            try:
                data = json.loads(text)
            except ValueError:
                raise AdapterGarbage("the AC source printed JSON that does not parse", adapter=self.adapter.name) from None
            if not isinstance(data, dict):
                raise AdapterGarbage("the AC source's JSON is not an object", adapter=self.adapter.name)
            return data
        first = text.splitlines()[0].strip() if text else ""
        if not first:
            raise AdapterGarbage("the AC source printed nothing", adapter=self.adapter.name)
        return {"authentication_code": first}


# ----------------------------------------------------------------------------- client role
@dataclass(frozen=True)
class ProvisionReport:
    """What ``dskpp-client.provision`` says happened."""

    status: str  # "Success", the server's failure status, or "Error" (the client refused the exchange)
    stored: bool  # did the client's module store (or replace) a key in this call
    key_id: str | None = None
    fingerprint: str | None = None
    hotp: tuple[str, ...] | None = None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "Success"

    def summary(self) -> str:
        parts = [f"status {self.status}", f"stored {str(self.stored).lower()}"]
        if self.key_id:
            parts.append(f"key {self.key_id}")
        if self.error:
            parts.append(f"error: {self.error[:300]}")
        return ", ".join(parts)


PROVISION_PARAMS = ("url", "authentication_code", "variant", "protection", "shared_key_hex", "shared_key_name",
                    "passphrase", "trigger_b64", "renew_key_id", "encryption_algorithms", "mac_algorithms")


class DskppClientRole:
    """Drives the Adapter the ``dskpp_client`` fixture yields."""

    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter
        self.name = adapter.name

    def provision(self, *, timeout_s: float = 60.0, **params: Any) -> ProvisionReport:
        unknown = set(params) - set(PROVISION_PARAMS)
        if unknown:
            raise TypeError(f"unknown provision parameters {sorted(unknown)}")
        if params.get("variant", FOUR_PASS) not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}")
        sent = {k: v for k, v in params.items() if v is not None}
        sent.setdefault("variant", FOUR_PASS)
        if "trigger_b64" in sent and isinstance(sent["trigger_b64"], bytes):
            sent["trigger_b64"] = base64.b64encode(sent["trigger_b64"]).decode("ascii")
        data = self.adapter.call("dskpp-client.provision", sent, timeout_s=timeout_s)
        status = _want(data, "status", str, self.name)
        stored = _want(data, "stored", bool, self.name)
        report = ProvisionReport(
            status=status, stored=stored, key_id=_want(data, "key_id", str, self.name, optional=True),
            fingerprint=_want(data, "fingerprint", str, self.name, optional=True), hotp=_hotp(data, self.name),
            error=_want(data, "error", str, self.name, optional=True),
        )
        if report.succeeded and not report.key_id:
            raise AdapterGarbage("a Success report must name the key_id", adapter=self.name)
        return report

    def keys(self) -> list[dict[str, str]]:
        data = self.adapter.call("dskpp-client.keys", {})
        keys = _want(data, "keys", list, self.name)
        out = []
        for entry in keys:
            if not isinstance(entry, dict):
                raise AdapterGarbage("keys entries must be objects", adapter=self.name)
            out.append({"key_id": _want(entry, "key_id", str, self.name),
                        "fingerprint": _want(entry, "fingerprint", str, self.name)})
        return sorted(out, key=lambda k: k["key_id"])


__all__ = [
    "DskppServerRole", "DskppClientRole", "ServerEndpoint", "HttpAnswer", "IssuedCode", "ProvisionReport",
    "FOUR_PASS", "TWO_PASS", "VARIANTS", "PROTECTIONS", "ENCRYPTION", "MAC", "KEY_TYPES", "capability", "short_name",
    "PROVISION_PARAMS",
]
