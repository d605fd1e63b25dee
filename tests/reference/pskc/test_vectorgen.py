"""reference/pskc/vectorgen.py and the vectors it wrote (vectors/pskc/generated).

* the generator replays (non-RSA files byte for byte) and the committed files and index
  are exactly what it writes, so the data cannot drift from the code;
* the set covers the interop matrix (suites/pskc/matrix.py), an enumeration of its own;
* independent peers read the files: python-pskc decodes every non-RSA valid vector to
  the secret of vectors/pskc/interop-keys.json and refuses the invalid ones;
  ``cryptography`` checks what python-pskc cannot (RFC 5649 padded key wrap, RSA).
"""

from __future__ import annotations

import base64
import hmac
import json
import warnings
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap_with_padding
from lxml import etree

from harness.vectors import load_json, vector_path
from reference.pskc import vectorgen

GENERATED = vector_path("pskc/generated")
INDEX = json.loads((GENERATED / "index.json").read_text(encoding="utf-8"))["vectors"]
SPEC = load_json("pskc/interop-keys.json")["profiles"]  # the expected values, independent of the encoder
NS = {"pskc": "urn:ietf:params:xml:ns:keyprov:pskc", "xenc": "http://www.w3.org/2001/04/xmlenc#"}
# The MAC URIs python-pskc / RFC 6030 §6.1.1 name, to the hashlib names (for the RSA-1.5 check).
MAC_HASHES = {"hmac-sha1": "sha1", "hmac-sha224": "sha224", "hmac-sha256": "sha256", "hmac-sha384": "sha384",
              "hmac-sha512": "sha512"}


def _rsa(vector: dict) -> bool:
    return vector["protection"]["method"] == "rsa"


def _padded(vector: dict) -> bool:
    return "rfc5649-pad" in vector["flags"]


def _spec_secret(vector: dict) -> bytes:
    return bytes.fromhex(SPEC[vector["profile"]]["key"]["secret_hex"])


# --------------------------------------------------------------------------- generator
@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, Path]:
    first, second = tmp_path_factory.mktemp("gen-a"), tmp_path_factory.mktemp("gen-b")
    vectorgen.generate(first)
    vectorgen.generate(second)
    return first, second


def _non_rsa_files(vectors: list[dict]) -> list[str]:
    return [v["file"] for v in vectors if not _rsa(v)]


def test_generator_replays_non_rsa_vectors(two_runs):
    first, second = two_runs
    assert (first / "index.json").read_bytes() == (second / "index.json").read_bytes()
    index = json.loads((first / "index.json").read_text(encoding="utf-8"))["vectors"]
    differing = [f for f in _non_rsa_files(index) if (first / f).read_bytes() != (second / f).read_bytes()]
    assert not differing, f"not deterministic: {differing[:5]}"
    # RSA padding is OpenSSL's own randomness: those files must differ (else they were not RSA-encrypted anew).
    rsa_files = [v["file"] for v in index if _rsa(v)]
    assert rsa_files and all((first / f).read_bytes() != (second / f).read_bytes() for f in rsa_files)


def test_committed_vectors_are_what_the_generator_writes(two_runs):
    fresh = two_runs[0]
    assert (fresh / "index.json").read_bytes() == (GENERATED / "index.json").read_bytes(), \
        "vectors/pskc/generated/index.json is stale: rerun python -m reference.pskc.vectorgen vectors/pskc/generated"
    committed = sorted(p.name for p in GENERATED.glob("gen-*.pskcxml"))
    assert committed == sorted(v["file"] for v in INDEX)
    stale = [f for f in _non_rsa_files(INDEX) if (fresh / f).read_bytes() != (GENERATED / f).read_bytes()]
    assert not stale, f"committed files differ from the generator's output: {stale[:5]}"


def test_committed_set_is_modest():
    total = sum(p.stat().st_size for p in GENERATED.iterdir() if p.is_file())
    assert total < 1_000_000


