"""reference/kmip/compare.py: the tolerances of KMIP Profiles 2.1 §4.1, one by one.

Expected and actual responses are written out by hand as KMIP XML (Profiles 2.1 §5.4.1),
each test changing one thing, so the expectation (pass, or the exact path that differs)
comes from the spec text, not from the comparer.
"""

from __future__ import annotations

import time

import pytest

from harness.redaction import fingerprint
from reference.kmip.compare import CaseState, compare_response
from reference.kmip.xml_encoding import from_xml

NOW = 1_700_000_000
WINDOW = (NOW - 1.0, NOW + 1.0)


def header(version: str = "1.4", stamp: str = "$NOW") -> str:
    major, minor = version.split(".")
    return (f'<ResponseHeader><ProtocolVersion><ProtocolVersionMajor type="Integer" value="{major}"/>'
            f'<ProtocolVersionMinor type="Integer" value="{minor}"/></ProtocolVersion>'
            f'<TimeStamp type="DateTime" value="{stamp}"/><BatchCount type="Integer" value="1"/></ResponseHeader>')


def response(op: str, payload: str, *, version: str = "1.4", status: str = "Success", extra: str = "",
             stamp: str = "$NOW") -> str:
    body = f"<ResponsePayload>{payload}</ResponsePayload>" if payload is not None else ""
    return (f'<ResponseMessage>{header(version, stamp)}<BatchItem><Operation type="Enumeration" value="{op}"/>'
            f'<ResultStatus type="Enumeration" value="{status}"/>{extra}{body}</BatchItem></ResponseMessage>')


def request(op: str, payload: str = "", version: str = "1.4") -> str:
    major, minor = version.split(".")
    return (f'<RequestMessage><RequestHeader><ProtocolVersion><ProtocolVersionMajor type="Integer" value="{major}"/>'
            f'<ProtocolVersionMinor type="Integer" value="{minor}"/></ProtocolVersion>'
            f'<BatchCount type="Integer" value="1"/></RequestHeader><BatchItem>'
            f'<Operation type="Enumeration" value="{op}"/><RequestPayload>{payload}</RequestPayload></BatchItem>'
            f'</RequestMessage>')


def actualize(xml: str, now: int = NOW) -> str:
    """The server's side: $NOW as a real time (the XML encoding takes xsd:dateTime)."""
    return xml.replace('"$NOW"', f'"{time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}"')


def diff(expected: str, actual: str, *, req: str | None = None, state: CaseState | None = None,
         version: str = "1.4", op: str = "GetAttributes"):
    v = tuple(int(x) for x in version.split("."))
    return compare_response(from_xml(expected, version=v), from_xml(actualize(actual), version=v),
                            state if state is not None else CaseState(),
                            request=from_xml(req or request(op, version=version), version=v), version=v, window=WINDOW)


def attr(name: str, value_type: str, value: str) -> str:
    return (f'<Attribute><AttributeName type="TextString" value="{name}"/>'
            f'<AttributeValue type="{value_type}" value="{value}"/></Attribute>')


UID = '<UniqueIdentifier type="TextString" value="{}"/>'
STATE = attr("State", "Enumeration", "PreActive")
ALG = attr("Cryptographic Algorithm", "Enumeration", "AES")
LEN = attr("Cryptographic Length", "Integer", "256")


def test_identical_response_passes():
    expected = response("GetAttributes", UID.format("k1") + STATE + ALG)
    assert diff(expected, expected) is None


def test_attribute_order_and_extra_attributes_are_permitted():
    # Profiles 2.1 §4.1.2 item 5 (any order) and §4.1.1 item 21 (additional attributes).
    expected = response("GetAttributes", UID.format("k1") + STATE + ALG + LEN)
    actual = response("GetAttributes", UID.format("k1") + LEN + attr("x-vendor", "TextString", "v") + ALG + STATE)
    assert diff(expected, actual) is None


def test_missing_attribute_is_named_by_its_attribute_name():
    expected = response("GetAttributes", UID.format("k1") + STATE + ALG)
    actual = response("GetAttributes", UID.format("k1") + STATE)
    d = diff(expected, actual)
    assert str(d).startswith("ResponseMessage/BatchItem[0]/ResponsePayload/Attribute[Cryptographic Algorithm]: missing")


