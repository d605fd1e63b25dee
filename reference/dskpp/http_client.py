"""HTTP/1.1 binding of the DSKPP client (RFC 6063 §7.2): an httpx poster.

``HttpPoster(url)`` is the ``post(request_body) -> response_body`` callable that
``reference.dskpp.client.run`` drives.  It sends §7.2.2's requester headers and checks
the answer the way §7.2.4 describes it:

* 200 with Content-Type application/dskpp+xml: the body is the DSKPP response;
* 200 with another media type, 4xx or 5xx: no DSKPP message came back ("the content of
  the HTTP body is not significant"), raised as ``HttpAnswerError`` (a ProtocolError
  whose status is "HTTP <code>", so a vendor's 500 shows as its answer, not ours);
* 3xx: followed, as §7.2.4 says redirection applies as usual (at most 5 hops);
* no answer at all (refused connection, timeout): ``AdapterUnavailable`` /
  ``AdapterTimeout``, the harness branch: an unreachable server is not non-conformance.
"""

from __future__ import annotations

import httpx

from harness.errors import AdapterTimeout, AdapterUnavailable, ProtocolError
from reference.dskpp.messages import MEDIA_TYPE

REQUEST_HEADERS = {  # §7.2.2 requesters SHOULD send these; Accept per §7.2.2 content negotiation
    "Content-Type": MEDIA_TYPE,
    "Accept": MEDIA_TYPE,
    "Cache-Control": "no-cache, no-store",
    "Pragma": "no-cache",
}
MAX_RESPONSE = 1 << 20  # our reference never needs more; a peer sending more is refused


class HttpAnswerError(ProtocolError):
    """The HTTP answer carried no DSKPP message (RFC 6063 §7.2.4)."""


class HttpPoster:
    """POST DSKPP requests to ``url`` over one httpx connection pool."""

    def __init__(self, url: str, *, timeout_s: float = 30.0, client: httpx.Client | None = None,
                 peer: str | None = None) -> None:
        self.url = url
        self.peer = peer or url
        self._own = client is None
        self._client = client or httpx.Client(timeout=timeout_s, follow_redirects=True, max_redirects=5)
        self.exchanges: list[tuple[int, int]] = []  # (HTTP status, response octets) per request, for evidence

    def __call__(self, body: bytes) -> bytes:
        try:
            with self._client.stream("POST", self.url, content=body, headers=REQUEST_HEADERS) as response:
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > MAX_RESPONSE:
                        raise HttpAnswerError(f"response body over {MAX_RESPONSE} octets", status="MalformedResponse",
                                              spec="RFC 6063 §7.2", where=self.url)
        except httpx.TimeoutException:
            raise AdapterTimeout(f"no answer from {self.url} in time", adapter=self.peer) from None
        except httpx.TooManyRedirects:
            raise HttpAnswerError("too many redirects", status="HTTP 3xx", spec="RFC 6063 §7.2.4", where=self.url) from None
        except httpx.HTTPError as exc:
            raise AdapterUnavailable(f"cannot reach {self.url}: {type(exc).__name__}", adapter=self.peer) from None
        self.exchanges.append((response.status_code, len(data)))
        if response.status_code != 200:
            raise HttpAnswerError(f"server answered HTTP {response.status_code} without a DSKPP message",
                                  status=f"HTTP {response.status_code}", spec="RFC 6063 §7.2.4", where=self.url)
        media = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media != MEDIA_TYPE:
            raise HttpAnswerError(f"200 answer with content type {media or 'none'!r}, not {MEDIA_TYPE}",
                                  status="HTTP 200", spec="RFC 6063 §7.2.1", where=self.url)
        return bytes(data)

    def close(self) -> None:
        if self._own:
            self._client.close()

    def __enter__(self) -> "HttpPoster":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
