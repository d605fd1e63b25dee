"""The DSKPP protocol suites catch known bugs, each with the case named for it.

tests/harness/doubles/dskpp_doubles.py plants one bug each into the reference server and
client.  One pytest run of suites/dskpp (a subprocess, as ``kplab run`` does it) drives
the reference adapters and the four doubles, through description files, over the four
named cases; then:

* every double FAILs its named case (both variants) and passes the other cases - except
  where its bug really is caught twice: storing before the MAC check also replaces the key
  before a two-pass renewal's server authentication MAC is checked;
* the reference server and client pass all of them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOUBLES = ROOT / "tests" / "harness" / "doubles" / "dskpp_doubles.py"
CAPABILITIES = ["dskpp.four-pass", "dskpp.two-pass.key-transport", "dskpp.two-pass.key-wrap",
                "dskpp.two-pass.passphrase", "dskpp.encryption.*", "dskpp.mac.*", "dskpp.key-type.hotp",
                "dskpp.key-type.totp", "dskpp.trigger", "dskpp.renewal"]
CAUGHT_BY = {  # double -> (role, bug, the case that must catch it)
    "double-replay-server": ("dskpp-server", "accept-replayed-nonce", "dskpp.protocol.server/replayed-nonce"),
    "double-skip-ad-server": ("dskpp-server", "skip-ad-check", "dskpp.protocol.server/bad-authentication-data"),
    "double-store-before-mac-client": ("dskpp-client", "store-before-mac", "dskpp.protocol.client/wrong-key-confirmation-mac"),
    "double-ignore-server-mac-client": ("dskpp-client", "ignore-server-mac", "dskpp.protocol.client/wrong-server-auth-mac"),
}
ALSO_CAUGHT = {"double-store-before-mac-client": {"dskpp.protocol.client/wrong-server-auth-mac[dskpp_client="
                                                  "double-store-before-mac-client,variant=two-pass]"}}
SELECTED = "replayed_nonce or bad_authentication_data or wrong_key_confirmation_mac or wrong_server_auth_mac"


def _description(folder: Path, name: str, role: str, bug: str) -> Path:
    mode = "server-adapter" if role == "dskpp-server" else "client"
    command = json.dumps([sys.executable, str(DOUBLES), mode, bug])
    path = folder / f"{name}.toml"
    path.write_text(
        f'name = "{name}"\nroles = ["{role}"]\ncapabilities = {json.dumps(CAPABILITIES)}\nthird_party = false\n'
        f'[transport]\nkind = "shim"\ncommand = {command}\ntimeout = 60\n', encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> list[dict]:
    folder = tmp_path_factory.mktemp("dskpp-doubles")
    out = folder / "results.json"
    command = [sys.executable, "-m", "pytest", "suites/dskpp/test_protocol_server.py", "suites/dskpp/test_protocol_client.py",
               "-c", "suites/pytest.ini", "-p", "no:cacheprovider", "--import-mode=importlib", "-q", "-k", SELECTED,
               "--kplab-adapter", "reference-dskpp-server", "--kplab-adapter", "reference-dskpp-client",
               "--kplab-results", str(out)]
    for name, (role, bug, _) in CAUGHT_BY.items():
        command += ["--kplab-adapter-file", str(_description(folder, name, role, bug)), "--kplab-adapter", name]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.is_file(), f"the suite run wrote no results (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return json.loads(out.read_text(encoding="utf-8"))["cases"]


def _outcomes(results: list[dict], adapter: str) -> dict[str, str]:
    return {c["id"]: c["outcome"] for c in results if adapter in c["adapters"].values()}


@pytest.mark.parametrize("double", list(CAUGHT_BY))
def test_double_is_caught_by_its_named_case(results, double):
    _, _, named = CAUGHT_BY[double]
    outcomes = _outcomes(results, double)
    assert len(outcomes) == 4, outcomes  # two cases of its role, two variants each
    failed = {case_id for case_id, outcome in outcomes.items() if outcome == "fail"}
    caught = {case_id for case_id in failed if case_id.startswith(named + "[")}
    assert len(caught) == 2, f"both variants of {named} must catch {double}: {outcomes}"
    assert failed - caught == ALSO_CAUGHT.get(double, set()), outcomes
    others = {case_id: o for case_id, o in outcomes.items() if case_id not in failed}
    assert set(others.values()) == {"pass"}, others


@pytest.mark.parametrize("reference", ["reference-dskpp-server", "reference-dskpp-client"])
def test_reference_passes_the_named_cases(results, reference):
    outcomes = _outcomes(results, reference)
    assert len(outcomes) == 4 and set(outcomes.values()) == {"pass"}, outcomes


def test_failure_reason_names_the_defect(results):
    """The verdict a vendor reads says what went wrong, not only that something did."""
    reasons = {c["id"]: c["reason"] for c in results if c["outcome"] == "fail"}
    replay = [r for i, r in reasons.items() if "replayed-nonce" in i]
    assert replay and all("Success" in r for r in replay), replay
    stored = [r for i, r in reasons.items() if "wrong-key-confirmation-mac" in i]
    assert stored and all("stored a key" in r for r in stored), stored
