"""Semantic checks on PSKC documents: what RFC 6030 requires but pskc.xsd cannot express.

``review(container, credentials)`` gathers every finding about a decoded document, each
with the requirement level it relates to (MUST/SHOULD/MAY/INFO, harness.results.Level):

* the decoder's own findings (``container.all_findings()``): "deviation" and "legacy"
  are MUST (they break RFC 6030 text or schema, or are pre-RFC syntax), "note" is INFO;
* the algorithm-profile checks of §10 (``check_profile``, MUST);
* the checks below (``RULES`` lists each with its level and section), run on the model
  with nothing but the document;
* with credentials, decryptability: the MAC key and every encrypted value are opened
  one by one, each failure a MUST finding named by the codec's status (wrong key, MAC
  mismatch, bad padding ...), and the secret-length checks run on the opened secrets.

Levels follow the words of the cited text; where a rule has no normative keyword behind
it the level is INFO.  Messages name places, never key material.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterator

from harness.errors import ProtocolError
from harness.results import Level

from .algorithms import PBKDF2_URI, is_pbkdf2, lookup_cipher, lookup_mac, prf_hash
from .ciphers import BLOCK_SIZE
from .model import EncryptedValue, Finding, Key, KeyContainer, KeyPackage, PlainValue
from .profiles import check_profile, profile_for
from .protection import Credentials, Unprotector

DEFAULT_MIN_ITERATIONS = 1000  # RFC 2898 (PKCS #5 v2.0) §4.2: "a minimum of 1000 iterations is recommended"
ELEMENTS = {"secret": "Secret", "counter": "Counter", "time": "Time", "time_interval": "TimeInterval",
            "time_drift": "TimeDrift"}
SEVERITY_LEVELS = {"deviation": Level.MUST, "legacy": Level.MUST, "note": Level.INFO}


@dataclass(frozen=True)
class Rule:
    code: str
    level: Level
    spec: str
    summary: str


RULES: dict[str, Rule] = {r.code: r for r in (
    Rule("pskc.duplicate-id", Level.MUST, "RFC 6030 §4.1",
         "two <Key>s share an Id (the Id identifies the key between the parties)"),
    Rule("pskc.key-without-algorithm", Level.MUST, "RFC 6030 §4.1",
         "<Key> without Algorithm (MUST be included; the §11 schema makes it optional)"),
    Rule("pskc.missing-encryption-key", Level.MUST, "RFC 6030 §6.1, §6.2, §6.3",
         "encrypted values but <EncryptionKey> names no pre-shared key, DerivedKey or X509Data fit for the cipher"),
    Rule("pskc.mixed-algorithms", Level.MUST, "RFC 6030 §6",
         "encrypted elements (MAC key included) use different encryption algorithms"),
    Rule("pskc.unsupported-algorithm", Level.INFO, "RFC 6030 §6.1, §6.3",
         "encryption algorithm unknown to the lab: its lengths cannot be checked"),
    Rule("pskc.iv-length", Level.MUST, "RFC 6030 §6, §6.1; XML-Enc §5.2",
         "CBC CipherValue is not a one-block IV followed by whole blocks"),
    Rule("pskc.keywrap-length", Level.MUST, "RFC 3394 §2.2.1; RFC 5649 §4.1",
         "key-wrap CipherValue is not a multiple of 8 octets of at least 16"),
    Rule("pskc.rsa-length", Level.MUST, "RFC 6030 §6.3; RFC 8017 §7.1.2, §7.2.2",
         "RSA CipherValue length differs from the recipient certificate's modulus length"),
    Rule("pskc.missing-value-mac", Level.MUST, "RFC 6030 §6.1.1",
         "value encrypted without integrity (CBC, RSA-1.5) carries no <ValueMAC>"),
    Rule("pskc.value-mac-absent", Level.INFO, "RFC 6030 §6.1.1",
         "<MACMethod> present, but a value under an integrity-protecting cipher has no <ValueMAC>"),
    Rule("pskc.no-mac-method", Level.MUST, "RFC 6030 §6.1.1",
         "<ValueMAC> present but no <MACMethod> names the MAC algorithm"),
    Rule("pskc.value-mac-length", Level.MUST, "RFC 6030 §6.1.1",
         "<ValueMAC> length differs from the output length of the MACMethod algorithm"),
    Rule("pskc.unsupported-mac", Level.INFO, "RFC 6030 §6.1.1", "MAC algorithm unknown to the lab"),
    Rule("pskc.mac-key-not-carried", Level.SHOULD, "RFC 6030 §6.1.1",
         "<MACMethod> with neither <MACKey> nor <MACKeyReference> (a random MAC key in <MACKey> is RECOMMENDED)"),
    Rule("pskc.mac-method-unused", Level.INFO, "RFC 6030 §6.1.1", "<MACMethod> present but no value carries a MAC"),
    Rule("pskc.mac-key-undecryptable", Level.MUST, "RFC 6030 §6.1.1",
         "the <MACKey> does not decrypt with the given credentials"),
    Rule("pskc.pbkdf2-uri", Level.INFO, "RFC 6030 §6.2",
         "KeyDerivationMethod is not the §6.2 URI (RFC 6030's own Figure 7 uses pkcs-5v2-0#pbkdf2)"),
    Rule("pskc.pbkdf2-iterations", Level.SHOULD, "RFC 6030 §13.1; RFC 2898 §4.2",
         "PBKDF2 iteration count below the threshold (default 1000)"),
    Rule("pskc.pbkdf2-salt-length", Level.SHOULD, "RFC 6030 §13.1; RFC 2898 §4.1",
         "PBKDF2 salt shorter than 8 octets"),
    Rule("pskc.pbkdf2-prf", Level.INFO, "RFC 6030 §6.2; RFC 2898 §A.2", "PBKDF2 PRF unknown to the lab"),
    Rule("pskc.derived-key-length", Level.MUST, "RFC 6030 §6.2",
         "PBKDF2 KeyLength does not fit the encryption algorithm's key length"),
    Rule("pskc.counter-on-time-based-key", Level.INFO, "RFC 6030 §4.1 (<Counter>: event-based OTP)",
         "<Counter> on a TOTP key"),
    Rule("pskc.time-on-event-based-key", Level.INFO, "RFC 6030 §4.1 (<Time>, <TimeInterval>, <TimeDrift>: "
         "time-based OTP)", "time data on an HOTP key"),
    Rule("pskc.totp.secret-length", Level.MUST, "RFC 6238 §3 R3; RFC 4226 §4 R6",
         "TOTP secret shorter than 128 bits"),
    Rule("pskc.secret-length-recommended", Level.SHOULD, "RFC 4226 §4 R6; RFC 6238 §5.1",
         "HOTP/TOTP secret shorter than the recommended 160 bits (the HMAC-SHA-1 output)"),
    Rule("pskc.pin-key-not-in-container", Level.INFO, "RFC 6030 §5 (PINKeyId)",
         "PINKeyId names no <Key> of this container (it may have been provisioned before)"),
)}


@dataclass(frozen=True)
class LeveledFinding:
    """A finding with the requirement level it relates to and who found it
    ("schema", "codec", "profile", "semantics", "decryption")."""

    level: Level
    finding: Finding
    source: str

    def to_json(self) -> dict[str, Any]:
        f = self.finding
        out = {"level": self.level.value, "code": f.code, "message": f.message, "spec": f.spec, "source": self.source}
        if f.where:
            out["where"] = f.where
        return out


class _Collector:
    def __init__(self) -> None:
        self.items: list[LeveledFinding] = []
        self._seen: set[tuple[str, str, str | None]] = set()

    def add(self, level: Level, finding: Finding, source: str) -> None:
        key = (finding.code, finding.message, finding.where)
        if key not in self._seen:
            self._seen.add(key)
            self.items.append(LeveledFinding(level, finding, source))

    def rule(self, code: str, message: str, where: str | None, spec: str | None = None) -> None:
        rule = RULES[code]
        severity = "deviation" if rule.level is Level.MUST else "note"
        self.add(rule.level, Finding(code, message, spec or rule.spec, severity, where), "semantics")

    def codec(self, findings: Any, source: str = "codec", skip: frozenset[str] = frozenset()) -> None:
        for finding in findings:
            if finding.code not in skip:
                self.add(SEVERITY_LEVELS.get(finding.severity, Level.MUST), finding, source)


def _where(number: int, key: Key | None, element: str | None = None) -> str:
    out = f"KeyPackage {number}"
    if key is not None:
        out += f", Key {key.id!r}" if key.id is not None else ", Key without Id"
    return f"{out} <{element}>" if element else out


def _encrypted_values(container: KeyContainer) -> Iterator[tuple[str, str, EncryptedValue]]:
    """(where, field name or "mac_key", value) for every encrypted value, MAC key first."""
    method = container.mac_method
    if method is not None and method.encrypted_mac_key is not None:
        yield "<MACMethod> <MACKey>", "mac_key", method.encrypted_mac_key
    for number, package in enumerate(container.key_packages, 1):
        key = package.key
        if key is None or key.data is None:
            continue
        for name, value in key.data.values().items():
            if isinstance(value, EncryptedValue):
                yield _where(number, key, ELEMENTS[name]), name, value


# --------------------------------------------------------------------------- keys
def _check_keys(out: _Collector, container: KeyContainer) -> None:
    first_seen: dict[str, int] = {}
    for number, package in enumerate(container.key_packages, 1):
        key = package.key
        if key is None:
            continue
        if key.id is not None:
            if key.id in first_seen:
                out.rule("pskc.duplicate-id", f"Key Id {key.id!r} already used by KeyPackage {first_seen[key.id]}",
                         _where(number, key))
            else:
                first_seen[key.id] = number
        if key.algorithm is None:
            out.rule("pskc.key-without-algorithm", "<Key> has no Algorithm attribute", _where(number, key))
        profile = profile_for(key.algorithm)
        data = key.data
        if profile is not None and data is not None:
            if profile.kind == "totp" and data.counter is not None:
                out.rule("pskc.counter-on-time-based-key", f"{profile.name} key carries <Counter>, which is for "
                         "event-based algorithms", _where(number, key, "Counter"))
            timed = [ELEMENTS[n] for n in ("time", "time_interval", "time_drift") if getattr(data, n) is not None]
            if profile.kind == "hotp" and timed:
                out.rule("pskc.time-on-event-based-key", f"{profile.name} key carries {', '.join(timed)}, which "
                         "are for time-based algorithms", _where(number, key, timed[0]))
        pin = key.policy.pin_policy if key.policy is not None else None
        if pin is not None and pin.pin_key_id is not None and not any(
                p.key is not None and p.key.id == pin.pin_key_id for p in container.key_packages):
            out.rule("pskc.pin-key-not-in-container", f"PINKeyId {pin.pin_key_id!r} names no <Key> of this "
                     "container", _where(number, key, "PINPolicy"))


def _check_secret_lengths(out: _Collector, packages: tuple[KeyPackage, ...]) -> None:
    """On plaintext (or decrypted) secrets only; HOTP's 128-bit floor is check_profile's."""
    for number, package in enumerate(packages, 1):
        key = package.key
        secret = key.data.secret if key is not None and key.data is not None else None
        profile = profile_for(key.algorithm) if key is not None else None
        if profile is None or not isinstance(secret, PlainValue) or not isinstance(secret.value, bytes):
            continue
        length = len(secret.value)
        where = _where(number, key, "Secret")
        if profile.kind == "totp" and length < 16:
            out.rule("pskc.totp.secret-length", f"TOTP secret of {length} octets; at least 16 required", where)
        elif profile.kind in ("hotp", "totp") and 16 <= length < 20:
            out.rule("pskc.secret-length-recommended", f"{profile.name} secret of {length} octets; 20 recommended",
                     where)


# --------------------------------------------------------------------------- protection
def _rsa_modulus_octets(container: KeyContainer) -> int | None:
    enc = container.encryption_key
    if enc is None or not enc.x509_certificates:
        return None
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        public = x509.load_der_x509_certificate(enc.x509_certificates[0]).public_key()
    except ValueError:
        return None
    return (public.key_size + 7) // 8 if isinstance(public, rsa.RSAPublicKey) else None


def _check_value_lengths(out: _Collector, container: KeyContainer) -> None:
    modulus = _rsa_modulus_octets(container)
    algorithms: dict[str, str] = {}
    for where, _name, value in _encrypted_values(container):
        cipher, _ = lookup_cipher(value.algorithm)
        if cipher is None:
            if value.algorithm is not None:
                out.rule("pskc.unsupported-algorithm", f"encryption algorithm {value.algorithm!r}", where)
            continue
        algorithms.setdefault(cipher.name, where)
        n = len(value.cipher_value)
        if cipher.family == "cbc":
            block = BLOCK_SIZE[cipher.block or ""]
            if n % block or n < 2 * block:
                out.rule("pskc.iv-length", f"{cipher.name} CipherValue of {n} octets is not a {block}-octet IV "
                         f"followed by whole {block}-octet blocks", where)
        elif cipher.family in ("kw", "kwp"):
            if n % 8 or n < 16:
                out.rule("pskc.keywrap-length", f"{cipher.name} CipherValue of {n} octets", where)
        elif modulus is not None and n != modulus:
            out.rule("pskc.rsa-length", f"{cipher.name} CipherValue of {n} octets; the certificate's modulus has "
                     f"{modulus}", where)
    if len(algorithms) > 1:
        places = "; ".join(f"{name} at {where}" for name, where in algorithms.items())
        out.rule("pskc.mixed-algorithms", f"encrypted elements use {len(algorithms)} algorithms: {places}", None)


def _check_encryption_key(out: _Collector, container: KeyContainer, min_iterations: int) -> None:
    ciphers = {c.name: c for _, _, v in _encrypted_values(container) if (c := lookup_cipher(v.algorithm)[0])}
    enc = container.encryption_key
    derived = enc.derived_key if enc is not None else None
    for cipher in ciphers.values():
        if cipher.family == "rsa":
            if enc is None or not enc.x509_certificates:
                out.rule("pskc.missing-encryption-key", f"{cipher.name} values but no <ds:X509Data> in "
                         "<EncryptionKey>", "<EncryptionKey>", "RFC 6030 §6.3")
        elif enc is None or (not enc.key_names and derived is None):
            out.rule("pskc.missing-encryption-key", f"{cipher.name} values but no <ds:KeyName> (pre-shared key) or "
                     "<xenc11:DerivedKey> (passphrase) in <EncryptionKey>", "<EncryptionKey>", "RFC 6030 §6.1, §6.2")
    if derived is None or not is_pbkdf2(derived.algorithm):
        return
    where = "<EncryptionKey> <DerivedKey>"
    if derived.algorithm is not None and derived.algorithm.strip() != PBKDF2_URI:
        out.rule("pskc.pbkdf2-uri", f"KeyDerivationMethod {derived.algorithm.strip()!r}, §6.2 names {PBKDF2_URI!r}; "
                 "read as PBKDF2", where)
    params = derived.pbkdf2
    if params is None:
        return  # the decoder already flags pskc.incomplete-key-derivation
    if params.iteration_count < min_iterations:
        out.rule("pskc.pbkdf2-iterations", f"PBKDF2 IterationCount {params.iteration_count} is below "
                 f"{min_iterations}", where)
    if len(params.salt) < 8:
        out.rule("pskc.pbkdf2-salt-length", f"PBKDF2 salt of {len(params.salt)} octets; at least 8 recommended", where)
    if prf_hash(params.prf) is None:
        out.rule("pskc.pbkdf2-prf", f"PBKDF2 PRF {params.prf!r}", where)
    for cipher in ciphers.values():
        if params.key_length is not None and cipher.family != "rsa" and params.key_length not in cipher.key_lengths:
            wanted = "/".join(str(n) for n in cipher.key_lengths)
            out.rule("pskc.derived-key-length", f"PBKDF2 KeyLength {params.key_length}, {cipher.name} needs a "
                     f"{wanted}-octet key", where)


def _check_macs(out: _Collector, container: KeyContainer) -> None:
    method = container.mac_method
    mac = None
    if method is not None:
        mac, _ = lookup_mac(method.algorithm)
        if mac is None and method.algorithm is not None:
            out.rule("pskc.unsupported-mac", f"MAC algorithm {method.algorithm!r}", "<MACMethod>")
        if method.encrypted_mac_key is None and method.mac_key_reference is None:
            out.rule("pskc.mac-key-not-carried", "<MACMethod> has neither <MACKey> nor <MACKeyReference>: the "
                     "recipient needs the MAC key from elsewhere", "<MACMethod>")
    macs = 0
    for where, name, value in _encrypted_values(container):
        if name == "mac_key":
            continue
        cipher, _ = lookup_cipher(value.algorithm)
        if value.value_mac is None:
            if cipher is not None and not cipher.has_integrity:
                out.rule("pskc.missing-value-mac", f"{cipher.name} has no integrity check and no <ValueMAC> is "
                         "present", where)
            elif method is not None:
                out.rule("pskc.value-mac-absent", "<MACMethod> is present but this value has no <ValueMAC>", where)
            continue
        macs += 1
        if method is None:
            out.rule("pskc.no-mac-method", "<ValueMAC> present but the container has no <MACMethod>", where)
        elif mac is not None and len(value.value_mac) != mac.digest_size:
            out.rule("pskc.value-mac-length", f"<ValueMAC> of {len(value.value_mac)} octets, {mac.name} gives "
                     f"{mac.digest_size}", where)
    if method is not None and macs == 0:
        out.rule("pskc.mac-method-unused", "<MACMethod> present but no <ValueMAC> in the document", "<MACMethod>")


def check_document(container: KeyContainer, *, min_iterations: int = DEFAULT_MIN_ITERATIONS) -> list[LeveledFinding]:
    """The checks that need nothing but the document (values may still be encrypted)."""
    out = _Collector()
    _check_keys(out, container)
    _check_encryption_key(out, container, min_iterations)
    _check_value_lengths(out, container)
    _check_macs(out, container)
    return out.items


# --------------------------------------------------------------------------- decryption
# Checked structurally above, so not repeated from the Unprotector's findings.
_STRUCTURAL = frozenset({"pskc.missing-value-mac", "pskc.mixed-algorithms"})


def _failure(out: _Collector, exc: ProtocolError, where: str, code: str | None = None) -> None:
    """A decryption failure as a finding: under the codec's status, or under ``code``
    (a rule) with the codec's status and section kept in the message."""
    place = where if exc.where is None else f"{where} ({exc.where})"
    if code is None:
        out.add(Level.MUST, Finding(exc.status, exc.message, exc.spec or "RFC 6030 §6", "deviation", place),
                "decryption")
        return
    cause = f" [{exc.status}; {exc.spec}]" if exc.spec else f" [{exc.status}]"
    rule = RULES[code]
    out.add(rule.level, Finding(code, exc.message + cause, rule.spec, "deviation", place), "decryption")


