"""Hostile-input-safe XML reading for PSKC documents.

PSKC files come from vendors and over networks; they must never make us fetch a URL,
expand an entity, follow a DTD or hold an unbounded amount of memory.  Everything goes
through one lxml ``iterparse`` with DTD loading, entity resolution and network access
off, and ``huge_tree`` off (libxml2's own 10 MB text-node cap stays on).  On top:

* any DOCTYPE is refused (looked for in the prolog before parsing, and checked again
  on the parsed root), since PSKC never needs one;
* the total input size is capped (``max_bytes``), counted while reading;
* element nesting is capped (``max_depth``).

Every problem becomes ``UnsafeInput`` (hostile structure) or ``MalformedInput`` (not
well-formed XML) naming what and where; lxml exceptions never escape.
"""

from __future__ import annotations

import io
import os
from typing import IO, Iterator, Union

from lxml import etree

from harness.errors import MalformedInput, UnsafeInput

from .model import RawXML

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_DEPTH = 64
_PROLOG_PEEK = 64 * 1024
SPEC = "RFC 6030 §13 (security considerations); XML 1.0 §2.8"

Source = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", IO[bytes]]

_PARSER_OPTIONS = dict(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    attribute_defaults=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
    recover=False,
)


def where(element: etree._Element) -> str:
    line = getattr(element, "sourceline", None)
    try:
        name = etree.QName(element).localname if isinstance(element.tag, str) else "?"
    except ValueError:  # lxml hands back odd tags on broken input, e.g. '<pskc:' (found by fuzzing)
        name = str(element.tag)[:40]
    return f"<{name}> line {line}" if line else f"<{name}>"


class _BoundedReader:
    """File-like wrapper counting bytes; refuses to read past ``max_bytes``."""

    def __init__(self, raw: IO[bytes], max_bytes: int | None, label: str) -> None:
        self._raw = raw
        self._max = max_bytes
        self._label = label
        self._head = b""
        self.count = 0

    def peek(self, n: int) -> bytes:
        while len(self._head) < n:
            chunk = self._raw.read(n - len(self._head))
            if not chunk:
                break
            self._head += chunk
        return self._head[:n]

    def read(self, n: int = -1) -> bytes:
        if self._head:
            data, self._head = (self._head, b"") if n < 0 or n >= len(self._head) else (
                self._head[:n], self._head[n:])
        else:
            data = self._raw.read(n)
        self.count += len(data)
        if self._max is not None and self.count > self._max:
            raise UnsafeInput(
                f"document larger than the {self._max} octet limit",
                status="pskc.too-large", spec=SPEC, where=self._label,
            )
        return data


