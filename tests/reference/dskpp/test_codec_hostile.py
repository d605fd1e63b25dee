"""Malformed, schema-invalid and hostile input: every one a typed ProtocolError with the
DSKPP status it maps to (RFC 6063 §3.3) and a location."""

from __future__ import annotations

import pytest

from harness.errors import MalformedInput, ProtocolError, SchemaViolation, UnsafeInput, UnsupportedFeature
from reference.dskpp import codec
from reference.dskpp.messages import ClientInfo, KeyProvClientHello, UnknownExtension
from reference.dskpp.safexml import Limits

NS = 'xmlns:dskpp="urn:ietf:params:xml:ns:keyprov:dskpp"'
NONCE = "oTvo+S22nsmS2Z/RtcoF8CTwadRa1PVsRXkZnCihHkU1rPueggrd0NpEWVZR"


def client_nonce(inner: str = f"<dskpp:EncryptedNonce>{NONCE}</dskpp:EncryptedNonce>", attrs: str = 'Version="1.0" SessionID="4114"', prolog: str = "") -> bytes:
    return f'{prolog}<dskpp:KeyProvClientNonce {NS} {attrs}>{inner}</dskpp:KeyProvClientNonce>'.encode()


def hello(extensions: str, extra_ns: str = "") -> bytes:
    return (
        f'<dskpp:KeyProvClientHello {NS} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" {extra_ns} Version="1.0">'
        "<dskpp:SupportedKeyTypes><dskpp:Algorithm>urn:k</dskpp:Algorithm></dskpp:SupportedKeyTypes>"
        "<dskpp:SupportedEncryptionAlgorithms><dskpp:Algorithm>urn:e</dskpp:Algorithm></dskpp:SupportedEncryptionAlgorithms>"
        "<dskpp:SupportedMacAlgorithms><dskpp:Algorithm>urn:m</dskpp:Algorithm></dskpp:SupportedMacAlgorithms>"
        f"<dskpp:Extensions>{extensions}</dskpp:Extensions></dskpp:KeyProvClientHello>"
    ).encode()


def test_baseline_is_valid():
    assert codec.decode(client_nonce()).session_id == "4114"


# ----------------------------------------------------------------------------- hostile
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>"
)


@pytest.mark.parametrize(
    "data",
    [
        client_nonce(prolog=BILLION_LAUGHS).replace(NONCE.encode(), b"&lol9;"),
        client_nonce(prolog='<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>').replace(NONCE.encode(), b"&xxe;"),
        client_nonce(prolog='<!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd">'),
        client_nonce(prolog='<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>'),
        client_nonce(prolog="<!DOCTYPE x>"),
    ],
    ids=["billion-laughs", "xxe-file", "external-dtd", "parameter-entity", "bare-doctype"],
)
def test_dtd_refused(data):
    with pytest.raises(UnsafeInput) as err:
        codec.decode(data)
    assert err.value.status == "MalformedRequest" and err.value.where.startswith("line ")
    assert "root:" not in str(err.value)  # nothing of /etc/passwd


def test_size_limit():
    data = client_nonce(inner=f"<dskpp:EncryptedNonce>{'A' * 2000}</dskpp:EncryptedNonce>")
    with pytest.raises(UnsafeInput):
        codec.decode(data, limits=Limits(max_bytes=1000))
    with pytest.raises(UnsafeInput):
        codec.decode(b" " * ((1 << 20) + 1))


def test_depth_limit():
    deep = "<x:a xmlns:x='urn:x'>" * 60 + "</x:a>" * 60
    with pytest.raises(UnsafeInput) as err:
        codec.decode(client_nonce(inner=deep))
    assert "deeper" in err.value.message


def test_libxml2_own_depth_limit_is_typed():
    deep = "<a>" * 300 + "</a>" * 300
    with pytest.raises(ProtocolError) as err:
        codec.decode(deep.encode())
    assert err.value.status == "MalformedRequest"


def test_element_count_limit():
    wide = "<x:a xmlns:x='urn:x'/>" * 50
    with pytest.raises(UnsafeInput):
        codec.decode(client_nonce(inner=wide), limits=Limits(max_elements=20))


