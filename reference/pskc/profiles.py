"""PSKC algorithm profiles (RFC 6030 §10, IANA registry §12.4) and their checks.

The IANA "PSKC Algorithm Profiles" registry holds two entries, both from RFC 6030:
HOTP and PIN.  RFC 6030 §4.1 points at [PSKC-ALGORITHM-PROFILES]
(draft-hoyer-keyprov-pskc-algorithm-profiles) for more; the URIs below marked "draft"
are the ones its examples use (as shipped with python-pskc), the "observed" ones are
spellings found in deployed files.  Any other URI is kept as an opaque string.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Finding, KeyPackage, PlainValue

DRAFT = "draft-hoyer-keyprov-pskc-algorithm-profiles-01 (informative, RFC 6030 §4.1)"


@dataclass(frozen=True)
class Profile:
    name: str  # common name
    uri: str
    kind: str  # "hotp", "totp", "ocra", "pin", "vendor"
    source: str


HOTP = Profile("HOTP", "urn:ietf:params:xml:ns:keyprov:pskc:hotp", "hotp", "RFC 6030 §10.1 (IANA)")
PIN = Profile("PIN", "urn:ietf:params:xml:ns:keyprov:pskc:pin", "pin", "RFC 6030 §10.2 (IANA)")
TOTP = Profile("TOTP", "urn:ietf:params:xml:ns:keyprov:pskc#totp", "totp", DRAFT)
OCRA_PREFIX = "urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1:"  # followed by the OCRA suite (RFC 6287 §6)

PROFILES: dict[str, Profile] = {
    p.uri: p
    for p in (
        HOTP,
        PIN,
        TOTP,
        Profile("SecurID-AES-Counter",
                "http://www.rsa.com/names/2008/04/algorithms/SecurID/SecurID-AES128-Counter", "vendor", DRAFT),
        Profile("ActivIdentity-3DES",
                "http://www.actividentity.com/2008/04/algorithms/algorithms#ActivIdentity-3DES", "vendor", DRAFT),
        # observed in deployed files (vendor exports, OATH toolkit, multiOTP, LinOTP tests)
        Profile("TOTP", "urn:ietf:params:xml:ns:keyprov:pskc:totp", "totp", "observed"),
        Profile("OCRA", "urn:ietf:params:xml:ns:keyprov:pskc:ocra", "ocra", "observed"),
        Profile("HOTP", "urn:ietf:params:xml:ns:keyprov:pskc#hotp", "hotp", "draft-ietf-keyprov-pskc-02"),
        Profile("HOTP", "http://www.ietf.org/keyprov/pskc#hotp", "hotp", "observed (pre-RFC vendor files)"),
        Profile("PIN", "urn:ietf:params:xml:ns:keyprov:pskc#pin", "pin", "draft-ietf-keyprov-pskc-02"),
        Profile("YubiKey-AES", "http://www.yubico.com/#yubikey-aes", "vendor", "draft-josefsson-keyprov-pskc-yubikey"),
    )
}


def profile_for(uri: str | None) -> Profile | None:
    """The profile an Algorithm URI names, or None (kept as an opaque string)."""
    if uri is None:
        return None
    uri = uri.strip()
    if uri in PROFILES:
        return PROFILES[uri]
    if uri.startswith(OCRA_PREFIX):
        return Profile("OCRA-1", uri, "ocra", DRAFT)
    if uri.upper() in ("HOTP", "TOTP"):  # draft-hoyer-...-container-00/-01 short names
        return Profile(uri.upper(), uri, uri.lower(), "pre-RFC draft short name")
    return None


def ocra_suite(uri: str | None, suite: str | None) -> str | None:
    """The OCRA suite of a key: from the URI fragment or from <Suite>."""
    if uri and uri.strip().startswith(OCRA_PREFIX):
        return uri.strip()[len(OCRA_PREFIX) - len("OCRA-1:"):]
    return suite


def check_profile(package: KeyPackage) -> list[Finding]:
    """Findings for the constraints of the HOTP (§10.1) and PIN (§10.2) profiles.

    Not run by the decoder: RFC 6030's own Figure 2 (a 4-octet HOTP secret) and Figure 4
    (no Secret) would fail, and those examples are meant to be readable.
    """
    key = package.key
    profile = profile_for(key.algorithm) if key is not None else None
    if key is None or profile is None or profile.uri not in (HOTP.uri, PIN.uri):
        return []
    out: list[Finding] = []
    where = f"Key {key.id!r}"

    def flag(code: str, message: str, spec: str) -> None:
        out.append(Finding(code, message, spec, "deviation", where))

    data = key.data
    response = key.algorithm_parameters.response_format if key.algorithm_parameters else None
    secret = data.secret if data else None
    if profile is HOTP:
        spec = "RFC 6030 §10.1"
        if response is None:
            flag("pskc.hotp.response-format", "HOTP key without <ResponseFormat>", spec)
        else:
            if response.encoding != "DECIMAL":
                flag("pskc.hotp.encoding", f"HOTP ResponseFormat Encoding {response.encoding!r}, must be DECIMAL", spec)
            if response.length is None or not 6 <= response.length <= 9:
                flag("pskc.hotp.length", f"HOTP ResponseFormat Length {response.length}, must be 6..9", spec)
        if data is None or data.counter is None:
            flag("pskc.hotp.counter", "HOTP key without <Counter>", spec)
        if isinstance(secret, PlainValue) and isinstance(secret.value, bytes) and len(secret.value) < 16:
            flag("pskc.hotp.secret-length", f"HOTP secret of {len(secret.value)} octets, at least 16 required", spec)
        pin = key.policy.pin_policy if key.policy else None
        if pin is not None and pin.pin_usage_mode == "Algorithmic":
            flag("pskc.hotp.pin-mode", "HOTP PINUsageMode cannot be Algorithmic", spec)
    else:
        if secret is None:
            flag("pskc.pin.secret", "PIN key without <Secret>", "RFC 6030 §10.2")
    return out
