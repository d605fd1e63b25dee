"""Building blocks of the DSKPP protocol and schema suites (server under test).

The lab's peer is the reference client engine (``reference.dskpp.client``), driven step
by step: ``first_request`` / ``receive`` give the messages, the suite posts them through
``DskppServerRole.post`` and may alter them on the way (``tamper_*``).  What the server
claims (``dskpp-server.endpoint``) decides which cases apply; a claim the suite cannot
exercise is UNSUPPORTED, never a failure.
"""

from __future__ import annotations

import base64
import functools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from lxml import etree

from harness import evidence
from harness.cases import NonConformance
from harness.errors import ProtocolError, Unsupported
from harness.roles.dskpp import (
    ENCRYPTION,
    FOUR_PASS,
    KEY_TYPES,
    MAC,
    PROTECTIONS,
    TWO_PASS,
    DskppServerRole,
    HttpAnswer,
    ServerEndpoint,
    short_name,
)
from reference.dskpp import codec
from reference.dskpp.client import ClientConfig, ClientResult, DskppClient, NextRequest
from reference.dskpp.messages import (
    DSKPP_NS,
    KeyProvServerFinished,
    KeyProvServerHello,
    Message,
    RawXml,
    Status,
    UnknownExtension,
)
from reference.dskpp.negotiation import FOUR_PASS_SYMMETRIC, METHOD_ALGORITHMS, RSA_ALGORITHMS
from reference.dskpp.policy import default_key_length
from reference.dskpp.store import MemoryTokenStore, TokenStore

UNKNOWN = {  # URIs no server can support (example namespace, RFC 2606 spirit)
    "key-type": "urn:example:kplab:no-such-key-type",
    "encryption": "urn:example:kplab:no-such-encryption-algorithm",
    "mac": "urn:example:kplab:no-such-mac-algorithm",
    "key-package": "urn:example:kplab:no-such-key-package-format",
    "protection": "urn:example:kplab:no-such-key-protection-method",
}
SUCCESS_STATUSES = frozenset({Status.SUCCESS.value, Status.CONTINUE.value})
FAILURE_STATUSES = frozenset(s.value for s in Status) - SUCCESS_STATUSES


def now() -> datetime:
    return datetime.now(timezone.utc)


def need(condition: object, adapter: str, what: str) -> None:
    """UNSUPPORTED unless ``condition``: the server does not claim what the case needs."""
    if not condition:
        raise Unsupported(f"{adapter} does not claim {what}", adapter=adapter, operation=f"claim: {what}")


