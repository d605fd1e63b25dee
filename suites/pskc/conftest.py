"""Parametrisation of the PSKC suites by the run's profile (quick or full)."""

from __future__ import annotations

import pytest

from suites.pskc import matrix


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    names = metafunc.fixturenames
    if "protection" not in names and "profile" not in names:
        return
    quick = metafunc.config.getoption("kplab_profile") == "quick"
    chosen = matrix.quick_protections() if quick else None
    protections = [p for p in matrix.protections("any", rsa=matrix.rsa_material()) if chosen is None or p.case_id in chosen]
    profiles = list(matrix.profiles())
    if "protection" in names and "profile" in names:
        # RFC 3394 key wrap cannot carry a secret that is not a multiple of 8 octets
        # (RFC 6030 §6.1): such combinations are outside the matrix and are tested as a
        # producer case of their own (test_negative.py).
        combos = [(f, p) for f in profiles for p in protections if matrix.combination_possible(f, p)]
        metafunc.parametrize("profile,protection", combos, ids=[f"{f.name}-{p.case_id}" for f, p in combos])
    elif "protection" in names:
        metafunc.parametrize("protection", protections, ids=[p.case_id for p in protections])
    else:
        metafunc.parametrize("profile", profiles, ids=[f.name for f in profiles])
