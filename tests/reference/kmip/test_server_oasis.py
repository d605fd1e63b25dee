"""The reference KMIP server against the OASIS profile test cases (../shared/vectors-thirdparty/kmip):
for the cases within its scope (symmetric key lifecycle and foundry, baseline, AES
block ciphers, message encodings, tape library, Suite B discovery), every exchange must
end with the Result Status and Result Reason of every Batch Item the case expects.

This is a status-level check of the engine on its own; the field-by-field comparison
with the Profiles' tolerances is the kmip.testcases suite (reference/kmip/compare.py).
Placeholders are bound the simple way: a placeholder in an expected response takes the
value at the same place of the actual response; $NOW is the engine's clock.
"""

from __future__ import annotations


from reference.kmip.placeholders import Placeholder, resolve_placeholders, typed_dummy
from reference.kmip.ttlv import Item, ItemType, decode, encode
from reference.kmip.vocab import Tag, enum_name
from tests.reference.kmip.server_helpers import NOW, new_engine

IN_SCOPE = {
    "1.4": ["SKLC-M-1", "SKLC-M-2", "SKLC-M-3", "SKLC-O-1", "SKFF-M-1", "SKFF-M-2", "SKFF-M-3", "SKFF-M-4", "SKFF-M-5",
            "SKFF-M-6", "SKFF-M-7", "SKFF-M-8", "SKFF-M-9", "SKFF-M-10", "SKFF-M-11", "SKFF-M-12", "CS-BC-M-1",
            "CS-BC-M-2", "CS-BC-M-3", "CS-BC-M-4", "CS-BC-M-5", "CS-BC-M-6", "CS-BC-M-7", "CS-BC-M-8", "CS-BC-M-9",
            "CS-BC-M-10", "CS-BC-M-11", "CS-BC-M-12", "CS-BC-M-14", "CS-BC-M-GCM-2", "MSGENC-HTTPS-M-1",
            "MSGENC-JSON-M-1", "MSGENC-XML-M-1", "OMOS-M-1", "OMOS-O-1", "SASED-M-1", "SASED-M-2", "SUITEB_128-M-1",
            "SUITEB_192-M-1", "TL-M-1", "TL-M-2", "AX-M-1"],
    "2.1": ["SKLC-M-1", "SKLC-M-2", "SKLC-M-3", "SKLC-O-1", "BL-M-4", "BL-M-5", "BL-M-6", "BL-M-7", "BL-M-8", "BL-M-9",
            "BL-M-11", "BL-M-12", "BL-M-13", "SKFF-M-1", "SKFF-M-2", "SKFF-M-3", "SKFF-M-4", "SKFF-M-5", "SKFF-M-6",
            "SKFF-M-7", "SKFF-M-8", "SKFF-M-9", "SKFF-M-10", "SKFF-M-11", "SKFF-M-12", "CS-BC-M-1", "CS-BC-M-2",
            "CS-BC-M-3", "CS-BC-M-4", "CS-BC-M-5", "CS-BC-M-6", "CS-BC-M-7", "CS-BC-M-8", "CS-BC-M-9", "CS-BC-M-10",
            "CS-BC-M-11", "CS-BC-M-12", "CS-BC-M-13", "CS-BC-M-14", "CS-BC-M-GCM-2", "MSGENC-HTTPS-M-1",
            "MSGENC-JSON-M-1", "MSGENC-XML-M-1", "OMOS-M-1", "OMOS-O-1", "QS-M-1", "SASED-M-1", "SASED-M-2", "TL-M-1",
            "TL-M-2", "AX-M-1"],
}


def _bind(expected: Item, actual: Item, bound: dict[str, object]) -> None:
    if isinstance(expected.value, Placeholder):
        bound.setdefault(expected.value.text, actual.value)
        return
    if expected.type is ItemType.STRUCTURE and actual.type is ItemType.STRUCTURE:
        remaining = list(actual.items)
        for child in expected.items:
            match = next((a for a in remaining if a.tag == child.tag), None)
            if match is not None:
                remaining.remove(match)
                _bind(child, match, bound)


def _statuses(message: Item) -> list[tuple[str, str | None]]:
    out = []
    for item in message.find_all(Tag.BATCH_ITEM):
        status, reason = item.find(Tag.RESULT_STATUS), item.find(Tag.RESULT_REASON)
        out.append((enum_name("Result Status", status.value), enum_name("Result Reason", reason.value) if reason else None))
    return out


def _selected(cases):
    wanted = {f"{name}-{v.replace('.', '')}" for v, names in IN_SCOPE.items() for name in names}
    return [c for c in cases if c.name in wanted]


def test_every_selected_case_exists(oasis_cases):
    assert len(_selected(oasis_cases)) == sum(len(v) for v in IN_SCOPE.values())


def test_engine_passes_the_in_scope_cases(oasis_cases):
    failures = []
    for case in _selected(oasis_cases):
        engine = new_engine()
        bound: dict[str, object] = {}

        def resolve(ph: Placeholder, item_type: ItemType, tag: int) -> object:
            if ph.text in bound:
                return bound[ph.text]
            if ph.name == "NOW":
                return NOW + ph.offset
            return typed_dummy(ph, item_type, tag)

        for exchange in case.exchanges:
            actual = decode(engine.handle(encode(resolve_placeholders(exchange.request, resolve))))
            _bind(exchange.response, actual, bound)
            if _statuses(actual) != _statuses(exchange.response):
                failures.append(f"{case.name} #{exchange.index}: expected {_statuses(exchange.response)}, got {_statuses(actual)}")
                break
    assert not failures, "\n".join(failures)
