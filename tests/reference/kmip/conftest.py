"""Shared fixtures for the KMIP codec tests: where the OASIS material lives (or skip)."""

from __future__ import annotations

from pathlib import Path

import pytest


def shared_dir() -> Path | None:
    """/work/shared (../shared next to the project), via harness.vectors when it exists."""
    try:
        from harness.vectors import shared_dir as project_shared_dir  # type: ignore[import-not-found]

        found = project_shared_dir()
        return Path(found) if found is not None else None
    except ImportError:
        candidate = (Path(__file__).resolve().parents[3] / ".." / "shared").resolve()
        return candidate if candidate.is_dir() else None


def _need(relative: str) -> Path:
    base = shared_dir()
    path = base / relative if base is not None else None
    if path is None or not path.exists():
        pytest.skip(f"needs ../shared/{relative} (OASIS KMIP material, not part of the project)")
    return path


@pytest.fixture(scope="session")
def kmip_specs_dir() -> Path:
    return _need("specs/kmip")


@pytest.fixture(scope="session")
def kmip_vectors_dir() -> Path:
    return _need("vectors-thirdparty/kmip")


@pytest.fixture(scope="session")
def oasis_cases(kmip_vectors_dir: Path) -> list:
    from reference.kmip.testcases import load_cases

    return load_cases(kmip_vectors_dir)