def test_wrong_attribute_value_is_reported_at_the_value():
    expected = response("GetAttributes", UID.format("k1") + STATE)
    actual = response("GetAttributes", UID.format("k1") + attr("State", "Enumeration", "Active"))
    d = diff(expected, actual)
    assert d.path == "ResponseMessage/BatchItem[0]/ResponsePayload/Attribute[State]/AttributeValue"
    assert d.detail == "expected PreActive, got Active" and not d.unsupported


def test_kmip_2_attributes_any_order_with_extras_but_values_checked():
    payload = ('<UniqueIdentifier type="TextString" value="k1"/><Attributes>'
               '<State type="Enumeration" value="PreActive"/><CryptographicLength type="Integer" value="256"/>'
               '</Attributes>')
    swapped = ('<UniqueIdentifier type="TextString" value="k1"/><Attributes>'
               '<CryptographicLength type="Integer" value="256"/><ObjectType type="Enumeration" value="SymmetricKey"/>'
               '<State type="Enumeration" value="PreActive"/></Attributes>')
    assert diff(response("GetAttributes", payload, version="2.1"), response("GetAttributes", swapped, version="2.1"),
                version="2.1") is None
    wrong = swapped.replace("256", "128")
    d = diff(response("GetAttributes", payload, version="2.1"), response("GetAttributes", wrong, version="2.1"),
             version="2.1")
    assert str(d) == "ResponseMessage/BatchItem[0]/ResponsePayload/Attributes/CryptographicLength: expected 256, got 128"


def test_mask_bits_in_either_order_are_the_same_value():
    expected = response("GetAttributes", UID.format("k1") + attr("Cryptographic Usage Mask", "Integer", "Decrypt Encrypt"))
    actual = response("GetAttributes", UID.format("k1") + attr("Cryptographic Usage Mask", "Integer", "Encrypt Decrypt"))
    assert diff(expected, actual) is None


def test_attribute_index_zero_equals_absent():
    # KMIP 1.4 §2.1.1: an Attribute Index that is not specified SHALL be assumed to be 0.
    expected = response("GetAttributes", UID.format("k1") + STATE)
    indexed = STATE.replace("</Attribute>", '<AttributeIndex type="Integer" value="0"/></Attribute>')
    assert diff(expected, response("GetAttributes", UID.format("k1") + indexed)) is None
    second = STATE.replace("</Attribute>", '<AttributeIndex type="Integer" value="1"/></Attribute>')
    assert diff(expected, response("GetAttributes", UID.format("k1") + second)) is not None


def test_result_message_is_never_compared():
    expected = response("Get", None, status="OperationFailed",
                        extra='<ResultReason type="Enumeration" value="ItemNotFound"/>'
                              '<ResultMessage type="TextString" value="not found"/>')
    actual = response("Get", None, status="OperationFailed",
                      extra='<ResultReason type="Enumeration" value="ItemNotFound"/>')
    assert diff(expected, actual, op="Get") is None


def test_status_difference_reports_reason_and_message():
    expected = response("Create", UID.format("$UNIQUE_IDENTIFIER_0"))
    actual = response("Create", None, status="OperationFailed",
                      extra='<ResultReason type="Enumeration" value="InvalidField"/>'
                            '<ResultMessage type="TextString" value="bad attribute"/>')
    d = diff(expected, actual, op="Create")
    assert d.path == "ResponseMessage/BatchItem[0]/ResultStatus" and not d.unsupported
    assert d.detail == "expected Success, got OperationFailed (ResultReason InvalidField; ResultMessage 'bad attribute')"


@pytest.mark.parametrize("reason", ["OperationNotSupported", "FeatureNotSupported", "KeyFormatTypeNotSupported"])
def test_not_supported_answers_make_the_case_unsupported(reason):
    expected = response("Create", UID.format("$UNIQUE_IDENTIFIER_0"))
    actual = response("Create", None, status="OperationFailed",
                      extra=f'<ResultReason type="Enumeration" value="{reason}"/>')
    assert diff(expected, actual, op="Create").unsupported


