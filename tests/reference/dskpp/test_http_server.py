"""HTTP binding of the DSKPP server (RFC 6063 §7.2), with a stand-in engine.

The engine is replaced by a recorder so these tests check only the binding's own rules:
§7.2.1 media type, §7.2.2 response headers, §7.2.3 POST only, §7.2.4 status codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from reference.dskpp.http_client import REQUEST_HEADERS
from reference.dskpp.http_server import ServerThread, create_app
from reference.dskpp.messages import MEDIA_TYPE, Status


@dataclass(frozen=True)
class _Outcome:
    http_status: int
    body: bytes
    status: Status | None = None
    session_id: str | None = None
    reason: str = "stand-in"
    provisioned: None = None
    content_type: str = MEDIA_TYPE


class _Engine:
    def __init__(self, outcome: _Outcome | None = None, fail: bool = False) -> None:
        self.bodies: list[bytes] = []
        self.outcome = outcome or _Outcome(200, b"<answer/>", Status.CONTINUE, "s1")
        self.fail = fail

    def handle(self, body: bytes) -> _Outcome:
        self.bodies.append(body)
        if self.fail:
            raise RuntimeError("engine bug")
        return self.outcome


@pytest.fixture()
def serve():
    threads: list[ServerThread] = []

    def start(engine: _Engine, **kw) -> str:
        thread = ServerThread(create_app(engine, **kw)).start()
        threads.append(thread)
        return thread.url

    yield start
    for thread in threads:
        thread.stop()


def test_post_reaches_the_engine_and_answers_with_section_7_2_2_headers(serve) -> None:
    engine = _Engine()
    url = serve(engine)
    response = httpx.post(url, content=b"<hello/>", headers=REQUEST_HEADERS)
    assert response.status_code == 200
    assert response.content == b"<answer/>"
    assert response.headers["content-type"].split(";")[0] == MEDIA_TYPE
    assert response.headers["cache-control"] == "no-cache, no-must-revalidate, private"
    assert response.headers["pragma"] == "no-cache"
    assert "etag" not in response.headers and "last-modified" not in response.headers
    assert engine.bodies == [b"<hello/>"]


def test_other_media_type_is_400_and_never_reaches_the_engine(serve) -> None:
    engine = _Engine()
    url = serve(engine)
    response = httpx.post(url, content=b"<hello/>", headers={"Content-Type": "text/xml"})
    assert response.status_code == 400
    assert engine.bodies == []


def test_media_type_parameters_are_allowed(serve) -> None:
    engine = _Engine()
    url = serve(engine)
    response = httpx.post(url, content=b"<x/>", headers={"Content-Type": MEDIA_TYPE + "; charset=utf-8"})
    assert response.status_code == 200


def test_relaxed_media_type_check(serve) -> None:
    engine = _Engine()
    url = serve(engine, strict_content_type=False)
    assert httpx.post(url, content=b"<x/>", headers={"Content-Type": "text/plain"}).status_code == 200


def test_get_is_405(serve) -> None:
    url = serve(_Engine())
    assert httpx.get(url).status_code == 405


def test_engine_400_has_no_body(serve) -> None:
    url = serve(_Engine(_Outcome(400, b"ignored")))
    response = httpx.post(url, content=b"junk", headers=REQUEST_HEADERS)
    assert response.status_code == 400 and response.content == b""


def test_engine_exception_is_500_without_details(serve) -> None:
    url = serve(_Engine(fail=True))
    response = httpx.post(url, content=b"<x/>", headers=REQUEST_HEADERS)
    assert response.status_code == 500
    assert b"engine bug" not in response.content


def test_oversized_body_is_cut_at_limit_plus_one(serve) -> None:
    engine = _Engine()
    url = serve(engine, max_body=1000)
    httpx.post(url, content=b"a" * 50_000, headers=REQUEST_HEADERS)
    assert len(engine.bodies[0]) == 1001  # enough for the engine's size check to refuse it