def test_xinclude_not_processed():
    inner = f'<dskpp:EncryptedNonce>{NONCE}</dskpp:EncryptedNonce><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd" parse="text"/>'
    with pytest.raises(SchemaViolation):
        codec.decode(client_nonce(inner=inner))


def test_schema_location_hint_not_followed():
    attrs = 'Version="1.0" SessionID="1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:ietf:params:xml:ns:keyprov:dskpp http://127.0.0.1:9/x.xsd"'
    assert codec.decode(client_nonce(attrs=attrs)).session_id == "1"


# ----------------------------------------------------------------------------- malformed
@pytest.mark.parametrize(
    "data,where",
    [
        (b"", None),
        (b"   ", None),
        (client_nonce()[:-10], "line 1"),
        (b"<a><b></a>", "line 1"),
        (b"\n\n<dskpp:KeyProvClientNonce", "line 3"),
        ('<?xml version="1.0" encoding="UTF-16"?><a/>'.encode("utf-16"), "byte 0"),
        (b'<?xml version="1.0" encoding="ISO-8859-1"?><a>\xe9</a>', "line 1"),
        (b"<a>\xff\xfe</a>", "byte 3"),
        (b"<a>&undefined;</a>", "line 1"),
    ],
    ids=["empty", "blank", "truncated", "mismatched-tags", "unclosed", "utf16", "latin1", "bad-utf8", "undefined-entity"],
)
def test_not_parseable(data, where):
    with pytest.raises(MalformedInput) as err:
        codec.decode(data)
    assert err.value.status == "MalformedRequest"
    if where:
        assert err.value.where == where


def test_not_bytes():
    with pytest.raises(MalformedInput):
        codec.decode("<a/>")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "data",
    [
        b"<html><body/></html>",
        f"<dskpp:KeyProvFoo {NS} Version='1.0'/>".encode(),
        b"<KeyProvClientNonce Version='1.0' SessionID='1'/>",  # no namespace
    ],
)
def test_unknown_request(data):
    with pytest.raises(SchemaViolation) as err:
        codec.decode(data)
    assert err.value.status == "UnknownRequest"


@pytest.mark.parametrize(
    "data",
    [
        client_nonce(attrs='SessionID="1"'),  # Version missing
        client_nonce(attrs='Version="1.0"'),  # SessionID required on ClientNonce
        client_nonce(attrs='Version="v1" SessionID="1"'),  # VersionType pattern
        client_nonce(attrs=f'Version="1.0" SessionID="{"s" * 129}"'),  # IdentifierType maxLength
        client_nonce(inner="<dskpp:EncryptedNonce>not base64!</dskpp:EncryptedNonce>"),
        client_nonce(inner=""),  # EncryptedNonce missing
        client_nonce(inner=f"<dskpp:EncryptedNonce>{NONCE}</dskpp:EncryptedNonce><dskpp:Bogus/>"),
        client_nonce(inner=f"<dskpp:Extensions/><dskpp:EncryptedNonce>{NONCE}</dskpp:EncryptedNonce>"),  # order
        f'<dskpp:KeyProvServerHello {NS} Version="1.0" Status="Fine"/>'.encode(),  # Status enumeration
        f'<dskpp:KeyProvServerHello {NS} Version="1.0" Status=" Success"/>'.encode(),  # xs:string: no trimming
        f'<dskpp:KeyProvServerHello {NS} Version="1.0" Status="Continue"><dskpp:KeyType>urn:k</dskpp:KeyType></dskpp:KeyProvServerHello>'.encode(),
    ],
)
def test_schema_invalid(data):
    with pytest.raises(SchemaViolation) as err:
        codec.decode(data)
    assert err.value.status == "MalformedRequest" and err.value.spec == "RFC 6063 §8.2"
    assert err.value.where and err.value.where.startswith("line ")


