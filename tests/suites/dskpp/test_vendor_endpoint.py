"""A DSKPP server described only as a network endpoint (a vendor's URL, claims and an AC
command in ``[options]``, no JSON operations) runs through the server suites.

The server is the reference one (started here); the description file knows it only by
URL.  Cases needing the optional operations (key lookup, triggers) are UNSUPPORTED rather
than failing, and everything else passes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.adapters.dskpp import ReferenceDskppServer

ROOT = Path(__file__).resolve().parents[3]
ISSUER = """import sys, secrets
from datetime import datetime, timezone
from reference.dskpp.config import load_policy
from reference.dskpp.server import DskppServer
from reference.dskpp.store_sqlite import SqliteServerStore
store = SqliteServerStore(sys.argv[2])
server = DskppServer(load_policy(sys.argv[3]), store, clock=lambda: datetime.now(timezone.utc), random=secrets.token_bytes)
print(server.issue_authentication_code(sys.argv[1] or None))
store.close()
"""
SELECTED = "four_pass_mac or bad_authentication_data or unsupported_version or renewal or trigger or key_confirmation"


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> list[dict]:
    folder = tmp_path_factory.mktemp("vendor-endpoint")
    server = ReferenceDskppServer()
    try:
        claims = server.endpoint({})
        (folder / "issue_ac.py").write_text(ISSUER, encoding="utf-8")
        options = {k: v for k, v in claims.items() if k != "url"}
        options["ac_command"] = [sys.executable, "issue_ac.py", "{client_id}", str(server.db), str(server.config)]
        lines = ['name = "vendor-endpoint"', 'roles = ["dskpp-server"]', 'capabilities = ["dskpp.renewal"]',
                 "[transport]", 'kind = "endpoint"', f"url = {json.dumps(claims['url'])}", "[options]"]
        lines += [f"{k} = {json.dumps(v)}" for k, v in options.items() if not isinstance(v, dict)]
        lines += [f"{k} = {{ {', '.join(f'{json.dumps(n)} = {json.dumps(x)}' for n, x in v.items())} }}"
                  for k, v in options.items() if isinstance(v, dict)]
        description = folder / "vendor.toml"
        description.write_text("\n".join(lines) + "\n", encoding="utf-8")
        out = folder / "results.json"
        command = [sys.executable, "-m", "pytest", "suites/dskpp/test_protocol_server.py",
                   "-c", "suites/pytest.ini", "-p", "no:cacheprovider", "--import-mode=importlib", "-q",
                   "-k", SELECTED, "--kplab-adapter-file", str(description), "--kplab-adapter", "vendor-endpoint",
                   "--kplab-results", str(out)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert out.is_file(), f"no results (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}"
        return json.loads(out.read_text(encoding="utf-8"))["cases"]
    finally:
        server.close()


def test_endpoint_described_server_passes_what_it_can_be_asked(results):
    outcomes = {c["id"]: c["outcome"] for c in results}
    assert outcomes and "fail" not in outcomes.values() and "error" not in outcomes.values(), outcomes
    passed = [i for i, o in outcomes.items() if o == "pass"]
    assert any("bad-authentication-data" in i for i in passed) and any("renewal" in i for i in passed), outcomes


def test_optional_operations_are_unsupported_not_failures(results):
    outcomes = {c["id"]: c["outcome"] for c in results}
    triggers = [o for i, o in outcomes.items() if "/trigger" in i]
    assert triggers and set(triggers) == {"unsupported"}, outcomes
    confirmation = [c for c in results if "key-confirmation" in c["id"]]
    notes = " ".join(e["content"] for c in confirmation for e in c["evidence"])
    assert "dskpp-server.key unsupported" in notes
