"""The model: round trip decode(encode(x)) == x for arbitrary RFC 6030 models
(hypothesis), secret-free reprs, RFC 6030 §5 usage rule, RawXML equality."""

from __future__ import annotations

import string
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from reference import pskc
from reference.pskc import model
from reference.pskc.algorithms import KEY_USAGES, PIN_USAGE_MODES, VALUE_FORMATS
from reference.pskc.safexml import to_raw

# ---------------------------------------------------------------- strategies
# Text that survives XML: no control characters, no surrogates, no CR (normalised by XML
# parsers), no leading/trailing whitespace (the decoder strips element text).
_text_chars = st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn"), blacklist_characters="\r\ufffe\uffff")
texts = st.text(_text_chars, min_size=1, max_size=20).map(str.strip).filter(bool)
tokens = st.text(string.ascii_letters + string.digits + "-_.:", min_size=1, max_size=16)
ncnames = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_.-]{0,15}\Z")
uris = st.sampled_from(["urn:ietf:params:xml:ns:keyprov:pskc:hotp", "urn:ietf:params:xml:ns:keyprov:pskc:pin",
                        "urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1:HOTP-SHA1-6:QN08", "urn:example:vendor#x"])
int32 = st.integers(-(2**31), 2**31 - 1)
uint32 = st.integers(0, 2**32 - 1)
int64 = st.integers(-(2**63), 2**63 - 1)
dates = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),  # no zone
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                 timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=5, minutes=30)),
                                            timezone(-timedelta(hours=8))])),
)
opt = lambda s: st.none() | s  # noqa: E731


@st.composite
def raw_extension(draw, wrapper: str | None = "Extensions"):
    local = draw(st.sampled_from(["Flag", "Config", "Lock"]))
    value = draw(tokens)
    inner = f'<v:{local} xmlns:v="urn:example:vendor" a="{value}">{value}</v:{local}>'
    xml = (f'<p:{wrapper} xmlns:p="urn:ietf:params:xml:ns:keyprov:pskc">{inner}</p:{wrapper}>'
           if wrapper else inner)
    return to_raw(etree.fromstring(xml))


encrypted_values = st.builds(
    model.EncryptedValue,
    algorithm=st.sampled_from(["http://www.w3.org/2001/04/xmlenc#aes128-cbc",
                               "http://www.w3.org/2001/04/xmlenc#kw-aes128"]),
    cipher_value=st.binary(min_size=16, max_size=48), value_mac=opt(st.binary(min_size=20, max_size=20)),
    id=opt(ncnames),
)


def data_value(plain):
    return st.one_of(st.builds(model.PlainValue, plain), encrypted_values)


key_data = st.builds(
    model.KeyData, secret=opt(data_value(st.binary(max_size=40))), counter=opt(data_value(int64)),
    time=opt(data_value(int32)), time_interval=opt(data_value(int32)), time_drift=opt(data_value(int32)),
    unknown=st.lists(raw_extension(None), max_size=1).map(tuple),
)
algorithm_parameters = st.builds(
    model.AlgorithmParameters, suite=opt(texts),
    challenge_format=opt(st.builds(model.ChallengeFormat, st.sampled_from(VALUE_FORMATS), uint32, uint32,
                                   opt(st.booleans()))),
    response_format=opt(st.builds(model.ResponseFormat, st.sampled_from(VALUE_FORMATS), uint32, opt(st.booleans()))),
    extensions=st.lists(raw_extension(), max_size=1).map(tuple),
)
pin_policies = st.builds(
    model.PINPolicy, pin_key_id=opt(tokens), pin_usage_mode=opt(st.sampled_from(PIN_USAGE_MODES)),
    max_failed_attempts=opt(uint32), min_length=opt(uint32), max_length=opt(uint32),
    pin_encoding=opt(st.sampled_from(VALUE_FORMATS)),
)
policies = st.builds(
    model.Policy, start_date=opt(dates), expiry_date=opt(dates), pin_policy=opt(pin_policies),
    key_usage=st.lists(st.sampled_from(KEY_USAGES), max_size=3).map(tuple),
    number_of_transactions=opt(st.integers(0, 2**70)),
)
keys = st.builds(
    model.Key, id=tokens, algorithm=opt(uris), issuer=opt(texts), algorithm_parameters=opt(algorithm_parameters),
    key_profile_id=opt(texts), key_reference=opt(texts), friendly_name=opt(texts), data=opt(key_data),
    user_id=opt(texts), policy=opt(policies), extensions=st.lists(raw_extension(), max_size=2).map(tuple),
)
device_infos = st.builds(
    model.DeviceInfo, manufacturer=opt(texts), serial_no=opt(texts), model=opt(texts), issue_no=opt(texts),
    device_binding=opt(texts), start_date=opt(dates), expiry_date=opt(dates), user_id=opt(texts),
    extensions=st.lists(raw_extension(), max_size=1).map(tuple),
)
key_packages = st.builds(
    model.KeyPackage, device_info=opt(device_infos),
    crypto_module_info=opt(st.builds(model.CryptoModuleInfo, texts)), key=opt(keys),
    extensions=st.lists(raw_extension(), max_size=1).map(tuple),
)
encryption_keys = st.one_of(
    st.builds(model.EncryptionKey, key_names=st.lists(texts, min_size=1, max_size=2).map(tuple)),
    st.builds(model.EncryptionKey, derived_key=st.builds(
        model.DerivedKey, algorithm=st.just("http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5#pbkdf2"),
        pbkdf2=st.builds(model.PBKDF2Params, st.binary(min_size=8, max_size=16), st.integers(1, 10**6),
                         opt(st.integers(1, 64))),
        reference_uris=st.lists(st.just("#ED"), max_size=1).map(tuple), master_key_name=opt(texts))),
    st.builds(model.EncryptionKey, x509_certificates=st.lists(st.binary(min_size=1, max_size=30), min_size=1,
                                                              max_size=2).map(tuple)),
)
mac_methods = st.builds(model.MACMethod, algorithm=st.just("http://www.w3.org/2000/09/xmldsig#hmac-sha1"),
                        encrypted_mac_key=opt(encrypted_values.map(lambda v: model.EncryptedValue(
                            v.algorithm, v.cipher_value, id=v.id))))