@functools.lru_cache(maxsize=1)
def device_key() -> Any:
    """The lab's device RSA key for two-pass key transport (one per test process)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# ----------------------------------------------------------------------------- randomness
class RecordingRandom:
    """secrets.token_bytes that remembers what it gave; ``replay()`` gives the same again."""

    def __init__(self, draws: list[bytes] | None = None) -> None:
        self.draws: list[bytes] = []
        self._script = list(draws) if draws is not None else None

    def __call__(self, n: int) -> bytes:
        if self._script:
            value = self._script.pop(0)
            if len(value) == n:
                self.draws.append(value)
                return value
        value = secrets.token_bytes(n)
        self.draws.append(value)
        return value

    def replay(self) -> "RecordingRandom":
        return RecordingRandom(self.draws)


# ----------------------------------------------------------------------------- choosing
def key_type_for(endpoint: ServerEndpoint, adapter: str, wanted: str | None = None) -> str:
    if wanted is not None:
        need(wanted in endpoint.key_types, adapter, f"key type {short_name(wanted)}")
        need(default_key_length(wanted) is not None, adapter, f"a key type of known length ({wanted})")
        return wanted
    if KEY_TYPES["hotp"] in endpoint.key_types:
        return KEY_TYPES["hotp"]
    known = [k for k in endpoint.key_types if default_key_length(k) is not None]
    need(known, adapter, "a key type of known key length (HOTP, TOTP, OCRA; D-16)")
    return known[0]


def macs_for(endpoint: ServerEndpoint, adapter: str, wanted: str | None = None) -> tuple[str, ...]:
    if wanted is not None:
        need(wanted in endpoint.mac_algorithms, adapter, f"MAC algorithm {short_name(wanted)}")
        return (wanted,)
    known = tuple(m for m in endpoint.mac_algorithms if m in MAC.values())
    need(known, adapter, "a DSKPP-PRF MAC algorithm (App. D)")
    return known


def four_pass_encryptions(endpoint: ServerEndpoint, adapter: str, wanted: str | None = None) -> tuple[str, ...]:
    need(FOUR_PASS in endpoint.variants, adapter, "the four-pass variant")
    usable = [a for a in endpoint.encryption_algorithms if a in RSA_ALGORITHMS]
    if endpoint.shared_key() is not None:
        usable += [a for a in endpoint.encryption_algorithms if a in FOUR_PASS_SYMMETRIC]
    if wanted is not None:
        need(wanted in endpoint.encryption_algorithms, adapter, f"encryption algorithm {short_name(wanted)}")
        need(wanted in usable, adapter, f"{short_name(wanted)} in four-pass (a pre-shared key for symmetric R_C encryption)")
        return (wanted,)
    need(usable, adapter, "an encryption algorithm usable for R_C in four-pass")
    return tuple(usable)


def two_pass_encryptions(endpoint: ServerEndpoint, adapter: str, protection: str, wanted: str | None = None) -> tuple[str, ...]:
    need(TWO_PASS in endpoint.variants, adapter, "the two-pass variant")
    need(protection in endpoint.two_pass_protections, adapter, f"two-pass {protection}")
    if protection == "key-wrap":
        key = endpoint.shared_key()
        need(key is not None and len(key[1]) == 16, adapter, "a 16-octet pre-shared key for key wrap")
    fitting = [a for a in endpoint.encryption_algorithms if a in METHOD_ALGORITHMS[PROTECTIONS[protection]]]
    if wanted is not None:
        need(wanted in fitting, adapter, f"{short_name(wanted)} for two-pass {protection}")
        return (wanted,)
    need(fitting, adapter, f"an encryption algorithm for two-pass {protection}")
    return tuple(fitting)


def default_protection(endpoint: ServerEndpoint, adapter: str) -> str:
    need(TWO_PASS in endpoint.variants, adapter, "the two-pass variant")
    for protection in ("key-wrap", "key-transport", "passphrase"):
        if protection not in endpoint.two_pass_protections:
            continue
        if protection == "key-wrap" and (endpoint.shared_key() is None or len(endpoint.shared_key()[1]) != 16):
            continue
        return protection
    need(False, adapter, "a two-pass key protection method the lab can use")
    raise AssertionError  # unreachable


# ----------------------------------------------------------------------------- the lab's client
@dataclass
class LabClient:
    """A reference client for one run against the server under test."""

    engine: DskppClient
    tokens: TokenStore
    random: RecordingRandom

    @property
    def sent(self) -> list[bytes]:
        return self.engine.sent


def make_client(server: DskppServerRole, *, ac: str | None, variant: str = FOUR_PASS, protection: str | None = None,
                encryption: str | None = None, mac: str | None = None, key_type: str | None = None,
                tokens: TokenStore | None = None, random: RecordingRandom | None = None, **config: Any) -> LabClient:
    endpoint = server.endpoint()
    name = server.name
    kw: dict[str, Any] = {"variant": variant, "authentication_code": ac, "server_url": endpoint.url,
                          "key_types": (key_type_for(endpoint, name, key_type),),
                          "mac_algorithms": macs_for(endpoint, name, mac)}
    if variant == FOUR_PASS:
        kw["encryption_algorithms"] = four_pass_encryptions(endpoint, name, encryption)
    else:
        protection = protection or default_protection(endpoint, name)
        kw["protection"] = protection
        kw["encryption_algorithms"] = two_pass_encryptions(endpoint, name, protection, encryption)
        if protection == "key-transport":
            kw["rsa_private_key"] = device_key()
    shared = endpoint.shared_key()
    if shared is not None:
        kw["shared_key_name"], kw["shared_key"] = shared
        evidence.secret(shared[1])
    kw.update(config)
    tokens = tokens if tokens is not None else MemoryTokenStore()
    random = random if random is not None else RecordingRandom()
    return LabClient(DskppClient(ClientConfig(**kw), tokens, clock=now, random=random), tokens, random)


def dskpp_answer(server: DskppServerRole, answer: HttpAnswer, spec: str = "RFC 6063 §7.2.4") -> Message:
    """The DSKPP message of a 200 answer; anything else is non-conformance."""
    if not answer.is_dskpp:
        raise NonConformance(f"{server.name} answered HTTP {answer.status_code} ({answer.content_type or 'no type'}) "
                             f"to a DSKPP client message; {spec} requires 200 with application/dskpp+xml")
    try:
        return codec.decode(answer.body)
    except ProtocolError as exc:
        raise NonConformance(f"{server.name}'s answer is not a valid DSKPP message ({exc.status}: {exc}; "
                             "RFC 6063 §8.2)") from None


def complete(server: DskppServerRole, client: LabClient, *, trigger: bytes | None = None,
             tamper: Callable[[int, bytes], bytes] | None = None) -> ClientResult:
    """One whole run; ``tamper(index, request)`` may alter each request before it is posted."""
    outcome: NextRequest | ClientResult = NextRequest(client.engine.first_request(trigger))
    index = 0
    while isinstance(outcome, NextRequest):
        body = tamper(index, outcome.body) if tamper is not None else outcome.body
        answer = server.post(body)
        dskpp_answer(server, answer)
        try:
            outcome = client.engine.receive(answer.body)
        except ProtocolError as exc:
            raise NonConformance(f"the lab's client refused {server.name}'s response: {exc.status}: {exc} "
                                 f"[{exc.spec or 'RFC 6063'}]") from None
        index += 1
    return outcome


def provisioned(server: DskppServerRole, result: ClientResult, spec: str) -> Any:
    """The key of a run that must have succeeded; checks the server stored the same key."""
    if result.status is not Status.SUCCESS or result.key is None:
        raise NonConformance(f"{server.name} answered {result.status.value} where the run should succeed ({spec})")
    check_server_key(server, result.key.key_id, result.key.fingerprint)
    return result.key


def check_server_key(server: DskppServerRole, key_id: str, fingerprint: str) -> None:
    """When the server can say (dskpp-server.key), it must hold the key the client derived."""
    try:
        stored = server.key(key_id)
    except Unsupported:
        evidence.attach("text", "server key", "dskpp-server.key unsupported: the stored key is not compared")
        return
    if stored is None:
        raise NonConformance(f"{server.name} confirmed key {key_id} but holds no such key (RFC 6063 §4.2.5, §5.2.3)")
    if stored["fingerprint"] != fingerprint:
        raise NonConformance(f"{server.name} stored another key under {key_id} than the client derived "
                             f"({stored['fingerprint']} vs {fingerprint})")
    evidence.attach("text", "server key", f"{key_id}: the server holds the key the client derived ({fingerprint})")


# ----------------------------------------------------------------------------- refusals
def expect_refusal(server: DskppServerRole, answer: HttpAnswer, statuses: set[str] | frozenset[str], pdu: type | None,
                   spec: str) -> Message:
    """A 200 DSKPP answer of PDU ``pdu`` (None: either) with one of ``statuses``, no key."""
    message = dskpp_answer(server, answer)
    if not isinstance(message, (KeyProvServerHello, KeyProvServerFinished)):
        raise NonConformance(f"{server.name} answered <{type(message).__name__}>, not a server response (RFC 6063 §3.1)")
    status = message.status.value
    wanted = "a failure status (not Continue or Success)" if statuses == FAILURE_STATUSES else " or ".join(sorted(statuses))
    evidence.attach("text", "verdict", f"answered <{type(message).__name__}> Status={status}; expected {wanted} ({spec})")
    if status not in statuses:
        raise NonConformance(f"{server.name} answered Status {status}; {spec} requires {wanted}")
    if pdu is not None and not isinstance(message, pdu):
        raise NonConformance(f"{server.name} put Status {status} in <{type(message).__name__}>; "
                             f"{spec} requires <{pdu.__name__}>")
    if isinstance(message, KeyProvServerFinished) and message.key_package is not None:
        raise NonConformance(f"{server.name} refused the run (Status {status}) but sent a key package (RFC 6063 §3.3)")
    return message


# ----------------------------------------------------------------------------- XML surgery on requests
def _parse(body: bytes) -> etree._Element:
    return etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))


def _serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _flip(el: etree._Element, index: int = 0) -> None:
    value = bytearray(base64.b64decode("".join((el.text or "").split())))
    value[index % len(value)] ^= 0x01
    el.text = base64.b64encode(bytes(value)).decode("ascii")


def flip_ad_mac(body: bytes) -> bytes:
    """One bit of the AuthenticationCodeMac's <Mac> flipped (Sec. 3.4.1.2)."""
    root = _parse(body)
    mac = root.find(".//{%s}AuthenticationCodeMac/{%s}Mac" % (DSKPP_NS, DSKPP_NS))
    if mac is None:
        raise AssertionError("the request carries no AuthenticationCodeMac (suite bug)")
    _flip(mac)
    return _serialize(root)


