"""Encrypt / Decrypt of the reference KMIP server against published AES vectors
(NIST SP 800-38A Appendix F, McGrew-Viega GCM test case 2) and the KMIP rules on state,
usage mask, dates, IVs and usage limits (1.4 §3.19-§3.26, §4.29, §4.30)."""

from __future__ import annotations

import pytest

from reference.kmip.client import OperationFailed
from reference.kmip.ttlv import Item
from reference.kmip.vocab import Tag
from tests.reference.kmip.server_helpers import NOW, Clock, client, new_engine

# NIST SP 800-38A F.1.1 / F.2.1 (AES-128)
SP800_38A_KEY = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
SP800_38A_IV = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
SP800_38A_PLAIN = bytes.fromhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51")
SP800_38A_ECB = bytes.fromhex("3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf")
SP800_38A_CBC = bytes.fromhex("7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2")
# McGrew & Viega, "The Galois/Counter Mode of Operation", test case 2
GCM_KEY, GCM_IV, GCM_PLAIN = bytes(16), bytes(12), bytes(16)
GCM_CIPHER = bytes.fromhex("0388dace60b6a392f328c2b971b2fe78")
GCM_TAG = bytes.fromhex("ab6e47d42cec13bdf53a67b21257bddf")


def _active_key(key: bytes, version=(1, 4), usage_mask=12, extra=()):
    engine = new_engine()
    c = client(engine, version)
    uid = c.register_symmetric_key(key, "AES", len(key) * 8, usage_mask=usage_mask, extra=list(extra))
    c.activate(uid)
    return engine, c, uid


@pytest.mark.parametrize("version", [(1, 4), (2, 1)])
def test_aes_ecb_and_cbc_match_sp800_38a(version):
    _, c, uid = _active_key(SP800_38A_KEY, version)
    assert c.encrypt(uid, SP800_38A_PLAIN, mode="ECB").data == SP800_38A_ECB
    sealed = c.encrypt(uid, SP800_38A_PLAIN, mode="CBC", iv=SP800_38A_IV)
    assert sealed.data == SP800_38A_CBC and sealed.iv is None  # the client's IV is not echoed
    assert c.decrypt(uid, SP800_38A_CBC, mode="CBC", iv=SP800_38A_IV) == SP800_38A_PLAIN


def test_aes_gcm_matches_the_published_test_case():
    _, c, uid = _active_key(GCM_KEY)
    sealed = c.encrypt(uid, GCM_PLAIN, mode="GCM", iv=GCM_IV, tag_length=16)
    assert (sealed.data, sealed.tag) == (GCM_CIPHER, GCM_TAG)
    assert c.decrypt(uid, GCM_CIPHER, mode="GCM", iv=GCM_IV, tag_length=16, tag=GCM_TAG) == GCM_PLAIN
    with pytest.raises(OperationFailed) as forged:
        c.decrypt(uid, GCM_CIPHER, mode="GCM", iv=GCM_IV, tag_length=16, tag=bytes(16))
    assert forged.value.reason == "Cryptographic Failure"  # OASIS CS-BC-M-GCM-1-14
    truncated = c.encrypt(uid, GCM_PLAIN, mode="GCM", iv=GCM_IV, tag_length=12)
    assert truncated.tag == GCM_TAG[:12]


def test_server_generates_the_iv_when_none_is_given():
    # OASIS CS-BC-M-13-14: no IV in the request -> the response carries the IV used.
    _, c, uid = _active_key(SP800_38A_KEY)
    sealed = c.encrypt(uid, b"sixteen byte msg", mode="CBC", padding="PKCS5")
    assert sealed.iv is not None and len(sealed.iv) == 16
    assert c.decrypt(uid, sealed.data, mode="CBC", padding="PKCS5", iv=sealed.iv) == b"sixteen byte msg"


def test_decrypt_without_iv_is_invalid_message():
    _, c, uid = _active_key(SP800_38A_KEY)
    with pytest.raises(OperationFailed) as refused:
        c.decrypt(uid, SP800_38A_CBC, mode="CBC")
    assert refused.value.reason == "Invalid Message"  # OASIS CS-BC-M-11/12-14


def test_parameters_come_from_the_key_when_the_request_has_none():
    # 1.4 §4.29: Cryptographic Parameters omitted -> those associated with the key.
    params = Item.structure(Tag.CRYPTOGRAPHIC_PARAMETERS, [Item.enumeration(Tag.BLOCK_CIPHER_MODE, 2)])  # ECB
    _, c, uid = _active_key(SP800_38A_KEY, extra=[params])
    assert c.encrypt(uid, SP800_38A_PLAIN).data == SP800_38A_ECB


