"""results.json: writing it atomically, reading it back with clear errors.

The document shape is ``harness/schemas/results.schema.json`` (docs/results.md).  Writing
validates against the schema first, so the lab never writes a file that ``kplab diff``
would then refuse; reading validates too, and every problem with a user-supplied file is
an ``InputError`` naming the file (and, for schema problems, the JSON path).
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Sequence

import jsonschema

from harness.errors import HarnessError, InputError
from harness.results import Outcome, RunResult, SCHEMA_VERSION

_MAX_MESSAGE = 200  # jsonschema messages repr the offending value, which can be huge


@lru_cache(maxsize=1)
def results_schema() -> dict[str, Any]:
    """The results.json schema (package data)."""
    text = resources.files("harness").joinpath("schemas/results.schema.json").read_text("utf-8")
    return json.loads(text)


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        results_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def schema_problem(document: Any) -> str | None:
    """``"<json path>: <message>"`` for the first schema violation of ``document``, or None.

    "First" is in document order (array indexes numerically), so the answer is stable.
    """
    errors = list(_validator().iter_errors(document))
    if not errors:
        return None
    first = min(errors, key=lambda e: (_path_key(e.absolute_path), e.message))
    message = first.message
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + "..."
    return f"{first.json_path}: {message}"


def _path_key(path: Iterable[Any]) -> tuple[tuple[int, Any], ...]:
    return tuple((0, p) if isinstance(p, int) else (1, str(p)) for p in path)


def consistency_problem(document: dict[str, Any]) -> str | None:
    """Checks the schema cannot express: unique case ids, summary agreeing with cases."""
    seen: set[str] = set()
    for index, case in enumerate(document["cases"]):
        if case["id"] in seen:
            return f"$.cases[{index}].id: duplicate case id {case['id']!r}"
        seen.add(case["id"])
    counts = {o.value: 0 for o in Outcome}
    for case in document["cases"]:
        counts[case["outcome"]] += 1
    summary = document["summary"]
    if summary["counts"] != counts or summary["total"] != len(document["cases"]):
        return "$.summary: counts do not agree with the cases (file edited or truncated?)"
    must = sum(1 for c in document["cases"] if c["level"] == "MUST" and c["outcome"] in ("fail", "xpass"))
    if summary["must_failures"] != must:
        return f"$.summary.must_failures: says {summary['must_failures']}, cases give {must}"
    return None


def write_results(run: RunResult, path: str | os.PathLike[str], *, validate: bool = True) -> Path:
    """Write ``run`` as results.json at ``path`` atomically; returns the path.

    A temp file in the same directory is written, fsynced and renamed over ``path``, so a
    reader (or a crash) sees the old file or the complete new one, never a partial one.
    With ``validate`` (the default) a document that does not match the schema raises
    ``HarnessError`` and nothing is written: that is a bug of the lab, not of the user.
    """
    target = Path(path)
    document = run.to_json()
    if validate:
        problem = schema_problem(document) or consistency_problem(document)
        if problem:
            raise HarnessError(f"refusing to write an invalid results document: {problem}", where=str(target))
    # allow_nan=False: NaN/Infinity are not JSON; better to fail here than in a reader.
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    target.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write_text(target, text)
    return target


def _atomic_write_text(target: Path, text: str) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.chmod(tmp_name, 0o644)  # mkstemp makes it private; results are meant to be shared
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(target.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); not possible on every platform."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_results(path: str | os.PathLike[str]) -> RunResult:
    """Read a results.json; every problem is an ``InputError`` naming the file."""
    source = Path(path)
    where = str(source)
    try:
        raw = source.read_bytes()
    except FileNotFoundError:
        raise InputError("results file not found", where=where) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a results.json file", where=where) from None
    except OSError as exc:
        raise InputError(f"cannot read results file: {exc.strerror or exc}", where=where) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start}), so not a results.json", where=where) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", where=where) from None
    except RecursionError:
        raise InputError("not a results document: JSON nested too deeply", where=where) from None
    if isinstance(document, dict) and document.get("schema_version") not in (None, SCHEMA_VERSION):
        raise InputError(
            f"schema_version {document.get('schema_version')!r} is not supported (this kplab reads {SCHEMA_VERSION})",
            where=where,
        )
    problem = schema_problem(document)
    if problem is None:
        problem = consistency_problem(document)
    if problem is not None:
        raise InputError(f"not a valid results document: {problem}", where=where)
    try:
        return RunResult.from_json(document)
    except (KeyError, TypeError, ValueError) as exc:  # schema should have caught it; be safe
        raise InputError(f"not a valid results document: {exc}", where=where) from None


def build_run_metadata(
    *,
    run_id: str,
    started: datetime,
    finished: datetime,
    duration_s: float,
    profile: str,
    argv: Sequence[str],
    suites: Sequence[str],
    adapters: Sequence[str],
    exit_status: int,
    kplab_version: str | None = None,
) -> dict[str, Any]:
    """The ``RunResult.run`` dict in the schema's shape, filling in the environment.

    ``started``/``finished`` must be timezone-aware (the schema requires an offset).
    """
    for label, moment in (("started", started), ("finished", finished)):
        if moment.tzinfo is None:
            raise ValueError(f"{label} must be timezone-aware")
    return {
        "id": run_id,
        "started": started.isoformat(),
        "finished": finished.isoformat(),
        "duration_s": float(duration_s),
        "kplab_version": kplab_version if kplab_version is not None else _kplab_version(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "profile": profile,
        "argv": list(argv),
        "suites": list(suites),
        "adapters": list(adapters),
        "exit_status": int(exit_status),
    }


def _kplab_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("keyprov-lab")
    except PackageNotFoundError:
        return "unknown (not installed)"


__all__ = [
    "build_run_metadata",
    "load_results",
    "results_schema",
    "schema_problem",
    "write_results",
]
