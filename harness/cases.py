"""How suites declare cases and what a case may raise.

    from harness.cases import case, require

    @case("consume-plaintext", spec="RFC 6030 §4", level="MUST", subject="pskc_consumer")
    def test_consume_plaintext(pskc_consumer, vector): ...

``case`` attaches the stable case name, the spec reference and the requirement level; the
suite name comes from the module's place under suites/ (suites/pskc/test_schema.py is
suite ``pskc.schema``) unless the module sets ``KPLAB_SUITE``.  ``subject`` names the role
fixture whose adapter the case judges (the interop matrix column); by default the only
role fixture the test uses.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.adapters.base import Adapter
from harness.errors import KplabError, Unsupported
from harness.results import Level


class NonConformance(KplabError):
    """Raised by a suite when an implementation does not do what the standard requires.

    Same outcome as a failed ``assert`` (FAIL), with a sentence meant for a vendor.
    """


def case(name: str, *, spec: str, level: str | Level, subject: str | None = None) -> Any:
    level = Level(level)
    if not name or "/" in name or "[" in name:
        raise ValueError(f"case name {name!r} must be non-empty without '/' or '['")
    return pytest.mark.kplab_case(name=name, spec=spec, level=level.value, subject=subject)


def require(adapter: Adapter, *capabilities: str) -> None:
    """Declare that a case needs capabilities; an adapter without them is UNSUPPORTED."""
    missing = [c for c in capabilities if not adapter.spec.has(c)]
    if missing:
        raise Unsupported(
            f"{adapter.name} does not declare {', '.join(missing)}",
            adapter=adapter.name,
            operation="capability " + ",".join(missing),
        )


def nonconformance(message: str) -> NonConformance:
    return NonConformance(message)