def test_operation_not_supported_instead_of_an_expected_failure_is_unsupported():
    expected = response("RNGSeed", None, status="OperationFailed",
                        extra='<ResultReason type="Enumeration" value="PermissionDenied"/>')
    actual = response("RNGSeed", None, status="OperationFailed",
                      extra='<ResultReason type="Enumeration" value="OperationNotSupported"/>')
    assert diff(expected, actual, op="RNGSeed").unsupported
    other = actual.replace("OperationNotSupported", "InvalidField")
    d = diff(expected, other, op="RNGSeed")
    assert not d.unsupported and d.path == "ResponseMessage/BatchItem[0]/ResultReason"


def test_unique_identifier_binds_once_then_must_stay():
    state = CaseState()
    assert diff(response("Create", UID.format("$UNIQUE_IDENTIFIER_0")), response("Create", UID.format("abc-1")),
                state=state, op="Create") is None
    assert state.bound["$UNIQUE_IDENTIFIER_0"][1] == "abc-1"
    d = diff(response("Get", UID.format("$UNIQUE_IDENTIFIER_0")), response("Get", UID.format("abc-2")), state=state,
             op="Get")
    assert str(d) == ("ResponseMessage/BatchItem[0]/ResponsePayload/UniqueIdentifier: expected $UNIQUE_IDENTIFIER_0 "
                      "= 'abc-1' (bound earlier), got 'abc-2'")


def test_locate_identifiers_in_any_order_but_no_extra():
    state = CaseState(bound={"$UNIQUE_IDENTIFIER_0": (from_xml(UID.format("a")).type, "a"),
                             "$UNIQUE_IDENTIFIER_1": (from_xml(UID.format("b")).type, "b")})
    expected = response("Locate", UID.format("$UNIQUE_IDENTIFIER_0") + UID.format("$UNIQUE_IDENTIFIER_1"))
    assert diff(expected, response("Locate", UID.format("b") + UID.format("a")), state=state.copy(), op="Locate") is None
    d = diff(expected, response("Locate", UID.format("b") + UID.format("a") + UID.format("c")), state=state.copy(),
             op="Locate")
    assert d.path == "ResponseMessage/BatchItem[0]/ResponsePayload/UniqueIdentifier[2]" and "unexpected" in d.detail
    d = diff(expected, response("Locate", UID.format("b")), state=state.copy(), op="Locate")
    assert str(d) == ("ResponseMessage/BatchItem[0]/ResponsePayload/UniqueIdentifier[0]: missing "
                      "(expected $UNIQUE_IDENTIFIER_0 = 'a')")


def test_query_operation_and_object_type_lists_are_not_compared_other_fields_are():
    # Profiles 2.1 §4.1.1 items 16-17: Operations / Object Types "other than those noted as
    # required in the profile" may vary; the profiles' required lists are not in the cases.
    ops = lambda *names: "".join(f'<Operation type="Enumeration" value="{n}"/>' for n in names)  # noqa: E731
    info = '<ServerInformation/>'
    expected = response("Query", ops("Create", "Get") + '<ObjectType type="Enumeration" value="SymmetricKey"/>' + info)
    assert diff(expected, response("Query", ops("Locate") + info), op="Query") is None
    d = diff(expected, response("Query", ops("Create", "Get")), op="Query")
    assert str(d) == "ResponseMessage/BatchItem[0]/ResponsePayload/ServerInformation: missing (expected a structure)"


def test_vendor_identification_may_vary_server_information_contents_too():
    expected = response("Query", '<VendorIdentification type="TextString" value="OASIS"/>'
                                 '<ServerInformation><TTLV tag="0x540001" type="TextString" value="a"/></ServerInformation>')
    actual = response("Query", '<VendorIdentification type="TextString" value="PyKMIP"/><ServerInformation/>')
    assert diff(expected, actual, op="Query") is None


