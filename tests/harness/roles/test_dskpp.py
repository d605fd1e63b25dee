"""harness/roles/dskpp.py: shape checks, option-described endpoints, AC sources, raw POST.

Adapters here are small in-process fakes answering fixed results, so each shape rule is
exercised by an answer that breaks it; the HTTP side runs against tiny starlette apps on
loopback (ServerThread)."""

from __future__ import annotations

import asyncio
import base64
import sys
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from harness.adapters.base import Adapter, AdapterSpec, InProcessTransportSpec
from harness.adapters.inprocess import InProcessTransport, operation
from harness.errors import AdapterCrash, AdapterGarbage, AdapterTimeout, AdapterUnavailable, ProtocolError, Refused, Unsupported
from harness.roles.dskpp import (
    DskppClientRole,
    DskppServerRole,
    ProvisionReport,
    ServerEndpoint,
    capability,
    short_name,
)
from reference.dskpp.authcode import format_authentication_code
from reference.dskpp.http_server import ServerThread
from reference.dskpp.messages import MEDIA_TYPE

GOOD_ENDPOINT = {
    "url": "http://127.0.0.1:9/", "variants": ["four-pass", "two-pass"], "two_pass_protections": ["key-wrap"],
    "encryption_algorithms": ["http://www.w3.org/2001/04/xmlenc#rsa-1_5"],
    "mac_algorithms": ["urn:ietf:params:xml:ns:keyprov:dskpp:prf-aes-128"],
    "key_types": ["urn:ietf:params:xml:ns:keyprov:pskc:hotp"],
    "shared_keys": {"long": "00" * 32, "short": "11" * 16}, "requires_authentication": True,
}
AC = format_authentication_code("AC00000A", "3582AF0C3E", with_checksum=True)