@pytest.mark.parametrize("version, reason", [((1, 4), "Permission Denied"), ((2, 1), "Wrong Key Lifecycle State")])
def test_only_active_keys_encrypt(version, reason):
    # 1.4 §3.22 Pre-Active "SHALL NOT be used for any cryptographic purpose"; OASIS CS-BC-M-14.
    engine = new_engine()
    c = client(engine, version)
    uid = c.register_symmetric_key(SP800_38A_KEY, "AES", 128, usage_mask=12)
    for call in (lambda: c.encrypt(uid, SP800_38A_PLAIN, mode="ECB"), lambda: c.decrypt(uid, SP800_38A_ECB, mode="ECB")):
        with pytest.raises(OperationFailed) as refused:
            call()
        assert refused.value.reason == reason


@pytest.mark.parametrize("version, reason", [((1, 4), "Permission Denied"), ((2, 1), "Incompatible Cryptographic Usage Mask")])
def test_usage_mask_is_enforced(version, reason):
    _, c, uid = _active_key(SP800_38A_KEY, version, usage_mask=8)  # Decrypt only (1.4 §9.1.3.3.1)
    with pytest.raises(OperationFailed) as refused:
        c.encrypt(uid, SP800_38A_PLAIN, mode="ECB")
    assert refused.value.reason == reason
    assert c.decrypt(uid, SP800_38A_ECB, mode="ECB") == SP800_38A_PLAIN


def test_protect_stop_and_process_start_dates():
    # 1.4 §3.26: no protection after the Protect Stop Date; §3.25: no processing before
    # the Process Start Date (OASIS CS-BC-M-14-14 registers exactly such a key).
    extra = [Item.date_time(Tag.PROTECT_STOP_DATE, NOW - 1), Item.date_time(Tag.PROCESS_START_DATE, NOW + 3600)]
    _, c, uid = _active_key(SP800_38A_KEY, extra=extra)
    for call in (lambda: c.encrypt(uid, SP800_38A_PLAIN, mode="ECB"), lambda: c.decrypt(uid, SP800_38A_ECB, mode="ECB")):
        with pytest.raises(OperationFailed) as refused:
            call()
        assert refused.value.reason == "Permission Denied"


def test_usage_limits_count_down():
    # 1.4 §3.21: Usage Limits Total 32 bytes; OASIS CS-BC-M-7-14 expects Permission Denied once used up.
    limits = Item.structure(Tag.USAGE_LIMITS, [Item.long_integer(Tag.USAGE_LIMITS_TOTAL, 32),
                                               Item.enumeration(Tag.USAGE_LIMITS_UNIT, 1)])  # Byte
    engine, c, uid = _active_key(SP800_38A_KEY, extra=[limits])
    c.encrypt(uid, SP800_38A_PLAIN, mode="ECB")  # 32 bytes: all of it
    with pytest.raises(OperationFailed) as refused:
        c.encrypt(uid, SP800_38A_PLAIN[:16], mode="ECB")
    assert refused.value.reason == "Permission Denied"
    count = engine.store.get(uid).value(Tag.USAGE_LIMITS).find(Tag.USAGE_LIMITS_COUNT).value
    assert count == 0


def test_unsupported_parameters():
    _, c, uid = _active_key(SP800_38A_KEY, (2, 1))
    with pytest.raises(OperationFailed) as ofb:
        c.encrypt(uid, SP800_38A_PLAIN, mode="OFB")
    assert ofb.value.reason == "Unsupported Cryptographic Parameters"
    with pytest.raises(OperationFailed) as short:
        c.encrypt(uid, b"not a block", mode="ECB")  # Padding Method None, 11 bytes
    assert short.value.reason == "Cryptographic Failure"


def test_destroyed_key_cannot_decrypt():
    clock = Clock()
    engine = new_engine(clock)
    c = client(engine)
    uid = c.register_symmetric_key(SP800_38A_KEY, "AES", 128, usage_mask=12)
    c.activate(uid)
    c.revoke(uid, "Cessation of Operation")
    c.destroy(uid)
    with pytest.raises(OperationFailed) as refused:
        c.decrypt(uid, SP800_38A_ECB, mode="ECB")
    assert refused.value.reason == "Permission Denied"


@pytest.mark.parametrize("tag_length", [1, 32])
def test_gcm_tag_length_out_of_range_is_general_failure(tag_length):
    # OASIS CS-BC-M-GCM-1-14 / -21 expect General Failure for Tag Length 1 and 32 (NIST SP
    # 800-38D §5.2.1.2 allows 4..16 bytes).
    _, c, uid = _active_key(GCM_KEY)
    with pytest.raises(OperationFailed) as refused:
        c.encrypt(uid, GCM_PLAIN, mode="GCM", iv=GCM_IV, tag_length=tag_length)
    assert refused.value.reason == "General Failure"