def test_name_value_may_carry_a_prefix_not_another_name():
    name = ('<Attribute><AttributeName type="TextString" value="Name"/><AttributeValue>'
            '<NameValue type="TextString" value="{}"/><NameType type="Enumeration" value="UninterpretedTextString"/>'
            '</AttributeValue></Attribute>')
    expected = response("GetAttributes", UID.format("k") + name.format("SKLC-M-1-14"))
    assert diff(expected, response("GetAttributes", UID.format("k") + name.format("lab:SKLC-M-1-14"))) is None
    d = diff(expected, response("GetAttributes", UID.format("k") + name.format("SKLC-M-2-14")))
    assert d.path == "ResponseMessage/BatchItem[0]/ResponsePayload/Attribute[Name]/AttributeValue/NameValue"


def test_now_must_be_within_the_tolerance():
    expected = response("Query", "")
    late = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW + 3600))
    d = diff(expected, response("Query", "", stamp=late), op="Query")
    assert d.path == "ResponseMessage/ResponseHeader/TimeStamp" and "$NOW" in d.detail


def test_server_set_dates_may_vary_unless_the_request_fixed_them():
    expected = response("GetAttributes", UID.format("k") + attr("Activation Date", "DateTime", "2020-01-01T00:00:00Z"))
    actual = response("GetAttributes", UID.format("k") + attr("Activation Date", "DateTime", "2021-06-01T00:00:00Z"))
    assert diff(expected, actual) is None  # §4.1.1 item 9: server-set date
    state = CaseState(request_times={1_577_836_800})  # a request set 2020-01-01T00:00:00Z
    assert diff(expected, actual, state=state).path.endswith("Attribute[Activation Date]/AttributeValue")


def test_fields_out_of_order_are_reported():
    expected = response("Create", '<ObjectType type="Enumeration" value="SymmetricKey"/>' + UID.format("x"))
    actual = response("Create", UID.format("x") + '<ObjectType type="Enumeration" value="SymmetricKey"/>')
    d = diff(expected, actual, op="Create")
    assert d.path == "ResponseMessage/BatchItem[0]/ResponsePayload/UniqueIdentifier" and "out of order" in d.detail


def test_header_version_is_judged_against_the_request():
    # 1.4/optional/OMOS-O-1-14 expects 1.3 in one header although the request says 1.4.
    expected = response("Query", "").replace('ProtocolVersionMinor type="Integer" value="4"',
                                             'ProtocolVersionMinor type="Integer" value="3"')
    assert diff(expected, response("Query", ""), op="Query") is None
    d = diff(response("Query", ""), expected, op="Query")
    assert d.path == "ResponseMessage/ResponseHeader/ProtocolVersion/ProtocolVersionMinor"


def test_key_material_is_shown_as_a_fingerprint():
    secret, other = "00112233445566778899aabbccddeeff", "ffeeddccbbaa99887766554433221100"
    block = ('<SymmetricKey><KeyBlock><KeyFormatType type="Enumeration" value="Raw"/><KeyValue>'
             '<KeyMaterial type="ByteString" value="{}"/></KeyValue></KeyBlock></SymmetricKey>')
    expected = response("Get", '<ObjectType type="Enumeration" value="SymmetricKey"/>' + UID.format("k")
                        + block.format(secret))
    actual = expected.replace(secret, other)
    d = diff(expected, actual, op="Get", req=request("Get", UID.format("k")))
    assert d.path == "ResponseMessage/BatchItem[0]/ResponsePayload/SymmetricKey/KeyBlock/KeyValue/KeyMaterial"
    assert secret not in str(d) and other not in str(d)
    assert fingerprint(bytes.fromhex(secret)) in d.detail and fingerprint(bytes.fromhex(other)) in d.detail


def test_generated_key_material_and_digest_may_vary():
    state = CaseState(generated={"k"})
    block = ('<SymmetricKey><KeyBlock><KeyFormatType type="Enumeration" value="Raw"/><KeyValue>'
             '<KeyMaterial type="ByteString" value="{}"/></KeyValue></KeyBlock></SymmetricKey>')
    expected = response("Get", '<ObjectType type="Enumeration" value="SymmetricKey"/>' + UID.format("k")
                        + block.format("00" * 16))
    actual = expected.replace("00" * 16, "11" * 16)
    assert diff(expected, actual, op="Get", req=request("Get", UID.format("k")), state=state) is None
