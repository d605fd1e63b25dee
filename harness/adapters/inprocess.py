"""In-process transport: an adapter that is a Python object in the lab's own process.

The object's operations are methods marked with ``@operation("<role>.<op>")``; each takes
the params dict and returns a result dict.  Raising a ``ProtocolError`` or ``InputError``
is a clean refusal; raising ``Unsupported`` declines; any other exception is a fault of
the implementation.  Calls run on a worker thread when a timeout applies, so a hung
library costs one thread, not the run.
"""

from __future__ import annotations

import contextvars
import threading
from typing import Any, Callable

from harness.errors import AdapterTimeout, HarnessError, InputError, ProtocolError, Unsupported

DEFAULT_TIMEOUT_S = 60.0


def operation(name: str) -> Callable[[Callable[..., dict]], Callable[..., dict]]:
    def mark(fn: Callable[..., dict]) -> Callable[..., dict]:
        fn._kplab_operation = name  # type: ignore[attr-defined]
        return fn

    return mark


def operations_of(obj: Any) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
    table = {}
    for attr in dir(type(obj)):
        fn = getattr(type(obj), attr, None)
        name = getattr(fn, "_kplab_operation", None)
        if name:
            table[name] = getattr(obj, attr)
    return table


class InProcessTransport:
    def __init__(self, adapter: str, implementation: Any, default_timeout_s: float | None = DEFAULT_TIMEOUT_S) -> None:
        self.adapter = adapter
        self.implementation = implementation
        self._table = operations_of(implementation)
        self._default_timeout_s = default_timeout_s

    def request(self, op: str, params: dict[str, Any], timeout_s: float | None) -> dict[str, Any]:
        fn = self._table.get(op)
        if fn is None:
            return {"unsupported": f"no operation {op}"}
        timeout_s = timeout_s if timeout_s is not None else self._default_timeout_s
        if timeout_s is None:
            return _answer(fn, params)
        box: list[dict[str, Any]] = []
        ctx = contextvars.copy_context()
        worker = threading.Thread(target=lambda: box.append(ctx.run(_answer, fn, params)), daemon=True)
        worker.start()
        worker.join(timeout_s)
        if not box:
            raise AdapterTimeout(f"{op} did not return within {timeout_s:g}s", adapter=self.adapter)
        return box[0]

    def close(self) -> None:
        close = getattr(self.implementation, "close", None)
        if callable(close):
            close()


def _answer(fn: Callable[[dict[str, Any]], dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    try:
        return {"result": fn(params)}
    except Unsupported as exc:
        return {"unsupported": str(exc)}
    except HarnessError:
        raise  # e.g. a wrapped tool timing out: the lab's failure, not the implementation's
    except ProtocolError as exc:
        return {"refused": {"status": exc.status, "message": str(exc)}}
    except InputError as exc:
        return {"refused": {"status": type(exc).__name__, "message": str(exc)}}
    except Exception as exc:  # noqa: BLE001 - any other exception is the implementation's fault
        return {"fault": {"type": type(exc).__name__, "message": str(exc)}}
