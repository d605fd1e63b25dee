"""Deterministic generator of PSKC test vectors: every protection x MAC x key profile.

    python -m reference.pskc.vectorgen vectors/pskc/generated

Writes ``<id>.pskcxml`` per vector and ``index.json`` (the Wycheproof-like shape of
vectors/pskc/rfc6030/index.json: id, file, rfc, comment, result, flags, secrets,
expected; plus ``profile``, ``protection`` and, for damaged copies, ``derived_from``).

Inputs are the interop suite's own data: key profiles from vectors/pskc/interop-keys.json
(hotp, totp, ocra, in lab KEY field names; that spec, not the encoder, is the expected
result), pre-shared keys, passphrase and PBKDF2 iteration count from
vectors/pskc/protections.json.  Randomness (CBC IVs, MAC keys, PBKDF2 salts, RFC 3217
IVs) comes from a SHAKE-256 stream seeded with the vector id, so each non-RSA file
replays byte for byte and does not depend on which other vectors exist.  RSA padding
randomness is OpenSSL's and cannot be injected: RSA files differ on every run (their
index entries do not).  They are committed data; regenerating rewrites them.

The RSA recipient is a throw-away key pair shipped beside the vectors
(recipient-key.pem, recipient-cert.pem); ``--new-rsa-key`` makes a fresh one (once).

Combinations: RFC 3394/3217/3657 key wrap needs a multiple of 8 octets (RFC 6030 §6.1),
so for the 20-octet HOTP/TOTP secrets the AES key wraps become their RFC 5649 padded
variants (XML-Enc 1.1 ``kw-aes-*-pad``, flag "rfc5649-pad"); kw-tripledes and
kw-camellia* have no padded variant and yield no vector for those profiles.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import functools
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from lxml import etree

from harness.errors import InputError
from harness.vectors import load_json, vector_path

from . import MACSpec, Passphrase, PreSharedKey, RecipientCertificate, container_from_fields, encode
from .adapter import from_role
from .algorithms import CIPHERS, MAC_ALGORITHMS, NSMAP
from .crypto import compute_mac

SEED = b"keyprov-lab reference.pskc.vectorgen v1\x00"
SHIPPED = "pskc/generated"  # under vectors/
KEY_FILE, CERT_FILE = "recipient-key.pem", "recipient-cert.pem"
KEY_NAME, MASTER_KEY_NAME = "Pre-shared-key", "Passphrase1"
PAD_VARIANT = {"kw-aes128": "kw-aes-128-pad", "kw-aes192": "kw-aes-192-pad", "kw-aes256": "kw-aes-256-pad"}
RSA_MAC = "hmac-sha1"  # rsa-1_5 has no integrity: §6.1.1 MAC, the RECOMMENDED algorithm
THROWAWAY = ("THROW-AWAY TEST KEY of keyprov-lab (vectors/pskc/generated). Published on purpose;\n"
             "it protects nothing. Never use it outside tests.\n")


class SeededRng:
    """rng(n) -> n octets of SHAKE-256(SEED || label), consumed in order."""

    def __init__(self, label: str) -> None:
        self._seed = SEED + label.encode("utf-8")
        self._used = 0

    def __call__(self, n: int) -> bytes:
        stream = hashlib.shake_256(self._seed).digest(self._used + n)
        self._used += n
        return stream[-n:] if n else b""


@dataclass(frozen=True)
class Combination:
    profile: str
    method: str  # none | psk | pbe | rsa
    algorithm: str | None = None
    mac: str | None = None
    padded: bool = False  # RFC 5649 variant chosen for a secret that RFC 3394 cannot wrap

    @property
    def id(self) -> str:
        parts = [self.profile, "plaintext" if self.method == "none" else self.method, self.algorithm, self.mac]
        return "gen-" + "-".join(p for p in parts if p)


@dataclass
class Built:
    """A written vector and what damaging it needs (the MAC key never leaves this module)."""

    entry: dict[str, Any]
    document: bytes
    mac_key: bytes | None = field(default=None, repr=False)


# --------------------------------------------------------------------------- inputs
@functools.lru_cache(maxsize=1)
def _profiles() -> dict[str, dict[str, Any]]:
    return load_json("pskc/interop-keys.json")["profiles"]


@functools.lru_cache(maxsize=1)
def _protections() -> dict[str, Any]:
    return load_json("pskc/protections.json")


def plan() -> list[Combination]:
    """Every valid combination, in index order."""
    data = _protections()
    out: list[Combination] = []
    for name, profile in _profiles().items():
        secret_length = len(profile["key"]["secret_hex"]) // 2
        aligned = secret_length >= 16 and secret_length % 8 == 0
        out.append(Combination(name, "none"))
        for method in ("psk", "pbe"):
            for entry in data["symmetric"]:
                algorithm, padded = entry["algorithm"], False
                if not entry["cbc"] and not aligned:
                    if algorithm not in PAD_VARIANT:
                        continue  # no RFC 5649 URI for Triple-DES / Camellia key wrap
                    algorithm, padded = PAD_VARIANT[algorithm], True
                if not entry["cbc"]:
                    macs: list[str | None] = [None]
                elif method == "psk":
                    macs = list(data["mac_algorithms"])
                else:
                    macs = [data["mac_algorithms"][0]]
                out += [Combination(name, method, algorithm, mac, padded) for mac in macs]
        for entry in data["asymmetric"]:
            algorithm = entry["algorithm"]
            out.append(Combination(name, "rsa", algorithm, None if CIPHERS[algorithm].has_integrity else RSA_MAC))
    return out


# --------------------------------------------------------------------------- describing
def _spec_refs(spec: str) -> list[str]:
    return [s for s in (p.strip() for p in spec.split(";")) if s and not s.startswith("RFC 6030")]


def _rfc(combo: Combination, profile: dict[str, Any]) -> str:
    refs: list[str] = []
    if combo.method == "none":
        refs.append("RFC 6030 §4.1, §4.2 (PlainValue)")
    else:
        sections = {"psk": ["§6.1"], "pbe": ["§6.2"], "rsa": ["§6.3"]}[combo.method]
        if combo.mac:
            sections.append("§6.1.1")
        if CIPHERS[combo.algorithm].family == "cbc":
            sections.append("§6.4")
        if combo.padded:
            sections.append("§6.1 (RFC 5649 RECOMMENDED for unaligned values)")
        refs.append("RFC 6030 " + ", ".join(sections))
        refs += _spec_refs(CIPHERS[combo.algorithm].spec)
    refs.append(profile["rfc"].split(";")[0].strip())
    return "; ".join(refs)


def _comment(combo: Combination) -> str:
    what = f"{combo.profile.upper()} key"
    if combo.method == "none":
        return f"{what}, secret in PlainValue"
    how = {"psk": "a pre-shared key (ds:KeyName)", "pbe": "a PBKDF2 passphrase-derived key (xenc11:DerivedKey)",
           "rsa": "the recipient certificate's RSA key (ds:X509Data)"}[combo.method]
    text = f"{what}, secret encrypted with {combo.algorithm} under {how}"
    if combo.mac:
        text += f"; ValueMAC {combo.mac} over IV||ciphertext, random MAC key encrypted in MACKey"
    if combo.padded:
        text += "; RFC 5649 padded key wrap because the 20-octet secret is not a multiple of 8 octets"
    if combo.method == "rsa":
        text += "; RSA padding is random (OpenSSL): the file does not replay"
    return text


def _flags(combo: Combination) -> list[str]:
    flags = ["plaintext" if combo.method == "none" else combo.method]
    flags += [f for f in (combo.algorithm, combo.mac) if f]
    flags.append(combo.profile)
    if combo.padded:
        flags.append("rfc5649-pad")
    if combo.method == "rsa":
        flags.append("not-replayable")
    return flags


def _secrets(combo: Combination, data: dict[str, Any]) -> dict[str, str]:
    if combo.method == "psk":
        return {"key_hex": data["psk_keys_hex"][str(CIPHERS[combo.algorithm].key_lengths[0])]}
    if combo.method == "pbe":
        return {"password": data["password"]}
    if combo.method == "rsa":
        return {"private_key_file": KEY_FILE}
    return {}


# --------------------------------------------------------------------------- building
def build(combo: Combination, certificate_pem: bytes) -> Built:
    data, profile = _protections(), _profiles()[combo.profile]
    rng = SeededRng(combo.id)
    mac_key = rng(MAC_ALGORITHMS[combo.mac].digest_size) if combo.mac else None
    secrets = _secrets(combo, data)
    protection: Any = None
    if combo.method == "psk":
        protection = PreSharedKey(key=bytes.fromhex(secrets["key_hex"]), algorithm=combo.algorithm, key_name=KEY_NAME)
    elif combo.method == "pbe":
        protection = Passphrase(password=data["password"], algorithm=combo.algorithm,
                                iterations=data["pbkdf2_iterations"], master_key_name=MASTER_KEY_NAME)
    elif combo.method == "rsa":
        protection = RecipientCertificate(certificate=certificate_pem, algorithm=combo.algorithm)
    container = container_from_fields([from_role(profile["key"])])
    if protection is None:
        document = encode(container)
    else:
        mac = MACSpec(algorithm=combo.mac, key=mac_key) if combo.mac else None
        document = encode(container, protection=protection, mac=mac, rng=rng)
    entry = {
        "id": combo.id, "file": f"{combo.id}.pskcxml", "rfc": _rfc(combo, profile), "comment": _comment(combo),
        "result": "valid", "flags": _flags(combo), "profile": combo.profile,
        "protection": {"method": combo.method, "algorithm": combo.algorithm, "mac": combo.mac},
        "secrets": secrets, "expected": [dict(profile["key"])],
    }
    return Built(entry, document, mac_key)


# --------------------------------------------------------------------------- damaging
_SECRET_CV = ".//pskc:Secret/pskc:EncryptedValue/xenc:CipherData/xenc:CipherValue"
_MACKEY_CV = ".//pskc:MACMethod/pskc:MACKey/xenc:CipherData/xenc:CipherValue"
_VALUE_MAC = ".//pskc:Secret/pskc:ValueMAC"


def _text_of(document: bytes, path: str) -> str:
    root = etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True))
    element = root.find(path, NSMAP)
    if element is None or not element.text:
        raise InputError(f"vector has no {path}", where="vectorgen")
    return element.text.strip()


def _replace(document: bytes, path: str, edit: Callable[[bytes], bytes]) -> bytes:
    """``document`` with the base64 text at ``path`` replaced by edit(decoded) (byte-exact
    elsewhere, so the damage is the only difference from the valid file)."""
    old = _text_of(document, path)
    new = base64.b64encode(edit(base64.b64decode(old))).decode("ascii")
    needle = f">{old}<".encode("ascii")
    if document.count(needle) != 1:
        raise InputError(f"cannot locate {path} uniquely", where="vectorgen")
    return document.replace(needle, f">{new}<".encode("ascii"))


def _flip(index: int, mask: int) -> Callable[[bytes], bytes]:
    """XOR one octet (negative index counts from the end)."""
    def edit(raw: bytes) -> bytes:
        i = index % len(raw)
        return raw[:i] + bytes([raw[i] ^ mask]) + raw[i + 1:]
    return edit


def _remac(built: Built, document: bytes) -> bytes:
    """Recompute the Secret's ValueMAC so only the cipher itself can notice the damage."""
    algorithm = MAC_ALGORITHMS[built.entry["protection"]["mac"]]
    assert built.mac_key is not None
    value = base64.b64decode(_text_of(document, _SECRET_CV))
    return _replace(document, _VALUE_MAC, lambda _: compute_mac(algorithm, built.mac_key, value))