def open_values(container: KeyContainer, credentials: Credentials) -> tuple[KeyContainer, list[LeveledFinding]]:
    """Decrypt the MAC key and every encrypted value one by one; each failure is a MUST
    finding and leaves that value encrypted.  Bad credentials (a private key that is not
    an RSA PEM/DER key) raise InputError."""
    out = _Collector()
    opener = Unprotector(container, credentials)
    method = container.mac_method
    mac_key_ok = True
    if method is not None and method.encrypted_mac_key is not None:
        try:
            opener.decrypt(method.encrypted_mac_key, "MACKey")
        except ProtocolError as exc:
            mac_key_ok = False
            _failure(out, exc, "<MACMethod> <MACKey>", "pskc.mac-key-undecryptable")
    packages = list(container.key_packages)
    for number, package in enumerate(packages, 1):
        key = package.key
        if key is None or key.data is None:
            continue
        opened: dict[str, PlainValue] = {}
        for name, value in key.data.values().items():
            if not isinstance(value, EncryptedValue):
                continue
            what = f"Key {key.id!r} {ELEMENTS[name]}" if key.id is not None else ELEMENTS[name]
            try:
                if mac_key_ok:
                    opened[name] = opener.open(value, name, what)
                else:  # every MAC check would fail for the MAC key's reason: decrypt only
                    opener.decrypt(value, what)
            except ProtocolError as exc:
                _failure(out, exc, _where(number, key, ELEMENTS[name]))
        if opened:
            packages[number - 1] = replace(package, key=replace(key, data=replace(key.data, **opened)))
    out.codec(opener.findings, "decryption", skip=_STRUCTURAL)
    return replace(container, key_packages=tuple(packages)), out.items


# --------------------------------------------------------------------------- all together
def review(container: KeyContainer, credentials: Credentials | None = None, *,
           min_iterations: int = DEFAULT_MIN_ITERATIONS) -> list[LeveledFinding]:
    """Every finding about a decoded (still protected) container, in document order of
    the kinds: decoder, semantic checks, decryption, profiles and secret lengths."""
    out = _Collector()
    out.codec(container.all_findings())
    for item in check_document(container, min_iterations=min_iterations):
        out.add(item.level, item.finding, item.source)
    if credentials and container.is_encrypted:
        container, found = open_values(container, credentials)
        for item in found:
            out.add(item.level, item.finding, item.source)
    for number, package in enumerate(container.key_packages, 1):
        for finding in check_profile(package):
            out.add(SEVERITY_LEVELS.get(finding.severity, Level.MUST),
                    replace(finding, where=_where(number, package.key)), "profile")
    _check_secret_lengths(out, container.key_packages)
    return out.items
