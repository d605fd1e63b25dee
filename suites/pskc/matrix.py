"""The PSKC interop matrix's axes: key profiles and protections, read from vectors/pskc."""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from typing import Any

from harness.roles.pskc import Protection
from harness.vectors import load_json


@dataclass(frozen=True)
class Profile:
    name: str
    key: dict[str, Any]
    essential: tuple[str, ...]
    rfc: str

    @property
    def case_id(self) -> str:
        return self.name

    def __repr__(self) -> str:  # parameters are printed by reporters: no secrets
        return f"Profile({self.name})"


@functools.lru_cache(maxsize=1)
def profiles() -> tuple[Profile, ...]:
    data = load_json("pskc/interop-keys.json")["profiles"]
    return tuple(Profile(name, p["key"], tuple(p["essential"]), p["rfc"]) for name, p in data.items())


@functools.lru_cache(maxsize=1)
def _protection_data() -> dict[str, Any]:
    return load_json("pskc/protections.json")


def protections(profile: str, *, rsa: "RsaMaterial | None" = None) -> list[Protection]:
    """Every protection of the full profile: none; each symmetric algorithm as a
    pre-shared key and as PBKDF2, CBC ones with each MAC; RSA key transport."""
    data = _protection_data()
    out = [Protection("none")]
    for entry in data["symmetric"]:
        key_hex = data["psk_keys_hex"][str(entry["key_length"])]
        macs = data["mac_algorithms"] if entry["cbc"] else [None]
        for mac in macs:
            out.append(Protection("psk", entry["algorithm"], mac, key_hex=key_hex, key_name="Pre-shared-key"))
        out.append(Protection("pbe", entry["algorithm"], "hmac-sha1" if entry["cbc"] else None,
                              password=data["password"], iterations=data["pbkdf2_iterations"],
                              salt_hex=data["pbkdf2_salt_hex"], key_name="Passphrase1"))
    for entry in data["asymmetric"]:
        out.append(Protection("rsa", entry["algorithm"], None,
                              certificate_pem=rsa.certificate_pem if rsa else None,
                              private_key_pem=rsa.private_key_pem if rsa else None))
    return out


def quick_protections() -> set[str]:
    """case ids of the quick profile's protections: each quick algorithm with its first
    MAC, plus aes128-cbc with every MAC."""
    data = _protection_data()
    chosen = {"none"}
    for entry in data["symmetric"]:
        if entry.get("quick"):
            mac = "hmac-sha1" if entry["cbc"] else None
            chosen.add("+".join(p for p in ("psk", entry["algorithm"], mac) if p))
            chosen.add("+".join(p for p in ("pbe", entry["algorithm"], mac) if p))
    chosen |= {f"psk+aes128-cbc+{mac}" for mac in data["mac_algorithms"]}
    chosen |= {f"rsa+{e['algorithm']}" for e in data["asymmetric"] if e.get("quick")}
    return chosen


def combination_possible(profile: Profile, protection: Protection) -> bool:
    """False where RFC 3394/3217 key wrap cannot carry the profile's secret."""
    if protection.algorithm and protection.algorithm.startswith("kw-"):
        length = len(profile.key["secret_hex"]) // 2
        return length >= 16 and length % 8 == 0
    return True


@dataclass(frozen=True)
class RsaMaterial:
    private_key_pem: str
    certificate_pem: str

    def __repr__(self) -> str:
        return "RsaMaterial(<redacted>)"


@functools.lru_cache(maxsize=1)
def rsa_material() -> RsaMaterial:
    """A throw-away RSA-2048 key and self-signed certificate for key transport cases."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "keyprov-lab PSKC recipient")])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return RsaMaterial(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode(),
        cert.public_bytes(serialization.Encoding.PEM).decode(),
    )