@dataclass(frozen=True)
class Damage:
    name: str
    base: str  # id of the valid vector it starts from
    why: str
    rfc: str
    edit: Callable[[Built], bytes]


def _truncate(cut: int, remac: bool) -> Callable[[Built], bytes]:
    def edit(built: Built) -> bytes:
        document = _replace(built.document, _SECRET_CV, lambda raw: raw[:-cut])
        return _remac(built, document) if remac else document
    return edit


DAMAGES = (
    Damage("tampered-valuemac", "gen-hotp-psk-aes128-cbc-hmac-sha1", "last octet of the Secret's ValueMAC flipped",
           "RFC 6030 §6.1.1", lambda b: _replace(b.document, _VALUE_MAC, _flip(-1, 0x01))),
    Damage("tampered-valuemac", "gen-ocra-psk-aes256-cbc-hmac-sha512", "first octet of the Secret's ValueMAC flipped",
           "RFC 6030 §6.1.1", lambda b: _replace(b.document, _VALUE_MAC, _flip(0, 0x80))),
    Damage("tampered-valuemac", "gen-totp-pbe-aes128-cbc-hmac-sha1", "last octet of the Secret's ValueMAC flipped",
           "RFC 6030 §6.1.1, §6.2", lambda b: _replace(b.document, _VALUE_MAC, _flip(-1, 0x01))),
    Damage("wrong-iv", "gen-hotp-psk-camellia128-cbc-hmac-sha256",
           "first IV octet of the Secret's CipherValue flipped; the ValueMAC (over IV||ciphertext) is left as written",
           "RFC 6030 §6.1 (IV prepended), §6.1.1", lambda b: _replace(b.document, _SECRET_CV, _flip(0, 0x80))),
    Damage("wrong-iv", "gen-totp-psk-tripledes-cbc-hmac-sha1",
           "last IV octet of the Secret's CipherValue flipped; the ValueMAC is left as written",
           "RFC 6030 §6.1 (IV prepended), §6.1.1", lambda b: _replace(b.document, _SECRET_CV, _flip(7, 0x01))),
    Damage("wrong-mackey-iv", "gen-hotp-psk-aes128-cbc-hmac-sha1",
           "first IV octet of the encrypted MACKey flipped, so the MAC key decrypts wrong and no ValueMAC verifies",
           "RFC 6030 §6.1.1", lambda b: _replace(b.document, _MACKEY_CV, _flip(0, 0x01))),
    Damage("truncated-ciphertext", "gen-hotp-psk-aes128-cbc-hmac-sha1",
           "Secret's CipherValue cut by 5 octets (not a whole block); ValueMAC recomputed over the cut value",
           "RFC 6030 §6.1, §6.4; XML-Enc §5.2", _truncate(5, remac=True)),
    Damage("truncated-ciphertext", "gen-ocra-psk-camellia256-cbc-hmac-sha384",
           "last block of the Secret's CipherValue removed (the padding block); ValueMAC recomputed",
           "RFC 6030 §6.1, §6.4; XML-Enc §5.2", _truncate(16, remac=True)),
    Damage("truncated-ciphertext", "gen-ocra-psk-kw-aes256", "wrapped Secret cut by 8 octets (RFC 3394 integrity check)",
           "RFC 6030 §6.1; RFC 3394 §2.2.3", _truncate(8, remac=False)),
    Damage("truncated-ciphertext", "gen-hotp-psk-kw-aes-128-pad",
           "wrapped Secret cut by 8 octets (RFC 5649 integrity check)", "RFC 6030 §6.1; RFC 5649 §3",
           _truncate(8, remac=False)),
    Damage("truncated-ciphertext", "gen-ocra-pbe-kw-camellia128",
           "wrapped Secret cut by 8 octets (RFC 3657 / RFC 3394 integrity check)", "RFC 6030 §6.1, §6.2; RFC 3657",
           _truncate(8, remac=False)),
)