def corrupt_encrypted_nonce(body: bytes) -> bytes:
    """Bits flipped in the middle of <EncryptedNonce> (Sec. 4.2.4)."""
    root = _parse(body)
    el = root.find("{%s}EncryptedNonce" % DSKPP_NS)
    if el is None:
        raise AssertionError("no EncryptedNonce (suite bug)")
    value = bytearray(base64.b64decode("".join((el.text or "").split())))
    for i in range(len(value) // 2, len(value) // 2 + 4):
        value[i] ^= 0x5A
    el.text = base64.b64encode(bytes(value)).decode("ascii")
    return _serialize(root)


def with_critical_extension(body: bytes) -> bytes:
    """The request with an unknown extension marked Critical (Sec. 6)."""
    message = codec.decode(body)
    ext = RawXml(b'<dskpp:Extension xmlns:dskpp="urn:ietf:params:xml:ns:keyprov:dskpp" '
                 b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:v="urn:example:kplab:vendor" '
                 b'xsi:type="v:UnheardOfType" Critical="true"><v:Data>must be understood</v:Data></dskpp:Extension>')
    changed = replace(message, extensions=(*message.extensions,  # type: ignore[arg-type]
                                           UnknownExtension("{urn:example:kplab:vendor}UnheardOfType", ext, critical=True)))
    return codec.encode(changed, validate_schema=False)  # the lab's encoder refuses to produce it otherwise


def rewrite(body: bytes, **changes: Any) -> bytes:
    """The request decoded, fields replaced (dataclasses.replace), encoded again."""
    return codec.encode(replace(codec.decode(body), **changes))  # type: ignore[arg-type]


__all__ = [
    "UNKNOWN", "FAILURE_STATUSES", "need", "device_key", "RecordingRandom", "LabClient", "make_client", "complete",
    "provisioned", "check_server_key", "expect_refusal", "dskpp_answer", "flip_ad_mac", "corrupt_encrypted_nonce",
    "with_critical_extension", "rewrite", "key_type_for", "macs_for", "four_pass_encryptions", "two_pass_encryptions",
    "default_protection", "ENCRYPTION", "MAC", "KEY_TYPES", "PROTECTIONS",
]
