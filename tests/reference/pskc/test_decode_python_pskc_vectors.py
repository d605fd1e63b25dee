"""THE acceptance test of the reference PSKC decoder against python-pskc 1.4.

For every sample shipped with python-pskc (../shared/vectors-thirdparty/pskc, read in
place, never copied) and the outcome python-pskc 1.4 recorded for it
(EXPECTED-python-pskc-1.4.json):

* python-pskc decoded it (plain or with the key/password it used): we decode it to the
  same values;
* python-pskc refused it (parse error, or no candidate credential decrypts it): we
  refuse it with a typed ProtocolError, or accept it with a finding that says why we
  differ -- each such difference is listed in KNOWN_DIFFERENCES and explained, one line
  per file, in vectors/pskc/NOTES.md (the test checks that the note exists).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import ProtocolError
from harness.vectors import project_vectors_dir, shared_dir
from reference import pskc
from reference.pskc.algorithms import lookup_cipher, lookup_mac

pytestmark = pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")

NOIV_IV = bytes.fromhex("000102030405060708090a0b0c0d0e0f")  # stated in the vectors README

# file -> finding code that explains why we accept what python-pskc refuses
KNOWN_DIFFERENCES = {
    "invalid/wrongversion.pskcxml": "pskc.newer-minor-version",
}
# file -> status with which we refuse the document itself where python-pskc only fails
# to decrypt it (both refuse; we need no key to see it is broken)
EARLY_REFUSALS = {
    "invalid/missing-encryption-method.pskcxml": "pskc.no-cipher-value",
}


def shared_path(*parts: str) -> Path:
    shared = shared_dir()
    if shared is None or not shared.joinpath(*parts).exists():
        pytest.skip(f"../shared/{'/'.join(parts)} is absent: python-pskc vectors unavailable")
    return shared.joinpath(*parts)


def _expected() -> dict:
    return json.loads(shared_path("vectors-thirdparty", "pskc", "EXPECTED-python-pskc-1.4.json").read_text())


def _cases() -> list[str]:
    shared = shared_dir()
    path = shared / "vectors-thirdparty" / "pskc" / "EXPECTED-python-pskc-1.4.json" if shared else None
    if path is None or not path.is_file():
        return ["<shared absent>"]  # the test then skips with the reason
    return sorted(json.loads(path.read_text()))


def _credentials(relpath: str, decrypted_with: dict) -> dict:
    credentials: dict = {}
    if "key" in decrypted_with:
        credentials["key"] = bytes.fromhex(decrypted_with["key"])
    if "password" in decrypted_with:
        credentials["password"] = decrypted_with["password"]
    if relpath == "encryption/aes128-cbc-noiv.pskcxml":
        credentials["iv"] = NOIV_IV
    return credentials


def _candidates(expected: dict) -> list[dict]:
    """Every credential python-pskc's doctests use (as recorded in the JSON)."""
    seen: list[dict] = []
    for entry in expected.values():
        with_ = entry.get("decrypted_with")
        if isinstance(with_, dict):
            cred = _credentials("", with_)
            if cred not in seen:
                seen.append(cred)
    return seen


def _date(value: str | None) -> str | None:
    """python-pskc prints datetimes with isoformat(); ours are UTC 'Z' (naive = UTC)."""
    if value is None:
        return None
    from datetime import datetime

    return pskc.format_date(datetime.fromisoformat(value))


def _theirs_as_ours(key: dict) -> dict:
    mapping = {
        "id": key["id"], "algorithm": key["algorithm"], "secret_hex": key["secret"], "counter": key["counter"],
        "time": key["time_offset"], "time_interval": key["time_interval"], "issuer": key["issuer"],
        "serial": key["serial"], "manufacturer": key["manufacturer"], "response_encoding": key["response_encoding"],
        "response_length": key["response_length"], "friendly_name": key["friendly_name"],
        "key_profile_id": key["key_profile"], "key_reference": key["key_reference"],
        # python-pskc's Key.start_date/expiry_date are the device's (<DeviceInfo>)
        "device_start_date": _date(key["start_date"]), "device_expiry_date": _date(key["expiry_date"]),
    }
    return {k: v for k, v in mapping.items() if v is not None}


