"""Hostile and broken XML must end as UnsafeInput / MalformedInput, never a traceback."""

from __future__ import annotations

import io

import pytest

from harness.errors import MalformedInput, ProtocolError, UnsafeInput
from reference import pskc
from reference.pskc import safexml

MINIMAL = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">'
    b'<KeyPackage><Key Id="1"><Data><Secret><PlainValue>MTIzNA==</PlainValue></Secret></Data></Key>'
    b"</KeyPackage></KeyContainer>"
)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE KeyContainer [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><KeyPackage><Key Id="&lol9;"/></KeyPackage></KeyContainer>
"""

XXE_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE KeyContainer [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><KeyPackage><Key Id="1"><Issuer>&xxe;</Issuer></Key></KeyPackage></KeyContainer>
"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE KeyContainer SYSTEM "http://127.0.0.1:9/evil.dtd">
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><KeyPackage/></KeyContainer>
"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE KeyContainer [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x"> %remote;]>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><KeyPackage/></KeyContainer>
"""


def _decode_all_ways(data: bytes, **kwargs) -> None:
    """Run the input through decode() and iter_keys(); both must raise the same way."""
    errors = []
    for run in (lambda: pskc.decode(data, **kwargs), lambda: list(pskc.iter_keys(io.BytesIO(data), **kwargs))):
        with pytest.raises(ProtocolError) as info:
            run()
        errors.append(info.value)
    assert type(errors[0]) is type(errors[1])
    raise errors[0]


@pytest.mark.parametrize("document", [BILLION_LAUGHS, XXE_FILE, EXTERNAL_DTD, PARAMETER_ENTITY],
                         ids=["billion-laughs", "xxe-file", "external-dtd", "parameter-entity"])
def test_any_dtd_is_refused_as_unsafe(document):
    with pytest.raises(UnsafeInput) as info:
        _decode_all_ways(document)
    assert info.value.status == "pskc.dtd"
    assert info.value.where == "line 2"
    assert b"root:" not in str(info.value).encode()  # nothing of /etc/passwd leaked


def test_dtd_in_utf16_document_is_refused():
    document = BILLION_LAUGHS.decode().replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    with pytest.raises(UnsafeInput):
        pskc.decode(document.encode("utf-16"))


def test_dtd_hidden_behind_a_long_prolog_is_still_refused():
    # The prolog pre-scan only peeks at 64 KiB; the parsed root is checked as well.
    padding = b"<!--" + b"x" * (70 * 1024) + b"-->\n"
    document = XXE_FILE.replace(b'<?xml version="1.0"?>\n', b'<?xml version="1.0"?>\n' + padding)
    with pytest.raises(UnsafeInput):
        pskc.decode(document)


def test_deep_nesting_is_refused():
    depth = 5000
    inner = b"<x:a xmlns:x='urn:example'>" * depth + b"</x:a>" * depth
    document = MINIMAL.replace(b"</KeyContainer>", b"<Extensions>" + inner + b"</Extensions></KeyContainer>")
    with pytest.raises(UnsafeInput) as info:
        _decode_all_ways(document)
    assert info.value.status in ("pskc.too-deep", "pskc.unsafe-xml")


def test_depth_limit_is_a_parameter():
    inner = b"<x:a xmlns:x='urn:example'>" * 10 + b"</x:a>" * 10
    document = MINIMAL.replace(b"</KeyContainer>", b"<Extensions>" + inner + b"</Extensions></KeyContainer>")
    assert pskc.decode(document, max_depth=20).extensions
    with pytest.raises(UnsafeInput) as info:
        pskc.decode(document, max_depth=8)
    assert info.value.status == "pskc.too-deep"
    assert "line 1" in info.value.where or "line 2" in info.value.where


def test_input_larger_than_the_limit_is_refused_before_parsing():
    with pytest.raises(UnsafeInput) as info:
        pskc.decode(MINIMAL, max_bytes=100)
    assert info.value.status == "pskc.too-large"


def test_streamed_input_larger_than_the_limit_is_refused_while_reading():
    big = MINIMAL.replace(b"</KeyContainer>", b"<KeyPackage/>" * 10_000 + b"</KeyContainer>")
    with pytest.raises(UnsafeInput) as info:
        list(pskc.iter_keys(io.BytesIO(big), max_bytes=50_000))
    assert info.value.status == "pskc.too-large"


def test_huge_text_node_is_refused():
    # libxml2 caps text nodes at 10 MB unless huge_tree is on; we keep it off.
    huge = b"A" * (11 * 1024 * 1024)
    document = MINIMAL.replace(b"MTIzNA==", huge)
    with pytest.raises(UnsafeInput):
        pskc.decode(document, max_bytes=None)


@pytest.mark.parametrize("document,code", [
    (b"", "pskc.not-xml"),
    (b"not xml at all", "pskc.not-xml"),
    (MINIMAL[:-20], "pskc.not-xml"),
    (b'<?xml version="1.0"?>\n<InValidXML>\n</InValidCloseTag>', "pskc.not-xml"),
    (b'<?xml version="1.0" encoding="x-no-such-encoding"?><KeyContainer/>', "pskc.not-xml"),
    (b"\xff\xfe\x00garbage", "pskc.not-xml"),
])
def test_not_well_formed_input_is_malformed(document, code):
    with pytest.raises(MalformedInput) as info:
        pskc.decode(document)
    assert info.value.status == code


def test_malformed_error_names_the_line():
    with pytest.raises(MalformedInput) as info:
        pskc.decode(b'<?xml version="1.0"?>\n<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">'
                    b"\n<KeyPackage>\n</KeyContainer>")
    assert info.value.where and info.value.where.startswith("line ")


def test_undefined_entity_is_refused():
    with pytest.raises((UnsafeInput, MalformedInput)):
        pskc.decode(MINIMAL.replace(b"MTIzNA==", b"&secret;"))


def test_xinclude_is_not_processed(tmp_path):
    target = tmp_path / "secret.txt"
    target.write_text("TOP SECRET")
    include = (f'<Extensions><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{target}" '
               f'parse="text"/></Extensions>').encode()
    container = pskc.decode(MINIMAL.replace(b"</KeyContainer>", include + b"</KeyContainer>"))
    assert b"TOP SECRET" not in container.extensions[0].xml
    assert b"xi:include" in container.extensions[0].xml or b"include" in container.extensions[0].xml


def test_predefined_entities_and_bom_are_fine():
    document = b"\xef\xbb\xbf" + MINIMAL.replace(b'Key Id="1"', b'Key Id="a&amp;b"')
    assert pskc.decode(document).key_packages[0].key.id == "a&b"


def test_safexml_parse_returns_root_and_refuses_dtd():
    assert safexml.parse(MINIMAL).tag.endswith("KeyContainer")
    with pytest.raises(UnsafeInput):
        safexml.parse(BILLION_LAUGHS)


def test_relative_namespace_uri_is_malformed_input_not_a_crash():
    # Found by the pskc.fuzz suite: exclusive C14N of an extension element whose namespace
    # URI is relative raised lxml's C14NError through the codec.
    from harness.vectors import vector_path

    doc = vector_path("pskc/rfc6030/figure3.xml").read_bytes()
    doc = doc.replace(b"<KeyContainer ", b'<KeyContainer xmlns:r="relative/ns" ', 1)
    doc = doc.replace(b"<Issuer>", b"<r:Extra>1</r:Extra><Issuer>", 1)
    with pytest.raises(MalformedInput, match="canonicalised"):
        pskc.decode(doc)


def test_cut_prefixed_root_tag_is_malformed_input_not_a_crash():
    # Found by the pskc.fuzz suite: lxml reports the root of "<pskc:" as tag 'pskc:', on
    # which naming the element for the error message raised ValueError.
    with pytest.raises(ProtocolError):
        pskc.decode(b"<?xml version='1.0' encoding='UTF-8'?>\n<pskc:")
