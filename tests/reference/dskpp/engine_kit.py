"""Helpers for the DSKPP engine tests: seeded randomness, a fixed clock, servers and clients
wired together in memory, and message tampering between server.handle and client.receive."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from reference.dskpp.authcode import parse_authentication_code
from reference.dskpp.client import ClientConfig, ClientResult, DskppClient, run
from reference.dskpp.policy import ServerPolicy
from reference.dskpp.server import DskppServer, ServerOutcome
from reference.dskpp.store import MemoryServerStore, MemoryTokenStore

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
SERVER_URL = "https://dskpp.example/"
PSK = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
PSK_NAME = "Pre-shared-key-1"
PRF_AES = "urn:ietf:params:xml:ns:keyprov:dskpp:prf-aes-128"
PRF_SHA256 = "urn:ietf:params:xml:ns:keyprov:dskpp:prf-sha256"
RSA_OAEP = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
RSA_1_5 = "http://www.w3.org/2001/04/xmlenc#rsa-1_5"
AES_CBC = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
KW_AES = "http://www.w3.org/2001/04/xmlenc#kw-aes128"
HOTP = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"


def seeded(seed: int) -> Callable[[int], bytes]:
    rnd = random.Random(seed)
    return lambda n: bytes(rnd.getrandbits(8) for _ in range(n))


class Clock:
    """A settable clock (UTC)."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def self_signed(key: rsa.RSAPrivateKey, name: str, *, issuer_key: rsa.RSAPrivateKey | None = None,
                issuer_name: str | None = None, not_before: datetime = T0 - timedelta(days=1)) -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name or name)])
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
        .serial_number(1000 + len(name)).not_valid_before(not_before).not_valid_after(not_before + timedelta(days=30))
        .sign(issuer_key or key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


@dataclass
class Lab:
    """One server with its store, a clock, and helpers to run clients against it."""

    policy: ServerPolicy
    clock: Clock = field(default_factory=Clock)
    seed: int = 1
    store: MemoryServerStore = field(default_factory=MemoryServerStore)
    outcomes: list[ServerOutcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server = DskppServer(self.policy, self.store, clock=self.clock, random=seeded(self.seed))

    def post(self, body: bytes) -> bytes:
        outcome = self.server.handle(body)
        self.outcomes.append(outcome)
        return outcome.body

    def issue(self, client_id: str | None = None) -> tuple[str, str]:
        """(AC string, Client ID)."""
        ac = self.server.issue_authentication_code(client_id)
        return ac, parse_authentication_code(ac).client_id

    def client(self, seed: int, tokens: MemoryTokenStore | None = None, **config: object) -> DskppClient:
        config.setdefault("server_url", SERVER_URL)
        return DskppClient(ClientConfig(**config), tokens if tokens is not None else MemoryTokenStore(),
                           clock=self.clock, random=seeded(seed))

    def run(self, client: DskppClient, trigger: bytes | None = None,
            tamper: Callable[[int, bytes], bytes] | None = None) -> ClientResult:
        """run() with an optional tamper(index of response, body) -> body between the two."""
        count = [0]

        def post(body: bytes) -> bytes:
            response = self.post(body)
            if tamper is not None:
                response = tamper(count[0], response)
            count[0] += 1
            return response

        return run(client, post, trigger)


def replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) >= 1, old
    return data.replace(old, new, 1)