def damaged(damage: Damage, built: Built) -> Built:
    base = built.entry
    vid = f"gen-invalid-{damage.name}-{base['id'].removeprefix('gen-')}"
    entry = {
        **base, "id": vid, "file": f"{vid}.pskcxml", "rfc": damage.rfc,
        "comment": f"{damage.why}; a consumer MUST refuse it (from {base['id']})", "result": "invalid",
        "flags": [*base["flags"], damage.name], "derived_from": base["id"], "expected": [],
    }
    return Built(entry, damage.edit(built))


# --------------------------------------------------------------------------- output
def recipient_material(outdir: Path, *, new_key: bool) -> bytes:
    """The recipient certificate PEM; the key pair is copied into ``outdir`` if absent."""
    key_path, cert_path = outdir / KEY_FILE, outdir / CERT_FILE
    if new_key:
        key_pem, cert_pem = _new_rsa_key()
        key_path.write_bytes(key_pem)
        cert_path.write_bytes(cert_pem)
    elif not (key_path.exists() and cert_path.exists()):
        shipped_key, shipped_cert = vector_path(f"{SHIPPED}/{KEY_FILE}"), vector_path(f"{SHIPPED}/{CERT_FILE}")
        if not (shipped_key.exists() and shipped_cert.exists()):
            raise InputError(f"no {KEY_FILE}/{CERT_FILE} in {outdir} or vectors/{SHIPPED}; "
                             "make a throw-away pair once with --new-rsa-key")
        key_path.write_bytes(shipped_key.read_bytes())
        cert_path.write_bytes(shipped_cert.read_bytes())
    return cert_path.read_bytes()


