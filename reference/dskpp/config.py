"""Server policy from a TOML file (``kplab serve dskpp --config FILE``).

Every key is optional; what is left out keeps ``ServerPolicy``'s default.  Algorithms
may be given by short name (below) or by full URI.  Paths are relative to the file.
Secrets (pre-shared keys, passphrases) may stand in the file or, better, in files named
by ``*_file`` keys; they never appear in errors or logs.

    server_id = "https://dskpp.example/"
    server_urls = ["https://dskpp.example/"]   # URL_S values the AD MAC may use (§3.4.1.2);
                                               # default: the URL kplab serve listens on

    [variants]
    four_pass = true
    two_pass = ["key-transport", "key-wrap", "passphrase"]   # [] disables two-pass

    [algorithms]
    key_types = [{ uri = "hotp", key_length = 20 }]
    encryption = ["rsa-oaep", "rsa-1_5", "prf-aes-128", "prf-sha256"]
    mac = ["prf-aes-128", "prf-sha256"]
    key_packages = ["pskc"]

    [keys]
    rsa_private_key = "server-key.pem"          # PEM, unencrypted; generated when absent
    rsa_certificate = "server-cert.pem"         # optional, sent in ds:KeyInfo
    shared = { "Example-Key1" = "0123...ef" }   # ds:KeyName -> hex K_SHARED
    shared_files = { "Key2" = "key2.hex" }
    passphrases = { "Passphrase-1" = "..." }
    four_pass_shared_key = "Example-Key1"      # K_SHARED that encrypts R_C in four-pass (§4.2.3)

    [authentication]
    required = true
    iteration_count = 100000
    ac_lifetime_s = 86400

    [sessions]
    timeout_s = 300

    [interpretation]                            # any reading of reference.dskpp.interpretation
    message_hash_input = "raw-bytes"
"""

from __future__ import annotations

import dataclasses
import tomllib
from enum import Enum
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import load_pem_x509_certificate

from harness.errors import ConfigError, InputError
from reference.dskpp.interpretation import Interpretation
from reference.dskpp.messages import (
    EncryptionAlgorithmUri,
    KeyPackageFormatUri,
    KeyProtectionMethodUri,
    MacAlgorithmUri,
)
from reference.dskpp.policy import KeyTypePolicy, ServerPolicy

PSKC_ALGORITHM = "urn:ietf:params:xml:ns:keyprov:pskc:"
KEY_TYPES = {"hotp": PSKC_ALGORITHM + "hotp", "totp": PSKC_ALGORITHM + "totp", "ocra": PSKC_ALGORITHM + "ocra"}
ENCRYPTION = {
    "rsa-oaep": EncryptionAlgorithmUri.RSA_OAEP_MGF1P.value,
    "rsa-oaep-11": EncryptionAlgorithmUri.RSA_OAEP_11.value,
    "rsa-1_5": EncryptionAlgorithmUri.RSA_1_5.value,
    "prf-aes-128": EncryptionAlgorithmUri.PRF_AES_128.value,
    "prf-sha256": EncryptionAlgorithmUri.PRF_SHA256.value,
    "aes128-cbc": EncryptionAlgorithmUri.AES128_CBC.value,
    "kw-aes128": EncryptionAlgorithmUri.KW_AES128.value,
}
MAC = {"prf-aes-128": MacAlgorithmUri.PRF_AES_128.value, "prf-sha256": MacAlgorithmUri.PRF_SHA256.value}
PROTECTIONS = {
    "key-transport": KeyProtectionMethodUri.TRANSPORT.value,
    "key-wrap": KeyProtectionMethodUri.WRAP.value,
    "passphrase": KeyProtectionMethodUri.PASSPHRASE_WRAP.value,
}
KEY_PACKAGES = {"pskc": KeyPackageFormatUri.PSKC.value}
_SECTIONS = {"server_id", "server_urls", "variants", "algorithms", "keys", "authentication", "sessions", "interpretation"}


def uri(value: Any, names: dict[str, str], where: str) -> str:
    """A short name from ``names`` or a full URI (anything with a ':')."""
    if not isinstance(value, str) or not value:
        raise ConfigError("expected an algorithm name or URI", where=where)
    if value in names:
        return names[value]
    if ":" in value:
        return value
    raise ConfigError(f"unknown name {value!r} (known: {', '.join(sorted(names))}, or a full URI)", where=where)


