"""Algorithm profiles (RFC 6030 §10, §12.4) and their constraints."""

from __future__ import annotations

import pytest

from reference import pskc
from reference.pskc import profiles


@pytest.mark.parametrize("uri,name,kind", [
    ("urn:ietf:params:xml:ns:keyprov:pskc:hotp", "HOTP", "hotp"),  # §10.1
    ("urn:ietf:params:xml:ns:keyprov:pskc:pin", "PIN", "pin"),  # §10.2
    ("urn:ietf:params:xml:ns:keyprov:pskc#totp", "TOTP", "totp"),
    ("urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1:HOTP-SHA512-8:C-QN08", "OCRA-1", "ocra"),
    ("http://www.yubico.com/#yubikey-aes", "YubiKey-AES", "vendor"),
])
def test_known_profiles(uri, name, kind):
    profile = profiles.profile_for(uri)
    assert (profile.name, profile.kind) == (name, kind)


def test_unknown_profile_uris_stay_opaque(figure):
    assert profiles.profile_for("urn:example:not-registered") is None
    document = figure(2).replace(b"urn:ietf:params:xml:ns:keyprov:pskc:hotp", b"urn:example:not-registered")
    assert pskc.decode(document).keys[0].algorithm == "urn:example:not-registered"


def test_ocra_suite_from_uri_or_element():
    uri = "urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1:HOTP-SHA512-8:C-QN08"
    assert profiles.ocra_suite(uri, None) == "OCRA-1:HOTP-SHA512-8:C-QN08"
    assert profiles.ocra_suite("urn:ietf:params:xml:ns:keyprov:pskc:ocra", "OCRA-1:HOTP-SHA1-6:QN08") == \
        "OCRA-1:HOTP-SHA1-6:QN08"


def test_hotp_profile_constraints(figure):
    # Figure 3 meets §10.1; Figure 2 has a 4-octet secret, no Counter, no ResponseFormat.
    assert profiles.check_profile(pskc.decode(figure(3)).key_packages[0]) == []
    found = {f.code for f in profiles.check_profile(pskc.decode(figure(2)).key_packages[0])}
    assert found == {"pskc.hotp.secret-length", "pskc.hotp.counter", "pskc.hotp.response-format"}
    bad = figure(3).replace(b'Length="8"', b'Length="10"').replace(b'Encoding="DECIMAL"', b'Encoding="HEXADECIMAL"')
    found = {f.code for f in profiles.check_profile(pskc.decode(bad).key_packages[0])}
    assert found == {"pskc.hotp.length", "pskc.hotp.encoding"}


def test_pin_profile_needs_a_secret(figure):
    pin_package = pskc.decode(figure(5)).key_packages[1]
    assert profiles.check_profile(pin_package) == []
    import re

    stripped = re.sub(rb"<Secret>\s*<PlainValue>MTIzNA==</PlainValue>\s*</Secret>", b"", figure(5))
    packages = pskc.decode(stripped).key_packages
    assert packages[1].key.data.secret is None
    assert [f.code for f in profiles.check_profile(packages[1])] == ["pskc.pin.secret"]
