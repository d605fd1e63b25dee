"""Parametrisation of the PSKC suites by the run's profile (quick or full)."""

from __future__ import annotations

import pytest

from suites.pskc import matrix


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "protection" in metafunc.fixturenames:
        quick = metafunc.config.getoption("kplab_profile") == "quick"
        chosen = matrix.quick_protections() if quick else None
        items = [p for p in matrix.protections("any", rsa=matrix.rsa_material()) if chosen is None or p.case_id in chosen]
        metafunc.parametrize("protection", items, ids=[p.case_id for p in items])
    if "profile" in metafunc.fixturenames:
        items = list(matrix.profiles())
        metafunc.parametrize("profile", items, ids=[p.name for p in items])
