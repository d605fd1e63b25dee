"""Server policy TOML (reference/dskpp/config.py): every section, and every mistake named."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from harness.errors import ConfigError
from reference.dskpp.config import load_policy
from reference.dskpp.interpretation import MessageHashInput

SECRET_HEX = "00112233445566778899aabbccddeeff"
FULL = f"""
server_id = "https://dskpp.test/"
[variants]
four_pass = false
two_pass = ["key-wrap", "urn:ietf:params:xml:schema:keyprov:dskpp:passphrase-wrap"]
[algorithms]
key_types = [{{ uri = "totp", key_length = 32 }}, "hotp"]
encryption = ["prf-sha256", "rsa-oaep"]
mac = ["prf-sha256"]
key_packages = ["pskc"]
[keys]
rsa_private_key = "server.pem"
shared = {{ "Key-A" = "{SECRET_HEX}" }}
shared_files = {{ "Key-B" = "b.hex" }}
passphrases = {{ "Pass-1" = "correct horse" }}
[authentication]
required = false
iteration_count = 200000
ac_lifetime_s = 60
[sessions]
timeout_s = 30
[interpretation]
message_hash_input = "exc-c14n"
server_auth_mac_length = 20
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def key_files(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (tmp_path / "server.pem").write_bytes(pem)
    (tmp_path / "b.hex").write_text("ff" * 16 + "\n")


def test_every_section(tmp_path: Path, key_files: None) -> None:
    policy = load_policy(_write(tmp_path, FULL))
    assert policy.server_id == "https://dskpp.test/"
    assert policy.four_pass is False
    assert policy.two_pass_methods == ("urn:ietf:params:xml:schema:keyprov:dskpp:wrap",
                                       "urn:ietf:params:xml:schema:keyprov:dskpp:passphrase-wrap")
    assert [(k.uri, k.key_length) for k in policy.key_types] == [
        ("urn:ietf:params:xml:ns:keyprov:pskc:totp", 32), ("urn:ietf:params:xml:ns:keyprov:pskc:hotp", 20)]
    assert policy.encryption_algorithms == ("urn:ietf:params:xml:ns:keyprov:dskpp:prf-sha256",
                                            "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p")
    assert policy.mac_algorithms == ("urn:ietf:params:xml:ns:keyprov:dskpp:prf-sha256",)
    assert policy.key_package_formats == ("urn:ietf:params:xml:ns:keyprov:dskpp:pskc-key-container",)
    assert policy.rsa_private_key.key_size == 1024
    assert dict(policy.shared_keys) == {"Key-A": bytes.fromhex(SECRET_HEX), "Key-B": b"\xff" * 16}
    assert dict(policy.passphrases) == {"Pass-1": "correct horse"}
    assert (policy.require_authentication, policy.ac_iteration_count, policy.ac_lifetime_s) == (False, 200000, 60)
    assert policy.session_timeout_s == 30
    assert policy.interpretation.message_hash_input is MessageHashInput.EXC_C14N
    assert policy.interpretation.server_auth_mac_length == 20
    shown = repr(policy)
    assert SECRET_HEX not in shown and "correct horse" not in shown


def test_empty_file_is_the_default_policy(tmp_path: Path) -> None:
    from reference.dskpp.policy import ServerPolicy

    assert load_policy(_write(tmp_path, "")) == ServerPolicy()


@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [
        ("colour = 1", "policy.toml", "unknown keys"),
        ("[variants]\nfour_pass = 1", "variants.four_pass", "bool"),
        ("[algorithms]\nmac = ['md5']", "algorithms.mac[0]", "unknown name"),
        ("[algorithms]\nkey_types = [{ uri = 'hotp', key_length = 0 }]", "key_length", "1 to 64"),
        ("[algorithms]\nkey_types = []", "key_types", "non-empty"),
        ("[keys]\nshared = { K = 'zz' }", "shared.K", "not hex"),
        ("[keys]\nshared = { K = '0011' }", "shared.K", "16, 24 or 32"),
        ("[keys]\nrsa_private_key = 'missing.pem'", "rsa_private_key", "cannot read"),
        ("[authentication]\niteration_count = true", "iteration_count", "int"),
        ("[interpretation]\nno_such = 1", "interpretation.no_such", "no such reading"),
        ("[interpretation]\nmessage_hash_input = 'md5'", "message_hash_input", "raw-bytes"),
        ("[interpretation]\nserver_auth_mac_length = 8", "policy.toml", ">= 16"),
        ("not = [toml", "policy.toml", "not TOML"),
    ],
)
def test_mistakes_name_what_and_where(tmp_path: Path, text: str, where: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_policy(_write(tmp_path, text))
    assert where in str(info.value) and fragment in str(info.value)


def test_a_wrong_secret_is_never_echoed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_policy(_write(tmp_path, "[keys]\nshared = { K = '00112233445566778899aabbccddee' }"))
    assert "00112233445566778899aabbccddee" not in str(info.value)


def test_non_rsa_key_is_refused(tmp_path: Path) -> None:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (tmp_path / "server.pem").write_bytes(pem)
    with pytest.raises(ConfigError, match="not an RSA key"):
        load_policy(_write(tmp_path, "[keys]\nrsa_private_key = 'server.pem'"))


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_policy(tmp_path / "nope.toml")
