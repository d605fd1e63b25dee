"""The PSKC documents the schema and import suites read: the RFC 6030 figures carried in
vectors/pskc/rfc6030, and python-pskc's samples from ../shared (never copied here)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from harness.vectors import load_json, shared_dir, vector_path

SHARED_PSKC = "vectors-thirdparty/pskc"
SAMPLE_SUFFIXES = (".pskcxml", ".xml", ".txt", ".pskc")


@dataclass(frozen=True)
class Document:
    case_id: str
    path: Path
    origin: str  # "rfc6030" or "python-pskc"

    def read(self) -> bytes:
        return self.path.read_bytes()

    def __repr__(self) -> str:
        return f"Document({self.case_id})"


class IndexEntry(dict):
    """One entry of a vectors index (id, file, secrets, expected ...).  Reporters print
    parameters with repr: show the id, never the secrets it carries."""

    def __repr__(self) -> str:
        return f"IndexEntry({self['id']})"


@functools.lru_cache(maxsize=1)
def rfc_figures() -> tuple[Document, ...]:
    index = load_json("pskc/rfc6030/index.json")["vectors"]
    return tuple(Document(v["id"], vector_path(f"pskc/rfc6030/{v['file']}"), "rfc6030") for v in index)


@functools.lru_cache(maxsize=1)
def shared_samples() -> tuple[Document, ...]:
    """python-pskc's sample files, or () where ../shared is absent."""
    root = shared_dir()
    if root is None or not (root / SHARED_PSKC).is_dir():
        return ()
    base = root / SHARED_PSKC
    files = sorted(p for p in base.rglob("*") if p.is_file() and p.suffix in SAMPLE_SUFFIXES and p.name != "README.txt")
    return tuple(Document("python-pskc:" + p.relative_to(base).as_posix(), p, "python-pskc") for p in files)


def all_documents() -> tuple[Document, ...]:
    return rfc_figures() + shared_samples()