def _ours(container: pskc.KeyContainer) -> list[dict]:
    wanted = {"id", "algorithm", "secret_hex", "counter", "time", "time_interval", "issuer", "serial",
              "manufacturer", "response_encoding", "response_length", "friendly_name", "key_profile_id",
              "key_reference", "device_start_date", "device_expiry_date"}
    return [{k: v for k, v in pskc.decoded_fields(p).items() if k in wanted}
            for p in container.key_packages if p.key is not None]


def _notes() -> str:
    path = project_vectors_dir() / "pskc" / "NOTES.md"
    return path.read_text(encoding="utf-8") if path.is_file() else ""


@pytest.mark.parametrize("relpath", _cases())
def test_decoder_agrees_with_python_pskc(relpath):
    expected_all = _expected()
    expected = expected_all[relpath]
    data = shared_path("vectors-thirdparty", "pskc", *relpath.split("/")).read_bytes()
    decrypted_with = expected.get("decrypted_with")

    if expected["parse"] != "ok":  # python-pskc refused to parse it
        try:
            container = pskc.decode(data)
        except ProtocolError:
            return
        code = KNOWN_DIFFERENCES.get(relpath)
        assert code is not None, f"{relpath}: python-pskc refuses it ({expected['parse']}), we accept it silently"
        assert code in {f.code for f in container.all_findings()}
        assert relpath in _notes(), f"{relpath} differs from python-pskc but vectors/pskc/NOTES.md does not say why"
        return

    if isinstance(decrypted_with, str):  # "FAILED with all candidates": python-pskc cannot decrypt it
        if relpath in EARLY_REFUSALS:
            with pytest.raises(ProtocolError) as info:
                pskc.decode(data)
            assert info.value.status == EARLY_REFUSALS[relpath]
            assert relpath in _notes()
            return
        structure = pskc.decode(data)  # structure reads fine for both
        for credentials in _candidates(expected_all):
            with pytest.raises(ProtocolError):
                pskc.decode(data, **credentials)
        assert structure.is_encrypted or structure.key_packages[0].key.data.secret is not None
        return

    credentials = _credentials(relpath, decrypted_with) if decrypted_with else {}
    container = pskc.decode(data, **credentials)
    assert not container.is_encrypted
    assert _ours(container) == [_theirs_as_ours(k) for k in expected["keys"]]
    assert container.version == expected["version"]
    if expected["encryption_algorithm"] and decrypted_with:
        algorithms = {lookup_cipher(v.algorithm)[0].uri for v in _encrypted_values(data)}
        assert algorithms == {expected["encryption_algorithm"]}
    if expected["mac_algorithm"]:
        mac, _ = lookup_mac(container.mac_method.algorithm if container.mac_method else None)
        assert mac is not None and mac.uri == expected["mac_algorithm"]


def _encrypted_values(data: bytes):
    structure = pskc.decode(data)
    for key in structure.keys:
        if key.data is not None:
            for value in key.data.values().values():
                if isinstance(value, pskc.EncryptedValue):
                    yield value


def test_rsa_samples_need_the_private_key(rsa_identity):
    """python-pskc cannot decrypt rfc6030/figure8 (no published key); we refuse a wrong key."""
    data = shared_path("vectors-thirdparty", "pskc", "rfc6030", "figure8.pskcxml").read_bytes()
    with pytest.raises(ProtocolError) as info:
        pskc.decode(data, private_key=rsa_identity[0])
    assert info.value.status == "pskc.rsa-decrypt"


def test_notes_cover_every_known_difference():
    notes = _notes()
    for relpath in [*KNOWN_DIFFERENCES, *EARLY_REFUSALS]:
        assert relpath in notes
    assert Path(project_vectors_dir() / "pskc" / "NOTES.md").is_file()
