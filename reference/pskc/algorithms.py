"""Namespaces and algorithm identifiers used by PSKC (RFC 6030 §1.3, §6).

Identifiers are matched the way deployed software matches them: by the fragment after
``#`` (python-pskc does the same), because real files spell the same algorithm under
several base URIs (e.g. Camellia under ``xmlenc#`` and ``xmldsig-more#``).  Every
spelling that is not the one we emit is reported as a finding by the decoder.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

# --------------------------------------------------------------------------- namespaces
PSKC_NS = "urn:ietf:params:xml:ns:keyprov:pskc"  # RFC 6030 §1.3.1
DS_NS = "http://www.w3.org/2000/09/xmldsig#"  # §1.3.2
XENC_NS = "http://www.w3.org/2001/04/xmlenc#"
XENC11_NS = "http://www.w3.org/2009/xmlenc11#"
PKCS5_NS = "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#"
XML_NS = "http://www.w3.org/XML/1998/namespace"

# Namespaces of the drafts that preceded RFC 6030 and that python-pskc still reads.
# Documents in these are decoded by reference.pskc.legacy and flagged.
LEGACY_NAMESPACES: dict[str, str] = {
    "urn:ietf:params:xml:ns:keyprov:pskc:1.0": "draft-hoyer-keyprov-pskc-algorithm-profiles-01",
    "urn:ietf:params:xml:ns:keyprov:container": "draft-hoyer-keyprov-portable-symmetric-key-container-01",
    "urn:ietf:params:xml:ns:keyprov:container:1.0": "keyprov container 1.0 (pre-RFC vendor exports)",
    "http://www.openauthentication.org/OATH/2006/08/PSKC": "draft-hoyer-keyprov-portable-symmetric-key-container-00",
    "http://www.openauthentication.org/OATH/2006/10/PSKC": "draft-hoyer-keyprov-portable-symmetric-key-container-00",
}

NSMAP = {"pskc": PSKC_NS, "ds": DS_NS, "xenc": XENC_NS, "xenc11": XENC11_NS, "pkcs5": PKCS5_NS}


# --------------------------------------------------------------------------- encryption
@dataclass(frozen=True)
class Cipher:
    """An encryption algorithm usable for <EncryptedValue> and <MACKey>."""

    name: str  # fragment, our canonical short name
    uri: str  # the URI we emit
    family: str  # "cbc", "kw" (RFC 3394/3217/3657), "kwp" (RFC 5649), "rsa"
    block: str | None  # "aes", "tripledes", "camellia" (None for RSA)
    key_lengths: tuple[int, ...]  # acceptable key lengths in octets
    spec: str

    @property
    def has_integrity(self) -> bool:
        # Key wrap carries an integrity check value; RSA-OAEP is padded and checked.
        # CBC and RSA-1.5 do not, so RFC 6030 §6.1.1 requires a ValueMAC for them.
        return self.family in ("kw", "kwp") or self.name == "rsa-oaep-mgf1p"


_X = XENC_NS
_M = "http://www.w3.org/2001/04/xmldsig-more#"
CIPHERS: dict[str, Cipher] = {
    c.name: c
    for c in (
        Cipher("aes128-cbc", _X + "aes128-cbc", "cbc", "aes", (16,), "RFC 6030 §6.1; XML-Enc §5.2.2"),
        Cipher("aes192-cbc", _X + "aes192-cbc", "cbc", "aes", (24,), "RFC 6030 §6.1; XML-Enc §5.2.2"),
        Cipher("aes256-cbc", _X + "aes256-cbc", "cbc", "aes", (32,), "RFC 6030 §6.1; XML-Enc §5.2.2"),
        # RFC 6030 §4.2.2: a Triple-DES bundle is two-key (16 octets) or three-key (24).
        Cipher("tripledes-cbc", _X + "tripledes-cbc", "cbc", "tripledes", (24, 16), "RFC 6030 §6.1; XML-Enc §5.2.1"),
        # RFC 6030 §6.1 lists ".../xmldsig-more#camellia128"; RFC 4051 defines
        # "...#camellia128-cbc".  We emit the RFC 4051 URI and accept both.
        Cipher("camellia128-cbc", _M + "camellia128-cbc", "cbc", "camellia", (16,), "RFC 6030 §6.1; RFC 4051"),
        Cipher("camellia192-cbc", _M + "camellia192-cbc", "cbc", "camellia", (24,), "RFC 6030 §6.1; RFC 4051"),
        Cipher("camellia256-cbc", _M + "camellia256-cbc", "cbc", "camellia", (32,), "RFC 6030 §6.1; RFC 4051"),
        Cipher("kw-aes128", _X + "kw-aes128", "kw", "aes", (16,), "RFC 6030 §6.1; RFC 3394"),
        Cipher("kw-aes192", _X + "kw-aes192", "kw", "aes", (24,), "RFC 6030 §6.1; RFC 3394"),
        Cipher("kw-aes256", _X + "kw-aes256", "kw", "aes", (32,), "RFC 6030 §6.1; RFC 3394"),
        # RFC 6030 §6.1 recommends RFC 5649 for values that are not 8-octet multiples but
        # names no URI; XML-Enc 1.1 §5.6.3 defines these.
        Cipher("kw-aes-128-pad", XENC11_NS + "kw-aes-128-pad", "kwp", "aes", (16,), "RFC 6030 §6.1; RFC 5649"),
        Cipher("kw-aes-192-pad", XENC11_NS + "kw-aes-192-pad", "kwp", "aes", (24,), "RFC 6030 §6.1; RFC 5649"),
        Cipher("kw-aes-256-pad", XENC11_NS + "kw-aes-256-pad", "kwp", "aes", (32,), "RFC 6030 §6.1; RFC 5649"),
        Cipher("kw-tripledes", _X + "kw-tripledes", "kw", "tripledes", (24, 16), "RFC 6030 §6.1; RFC 3217"),
        Cipher("kw-camellia128", _M + "kw-camellia128", "kw", "camellia", (16,), "RFC 6030 §6.1; RFC 3657"),
        Cipher("kw-camellia192", _M + "kw-camellia192", "kw", "camellia", (24,), "RFC 6030 §6.1; RFC 3657"),
        Cipher("kw-camellia256", _M + "kw-camellia256", "kw", "camellia", (32,), "RFC 6030 §6.1; RFC 3657"),
        Cipher("rsa-1_5", _X + "rsa-1_5", "rsa", None, (), "RFC 6030 §6.3; XML-Enc §5.4.1"),
        Cipher("rsa-oaep-mgf1p", _X + "rsa-oaep-mgf1p", "rsa", None, (), "RFC 6030 §6.3; XML-Enc §5.4.2"),
    )
}

# Other spellings met in the wild (fragment -> canonical name).
_CIPHER_ALIASES = {
    "camellia128": "camellia128-cbc",  # the URIs printed in RFC 6030 §6.1
    "camellia192": "camellia192-cbc",
    "camellia256": "camellia256-cbc",
    "rsa_1_5": "rsa-1_5",  # RFC 6030 Figure 8 writes "rsa_1_5"
    "3des-cbc": "tripledes-cbc",
    "kw-3des": "kw-tripledes",
    "kw-aes128-pad": "kw-aes-128-pad",
    "kw-aes192-pad": "kw-aes-192-pad",
    "kw-aes256-pad": "kw-aes-256-pad",
}


@functools.lru_cache(maxsize=64)  # called per encrypted value; URIs repeat
def lookup_cipher(uri: str | None) -> tuple[Cipher | None, bool]:
    """(cipher, canonical) for an EncryptionMethod URI; canonical is False for aliases."""
    if not uri:
        return None, False
    fragment = uri.rsplit("#", 1)[-1].strip().lower()
    name = _CIPHER_ALIASES.get(fragment, fragment)
    cipher = CIPHERS.get(name)
    if cipher is None:
        return None, False
    return cipher, uri.strip() == cipher.uri


# --------------------------------------------------------------------------- MAC
@dataclass(frozen=True)
class MACAlgorithm:
    name: str
    uri: str
    hash_name: str  # hashlib name
    digest_size: int


MAC_ALGORITHMS: dict[str, MACAlgorithm] = {
    m.name: m
    for m in (
        # RFC 6030 §6.1.1: HMAC-SHA1 RECOMMENDED, the SHA-2 ones optional.
        MACAlgorithm("hmac-sha1", DS_NS + "hmac-sha1", "sha1", 20),
        MACAlgorithm("hmac-sha224", _M + "hmac-sha224", "sha224", 28),
        MACAlgorithm("hmac-sha256", _M + "hmac-sha256", "sha256", 32),
        MACAlgorithm("hmac-sha384", _M + "hmac-sha384", "sha384", 48),
        MACAlgorithm("hmac-sha512", _M + "hmac-sha512", "sha512", 64),
    )
}


@functools.lru_cache(maxsize=64)
def lookup_mac(uri: str | None) -> tuple[MACAlgorithm | None, bool]:
    if not uri:
        return None, False
    fragment = uri.rsplit("#", 1)[-1].strip().lower().replace("sha-", "sha")
    mac = MAC_ALGORITHMS.get(fragment)
    if mac is None:
        return None, False
    return mac, uri.strip() == mac.uri


# --------------------------------------------------------------------------- PBKDF2
# RFC 6030 §6.2 (normative text) requires ".../pkcs-5#pbkdf2"; its own Figure 7 (and
# RFC 6063 Figure B.3.3) uses ".../pkcs-5v2-0#pbkdf2"; XML-Enc 1.1 defines
# "http://www.w3.org/2009/xmlenc11#pbkdf2".  We emit the normative one, accept all.
PBKDF2_URI = "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5#pbkdf2"
PBKDF2_URIS = frozenset(
    {
        PBKDF2_URI,
        "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2",
        XENC11_NS + "pbkdf2",
    }
)


def is_pbkdf2(uri: str | None) -> bool:
    return bool(uri) and uri.strip().lower().endswith("#pbkdf2")


def prf_hash(uri: str | None) -> str | None:
    """hashlib name for a PBKDF2 PRF URI (None/empty = PKCS #5 default HMAC-SHA1)."""
    if not uri:
        return "sha1"
    mac, _ = lookup_mac(uri)
    return mac.hash_name if mac else None


# --------------------------------------------------------------------------- enumerations
VALUE_FORMATS = ("DECIMAL", "HEXADECIMAL", "ALPHANUMERIC", "BASE64", "BINARY")  # §4.3.4
PIN_USAGE_MODES = ("Local", "Prepend", "Append", "Algorithmic")  # §5
KEY_USAGES = (  # §5, IANA Key Usage registry §12.6
    "OTP", "CR", "Encrypt", "Integrity", "Verify", "Unlock",
    "Decrypt", "KeyWrap", "Unwrap", "Derive", "Generate",
)
