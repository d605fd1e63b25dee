"""kplab pskc validate | decode | encode.

Expectations come from RFC 6030 (its figures, the plaintext and credentials its text
gives, the requirement each check cites) and from python-pskc reading our output; none is
a value the code under test produced.  ``kplab()`` runs ``python -m harness.cli`` in a
subprocess (exit status, one line on stderr, no traceback, nothing on stdout for a
refusal); ``cli()`` calls ``harness.cli.main`` in this process for the many cases that
only need the exit code and output, because each validate process spends over a second
compiling the schema.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness import exitcodes
from harness.cli import main
from harness.vectors import REPO_ROOT, vector_path

RFC = vector_path("pskc/rfc6030")
SECRET_HEX = "3132333435363738393031323334353637383930"  # RFC 6030 §6.1 / §6.2: plaintext of <Secret>
FIGURE6_KEY = "12345678901234567890123456789012"  # RFC 6030 §6.1, Figure 6 pre-shared key
FIGURE7_PASSWORD = "qwerty"  # RFC 6030 §6.2, Figure 7
WRONG_KEY = "00112233445566778899aabbccddeeff"


def kplab(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", "pskc", *map(str, args)], capture_output=True,
                          text=True, timeout=120, cwd=REPO_ROOT, **kwargs)


def cli(capsys, *args) -> tuple[int, str, str]:
    """``kplab pskc ARGS`` in this process: (exit code, stdout, stderr)."""
    try:
        code = main(["pskc", *map(str, args)])
    except SystemExit as exc:  # argparse errors
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def figure(n: int) -> str:
    return (RFC / f"figure{n}.xml").read_text(encoding="utf-8")


def swap(text: str, old: str, new: str, count: int = -1) -> str:
    assert old in text, f"mutation does not apply: {old!r}"  # a crafted document must really differ
    return text.replace(old, new, count)


def drop(text: str, pattern: str) -> str:
    out, n = re.subn(pattern, "", text, flags=re.S)
    assert n, f"mutation does not apply: {pattern!r}"
    return out


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


FIG6_SECRET_CV = "AAECAwQFBgcICQoLDA0OD+cIHItlB3Wra1DUpxVvOx2lef1VmNPCMl8jwZqIUqGv"  # 16-octet IV + 32 octets
FIG6_MAC = "Su+NvtQfmvfJzF6bmQiJqoLRExc="
KW = lambda text: swap(text, "xmlenc#aes128-cbc", "xmlenc#kw-aes128")  # noqa: E731 - MAC key and secret alike


# --------------------------------------------------------------------------- schema verdicts (subprocess)
def test_figure8_is_invalid_per_both_validators():
    # RFC 6030 Figure 8 writes id="KC0001" on <KeyContainer>; the §11 schema has 'Id'.
    proc = kplab("validate", RFC / "figure8.xml", "--json")
    assert proc.returncode == exitcodes.FAILURES, proc.stderr
    report = json.loads(proc.stdout)
    assert report["valid"] is False
    assert report["schema"]["libxml2"]["valid"] is False and report["schema"]["xmlschema"]["valid"] is False
    assert report["schema"]["verdict"] == "invalid"
    codes = {(f["code"], f["level"], f["source"]) for f in report["findings"]}
    assert ("pskc.schema-invalid", "MUST", "schema") in codes
    assert ("pskc.id-spelling", "MUST", "codec") in codes  # the decoder's own finding, reused


def test_figure7_split_verdict():
    # xmlschema has no PKCS #5 schema for <pkcs5:PBKDF2-params>; libxml2 skips it (lax).
    proc = kplab("validate", RFC / "figure7.xml", "--json")
    report = json.loads(proc.stdout)
    schema = report["schema"]
    assert schema["libxml2"]["valid"] is True and schema["xmlschema"]["valid"] is False
    assert schema["verdict"] == "split" and schema["policy"] == "both"
    split = [f for f in report["findings"] if f["code"] == "pskc.schema-split"]
    assert split and split[0]["level"] == "INFO" and "pkcs-5v2-0" in split[0]["message"]
    # Not the schema but §10.1 makes Figure 7 fail: its HOTP key has no <Counter> ("MUST be provided").
    must = {(f["code"], f["spec"]) for f in report["findings"] if f["level"] == "MUST"}
    assert must == {("pskc.hotp.counter", "RFC 6030 §10.1")}
    assert proc.returncode == exitcodes.FAILURES


def test_split_gates_under_schema_policy_any(capsys):
    code, out, _ = cli(capsys, "validate", RFC / "figure7.xml", "--json", "--schema-policy", "any")
    split = [f for f in json.loads(out)["findings"] if f["code"] == "pskc.schema-split"]
    assert split[0]["level"] == "MUST" and code == exitcodes.FAILURES


def test_cli_offers_the_codec_schema_policies():
    from harness.commands.pskc import SCHEMA_POLICIES
    from reference.pskc.validation import POLICIES

    assert SCHEMA_POLICIES == POLICIES  # duplicated so that `kplab --help` need not load the codec


@pytest.mark.parametrize("n", [3, 4, 5, 6, 9, 10])
def test_rfc_figures_that_meet_every_must(capsys, n):
    code, out, err = cli(capsys, "validate", RFC / f"figure{n}.xml")
    assert code == exitcodes.OK, out + err
    assert ": valid (0 MUST," in out.splitlines()[0]


def test_figure2_breaks_the_hotp_profile(capsys):
    # §10.1: HOTP secret >= 16 octets, <Counter> and <ResponseFormat> required; Figure 2
    # shows a 4-octet secret ("1234") and neither element.
    code, out, _ = cli(capsys, "validate", RFC / "figure2.xml", "--json")
    assert code == exitcodes.FAILURES
    found = {(f["code"], f["level"], f["spec"]) for f in json.loads(out)["findings"]}
    assert ("pskc.hotp.secret-length", "MUST", "RFC 6030 §10.1") in found
    assert ("pskc.hotp.counter", "MUST", "RFC 6030 §10.1") in found


def test_not_xml_and_hostile_xml_are_invalid_not_usage_errors(tmp_path, capsys):
    garbage = tmp_path / "garbage.xml"
    garbage.write_bytes(b"<KeyContainer")
    bomb = tmp_path / "bomb.xml"
    bomb.write_bytes(b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                     b'<KeyContainer xmlns="urn:ietf:params:xml:ns:keyprov:pskc" Version="1.0">&b;</KeyContainer>')
    proc = kplab("validate", bomb, "--json")
    assert proc.returncode == exitcodes.FAILURES and "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    assert report["schema"]["verdict"] == "not-run"
    assert [f["code"] for f in report["findings"]] == ["pskc.dtd"]
    code, out, _ = cli(capsys, "validate", garbage, "--json")
    assert code == exitcodes.FAILURES
    assert [f["code"] for f in json.loads(out)["findings"]] == ["pskc.not-xml"]


def test_validate_bad_arguments_exit_2(tmp_path, capsys):
    proc = kplab("validate", tmp_path / "absent.xml")
    assert proc.returncode == exitcodes.USAGE
    assert "absent.xml" in one_line_error(proc)
    code, _, err = cli(capsys, "validate", RFC / "figure6.xml", "--key", "not-hex")
    assert code == exitcodes.USAGE and "--key" in one_line(err)
    code, _, err = cli(capsys, "validate", RFC / "figure6.xml", "--key", FIGURE6_KEY, "--password", "x")
    assert code == exitcodes.USAGE and "not allowed with" in one_line(err)


def test_validate_with_credentials_checks_decryption(capsys):
    code, out, _ = cli(capsys, "validate", RFC / "figure6.xml", "--key", FIGURE6_KEY, "--json")
    report = json.loads(out)
    assert code == exitcodes.OK and report["decryption_checked"] is True
    assert not [f for f in report["findings"] if f["source"] == "decryption"]
    assert FIGURE6_KEY not in out and SECRET_HEX not in out


# --------------------------------------------------------------------------- semantic checks (in-process)
# (rule code, expected level, expected section, figure, mutation, extra arguments)
CRAFTED = [
    ("pskc.duplicate-id", "MUST", "RFC 6030 §4.1", 10, lambda t: swap(t, 'Key Id="2"', 'Key Id="1"'), ()),
    ("pskc.key-without-algorithm", "MUST", "RFC 6030 §4.1", 3,
     lambda t: swap(t, '\n            Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp"', ""), ()),
    ("pskc.missing-encryption-key", "MUST", "RFC 6030 §6.1", 6, lambda t: drop(t, r"<EncryptionKey>.*?</EncryptionKey>"),
     ()),
    ("pskc.missing-encryption-key", "MUST", "RFC 6030 §6.3", 8, lambda t: drop(t, r"<ds:X509Data>.*?</ds:X509Data>"),
     ()),
    ("pskc.mixed-algorithms", "MUST", "RFC 6030 §6", 6,
     lambda t: swap(t, "xmlenc#aes128-cbc", "xmlenc#aes256-cbc", 1), ()),  # the MAC key's only
    ("pskc.unsupported-algorithm", "INFO", "RFC 6030 §6.1", 6,
     lambda t: swap(t, "http://www.w3.org/2001/04/xmlenc#aes128-cbc", "urn:example:cipher#rot13"), ()),
    # 40 octets: an 8-octet (Triple-DES sized) IV in front of AES blocks
    ("pskc.iv-length", "MUST", "RFC 6030 §6, §6.1", 6,
     lambda t: swap(t, FIG6_SECRET_CV, b64(base64.b64decode(FIG6_SECRET_CV)[8:])), ()),
    ("pskc.keywrap-length", "MUST", "RFC 3394 §2.2.1", 6, lambda t: swap(KW(t), FIG6_SECRET_CV, b64(bytes(20))), ()),
    ("pskc.rsa-length", "MUST", "RFC 6030 §6.3", 8,  # Figure 8's certificate has a 1024-bit modulus: 128 octets
     lambda t: re.sub(r"(<xenc:CipherValue>).*?(</xenc:CipherValue>)", rf"\g<1>{b64(bytes(64))}\g<2>", t, flags=re.S),
     ()),
    ("pskc.missing-value-mac", "MUST", "RFC 6030 §6.1.1", 6, lambda t: drop(t, r"<ValueMAC>.*?</ValueMAC>"), ()),
    ("pskc.value-mac-absent", "INFO", "RFC 6030 §6.1.1", 6, lambda t: drop(KW(t), r"<ValueMAC>.*?</ValueMAC>"), ()),
    ("pskc.mac-method-unused", "INFO", "RFC 6030 §6.1.1", 6, lambda t: drop(KW(t), r"<ValueMAC>.*?</ValueMAC>"), ()),
    ("pskc.no-mac-method", "MUST", "RFC 6030 §6.1.1", 6, lambda t: drop(t, r"<MACMethod\b.*?</MACMethod>"), ()),
    ("pskc.value-mac-length", "MUST", "RFC 6030 §6.1.1", 6, lambda t: swap(t, FIG6_MAC, b64(bytes(16))), ()),
    ("pskc.unsupported-mac", "INFO", "RFC 6030 §6.1.1", 6,
     lambda t: swap(t, "http://www.w3.org/2000/09/xmldsig#hmac-sha1", "urn:example:mac#crc32"), ()),
    ("pskc.mac-key-not-carried", "SHOULD", "RFC 6030 §6.1.1", 6, lambda t: drop(t, r"<MACKey>.*?</MACKey>"), ()),
    ("pskc.mac-key-undecryptable", "MUST", "RFC 6030 §6.1.1", 6, lambda t: t, ("--key", WRONG_KEY)),
    ("pskc.pbkdf2-uri", "INFO", "RFC 6030 §6.2", 7, lambda t: t, ()),  # Figure 7 itself: pkcs-5v2-0#pbkdf2
    ("pskc.pbkdf2-iterations", "SHOULD", "RFC 2898 §4.2", 7,
     lambda t: swap(t, "<IterationCount>1000<", "<IterationCount>100<"), ()),
    ("pskc.pbkdf2-iterations", "SHOULD", "RFC 6030 §13.1", 7, lambda t: t, ("--min-iterations", "5000")),
    ("pskc.pbkdf2-salt-length", "SHOULD", "RFC 2898 §4.1", 7, lambda t: swap(t, "Ej7/PEpyEpw=", b64(b"salt")), ()),
    ("pskc.pbkdf2-prf", "INFO", "RFC 6030 §6.2", 7, lambda t: swap(t, "<PRF/>", '<PRF Algorithm="urn:example:md4"/>'),
     ()),
    ("pskc.derived-key-length", "MUST", "RFC 6030 §6.2", 7,
     lambda t: swap(t, "<KeyLength>16<", "<KeyLength>32<"), ()),  # AES-128-CBC takes 16 octets
    ("pskc.counter-on-time-based-key", "INFO", "RFC 6030 §4.1", 3, lambda t: swap(t, "pskc:hotp", "pskc#totp"), ()),
    ("pskc.time-on-event-based-key", "INFO", "RFC 6030 §4.1", 3,
     lambda t: swap(t, "</Counter>", "</Counter><Time><PlainValue>5</PlainValue></Time>"), ()),
    ("pskc.totp.secret-length", "MUST", "RFC 4226 §4 R6", 2, lambda t: swap(t, "pskc:hotp", "pskc#totp"), ()),
    ("pskc.secret-length-recommended", "SHOULD", "RFC 4226 §4 R6", 3,
     lambda t: swap(t, "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=", b64(b"1234567890123456")), ()),
    ("pskc.pin-key-not-in-container", "INFO", "RFC 6030 §5", 5,
     lambda t: swap(t, 'PINKeyId="123456781"', 'PINKeyId="999"'), ()),
    # with credentials: failures carry the codec's status
    ("pskc.mac-mismatch", "MUST", "RFC 6030 §6.1.1", 6,
     lambda t: swap(t, FIG6_MAC, b64(bytes([base64.b64decode(FIG6_MAC)[0] ^ 1]) + base64.b64decode(FIG6_MAC)[1:])),
     ("--key", FIGURE6_KEY)),
    ("pskc.bad-padding", "MUST", "RFC 6030 §6.4", 6, lambda t: t, ("--key", WRONG_KEY)),
    # the decoder's findings and the profile checks come through with their level
    ("pskc.hotp.secret-length", "MUST", "RFC 6030 §10.1", 2, lambda t: t, ()),
    ("pskc.manufacturer-prefix", "INFO", "RFC 6030 §4.3.1", 3, lambda t: t, ()),
    ("pskc.algorithm-parameters-choice", "INFO", "RFC 6030 §4.3.4", 3,
     lambda t: swap(t, "<ResponseFormat", "<Suite>OCRA-1:HOTP-SHA1-6:QN08</Suite><ResponseFormat"), ()),
]


def validate_in_process(tmp_path: Path, text: str, args, capsys) -> tuple[int, dict]:
    path = tmp_path / "crafted.xml"
    path.write_text(text, encoding="utf-8")
    code = main(["pskc", "validate", str(path), "--json", *args])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("code, level, spec, n, mutate, args", CRAFTED, ids=[f"{c[0]}-fig{c[3]}" for c in CRAFTED])
def test_crafted_document_finding(tmp_path, capsys, code, level, spec, n, mutate, args):
    exit_code, report = validate_in_process(tmp_path, mutate(figure(n)), args, capsys)
    matching = [f for f in report["findings"] if f["code"] == code]
    assert matching, f"{code} not reported; got {[f['code'] for f in report['findings']]}"
    assert matching[0]["level"] == level
    assert spec in matching[0]["spec"]
    assert exit_code == (exitcodes.FAILURES if any(f["level"] == "MUST" for f in report["findings"]) else exitcodes.OK)
    if level == "MUST":
        assert exit_code == exitcodes.FAILURES and report["valid"] is False
    for secret in (SECRET_HEX, FIGURE6_KEY, WRONG_KEY):
        assert secret not in json.dumps(report)


def test_every_semantic_rule_has_a_crafted_document():
    from reference.pskc.semantics import RULES

    assert set(RULES) <= {c[0] for c in CRAFTED}


def test_schema_splits_the_other_way_on_dates_with_spaces(tmp_path, capsys):
    # xs:dateTime has whiteSpace="collapse": " 2006-05-01T00:00:00Z " is valid; libxml2 refuses it.
    text = swap(figure(10), "<StartDate>2006-05-01T00:00:00Z</StartDate>", "<StartDate> 2006-05-01T00:00:00Z </StartDate>")
    code, report = validate_in_process(tmp_path, text, (), capsys)
    assert report["schema"]["libxml2"]["valid"] is False and report["schema"]["xmlschema"]["valid"] is True
    assert report["schema"]["verdict"] == "split" and code == exitcodes.OK


def test_ocra_parameters_are_invalid_per_both_validators(tmp_path, capsys):
    # §11 makes AlgorithmParametersType an xs:choice; OCRA files carry Suite and formats together.
    text = swap(figure(3), "<ResponseFormat", "<Suite>OCRA-1:HOTP-SHA1-6:QN08</Suite><ResponseFormat")
    code, report = validate_in_process(tmp_path, text, (), capsys)
    assert report["schema"]["verdict"] == "invalid" and code == exitcodes.FAILURES


# --------------------------------------------------------------------------- decode (subprocess)
def test_decode_figure6_with_the_pre_shared_key():
    proc = kplab("decode", RFC / "figure6.xml", "--key", FIGURE6_KEY, "--json")
    assert proc.returncode == exitcodes.OK, proc.stderr
    keys = json.loads(proc.stdout)["keys"]
    assert len(keys) == 1
    assert keys[0]["secret_hex"] == SECRET_HEX
    assert (keys[0]["id"], keys[0]["serial"], keys[0]["counter"]) == ("12345678", "987654321", 0)
    assert (keys[0]["response_length"], keys[0]["response_encoding"]) == (8, "DECIMAL")


def test_decode_figure7_with_the_passphrase():
    proc = kplab("decode", RFC / "figure7.xml", "--password", FIGURE7_PASSWORD, "--json")
    assert proc.returncode == exitcodes.OK, proc.stderr
    key, = json.loads(proc.stdout)["keys"]
    assert (key["id"], key["serial"], key["secret_hex"]) == ("123456", "987654321", SECRET_HEX)
    assert key["issuer"] == "Example-Issuer" and key["manufacturer"] == "TokenVendorAcme"


def test_decode_table_shows_fingerprints_unless_revealed(capsys):
    code, out, _ = cli(capsys, "decode", RFC / "figure6.xml", "--key", FIGURE6_KEY)
    assert code == exitcodes.OK
    assert SECRET_HEX not in out and "fp:" in out and "12345678" in out
    _, out, _ = cli(capsys, "decode", RFC / "figure6.xml", "--key", FIGURE6_KEY, "--reveal-secret")
    assert SECRET_HEX in out


def test_decode_without_credentials_lists_encrypted_fields(capsys):
    _, out, _ = cli(capsys, "decode", RFC / "figure6.xml", "--json")
    key, = json.loads(out)["keys"]
    assert key["encrypted_fields"] == ["secret"] and "secret_hex" not in key and key["counter"] == 0


@pytest.mark.parametrize("args", [("--key", WRONG_KEY), ("--password", "Tr0ub4dor-x")], ids=["key", "password"])
def test_decode_wrong_credentials_is_a_refusal_in_one_line(args):
    n = 6 if args[0] == "--key" else 7
    proc = kplab("decode", RFC / f"figure{n}.xml", *args, "--json")
    assert proc.returncode == exitcodes.FAILURES
    line = one_line_error(proc)
    assert f"figure{n}.xml" in line and "KeyPackage 1" in line and "[pskc." in line and "RFC 6030" in line
    assert proc.stdout == ""  # refused before the first key: no partial document
    assert args[1] not in proc.stderr and SECRET_HEX not in proc.stderr


def test_decode_refuses_hostile_and_malformed_xml(tmp_path, capsys):
    bomb = tmp_path / "bomb.xml"
    bomb.write_bytes(b'<!DOCTYPE l [<!ENTITY a "aaaa">]><KeyContainer>&a;</KeyContainer>')
    proc = kplab("decode", bomb)
    assert proc.returncode == exitcodes.FAILURES
    assert "bomb.xml" in one_line_error(proc) and "pskc.dtd" in proc.stderr
    cut = tmp_path / "cut.xml"
    cut.write_text(figure(3)[:400], encoding="utf-8")
    code, _, err = cli(capsys, "decode", cut)
    assert code == exitcodes.FAILURES and "cut.xml" in one_line(err) and "pskc.not-xml" in err


def test_decode_strict_refuses_deviations(capsys):
    # Figure 8 spells the container attribute 'id' (RFC 6030 §4, §11: 'Id').
    code, out, err = cli(capsys, "decode", RFC / "figure8.xml", "--json")
    assert code == exitcodes.OK and "pskc.id-spelling" in out
    code, out, err = cli(capsys, "decode", RFC / "figure8.xml", "--strict")
    assert code == exitcodes.FAILURES and "pskc.id-spelling" in one_line(err) and out == ""


def test_pskc_without_action_is_a_usage_error(capsys):
    code, _, err = cli(capsys)
    assert code == exitcodes.USAGE and "validate" in err


def test_decode_bad_arguments_exit_2(tmp_path, capsys):
    for args, complaint in (((RFC / "figure6.xml", "--key", "xyz"), "--key"),
                            ((tmp_path / "absent.xml",), "absent.xml"),
                            ((RFC / "figure8.xml", "--private-key", RFC / "figure8.xml"), "private key")):
        code, _, err = cli(capsys, "decode", *args)
        assert code == exitcodes.USAGE, err
        assert complaint in one_line(err)


HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<KeyContainer Version="1.0" '
        'xmlns="urn:ietf:params:xml:ns:keyprov:pskc">\n')
PACKAGE = ('<KeyPackage><DeviceInfo><Manufacturer>Maker</Manufacturer><SerialNo>{0}</SerialNo></DeviceInfo>'
           '<Key Id="{0}" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp"><Data><Secret><PlainValue>'
           'MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret><Counter><PlainValue>{0}</PlainValue></Counter>'
           '</Data></Key></KeyPackage>\n')


def _decode_peak_rss_kib(path: Path) -> int:
    """Peak RSS of one ``kplab pskc decode --json`` run, measured by a fresh parent."""
    probe = ("import resource, subprocess, sys; subprocess.run([sys.executable, '-m', 'harness.cli', 'pskc', "
             "'decode', sys.argv[1], '--json'], stdout=subprocess.DEVNULL, check=True); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    proc = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, cwd=REPO_ROOT,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    return int(proc.stdout)


@pytest.mark.slow
def test_decode_memory_does_not_grow_with_the_number_of_keys(tmp_path):
    sizes = {}
    for n in (2_000, 20_000):
        path = tmp_path / f"bulk{n}.xml"
        with path.open("w", encoding="utf-8") as handle:
            handle.write(HEAD)
            handle.writelines(PACKAGE.format(i) for i in range(n))
            handle.write("</KeyContainer>\n")
        sizes[n] = _decode_peak_rss_kib(path)
    # 18,000 more packages: decoded whole (pskc.decode + a list of dicts) the peak grows by
    # ~40 MiB (measured); streamed it stays put.
    assert sizes[20_000] - sizes[2_000] < 16 * 1024, sizes


# --------------------------------------------------------------------------- encode (subprocess)
SPEC_KEYS = [
    {"id": "k1", "algorithm": "urn:ietf:params:xml:ns:keyprov:pskc:hotp", "secret_hex": SECRET_HEX, "counter": 42,
     "serial": "SN-1", "manufacturer": "iana.Example", "issuer": "Lab", "response_length": 6,
     "response_encoding": "DECIMAL", "start_date": "2024-01-01T00:00:00Z", "expiry_date": "2030-01-01T00:00:00Z"},
    {"id": "k2", "algorithm": "urn:ietf:params:xml:ns:keyprov:pskc#totp", "secret_hex": "00" * 32,
     "time_interval": 60, "serial": "SN-2"},
]


def write_spec(folder: Path, keys=SPEC_KEYS) -> Path:
    path = folder / "spec.json"
    path.write_text(json.dumps({"keys": keys}), encoding="utf-8")
    return path


def python_pskc_keys(path: Path, key: bytes | None = None, password: str | None = None):
    pskc = pytest.importorskip("pskc")
    document = pskc.PSKC(str(path))
    if key is not None:
        document.encryption.key = key
    if password is not None:
        document.encryption.derive_key(password)
    return {k.id: k for k in document.keys}


@pytest.mark.parametrize("protection, args, credentials", [
    ("none", (), {}),
    ("psk", ("--key", FIGURE6_KEY), {"key": bytes.fromhex(FIGURE6_KEY)}),
    ("psk", ("--key", FIGURE6_KEY, "--algorithm", "aes256-cbc", "--mac", "hmac-sha256"), None),
    ("pbe", ("--password", FIGURE7_PASSWORD, "--iterations", "1000"), {"password": FIGURE7_PASSWORD}),
], ids=["none", "psk", "psk-aes256", "pbe"])
def test_encode_round_trip_read_by_python_pskc(tmp_path, capsys, protection, args, credentials):
    if credentials is None:  # aes256 needs a 32-octet key
        args = ("--key", FIGURE6_KEY * 2, *args[2:])
        credentials = {"key": bytes.fromhex(FIGURE6_KEY * 2)}
    out = tmp_path / "out.pskcxml"
    code, stdout, stderr = cli(capsys, "encode", write_spec(tmp_path), "-o", out, "--protection", protection, *args)
    assert code == exitcodes.OK, stderr
    for secret in (SECRET_HEX, FIGURE6_KEY, FIGURE7_PASSWORD):
        assert secret not in stdout + stderr
    keys = python_pskc_keys(out, **credentials)
    assert keys["k1"].secret == bytes.fromhex(SECRET_HEX) and keys["k2"].secret == bytes(32)
    assert (keys["k1"].counter, keys["k1"].serial, keys["k1"].issuer, keys["k1"].response_length) == (42, "SN-1", "Lab", 6)
    assert keys["k1"].start_date == datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    assert keys["k2"].time_interval == 60 and keys["k2"].algorithm.endswith("#totp")
    # and back through our decoder: same flat fields
    decode_args = [f"--{k}" if k != "key" else "--key" for k in credentials]
    values = [credentials[k].hex() if k == "key" else credentials[k] for k in credentials]
    _, stdout, _ = cli(capsys, "decode", out, "--json", *[x for pair in zip(decode_args, values) for x in pair])
    decoded = {k["id"]: k for k in json.loads(stdout)["keys"]}
    for spec_key in SPEC_KEYS:
        assert {n: decoded[spec_key["id"]].get(n) for n in spec_key} == spec_key


def _rsa_pair(folder: Path) -> tuple[Path, Path, object]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kplab test recipient")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path, key


def test_encode_rsa_decrypts_with_the_private_key(tmp_path, capsys):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from lxml import etree

    cert, private_pem, private = _rsa_pair(tmp_path)
    out = tmp_path / "rsa.pskcxml"
    code, _, err = cli(capsys, "encode", write_spec(tmp_path), "-o", out, "--protection", "rsa", "--certificate", cert)
    assert code == exitcodes.OK, err
    # Independent of our decoder: XML-Enc rsa-oaep-mgf1p (MGF1/SHA-1, SHA-1 digest) by hand.
    ns = {"p": "urn:ietf:params:xml:ns:keyprov:pskc", "xenc": "http://www.w3.org/2001/04/xmlenc#"}
    value = etree.parse(str(out)).find(".//p:Key[@Id='k1']/p:Data/p:Secret//xenc:CipherValue", ns).text
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    assert private.decrypt(base64.b64decode(value), oaep) == bytes.fromhex(SECRET_HEX)
    _, stdout, _ = cli(capsys, "decode", out, "--private-key", private_pem, "--json")
    assert json.loads(stdout)["keys"][0]["secret_hex"] == SECRET_HEX


def test_encode_mac_none_writes_the_negative_document(tmp_path, capsys):
    # AES-CBC without <ValueMAC> breaks RFC 6030 §6.1.1: asked for on purpose (negative tests).
    out = tmp_path / "nomac.pskcxml"
    code, _, err = cli(capsys, "encode", write_spec(tmp_path), "-o", out, "--protection", "psk", "--key", FIGURE6_KEY,
                       "--mac", "none")
    assert code == exitcodes.OK, err
    assert b"ValueMAC" not in out.read_bytes() and b"MACMethod" not in out.read_bytes()
    code, stdout, _ = cli(capsys, "validate", out, "--json")
    assert code == exitcodes.FAILURES and "pskc.missing-value-mac" in stdout


def _leftovers(folder: Path, out: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{out.name}."))


def test_encode_failure_leaves_no_file(tmp_path):
    out = tmp_path / "out.pskcxml"
    proc = kplab("encode", write_spec(tmp_path), "-o", out, "--protection", "psk", "--key", FIGURE6_KEY,
                 "--algorithm", "rot13-cbc")
    assert proc.returncode == exitcodes.USAGE
    assert "rot13-cbc" in one_line_error(proc) and FIGURE6_KEY not in proc.stderr
    assert not out.exists() and _leftovers(tmp_path, out) == []


def test_encode_failure_mid_stream_keeps_the_old_file(tmp_path, capsys):
    # kw-aes128 (RFC 3394) wraps k1's 16-octet secret but refuses k2's 20 octets (RFC 6030
    # §6.1): the first package is already written when the second fails.
    keys = [{"id": "k1", "secret_hex": "00" * 16}, {"id": "k2", "secret_hex": SECRET_HEX}]
    out = tmp_path / "out.pskcxml"
    out.write_bytes(b"previous document")
    code, _, err = cli(capsys, "encode", write_spec(tmp_path, keys), "-o", out, "--protection", "psk",
                       "--key", FIGURE6_KEY, "--algorithm", "kw-aes128")
    assert code == exitcodes.USAGE and "multiples of 8" in one_line(err)
    assert out.read_bytes() == b"previous document" and _leftovers(tmp_path, out) == []


def test_encode_output_is_private_to_the_user(tmp_path):
    out = tmp_path / "plain.pskcxml"
    proc = kplab("encode", write_spec(tmp_path), "-o", out)
    assert proc.returncode == exitcodes.OK and proc.stderr == ""
    assert SECRET_HEX not in proc.stdout and "2 key package(s)" in proc.stdout
    assert out.stat().st_mode & 0o077 == 0  # plaintext secrets inside


@pytest.mark.parametrize("args, complaint", [
    (("--protection", "psk"), "needs --key"),
    (("--protection", "pbe", "--key", FIGURE6_KEY), "--key does not go with"),
    (("--algorithm", "aes128-cbc"), "need --protection"),
    (("--protection", "psk", "--key", FIGURE6_KEY, "--mac", "md5"), "unknown MAC algorithm"),
    (("--protection", "rsa", "--certificate", "/nonexistent.pem"), "certificate"),
])
def test_encode_bad_options_exit_2(tmp_path, capsys, args, complaint):
    out = tmp_path / "out.pskcxml"
    code, _, err = cli(capsys, "encode", write_spec(tmp_path), "-o", out, *args)
    assert code == exitcodes.USAGE
    assert complaint in one_line(err) and FIGURE6_KEY not in err
    assert not out.exists()


@pytest.mark.parametrize("content, complaint", [
    ("{not json", "spec.json:1:2"),
    ('{"keys": {}}', '{"keys": [KEY, ...]}'),
    ('{"keys": [{"id": "a", "colour": "red"}]}', "colour"),
    ('{"keys": [{"id": "a", "secret_hex": "zz"}]}', "secret_hex"),
])
def test_encode_bad_spec_exit_2(tmp_path, capsys, content, complaint):
    spec = tmp_path / "spec.json"
    spec.write_text(content, encoding="utf-8")
    code, _, err = cli(capsys, "encode", spec, "-o", tmp_path / "out.xml")
    assert code == exitcodes.USAGE
    assert complaint in one_line(err)
    assert not (tmp_path / "out.xml").exists()
