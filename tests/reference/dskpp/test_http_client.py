"""HTTP binding of the DSKPP client (RFC 6063 §7.2.2, §7.2.4), against httpx mock transports."""

from __future__ import annotations

import httpx
import pytest

from harness.adapters.endpoint import free_port
from harness.errors import AdapterUnavailable
from reference.dskpp.http_client import HttpAnswerError, HttpPoster
from reference.dskpp.messages import MEDIA_TYPE


def test_poster_returns_the_dskpp_body_and_sends_requester_headers() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"<r/>", headers={"Content-Type": MEDIA_TYPE})

    poster = HttpPoster("http://dskpp.test/", client=httpx.Client(transport=httpx.MockTransport(handler)))
    assert poster(b"<q/>") == b"<r/>"
    headers = seen[0].headers
    assert headers["cache-control"] == "no-cache, no-store" and headers["pragma"] == "no-cache"
    assert headers["content-type"] == MEDIA_TYPE and seen[0].method == "POST"


@pytest.mark.parametrize(
    ("status", "media", "expected"),
    [(403, MEDIA_TYPE, "HTTP 403"), (500, MEDIA_TYPE, "HTTP 500"), (400, "", "HTTP 400"), (200, "text/html", "HTTP 200")],
)
def test_poster_refuses_answers_without_a_dskpp_message(status: int, media: str, expected: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=b"<html/>", headers={"Content-Type": media} if media else {})

    poster = HttpPoster("http://dskpp.test/", client=httpx.Client(transport=httpx.MockTransport(handler)))
    with pytest.raises(HttpAnswerError) as info:
        poster(b"<q/>")
    assert info.value.status == expected
    assert info.value.spec.startswith("RFC 6063 §7.2")


def test_poster_unreachable_server_is_a_harness_error() -> None:
    with HttpPoster(f"http://127.0.0.1:{free_port()}/", timeout_s=2) as poster:
        with pytest.raises(AdapterUnavailable):
            poster(b"<q/>")