class Fake:
    """Answers each operation with what the test put in ``answers`` (an exception is raised)."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, dict]] = []

    def _answer(self, op: str, params: dict) -> dict:
        self.calls.append((op, params))
        value = self.answers[op]
        if isinstance(value, Exception):
            raise value
        return value

    @operation("dskpp-server.endpoint")
    def endpoint(self, params):  # noqa: ANN001, ANN201
        return self._answer("dskpp-server.endpoint", params)

    @operation("dskpp-server.issue-ac")
    def issue_ac(self, params):  # noqa: ANN001, ANN201
        return self._answer("dskpp-server.issue-ac", params)

    @operation("dskpp-server.key")
    def key(self, params):  # noqa: ANN001, ANN201
        return self._answer("dskpp-server.key", params)

    @operation("dskpp-server.trigger")
    def trigger(self, params):  # noqa: ANN001, ANN201
        return self._answer("dskpp-server.trigger", params)

    @operation("dskpp-client.provision")
    def provision(self, params):  # noqa: ANN001, ANN201
        return self._answer("dskpp-client.provision", params)

    @operation("dskpp-client.keys")
    def keys(self, params):  # noqa: ANN001, ANN201
        return self._answer("dskpp-client.keys", params)


def adapter(answers: dict[str, Any], **spec: Any) -> tuple[Adapter, Fake]:
    fake = Fake(answers)
    made = AdapterSpec(name="fake", roles=frozenset({"dskpp-server", "dskpp-client"}), capabilities=frozenset(),
                       transport=InProcessTransportSpec(factory=lambda: fake), **spec)
    return Adapter(made, InProcessTransport("fake", fake)), fake


# ----------------------------------------------------------------------------- server role
def test_endpoint_is_read_and_checked():
    role = DskppServerRole(adapter({"dskpp-server.endpoint": GOOD_ENDPOINT})[0])
    endpoint = role.endpoint()
    assert endpoint.variants == ("four-pass", "two-pass") and endpoint.requires_authentication
    assert endpoint.shared_key() == ("short", bytes.fromhex("11" * 16))  # the 16-octet one fits every algorithm
    assert "11" * 16 not in repr(endpoint)  # keys never in a repr


@pytest.mark.parametrize("change", [
    {"url": "ftp://x/"}, {"variants": []}, {"variants": ["three-pass"]}, {"two_pass_protections": ["carrier-pigeon"]},
    {"shared_keys": {"k": "not hex"}}, {"mac_algorithms": "prf"}, {"key_types": [1]}, {"requires_authentication": "yes"},
    {"session_timeout_s": "5"},
], ids=lambda c: next(iter(c)))
def test_endpoint_shape_errors_are_adapter_garbage(change):
    role = DskppServerRole(adapter({"dskpp-server.endpoint": {**GOOD_ENDPOINT, **change}})[0])
    with pytest.raises(AdapterGarbage):
        role.endpoint()


def test_issue_returns_the_code_and_reads_the_client_id_from_its_tlv():
    live, fake = adapter({"dskpp-server.issue-ac": {"authentication_code": AC}})
    issued = DskppServerRole(live).issue("AC00000A")
    assert issued.client_id == "AC00000A" and issued.authentication_code == AC
    assert fake.calls == [("dskpp-server.issue-ac", {"client_id": "AC00000A"})]
    with pytest.raises(AdapterGarbage, match="Client ID"):
        DskppServerRole(adapter({"dskpp-server.issue-ac": {"authentication_code": "not an AC"}})[0]).issue()
    with pytest.raises(AdapterGarbage):
        DskppServerRole(adapter({"dskpp-server.issue-ac": {"code": AC}})[0]).issue()


def test_key_lookup_maps_unknown_key_to_none_and_checks_hotp():
    found = {"key_id": "K1", "algorithm": "hotp", "fingerprint": "fp:00", "hotp": ["755224", "287082", "359152"]}
    assert DskppServerRole(adapter({"dskpp-server.key": found})[0]).key("K1")["hotp"][0] == "755224"
    missing = ProtocolError("no such key", status="UnknownKey")
    assert DskppServerRole(adapter({"dskpp-server.key": missing})[0]).key("K2") is None
    other = ProtocolError("broken", status="InternalError")
    with pytest.raises(Refused):
        DskppServerRole(adapter({"dskpp-server.key": other})[0]).key("K3")
    with pytest.raises(AdapterGarbage):
        DskppServerRole(adapter({"dskpp-server.key": {**found, "hotp": ["1", "2"]}})[0]).key("K1")


def test_trigger_is_decoded_and_checked():
    document = b"<dskpp:KeyProvTrigger/>"
    good = {"trigger_b64": base64.b64encode(document).decode()}
    assert DskppServerRole(adapter({"dskpp-server.trigger": good})[0]).trigger() == document
    with pytest.raises(AdapterGarbage):
        DskppServerRole(adapter({"dskpp-server.trigger": {"trigger_b64": "!!"}})[0]).trigger()


def _endpoint_adapter(options: dict[str, Any], source: str = "") -> Adapter:
    spec = AdapterSpec(name="vendor", roles=frozenset({"dskpp-server"}), capabilities=frozenset(),
                       transport=InProcessTransportSpec(factory=lambda: None), options=options, source=source)
    transport = SimpleNamespace(url="http://127.0.0.1:1/dskpp", request=lambda op, params, timeout: {"unsupported": op},
                                close=lambda: None)
    return Adapter(spec, transport)  # type: ignore[arg-type]


def test_endpoint_from_options_of_a_network_adapter():
    role = DskppServerRole(_endpoint_adapter({"variants": ["two-pass"], "two_pass_protections": ["key-wrap"],
                                              "shared_keys": {"Key1": "22" * 16}, "session_timeout_s": 30}))
    endpoint = role.endpoint()
    assert endpoint.url == "http://127.0.0.1:1/dskpp" and endpoint.variants == ("two-pass",)
    assert endpoint.session_timeout_s == 30.0 and endpoint.mac_algorithms  # defaults fill the rest


def test_ac_command_file_and_absence(tmp_path):
    command = [sys.executable, "-c", f"import sys, json; print(json.dumps({{'authentication_code': {AC!r}, "
               "'client_id': sys.argv[1] or 'AC00000A'}))", "{client_id}"]
    assert DskppServerRole(_endpoint_adapter({"ac_command": command})).issue().client_id == "AC00000A"
    plain = [sys.executable, "-c", f"print({AC!r})"]
    assert DskppServerRole(_endpoint_adapter({"ac_command": plain})).issue().authentication_code == AC
    failing = [sys.executable, "-c", "raise SystemExit(3)"]
    with pytest.raises(AdapterCrash):
        DskppServerRole(_endpoint_adapter({"ac_command": failing})).issue()
    (tmp_path / "acs.txt").write_text(f"{AC}\n\n{AC}\n", encoding="utf-8")
    role = DskppServerRole(_endpoint_adapter({"ac_file": "acs.txt"}, source=f"description file {tmp_path / 'x.toml'}"))
    assert role.issue_ac() == AC and role.issue_ac() == AC
    with pytest.raises(AdapterUnavailable, match="no unused AC"):
        role.issue_ac()
    with pytest.raises(Unsupported):
        DskppServerRole(_endpoint_adapter({})).issue()


def test_ac_url(monkeypatch):
    import httpx

    seen = {}

    def fake_post(url, json, timeout):  # noqa: ANN001, ANN202
        seen.update(url=url, json=json)
        return httpx.Response(200, text=AC)

    monkeypatch.setattr(httpx, "post", fake_post)
    role = DskppServerRole(_endpoint_adapter({"ac_url": "http://127.0.0.1:1/ac"}))
    assert role.issue("AC00000A").authentication_code == AC and seen["json"] == {"client_id": "AC00000A"}


# ----------------------------------------------------------------------------- raw POST
def _app(handler) -> Starlette:  # noqa: ANN001
    return Starlette(routes=[Route("/", handler, methods=["POST"])])


def test_post_sends_the_dskpp_media_type_and_reports_the_answer():
    received = {}

    async def echo(request):  # noqa: ANN001, ANN202
        received["type"] = request.headers["content-type"]
        received["body"] = await request.body()
        return Response(b"<answer/>", media_type=f"{MEDIA_TYPE}; charset=utf-8")

    with ServerThread(_app(echo)) as thread:
        role = DskppServerRole(adapter({"dskpp-server.endpoint": {**GOOD_ENDPOINT, "url": thread.url}})[0])
        answer = role.post(b"<request/>")
        role.close()
    assert received == {"type": MEDIA_TYPE, "body": b"<request/>"}
    assert answer.is_dskpp and answer.body == b"<answer/>" and answer.elapsed_s > 0


def test_post_timeout_and_refused_connection_are_harness_errors():
    async def slow(request):  # noqa: ANN001, ANN202
        await asyncio.sleep(2)
        return Response(b"")

    with ServerThread(_app(slow)) as thread:
        role = DskppServerRole(adapter({"dskpp-server.endpoint": {**GOOD_ENDPOINT, "url": thread.url}})[0])
        with pytest.raises(AdapterTimeout):
            role.post(b"x", timeout_s=0.3)
        role.close()
    closed = DskppServerRole(adapter({"dskpp-server.endpoint": {**GOOD_ENDPOINT, "url": thread.url}})[0])
    with pytest.raises(AdapterCrash):
        closed.post(b"x", timeout_s=2)


# ----------------------------------------------------------------------------- client role
GOOD_REPORT = {"status": "Success", "stored": True, "key_id": "K1", "fingerprint": "fp:1234",
               "hotp": ["755224", "287082", "359152"]}


def test_provision_passes_params_and_reads_the_report():
    live, fake = adapter({"dskpp-client.provision": GOOD_REPORT})
    report = DskppClientRole(live).provision(url="http://x/", authentication_code=AC, trigger_b64=b"<t/>")
    assert report == ProvisionReport("Success", True, "K1", "fp:1234", ("755224", "287082", "359152"))
    op, params = fake.calls[0]
    assert op == "dskpp-client.provision" and params["variant"] == "four-pass"
    assert base64.b64decode(params["trigger_b64"]) == b"<t/>"
    with pytest.raises(TypeError):
        DskppClientRole(live).provision(url="http://x/", colour="blue")


@pytest.mark.parametrize("bad", [
    {"stored": True}, {"status": "Success"}, {"status": "Success", "stored": "yes"},
    {"status": "Success", "stored": True}, {**GOOD_REPORT, "hotp": "755224"}, {**GOOD_REPORT, "key_id": 7},
], ids=["no-status", "no-stored", "stored-not-bool", "success-without-key", "hotp-not-list", "key-id-not-str"])
def test_provision_shape_errors_are_adapter_garbage(bad):
    with pytest.raises(AdapterGarbage):
        DskppClientRole(adapter({"dskpp-client.provision": bad})[0]).provision(url="http://x/")


def test_keys_are_checked_and_sorted():
    keys = {"keys": [{"key_id": "B", "fingerprint": "fp:2"}, {"key_id": "A", "fingerprint": "fp:1"}]}
    assert [k["key_id"] for k in DskppClientRole(adapter({"dskpp-client.keys": keys})[0]).keys()] == ["A", "B"]
    with pytest.raises(AdapterGarbage):
        DskppClientRole(adapter({"dskpp-client.keys": {"keys": [{"key_id": "A"}]}})[0]).keys()


def test_capability_names():
    assert capability("variant", "four-pass") == "dskpp.four-pass"
    assert capability("protection", "key-wrap") == "dskpp.two-pass.key-wrap"
    assert capability("encryption", "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p") == "dskpp.encryption.rsa-oaep"
    assert capability("mac", "urn:ietf:params:xml:ns:keyprov:dskpp:prf-sha256") == "dskpp.mac.prf-sha256"
    assert capability("trigger", "trigger") == "dskpp.trigger" and short_name("urn:x") == "urn:x"
    assert ServerEndpoint.from_result(GOOD_ENDPOINT, "fake").shared_key() is not None
