"""Network endpoint adapters: the harness starts a server on a free loopback port, waits
until it answers, and reports a server that dies before it is ready."""

from __future__ import annotations

import sys

import httpx
import pytest

from harness.adapters.registry import load_description, open_adapter, probe
from harness.errors import AdapterCrash, AdapterUnavailable


def _description(tmp_path, start: list[str], ready_timeout: float = 15.0):
    path = tmp_path / "server.toml"
    start_list = ", ".join(f'"{part}"' for part in start)
    path.write_text(
        'name = "toy-server"\nroles = ["dskpp-server"]\n[transport]\nkind = "endpoint"\n'
        'url = "http://{host}:{port}/"\n'
        f"start = [{start_list}]\n"
        f"ready_timeout = {ready_timeout}\n"
    )
    return load_description(path)


def test_started_server_is_ready_and_probe_passes(tmp_path):
    (tmp_path / "index.html").write_text("hello from the server under test")
    spec = _description(tmp_path, [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(tmp_path), "{port}"])
    adapter = open_adapter(spec)
    try:
        url = adapter.endpoint.url
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(url + "index.html").text == "hello from the server under test"
        assert probe(adapter).outcome == "ok"  # endpoints answer JSON operations "unsupported"
    finally:
        adapter.close()
    with pytest.raises(httpx.HTTPError):
        httpx.get(url, timeout=1.0)  # the harness stopped the server it started


def test_server_dying_before_ready_is_a_crash_with_its_output(tmp_path):
    spec = _description(tmp_path, [sys.executable, "-c", "import sys; print('cannot bind'); sys.exit(4)"])
    with pytest.raises(AdapterCrash, match="code 4.*cannot bind"):
        open_adapter(spec)


def test_server_never_ready_is_unavailable(tmp_path):
    spec = _description(tmp_path, [sys.executable, "-c", "import time; time.sleep(30)"], ready_timeout=1.0)
    with pytest.raises(AdapterUnavailable, match="not ready"):
        open_adapter(spec)