def _open(source: Source, max_bytes: int | None) -> tuple[_BoundedReader, bool]:
    """(reader, close_after) for bytes, a path or a binary file object."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if max_bytes is not None and len(data) > max_bytes:
            raise UnsafeInput(
                f"document of {len(data)} octets exceeds the {max_bytes} octet limit",
                status="pskc.too-large", spec=SPEC,
            )
        return _BoundedReader(io.BytesIO(data), max_bytes, "input"), False
    if isinstance(source, (str, os.PathLike)):
        return _BoundedReader(open(source, "rb"), max_bytes, os.fspath(source)), True
    if hasattr(source, "read"):
        return _BoundedReader(source, max_bytes, "input"), False
    raise TypeError(f"cannot read XML from {type(source).__name__}")


def _prolog_text(head: bytes) -> str:
    """The first octets as text, for the DOCTYPE check (BOM / UTF-16 / UTF-32 aware)."""
    for bom, codec in (
        (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"), (b"\xef\xbb\xbf", "utf-8"),
    ):
        if head.startswith(bom):
            return head[len(bom):].decode(codec, errors="ignore")
    if head[:4] == b"\x00\x00\x00<":
        return head.decode("utf-32-be", errors="ignore")
    if head[:4] == b"<\x00\x00\x00":
        return head.decode("utf-32-le", errors="ignore")
    if head[:2] == b"\x00<":
        return head.decode("utf-16-be", errors="ignore")
    if head[:2] == b"<\x00":
        return head.decode("utf-16-le", errors="ignore")
    # ASCII-compatible encodings (UTF-8, ISO-8859-x): markup characters are ASCII.
    return head.decode("latin-1")


def _check_prolog(head: bytes) -> None:
    text = _prolog_text(head)
    pos = 0
    while True:
        start = text.find("<", pos)
        if start < 0:
            return  # root not within the peeked window; the parsed root is checked too
        rest = text[start:start + 9]
        if rest.startswith("<?"):
            pos = text.find("?>", start)
        elif rest.startswith("<!--"):
            pos = text.find("-->", start)
        elif rest.upper().startswith("<!DOCTYPE"):
            line = text.count("\n", 0, start) + 1
            raise UnsafeInput(
                "document type declaration (DOCTYPE) refused: PSKC needs no DTD and DTDs "
                "carry entity and external-reference attacks",
                status="pskc.dtd", spec=SPEC, where=f"line {line}",
            )
        else:
            return  # first element reached
        if pos < 0:
            return


def _syntax_error(exc: etree.XMLSyntaxError) -> Exception:
    message = str(exc.msg if hasattr(exc, "msg") and exc.msg else exc)
    line = getattr(exc, "lineno", None) or (exc.position[0] if getattr(exc, "position", None) else None)
    at = f"line {line}" if line else None
    lowered = message.lower()
    if any(w in lowered for w in ("excessive depth", "huge", "amplification", "entity", "too large")):
        return UnsafeInput(f"refused by the XML parser: {message}", status="pskc.unsafe-xml", spec=SPEC, where=at)
    return MalformedInput(f"not well-formed XML: {message}", status="pskc.not-xml", spec="XML 1.0", where=at)


def iter_events(
    source: Source,
    *,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Iterator[tuple[str, etree._Element, int]]:
    """(event, element, depth) for "start"/"end" events; depth 1 is the root.

    The caller may clear elements it has finished with (streaming).
    """
    reader, close = _open(source, max_bytes)
    try:
        _check_prolog(reader.peek(_PROLOG_PEEK))
        depth = 0
        events = etree.iterparse(reader, events=("start", "end"), **_PARSER_OPTIONS)
        try:
            for event, element in events:
                if event == "start":
                    depth += 1
                    if depth > max_depth:
                        raise UnsafeInput(
                            f"elements nested deeper than {max_depth}",
                            status="pskc.too-deep", spec=SPEC, where=where(element),
                        )
                    if depth == 1:
                        docinfo = element.getroottree().docinfo
                        if docinfo.internalDTD is not None or docinfo.doctype:
                            raise UnsafeInput("document type declaration (DOCTYPE) refused",
                                              status="pskc.dtd", spec=SPEC)
                    yield event, element, depth
                else:
                    yield event, element, depth
                    depth -= 1
        except etree.XMLSyntaxError as exc:
            raise _syntax_error(exc) from None
        except (LookupError, UnicodeError) as exc:  # unknown / broken encodings
            raise MalformedInput(f"cannot decode the document: {exc}", status="pskc.not-xml",
                                 spec="XML 1.0 §4.3.3") from None
        except ValueError as exc:  # lxml's own checks, e.g. "Invalid tag name" on a cut start tag (found by fuzzing)
            raise MalformedInput(f"not well-formed XML: {exc}", status="pskc.not-xml", spec="XML 1.0") from None
    finally:
        if close:
            reader._raw.close()


def parse(
    source: Source,
    *,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> etree._Element:
    """Parse a whole document safely; return its root element."""
    root = None
    for event, element, depth in iter_events(source, max_bytes=max_bytes, max_depth=max_depth):
        if depth == 1 and event == "start":
            root = element
    if root is None:  # pragma: no cover - lxml raises on empty input
        raise MalformedInput("empty document", status="pskc.not-xml", spec="XML 1.0")
    for element in root.iter():
        if not isinstance(element.tag, str):  # entity references left unexpanded
            raise UnsafeInput("entity reference refused", status="pskc.entity", spec=SPEC,
                              where=f"line {element.sourceline}")
    return root


def to_raw(element: etree._Element) -> RawXML:
    """Exclusive canonical form of an element (stable across re-parsing)."""
    try:
        xml = etree.tostring(element, method="c14n", exclusive=True, with_comments=False)
    except (etree.C14NError, ValueError) as exc:  # e.g. a relative namespace URI (found by fuzzing)
        raise MalformedInput(f"element cannot be canonicalised: {exc}", status="pskc.not-xml",
                             spec="Exclusive XML Canonicalization 1.0", where=where(element)) from None
    return RawXML(tag=element.tag, xml=xml)


def from_raw(raw: RawXML) -> etree._Element:
    """Element for a RawXML (parsed with the same safe options)."""
    parser = etree.XMLParser(**{k: v for k, v in _PARSER_OPTIONS.items()})
    try:
        return etree.fromstring(raw.xml, parser)
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc) from None