def test_short_nonce_is_schema_invalid():
    # NonceType: base64Binary minLength 16 octets
    data = (
        f'<dskpp:KeyProvServerHello {NS} xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Version="1.0" Status="Continue">'
        "<dskpp:KeyType>urn:k</dskpp:KeyType><dskpp:EncryptionAlgorithm>urn:e</dskpp:EncryptionAlgorithm>"
        "<dskpp:MacAlgorithm>urn:m</dskpp:MacAlgorithm><dskpp:EncryptionKey><ds:KeyName>k</ds:KeyName></dskpp:EncryptionKey>"
        "<dskpp:KeyPackageFormat>urn:f</dskpp:KeyPackageFormat><dskpp:Payload><dskpp:Nonce>AAECAwQFBgcICQoLDA0O</dskpp:Nonce></dskpp:Payload>"
        "</dskpp:KeyProvServerHello>"
    ).encode()
    with pytest.raises(SchemaViolation):
        codec.decode(data)
    assert codec.decode(data.replace(b"AAECAwQFBgcICQoLDA0O", b"AAECAwQFBgcICQoLDA0ODw==")).payload.nonce == bytes(range(16))


def test_error_messages_do_not_echo_values():
    secret = "SECRETKEYMATERIAL=="
    data = client_nonce(inner=f"<dskpp:EncryptedNonce>{secret}!</dskpp:EncryptedNonce>")
    with pytest.raises(SchemaViolation) as err:
        codec.decode(data)
    assert "SECRETKEYMATERIAL" not in str(err.value)


def test_comments_and_cdata_do_not_split_values():
    inner = f"<dskpp:EncryptedNonce>{NONCE[:10]}<!-- c --><![CDATA[{NONCE[10:20]}]]><?pi x?>{NONCE[20:]}</dskpp:EncryptedNonce>"
    assert codec.decode(client_nonce(inner=inner)) == codec.decode(client_nonce())


# ----------------------------------------------------------------------------- extensions (Sec. 6)
CLIENT_INFO = '<dskpp:Extension xsi:type="dskpp:ClientInfoType"{crit}><dskpp:Data>AAEC</dskpp:Data></dskpp:Extension>'
VENDOR = '<dskpp:Extension xsi:type="v:Thing"{crit}><v:Stuff>x</v:Stuff></dskpp:Extension>'


def test_client_info_extension():
    msg = codec.decode(hello(CLIENT_INFO.format(crit=' Critical="false"')))
    assert msg.extensions == (ClientInfo(b"\x00\x01\x02", False),)


def test_unknown_noncritical_extension_disregarded_but_kept():
    data = hello(VENDOR.format(crit="") + CLIENT_INFO.format(crit=""), extra_ns='xmlns:v="urn:vendor"')
    msg = codec.decode(data)
    assert isinstance(msg, KeyProvClientHello)
    assert isinstance(msg.extensions[0], UnknownExtension) and msg.extensions[0].type_name == "{urn:vendor}Thing"
    assert isinstance(msg.extensions[1], ClientInfo)
    assert codec.decode(codec.encode(msg)) == msg
    only_unknown = codec.decode(hello(VENDOR.format(crit=' Critical="0"'), extra_ns='xmlns:v="urn:vendor"'))
    assert len(only_unknown.extensions) == 1


def test_unknown_critical_extension():
    with pytest.raises(UnsupportedFeature) as err:
        codec.decode(hello(VENDOR.format(crit=' Critical="true"'), extra_ns='xmlns:v="urn:vendor"'))
    assert err.value.status == "UnknownCriticalExtension"


@pytest.mark.parametrize(
    "ext",
    [
        CLIENT_INFO.format(crit=' Critical="true"'),  # Sec. 6.1 MUST NOT be Critical
        CLIENT_INFO.format(crit="").replace("ClientInfoType", "ServerInfoType"),  # Sec. 6.2: not in ClientHello
        '<dskpp:Extension><dskpp:Data>AAEC</dskpp:Data></dskpp:Extension>',  # abstract type, no xsi:type
        '<dskpp:Extension xsi:type="nope:Thing"/>',  # undeclared prefix
    ],
)
def test_extension_violations(ext):
    with pytest.raises(SchemaViolation) as err:
        codec.decode(hello(ext))
    assert err.value.status == "MalformedRequest"


def test_bom_and_predefined_entities_are_fine():
    data = b"\xef\xbb\xbf" + client_nonce(attrs='Version="1.0" SessionID="a&amp;b&#13;&lt;"')
    assert codec.decode(data).session_id == "a&b\r<"
