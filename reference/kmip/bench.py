"""Throughput of our TTLV codec against PyKMIP's, on OASIS test-case messages.

A measuring function, not a test: the CLI wiring comes later.  The message set is every
KMIP 1.4 OASIS message (placeholders replaced by typed dummies) that PyKMIP can read and
write back byte-identically, so both codecs process exactly the same bytes.  PyKMIP
decodes into its typed message classes (``kmip.core.messages.messages``), we into
:class:`~.ttlv.Item` trees; each side encodes its own decoded form.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from reference.kmip.placeholders import resolve_placeholders, typed_dummy
from reference.kmip.testcases import REQUEST_MESSAGE, load_cases
from reference.kmip.ttlv import Item, decode, encode


@dataclass(frozen=True)
class CodecFigures:
    codec: str
    messages: int  # distinct messages in the set
    total_bytes: int  # TTLV bytes of one pass over the set
    encode_per_second: float  # messages encoded per second
    decode_per_second: float
    encode_mb_per_second: float  # TTLV megabytes (10**6) produced per second
    decode_mb_per_second: float


@dataclass(frozen=True)
class BenchResult:
    ours: CodecFigures
    pykmip: CodecFigures | None  # None when PyKMIP is not installed
    skipped: int  # 1.4 messages left out because PyKMIP cannot round-trip them
    note: str

    @property
    def encode_speedup(self) -> float | None:
        return self.ours.encode_per_second / self.pykmip.encode_per_second if self.pykmip else None

    @property
    def decode_speedup(self) -> float | None:
        return self.ours.decode_per_second / self.pykmip.decode_per_second if self.pykmip else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ours": vars(self.ours),
            "pykmip": vars(self.pykmip) if self.pykmip else None,
            "skipped": self.skipped,
            "encode_speedup": self.encode_speedup,
            "decode_speedup": self.decode_speedup,
            "note": self.note,
        }


def _rate(run: Callable[[], None], count: int, min_seconds: float, clock: Callable[[], float]) -> float:
    """Messages per second: repeat ``run`` (one pass over ``count`` messages) for ``min_seconds``."""
    passes = 0
    start = clock()
    while True:
        run()
        passes += 1
        elapsed = clock() - start
        if elapsed >= min_seconds:
            return passes * count / elapsed


def _pykmip_pairs(items: list[Item]) -> tuple[list[tuple[bytes, Any]], int]:
    """(bytes, PyKMIP message object) for the messages PyKMIP round-trips exactly."""
    from kmip.core import enums, utils
    from kmip.core.messages import messages

    version = enums.KMIPVersion.KMIP_1_4
    pairs, skipped = [], 0
    logging.getLogger("kmip").setLevel(logging.CRITICAL)
    for item in items:
        data = encode(item)
        message = messages.RequestMessage() if item.tag == REQUEST_MESSAGE else messages.ResponseMessage()
        try:
            message.read(utils.BytearrayStream(data), kmip_version=version)
            out = utils.BytearrayStream()
            message.write(out, kmip_version=version)
        except Exception:  # PyKMIP lacks the operation/attribute: not part of the set
            skipped += 1
            continue
        if bytes(out.buffer) != data:
            skipped += 1  # PyKMIP rewrites it differently (e.g. custom attributes): not comparable
            continue
        pairs.append((data, message))
    return pairs, skipped


def run_benchmark(
    *,
    root: Path | str | None = None,
    min_seconds: float = 0.5,
    limit: int | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> BenchResult:
    """Measure encode and decode throughput of both codecs (about 4 x ``min_seconds``)."""
    items = [
        resolve_placeholders(m, typed_dummy)
        for case in load_cases(root, versions=("1.4",))
        for exchange in case.exchanges
        for m in (exchange.request, exchange.response)
    ]
    try:
        pairs, skipped = _pykmip_pairs(items)
        have_pykmip = True
    except ImportError:
        pairs, skipped, have_pykmip = [(encode(i), None) for i in items], 0, False
    if limit is not None:
        pairs = pairs[:limit]
    blobs = [data for data, _ in pairs]
    ours_items = [decode(data) for data in blobs]
    total = sum(len(b) for b in blobs)
    n = len(blobs)

    def figures(codec: str, enc: float, dec: float) -> CodecFigures:
        return CodecFigures(codec, n, total, enc, dec, enc * total / n / 1e6, dec * total / n / 1e6)

    ours = figures(
        "keyprov-lab reference.kmip.ttlv",
        _rate(lambda: [encode(i) for i in ours_items], n, min_seconds, clock),
        _rate(lambda: [decode(b) for b in blobs], n, min_seconds, clock),
    )
    theirs = None
    if have_pykmip:
        from kmip.core import enums, utils
        from kmip.core.messages import messages

        version = enums.KMIPVersion.KMIP_1_4

        def pykmip_encode() -> None:
            for _, message in pairs:
                message.write(utils.BytearrayStream(), kmip_version=version)

        def pykmip_decode() -> None:
            for data, message in pairs:
                fresh = messages.RequestMessage() if isinstance(message, messages.RequestMessage) else messages.ResponseMessage()
                fresh.read(utils.BytearrayStream(data), kmip_version=version)

        import kmip

        theirs = figures(
            f"PyKMIP {getattr(kmip, '__version__', '?')} kmip.core.messages",
            _rate(pykmip_encode, n, min_seconds, clock),
            _rate(pykmip_decode, n, min_seconds, clock),
        )
    note = (
        f"{n} KMIP 1.4 OASIS messages ({total} TTLV bytes per pass), placeholders replaced by typed dummies; "
        f"{skipped} messages PyKMIP cannot round-trip were left out"
        if have_pykmip
        else "PyKMIP not installed: only our codec measured"
    )
    return BenchResult(ours, theirs, skipped, note)