def test_shipped_rsa_pair_matches_and_is_labelled():
    key_pem = (GENERATED / vectorgen.KEY_FILE).read_bytes()
    cert_pem = (GENERATED / vectorgen.CERT_FILE).read_bytes()
    assert key_pem.startswith(b"THROW-AWAY TEST KEY") and cert_pem.startswith(b"THROW-AWAY TEST KEY")
    from cryptography import x509

    key = serialization.load_pem_private_key(key_pem, password=None)
    cert = x509.load_pem_x509_certificate(cert_pem)
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    assert "THROW-AWAY" in cert.subject.rfc4514_string()


def test_index_shape_and_results():
    ids = [v["id"] for v in INDEX]
    assert len(ids) == len(set(ids))
    for vector in INDEX:
        assert set(vector) >= {"id", "file", "rfc", "comment", "result", "flags", "secrets", "expected"}
        assert vector["result"] in ("valid", "invalid", "acceptable")
        assert vector["rfc"].startswith("RFC ")
        if vector["result"] == "valid":
            assert vector["expected"] == [SPEC[vector["profile"]]["key"]]
        else:
            assert vector["expected"] == [] and vector["derived_from"] in ids


def test_covers_the_interop_matrix():
    """Every profile x protection of the interop matrix has a valid vector; the only extra
    ones are the RFC 5649 variants for secrets RFC 3394 cannot wrap."""
    from suites.pskc import matrix

    # The matrix leaves RSA's MAC to the producer ("auto"); the vectors name it (rsa-1_5: hmac-sha1).
    def combo(profile: str, method: str, algorithm: str | None, mac: str | None) -> tuple:
        return profile, method, algorithm, None if method == "rsa" else mac

    want = {combo(f.name, p.method, p.algorithm, p.mac) for f in matrix.profiles()
            for p in matrix.protections("any") if matrix.combination_possible(f, p)}
    valid = [v for v in INDEX if v["result"] == "valid"]
    have = {combo(v["profile"], *(v["protection"][k] for k in ("method", "algorithm", "mac"))) for v in valid}
    assert len(have) == len(valid)
    assert want - have == set()
    extra = have - want
    assert extra and all(algorithm.endswith("-pad") for _, _, algorithm, _ in extra)
    assert {v["profile"] for v in valid if _padded(v)} == {"hotp", "totp"}  # the 20-octet secrets


def test_no_vector_for_unpaddable_key_wrap_of_20_octets():
    for vector in INDEX:
        algorithm = vector["protection"]["algorithm"] or ""
        if vector["profile"] in ("hotp", "totp") and algorithm.startswith(("kw-tripledes", "kw-camellia")):
            pytest.fail(f"{vector['id']}: RFC 3217/3657 key wrap cannot carry a 20-octet secret")


# --------------------------------------------------------------------------- python-pskc
def _python_pskc(vector: dict):
    pskc = pytest.importorskip("pskc")
    container = pskc.PSKC(str(GENERATED / vector["file"]))
    secrets = vector["secrets"]
    if "key_hex" in secrets:
        container.encryption.key = bytes.fromhex(secrets["key_hex"])
    elif "password" in secrets:
        container.encryption.derive_key(secrets["password"])
    return container


def _secrets_of(container) -> list[bytes | None]:
    with warnings.catch_warnings():  # python-pskc's use of TripleDES is deprecated in cryptography
        warnings.simplefilter("ignore")
        return [key.secret for key in container.keys]


PEER_VALID = [v for v in INDEX if v["result"] == "valid" and not _rsa(v)]


@pytest.mark.parametrize("vector", PEER_VALID, ids=lambda v: v["id"])
def test_python_pskc_decodes_valid_vector(vector):
    if _padded(vector):
        pytest.skip("python-pskc 1.4 lists the XML-Enc 1.1 kw-aes-*-pad URIs but its decrypt() has no "
                    "RFC 5649 unwrap ('Unsupported algorithm'); checked with cryptography below")
    container = _python_pskc(vector)
    got = _secrets_of(container)
    assert [k.id for k in container.keys] == [SPEC[vector["profile"]]["key"]["id"]]
    if got != [_spec_secret(vector)]:  # not a bare assert: its explanation would print the secret
        pytest.fail(f"python-pskc reads a different secret from {vector['file']}")