containers = st.builds(
    model.KeyContainer, key_packages=st.lists(key_packages, min_size=1, max_size=3).map(tuple),
    version=st.just("1.0"), id=opt(ncnames), encryption_key=opt(encryption_keys), mac_method=opt(mac_methods),
    extensions=st.lists(raw_extension(), max_size=1).map(tuple),
)


# ---------------------------------------------------------------- properties
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(containers)
def test_decode_encode_round_trip(container):
    document = pskc.encode(container)
    assert pskc.decode(document) == container


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.builds(model.KeyPackage, key=st.builds(
    model.Key, id=tokens, data=st.builds(model.KeyData, secret=st.builds(model.PlainValue, st.binary(max_size=40)),
                                        counter=opt(st.builds(model.PlainValue, int64)),
                                        time_drift=opt(st.builds(model.PlainValue, int32))))),
    min_size=1, max_size=3).map(tuple),
    st.sampled_from(["aes128-cbc", "aes256-cbc", "tripledes-cbc", "camellia192-cbc"]),
    st.binary(min_size=32, max_size=32))
def test_protected_round_trip(packages, algorithm, key_material):
    from reference.pskc.protect import resolve_cipher

    key = key_material[: resolve_cipher(algorithm).key_lengths[0]]
    container = model.KeyContainer(key_packages=packages)
    document = pskc.encode(container, protection=pskc.PreSharedKey(key, algorithm),
                           fields=("secret", "counter", "time_drift"))
    decoded = pskc.decode(document, key=key, strict=True)
    assert decoded.key_packages == packages
    assert not decoded.all_findings() or all(f.severity == "note" for f in decoded.all_findings())


# ---------------------------------------------------------------- model rules
def test_reprs_never_show_secrets():
    secret = bytes.fromhex("3132333435363738393031323334353637383930")
    text = repr(model.KeyData(secret=model.PlainValue(secret))) + repr(
        model.MACMethod("x", mac_key=secret)) + repr(pskc.PreSharedKey(secret)) + repr(pskc.Passphrase("qwerty"))
    text += repr(to_raw(etree.fromstring('<y:Lock xmlns:y="urn:example:yubico" Code="98566d358630"/>')))
    for spelling in (secret.hex(), "12345678901234567890", "qwerty", "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=", "98566d358630"):
        assert spelling not in text
    assert "fp:" in text


def test_usage_permitted_follows_rfc6030_section5():
    assert model.Policy(key_usage=("OTP",)).usage_permitted
    assert not model.Policy(key_usage=("Teleport",)).usage_permitted
    assert not model.Policy(unknown=(to_raw(etree.fromstring("<x xmlns='urn:x'/>")),)).usage_permitted
    assert not model.Policy(pin_policy=model.PINPolicy(other_attributes=(("{urn:x}y", "1"),))).usage_permitted


def test_raw_xml_equality_ignores_prefixes_not_content():
    a = to_raw(etree.fromstring('<p:E xmlns:p="urn:ietf:params:xml:ns:keyprov:pskc"><p:v>1</p:v></p:E>'))
    b = to_raw(etree.fromstring('<E xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><v>1</v></E>'))
    c = to_raw(etree.fromstring('<E xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><v>2</v></E>'))
    assert a == b and hash(a) == hash(b) and a != c


def test_findings_do_not_take_part_in_equality():
    finding = model.Finding("pskc.x", "m", "RFC 6030 §4")
    assert model.KeyPackage(findings=(finding,)) == model.KeyPackage()
    assert str(finding) == "[deviation] pskc.x: m [RFC 6030 §4]"


@pytest.mark.parametrize("value,text", [
    (datetime(2006, 5, 1, tzinfo=timezone.utc), "2006-05-01T00:00:00Z"),
    (datetime(2006, 5, 1, 2, tzinfo=timezone(timedelta(hours=2))), "2006-05-01T00:00:00Z"),
    (datetime(2006, 5, 1, 0, 0, 0, 120000, tzinfo=timezone.utc), "2006-05-01T00:00:00.12Z"),
    (datetime(2006, 5, 1), "2006-05-01T00:00:00"),
])
def test_dates_are_written_in_canonical_form(value, text):
    from reference.pskc.encode import format_datetime

    assert format_datetime(value) == text
