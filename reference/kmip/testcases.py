"""Loader for the OASIS KMIP profile test cases (XML files of request/response pairs).

File format (see vectors-thirdparty/kmip/README.txt): root ``<KMIP>``, an OASIS header
comment, then alternating ``<RequestMessage>`` / ``<ResponseMessage>`` elements in the
KMIP XML encoding.  File names are ``<PROFILE>-<M|O>-<n>-<vv>.xml`` (M = mandatory,
O = optional, vv = 14 or 21); the folder (``1.4/`` or ``2.1/``) names the KMIP version.
Placeholders stay :class:`~.placeholders.Placeholder` values for a runner to bind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness.errors import InputError, ProtocolError
from reference.kmip.ttlv import Item
from reference.kmip.xml_encoding import from_xml_element, parse_xml_document

REQUEST_MESSAGE = 0x420078
RESPONSE_MESSAGE = 0x42007B
_NAME = re.compile(r"(?P<profile>.+)-(?P<level>[MO])-(?P<number>.+)-(?P<vv>\d\d)")
_VERSION_DIRS = {"1.4": (1, 4), "2.1": (2, 1)}


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and the response the test case expects to it."""

    index: int  # 0-based position in the file ("# TIME n" in the spec documents)
    request: Item
    response: Item
    request_line: int
    response_line: int


@dataclass(frozen=True, slots=True)
class OasisCase:
    """One OASIS test-case file."""

    name: str  # e.g. "SKLC-M-1-14"
    profile: str  # e.g. "SKLC", "CS-AC", "MSGENC-JSON"
    version: tuple[int, int]
    mandatory: bool
    path: Path
    exchanges: tuple[Exchange, ...]

    @property
    def level(self) -> str:
        return "mandatory" if self.mandatory else "optional"

    @property
    def version_text(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


def default_vectors_dir() -> Path | None:
    """``../shared/vectors-thirdparty/kmip`` next to the project, or None when absent."""
    try:  # the project-wide helper, where it exists
        from harness.vectors import shared_dir  # type: ignore[import-not-found]

        base = shared_dir()
        candidate = Path(base) / "vectors-thirdparty" / "kmip" if base is not None else None
    except ImportError:
        candidate = Path(__file__).resolve().parents[2] / ".." / "shared" / "vectors-thirdparty" / "kmip"
    return candidate.resolve() if candidate is not None and candidate.is_dir() else None


def load_case(path: Path | str, *, version: tuple[int, int] | None = None, placeholders: bool = True) -> OasisCase:
    """Parse one test-case file; ``version`` defaults to the one its folder names."""
    path = Path(path)
    m = _NAME.fullmatch(path.stem)
    if m is None:
        raise InputError("file name is not <PROFILE>-<M|O>-<n>-<vv>.xml", where=str(path))
    if version is None:
        version = _VERSION_DIRS.get(path.parent.parent.name) or (int(m["vv"][0]), int(m["vv"][1]))
    if (int(m["vv"][0]), int(m["vv"][1])) != version:
        raise InputError(f"file name says KMIP {m['vv'][0]}.{m['vv'][1]}, loading as {version}", where=str(path))
    try:
        root = parse_xml_document(path.read_bytes())
        if root.tag != "KMIP":
            raise InputError(f"root element is <{root.tag}>, expected <KMIP>", where=f"{path}:{root.sourceline}")
        elements = [el for el in root if isinstance(el.tag, str)]
        messages = [(el, from_xml_element(el, version=version, placeholders=placeholders)) for el in elements]
    except ProtocolError as exc:
        raise InputError(f"not a KMIP XML test case: {exc}", where=str(path)) from exc
    except OSError as exc:
        raise InputError(f"cannot read test case: {exc.strerror}", where=str(path)) from exc
    exchanges = []
    for i in range(0, len(messages), 2):
        (req_el, request), pair = messages[i], messages[i + 1 : i + 2]
        if request.tag != REQUEST_MESSAGE:
            raise InputError(f"expected <RequestMessage>, found <{req_el.tag}>", where=f"{path}:{req_el.sourceline}")
        if not pair or pair[0][1].tag != RESPONSE_MESSAGE:
            found = f"<{pair[0][0].tag}>" if pair else "end of file"
            raise InputError(f"request without a <ResponseMessage> (found {found})", where=f"{path}:{req_el.sourceline}")
        exchanges.append(Exchange(i // 2, request, pair[0][1], req_el.sourceline, pair[0][0].sourceline))
    if not exchanges:
        raise InputError("test case holds no request/response pair", where=str(path))
    return OasisCase(
        name=path.stem,
        profile=m["profile"],
        version=version,
        mandatory=m["level"] == "M",
        path=path,
        exchanges=tuple(exchanges),
    )


def load_cases(
    root: Path | str | None = None, versions: tuple[str, ...] = ("1.4", "2.1"), *, placeholders: bool = True
) -> list[OasisCase]:
    """Every ``<root>/<version>/**/*.xml`` (mandatory/, optional/), sorted by version and path."""
    base = Path(root) if root is not None else default_vectors_dir()
    if base is None or not base.is_dir():
        raise InputError("OASIS KMIP test-case folder not found", where=str(root) if root else None)
    cases = []
    for v in versions:
        if v not in _VERSION_DIRS:
            raise InputError(f"no OASIS test cases for KMIP {v} (have {', '.join(_VERSION_DIRS)})")
        for path in sorted((base / v).rglob("*.xml")):
            cases.append(load_case(path, version=_VERSION_DIRS[v], placeholders=placeholders))
    return cases