def _table(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError("expected a table", where=f"{where}[{key}]")
    return value


def _typed(table: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = table[key]
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise ConfigError(f"expected {kind.__name__}", where=f"{where}.{key}")
    return value


def _uris(table: dict[str, Any], key: str, names: dict[str, str], where: str) -> tuple[str, ...]:
    value = table[key]
    if not isinstance(value, list):
        raise ConfigError("expected a list", where=f"{where}.{key}")
    return tuple(uri(v, names, f"{where}.{key}[{i}]") for i, v in enumerate(value))


def _read(base: Path, name: Any, where: str) -> bytes:
    if not isinstance(name, str):
        raise ConfigError("expected a file name", where=where)
    path = (base / name).resolve()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}", where=where) from None


def _hex_key(text: str, where: str) -> bytes:
    try:
        key = bytes.fromhex("".join(text.split()))
    except ValueError:
        raise ConfigError("not hex", where=where) from None
    if len(key) not in (16, 24, 32):
        raise ConfigError(f"a pre-shared key must be 16, 24 or 32 octets, not {len(key)}", where=where)
    return key


def _key_types(value: Any, where: str) -> tuple[KeyTypePolicy, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError("expected a non-empty list", where=where)
    out = []
    for i, entry in enumerate(value):
        here = f"{where}[{i}]"
        if isinstance(entry, str):
            entry = {"uri": entry}
        if not isinstance(entry, dict) or "uri" not in entry:
            raise ConfigError("expected a name/URI or a table with 'uri'", where=here)
        extra = {k: v for k, v in entry.items() if k != "uri"}
        known = {f.name for f in dataclasses.fields(KeyTypePolicy)} - {"uri"}
        if set(extra) - known:
            raise ConfigError(f"unknown keys {sorted(set(extra) - known)}", where=here)
        length = extra.get("key_length", 20)
        if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= 64:
            raise ConfigError("key_length must be an integer from 1 to 64", where=f"{here}.key_length")
        out.append(KeyTypePolicy(uri=uri(entry["uri"], KEY_TYPES, here), **extra))
    return tuple(out)


def _keys(table: dict[str, Any], base: Path, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "rsa_private_key" in table:
        pem = _read(base, table["rsa_private_key"], f"{where}.rsa_private_key")
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError):
            raise ConfigError("not an unencrypted PEM private key", where=f"{where}.rsa_private_key") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigError("not an RSA key", where=f"{where}.rsa_private_key")
        out["rsa_private_key"] = key
    if "rsa_certificate" in table:
        pem = _read(base, table["rsa_certificate"], f"{where}.rsa_certificate")
        try:
            out["rsa_certificate_der"] = load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
        except ValueError:
            raise ConfigError("not a PEM certificate", where=f"{where}.rsa_certificate") from None
    shared: dict[str, bytes] = {}
    for name, value in _table(table, "shared", where).items():
        shared[name] = _hex_key(_typed({name: value}, name, str, f"{where}.shared"), f"{where}.shared.{name}")
    for name, file in _table(table, "shared_files", where).items():
        text = _read(base, file, f"{where}.shared_files.{name}").decode("ascii", "replace")
        shared[name] = _hex_key(text, f"{where}.shared_files.{name}")
    if shared:
        out["shared_keys"] = shared
    passphrases = {n: _typed({n: v}, n, str, f"{where}.passphrases") for n, v in _table(table, "passphrases", where).items()}
    if passphrases:
        out["passphrases"] = passphrases
    if "four_pass_shared_key" in table:  # ds:KeyName of K_SHARED for four-pass R_C encryption (Sec. 4.2.3)
        out["four_pass_shared_key"] = _typed(table, "four_pass_shared_key", str, where)
    return out


def _interpretation(table: dict[str, Any], where: str) -> Interpretation:
    values: dict[str, Any] = {}
    fields = {f.name: f for f in dataclasses.fields(Interpretation)}
    default = Interpretation()
    for name, value in table.items():
        if name not in fields:
            raise ConfigError("no such reading", where=f"{where}.{name}")
        current = getattr(default, name)
        if isinstance(current, Enum):
            try:
                values[name] = type(current)(value)
            except ValueError:
                options = ", ".join(m.value for m in type(current))
                raise ConfigError(f"expected one of {options}", where=f"{where}.{name}") from None
        else:
            values[name] = _typed({name: value}, name, type(current), where)
    try:
        return Interpretation(**values)
    except InputError as exc:
        raise ConfigError(exc.message, where=where) from None


def policy_from_mapping(data: dict[str, Any], *, base: Path = Path("."), where: str = "config") -> ServerPolicy:
    unknown = set(data) - _SECTIONS
    if unknown:
        raise ConfigError(f"unknown keys {sorted(unknown)}", where=where)
    kw: dict[str, Any] = {}
    if "server_id" in data:
        kw["server_id"] = _typed(data, "server_id", str, where)
    if "server_urls" in data:
        urls = _typed(data, "server_urls", list, where)
        if not urls or not all(isinstance(u, str) and u for u in urls):
            raise ConfigError("expected a non-empty list of URLs", where=f"{where}.server_urls")
        kw["server_urls"] = tuple(urls)
    variants = _table(data, "variants", where)
    if "four_pass" in variants:
        kw["four_pass"] = _typed(variants, "four_pass", bool, f"{where}.variants")
    if "two_pass" in variants:
        kw["two_pass_methods"] = _uris(variants, "two_pass", PROTECTIONS, f"{where}.variants")
    algorithms = _table(data, "algorithms", where)
    if "key_types" in algorithms:
        kw["key_types"] = _key_types(algorithms["key_types"], f"{where}.algorithms.key_types")
    for key, field, names in (("encryption", "encryption_algorithms", ENCRYPTION), ("mac", "mac_algorithms", MAC),
                              ("key_packages", "key_package_formats", KEY_PACKAGES)):
        if key in algorithms:
            kw[field] = _uris(algorithms, key, names, f"{where}.algorithms")
    kw.update(_keys(_table(data, "keys", where), base, f"{where}.keys"))
    auth = _table(data, "authentication", where)
    for key, field, kind in (("required", "require_authentication", bool), ("iteration_count", "ac_iteration_count", int),
                             ("ac_lifetime_s", "ac_lifetime_s", int)):
        if key in auth:
            kw[field] = _typed(auth, key, kind, f"{where}.authentication")
    sessions = _table(data, "sessions", where)
    if "timeout_s" in sessions:
        kw["session_timeout_s"] = _typed(sessions, "timeout_s", int, f"{where}.sessions")
    if "interpretation" in data:
        kw["interpretation"] = _interpretation(_table(data, "interpretation", where), f"{where}.interpretation")
    try:
        return ServerPolicy(**kw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"inconsistent policy: {exc}", where=where) from None


def load_policy(path: str | Path) -> ServerPolicy:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", where=str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"not TOML: {exc}", where=str(path)) from None
    return policy_from_mapping(data, base=path.parent, where=str(path))