def _new_rsa_key() -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "keyprov-lab"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "THROW-AWAY PSKC test recipient - do not trust")])
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(start).not_valid_after(start + datetime.timedelta(days=36500))
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return THROWAWAY.encode() + key_pem, THROWAWAY.encode() + cert.public_bytes(serialization.Encoding.PEM)


def index_document(entries: list[dict[str, Any]]) -> bytes:
    head = {
        "description": (
            "Generated PSKC vectors: every protection x MAC x key profile of the interop suite "
            "(vectors/pskc/interop-keys.json, protections.json), plus damaged copies a consumer must refuse. "
            "Wycheproof-like: result valid (import to the expected fields, lab KEY names), invalid (refuse), "
            "acceptable (either). secrets: key_hex (pre-shared key), password (PBKDF2), private_key_file "
            "(PEM beside this index; a THROW-AWAY test key)."),
        "generator": "python -m reference.pskc.vectorgen vectors/pskc/generated",
        "replay": ("non-RSA files replay byte for byte (randomness is SHAKE-256 seeded with the vector id); "
                   "RSA padding randomness is OpenSSL's, so files flagged not-replayable differ on every run"),
        "number_of_vectors": len(entries),
    }
    lines = [json.dumps(e, ensure_ascii=False, separators=(", ", ": ")) for e in entries]
    body = ",\n".join(f"    {line}" for line in lines)
    text = json.dumps(head, indent=2, ensure_ascii=False)[:-2] + ',\n  "vectors": [\n' + body + "\n  ]\n}\n"
    return text.encode("utf-8")


