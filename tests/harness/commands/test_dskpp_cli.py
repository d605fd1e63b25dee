"""kplab serve dskpp / kplab dskpp issue-ac|trigger|provision|keys, as a user runs them.

One real server process (``kplab serve dskpp`` on a free loopback port, SQLite file) is
shared by the module; the other commands run in-process through ``harness.cli.main``.
Expectations come from the RFC (AC format §3.2.1, trigger §4.2.1) and from the stores
themselves (the key the token store holds equals the server's), not from the CLI's text.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
from lxml import etree

from harness import exitcodes
from harness.adapters.endpoint import free_port
from harness.cli import main
from reference.dskpp.authcode import format_authentication_code, parse_authentication_code
from reference.dskpp.messages import DSKPP_NS
from reference.dskpp.store_sqlite import SqliteServerStore, SqliteTokenStore
from reference.otp.hotp import hotp

PSK_HEX = "000102030405060708090a0b0c0d0e0f"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("serve-dskpp")
    config = folder / "policy.toml"
    config.write_text(f'[keys]\nshared = {{ "PSK-1" = "{PSK_HEX}" }}\n', encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "serve", "dskpp", "--port", "0", "--db",
                             str(folder / "server.db"), "--config", str(config), "--ready-file", str(folder / "url"),
                             "--log-file", str(folder / "requests.log")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not (folder / "url").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("kplab serve dskpp did not start: " + (proc.stdout.read().decode() if proc.stdout else ""))
        time.sleep(0.05)
    yield (folder / "url").read_text().strip(), folder, config
    proc.terminate()
    out = proc.communicate(timeout=10)[0].decode()
    assert "listening on http://127.0.0.1:" in out


def _issue(served, client_id: str, capsys) -> str:
    _, folder, config = served
    assert main(["dskpp", "issue-ac", "--client-id", client_id, "--db", str(folder / "server.db"),
                 "--config", str(config)]) == exitcodes.OK
    return capsys.readouterr().out.strip()


def _provision(served, capsys, *args: str) -> tuple[int, dict]:
    url, folder, _ = served
    code = main(["dskpp", "provision", url, "--token-db", str(folder / "tokens.db"), "--json", *args])
    out = capsys.readouterr().out.strip()
    return code, json.loads(out.splitlines()[-1]) if out else {}


def _same_key_on_both_sides(served, key_id: str) -> bytes:
    _, folder, _ = served
    with closing(SqliteServerStore(folder / "server.db")) as store, closing(SqliteTokenStore(folder / "tokens.db")) as tokens:
        server_key, token_key = store.get_key(key_id), tokens.get_key(key_id)
    assert server_key is not None and token_key is not None
    assert server_key.secret == token_key.secret
    assert hotp(server_key.secret, 0) == hotp(token_key.secret, 0)
    return token_key.secret


def test_issue_ac_prints_a_section_3_2_1_code_and_stores_it(served, capsys) -> None:
    code = _issue(served, "c0ffee01", capsys)
    parsed = parse_authentication_code(code)
    assert parsed.client_id == "c0ffee01" and len(parsed.password) >= 8
    with closing(SqliteServerStore(served[1] / "server.db")) as store:
        assert store.get_authentication_code("c0ffee01").password == parsed.password


@pytest.mark.parametrize("args", [["--variant", "four-pass"],
                                  ["--variant", "two-pass", "--protection", "key-transport"],
                                  ["--variant", "two-pass", "--protection", "key-wrap", "--shared-key", PSK_HEX,
                                   "--shared-key-name", "PSK-1"]], ids=["four-pass", "two-pass-transport", "two-pass-wrap"])
def test_provision_stores_the_servers_key_and_prints_only_its_fingerprint(served, capsys, args) -> None:
    code = _issue(served, f"a{len(args):07x}", capsys)
    status, out = _provision(served, capsys, "--ac", code, *args)
    assert status == exitcodes.OK and out["status"] == "Success"
    secret = _same_key_on_both_sides(served, out["key_id"])
    assert out["fingerprint"].startswith("fp:") and "secret_hex" not in out
    assert secret.hex() not in json.dumps(out)


def test_reveal_secret_prints_the_key(served, capsys) -> None:
    status, out = _provision(served, capsys, "--ac", _issue(served, "b0000001", capsys), "--reveal-secret")
    assert status == exitcodes.OK
    assert bytes.fromhex(out["secret_hex"]) == _same_key_on_both_sides(served, out["key_id"])


def test_a_used_code_is_refused_with_exit_1(served, capsys) -> None:
    code = _issue(served, "b0000002", capsys)
    assert _provision(served, capsys, "--ac", code)[0] == exitcodes.OK
    status, out = _provision(served, capsys, "--ac", code)
    assert status == exitcodes.FAILURES and out["status"] == "AuthenticationDataInvalid"


def test_trigger_then_provision(served, capsys, tmp_path: Path) -> None:
    url, folder, config = served
    trigger = tmp_path / "trigger.xml"
    assert main(["dskpp", "trigger", "--client-id", "b0000003", "--db", str(folder / "server.db"), "--config",
                 str(config), "--server-url", url, "-o", str(trigger)]) == exitcodes.OK
    root = etree.fromstring(trigger.read_bytes())
    assert root.tag == f"{{{DSKPP_NS}}}KeyProvTrigger"
    assert root.find(f".//{{{DSKPP_NS}}}ServerUrl").text == url
    status, out = _provision(served, capsys, "--trigger", str(trigger))
    assert status == exitcodes.OK
    _same_key_on_both_sides(served, out["key_id"])


def test_keys_lists_fingerprints_never_secrets(served, capsys) -> None:
    status, out = _provision(served, capsys, "--ac", _issue(served, "b0000004", capsys), "--reveal-secret")
    assert main(["dskpp", "keys", "--token-db", str(served[1] / "tokens.db"), "--json"]) == exitcodes.OK
    listed = json.loads(capsys.readouterr().out)
    assert {"key_id": out["key_id"], "algorithm": out["algorithm"], "fingerprint": out["fingerprint"]} in listed
    assert out["secret_hex"] not in json.dumps(listed)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--ac", "x", "--shared-key", "zz"], "--shared-key: not hex"),
        (["--ac", "x", "--variant", "two-pass", "--protection", "key-wrap"], "needs --shared-key"),
        (["--ac", "x", "--variant", "two-pass", "--protection", "passphrase"], "needs --passphrase"),
        (["--ac", "x", "--protection", "key-wrap"], "belong to --variant two-pass"),
        ([], "give --ac or --trigger"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(capsys, args: list[str], fragment: str) -> None:
    assert main(["dskpp", "provision", "http://127.0.0.1:9/", *args]) == exitcodes.USAGE
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_mistyped_code_is_a_usage_error(served, capsys) -> None:
    code = _issue(served, "b0000005", capsys)
    typo = code[:-1] + ("0" if code[-1] != "0" else "1")
    url, folder, _ = served
    assert main(["dskpp", "provision", url, "--token-db", str(folder / "tokens.db"), "--ac", typo]) == exitcodes.USAGE
    assert "checksum" in capsys.readouterr().err


def test_unreachable_server_is_a_harness_error(capsys, tmp_path: Path) -> None:
    ac = format_authentication_code("1234", "12345678", with_checksum=True)
    code = main(["dskpp", "provision", f"http://127.0.0.1:{free_port()}/", "--ac", ac,
                 "--token-db", str(tmp_path / "t.db")])
    assert code == exitcodes.HARNESS
    assert "cannot reach" in capsys.readouterr().err


def test_serve_refuses_a_missing_db_folder(capsys, tmp_path: Path) -> None:
    assert main(["serve", "dskpp", "--port", "0", "--db", str(tmp_path / "no" / "s.db")]) == exitcodes.USAGE
    assert "--db does not exist" in capsys.readouterr().err


def test_serve_refuses_a_bad_port(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["serve", "dskpp", "--port", "70000"])
    assert info.value.code == exitcodes.USAGE
    assert "not a port number" in capsys.readouterr().err
