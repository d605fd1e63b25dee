"""Per-case evidence collection.

The pytest plugin opens a recorder around each case; adapters and suites add to it from
anywhere through the module functions (a context variable finds the open recorder, so
suites need not pass it around).  When no recorder is open the functions do nothing.
Redaction happens once, when the case closes.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from harness import redaction
from harness.results import Evidence

MAX_EVIDENCE_CHARS = 200_000  # per item; a runaway transcript must not bloat the report


@dataclass
class Recorder:
    transcript: list[dict[str, Any]] = field(default_factory=list)
    items: list[Evidence] = field(default_factory=list)
    secrets: set[bytes] = field(default_factory=set)

    def finish(self, reveal: bool) -> tuple[tuple[Evidence, ...], Callable[[str], str]]:
        """The case's evidence, redacted unless ``reveal``, and the redactor used, so the
        case's reason line gets the same treatment."""
        items = list(self.items)
        if self.transcript:
            items.insert(0, Evidence("transcript", "adapter calls", json.dumps(self.transcript, indent=1), "application/json"))
        if reveal:
            return tuple(_cap(e) for e in items), lambda text: text
        found = set(self.secrets)
        structured = [
            Evidence(e.kind, e.name, _redact_json(e.content, found), e.media_type, e.encoding)
            if e.media_type == "application/json"
            else e
            for e in items
        ]
        redacted = tuple(
            _cap(Evidence(e.kind, e.name, redaction.redact_text(e.content, found), e.media_type, e.encoding))
            if e.encoding == "utf-8"
            else _cap(e)
            for e in structured
        )
        return redacted, lambda text: redaction.redact_text(text, found)


def _redact_json(content: str, found: set[bytes]) -> str:
    try:
        data = json.loads(content)
    except ValueError:
        return content
    return json.dumps(redaction.redact_structure(data, found), indent=1)


def _cap(item: Evidence) -> Evidence:
    if len(item.content) <= MAX_EVIDENCE_CHARS:
        return item
    cut = len(item.content) - MAX_EVIDENCE_CHARS
    return Evidence(item.kind, item.name, item.content[:MAX_EVIDENCE_CHARS] + f"\n... [{cut} characters cut]", item.media_type, item.encoding)


_current: contextvars.ContextVar[Recorder | None] = contextvars.ContextVar("kplab_evidence", default=None)


def open_recorder() -> tuple[Recorder, contextvars.Token]:
    recorder = Recorder()
    return recorder, _current.set(recorder)


def close_recorder(token: contextvars.Token) -> None:
    _current.reset(token)


@contextlib.contextmanager
def suspended() -> Iterator[None]:
    """Record nothing inside the block (adapter start-up inside a case's setup)."""
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)


def current() -> Recorder | None:
    return _current.get()


def secret(value: bytes | str) -> None:
    """Register key material so it is redacted wherever it shows up in this case."""
    rec = _current.get()
    if rec is not None and value:
        rec.secrets.add(value.encode() if isinstance(value, str) else bytes(value))


def attach(kind: str, name: str, content: str | bytes, media_type: str = "text/plain") -> None:
    rec = _current.get()
    if rec is None:
        return
    if isinstance(content, bytes):
        try:
            rec.items.append(Evidence(kind, name, content.decode("utf-8"), media_type))
        except UnicodeDecodeError:
            rec.items.append(Evidence(kind, name, base64.b64encode(content).decode(), media_type, "base64"))
    else:
        rec.items.append(Evidence(kind, name, content, media_type))


def record_call(adapter: str, op: str, params: dict[str, Any]) -> None:
    rec = _current.get()
    if rec is not None:
        rec.transcript.append({"adapter": adapter, "op": op, "params": readable(params)})


def record_answer(adapter: str, op: str, answer: Any, seconds: float) -> None:
    rec = _current.get()
    if rec is not None:
        rec.transcript.append({"adapter": adapter, "op": op, "answer": readable(answer), "seconds": round(seconds, 6)})


def readable(data: Any) -> Any:
    """Show base64 members that hold text (XML documents) as text, so a reader can follow
    them and so textual redaction can find key material inside them."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key.endswith("_b64") and key not in redaction.SECRET_MEMBERS and isinstance(value, str):
                try:
                    out[key[:-4] + "_text"] = base64.b64decode(value, validate=True).decode("utf-8")
                    continue
                except (ValueError, UnicodeDecodeError):
                    pass
            out[key] = readable(value)
        return out
    if isinstance(data, list):
        return [readable(v) for v in data]
    return data