def generate(outdir: Path, *, new_rsa_key: bool = False) -> list[dict[str, Any]]:
    """Write every vector and index.json into ``outdir``; returns the index entries."""
    outdir.mkdir(parents=True, exist_ok=True)
    certificate = recipient_material(outdir, new_key=new_rsa_key)
    built = {c.id: build(c, certificate) for c in plan()}
    outputs = list(built.values())
    for damage in DAMAGES:
        if damage.base not in built:
            raise InputError(f"damage {damage.name} starts from unknown vector {damage.base}", where="vectorgen")
        outputs.append(damaged(damage, built[damage.base]))
    written = set()
    for item in outputs:
        (outdir / item.entry["file"]).write_bytes(item.document)
        written.add(item.entry["file"])
    for stale in outdir.glob("gen-*.pskcxml"):  # vectors this version no longer makes
        if stale.name not in written:
            stale.unlink()
    entries = [item.entry for item in outputs]
    (outdir / "index.json").write_bytes(index_document(entries))
    return entries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reference.pskc.vectorgen", description=__doc__.split("\n")[0])
    parser.add_argument("outdir", type=Path, help="output folder (the committed one is vectors/pskc/generated)")
    parser.add_argument("--new-rsa-key", action="store_true",
                        help="make a fresh throw-away RSA recipient key pair in OUTDIR (replaces the shipped one)")
    args = parser.parse_args(argv)
    try:
        entries = generate(args.outdir, new_rsa_key=args.new_rsa_key)
    except (InputError, OSError) as exc:
        print(f"vectorgen: {exc}", file=sys.stderr)
        return 2
    valid = sum(e["result"] == "valid" for e in entries)
    print(f"{len(entries)} vectors ({valid} valid, {len(entries) - valid} invalid) in {args.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
