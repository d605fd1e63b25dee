"""Where test data lives, and reading it.

Two places: the project's own ``vectors/`` (RFC test values and examples, each naming its
RFC section) and the ``shared`` folder beside the repository (third parties' data that is
never copied into the project; absent on some machines, so callers skip when it is None).
Loaders for particular formats (PSKC, DSKPP, ...) belong here too, built on these.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePath
from typing import Any

from harness.errors import InputError

# harness/vectors.py -> the repository root is one level above the harness package.
REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path | None:
    """The ``shared`` folder beside the repository (``<repo>/../shared``), or None."""
    candidate = REPO_ROOT.parent / "shared"
    return candidate if candidate.is_dir() else None


def project_vectors_dir() -> Path:
    """The repository's ``vectors/`` folder."""
    return REPO_ROOT / "vectors"


def vector_path(relpath: str | PurePath) -> Path:
    """``vectors/<relpath>``; refuses paths that would leave ``vectors/``."""
    rel = PurePath(relpath)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise InputError(f"vector path must be relative to vectors/ without '..': {str(relpath)!r}", where="vectors")
    return project_vectors_dir() / rel


def load_json(relpath: str | PurePath) -> Any:
    """The parsed JSON of ``vectors/<relpath>``; InputError when missing or not JSON."""
    path = vector_path(relpath)
    where = f"vectors/{PurePath(relpath).as_posix()}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("vector file not found", where=where) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read vector file: {exc}", where=where) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", where=f"{where}:{exc.lineno}:{exc.colno}") from None
