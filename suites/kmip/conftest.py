"""Fixtures and collection hooks of the KMIP suites.

* ``testcase``: the OASIS test-case files (../shared/vectors-thirdparty/kmip, 1.4 and 2.1,
  mandatory and optional), one parameter each, named by file stem.  Without the shared
  folder a single ``None`` parameter makes the case skip with the reason.
* Each OASIS case gets its own case metadata: spec "KMIP Test Cases v<version> / <profile>",
  level MUST for a mandatory (-M-) file and SHOULD for an optional (-O-) one.  Why SHOULD:
  an optional case tests a feature a profile does not require, and a server that lacks it
  comes out UNSUPPORTED, not FAIL (see reference/kmip/compare.py); a server that does
  implement it and answers differently deviates from the published behaviour of that
  feature, which is more than a MAY.
* Order: the OASIS cases run before the protocol and fuzz suites on the same server, so
  the objects those suites leave behind cannot disturb the cases' Locate results.
* ``kmip``: the ``kmip_server`` adapter wrapped in harness.roles.kmip.KmipServer.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from harness.cases import case

OASIS_SPEC = "KMIP Test Cases v{version} / {profile}"
_MODULE_RANK = {"test_testcases.py": 0, "test_protocol.py": 1, "test_fuzz.py": 2}


@functools.lru_cache(maxsize=1)
def oasis_cases() -> tuple[object, ...]:
    """The OASIS cases, or () when ../shared is absent."""
    from reference.kmip.testcases import default_vectors_dir, load_cases

    folder = default_vectors_dir()
    return tuple(load_cases(folder)) if folder is not None else ()


MISSING_VECTORS = ("OASIS KMIP test cases not found: they are read from ../shared/vectors-thirdparty/kmip "
                   "beside the project (never copied into it)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "testcase" not in metafunc.fixturenames:
        return
    cases = oasis_cases()
    if not cases:
        metafunc.parametrize("testcase", [None], ids=["missing-vectors"])
        return
    metafunc.parametrize("testcase", cases, ids=[c.name for c in cases])  # type: ignore[attr-defined]


def _in_kmip_suites(item: pytest.Item) -> bool:
    return Path(str(item.path)).parent == Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mine = [i for i, item in enumerate(items) if _in_kmip_suites(item)]
    ordered = sorted((items[i] for i in mine), key=lambda it: _MODULE_RANK.get(Path(str(it.path)).name, 9))
    for slot, item in zip(mine, ordered):
        items[slot] = item
    for item in ordered:
        callspec = getattr(item, "callspec", None)
        testcase = callspec.params.get("testcase") if callspec is not None else None
        if testcase is None:
            continue
        spec = OASIS_SPEC.format(version=testcase.version_text, profile=testcase.profile)
        # Placed first, so harness.cases readers (get_closest_marker) see this case's own metadata.
        item.add_marker(case("oasis", spec=spec, level="MUST" if testcase.mandatory else "SHOULD",
                             subject="kmip_server"), append=False)


@pytest.fixture
def kmip(kmip_server):  # type: ignore[no-untyped-def]
    """The server under test as a harness.roles.kmip.KmipServer."""
    from harness.roles.kmip import KmipServer

    return KmipServer(kmip_server)