@pytest.mark.parametrize("vector", [v for v in PEER_VALID if _padded(v)], ids=lambda v: v["id"])
def test_rfc5649_vectors_unwrap_with_cryptography(vector):
    """python-pskc parses the file and derives the PBKDF2 key; cryptography's RFC 5649 unwrap
    (independent of reference/pskc/keywrap.py) opens the secret."""
    container = _python_pskc(vector)
    assert container.encryption.key is not None
    key = container.keys[0]
    assert key.algorithm == SPEC[vector["profile"]]["key"]["algorithm"]
    tree = etree.parse(str(GENERATED / vector["file"]))
    method = tree.find(".//pskc:Secret/pskc:EncryptedValue/xenc:EncryptionMethod", NS).get("Algorithm")
    assert method == f"http://www.w3.org/2009/xmlenc11#{vector['protection']['algorithm']}"
    wrapped = base64.b64decode(tree.find(".//pskc:Secret//xenc:CipherValue", NS).text)
    if aes_key_unwrap_with_padding(container.encryption.key, wrapped) != _spec_secret(vector):
        pytest.fail(f"{vector['file']} does not unwrap to the specified secret")


@pytest.mark.parametrize("vector", [v for v in INDEX if v["result"] == "invalid"], ids=lambda v: v["id"])
def test_peers_refuse_invalid_vector(vector):
    if _padded(vector):
        tree = etree.parse(str(GENERATED / vector["file"]))
        wrapped = base64.b64decode(tree.find(".//pskc:Secret//xenc:CipherValue", NS).text)
        with pytest.raises(InvalidUnwrap):
            aes_key_unwrap_with_padding(bytes.fromhex(vector["secrets"]["key_hex"]), wrapped)
        return
    from pskc.exceptions import DecryptionError

    container = _python_pskc(vector)
    with pytest.raises(DecryptionError):
        _secrets_of(container)


# --------------------------------------------------------------------------- RSA
def _cipher_value(tree, path: str) -> bytes:
    return base64.b64decode("".join(tree.find(path, NS).text.split()))


@pytest.mark.parametrize("vector", [v for v in INDEX if _rsa(v)], ids=lambda v: v["id"])
def test_rsa_vectors_open_with_the_shipped_key(vector):
    """RSA key transport checked with cryptography directly (python-pskc has none)."""
    key = serialization.load_pem_private_key((GENERATED / vector["secrets"]["private_key_file"]).read_bytes(), None)
    tree = etree.parse(str(GENERATED / vector["file"]))
    if vector["protection"]["algorithm"] == "rsa-1_5":
        scheme = padding.PKCS1v15()
    else:  # XML-Enc §5.4.2 rsa-oaep-mgf1p: MGF1-SHA1, digest SHA-1 by default, no label
        scheme = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    secret_value = _cipher_value(tree, ".//pskc:Secret/pskc:EncryptedValue/xenc:CipherData/xenc:CipherValue")
    if key.decrypt(secret_value, scheme) != _spec_secret(vector):
        pytest.fail(f"{vector['file']} does not decrypt to the specified secret")
    mac = vector["protection"]["mac"]
    if mac:  # RFC 6030 §6.1.1: MAC key encrypted like the values, MAC over the encrypted value
        mac_key = key.decrypt(_cipher_value(tree, ".//pskc:MACMethod/pskc:MACKey/xenc:CipherData/xenc:CipherValue"),
                              scheme)
        value_mac = base64.b64decode(tree.find(".//pskc:Secret/pskc:ValueMAC", NS).text)
        assert hmac.compare_digest(hmac.new(mac_key, secret_value, MAC_HASHES[mac]).digest(), value_mac)
    else:
        assert tree.find(".//pskc:MACMethod", NS) is None
