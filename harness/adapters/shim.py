"""Subprocess shim transport: any command speaking JSON lines on stdin/stdout.

Protocol (docs/adapters.md has the full text and a worked example):

    lab -> shim   {"id": 7, "op": "pskc-consumer.decode", "params": {...}}\\n
    shim -> lab   {"id": 7, "result": {...}}\\n          (or "refused" / "fault" / "unsupported")

One request is outstanding at a time.  The process is started on first use and kept;
a call that times out kills the whole process group and the next call starts a fresh
one.  Everything the shim writes to stderr is kept as evidence of the call it came with.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections import deque
from typing import Any

from harness import evidence
from harness.adapters.base import ShimTransportSpec
from harness.errors import AdapterCrash, AdapterGarbage, AdapterTimeout, AdapterUnavailable

MAX_LINE_BYTES = 64 * 1024 * 1024
_EOF = object()


class ShimTransport:
    def __init__(self, adapter: str, spec: ShimTransportSpec) -> None:
        self.adapter = adapter
        self.spec = spec
        self._proc: subprocess.Popen[bytes] | None = None
        self._lines: queue.Queue[Any] = queue.Queue()
        self._stderr: deque[str] = deque(maxlen=2000)
        self._stderr_lock = threading.Lock()
        self._next_id = 1

    # ------------------------------------------------------------------ lifecycle
    def _start(self) -> subprocess.Popen[bytes]:
        env = {**os.environ, **self.spec.env}
        try:
            proc = subprocess.Popen(
                list(self.spec.command),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=self.spec.cwd,
                env=env,
                start_new_session=True,  # own process group: a timeout kills its children too
            )
        except OSError as exc:
            raise AdapterUnavailable(f"cannot start {self.spec.command[0]!r}: {exc.strerror or exc}", adapter=self.adapter) from exc
        self._lines = queue.Queue()
        threading.Thread(target=self._pump_stdout, args=(proc, self._lines), daemon=True).start()
        threading.Thread(target=self._pump_stderr, args=(proc,), daemon=True).start()
        self._proc = proc
        return proc

    def _pump_stdout(self, proc: subprocess.Popen[bytes], lines: queue.Queue[Any]) -> None:
        assert proc.stdout is not None
        while True:
            line = proc.stdout.readline(MAX_LINE_BYTES + 1)
            if not line:
                lines.put(_EOF)
                return
            lines.put(line)

    def _pump_stderr(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            with self._stderr_lock:
                self._stderr.append(raw.decode("utf-8", "replace"))

    def _take_stderr(self) -> str:
        with self._stderr_lock:
            text = "".join(self._stderr)
            self._stderr.clear()
        return text

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            try:
                if pipe:
                    pipe.close()
            except OSError:
                pass

    def close(self) -> None:
        proc = self._proc
        if proc is None:
            return
        try:
            if proc.stdin:
                proc.stdin.close()
            proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self._kill()

    # ------------------------------------------------------------------ calls
    def request(self, op: str, params: dict[str, Any], timeout_s: float | None) -> dict[str, Any]:
        timeout_s = timeout_s if timeout_s is not None else self.spec.timeout_s
        proc = self._proc if self._proc and self._proc.poll() is None else self._start()
        call_id = self._next_id
        self._next_id += 1
        try:
            line = json.dumps({"id": call_id, "op": op, "params": params}) + "\n"
            assert proc.stdin is not None
            proc.stdin.write(line.encode())
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the process died; reading below reports how
        try:
            return self._await(proc, call_id, op, timeout_s)
        finally:
            # Give the stderr pump a moment to catch what the call printed last.
            time.sleep(0.002)
            err = self._take_stderr()
            if err:
                evidence.attach("stderr", f"{self.adapter} stderr ({op})", err)

    def _await(self, proc: subprocess.Popen[bytes], call_id: int, op: str, timeout_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            try:
                item = self._lines.get(timeout=max(remaining, 0.0))
            except queue.Empty:
                self._kill()
                raise AdapterTimeout(f"{op} got no answer within {timeout_s:g}s; process killed", adapter=self.adapter) from None
            if item is _EOF:
                try:
                    code = proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    code = None
                time.sleep(0.05)
                tail = "".join(list(self._stderr)[-20:]).strip()
                self._kill()
                raise AdapterCrash(
                    f"process exited (code {code}) while answering {op}" + (f"; stderr: {tail[-500:]}" if tail else ""),
                    adapter=self.adapter,
                )
            answer = self._parse(item, op)
            got = answer.pop("id", None)
            if isinstance(got, int) and got < call_id:
                continue  # a late answer to a call that already timed out
            if got != call_id:
                self._kill()
                raise AdapterGarbage(f"answer to {op} has id {got!r}, expected {call_id}", adapter=self.adapter)
            return answer

    def _parse(self, raw: bytes, op: str) -> dict[str, Any]:
        if len(raw) > MAX_LINE_BYTES:
            self._kill()
            raise AdapterGarbage(f"answer to {op} exceeds {MAX_LINE_BYTES} bytes", adapter=self.adapter)
        try:
            answer = json.loads(raw)
        except ValueError:
            self._kill()
            raise AdapterGarbage(f"answer to {op} is not JSON: {raw[:200]!r}", adapter=self.adapter) from None
        if not isinstance(answer, dict):
            self._kill()
            raise AdapterGarbage(f"answer to {op} is not a JSON object: {raw[:200]!r}", adapter=self.adapter)
        return answer
